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

It also writes ``tests/fixtures/tf_layers/table.npz``, a table of cases covering every
public name of ``scopax.nn``, ``scopax.layers``, ``scopax.contrib.*`` and
``scopax.losses`` (see ``make_table``).

TF 2.21 has no ``tf.contrib``. For the contrib layers and losses the table transcribes
TF 1.15's contrib code path into the TF ops it calls (``CONTRIB_TF``), and
``EmbeddingWrapper``, ``InputProjectionWrapper`` and ``OutputProjectionWrapper`` onto
``tf.compat.v1.nn.rnn_cell.RNNCell`` (``_contrib_cells``), and the ``legacy_seq2seq``
models into TF ops and scopes (``_tf_legacy_seq2seq``). Dropout's masks
come from TF's own RNG, so dropout is tested by its statistics (the fraction dropped and
the value kept), and ``DropoutWrapper`` here only with keep probabilities of 1.
"""

# pyright: basic, reportMissingImports=false, reportMissingModuleSource=false

from __future__ import annotations

import functools
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
    if kind in CONTRIB_CELLS:
        return _contrib_cells(tf)[kind](**kwargs)
    return getattr(tf.compat.v1.nn.rnn_cell, kind)(**kwargs)


# tf.contrib.rnn's own wrappers, gone from TF 2: TF 1.15's classes transcribed onto
# tf.compat.v1.nn.rnn_cell.RNNCell, whose Keras-style scoping names them as in TF 1.15
# (a scope per wrapper, from its class name, holding the wrapped cell's).
CONTRIB_CELLS = ("EmbeddingWrapper", "InputProjectionWrapper", "OutputProjectionWrapper")


def _contrib_cells(tf: Any) -> dict[str, Any]:
    v1 = tf.compat.v1
    base = v1.nn.rnn_cell.RNNCell

    def linear(inputs: Any, size: int) -> Any:
        # TF 1.15's core_rnn_cell._Linear with a bias: `kernel`, then `bias` (zeros).
        kernel = v1.get_variable("kernel", [inputs.shape[-1], size], dtype=inputs.dtype)
        bias = v1.get_variable(
            "bias", [size], dtype=inputs.dtype, initializer=v1.zeros_initializer()
        )
        return tf.nn.bias_add(tf.matmul(inputs, kernel), bias)

    class _Wrapper(base):
        def __init__(self, cell: Any, reuse: Any = None):
            super().__init__(_reuse=reuse)
            self._cell = cell

        @property
        def state_size(self) -> Any:
            return self._cell.state_size

        @property
        def output_size(self) -> Any:
            return self._cell.output_size

        def zero_state(self, batch_size: Any, dtype: Any) -> Any:
            return self._cell.zero_state(batch_size, dtype)

    class EmbeddingWrapper(_Wrapper):
        def __init__(self, cell, embedding_classes, embedding_size, initializer=None, reuse=None):
            super().__init__(cell, reuse)
            self._classes, self._size, self._initializer = (
                embedding_classes,
                embedding_size,
                initializer,
            )

        def call(self, inputs: Any, state: Any) -> Any:
            initializer = self._initializer or v1.get_variable_scope().initializer
            if initializer is None:
                initializer = v1.random_uniform_initializer(-(3**0.5), 3**0.5)
            dtype = tf.nest.flatten(state)[0].dtype
            embedding = v1.get_variable(
                "embedding", [self._classes, self._size], initializer=initializer, dtype=dtype
            )
            embedded = v1.nn.embedding_lookup(embedding, tf.reshape(inputs, [-1]))
            return self._cell(embedded, state)

    class InputProjectionWrapper(_Wrapper):
        def __init__(self, cell, num_proj, activation=None, input_size=None, reuse=None):
            super().__init__(cell, reuse)
            self._num_proj, self._activation = num_proj, activation

        def call(self, inputs: Any, state: Any) -> Any:
            projected = linear(inputs, self._num_proj)
            if self._activation:
                projected = self._activation(projected)
            return self._cell(projected, state)

    class OutputProjectionWrapper(_Wrapper):
        def __init__(self, cell, output_size, activation=None, reuse=None):
            super().__init__(cell, reuse)
            self._size, self._activation = output_size, activation

        @property
        def output_size(self) -> Any:
            return self._size

        def call(self, inputs: Any, state: Any) -> Any:
            output, new_state = self._cell(inputs, state)
            projected = linear(output, self._size)
            if self._activation:
                projected = self._activation(projected)
            return projected, new_state

    return {
        "EmbeddingWrapper": EmbeddingWrapper,
        "InputProjectionWrapper": InputProjectionWrapper,
        "OutputProjectionWrapper": OutputProjectionWrapper,
    }


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


# --- The table: one or more cases for every public name of scopax.nn, scopax.layers,
# scopax.contrib.* and scopax.losses, written to tests/fixtures/tf_layers/table.npz.
#
# A case calls the TF1 function of the same path as the scopax one (``nn.conv2d`` is
# ``tf.compat.v1.nn.conv2d``), with the same arguments, so the table checks signatures
# and defaults as well as numbers. In ``args``/``kwargs``: ``{"$in": name}`` is an input
# array, ``{"$fn": path}`` the function (or any attribute) of that path in both
# libraries (``nn.relu``, ``losses.Reduction.MEAN``), ``{"$l2": scale}`` the regularizer
# ``scale * l2_loss(w)``, ``{"$cell": spec}`` an RNN cell. ``setup`` calls run first
# (for the regularization losses). ``kind`` is ``op`` (pure), ``layer`` (variables:
# TF's are randomized and stored by full name, and updated moving statistics too) or
# ``stats`` (random: TF's drop fraction and kept value are stored, not its mask).
#
# TF 2.21 has no tf.contrib. For ``contrib.*`` the case names ``tf`` below: TF 1.15's
# contrib code path, transcribed into the TF ops it calls (the same variables, scopes,
# kernels and update math), because the contrib Python no longer exists to call.


def _f32(rng: np.random.RandomState, *shape: int) -> np.ndarray:
    return rng.randn(*shape).astype(np.float32)


def _table(rng: np.random.RandomState) -> list[dict[str, Any]]:
    x = {"$in": "x"}
    images = {"images": _f32(rng, 2, 6, 6, 3)}
    img = {"$in": "images"}
    mat = {"x": _f32(rng, 4, 5)}
    probs = np.abs(rng.randn(4, 5)).astype(np.float32)
    probs /= probs.sum(1, keepdims=True)
    onehot = np.eye(5, dtype=np.float32)[[0, 3, 1, 4]]
    ids = np.array([0, 3, 1, 4], np.int32)
    zero_one = (rng.rand(4, 5) > 0.5).astype(np.float32)
    unit = _f32(rng, 4, 3)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    unit2 = _f32(rng, 4, 3)
    unit2 /= np.linalg.norm(unit2, axis=1, keepdims=True)
    seq = {"logits": _f32(rng, 2, 4, 5), "targets": rng.randint(0, 5, (2, 4)).astype(np.int32)}
    seq["weights"] = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], np.float32)
    W, L, T = {"$in": "weights"}, {"$in": "logits"}, {"$in": "targets"}
    weights_b = np.array([1.0, 0.0, 2.0, 0.5], np.float32)
    cases: list[dict[str, Any]] = []

    def add(api: str, name: str, args: list, kwargs: dict | None = None, **extra: Any) -> None:
        cases.append(
            {
                "api": api,
                "name": f"{api}:{name}",
                "args": args,
                "kwargs": kwargs or {},
                "kind": "op",
                **extra,
            }
        )

    # tf.nn: convolutions.
    add(
        "nn.conv2d",
        "same_strided",
        [img, {"$in": "w"}, [1, 2, 2, 1], "SAME"],
        inputs={**images, "w": _f32(rng, 3, 3, 3, 4)},
    )
    add(
        "nn.conv2d",
        "explicit_dilated",
        [img, {"$in": "w"}, 1, [[0, 0], [1, 2], [0, 1], [0, 0]]],
        {"dilations": [1, 2, 2, 1]},
        inputs={**images, "w": _f32(rng, 2, 3, 3, 2)},
    )
    add(
        "nn.conv1d",
        "valid_stride2",
        [{"$in": "x"}, {"$in": "w"}, 2, "VALID"],
        inputs={"x": _f32(rng, 2, 9, 3), "w": _f32(rng, 3, 3, 4)},
    )
    add(
        "nn.depthwise_conv2d",
        "same_mult2",
        [img, {"$in": "w"}, [1, 1, 1, 1], "SAME"],
        inputs={**images, "w": _f32(rng, 3, 3, 3, 2)},
    )
    add(
        "nn.separable_conv2d",
        "valid",
        [img, {"$in": "d"}, {"$in": "p"}, [1, 1, 1, 1], "VALID"],
        inputs={**images, "d": _f32(rng, 3, 3, 3, 2), "p": _f32(rng, 1, 1, 6, 5)},
    )
    add(
        "nn.conv2d_transpose",
        "same_stride2",
        [{"$in": "x"}, {"$in": "w"}, [2, 6, 6, 4], [1, 2, 2, 1], "SAME"],
        inputs={"x": _f32(rng, 2, 3, 3, 3), "w": _f32(rng, 3, 3, 4, 3)},
    )
    add(
        "nn.conv2d_transpose",
        "valid",
        [{"$in": "x"}, {"$in": "w"}, [2, 7, 7, 4], [1, 2, 2, 1], "VALID"],
        inputs={"x": _f32(rng, 2, 3, 3, 3), "w": _f32(rng, 3, 3, 4, 3)},
    )
    add(
        "nn.bias_add",
        "nchw",
        [x, {"$in": "b"}],
        {"data_format": "NCHW"},
        inputs={"x": _f32(rng, 2, 3, 4, 4), "b": _f32(rng, 3)},
    )
    add(
        "nn.xw_plus_b",
        "matrix",
        [x, {"$in": "w"}, {"$in": "b"}],
        inputs={**mat, "w": _f32(rng, 5, 3), "b": _f32(rng, 3)},
    )
    # Activations, softmax.
    for act in (
        "relu",
        "relu6",
        "elu",
        "selu",
        "softplus",
        "softsign",
        "sigmoid",
        "tanh",
        "swish",
        "crelu",
        "leaky_relu",
        "softmax",
        "log_softmax",
    ):
        add(f"nn.{act}", "default", [{"$in": "x"}], inputs={"x": 4 * _f32(rng, 3, 5)})
    add("nn.leaky_relu", "alpha", [x], {"alpha": 0.3}, inputs={"x": _f32(rng, 3, 5)})
    add("nn.softmax", "axis0", [x], {"axis": 0}, inputs={"x": _f32(rng, 3, 5)})
    add("nn.log_softmax", "axis0", [x], {"axis": 0}, inputs={"x": _f32(rng, 3, 5)})
    # Dropout: random, so compared by statistics.
    ones = {"x": np.ones((200, 100), np.float32)}
    add("nn.dropout", "keep_prob", [x, 0.9], kind="stats", inputs=ones)
    add("nn.dropout", "rate", [x], {"rate": 0.3}, kind="stats", inputs=ones)
    add("layers.dropout", "training", [x, 0.25], {"training": True}, kind="stats", inputs=ones)
    add("layers.dropout", "inference", [x, 0.25], inputs=mat)
    # Normalization, moments, norms.
    add("nn.moments", "axes01", [x, [0, 1]], inputs={"x": _f32(rng, 3, 4, 5)})
    add("nn.moments", "keepdims", [x, [1]], {"keepdims": True}, inputs={"x": _f32(rng, 3, 4)})
    add(
        "nn.batch_normalization",
        "op",
        [x, {"$in": "m"}, {"$in": "v"}, {"$in": "o"}, {"$in": "s"}, 0.001],
        inputs={
            **mat,
            "m": _f32(rng, 5),
            "v": np.abs(_f32(rng, 5)),
            "o": _f32(rng, 5),
            "s": _f32(rng, 5),
        },
    )
    add(
        "nn.batch_normalization",
        "no_offset_scale",
        [x, {"$in": "m"}, {"$in": "v"}, None, None, 0.01],
        inputs={**mat, "m": _f32(rng, 5), "v": np.abs(_f32(rng, 5))},
    )
    add("nn.l2_normalize", "axis1", [x], {"axis": 1}, inputs=mat)
    add("nn.l2_normalize", "all_eps", [x], {"epsilon": 100.0}, inputs=mat)
    add("nn.l2_loss", "sum", [x], inputs=mat)
    for op in ("lrn", "local_response_normalization"):
        add(
            f"nn.{op}",
            "radius2",
            [x],
            {"depth_radius": 2, "bias": 1.5, "alpha": 0.3, "beta": 0.75},
            inputs={"x": _f32(rng, 2, 3, 3, 7)},
        )
    add("nn.max_pool", "same", [img, [1, 3, 3, 1], [1, 2, 2, 1], "SAME"], inputs=images)
    add("nn.avg_pool", "same", [img, [1, 3, 3, 1], [1, 2, 2, 1], "SAME"], inputs=images)
    # Losses of tf.nn.
    pl = {"labels": probs, "logits": _f32(rng, 4, 5)}
    lab, lg = {"$in": "labels"}, {"$in": "logits"}
    add(
        "nn.softmax_cross_entropy_with_logits",
        "default",
        [],
        {"labels": lab, "logits": lg},
        inputs=pl,
    )
    add(
        "nn.softmax_cross_entropy_with_logits_v2",
        "axis0",
        [],
        {"labels": lab, "logits": lg, "axis": 0},
        inputs=pl,
    )
    add(
        "nn.sparse_softmax_cross_entropy_with_logits",
        "ids",
        [],
        {"labels": lab, "logits": lg},
        inputs={"labels": ids, "logits": pl["logits"]},
    )
    add(
        "nn.sigmoid_cross_entropy_with_logits",
        "default",
        [],
        {"labels": lab, "logits": lg},
        inputs={"labels": zero_one, "logits": 3 * pl["logits"]},
    )
    add(
        "nn.weighted_cross_entropy_with_logits",
        "pos2",
        [],
        {"labels": lab, "logits": lg, "pos_weight": 2.5},
        inputs={"labels": zero_one, "logits": 3 * pl["logits"]},
    )
    # Lookups and top-k.
    table = _f32(rng, 10, 3)
    add(
        "nn.embedding_lookup",
        "mod_shards",
        [[{"$in": "s0"}, {"$in": "s1"}, {"$in": "s2"}], {"$in": "ids"}],
        inputs={
            "s0": table[0::3],
            "s1": table[1::3],
            "s2": table[2::3],
            "ids": np.array([[9, 0], [4, 5]], np.int32),
        },
    )
    add(
        "nn.top_k",
        "k2",
        [x],
        {"k": 2},
        inputs={"x": np.array([[1, 3, 3, 0], [2, 1, 4, 4]], np.float32)},
    )
    add(
        "nn.in_top_k",
        "ties",
        [x, {"$in": "t"}, 1],
        inputs={
            "x": np.array([[1, 3, 3, 0], [2, 1, 4, 4], [5, 1, 0, 0]], np.float32),
            "t": np.array([2, 0, 0], np.int32),
        },
    )
    # RNNs (cells and static/dynamic_rnn also have tests/fixtures/tf_rnn).
    add(
        "nn.bidirectional_dynamic_rnn",
        "gru_lstm_seqlen",
        [
            {"$cell": {"type": "GRUCell", "num_units": 3}},
            {"$cell": {"type": "BasicLSTMCell", "num_units": 2}},
            x,
        ],
        {"sequence_length": {"$in": "n"}, "dtype": {"$dtype": "float32"}},
        kind="layer",
        inputs={"x": _f32(rng, 2, 5, 3), "n": np.array([5, 3], np.int32)},
    )
    # tf.contrib.rnn's wrappers (TF 1.15's classes, transcribed: _contrib_cells).
    gru3 = {"type": "GRUCell", "num_units": 3}
    embed = {"type": "EmbeddingWrapper", "cell": gru3, "embedding_classes": 7, "embedding_size": 4}
    add(
        "nn.static_rnn",
        "embedding_wrapper",
        [{"$cell": embed}, [{"$in": f"ids{t}"} for t in range(3)]],
        {"dtype": {"$dtype": "float32"}},
        kind="layer",
        inputs={f"ids{t}": rng.randint(0, 7, 2).astype(np.int32) for t in range(3)},
        covers=["contrib.rnn.EmbeddingWrapper", "contrib.rnn.static_rnn"],
    )
    lstm3 = {"type": "BasicLSTMCell", "num_units": 3}
    projected = {"type": "InputProjectionWrapper", "cell": lstm3, "num_proj": 4}
    add(
        "nn.dynamic_rnn",
        "projection_wrappers",
        [{"$cell": {"type": "OutputProjectionWrapper", "cell": projected, "output_size": 5}}, x],
        {"dtype": {"$dtype": "float32"}},
        kind="layer",
        inputs={"x": _f32(rng, 2, 4, 3)},
        covers=["contrib.rnn.InputProjectionWrapper", "contrib.rnn.OutputProjectionWrapper"],
    )
    # tf.layers.
    add(
        "layers.dense",
        "relu_rank3",
        [x, 4],
        {"activation": {"$fn": "nn.relu"}},
        kind="layer",
        inputs={"x": _f32(rng, 2, 3, 5)},
    )
    add(
        "layers.conv1d",
        "same",
        [x, 4, 3],
        {"padding": "same", "strides": 2},
        kind="layer",
        inputs={"x": _f32(rng, 2, 9, 3)},
    )
    add(
        "layers.conv2d",
        "first_dilated",
        [x, 4, 3],
        {"data_format": "channels_first", "dilation_rate": 2},
        kind="layer",
        inputs={"x": _f32(rng, 2, 3, 7, 7)},
    )
    add(
        "layers.conv3d",
        "valid",
        [x, 2, [2, 3, 2]],
        kind="layer",
        inputs={"x": _f32(rng, 1, 4, 5, 4, 2)},
    )
    add(
        "layers.conv2d_transpose",
        "valid_stride2",
        [img, 4, 3],
        {"strides": 2},
        kind="layer",
        inputs=images,
    )
    add(
        "layers.conv2d_transpose",
        "same_stride2",
        [img, 2, [3, 2]],
        {"strides": [2, 1], "padding": "same"},
        kind="layer",
        inputs=images,
    )
    add(
        "layers.separable_conv2d",
        "mult2",
        [img, 5, 3],
        {"depth_multiplier": 2, "padding": "same"},
        kind="layer",
        inputs=images,
    )
    add(
        "layers.batch_normalization",
        "rank2_training",
        [x],
        {"training": True},
        kind="layer",
        inputs=mat,
    )
    add(
        "layers.batch_normalization",
        "fused_training",
        [img],
        {"training": True, "momentum": 0.9},
        kind="layer",
        inputs=images,
    )
    add("layers.batch_normalization", "inference", [img], kind="layer", inputs=images)
    # A variance near epsilon: TF 1.15's nn.fused_batch_norm raised epsilon to 1.001e-5
    # (TF 2.21's no longer does: `tf` gives the TF 1.15 call); the plain path (rank 2)
    # keeps it.
    tiny = {"images": 0.003 * images["images"], "x": 0.003 * mat["x"]}
    add(
        "layers.batch_normalization",
        "fused_tiny_epsilon",
        [img],
        {"training": True, "epsilon": 1e-9},
        kind="layer",
        inputs={"images": tiny["images"]},
        tf="batch_normalization_115",
    )
    add(
        "layers.batch_normalization",
        "rank2_tiny_epsilon",
        [x],
        {"training": True, "epsilon": 1e-9},
        kind="layer",
        inputs={"x": tiny["x"]},
    )
    add("layers.flatten", "rank4", [img], inputs=images)
    add(
        "layers.max_pooling1d",
        "same",
        [x, 3, 2],
        {"padding": "same"},
        inputs={"x": _f32(rng, 2, 7, 3)},
    )
    add(
        "layers.average_pooling1d",
        "same",
        [x, 3, 2],
        {"padding": "same"},
        inputs={"x": _f32(rng, 2, 7, 3)},
    )
    add("layers.max_pooling2d", "valid", [img, 2, 2], inputs=images)
    add("layers.average_pooling2d", "same", [img, 3, 2], {"padding": "same"}, inputs=images)
    # tf.contrib.layers (TF 1.15's code path transcribed: see the `tf` functions below).
    add(
        "contrib.layers.fully_connected",
        "relu",
        [x, 3],
        kind="layer",
        inputs=mat,
        tf="fully_connected",
    )
    add(
        "contrib.layers.fully_connected",
        "batch_norm",
        [x, 3],
        {"normalizer_fn": {"$fn": "contrib.layers.batch_norm"}},
        kind="layer",
        inputs=mat,
        tf="fully_connected",
    )
    add("contrib.layers.conv2d", "default", [img, 4, 3], kind="layer", inputs=images, tf="conv2d")
    add(
        "contrib.layers.layer_norm",
        "default",
        [x],
        kind="layer",
        inputs={"x": _f32(rng, 2, 3, 4)},
        tf="layer_norm",
    )
    add(
        "contrib.layers.layer_norm",
        "last_axis",
        [x],
        {"begin_norm_axis": -1},
        kind="layer",
        inputs={"x": _f32(rng, 2, 3, 4)},
        tf="layer_norm",
    )
    for name, inputs, kwargs in (
        ("rank2_training", mat, {}),  # fused (Bessel) via contrib's own reshape to rank 4
        ("rank4_training", images, {"decay": 0.9, "scale": True}),  # fused via tf.layers
        ("rank3_training", {"x": _f32(rng, 3, 4, 2)}, {}),  # not fused: plain variance
        ("rank4_inference", images, {"is_training": False}),
    ):
        add(
            "contrib.layers.batch_norm",
            name,
            [{"$in": next(iter(inputs))}],
            kwargs,
            kind="layer",
            inputs=inputs,
            tf="batch_norm",
        )
    # tf.contrib.seq2seq and legacy_seq2seq losses.
    for name, kwargs in (
        ("default", {}),
        ("per_step", {"average_across_timesteps": False}),
        ("per_example", {"average_across_batch": False}),
        (
            "sum_over",
            {
                "average_across_timesteps": False,
                "average_across_batch": False,
                "sum_over_timesteps": True,
                "sum_over_batch": True,
            },
        ),
        ("sum_over_time", {"average_across_timesteps": False, "sum_over_timesteps": True}),
        ("none", {"average_across_timesteps": False, "average_across_batch": False}),
    ):
        add(
            "contrib.seq2seq.sequence_loss", name, [L, T, W], kwargs, inputs=seq, tf="sequence_loss"
        )
    steps = {f"{k}{t}": v[:, t] for k, v in seq.items() for t in range(4)}
    lists = [[{"$in": f"{k}{t}"} for t in range(4)] for k in ("logits", "targets", "weights")]
    add(
        "contrib.legacy_seq2seq.sequence_loss_by_example",
        "default",
        lists,
        inputs=steps,
        tf="legacy_sequence_loss_by_example",
    )
    add(
        "contrib.legacy_seq2seq.sequence_loss",
        "sum",
        lists,
        {"average_across_batch": False},
        inputs=steps,
        tf="legacy_sequence_loss",
    )
    # tf.contrib.legacy_seq2seq's models (transcribed: _tf_legacy_seq2seq), on lists of
    # three steps of a batch of two, with a GRU of 3 units.
    s2s = {f"e{t}": rng.randint(0, 6, 2).astype(np.int32) for t in range(3)}
    s2s |= {f"d{t}": rng.randint(0, 6, 2).astype(np.int32) for t in range(3)}
    s2s |= {f"x{t}": _f32(rng, 2, 3) for t in range(3)} | {
        f"y{t}": _f32(rng, 2, 2) for t in range(3)
    }
    s2s |= {"h": _f32(rng, 2, 3), "memory": _f32(rng, 2, 4, 3)}
    enc, dec = [[{"$in": f"{k}{t}"} for t in range(3)] for k in ("e", "d")]
    xs, ys = [[{"$in": f"{k}{t}"} for t in range(3)] for k in ("x", "y")]
    h, memory, gru = {"$in": "h"}, {"$in": "memory"}, {"$cell": gru3}
    legacy = (
        ("rnn_decoder", [ys, h, gru], {}),
        ("basic_rnn_seq2seq", [xs, ys, gru], {}),
        ("tied_rnn_seq2seq", [xs, xs, gru], {}),
        ("embedding_rnn_decoder", [dec, h, gru, 6, 4], {"feed_previous": True}),
        ("embedding_rnn_seq2seq", [enc, dec, gru, 6, 5, 4], {}),
        ("embedding_tied_rnn_seq2seq", [enc, dec, gru, 6, 4], {"feed_previous": True}),
        ("attention_decoder", [ys, h, memory, gru], {"num_heads": 2}),
        (
            "embedding_attention_decoder",
            [dec, h, memory, gru, 6, 4],
            {"feed_previous": True, "initial_state_attention": True},
        ),
        ("embedding_attention_seq2seq", [enc, dec, gru, 6, 5, 4], {}),
    )
    s2s |= {f"t{t}": rng.randint(0, 5, 2).astype(np.int32) for t in range(3)}
    s2s |= {f"w{t}": rng.rand(2).astype(np.float32) for t in range(3)}
    targets, weights = [[{"$in": f"{k}{t}"} for t in range(3)] for k in ("t", "w")]
    model = {"$seq2seq": {"fn": "embedding_rnn_seq2seq", "args": [gru, 6, 5, 4]}}
    legacy += (
        ("model_with_buckets", [enc, dec, targets, weights, [[2, 2], [3, 3]], model], {}),
        (
            "model_with_buckets",
            [enc, dec, targets, weights, [[3, 2]], model],
            {"per_example_loss": True},
        ),
    )
    for fn, args, kwargs in legacy:
        add(
            f"contrib.legacy_seq2seq.{fn}",
            "gru_per_example" if kwargs.get("per_example_loss") else "gru",
            args,
            kwargs,
            kind="layer",
            inputs={k: v for k, v in s2s.items() if {"$in": k} in _flat(args)},
            tf=fn,
        )
    # tf.losses.
    wb = {"$in": "w"}
    add(
        "losses.softmax_cross_entropy",
        "smoothing_weights",
        [{"$in": "y"}, lg],
        {"weights": wb, "label_smoothing": 0.1},
        inputs={"y": onehot, "logits": pl["logits"], "w": weights_b},
    )
    add(
        "losses.sparse_softmax_cross_entropy",
        "mean",
        [{"$in": "y"}, lg],
        {"weights": wb, "reduction": "weighted_mean"},
        inputs={"y": ids, "logits": pl["logits"], "w": weights_b},
    )
    add(
        "losses.sigmoid_cross_entropy",
        "smoothing",
        [{"$in": "y"}, lg],
        {"label_smoothing": 0.2},
        inputs={"y": zero_one, "logits": pl["logits"]},
    )
    pred = {
        "labels": _f32(rng, 4, 3),
        "p": _f32(rng, 4, 3),
        "w": np.array([[1.0], [0.0], [2.0], [1.0]], np.float32),
    }
    P = {"$in": "p"}
    for loss in ("mean_squared_error", "absolute_difference", "huber_loss"):
        add(f"losses.{loss}", "col_weights", [lab, P], {"weights": wb}, inputs=pred)
    add("losses.huber_loss", "delta", [lab, P], {"delta": 0.5}, inputs=pred)
    add(
        "losses.log_loss",
        "default",
        [lab, P],
        inputs={"labels": zero_one, "p": rng.rand(4, 5).astype(np.float32)},
    )
    add(
        "losses.hinge_loss",
        "sum",
        [lab, lg],
        {"reduction": "weighted_sum"},
        inputs={"labels": zero_one, "logits": pl["logits"]},
    )
    add(
        "losses.cosine_distance",
        "axis1",
        [lab, P],
        {"axis": 1},
        inputs={"labels": unit, "p": unit2},
    )
    for reduction in (
        "NONE",
        "SUM",
        "MEAN",
        "SUM_OVER_BATCH_SIZE",
        "SUM_BY_NONZERO_WEIGHTS",
        "SUM_OVER_NONZERO_WEIGHTS",
    ):
        add(
            "losses.compute_weighted_loss",
            reduction,
            [x],
            {"weights": wb, "reduction": {"$fn": f"losses.Reduction.{reduction}"}},
            inputs={"x": _f32(rng, 4, 3), "w": pred["w"]},
            covers=["losses.Reduction"],
        )
    add(
        "losses.compute_weighted_loss",
        "zero_weights",
        [x],
        {"weights": 0.0},
        inputs={"x": _f32(rng, 4, 3)},
    )
    reg = [
        {
            "api": "layers.dense",
            "args": [x, 3],
            "kwargs": {"kernel_regularizer": {"$l2": 0.1}, "bias_regularizer": {"$l2": 0.5}},
        },
        {
            "api": "layers.dense",
            "args": [x, 2],
            "kwargs": {"kernel_regularizer": {"$l2": 0.2}, "name": "other"},
        },
    ]
    add("losses.get_regularization_loss", "two_layers", [], kind="layer", setup=reg, inputs=mat)
    add(
        "losses.get_regularization_loss",
        "scope",
        [],
        {"scope": "other"},
        kind="layer",
        setup=reg,
        inputs=mat,
    )
    add("losses.get_regularization_losses", "two_layers", [], kind="layer", setup=reg, inputs=mat)
    return cases


def _flat(args: Any) -> list:
    """The leaves of a case's arguments, through lists and ``$seq2seq``."""
    if isinstance(args, list):
        return [leaf for a in args for leaf in _flat(a)]
    if isinstance(args, dict) and "$seq2seq" in args:
        return _flat(args["$seq2seq"]["args"])
    return [args]


