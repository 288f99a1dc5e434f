"""CIFAR-10 data: the real Python batches, loaded without unpickling arbitrary objects, or a
small built-in stand-in; and the tutorial's preprocessing.

The real data set is the "CIFAR-10 python version" (``cifar-10-python.tar.gz``): files
``data_batch_1`` .. ``data_batch_5`` and ``test_batch``, each a pickled dict with
``b"data"``, a ``uint8`` array ``[10000, 3072]`` (1024 red, 1024 green, 1024 blue values
of a 32x32 image per row), and ``b"labels"``, a list of class ids. Unpickling runs
whatever functions a file names, so :func:`load_batch` uses :class:`BatchUnpickler`,
which admits only the globals that format needs and refuses every other one.

Preprocessing is ``cifar10_input.py``'s: training images are randomly cropped to 24x24 and
flipped left-right; evaluation images are center-cropped; both are then standardized per
image (``tf.image.per_image_standardization``). The tutorial's random brightness and
contrast are left out: per-image standardization undoes most of them, and they cost time
on a small CPU.
"""

from __future__ import annotations

import codecs
import dataclasses
import math
import pickle
from pathlib import Path
from typing import IO, Any, ClassVar

import numpy as np

IMAGE_SIZE = 32
CROP_SIZE = 24
NUM_CLASSES = 10
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILE = "test_batch"
ARCHIVE_DIR = "cifar-10-batches-py"  # What cifar-10-python.tar.gz extracts to.


