"""init discovers the variables abstractly and runs only their initializers.

The values are bit for bit those of a run of the function; where discovery cannot stand
in for a run, init runs the function, and errors are the run's own.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scopax as sx
from scopax import errors

KEY = jax.random.key(3)


def needs_values(fn):
    """``fn``, made to branch on a value first, so that init must run it."""

    def wrapped(x, *args):
        if not bool(jnp.all(x == x)):
            raise AssertionError("unreachable: no NaN in these inputs")
        return fn(x, *args)

    return wrapped


def conv_relu(x, kernel_shape, bias_shape):
    w = sx.get_variable("weights", kernel_shape, initializer=sx.random_normal_initializer())
    b = sx.get_variable("biases", bias_shape, initializer=sx.constant_initializer(0.1))
    y = jax.lax.conv_general_dilated(
        x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
    )
    return jax.nn.relu(y + b[None, None, None])


def image_filters(x):
    with sx.variable_scope("image_filters") as scope:
        with sx.variable_scope("conv1"):
            a = conv_relu(x, [3, 3, 2, 4], [4])
        scope.reuse_variables()
        with sx.variable_scope("conv1"):
            b = conv_relu(x, [3, 3, 2, 4], [4])
    return a + b


def everything(x):
    """Scopes, defaults, templates, getters, regularizers, scan, cond, state, sharding."""
    dense = sx.make_template("dense", lambda h: h @ sx.get_variable("w", [h.shape[-1], 3]))
    h = dense(x.reshape(x.shape[0], -1)[:, :3])
    h = dense(jnp.tanh(h))

    def cast(getter, name, *args, **kwargs):
        return getter(name, *args, **kwargs).astype(jnp.bfloat16)

    with sx.variable_scope(
        "blk",
        initializer=sx.truncated_normal_initializer(stddev=0.2),
        regularizer=lambda w: 1e-3 * jnp.sum(w**2),
        custom_getter=cast,
    ):
        v = sx.get_variable("v", [3], sharding=("embed",))
        u = sx.get_variable("u", [3, 3], jnp.float16, initializer=sx.orthogonal_initializer())
    h = h + v.astype(jnp.float32)[None] + u[0].astype(jnp.float32)[None]

    def step(carry, _):
        with sx.variable_scope("cell"):
            w = sx.get_variable("w", [3, 3], initializer=sx.glorot_normal_initializer())
        return jnp.tanh(carry @ w), None

    h, _ = sx.scan(step, h, None, length=2)
    h = sx.cond(h.sum() > 0, lambda y: y * sx.get_variable("pos", []), lambda y: y, h)
    count = sx.get_variable("count", [], jnp.int32, trainable=False)
    sx.assign(count, count + 1)
    table = sx.get_variable("table", initializer=np.arange(6.0).reshape(2, 3))
    return h + table[0][None] + sx.get_regularization_loss()


X = jnp.ones((2, 4, 4, 2))


@pytest.mark.parametrize("fn", [image_filters, everything], ids=["image_filter", "everything"])
def test_values_are_a_runs_bit_for_bit(fn):
    traced, ran = sx.transform_with_state(fn), sx.transform_with_state(needs_values(fn))
    for init in (traced.init, jax.jit(traced.init)):
        got, want = init(KEY, X), ran.init(KEY, X)
        for tree, other in zip(got, want, strict=True):
            flat, other_flat = sx.flatten(tree), sx.flatten(other)
            assert list(flat) == list(other_flat)
            for name, value in flat.items():
                assert value.dtype == other_flat[name].dtype, name
                np.testing.assert_array_equal(np.asarray(value), np.asarray(other_flat[name]))


def test_the_forward_pass_does_not_run():
    calls = []

    def fn(x):
        w = sx.get_variable("w", [2, 2])
        jax.debug.callback(lambda v: calls.append(v), x @ w)
        return x @ w

    params = sx.transform(fn).init(KEY, jnp.ones((1, 2)))
    assert calls == []  # traced abstractly: no op ran, no callback fired
    assert list(sx.flatten(params)) == ["w"]
    sx.transform(fn).apply(params, jnp.ones((1, 2)))
    assert len(calls) == 1


def test_functions_that_need_values_are_run():
    def fn(x):
        w = sx.get_variable("w", [2])
        if float(x.sum()) > 0:  # Python control flow on a value
            return x * sx.get_variable("pos", [2])
        return x * w

    assert sorted(sx.flatten(sx.transform(fn).init(KEY, jnp.ones(2)))) == ["pos", "w"]
    assert sorted(sx.flatten(sx.transform(fn).init(KEY, -jnp.ones(2)))) == ["w"]


def test_initial_values_computed_in_the_function_are_run():
    def fn(x):
        mean = sx.get_variable("mean", initializer=x.mean(0))
        w = sx.get_variable("w", [2])
        shadow = sx.get_variable("shadow", [2], initializer=lambda k, s, d: 2 * w)  # uses w
        return mean, shadow

    params = sx.transform(fn).init(KEY, jnp.arange(4.0).reshape(2, 2))
    np.testing.assert_array_equal(params["mean"], jnp.array([1.0, 2.0]))
    np.testing.assert_array_equal(params["shadow"], 2 * params["w"])


def test_stacked_layers_are_run():
    def fn(x):
        @sx.layer_stack(3)
        def layer(h):
            return jnp.tanh(h @ sx.get_variable("w", [2, 2]))

        return layer(x)

    params = sx.transform(fn).init(KEY, jnp.ones((1, 2)))
    assert params["layer_stack/w"].shape == (3, 2, 2)


def test_errors_are_the_functions_own():
    def fn():
        sx.get_variable("w", [2])
        return sx.get_variable("w", [2])

    with pytest.raises(errors.VariableExistsError) as info:
        sx.transform(fn).init(KEY)
    assert str(info.value) == (
        "Variable w already exists; did you mean to set reuse=True or reuse=sx.AUTO_REUSE in "
        "variable_scope?"
    )
    with pytest.raises(ZeroDivisionError):
        sx.transform(lambda: 1 / 0).init(KEY)


def test_param_shardings_still_sees_every_variable():
    mesh = jax.make_mesh((1,), ("data",))
    with sx.axis_rules([("embed", "data")]):
        shardings = sx.param_shardings(mesh, sx.transform_with_state(everything).init, KEY, X)
    assert shardings[0]["blk"]["v"].spec == jax.sharding.PartitionSpec("data")


def test_init_with_x64_on():
    # The name's hash words were bitcast from int64 (two uint32 each) when x64 was on.
    import os
    import subprocess
    import sys

    code = (
        "import jax, jax.numpy as jnp, scopax as sx\n"
        "fn = lambda: (sx.get_variable('w', [2]), sx.get_variable('n', [], jnp.int64))\n"
        "p = sx.transform(fn).init(jax.random.key(0))\n"
        "q = jax.jit(sx.transform(fn).init)(jax.random.key(0))\n"
        "assert p['n'].dtype == jnp.int64 and (p['w'] == q['w']).all()\n"
        "print('ok')\n"
    )
    env = {**os.environ, "JAX_ENABLE_X64": "1", "JAX_PLATFORMS": "cpu"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