def _resolve_tf(tf: Any, value: Any, t: dict[str, Any]) -> Any:
    """A case's argument as a TF value."""
    v1 = tf.compat.v1
    if isinstance(value, list):
        return [_resolve_tf(tf, v, t) for v in value]
    if not isinstance(value, dict):
        return value
    if "$in" in value:
        return t[value["$in"]]
    if "$fn" in value:
        if value["$fn"] == "contrib.layers.batch_norm":
            return _tf_batch_norm(tf)
        return functools.reduce(getattr, value["$fn"].split("."), v1)
    if "$l2" in value:
        return lambda w, scale=value["$l2"]: scale * tf.nn.l2_loss(w)
    if "$cell" in value:
        return _build_cell(tf, value["$cell"])
    if "$dtype" in value:
        return getattr(tf, value["$dtype"])
    if "$seq2seq" in value:  # seq2seq(encoder_inputs, decoder_inputs) for model_with_buckets
        fn, spec = _tf_legacy_seq2seq(tf)[value["$seq2seq"]["fn"]], value["$seq2seq"]["args"]
        # A fresh cell per call: TF cannot deep-copy a cell that has run (TF issue 8191).
        return lambda enc, dec: fn(enc, dec, *[_resolve_tf(tf, a, t) for a in spec])
    raise ValueError(value)


