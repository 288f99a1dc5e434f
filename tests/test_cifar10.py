"""The CIFAR-10 example (examples/cifar10/): TF's names, its math, the batch loader that
refuses arbitrary pickles, the EMA custom getter, and training with checkpoints and resume.

The golden file tests/nn/golden/cifar10.txt lists every variable; after a deliberate change
rewrite it with ``SCOPAX_REGEN_GOLDEN=1 .venv/bin/python -m pytest tests/test_cifar10.py``.
"""

from __future__ import annotations

import doctest
import os
import pickle
import re
import struct
import sys
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import scopax as sx
from nn.nn_testing import describe

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # The repository root.
from examples.cifar10 import data, model, train

GOLDEN = Path(__file__).resolve().parent / "nn" / "golden" / "cifar10.txt"
REGEN = os.environ.get("SCOPAX_REGEN_GOLDEN") == "1"
BATCH = 4  # One batch size throughout, so that JAX compiles each op once for the file.


def _images(seed: int = 0) -> jax.Array:
    return jax.random.normal(jax.random.key(seed), (BATCH, 24, 24, 3))


@pytest.fixture(scope="module")
def params() -> sx.Params:
    # What the training test's main() makes too (batch 4): JAX compiles it once.
    return train.init_state(optax.identity(), seed=0, batch_size=BATCH).params


def test_parameter_tree_matches_golden_file():
    text = "\n".join(describe(jax.eval_shape(model.network.init, jax.random.key(0), _images())))
    if REGEN:
        GOLDEN.write_text(text + "\n")
    assert GOLDEN.exists(), f"No golden file {GOLDEN}; run with SCOPAX_REGEN_GOLDEN=1 to write it."
    assert text + "\n" == GOLDEN.read_text(), (
        f"The CIFAR-10 model's variables changed (ours first, then {GOLDEN.name}); if that "
        f"is deliberate, rerun with SCOPAX_REGEN_GOLDEN=1 and review the diff.\n{text}"
    )


def test_model_docstring_runs():
    failed, attempted = doctest.testmod(model, optionflags=doctest.ELLIPSIS)
    assert attempted and not failed


def test_initial_values_follow_tf(params):
    flat = sx.flatten(params)
    biases = {"conv1": 0.0, "conv2": 0.1, "local3": 0.1, "local4": 0.1, "softmax_linear": 0.0}
    for scope, value in biases.items():
        np.testing.assert_array_equal(flat[f"{scope}/biases"], np.float32(value))
    stddevs = {"conv1": 5e-2, "conv2": 5e-2, "local3": 0.04, "local4": 0.04}
    stddevs["softmax_linear"] = 1 / 192.0
    for scope, stddev in stddevs.items():
        weights = np.asarray(flat[f"{scope}/weights"])
        assert np.abs(weights).max() <= 2 * stddev  # Truncated at two stddevs.
        # A normal truncated at 2 sigma has stddev 0.88 sigma.
        assert 0.8 * stddev < weights.std() < 0.95 * stddev, scope


def pure_inference(p: Any, images: jax.Array) -> jax.Array:
    """The tutorial's network written again by hand, with each op spelled out differently:
    max pooling and the LRN window sum as explicit slices."""

    def conv(x, w, b):
        dimensions = ("NHWC", "HWIO", "NHWC")
        y = jax.lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=dimensions)
        return jax.nn.relu(y + b[None, None, None, :])

    def max_pool(x):  # 3x3 windows, stride 2, "SAME": pad 0 before and 1 after (even size).
        x = jnp.pad(x, ((0, 0), (0, 1), (0, 1), (0, 0)), constant_values=-jnp.inf)
        size = x.shape[1] // 2
        windows = [
            x[:, i : i + 2 * size : 2, j : j + 2 * size : 2] for i in range(3) for j in range(3)
        ]
        return jnp.max(jnp.stack(windows), axis=0)

    def lrn(x):
        padded = jnp.pad(jnp.square(x), ((0, 0), (0, 0), (0, 0), (4, 4)))
        sqr_sum = sum(padded[..., k : k + x.shape[-1]] for k in range(9))
        return x / (1.0 + 0.001 / 9.0 * sqr_sum) ** 0.75

    x = max_pool(conv(images, p["conv1"]["weights"], p["conv1"]["biases"]))
    x = lrn(x)
    x = max_pool(lrn(conv(x, p["conv2"]["weights"], p["conv2"]["biases"])))
    x = x.reshape(x.shape[0], -1)
    for scope in ("local3", "local4"):
        x = jax.nn.relu(x @ p[scope]["weights"] + p[scope]["biases"][None, :])
    return x @ p["softmax_linear"]["weights"] + p["softmax_linear"]["biases"][None, :]


