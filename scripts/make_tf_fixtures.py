"""Regenerates tests/fixtures/tf_rnn/ and tests/fixtures/tf_layers/ with real TensorFlow.

TensorFlow is never a dependency of scopax: only this script needs it, in a throwaway venv:

    python3.11 -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu tf-keras
    TF_USE_LEGACY_KERAS=1 /tmp/tfvenv/bin/python scripts/make_tf_fixtures.py

It builds TF1 graphs (``tf.compat.v1`` with v2 behaviour off) of ``tf.nn.rnn_cell`` cells
run by ``static_rnn`` / ``dynamic_rnn`` and of the ``tf.layers`` / ``tf.nn`` layers that
``scopax.nn`` mirrors, overwrites every variable with seeded random values (so biases and
moving statistics are not trivially zero), runs them on seeded inputs and writes one small
``.npz`` per case:

- ``spec``: the case as JSON (for RNN cases, the cell spec that the tests rebuild);
- ``variables/<full TF name>``: every variable's value, the name without ``:0``;
- the inputs, ``outputs`` and, for RNNs, ``final_state/<i>`` (and ``initial_state/<i>``)
  in ``tf.nest.flatten`` order, which is ``jax.tree.leaves`` order.

TF 2.21 has no ``tf.contrib``: ``fully_connected``, ``EmbeddingWrapper``,
``InputProjectionWrapper`` and ``OutputProjectionWrapper`` are tested against hand-written
JAX instead. Dropout's masks come from TF's own RNG, so dropout is tested by its
statistics, and ``DropoutWrapper`` here only with keep probabilities of 1.
"""

# pyright: basic, reportMissingImports=false, reportMissingModuleSource=false

from __future__ import annotations

import io
import json
import os
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RNN_OUT = ROOT / "tests" / "fixtures" / "tf_rnn"
LAYERS_OUT = ROOT / "tests" / "fixtures" / "tf_layers"

GRU = {"type": "GRUCell", "num_units": 4}
LSTM = {"type": "BasicLSTMCell", "num_units": 3}
FULL_LSTM = {
    "type": "LSTMCell",
    "num_units": 5,
    "use_peepholes": True,
    "cell_clip": 0.2,
    "num_proj": 3,
    "proj_clip": 0.05,
}

# name -> cell spec and how to run it; `depth` is the input depth.
RNN_CASES: dict[str, dict[str, Any]] = {
    "basic_rnn_static": {"cell": {"type": "BasicRNNCell", "num_units": 4}, "driver": "static"},
    "basic_rnn_dynamic_seqlen": {
        "cell": {"type": "BasicRNNCell", "num_units": 4},
        "driver": "dynamic",
        "sequence_length": [4, 2],
    },
    "gru_dynamic": {"cell": GRU, "driver": "dynamic", "initial_state": "random"},
    "gru_static_seqlen": {
        "cell": {"type": "GRUCell", "num_units": 3},
        "driver": "static",
        "batch": 3,
        "sequence_length": [3, 1, 4],
    },
    "basic_lstm_tuple_dynamic_seqlen": {
        "cell": LSTM,
        "driver": "dynamic",
        "time": 5,
        "sequence_length": [5, 2],
    },
    "basic_lstm_tuple_static": {"cell": LSTM, "driver": "static", "initial_state": "random"},
    "basic_lstm_concat_static": {
        "cell": {
            "type": "BasicLSTMCell",
            "num_units": 3,
            "state_is_tuple": False,
            "forget_bias": 0.5,
        },
        "driver": "static",
        "sequence_length": [2, 4],
    },
    "basic_lstm_concat_dynamic_time_major": {
        "cell": {"type": "BasicLSTMCell", "num_units": 3, "state_is_tuple": False},
        "driver": "dynamic",
        "time_major": True,
    },
    "lstm_peephole_clip_proj_dynamic_seqlen": {
        "cell": FULL_LSTM,
        "driver": "dynamic",
        "time": 5,
        "sequence_length": [3, 5],
    },
    "lstm_peephole_clip_proj_static": {"cell": FULL_LSTM, "driver": "static", "time": 5},
    "lstm_proj_concat_static": {
        "cell": {"type": "LSTMCell", "num_units": 4, "num_proj": 2, "state_is_tuple": False},
        "driver": "static",
    },
    "multi_gru_lstm_dynamic_time_major": {
        "cell": {"type": "MultiRNNCell", "cells": [GRU, LSTM]},
        "driver": "dynamic",
        "time_major": True,
    },
    "multi_lstm_dropout_gru_static_seqlen": {
        "cell": {
            "type": "MultiRNNCell",
            "cells": [LSTM, {"type": "DropoutWrapper", "cell": GRU, "output_keep_prob": 1.0}],
        },
        "driver": "static",
        "sequence_length": [4, 3],
    },
    "multi_concat_dynamic_scoped": {
        "cell": {
            "type": "MultiRNNCell",
            "cells": [
                {"type": "GRUCell", "num_units": 3},
                {"type": "BasicRNNCell", "num_units": 2},
            ],
            "state_is_tuple": False,
        },
        "driver": "dynamic",
        "scope": "encoder",
    },
    "residual_gru_dynamic": {
        "cell": {"type": "ResidualWrapper", "cell": {"type": "GRUCell", "num_units": 3}},
        "driver": "dynamic",
    },
}


