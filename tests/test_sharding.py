"""Sharded parameters on the 8 fake CPU devices the root conftest.py creates."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

import scopax as sx


@pytest.fixture(scope="module")
def mesh():
    assert jax.device_count() == 8, "the root conftest.py must create 8 CPU devices"
    return Mesh(np.array(jax.devices()).reshape(2, 4), ("data", "model"))


def mlp(x):
    with sx.variable_scope("up"):
        w = sx.get_variable("kernel", [x.shape[-1], 16], sharding=("embed", "mlp"))
        b = sx.get_variable("bias", [16], initializer=sx.zeros_initializer(), sharding=("mlp",))
        x = jax.nn.relu(x @ w + b[None])
    with sx.variable_scope("down"):
        w = sx.get_variable("kernel", [16, 8], sharding=P("model", None))
        x = x @ w
    return x


RULES = [("embed", None), ("mlp", "model")]


def test_param_shardings_and_sharded_init(mesh):
    x = jnp.ones((4, 8))
    model = sx.transform(mlp)
    with sx.axis_rules(RULES):
        shardings = sx.param_shardings(mesh, model.init, jax.random.key(0), x)
    assert type(shardings) is sx.Params
    assert {k: s.spec for k, s in sx.flatten(shardings).items()} == {
        "down/kernel": P("model", None),
        "up/bias": P("model"),
        "up/kernel": P(None, "model"),
    }
    params = jax.jit(model.init, out_shardings=shardings)(jax.random.key(0), x)
    reference = model.init(jax.random.key(0), x)
    chex.assert_trees_all_close(params, reference)
    kernel = params["up/kernel"]
    assert kernel.sharding == NamedSharding(mesh, P(None, "model"))
    # Sharded 4 ways over "model", replicated over "data": each device holds a quarter.
    for shard in kernel.addressable_shards:
        assert shard.data.shape == (8, 4)
        assert shard.data.size == kernel.size // 4

    x_sharded = jax.device_put(jnp.arange(32.0).reshape(4, 8), NamedSharding(mesh, P("data")))
    out = jax.jit(model.apply)(params, x_sharded)
    np.testing.assert_allclose(
        out, model.apply(reference, jnp.arange(32.0).reshape(4, 8)), rtol=1e-5
    )


def test_unsharded_variables_are_replicated(mesh):
    model = sx.transform(lambda: sx.get_variable("plain", [4]))
    shardings = sx.param_shardings(mesh, model.init, jax.random.key(0))
    assert shardings["plain"].spec == P()


def test_transform_with_state_shardings(mesh):
    def f():
        sx.get_variable("w", [8], sharding=P("model"))
        sx.get_variable("n", [8], trainable=False, sharding=P("data"))

    model = sx.transform_with_state(f)
    params_s, state_s = sx.param_shardings(mesh, model.init, jax.random.key(0))
    assert params_s["w"].spec == P("model")
    assert state_s["n"].spec == P("data")


def test_layer_stack_shardings_gain_a_leading_axis(mesh):
    @sx.layer_stack(4)
    def block(x):
        return x @ sx.get_variable("w", [8, 8], sharding=("embed", "mlp"))

    model = sx.transform(block)
    with sx.axis_rules(RULES):
        shardings = sx.param_shardings(mesh, model.init, jax.random.key(0), jnp.ones((2, 8)))
    assert shardings["layer_stack/w"].spec == P(None, None, "model")


def test_sharding_errors(mesh):
    model = sx.transform(mlp)
    with pytest.raises(
        sx.errors.ShardingError,
        match=r"^Variable up/kernel: logical axis 'embed' has no rule; add one to sx.axis_rules",
    ):
        sx.param_shardings(mesh, model.init, jax.random.key(0), jnp.ones((4, 8)))
    bad = sx.transform(lambda: sx.get_variable("v", [4], sharding=("a", "b")))
    with pytest.raises(sx.errors.ShardingError, match=r"^Variable v: sharding=\('a', 'b'\)"):
        bad.init(jax.random.key(0))
    with pytest.raises(sx.errors.ShardingError, match="Variable v: sharding=3"):
        sx.transform(lambda: sx.get_variable("v", [4], sharding=3)).init(jax.random.key(0))


def test_axis_rules_restore_on_exit(mesh):
    model = sx.transform(mlp)
    with sx.axis_rules(RULES):
        pass
    with pytest.raises(sx.errors.ShardingError):
        sx.param_shardings(mesh, model.init, jax.random.key(0), jnp.ones((4, 8)))


def test_abstract_init_of_ten_billion_parameters(mesh):
    width, depth = 25_000, 16  # 16 x 25k x 25k = 10e9 parameters, 40 GB in float32.

    def huge(x):
        for i in range(depth):
            with sx.variable_scope(f"layer_{i}"):
                x = x @ sx.get_variable("w", [width, width], sharding=("embed", "mlp"))
        return x

    model = sx.transform(huge)
    shapes = jax.eval_shape(
        model.init, jax.random.key(0), jax.ShapeDtypeStruct((1, width), jnp.float32)
    )
    total = sum(int(np.prod(s.shape)) for s in sx.flatten(shapes).values())
    assert total == depth * width * width == 10_000_000_000
    with sx.axis_rules(RULES):
        shardings = sx.param_shardings(
            mesh, model.init, jax.random.key(0), jax.ShapeDtypeStruct((1, width), jnp.float32)
        )
    assert shardings["layer_15/w"].spec == P(None, "model")
