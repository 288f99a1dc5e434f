"""CIFAR-10 data: the real Python batches, loaded without unpickling arbitrary objects, or a
small built-in stand-in; and the tutorial's preprocessing.

The real data set is the "CIFAR-10 python version" (``cifar-10-python.tar.gz``): files
``data_batch_1`` .. ``data_batch_5`` and ``test_batch``, each a pickled dict with
``b"data"``, a ``uint8`` array ``[10000, 3072]`` (1024 red, 1024 green, 1024 blue values
of a 32x32 image per row), and ``b"labels"``, a list of class ids. Unpickling runs
whatever functions a file names, so :func:`load_batch` uses :class:`BatchUnpickler`,
which admits only the globals that format needs and refuses every other one. Even those
are stand-ins that only record their arguments: a numpy array or dtype made while
unpickling could be changed by the rest of the file (a dtype given object flags or a
field far outside its item, so that numpy reads pointers or memory it does not own).
Arrays are built after the whole file is read, from raw bytes, a shape and an integer
dtype that were checked, so only plain numbers of the documented shape come out.

Preprocessing is ``cifar10_input.py``'s: training images are randomly cropped to 24x24 and
flipped left-right; evaluation images are center-cropped; both are then standardized per
image (``tf.image.per_image_standardization``). The tutorial's random brightness and
contrast are left out: per-image standardization undoes most of them, and they cost time
on a small CPU.
"""

from __future__ import annotations

import dataclasses
import io
import math
import pickle
import pickletools
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


