"""The ``scopax.compat.v1`` op layer adds nothing to jitted programs.

A small model written with ``tf.*`` ops (inside ``sx.transform``) and the same model
written with ``jax.numpy`` on a plain dict compile to the same optimized HLO, compared
as tests/test_hlo_identity.py compares programs (``benchmarks/run.py``'s canonical
form: metadata, op names and value names made canonical).
"""

import importlib.util
import pathlib
import sys
from typing import Any

import jax
import jax.numpy as jnp
import pytest

import scopax as sx
import scopax.compat.v1 as tf

BENCHMARKS = pathlib.Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location("_compat_hlo_run", BENCHMARKS / "run.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "_compat_hlo_run", module)
    spec.loader.exec_module(module)
    return module


def tf_model(x):
    with tf.variable_scope("layer", values=[x]):
        w = tf.get_variable("w", [8, 16])
        b = tf.get_variable("b", [16], initializer=tf.zeros_initializer())
    h = tf.maximum(tf.add(tf.matmul(x, w), b), 0.0)
    left, right = tf.split(h, 2, axis=1)
    h = tf.concat([left * tf.sigmoid(right), tf.square(left)], axis=-1, name="gate")
    h = tf.reshape(h, [tf.shape(h)[0], -1])
    h = tf.clip_by_value(h - tf.reduce_mean(h, axis=1, keep_dims=True), -1.0, 1.0)
    logits = tf.matmul(h, w, transpose_b=True)
    best = tf.argmax(logits, 1)
    picked = tf.reduce_sum(tf.one_hot(best, 8) * logits, reduction_indices=[1])
    return tf.reduce_logsumexp(logits, axis=-1) - picked + tf.to_float(best)


def jnp_model(p, x):
    h = jnp.maximum(x @ p["w"] + p["b"], 0.0)
    left, right = jnp.split(h, 2, axis=1)
    h = jnp.concatenate([left * jax.nn.sigmoid(right), jnp.square(left)], axis=-1)
    h = jnp.reshape(h, (h.shape[0], -1))
    h = jnp.clip(h - jnp.mean(h, axis=1, keepdims=True), -1.0, 1.0)
    logits = h @ p["w"].T
    best = jnp.argmax(logits, 1)
    picked = jnp.sum(jax.nn.one_hot(best, 8) * logits, axis=1)
    return jax.nn.logsumexp(logits, axis=-1) - picked + best.astype(jnp.float32)


def test_tf_ops_compile_to_the_jax_numpy_program(run):
    x = jnp.ones((4, 8))
    model = sx.transform(tf_model)
    params = model.init(jax.random.key(0), x)
    plain = {"w": params["layer/w"], "b": params["layer/b"]}
    # The jax.numpy side relies on implicit rank promotion for its bias, as users' code does.
    with jax.numpy_rank_promotion("allow"):
        same, _ = run.compare_jitted(model.apply, params, jnp_model, plain, x, 0)
        want = jax.jit(jnp_model)(plain, x)
    assert same
    assert jnp.allclose(jax.jit(model.apply)(params, x), want)