def _seed(name: str) -> int:
    return zlib.crc32(name.encode())


def _save(path: Path, spec: dict[str, Any], arrays: dict[str, Any]) -> None:
    """An ``.npz`` that ``np.load`` reads, written byte for byte the same on every run (no
    timestamps), so regenerating unchanged fixtures leaves no diff."""
    path.parent.mkdir(parents=True, exist_ok=True)
    members = {"spec": np.array(json.dumps(spec, sort_keys=True)), **arrays}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, value in members.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asarray(value), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, buffer.getvalue())
    print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size} bytes)")


def _randomize(tf: Any, sess: Any, rng: np.random.RandomState) -> dict[str, np.ndarray]:
    """Gives every variable seeded random values; returns them by TF name."""
    v1 = tf.compat.v1
    values = {}
    for var in sorted(v1.global_variables(), key=lambda v: v.name):
        value = (0.5 * rng.randn(*var.shape.as_list())).astype(var.dtype.as_numpy_dtype)
        if "moving_variance" in var.name:
            value = np.abs(value) + 0.5
        sess.run(var.assign(value))
        values["variables/" + var.name.removesuffix(":0")] = value
    return values


def _build_cell(tf: Any, spec: dict[str, Any]) -> Any:
    kwargs = dict(spec)
    kind = kwargs.pop("type")
    if "cell" in kwargs:
        kwargs["cell"] = _build_cell(tf, kwargs["cell"])
    if "cells" in kwargs:
        kwargs["cells"] = [_build_cell(tf, c) for c in kwargs["cells"]]
    return getattr(tf.compat.v1.nn.rnn_cell, kind)(**kwargs)


def make_rnn_case(tf: Any, name: str, case: dict[str, Any]) -> None:
    v1 = tf.compat.v1
    spec = {"batch": 2, "time": 4, "depth": 3, "time_major": False, **case}
    batch, time, depth = spec["batch"], spec["time"], spec["depth"]
    rng = np.random.RandomState(_seed(name))
    time_first = spec["driver"] == "static" or spec["time_major"]
    shape = (time, batch, depth) if time_first else (batch, time, depth)
    inputs = rng.randn(*shape).astype(np.float32)
    arrays: dict[str, Any] = {"inputs": inputs}
    with tf.Graph().as_default():
        cell = _build_cell(tf, spec["cell"])
        initial_state = None
        if spec.get("initial_state") == "random":
            zero = cell.zero_state(batch, tf.float32)
            leaves = [
                rng.randn(*z.shape.as_list()).astype(np.float32) for z in tf.nest.flatten(zero)
            ]
            arrays.update({f"initial_state/{i}": leaf for i, leaf in enumerate(leaves)})
            initial_state = tf.nest.pack_sequence_as(zero, [tf.constant(x) for x in leaves])
        lengths = spec.get("sequence_length")
        if lengths is not None:
            arrays["sequence_length"] = np.asarray(lengths, np.int32)
        if spec["driver"] == "static":
            outputs, state = v1.nn.static_rnn(
                cell,
                [tf.constant(x) for x in inputs],
                initial_state=initial_state,
                dtype=tf.float32,
                sequence_length=lengths,
                scope=spec.get("scope"),
            )
            outputs = tf.stack(outputs)
        else:
            outputs, state = v1.nn.dynamic_rnn(
                cell,
                tf.constant(inputs),
                sequence_length=lengths,
                initial_state=initial_state,
                dtype=tf.float32,
                time_major=spec["time_major"],
                scope=spec.get("scope"),
            )
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            arrays.update(_randomize(tf, sess, rng))
            out, final = sess.run([outputs, tf.nest.flatten(state)])
    arrays["outputs"] = out
    arrays.update({f"final_state/{i}": leaf for i, leaf in enumerate(final)})
    if spec["cell"].get("cell_clip"):
        # The fixture must exercise the clipping it claims to test.
        assert np.isclose(np.abs(final[0]).max(), spec["cell"]["cell_clip"]), name
        assert np.isclose(np.abs(out).max(), spec["cell"]["proj_clip"]), name
    _save(RNN_OUT / f"{name}.npz", spec, arrays)