@dataclasses.dataclass(frozen=True)
class Split:
    """Images ``uint8 [N, 32, 32, 3]`` (height, width, channels) and labels ``int32 [N]``."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


@dataclasses.dataclass(frozen=True)
class Dataset:
    train: Split
    test: Split
    description: str


class UnsafePickleError(pickle.UnpicklingError):
    """A file names a global that a CIFAR-10 batch never does; nothing of it was run."""

    def __init__(self, path: str, module: str, name: str):
        self.path, self.module, self.name = path, module, name
        super().__init__(
            f"Refusing to load {path}: it references the global {module}.{name}, which a "
            "CIFAR-10 batch never does, and unpickling it could run arbitrary code. A batch "
            "holds only a dict of bytes, a numpy uint8 array and lists; download the python "
            "version again from https://www.cs.toronto.edu/~kriz/cifar.html."
        )


# numpy's own array constructors for pickles, wherever this numpy version keeps them
# (numpy.core before 2.0, numpy._core since): protocols 2 to 4, then protocol 5.
_RECONSTRUCT = np.zeros(0).__reduce__()[0]
_FROMBUFFER = np.zeros(0).__reduce_ex__(5)[0]


def _plain_dtype(*args: Any) -> np.dtype:
    dtype = np.dtype(*args)
    if dtype.hasobject:  # An object array's state is a list of arbitrary Python objects.
        raise pickle.UnpicklingError(f"a CIFAR-10 batch has no object arrays (dtype {dtype})")
    return dtype


class BatchUnpickler(pickle.Unpickler):
    """An unpickler for CIFAR-10 batches: arrays, dicts, lists, bytes, numbers and nothing else.

    Python 2 wrote the real files (numpy arrays refer to ``numpy.core.multiarray``); a
    batch re-saved by Python 3 refers to ``numpy._core.multiarray`` (or, at protocol 5,
    ``numpy._core.numeric._frombuffer``) and, at protocol 2, builds bytes with
    ``_codecs.encode``. Those are the only globals admitted.
    """

    ALLOWED: ClassVar[dict[tuple[str, str], Any]] = {
        ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
        ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
        ("numpy.core.numeric", "_frombuffer"): _FROMBUFFER,
        ("numpy._core.numeric", "_frombuffer"): _FROMBUFFER,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): _plain_dtype,
        ("_codecs", "encode"): codecs.encode,
    }

    def __init__(self, file: IO[bytes], path: str):
        # Python 2 `str` keys and data come back as bytes, as in the data set's own code.
        super().__init__(file, encoding="bytes")
        self.path = path

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self.ALLOWED[module, name]
        except KeyError:
            raise UnsafePickleError(self.path, module, name) from None


def load_batch(path: str | Path) -> Split:
    """One CIFAR-10 python batch file, checked: images ``[N, 32, 32, 3]`` and labels ``[N]``.

    Raises:
      UnsafePickleError: the file names any other global than the format's.
      ValueError: the file is a pickle but not a CIFAR-10 batch.
    """
    with open(path, "rb") as f:
        batch = BatchUnpickler(f, str(path)).load()
    if not isinstance(batch, dict):
        raise ValueError(f"{path} is not a CIFAR-10 batch: it holds a {type(batch).__name__}.")
    batch = {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in batch.items()}
    data, labels = batch.get("data"), batch.get("labels")
    pixels = 3 * IMAGE_SIZE * IMAGE_SIZE
    if not (isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 2):
        raise ValueError(f"{path} is not a CIFAR-10 batch: no uint8 array [N, {pixels}] 'data'.")
    if data.shape[1] != pixels or labels is None or len(labels) != len(data):
        raise ValueError(
            f"{path} is not a CIFAR-10 batch: data has shape {data.shape}, and there are "
            f"{'no' if labels is None else len(labels)} labels; expected [N, {pixels}] and N."
        )
    labels = np.asarray(labels, np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise ValueError(f"{path} has labels outside 0..{NUM_CLASSES - 1}.")
    images = data.reshape(-1, 3, IMAGE_SIZE, IMAGE_SIZE).transpose(0, 2, 3, 1)
    return Split(np.ascontiguousarray(images), labels.astype(np.int32))


def load_cifar10(data_dir: str | Path) -> Dataset:
    """The five training batches and the test batch from ``data_dir`` (the extracted
    ``cifar-10-batches-py`` directory, or the directory that holds it)."""
    root = Path(data_dir)
    if not (root / TEST_FILE).exists() and (root / ARCHIVE_DIR).is_dir():
        root = root / ARCHIVE_DIR
    missing = [n for n in (*TRAIN_FILES, TEST_FILE) if not (root / n).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{root} lacks {', '.join(missing)}: pass --data-dir the extracted "
            f"{ARCHIVE_DIR} directory of https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz."
        )
    train = [load_batch(root / name) for name in TRAIN_FILES]
    train_split = Split(
        np.concatenate([b.images for b in train]), np.concatenate([b.labels for b in train])
    )
    return Dataset(train_split, load_batch(root / TEST_FILE), f"CIFAR-10 from {root}")


def builtin(num_train: int = 5000, num_test: int = 1000, seed: int = 0) -> Dataset:
    """A small synthetic 10-class set of 32x32 colour images, the same on every machine.

    Not CIFAR-10: each class is one of five patterns (horizontal or vertical stripes, a
    checkerboard, a disc, rings) drawn in warm or cool colours over a random background,
    at a random frequency, phase and position, with heavy pixel noise. A small network
    learns it in a few hundred steps; it is here so that the example runs offline.
    """
    rng = np.random.default_rng(seed)
    total = num_train + num_test
    labels = rng.integers(0, NUM_CLASSES, total).astype(np.int32)
    yy, xx = np.mgrid[:IMAGE_SIZE, :IMAGE_SIZE].astype(np.float32)

    def uniform(low: float, high: float) -> np.ndarray:
        return rng.uniform(low, high, (total, 1, 1)).astype(np.float32)

    freq, phase = uniform(2.5, 5.0) / IMAGE_SIZE, uniform(0, 2 * np.pi)
    phase2 = uniform(0, 2 * np.pi)
    cy, cx, radius = uniform(10, 22), uniform(10, 22), uniform(5, 10)
    mask = np.zeros((total, IMAGE_SIZE, IMAGE_SIZE), np.float32)
    for pattern in range(5):
        s = labels % 5 == pattern
        wave, shift, dist = 2 * np.pi * freq[s], phase[s], np.hypot(yy - cy[s], xx - cx[s])
        if pattern == 0:  # horizontal stripes
            mask[s] = np.sin(wave * yy + shift) > 0
        elif pattern == 1:  # vertical stripes
            mask[s] = np.sin(wave * xx + shift) > 0
        elif pattern == 2:  # checkerboard
            mask[s] = np.sin(wave * xx + shift) * np.sin(wave * yy + phase2[s]) > 0
        elif pattern == 3:  # disc
            mask[s] = dist < radius[s]
        else:  # rings
            mask[s] = np.sin(wave * dist + shift) > 0
    mask = mask[..., None]

    warm = labels < 5
    hue = np.where(warm, rng.uniform(-0.12, 0.12, total), rng.uniform(0.4, 0.65, total))
    foreground = (_hue_to_rgb(hue) * rng.uniform(0.6, 1.0, (total, 1))).astype(np.float32)
    background = rng.uniform(0.0, 0.6, (total, 3)).astype(np.float32)
    images = (
        background[:, None, None, :] * (1 - mask)
        + foreground[:, None, None, :] * mask
        + 0.25 * rng.standard_normal((total, IMAGE_SIZE, IMAGE_SIZE, 3), np.float32)
    )
    images = np.clip(images * 255, 0, 255).astype(np.uint8)
    return Dataset(
        Split(images[:num_train], labels[:num_train]),
        Split(images[num_train:], labels[num_train:]),
        f"the built-in synthetic data set ({num_train} training and {num_test} test images "
        "of 10 pattern-and-colour classes), NOT CIFAR-10; pass --data-dir for the real one",
    )


def _hue_to_rgb(hue: np.ndarray) -> np.ndarray:
    """Fully saturated colours of hue ``hue`` (in turns), ``[N, 3]`` in [0, 1]."""
    offsets = np.array([0.0, 2 / 3, 1 / 3])
    return np.clip(np.abs((hue[:, None] + offsets) % 1.0 * 6 - 3) - 1, 0, 1)


def per_image_standardization(images: np.ndarray) -> np.ndarray:
    """``tf.image.per_image_standardization``: each image to mean 0 and stddev 1, the
    stddev bounded below by ``1 / sqrt(pixels)`` so a flat image does not blow up."""
    images = images.astype(np.float32)
    axes = (1, 2, 3)
    mean = images.mean(axis=axes, keepdims=True)
    std = images.std(axis=axes, keepdims=True)
    floor = 1.0 / math.sqrt(math.prod(images.shape[1:]))
    return (images - mean) / np.maximum(std, floor)


def center_crop(images: np.ndarray, size: int = CROP_SIZE) -> np.ndarray:
    """``tf.image.resize_image_with_crop_or_pad`` to a smaller size: the central crop."""
    top = (images.shape[1] - size) // 2
    left = (images.shape[2] - size) // 2
    return images[:, top : top + size, left : left + size]


def random_crop_flip(
    images: np.ndarray, rng: np.random.Generator, size: int = CROP_SIZE
) -> np.ndarray:
    """A random ``size`` x ``size`` crop of each image, flipped left-right half the time."""
    n, height, width = images.shape[:3]
    top = rng.integers(0, height - size + 1, n)
    left = rng.integers(0, width - size + 1, n)
    rows = top[:, None] + np.arange(size)  # [n, size]
    cols = left[:, None] + np.arange(size)
    flip = rng.random(n) < 0.5
    cols = np.where(flip[:, None], cols[:, ::-1], cols)
    return images[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]


def eval_inputs(split: Split) -> np.ndarray:
    """Evaluation images: center crop, then per-image standardization."""
    return per_image_standardization(center_crop(split.images))


def train_batch(split: Split, batch_size: int, step: int, seed: int) -> tuple[np.ndarray, ...]:
    """The training batch of ``step``: a function of ``(seed, step)`` only, so a resumed run
    sees the same batches as an uninterrupted one. Each epoch is a fresh permutation."""
    n = len(split)
    start = step * batch_size
    indices = []
    while len(indices) < batch_size:
        epoch, offset = divmod(start + len(indices), n)
        order = np.random.default_rng([seed, 0, epoch]).permutation(n)
        indices.extend(order[offset : offset + batch_size - len(indices)])
    rng = np.random.default_rng([seed, 1, step])
    images = random_crop_flip(split.images[np.asarray(indices)], rng)
    return per_image_standardization(images), split.labels[np.asarray(indices)]