def _tf_call(tf: Any, call: dict[str, Any], t: dict[str, Any]) -> Any:
    args = [_resolve_tf(tf, a, t) for a in call["args"]]
    kwargs = {k: _resolve_tf(tf, v, t) for k, v in call["kwargs"].items()}
    if call.get("tf"):
        return CONTRIB_TF[call["tf"]](tf)(*args, **kwargs)
    module, _, fn = call["api"].rpartition(".")
    return getattr(getattr(tf.compat.v1, module), fn)(*args, **kwargs)


def _tf_fully_connected(tf: Any) -> Any:
    """TF 1.15 contrib ``fully_connected``: scope ``fully_connected``, ``weights`` (xavier),
    ``biases`` (zeros) unless a normalizer runs (in the scope), then the ReLU."""
    v1 = tf.compat.v1

    def layer(inputs, num_outputs, activation_fn=tf.nn.relu, normalizer_fn=None, scope=None):
        with v1.variable_scope(scope, "fully_connected", [inputs]):
            w = v1.get_variable("weights", [inputs.shape[-1], num_outputs])
            out = tf.tensordot(inputs, w, 1)
            if normalizer_fn is not None:
                out = normalizer_fn(out)
            else:
                out = tf.nn.bias_add(out, v1.get_variable("biases", [num_outputs]))
        return out if activation_fn is None else activation_fn(out)

    return layer