def test_forward_pass_is_the_tutorials_math(params):
    images = _images()
    expected = pure_inference(params, images)
    np.testing.assert_allclose(model.network.apply(params, images), expected, atol=2e-5)


def test_loss_adds_tf_weight_decay(params):
    images, labels = _images(), jnp.array([0, 3, 9, 1])

    def parts(images, labels):
        total, logits = model.train_loss(images, labels)
        return total, logits, sx.get_regularization_losses()

    total, logits, losses = sx.transform(parts).apply(params, images, labels)
    flat = sx.flatten(params)
    l2 = {name: 0.5 * np.sum(np.square(np.asarray(v, np.float64))) for name, v in flat.items()}
    decay = 0.004 * (l2["local3/weights"] + l2["local4/weights"])
    log_probs = jax.nn.log_softmax(logits)
    cross_entropy = -np.mean(np.asarray(log_probs)[np.arange(4), np.asarray(labels)])
    np.testing.assert_allclose(total, cross_entropy + decay, rtol=1e-5)
    assert len(losses) == 5  # One per weights variable; wd=0.0 adds a zero, as in TF.


def test_ema_custom_getter_reads_the_averages(params):
    images = _images()
    averages = jax.tree.map(lambda v: v * 0.5 + 0.01, params)
    swapped = model.averaged.apply(params, images, averages)
    np.testing.assert_array_equal(swapped, model.network.apply(averages, images))
    assert not np.allclose(swapped, model.network.apply(params, images))
    # The real getter still runs: averages of another shape are not silently used.
    with pytest.raises(ValueError, match="local4/weights"):
        bad = sx.unflatten({**sx.flatten(params), "local4/weights": jnp.zeros((3, 3))})
        model.averaged.apply(bad, images, averages)


def test_ema_update_follows_tf_num_updates():
    ema, value = {"w": jnp.zeros(3)}, {"w": jnp.ones(3)}
    # step 1: decay = min(0.99, 2 / 11); later the configured decay caps it.
    np.testing.assert_allclose(train.ema_update(ema, value, jnp.array(1), 0.99)["w"], 9 / 11)
    np.testing.assert_allclose(
        train.ema_update(ema, value, jnp.array(10**6), 0.99)["w"], 0.01, rtol=1e-5
    )


def _string(b: bytes) -> bytes:
    return b"U" + bytes([len(b)]) + b if len(b) < 256 else b"T" + struct.pack("<I", len(b)) + b


def _int(i: int) -> bytes:
    if 0 <= i < 256:
        return b"K" + bytes([i])
    return b"M" + struct.pack("<H", i) if 0 <= i < 65536 else b"J" + struct.pack("<i", i)


def py2_batch(data: np.ndarray, labels: list[int], name: bytes) -> bytes:
    """A batch file byte for byte as Python 2's cPickle wrote the real ones (protocol 2,
    ``str`` as BINSTRING, arrays through ``numpy.core.multiarray._reconstruct``)."""
    rows, cols = data.shape
    array = b"".join(
        [
            b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n",
            _int(0) + b"\x85" + _string(b"b") + b"\x87R(" + _int(1),
            _int(rows) + _int(cols) + b"\x86",
            b"cnumpy\ndtype\n" + _string(b"u1") + _int(0) + _int(1) + b"\x87R",
            b"(" + _int(3) + _string(b"|") + b"NNN" + _int(-1) + _int(-1) + _int(0) + b"tb",
            b"\x89" + _string(data.tobytes()) + b"tb",
        ]
    )
    items = [
        _string(b"batch_label") + _string(name),
        _string(b"labels") + b"](" + b"".join(map(_int, labels)) + b"e",
        _string(b"data") + array,
        _string(b"filenames") + b"](" + b"".join(_string(b"x.png") for _ in labels) + b"e",
    ]
    return b"\x80\x02}(" + b"".join(items) + b"u."


