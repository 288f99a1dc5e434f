"""JAX attributes the ops scopax traces to the model's line, not to scopax's files."""

import inspect
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
from jax.extend import source_info_util

import scopax as sx


def _model(x):
    with sx.variable_scope("block"):
        return sx.layers.dense(x, 3)  # the line every op below must point at


def test_ops_of_a_scopax_layer_point_at_the_calling_line():
    model = sx.transform(_model)
    x = jnp.ones((1, 2))
    params = model.init(jax.random.key(0), x)
    jaxpr = jax.make_jaxpr(model.apply)(params, x)
    lines, start = inspect.getsourcelines(_model)
    call_line = start + next(i for i, text in enumerate(lines) if "sx.layers.dense" in text)
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
    assert "scopax/layers" not in text and "scopax/_src" not in text


def _name_stack() -> str:
    return str(source_info_util.current_name_stack())


def test_traced_scopes_name_ops_and_eager_scopes_skip_jax_named_scope():
    # Outside every trace, op names reach no program: each trace started from eager
    # code (jit, make_jaxpr, an eager primitive) begins with an empty name stack. So
    # eager scopes skip jax.named_scope (a cost per scope and per op) and traced
    # scopes enter it.
    seen = {}

    def fn(x):
        with sx.variable_scope("outer"):
            seen["stack"] = _name_stack()
            seen["scope"] = sx.get_variable_scope().original_name_scope
            return x + 1

    apply = sx.transform(fn).apply
    apply({}, jnp.ones(2))
    assert seen == {"stack": "", "scope": "outer/"}
    jax.jit(apply)({}, jnp.ones(2))
    assert seen == {"stack": "outer", "scope": "outer/"}


def test_name_scope_names_traced_ops_and_skips_jax_named_scope_when_eager():
    seen = []

    def fn(x):
        with sx.variable_scope("outer"), sx.name_scope("block") as name:
            seen.append((name, _name_stack(), sx.get_variable_scope().name))
            return x + 1

    apply = sx.transform(fn).apply
    apply({}, jnp.ones(2))
    jax.jit(apply)({}, jnp.ones(2))
    # The returned name scope is the same either way; only a trace records it.
    assert seen == [("outer/block/", "", "outer"), ("outer/block/", "outer/block", "outer")]
    with sx.name_scope("free"):
        assert _name_stack() == ""
    text = jax.jit(lambda x: _in_name_scope(x)).lower(jnp.ones(2)).as_text(debug_info=True)
    assert "free/sin" in text


def _in_name_scope(x):
    with sx.name_scope("free"):
        return jnp.sin(x)


def test_a_trace_started_inside_an_eager_apply_still_names_its_own_scopes():
    texts = []

    def fn(x):
        with sx.variable_scope("outer"):

            def inner(y):
                with sx.variable_scope("inner"):
                    return jnp.sin(y)

            texts.append(jax.jit(inner).lower(x).as_text(debug_info=True))
            return x

    sx.transform(fn).apply({}, jnp.ones(2))
    assert "inner/sin" in texts[0]
    # JAX itself starts that trace with an empty name stack, as it does for any jit
    # called eagerly, so the outer scope is not in it whether it was entered or not.
    assert "outer" not in texts[0]


def test_eager_and_jitted_apply_agree_on_names_of_captured_scopes():
    def fn(x):
        with sx.variable_scope("a") as a:
            pass
        with sx.variable_scope("b"):
            with sx.variable_scope(a):
                return sx.get_variable_scope().original_name_scope, _name_stack()

    apply = sx.transform(fn).apply
    assert apply({}, jnp.ones(1)) == ("a/", "")
    out = {}

    def traced(x):
        out["v"] = apply({}, x)
        return x

    jax.make_jaxpr(traced)(jnp.ones(1))
    assert out["v"] == ("a/", "b/a")


def test_importing_scopax_inside_a_jit_keeps_scopes_working():
    # Then the evaluation trace scopax finds is not the one eager code runs in, and every
    # scope names its ops.
    code = (
        "import jax, jax.numpy as jnp\n"
        "@jax.jit\n"
        "def f(x):\n"
        "    import scopax\n"
        "    return x\n"
        "f(1.0)\n"
        "import scopax as sx\n"
        "def fn(x):\n"
        "    with sx.variable_scope('s'):\n"
        "        return x * sx.get_variable('w', [2])\n"
        "m = sx.transform(fn)\n"
        "p = m.init(jax.random.key(0), jnp.ones(2))\n"
        "assert (m.apply(p, jnp.ones(2)) == p['s/w']).all()\n"
        "assert 's/mul' in jax.jit(m.apply).lower(p, jnp.ones(2)).as_text(debug_info=True)\n"
        "print('ok')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "JAX_PLATFORMS": "cpu"},
    )
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