def _tf_conv2d(tf: Any) -> Any:
    """TF 1.15 contrib ``conv2d``: scope ``Conv``, ``weights``, ``biases``, SAME, ReLU."""
    v1 = tf.compat.v1

    def layer(inputs, num_outputs, kernel_size, stride=1, padding="SAME"):
        with v1.variable_scope(None, "Conv", [inputs]):
            w = v1.get_variable(
                "weights", [kernel_size, kernel_size, inputs.shape[-1], num_outputs]
            )
            out = v1.nn.convolution(inputs, w, padding, strides=[stride, stride])
            out = tf.nn.bias_add(out, v1.get_variable("biases", [num_outputs]))
        return tf.nn.relu(out)

    return layer


def _tf_layer_norm(tf: Any) -> Any:
    """TF 1.15 contrib ``layer_norm``: scope ``LayerNorm``, ``beta``/``gamma`` of shape
    ``inputs.shape[begin_params_axis:]``, ``nn.moments`` over the axes from
    ``begin_norm_axis`` on, ``nn.batch_normalization`` with epsilon 1e-12."""
    v1 = tf.compat.v1

    def layer(inputs, begin_norm_axis=1, begin_params_axis=-1):
        rank = inputs.shape.ndims
        begin = begin_norm_axis + rank if begin_norm_axis < 0 else begin_norm_axis
        shape = inputs.shape[begin_params_axis:]
        with v1.variable_scope(None, "LayerNorm", [inputs]):
            beta = v1.get_variable("beta", shape, initializer=v1.zeros_initializer())
            gamma = v1.get_variable("gamma", shape, initializer=v1.ones_initializer())
            mean, variance = v1.nn.moments(inputs, list(range(begin, rank)), keep_dims=True)
            return v1.nn.batch_normalization(inputs, mean, variance, beta, gamma, 1e-12)

    return layer