def write_cifar_dir(directory: Path, per_batch: int, test_size: int) -> dict[str, np.ndarray]:
    """The six files of cifar-10-batches-py, tiny; returns the images written, [N, 3072]."""
    rng = np.random.default_rng(0)
    written = {}
    for name, n in [*((f, per_batch) for f in data.TRAIN_FILES), (data.TEST_FILE, test_size)]:
        pixels = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        labels = [int(i) for i in rng.integers(0, 10, n)]
        (directory / name).write_bytes(py2_batch(pixels, labels, name.encode()))
        written[name] = pixels
    return written


def test_loads_a_batch_in_the_real_format(tmp_path):
    pixels = np.arange(2 * 3072, dtype=np.int64).astype(np.uint8).reshape(2, 3072)
    path = tmp_path / "data_batch_1"
    path.write_bytes(py2_batch(pixels, [7, 300 % 10], b"training batch 1 of 5"))
    batch = data.load_batch(path)
    assert batch.images.shape == (2, 32, 32, 3) and batch.images.dtype == np.uint8
    np.testing.assert_array_equal(batch.labels, [7, 0])
    # Rows hold 1024 red, then green, then blue values, row-major within each plane.
    np.testing.assert_array_equal(batch.images[1, 0, 1], pixels[1, [1, 1025, 2049]])
    np.testing.assert_array_equal(batch.images[0, 2, 3], pixels[0, [67, 1091, 2115]])


@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_loads_a_batch_saved_again_by_python3(tmp_path, protocol):
    pixels = np.random.default_rng(1).integers(0, 256, (3, 3072), dtype=np.uint8)
    path = tmp_path / "batch"
    path.write_bytes(pickle.dumps({b"data": pixels, b"labels": [1, 2, 3]}, protocol=protocol))
    batch = data.load_batch(path)
    np.testing.assert_array_equal(batch.images.transpose(0, 3, 1, 2).reshape(3, -1), pixels)


class _Exploit:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_refuses_a_pickle_that_would_run_code(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({b"data": _Exploit(marker), b"labels": []}, protocol=2))
    with pytest.raises(data.UnsafePickleError) as info:
        data.load_batch(path)
    assert (info.value.module, info.value.name) == (os.system.__module__, "system")
    assert f"global {os.system.__module__}.system" in str(info.value)
    assert not marker.exists()


def test_refuses_object_arrays_and_other_pickles(tmp_path):
    path = tmp_path / "batch"
    objects = {b"data": np.array([1, "x"], dtype=object), b"labels": [0, 1]}
    path.write_bytes(pickle.dumps(objects, protocol=2))
    with pytest.raises(data.BatchFormatError, match="'data' is not a plain number"):
        data.load_batch(path)
    path.write_bytes(pickle.dumps([1, 2], protocol=2))
    with pytest.raises(ValueError, match="not a CIFAR-10 batch: it holds a list"):
        data.load_batch(path)
    path.write_bytes(pickle.dumps({b"data": np.zeros((2, 5), np.uint8), b"labels": [0, 1]}))
    with pytest.raises(ValueError, match=r"'data' has shape \(2, 5\)"):
        data.load_batch(path)


def test_load_cifar10_finds_the_extracted_directory(tmp_path):
    batches = tmp_path / data.ARCHIVE_DIR
    batches.mkdir()
    written = write_cifar_dir(batches, per_batch=2, test_size=3)
    dataset = data.load_cifar10(tmp_path)  # The parent of cifar-10-batches-py works too.
    assert len(dataset.train) == 10 and len(dataset.test) == 3
    first = dataset.train.images[2].transpose(2, 0, 1).reshape(-1)
    np.testing.assert_array_equal(first, written["data_batch_2"][0])
    with pytest.raises(FileNotFoundError, match="test_batch"):
        data.load_cifar10(tmp_path / "nowhere")


def test_builtin_data_is_deterministic_and_says_it_is_not_cifar():
    a, b = data.builtin(200, 50), data.builtin(200, 50)
    np.testing.assert_array_equal(a.train.images, b.train.images)
    assert a.train.images.shape == (200, 32, 32, 3) and a.test.images.dtype == np.uint8
    assert set(np.unique(a.train.labels)) == set(range(10))
    assert "NOT CIFAR-10" in a.description