def _run_layer_case(tf: Any, name: str, build: Any, inputs: dict[str, np.ndarray]) -> None:
    """``build(tensors) -> {output name: tensor}``; runs it with random variables."""
    v1 = tf.compat.v1
    rng = np.random.RandomState(_seed(name))
    with tf.Graph().as_default():
        tensors = {k: tf.constant(v) for k, v in inputs.items()}
        outputs = build(tensors)
        updates = v1.get_collection(v1.GraphKeys.UPDATE_OPS)
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            arrays = {**inputs, **_randomize(tf, sess, rng)}
            results = sess.run(outputs)
            if updates:
                sess.run(updates)
                for var in v1.global_variables():
                    if "moving" in var.name:
                        arrays["updated/" + var.name.removesuffix(":0")] = sess.run(var)
    arrays.update({"outputs/" + k: v for k, v in results.items()})
    _save(LAYERS_OUT / f"{name}.npz", {"case": name}, arrays)


def make_layer_cases(tf: Any) -> None:
    v1 = tf.compat.v1
    rng = np.random.RandomState(0)
    images = rng.randn(2, 7, 7, 3).astype(np.float32)

    def dense(t: dict[str, Any]) -> dict[str, Any]:
        return {
            "relu": v1.layers.dense(t["x"], 5, activation=tf.nn.relu),
            "rank3": v1.layers.dense(t["x3"], 2),
            "named": v1.layers.dense(t["x"], 3, use_bias=False, name="logits"),
        }

    _run_layer_case(
        tf,
        "dense",
        dense,
        {"x": rng.randn(3, 4).astype(np.float32), "x3": rng.randn(2, 3, 4).astype(np.float32)},
    )

    def conv(t: dict[str, Any]) -> dict[str, Any]:
        x = t["images"]
        return {
            "same_strided": v1.layers.conv2d(x, 4, 3, strides=2, padding="same"),
            "valid_dilated": v1.layers.conv2d(x, 2, (3, 2), padding="valid", dilation_rate=2),
        }

    _run_layer_case(tf, "conv2d", conv, {"images": images})

    def batch_norm(t: dict[str, Any]) -> dict[str, Any]:
        return {
            "dense_training": v1.layers.batch_normalization(t["x"], training=True),
            "image_training": v1.layers.batch_normalization(t["images"], training=True),
            "image_inference": v1.layers.batch_normalization(t["images"], training=False),
        }

    _run_layer_case(
        tf, "batch_norm", batch_norm, {"x": rng.randn(5, 4).astype(np.float32), "images": images}
    )

    def pool(t: dict[str, Any]) -> dict[str, Any]:
        x = t["images"]
        out = {}
        for padding in ("SAME", "VALID"):
            for ksize, stride in ((3, 2), (2, 2)):
                window, strides = [1, ksize, ksize, 1], [1, stride, stride, 1]
                key = f"{padding}_{ksize}_{stride}"
                out["max_" + key] = tf.nn.max_pool2d(x, window, strides, padding)
                out["avg_" + key] = tf.nn.avg_pool2d(x, window, strides, padding)
        out["lrn"] = tf.nn.local_response_normalization(
            t["deep"], depth_radius=2, bias=1.5, alpha=0.3, beta=0.75
        )
        out["lrn_default"] = tf.nn.local_response_normalization(t["deep"])
        return out

    _run_layer_case(
        tf, "pooling", pool, {"images": images, "deep": rng.randn(2, 3, 3, 13).astype(np.float32)}
    )

    table = rng.randn(11, 3).astype(np.float32)
    ids = np.array([[0, 10, 4], [7, 3, 5]], np.int32)

    def embedding(t: dict[str, Any]) -> dict[str, Any]:
        shards_mod = [t["table"][i::3] for i in range(3)]
        # "div" with 11 ids over 3 shards: 4, 4 and 3 rows.
        shards_div = [t["table"][0:4], t["table"][4:8], t["table"][8:11]]
        return {
            "single": v1.nn.embedding_lookup(t["table"], t["ids"]),
            "mod": v1.nn.embedding_lookup(shards_mod, t["ids"], partition_strategy="mod"),
            "div": v1.nn.embedding_lookup(shards_div, t["ids"], partition_strategy="div"),
            "max_norm": v1.nn.embedding_lookup(t["table"], t["ids"], max_norm=1.0),
        }

    _run_layer_case(tf, "embedding_lookup", embedding, {"table": table, "ids": ids})

    logits = rng.randn(4, 5).astype(np.float32)
    labels = np.abs(rng.randn(4, 5)).astype(np.float32)
    labels /= labels.sum(axis=1, keepdims=True)

    def losses(t: dict[str, Any]) -> dict[str, Any]:
        return {
            "softmax": v1.nn.softmax_cross_entropy_with_logits(
                labels=t["labels"], logits=t["logits"]
            ),
            "softmax_v2_axis0": v1.nn.softmax_cross_entropy_with_logits_v2(
                labels=t["labels"], logits=t["logits"], axis=0
            ),
            "sparse": v1.nn.sparse_softmax_cross_entropy_with_logits(
                labels=t["ids"], logits=t["logits"]
            ),
        }

    _run_layer_case(
        tf,
        "losses",
        losses,
        {"logits": logits, "labels": labels, "ids": np.array([0, 4, 2, 1], np.int32)},
    )