def _tf_batch_norm(tf: Any) -> Any:
    """TF 1.15 contrib ``batch_norm`` with its defaults (``decay=0.999``, ``center``, no
    ``scale``, epsilon 0.001, training, ``updates_collections=UPDATE_OPS``, fused=None).
    Rank 2: contrib's own ``_fused_batch_norm``, reshaping to ``[n, 1, 1, c]`` for
    ``nn.fused_batch_norm`` (whose batch variance has Bessel's correction) and adding
    ``assign_moving_average`` updates to UPDATE_OPS. Other ranks: ``tf.layers``'
    ``BatchNormalization`` in scope ``BatchNorm`` with ``momentum=decay`` and ``fused``
    (which only rank 4 can use)."""
    v1 = tf.compat.v1

    def layer(inputs, decay=0.999, center=True, scale=False, epsilon=0.001, is_training=True):
        rank = inputs.shape.ndims
        if rank in (2, 4):  # the fused kernel, through TF 1.15's nn.fused_batch_norm
            epsilon = max(epsilon, 1.001e-5)
        if rank != 2:
            return v1.layers.batch_normalization(
                inputs,
                momentum=decay,
                epsilon=epsilon,
                center=center,
                scale=scale,
                training=is_training,
                fused=rank == 4,
                name="BatchNorm",
            )
        channels = inputs.shape[-1]
        with v1.variable_scope(None, "BatchNorm", [inputs]):
            beta = v1.get_variable("beta", [channels], initializer=v1.zeros_initializer())
            moving_mean = v1.get_variable(
                "moving_mean", [channels], trainable=False, initializer=v1.zeros_initializer()
            )
            moving_variance = v1.get_variable(
                "moving_variance", [channels], trainable=False, initializer=v1.ones_initializer()
            )
            gamma = tf.ones([channels])
            x4 = tf.reshape(inputs, [-1, 1, 1, channels])
            out, mean, variance = v1.nn.fused_batch_norm(x4, gamma, beta, epsilon=epsilon)
            for var, value in ((moving_mean, mean), (moving_variance, variance)):
                update = v1.assign_sub(var, (var - value) * (1 - decay))
                v1.add_to_collection(v1.GraphKeys.UPDATE_OPS, update)
            return tf.reshape(out, tf.shape(inputs))

    return layer