def test_preprocessing():
    split = data.builtin(64, 8).train
    x, y = data.train_batch(split, 16, step=5, seed=3)
    x2, y2 = data.train_batch(split, 16, step=5, seed=3)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    assert x.shape == (16, 24, 24, 3) and x.dtype == np.float32
    np.testing.assert_allclose(x.mean(axis=(1, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(x.std(axis=(1, 2, 3)), 1, atol=1e-4)
    # A crop is a window of the image, flipped or not.
    rng = np.random.default_rng(0)
    image = np.arange(32 * 32 * 3).reshape(1, 32, 32, 3)
    crops = data.random_crop_flip(np.repeat(image, 20, 0), rng)
    for crop in crops:
        top, left = divmod(int(min(crop[0, 0, 0], crop[0, -1, 0])) // 3, 32)
        window = image[0, top : top + 24, left : left + 24]
        assert np.array_equal(crop, window) or np.array_equal(crop, window[:, ::-1])
    np.testing.assert_array_equal(data.center_crop(image)[0], image[0, 4:28, 4:28])
    flat = np.full((1, 24, 24, 3), 7.0)  # The stddev floor keeps a flat image finite.
    np.testing.assert_array_equal(data.per_image_standardization(flat), 0.0)


def test_training_checkpoints_and_resumes(tmp_path, capsys):
    write_cifar_dir(tmp_path, per_batch=4, test_size=6)
    checkpoints = tmp_path / "checkpoints"
    argv = ["--data-dir", str(tmp_path), "--batch-size", str(BATCH), "--eval-every", "2"]
    argv += ["--eval-batch-size", "4", "--no-progress", "--checkpoint-dir", str(checkpoints)]
    fresh = train.init_state(train.make_optimizer(train.parse_args([]), 20), 0, BATCH)

    def saved(delete: int | None = None) -> train.TrainState:
        """The latest checkpoint, after deleting the one of step ``delete``."""
        manager = train.checkpoint_manager(checkpoints)
        if delete is not None:
            manager.delete(delete)
        state = train.restore_or_start(manager, fresh, resume=True)
        manager.close()
        return state

    assert train.main([*argv, "--steps", "3"]) == 0
    out = capsys.readouterr().out
    assert "CIFAR-10 from" in out
    assert re.search(r"step +2: loss [\d.]+, test accuracy [\d.]+% \(raw weights\)", out)
    assert re.search(r"final test accuracy at step 3: [\d.]+% raw, [\d.]+% moving average", out)
    uninterrupted = saved()
    assert int(uninterrupted.step) == 3

    # Drop the last checkpoint, as if the run had been killed after step 2, and resume.
    assert int(saved(delete=3).step) == 2
    assert train.main([*argv, "--steps", "3", "--resume"]) == 0
    out = capsys.readouterr().out
    assert "at step 2" in out and "trained 1 steps" in out
    resumed = saved()  # The same batches, so the same state as without the interruption.
    jax.tree.map(np.testing.assert_array_equal, resumed, uninterrupted)

    # Without --resume a run starts afresh and deletes the old checkpoints.
    manager = train.checkpoint_manager(checkpoints)
    assert train.restore_or_start(manager, fresh, resume=False) is fresh
    assert manager.latest_step() is None
    manager.close()


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--eval-every", "0"),  # Was a ZeroDivisionError after the first step.
        ("--batch-size", "0"),
        ("--eval-batch-size", "-1"),
        ("--steps", "ten"),
        ("--learning-rate", "inf"),
        ("--epochs-per-decay", "nan"),
        ("--momentum", "1"),
        ("--ema-decay", "1.5"),
        ("--seed", "-1"),
        ("--builtin-size", "0"),
    ],
)
def test_bad_numbers_are_argparse_errors_naming_the_flag(capsys, flag, value):
    with pytest.raises(SystemExit) as info:
        train.parse_args([flag, value, *(["100"] if flag == "--builtin-size" else [])])
    assert info.value.code == 2
    assert f"error: argument {flag}: must be " in capsys.readouterr().err
