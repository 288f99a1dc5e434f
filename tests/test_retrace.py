"""``apply`` under ``jax.jit`` traces once per input shape, and never for new params."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scopax as sx


def mlp(x):
    for i, width in enumerate([8, 4]):
        with sx.variable_scope(f"layer{i}"):
            w = sx.get_variable("w", [x.shape[-1], width])
            b = sx.get_variable("b", [width], initializer=sx.zeros_initializer())
            x = jnp.tanh(x @ w + b[None])
    return x


def stateful(x):
    count = sx.get_variable("count", [], jnp.int32, trainable=False)
    sx.assign(count, count + 1)
    return mlp(x)


@pytest.fixture(autouse=True)
def _fresh_counter():
    chex.clear_trace_counter()
    yield
    chex.clear_trace_counter()


def test_new_params_do_not_retrace():
    model = sx.transform(mlp)
    x = jnp.ones((2, 3))
    params = model.init(jax.random.key(0), x)
    apply = jax.jit(chex.assert_max_traces(model.apply, n=1))
    first = apply(params, x)
    for _ in range(3):  # what an optimizer does: a new tree of the same structure
        params = jax.tree_util.tree_map(lambda p: p * 0.5, params)
        apply(params, x)
    np.testing.assert_array_equal(first, jax.jit(model.apply)(model.init(jax.random.key(0), x), x))


def test_one_trace_per_input_shape():
    model = sx.transform(mlp)
    params = model.init(jax.random.key(0), jnp.ones((2, 3)))
    apply = jax.jit(chex.assert_max_traces(model.apply, n=2))
    for batch in (2, 5, 2, 5):
        assert apply(params, jnp.ones((batch, 3))).shape == (batch, 4)
    with pytest.raises(AssertionError, match="is traced > 2 times"):
        apply(params, jnp.ones((7, 3)))


def test_stateful_apply_does_not_retrace_on_its_own_state():
    model = sx.transform_with_state(stateful)
    x = jnp.ones((2, 3))
    params, state = model.init(jax.random.key(0), x)
    apply = jax.jit(chex.assert_max_traces(model.apply, n=1))
    for _ in range(3):
        _, state = apply(params, state, x)
    assert int(state["count"]) == 3


def test_init_under_jit_traces_once():
    model = sx.transform(mlp)
    init = jax.jit(chex.assert_max_traces(model.init, n=1))
    a = init(jax.random.key(0), jnp.ones((2, 3)))
    b = init(jax.random.key(1), jnp.ones((2, 3)))
    assert jax.tree_util.tree_structure(a) == jax.tree_util.tree_structure(b)