def _tf_batch_normalization_115(tf: Any) -> Any:
    """``tf.layers.batch_normalization`` as TF 1.15 ran it on the fused path: its
    ``nn.fused_batch_norm`` raised ``epsilon`` to at least 1.001e-5 (for cuDNN); TF 2.21
    passes it through, so the clamp is applied here."""

    def layer(inputs, epsilon=1e-3, **kwargs):
        fused_epsilon = max(epsilon, 1.001e-5) if inputs.shape.ndims == 4 else epsilon
        return tf.compat.v1.layers.batch_normalization(inputs, epsilon=fused_epsilon, **kwargs)

    return layer


def _tf_sequence_loss(tf: Any) -> Any:
    """TF 1.15 ``tf.contrib.seq2seq.sequence_loss``, op for op."""

    def loss(
        logits,
        targets,
        weights,
        average_across_timesteps=True,
        average_across_batch=True,
        sum_over_timesteps=False,
        sum_over_batch=False,
    ):
        classes = tf.shape(logits)[2]
        crossent = tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.reshape(targets, [-1]), logits=tf.reshape(logits, [-1, classes])
        )
        crossent *= tf.reshape(weights, [-1])
        if average_across_timesteps and average_across_batch:
            return tf.math.divide_no_nan(tf.reduce_sum(crossent), tf.reduce_sum(weights))
        if sum_over_timesteps and sum_over_batch:
            count = tf.cast(tf.math.count_nonzero(weights), crossent.dtype)
            return tf.math.divide_no_nan(tf.reduce_sum(crossent), count)
        crossent = tf.reshape(crossent, tf.shape(logits)[0:2])
        if average_across_timesteps or average_across_batch:
            axis = [0] if average_across_batch else [1]
            return tf.math.divide_no_nan(
                tf.reduce_sum(crossent, axis=axis), tf.reduce_sum(weights, axis=axis)
            )
        if sum_over_timesteps or sum_over_batch:
            axis = [0] if sum_over_batch else [1]
            count = tf.cast(tf.math.count_nonzero(weights, axis=axis), crossent.dtype)
            return tf.math.divide_no_nan(tf.reduce_sum(crossent, axis=axis), count)
        return crossent

    return loss


def _tf_legacy_sequence_loss_by_example(tf: Any) -> Any:
    """TF 1.15 ``legacy_seq2seq.sequence_loss_by_example``: the weighted sum over steps,
    divided by the summed weights plus 1e-12."""

    def loss(logits, targets, weights, average_across_timesteps=True):
        terms = [
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=t, logits=lg) * w
            for lg, t, w in zip(logits, targets, weights, strict=True)
        ]
        total = tf.add_n(terms)
        if average_across_timesteps:
            total /= tf.add_n(weights) + 1e-12
        return total

    return loss


def _tf_legacy_sequence_loss(tf: Any) -> Any:
    """TF 1.15 ``legacy_seq2seq.sequence_loss``: the sum of the above, over the batch size."""

    def loss(logits, targets, weights, average_across_timesteps=True, average_across_batch=True):
        by_example = _tf_legacy_sequence_loss_by_example(tf)
        cost = tf.reduce_sum(by_example(logits, targets, weights, average_across_timesteps))
        if average_across_batch:
            return cost / tf.cast(tf.shape(targets[0])[0], cost.dtype)
        return cost

    return loss