def make_naming_case(tf: Any) -> None:
    """TF1's names for layers and cells called in every way that names them differently."""
    v1 = tf.compat.v1
    rnn_cell = v1.nn.rnn_cell

    def program(t: dict[str, Any]) -> dict[str, Any]:
        x, images = t["x"], t["images"]
        v1.layers.dense(x, 3)
        v1.layers.dense(x, 3)
        v1.layers.dense(x, 3, name="foo")
        v1.layers.dense(x, 3, name="foo", reuse=True)
        with v1.variable_scope("block"):
            v1.layers.dense(x, 3)
            v1.layers.dense(x, 3)
            v1.layers.conv2d(images, 2, 3)
            v1.layers.batch_normalization(images)
        v1.layers.conv2d(images, 2, 3)
        v1.layers.batch_normalization(x, name="bn")
        cell, named = rnn_cell.BasicLSTMCell(3), rnn_cell.BasicLSTMCell(3, name="mine")
        state = cell.zero_state(2, tf.float32)
        cell(x, state)
        cell(x, state)  # reuses
        with v1.variable_scope("other"):
            cell(x, state)  # still the scope of its first call
            rnn_cell.BasicLSTMCell(3)(x, state)
            rnn_cell.BasicLSTMCell(3)(x, state)
            named(x, state)
        rnn_cell.BasicLSTMCell(3)(x, state, scope="explicit")
        gru = rnn_cell.GRUCell(2)
        with v1.variable_scope("shared"):
            v1.nn.static_rnn(gru, [x, x], dtype=tf.float32)
            v1.nn.dynamic_rnn(gru, tf.stack([x, x], 1), dtype=tf.float32)  # the same variables
        stack = rnn_cell.MultiRNNCell([rnn_cell.GRUCell(2), rnn_cell.GRUCell(2)])
        v1.nn.dynamic_rnn(stack, tf.stack([x, x], 1), dtype=tf.float32, scope="decoder")
        return {}

    rng = np.random.RandomState(1)
    inputs = {
        "x": rng.randn(2, 4).astype(np.float32),
        "images": rng.randn(1, 5, 5, 3).astype(np.float32),
    }
    _run_layer_case(tf, "naming", program, inputs)


def main() -> None:
    if os.environ.get("TF_USE_LEGACY_KERAS") != "1":
        raise SystemExit("Run with TF_USE_LEGACY_KERAS=1: tf.compat.v1.nn.rnn_cell needs tf-keras.")
    import tensorflow as tf

    tf.compat.v1.disable_v2_behavior()
    for name, case in RNN_CASES.items():
        make_rnn_case(tf, name, case)
    make_layer_cases(tf)
    make_naming_case(tf)


if __name__ == "__main__":
    main()