class BatchFormatError(ValueError):
    """A file that is not a CIFAR-10 python batch, or not one this loader can trust.

    Nothing in the file was run, and no numpy object was built from it.
    """

    def __init__(self, path: str | Path, reason: str):
        self.path, self.reason = str(path), reason
        super().__init__(
            f"{path} is not a CIFAR-10 batch: {reason}. Pass the files of the CIFAR-10 python "
            f"version: the {ARCHIVE_DIR} directory that "
            "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz extracts to."
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # Exception's own reduce would call __init__ with the message alone.
        return type(self), (self.path, self.reason)


class UnsafePickleError(BatchFormatError, pickle.UnpicklingError):
    """A file names a global that a CIFAR-10 batch never does; nothing of it was run."""

    def __init__(self, path: str | Path, module: str, name: str):
        self.module, self.name = module, name
        super().__init__(
            path,
            f"it references the global {module}.{name}, which a CIFAR-10 batch never does, "
            "and unpickling it could run arbitrary code; nothing of it was run",
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.path, self.module, self.name)


class _Refused(Exception):
    """Raised while unpickling; :func:`load_batch` adds the file's name."""


MAX_IMAGES = 60_000  # The whole data set in one file; a real batch holds 10,000.
MAX_FILE_BYTES = 256 * 2**20  # 60,000 images are 176 MiB; a real batch is 30 MiB.
MAX_PICKLE_OPS = 500_000  # A real batch has ~30,000: a label and a file name per image.
PIXELS = 3 * IMAGE_SIZE * IMAGE_SIZE

# The opcodes that pickles of dicts, lists, strings, ints and numpy arrays use, at any
# protocol. Left out: the ones that build objects other than by REDUCE (INST, OBJ, NEWOBJ),
# persistent ids, the extension registry, out-of-band buffers, floats and sets.
_OPCODES = frozenset(
    """PROTO FRAME STOP MARK POP POP_MARK DUP NONE NEWTRUE NEWFALSE
    INT BININT BININT1 BININT2 LONG LONG1 LONG4
    STRING BINSTRING SHORT_BINSTRING BINBYTES SHORT_BINBYTES BINBYTES8 BYTEARRAY8
    UNICODE SHORT_BINUNICODE BINUNICODE BINUNICODE8
    EMPTY_LIST APPEND APPENDS LIST EMPTY_TUPLE TUPLE TUPLE1 TUPLE2 TUPLE3
    EMPTY_DICT DICT SETITEM SETITEMS GET BINGET LONG_BINGET PUT BINPUT LONG_BINPUT MEMOIZE
    GLOBAL STACK_GLOBAL REDUCE BUILD""".split()  # noqa: SIM905 (a table, by kind)
)
_MEMO_OPCODES = frozenset(("GET", "BINGET", "LONG_BINGET", "PUT", "BINPUT", "LONG_BINPUT"))


def _check_opcodes(raw: bytes, path: str | Path) -> None:
    """Reads the pickle's opcodes without running any of them.

    Bounds what unpickling can allocate: the number of objects, and the memo (CPython
    sizes it by the largest index a PUT names, so one PUT of 2**31 asks for 32 GiB).
    """
    try:
        for count, (opcode, arg, pos) in enumerate(pickletools.genops(raw)):
            if count >= MAX_PICKLE_OPS:
                raise _Refused(f"it has over {MAX_PICKLE_OPS:,} pickle opcodes")
            if opcode.name not in _OPCODES:
                raise _Refused(f"it uses the pickle opcode {opcode.name} (byte {pos})")
            if opcode.name in _MEMO_OPCODES and not (isinstance(arg, int) and arg < MAX_PICKLE_OPS):
                raise _Refused(f"it names the memo index {arg} (byte {pos})")
    except _Refused as e:
        raise BatchFormatError(path, f"{e}, which a CIFAR-10 batch never does") from None
    except Exception as e:  # genops: not a pickle, or cut short.
        raise BatchFormatError(path, f"it is not a complete pickle ({e})") from None


class _Call:
    """A call that the pickle asks for, ``function(*args)``, and the states that BUILD
    then passes to the result: recorded as plain data, never run.

    Numpy objects are built from the record only after the whole file is read and checked,
    so nothing the file says later (a second BUILD on a memoized dtype) changes them.
    """

    __slots__ = ("args", "states")

    def __init__(self, *args: Any):
        self.args = args
        self.states: list[Any] = []

    def __setstate__(self, state: Any) -> None:
        self.states.append(state)


class _Dtype(_Call):
    """``numpy.dtype(type, align, copy)``; numpy's pickles pass the byte order by BUILD."""

    __slots__ = ()


class _Reconstruct(_Call):
    """``numpy...multiarray._reconstruct(ndarray, (0,), b"b")``; its BUILD state is
    ``(1, shape, dtype, is_fortran, raw bytes)``: protocols 0 to 4."""

    __slots__ = ()


class _FromBuffer(_Call):
    """``numpy...numeric._frombuffer(raw bytes, dtype, shape, order)``: protocol 5."""

    __slots__ = ()


class _NdarrayName:
    """``numpy.ndarray``, which numpy's pickles only pass to ``_reconstruct``."""

    __slots__ = ()

    def __call__(self, *args: Any) -> None:
        # ndarray(shape, "O", buffer) would read object pointers from the file's bytes.
        raise _Refused("it calls numpy.ndarray, which numpy's own pickles never do")


_NDARRAY = _NdarrayName()


def _latin1(text: Any, encoding: Any) -> bytes:
    """``_codecs.encode``, as Python 3 pickles bytes at protocol 2: latin-1 text only."""
    if type(text) is not str or encoding not in ("latin1", "latin-1"):
        raise _Refused("it calls _codecs.encode other than to make bytes from latin-1 text")
    return text.encode("latin-1")


def _empty_bytes(*args: Any) -> bytes:
    """``bytes()``, as Python 3 pickles ``b""`` at protocol 2."""
    if args:
        raise _Refused("it calls bytes with arguments")
    return b""


class BatchUnpickler(pickle.Unpickler):
    """An unpickler for CIFAR-10 batches: dicts, lists, bytes, ints and records of arrays.

    Python 2 wrote the real files (numpy arrays refer to ``numpy.core.multiarray``); a
    batch re-saved by Python 3 refers to ``numpy._core.multiarray`` (or, at protocol 5,
    ``numpy._core.numeric._frombuffer``) and, at protocol 2, builds bytes with
    ``_codecs.encode``. Those are the only globals admitted, and none of them is numpy's
    own: each records its arguments (:class:`_Call`) for :func:`load_batch` to check.
    """

    ALLOWED: ClassVar[dict[tuple[str, str], Any]] = {
        ("numpy.core.multiarray", "_reconstruct"): _Reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): _Reconstruct,
        ("numpy.core.numeric", "_frombuffer"): _FromBuffer,
        ("numpy._core.numeric", "_frombuffer"): _FromBuffer,
        ("numpy", "ndarray"): _NDARRAY,
        ("numpy", "dtype"): _Dtype,
        ("_codecs", "encode"): _latin1,
        ("__builtin__", "bytes"): _empty_bytes,  # Protocol 2 names builtins as Python 2 did.
        ("builtins", "bytes"): _empty_bytes,
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


# The dtypes an array in a batch may have, as byte order and type code: integers.
_UINT8 = frozenset({"|u1"})
_INTEGERS = frozenset({"|u1", "|i1"} | {f"{e}{k}{n}" for e in "<>" for k in "iu" for n in "248"})
# numpy's BUILD state of a plain number's dtype, after the byte order: no subarray, names,
# fields or layout, and no flags (an object dtype's flags say it holds pointers).
_PLAIN_DTYPE_STATE = (None, None, None, -1, -1, 0)


def _text(value: Any) -> str | None:
    """A str, or Python 2's str (bytes here) decoded; None for anything else."""
    if type(value) is bytes:
        return value.decode("latin-1")
    return value if type(value) is str else None


def _is_int(value: Any) -> bool:
    return type(value) in (int, bool)


def _dtype(record: Any, what: str, allowed: frozenset[str]) -> np.dtype:
    """The dtype that ``record`` describes, if it is one of ``allowed``."""
    if type(record) is not _Dtype or len(record.args) != 3:
        raise _Refused(f"the dtype of {what} is not numpy.dtype(type, align, copy)")
    if len(record.states) != 1:  # A second BUILD would change the dtype after it was used.
        raise _Refused(
            f"the dtype of {what} is given {len(record.states)} states, where numpy's pickles "
            "give it one"
        )
    code, align, copy = record.args
    state = record.states[0]
    if not (_is_int(align) and _is_int(copy) and type(state) is tuple and len(state) == 8):
        raise _Refused(f"the dtype of {what} has arguments or a state numpy never writes")
    version, order, layout = state[0], _text(state[1]), state[2:]
    if version != 3 or layout != _PLAIN_DTYPE_STATE or order is None or _text(code) is None:
        raise _Refused(
            f"the dtype of {what} is not a plain number: its state gives it fields, a "
            "subarray, object flags or a layout of its own"
        )
    typestr = f"{order}{_text(code)}"
    if typestr not in allowed:
        raise _Refused(f"{what} has dtype {typestr[:20]!r}, not one of {sorted(allowed)}")
    return np.dtype(typestr)  # One of our own strings.


def _array_parts(record: Any, what: str) -> tuple[Any, Any, Any, Any]:
    """``(raw bytes, dtype record, shape, order)`` of either kind of array pickle."""
    if type(record) is _FromBuffer and len(record.args) == 4 and not record.states:
        return record.args
    if type(record) is _Reconstruct and record.args[:2] == (_NDARRAY, (0,)):
        typecode = record.args[2:]
        state = record.states[0] if len(record.states) == 1 else None
        if typecode in ((b"b",), ("b",)) and type(state) is tuple and len(state) == 5:
            version, shape, dtype, is_fortran, raw = state
            if version == 1 and _is_int(is_fortran) and is_fortran in (0, 1):
                return raw, dtype, shape, "F" if is_fortran else "C"
    if isinstance(record, _Call):
        raise _Refused(f"{what} is a numpy array pickled otherwise than numpy does")
    raise _Refused(f"{what} is a {type(record).__name__}, not a numpy array")


def _array(record: Any, what: str, allowed: frozenset[str], ndim: int) -> np.ndarray:
    """The ``ndim``-dimensional array that ``record`` describes, checked before it is built."""
    raw, dtype_record, shape, order = _array_parts(record, what)
    dtype = _dtype(dtype_record, what, allowed)
    # No size can exceed the file's bytes; bounding them keeps the messages below printable.
    sizes = type(shape) is tuple and len(shape) == ndim
    if not (sizes and all(type(n) is int and 0 <= n <= MAX_FILE_BYTES for n in shape)):
        raise _Refused(f"{what} does not have {ndim} sizes of at most {MAX_FILE_BYTES:,}")
    if order not in ("C", "F"):
        raise _Refused(f"{what} has no memory order C or F")
    if type(raw) not in (bytes, bytearray):
        raise _Refused(f"the values of {what} are a {type(raw).__name__}, not bytes")
    expected = math.prod(shape) * dtype.itemsize
    if len(raw) != expected:
        raise _Refused(
            f"{what} has shape {shape} of {dtype} ({expected} bytes) but {len(raw)} bytes"
        )
    # Built from checked plain data only: raw bytes, a dtype of ours and a shape of ints.
    return np.frombuffer(raw, dtype).reshape(shape, order=order).copy()


def _images(record: Any) -> np.ndarray:
    """``data``: uint8 ``[N, 3072]``, 1 <= N <= MAX_IMAGES."""
    data = _array(record, "'data'", _UINT8, ndim=2)
    if data.shape[1] != PIXELS or not 1 <= len(data) <= MAX_IMAGES:
        raise _Refused(
            f"'data' has shape {data.shape}; expected [N, {PIXELS}] with 1 <= N <= {MAX_IMAGES}"
        )
    return data


def _labels(value: Any, count: int) -> np.ndarray:
    """``labels``: a list of ``count`` ints, or an integer array, each in 0..9."""
    if type(value) is list:
        if not all(type(label) is int for label in value):
            raise _Refused("'labels' holds something other than ints")
        if any(not 0 <= label < NUM_CLASSES for label in value):
            raise _Refused(f"'labels' has labels outside 0..{NUM_CLASSES - 1}")
        labels = np.array(value, np.int32)
    else:
        labels = _array(value, "'labels'", _INTEGERS, ndim=1)
        if labels.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
            raise _Refused(f"'labels' has labels outside 0..{NUM_CLASSES - 1}")
    if len(labels) != count:
        raise _Refused(f"it has {len(labels)} labels for {count} images")
    return labels.astype(np.int32)


def _read(path: str | Path) -> bytes:
    """The file's bytes, refusing one larger than any CIFAR-10 batch before reading it all."""
    with open(path, "rb") as f:
        raw = f.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise BatchFormatError(
            path, f"it is larger than {MAX_FILE_BYTES:,} bytes (a real batch is 30 MiB)"
        )
    return raw


def _unpickle(raw: bytes, path: str | Path) -> dict[str | None, Any]:
    """The batch dict, its keys as str, its arrays still :class:`_Call` records."""
    _check_opcodes(raw, path)
    try:
        batch = BatchUnpickler(io.BytesIO(raw), str(path)).load()
    except BatchFormatError:
        raise
    except _Refused as e:
        raise BatchFormatError(path, str(e)) from None
    except Exception as e:  # A malformed pickle: pickle's own error, with the file's name.
        raise BatchFormatError(path, f"unpickling failed ({type(e).__name__}: {e})") from None
    if type(batch) is not dict:
        raise BatchFormatError(path, f"it holds a {type(batch).__name__}, not a dict")
    return {_text(k): v for k, v in batch.items()}


def load_batch(path: str | Path) -> Split:
    """One CIFAR-10 python batch file, checked: images ``[N, 32, 32, 3]`` and labels ``[N]``.

    Only plain data comes out of the file: the unpickler records what numpy's pickles
    ask for, and arrays are built from checked raw bytes, shape and integer dtype.

    Raises:
      UnsafePickleError: the file names any other global than the format's.
      BatchFormatError: the file is not a CIFAR-10 batch (a ``ValueError``).
    """
    batch = _unpickle(_read(path), path)
    missing = [key for key in ("data", "labels") if key not in batch]
    if missing:
        raise BatchFormatError(path, f"it has no {' or '.join(map(repr, missing))}")
    try:
        data = _images(batch["data"])
        labels = _labels(batch["labels"], len(data))
    except _Refused as e:
        raise BatchFormatError(path, str(e)) from None
    except Exception as e:  # Whatever else the file's odd contents set off, with its name.
        raise BatchFormatError(path, f"checking it failed ({type(e).__name__}: {e})") from None
    images = data.reshape(-1, 3, IMAGE_SIZE, IMAGE_SIZE).transpose(0, 2, 3, 1)
    return Split(np.ascontiguousarray(images), labels)


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