def _tf_legacy_seq2seq(tf: Any) -> dict[str, Any]:
    """TF 1.15's ``tf.contrib.legacy_seq2seq`` models, transcribed into the TF ops and
    scopes they used: the same variable names (``AttnW_0``, ``Attention_0/kernel``,
    ``AttnOutputProjection``, ...), the same encoder copy of the cell, the same greedy
    ``loop_function`` under ``loop_function`` with reuse."""
    import copy

    v1 = tf.compat.v1
    wrappers = _contrib_cells(tf)

    def linear(args: list, size: int) -> Any:
        # core_rnn_cell._Linear: one `kernel` over the concatenated args, `bias` zeros.
        x = tf.concat(args, 1) if len(args) > 1 else args[0]
        kernel = v1.get_variable("kernel", [x.shape[1], size], dtype=x.dtype)
        bias = v1.get_variable("bias", [size], dtype=x.dtype, initializer=v1.zeros_initializer())
        return tf.nn.bias_add(tf.matmul(x, kernel), bias)

    def argmax_and_embed(embedding: Any, update: bool = True) -> Any:
        def loop(prev: Any, _: int) -> Any:
            emb = v1.nn.embedding_lookup(embedding, tf.argmax(prev, 1))
            return emb if update else tf.stop_gradient(emb)

        return loop

    def rnn_decoder(decoder_inputs, initial_state, cell, loop_function=None, scope=None):
        with v1.variable_scope(scope or "rnn_decoder"):
            state, outputs, prev = initial_state, [], None
            for i, inp in enumerate(decoder_inputs):
                if loop_function is not None and prev is not None:
                    with v1.variable_scope("loop_function", reuse=True):
                        inp = loop_function(prev, i)
                if i > 0:
                    v1.get_variable_scope().reuse_variables()
                output, state = cell(inp, state)
                outputs.append(output)
                if loop_function is not None:
                    prev = output
        return outputs, state

    def basic_rnn_seq2seq(encoder_inputs, decoder_inputs, cell, dtype=tf.float32, scope=None):
        with v1.variable_scope(scope or "basic_rnn_seq2seq"):
            _, state = v1.nn.static_rnn(copy.deepcopy(cell), encoder_inputs, dtype=dtype)
            return rnn_decoder(decoder_inputs, state, cell)

    def tied_rnn_seq2seq(
        encoder_inputs, decoder_inputs, cell, loop_function=None, dtype=tf.float32, scope=None
    ):
        with v1.variable_scope("combined_tied_rnn_seq2seq"):
            scope = scope or "tied_rnn_seq2seq"
            _, state = v1.nn.static_rnn(cell, encoder_inputs, dtype=dtype, scope=scope)
            v1.get_variable_scope().reuse_variables()
            return rnn_decoder(decoder_inputs, state, cell, loop_function, scope=scope)

    def embedding_rnn_decoder(
        decoder_inputs,
        initial_state,
        cell,
        num_symbols,
        embedding_size,
        feed_previous=False,
        update_embedding_for_previous=True,
        scope=None,
    ):
        with v1.variable_scope(scope or "embedding_rnn_decoder"):
            embedding = v1.get_variable("embedding", [num_symbols, embedding_size])
            loop = argmax_and_embed(embedding, update_embedding_for_previous)
            embedded = [v1.nn.embedding_lookup(embedding, i) for i in decoder_inputs]
            return rnn_decoder(embedded, initial_state, cell, loop if feed_previous else None)

    def embedding_rnn_seq2seq(
        encoder_inputs,
        decoder_inputs,
        cell,
        num_encoder_symbols,
        num_decoder_symbols,
        embedding_size,
        feed_previous=False,
    ):
        with v1.variable_scope("embedding_rnn_seq2seq") as scope:
            encoder = wrappers["EmbeddingWrapper"](
                copy.deepcopy(cell), num_encoder_symbols, embedding_size
            )
            _, state = v1.nn.static_rnn(encoder, encoder_inputs, dtype=scope.dtype)
            cell = wrappers["OutputProjectionWrapper"](cell, num_decoder_symbols)
            return embedding_rnn_decoder(
                decoder_inputs,
                state,
                cell,
                num_decoder_symbols,
                embedding_size,
                feed_previous=feed_previous,
            )

    def embedding_tied_rnn_seq2seq(
        encoder_inputs,
        decoder_inputs,
        cell,
        num_symbols,
        embedding_size,
        num_decoder_symbols=None,
        feed_previous=False,
    ):
        with v1.variable_scope("embedding_tied_rnn_seq2seq") as scope:
            embedding = v1.get_variable("embedding", [num_symbols, embedding_size])
            enc = [v1.nn.embedding_lookup(embedding, x) for x in encoder_inputs]
            dec = [v1.nn.embedding_lookup(embedding, x) for x in decoder_inputs]
            cell = wrappers["OutputProjectionWrapper"](cell, num_decoder_symbols or num_symbols)
            loop = argmax_and_embed(embedding) if feed_previous else None
            return tied_rnn_seq2seq(enc, dec, cell, loop, dtype=scope.dtype)

    def attention_decoder(
        decoder_inputs,
        initial_state,
        attention_states,
        cell,
        output_size=None,
        num_heads=1,
        loop_function=None,
        scope=None,
        initial_state_attention=False,
    ):
        output_size = output_size or cell.output_size
        with v1.variable_scope(scope or "attention_decoder"):
            length, size = attention_states.shape[1], attention_states.shape[2]
            hidden = tf.reshape(attention_states, [-1, length, 1, size])
            features, vs = [], []
            for a in range(num_heads):  # each head: a 1x1 convolution of the memory
                w = v1.get_variable(f"AttnW_{a}", [1, 1, size, size])
                features.append(v1.nn.conv2d(hidden, w, [1, 1, 1, 1], "SAME"))
                vs.append(v1.get_variable(f"AttnV_{a}", [size]))

            def attention(query: Any) -> list:
                query = tf.concat(tf.nest.flatten(query), 1)
                reads = []
                for a in range(num_heads):
                    with v1.variable_scope(f"Attention_{a}"):
                        y = tf.reshape(linear([query], size), [-1, 1, 1, size])
                        scores = tf.reduce_sum(vs[a] * tf.tanh(features[a] + y), [2, 3])
                        weights = tf.reshape(tf.nn.softmax(scores), [-1, length, 1, 1])
                        reads.append(
                            tf.reshape(tf.reduce_sum(weights * hidden, [1, 2]), [-1, size])
                        )
                return reads

            batch = tf.shape(decoder_inputs[0])[0]
            attns = [tf.zeros(tf.stack([batch, size])) for _ in range(num_heads)]
            for read in attns:
                read.set_shape([None, size])
            if initial_state_attention:
                attns = attention(initial_state)
            state, outputs, prev = initial_state, [], None
            for i, inp in enumerate(decoder_inputs):
                if i > 0:
                    v1.get_variable_scope().reuse_variables()
                if loop_function is not None and prev is not None:
                    with v1.variable_scope("loop_function", reuse=True):
                        inp = loop_function(prev, i)
                x = linear([inp, *attns], inp.shape[1])
                cell_output, state = cell(x, state)
                if i == 0 and initial_state_attention:
                    with v1.variable_scope(v1.get_variable_scope(), reuse=True):
                        attns = attention(state)
                else:
                    attns = attention(state)
                with v1.variable_scope("AttnOutputProjection"):
                    output = linear([cell_output, *attns], output_size)
                if loop_function is not None:
                    prev = output
                outputs.append(output)
        return outputs, state

    def embedding_attention_decoder(
        decoder_inputs,
        initial_state,
        attention_states,
        cell,
        num_symbols,
        embedding_size,
        num_heads=1,
        output_size=None,
        feed_previous=False,
        update_embedding_for_previous=True,
        initial_state_attention=False,
    ):
        with v1.variable_scope("embedding_attention_decoder"):
            embedding = v1.get_variable("embedding", [num_symbols, embedding_size])
            loop = argmax_and_embed(embedding, update_embedding_for_previous)
            embedded = [v1.nn.embedding_lookup(embedding, i) for i in decoder_inputs]
            return attention_decoder(
                embedded,
                initial_state,
                attention_states,
                cell,
                output_size,
                num_heads,
                loop if feed_previous else None,
                initial_state_attention=initial_state_attention,
            )

    def embedding_attention_seq2seq(
        encoder_inputs,
        decoder_inputs,
        cell,
        num_encoder_symbols,
        num_decoder_symbols,
        embedding_size,
        num_heads=1,
        feed_previous=False,
        initial_state_attention=False,
    ):
        with v1.variable_scope("embedding_attention_seq2seq") as scope:
            encoder = wrappers["EmbeddingWrapper"](
                copy.deepcopy(cell), num_encoder_symbols, embedding_size
            )
            outputs, state = v1.nn.static_rnn(encoder, encoder_inputs, dtype=scope.dtype)
            memory = tf.concat([tf.reshape(o, [-1, 1, cell.output_size]) for o in outputs], 1)
            cell = wrappers["OutputProjectionWrapper"](cell, num_decoder_symbols)
            return embedding_attention_decoder(
                decoder_inputs,
                state,
                memory,
                cell,
                num_decoder_symbols,
                embedding_size,
                num_heads,
                num_decoder_symbols,
                feed_previous,
                initial_state_attention=initial_state_attention,
            )

    def model_with_buckets(
        encoder_inputs, decoder_inputs, targets, weights, buckets, seq2seq, per_example_loss=False
    ):
        # Each bucket runs seq2seq on its first steps, reusing the first bucket's variables.
        by_example = _tf_legacy_sequence_loss_by_example(tf)
        loss = by_example if per_example_loss else _tf_legacy_sequence_loss(tf)
        outputs, losses = [], []
        for j, (n_in, n_out) in enumerate(buckets):
            with v1.variable_scope(v1.get_variable_scope(), reuse=True if j > 0 else None):
                out, _ = seq2seq(encoder_inputs[:n_in], decoder_inputs[:n_out])
                outputs.append(out)
                losses.append(loss(out, targets[:n_out], weights[:n_out]))
        return outputs, losses

    return {
        f.__name__: f
        for f in (
            model_with_buckets,
            rnn_decoder,
            basic_rnn_seq2seq,
            tied_rnn_seq2seq,
            embedding_rnn_decoder,
            embedding_rnn_seq2seq,
            embedding_tied_rnn_seq2seq,
            attention_decoder,
            embedding_attention_decoder,
            embedding_attention_seq2seq,
        )
    }


