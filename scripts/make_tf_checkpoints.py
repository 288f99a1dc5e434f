"""Regenerates the TF1 checkpoints in tests/fixtures/tf_checkpoints/ with real TensorFlow.

TensorFlow is never a dependency of scopax: only this script needs it, in a throwaway venv:

    python3.11 -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu tf-keras
    TF_USE_LEGACY_KERAS=1 /tmp/tfvenv/bin/python scripts/make_tf_checkpoints.py

It writes three small TF1 (V2 format) checkpoints, each in its own directory with TF's
``checkpoint`` file, and next to each an ``expected.npz`` and ``expected.json`` holding
what TensorFlow's own reader returns for every saved name, for the tests to compare with:

- ``model/``: ``model/conv1/weights`` and ``model/dense/kernel`` (a conv layer and a dense
  layer, trained one step with Adam: ``.../Adam``, ``.../Adam_1``, ``beta1_power``,
  ``global_step``; their input and output are in ``outputs.npz``), and a variable of
  every dtype users meet (float16, bfloat16, float32, float64, int8 to int64, uint8 to
  uint64, bool, complex64, string, a scalar, an empty tensor); saved as ``model.ckpt-1``.
- ``partitioned/``: variables split with ``fixed_size_partitioner`` along each axis, saved
  as slices, and a sharded save over two CPU devices (two ``.data-0000N-of-00002`` files).
- ``momentum/``: a dense layer trained one step with Momentum (``.../Momentum``).

``expected.npz`` stores bfloat16 arrays as float32 (exact), with the true dtype in
``expected.json``; string tensors live only in ``expected.json``, as hex, because an
object array in an ``.npz`` would need pickle. The ``checkpoint`` files name the absolute
temporary directory the checkpoints were saved in, as TF1's ``Saver`` does by default:
the reader must find the files next to that file all the same. Reruns write the same
bytes.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf  # pyright: ignore[reportMissingModuleSource]

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "tf_checkpoints"
v1 = tf.compat.v1


def _dump_expected(prefix: str, out_dir: Path) -> None:
    reader = tf.train.load_checkpoint(prefix)
    dtypes = reader.get_variable_to_dtype_map()
    arrays: dict[str, np.ndarray] = {}
    meta: dict[str, dict[str, object]] = {}
    for name in sorted(dtypes):
        value = np.asarray(reader.get_tensor(name))
        dtype = dtypes[name].name
        entry: dict[str, object] = {"dtype": dtype, "shape": list(value.shape)}
        if dtype == "string":
            entry["hex"] = [bytes(b).hex() for b in value.reshape(-1)]
        else:
            arrays[name] = value.astype(np.float32) if dtype == "bfloat16" else value
        meta[name] = entry
    np.savez_compressed(out_dir / "expected.npz", allow_pickle=False, **arrays)
    (out_dir / "expected.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")


def _save(sess: Any, saver: Any, name: str, step: int, tmp: Path) -> None:
    work = tmp / name
    work.mkdir()
    prefix = saver.save(sess, str(work / "model.ckpt"), global_step=step, write_meta_graph=False)
    out_dir = OUT / name
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    for f in work.iterdir():
        shutil.copy(f, out_dir / f.name)
    _dump_expected(prefix, out_dir)
    print(f"{out_dir.relative_to(OUT.parent.parent.parent)}: {sorted(os.listdir(out_dir))}")


def make_model(tmp: Path) -> None:
    graph = tf.Graph()
    with graph.as_default():
        v1.set_random_seed(0)  # Reruns write the same values.
        rng = np.random.RandomState(0)
        x = v1.constant(rng.randn(2, 6, 6, 2).astype(np.float32))
        with v1.variable_scope("model"):
            with v1.variable_scope("conv1"):
                w = v1.get_variable("weights", [3, 3, 2, 4])
                b = v1.get_variable("biases", [4], initializer=v1.constant_initializer(0.1))
            h = tf.nn.relu(tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME") + b)
            with v1.variable_scope("dense"):
                # 8 KiB: large enough for the reader's vectorised crc32c path.
                k = v1.get_variable("kernel", [144, 16])
            y = tf.matmul(tf.reshape(h, [2, 144]), k)
            with v1.variable_scope("dtypes"):
                const = {
                    "half": np.linspace(-2, 2, 6).astype(np.float16).reshape(2, 3),
                    "bf16": np.linspace(-3, 3, 5).astype(np.float32),
                    "double": np.linspace(-1, 1, 4).astype(np.float64),
                    "int8": np.array([-128, -1, 0, 127], np.int8),
                    "int16": np.array([-32768, 7, 32767], np.int16),
                    "int32": np.arange(-3, 3, dtype=np.int32).reshape(3, 2),
                    "int64": np.array([-(2**62), 0, 2**62 + 5], np.int64),
                    "uint8": np.array([0, 1, 255], np.uint8),
                    "uint16": np.array([0, 65535], np.uint16),
                    "uint32": np.array([0, 2**32 - 1], np.uint32),
                    "uint64": np.array([0, 2**64 - 1], np.uint64),
                    "bool": np.array([[True, False], [False, True]]),
                    "complex64": np.array([1 + 2j, -3.5j], np.complex64),
                    "scalar": np.float32(2.5),
                    "empty": np.zeros((0, 3), np.float32),
                }
                for name, value in const.items():
                    dtype = tf.bfloat16 if name == "bf16" else None
                    v1.get_variable(name, initializer=tf.constant(value, dtype=dtype))
                v1.get_variable(
                    "string",
                    initializer=tf.constant([b"hello", b"", b"\x00\xff\x01 bytes", b"x" * 200]),
                )
        loss = tf.reduce_mean(tf.square(y))
        step = v1.train.get_or_create_global_step()
        train = v1.train.AdamOptimizer(0.1).minimize(loss, global_step=step, var_list=[w, b, k])
        saver = v1.train.Saver()
        with v1.Session(graph=graph) as sess:
            sess.run(v1.global_variables_initializer())
            sess.run(train)
            _save(sess, saver, "model", 1, tmp)
            # The model's output with the saved weights: a port must reproduce it.
            np.savez_compressed(OUT / "model" / "outputs.npz", x=sess.run(x), y=sess.run(y))


def make_partitioned(tmp: Path) -> None:
    graph = tf.Graph()
    config = v1.ConfigProto(device_count={"CPU": 2})
    with graph.as_default():
        with v1.variable_scope("part"):
            v1.get_variable(
                "emb",
                [10, 4],
                initializer=v1.random_normal_initializer(seed=1),
                partitioner=v1.fixed_size_partitioner(3),
            )
            v1.get_variable(
                "cols",
                [4, 9],
                dtype=tf.float64,
                initializer=v1.random_normal_initializer(seed=2),
                partitioner=v1.fixed_size_partitioner(2, axis=1),
            )
        with tf.device("/cpu:1"):
            v1.get_variable("other/bias", [5], initializer=v1.constant_initializer(3.0))
        step = v1.train.get_or_create_global_step()
        assign = v1.assign(step, 7)
        saver = v1.train.Saver(sharded=True)
        with v1.Session(graph=graph, config=config) as sess:
            sess.run(v1.global_variables_initializer())
            sess.run(assign)
            _save(sess, saver, "partitioned", 7, tmp)


def make_momentum(tmp: Path) -> None:
    graph = tf.Graph()
    with graph.as_default():
        x = v1.constant(np.arange(6, dtype=np.float32).reshape(2, 3))
        with v1.variable_scope("net/dense"):
            k = v1.get_variable("kernel", [3, 2], initializer=v1.constant_initializer(0.5))
            b = v1.get_variable("bias", [2], initializer=v1.zeros_initializer())
        loss = tf.reduce_sum(tf.square(tf.matmul(x, k) + b))
        step = v1.train.get_or_create_global_step()
        train = v1.train.MomentumOptimizer(0.01, 0.9).minimize(loss, global_step=step)
        saver = v1.train.Saver()
        with v1.Session(graph=graph) as sess:
            sess.run(v1.global_variables_initializer())
            sess.run(train)
            _save(sess, saver, "momentum", 1, tmp)


if __name__ == "__main__":
    v1.disable_eager_execution()
    # A fixed directory, so that reruns write byte-identical files, `checkpoint` included.
    work = Path(tempfile.gettempdir()) / "scopax_tf_checkpoints"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    make_model(work)
    make_partitioned(work)
    make_momentum(work)
    shutil.rmtree(work)
