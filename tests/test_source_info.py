"""JAX attributes the ops scopax traces to the model's line, not to scopax's files."""

import inspect

import jax
import jax.numpy as jnp
from jax.extend import source_info_util

import scopax as sx


def _model(x):
    with sx.variable_scope("block"):
        return sx.nn.dense(x, 3)  # the line every op below must point at


def test_ops_of_a_scopax_layer_point_at_the_calling_line():
    model = sx.transform(_model)
    x = jnp.ones((1, 2))
    params = model.init(jax.random.key(0), x)
    jaxpr = jax.make_jaxpr(model.apply)(params, x)
    lines, start = inspect.getsourcelines(_model)
    call_line = start + next(i for i, text in enumerate(lines) if "sx.nn.dense" in text)
    summaries = {source_info_util.summarize(eqn.source_info) for eqn in jaxpr.jaxpr.eqns}
    assert summaries, jaxpr
    for summary in summaries:
        assert f"test_source_info.py:{call_line}:" in summary, summary


def test_hlo_locations_name_the_model_file_and_scope():
    model = sx.transform(_model)
    x = jnp.ones((1, 2))
    params = model.init(jax.random.key(0), x)
    text = jax.jit(model.apply).lower(params, x).as_text(debug_info=True)
    assert "block/dense/dot_general" in text
    assert "test_source_info.py" in text
    assert "scopax/nn" not in text and "scopax/_src" not in text