CONTRIB_TF = {
    "fully_connected": _tf_fully_connected,
    "conv2d": _tf_conv2d,
    "layer_norm": _tf_layer_norm,
    "batch_norm": _tf_batch_norm,
    "batch_normalization_115": _tf_batch_normalization_115,
    "sequence_loss": _tf_sequence_loss,
    "legacy_sequence_loss_by_example": _tf_legacy_sequence_loss_by_example,
    "legacy_sequence_loss": _tf_legacy_sequence_loss,
    **{
        name: (lambda tf, name=name: _tf_legacy_seq2seq(tf)[name])
        for name in (
            "rnn_decoder",
            "basic_rnn_seq2seq",
            "tied_rnn_seq2seq",
            "embedding_rnn_decoder",
            "embedding_rnn_seq2seq",
            "embedding_tied_rnn_seq2seq",
            "attention_decoder",
            "embedding_attention_decoder",
            "embedding_attention_seq2seq",
            "model_with_buckets",
        )
    },
}


def make_table(tf: Any) -> None:
    v1 = tf.compat.v1
    rng = np.random.RandomState(_seed("table"))
    cases = _table(rng)
    arrays: dict[str, Any] = {}
    for case in cases:
        name, inputs = case["name"], case.pop("inputs")
        case["inputs"] = sorted(inputs)
        arrays.update({f"{name}/inputs/{k}": v for k, v in inputs.items()})
        with tf.Graph().as_default():
            v1.set_random_seed(_seed(name))
            t = {k: tf.constant(v) for k, v in inputs.items()}
            for call in case.get("setup", []):
                _tf_call(tf, {"kwargs": {}, **call}, t)
            out = _tf_call(tf, case, t)
            updates = v1.get_collection(v1.GraphKeys.UPDATE_OPS)
            with v1.Session() as sess:
                sess.run(v1.global_variables_initializer())
                values = _randomize(tf, sess, np.random.RandomState(_seed(name)))
                arrays.update({f"{name}/{k}": v for k, v in values.items()})
                leaves = sess.run(tf.nest.flatten(out))
                if updates:
                    sess.run(updates)
                    for var in v1.global_variables():
                        if "moving" in var.name:
                            key = f"{name}/updated/" + var.name.removesuffix(":0")
                            arrays[key] = sess.run(var)
        if case["kind"] == "stats":
            (y,) = leaves
            kept = y[y != 0]
            leaves = [np.float32((y == 0).mean()), kept.max(), kept.min()]
        arrays.update({f"{name}/outputs/{i}": leaf for i, leaf in enumerate(leaves)})
    spec = {"cases": cases}
    _save(LAYERS_OUT / "table.npz", spec, arrays)


def main() -> None:
    if os.environ.get("TF_USE_LEGACY_KERAS") != "1":
        raise SystemExit("Run with TF_USE_LEGACY_KERAS=1: tf.compat.v1.nn.rnn_cell needs tf-keras.")
    import tensorflow as tf

    tf.compat.v1.disable_v2_behavior()
    for name, case in RNN_CASES.items():
        make_rnn_case(tf, name, case)
    make_layer_cases(tf)
    make_naming_case(tf)
    make_table(tf)


if __name__ == "__main__":
    main()
