"""scopax.layers, scopax.contrib.layers and scopax.nn's ops: TF1's names, and TF1's numbers
(tests/fixtures/tf_layers, written by scripts/make_tf_fixtures.py) or hand-written JAX."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from nn_testing import FIXTURES, Fixture, random_params

import scopax as sx
from scopax import layers, nn
from scopax.contrib import layers as contrib_layers


def load(name: str) -> Fixture:
    return Fixture(FIXTURES / "tf_layers" / f"{name}.npz")


def check_outputs(ours: dict, fixture: Fixture) -> None:
    expected = fixture.group("outputs")
    assert sorted(ours) == sorted(expected)
    for key, value in ours.items():
        np.testing.assert_allclose(value, expected[key], atol=1e-5, rtol=1e-5, err_msg=key)


def test_dense_equals_tf():
    data = load("dense")

    def f(x, x3):
        return {
            "relu": layers.dense(x, 5, activation=jax.nn.relu),
            "rank3": layers.dense(x3, 2),
            "named": layers.dense(x, 3, use_bias=False, name="logits"),
        }

    model = sx.transform(f)
    params = jax.eval_shape(model.init, jax.random.key(0), data["x"], data["x3"])
    assert sorted(sx.flatten(params)) == sorted(data.variables)
    check_outputs(jax.jit(model.apply)(sx.unflatten(data.variables), data["x"], data["x3"]), data)


def test_conv2d_equals_tf():
    data = load("conv2d")

    def f(images):
        return {
            "same_strided": layers.conv2d(images, 4, 3, strides=2, padding="same"),
            "valid_dilated": layers.conv2d(images, 2, (3, 2), padding="valid", dilation_rate=2),
        }

    model = sx.transform(f)
    params = jax.eval_shape(model.init, jax.random.key(0), data["images"])
    assert sorted(sx.flatten(params)) == sorted(data.variables)
    check_outputs(jax.jit(model.apply)(sx.unflatten(data.variables), data["images"]), data)


def test_conv2d_channels_first_is_channels_last_transposed():
    x = jax.random.normal(jax.random.key(1), (2, 6, 6, 3))
    last = sx.transform(lambda x: layers.conv2d(x, 4, 3, padding="same", activation=jnp.tanh))
    first = sx.transform(
        lambda x: layers.conv2d(x, 4, 3, padding="same", data_format="channels_first")
    )
    params = random_params(last.init, x)
    x_first = jnp.transpose(x, (0, 3, 1, 2))
    out = jnp.transpose(jax.jit(first.apply)(params, x_first), (0, 2, 3, 1))
    np.testing.assert_allclose(jnp.tanh(out), jax.jit(last.apply)(params, x), atol=1e-5)


def test_batch_normalization_equals_tf_in_training_and_inference():
    data = load("batch_norm")

    def f(x, images):
        return {
            "dense_training": layers.batch_normalization(x, training=True),
            "image_training": layers.batch_normalization(images, training=True),  # fused in TF
            "image_inference": layers.batch_normalization(images, training=False),
        }

    model = sx.transform_with_state(f)
    params, state = jax.eval_shape(model.init, jax.random.key(0), data["x"], data["images"])
    tf_vars = data.variables
    assert sorted(sx.flatten(params)) + sorted(sx.flatten(state)) == sorted(
        k for k in tf_vars if "moving" not in k
    ) + sorted(k for k in tf_vars if "moving" in k)
    params = sx.unflatten({k: v for k, v in tf_vars.items() if "moving" not in k})
    state = sx.unflatten({k: v for k, v in tf_vars.items() if "moving" in k})
    outputs, new_state = jax.jit(model.apply)(params, state, data["x"], data["images"])
    check_outputs(outputs, data)
    updated = {**sx.flatten(state), **data.group("updated")}  # inference leaves its own alone
    new = sx.flatten(new_state)
    assert sorted(new) == sorted(updated)
    for name, value in updated.items():
        np.testing.assert_allclose(new[name], value, atol=1e-5, rtol=1e-5, err_msg=name)


def test_batch_normalization_with_a_traced_training_flag():
    x = jax.random.normal(jax.random.key(1), (6, 3)) * 3 + 1
    model = sx.transform_with_state(lambda x, t: layers.batch_normalization(x, training=t))
    params, state = random_params(model.init, x, True)
    state = jax.tree.map(jnp.abs, state)
    static = jax.jit(lambda p, s, x, t: model.apply(p, s, x, t), static_argnums=3)
    for flag in (True, False):
        expected = static(params, state, x, flag)
        traced = jax.jit(model.apply)(params, state, x, jnp.asarray(flag))
        jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, atol=1e-6), expected, traced)
    out, _ = static(params, state, x, True)
    gamma, beta = params["batch_normalization/gamma"], params["batch_normalization/beta"]
    np.testing.assert_allclose(out.mean(0), beta, atol=1e-5)
    np.testing.assert_allclose(out.std(0), jnp.abs(gamma), rtol=1e-3)


def test_batch_normalization_needs_state():
    model = sx.transform(lambda x: layers.batch_normalization(x))
    with pytest.raises(sx.errors.NonTrainableInTransformError, match="moving_mean"):
        model.init(jax.random.key(0), jnp.ones((2, 3)))


def test_pooling_and_lrn_equal_tf():
    data = load("pooling")
    images, deep = data["images"], data["deep"]
    ours = {}
    for padding in ("SAME", "VALID"):
        for ksize, stride in ((3, 2), (2, 2)):
            window, strides = [1, ksize, ksize, 1], [1, stride, stride, 1]
            key = f"{padding}_{ksize}_{stride}"
            ours["max_" + key] = nn.max_pool(images, window, strides, padding)
            ours["avg_" + key] = nn.avg_pool(images, window, strides, padding)
    ours["lrn"] = nn.local_response_normalization(
        deep, depth_radius=2, bias=1.5, alpha=0.3, beta=0.75
    )
    ours["lrn_default"] = nn.lrn(deep)
    check_outputs(ours, data)


def test_pool_window_forms_agree():
    x = jax.random.normal(jax.random.key(0), (1, 5, 5, 2))
    full = nn.max_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
    np.testing.assert_array_equal(nn.max_pool(x, 2, 2, "SAME"), full)
    np.testing.assert_array_equal(nn.max_pool(x, (2, 2), [2], "same"), full)
    first = nn.avg_pool(jnp.transpose(x, (0, 3, 1, 2)), 2, 2, "SAME", data_format="NCHW")
    np.testing.assert_allclose(jnp.transpose(first, (0, 2, 3, 1)), nn.avg_pool(x, 2, 2, "SAME"))


def test_embedding_lookup_equals_tf():
    data = load("embedding_lookup")
    table, ids = data["table"], data["ids"]
    ours = {
        "single": nn.embedding_lookup(table, ids),
        "mod": nn.embedding_lookup([table[i::3] for i in range(3)], ids),
        "div": nn.embedding_lookup([table[0:4], table[4:8], table[8:11]], ids, "div"),
        "max_norm": nn.embedding_lookup(table, ids, max_norm=1.0),
    }
    check_outputs(ours, data)


def test_embedding_lookup_out_of_range_is_nan():
    out = nn.embedding_lookup([jnp.ones((2, 2)), jnp.ones((2, 2))], jnp.array([3, 4, -1]))
    assert not np.isnan(out[0]).any() and np.isnan(out[1:]).all()


def test_losses_equal_tf():
    data = load("losses")
    logits, labels = data["logits"], data["labels"]
    ours = {
        "softmax": nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits),
        "softmax_v2_axis0": nn.softmax_cross_entropy_with_logits_v2(
            labels=labels, logits=logits, axis=0
        ),
        "sparse": nn.sparse_softmax_cross_entropy_with_logits(labels=data["ids"], logits=logits),
    }
    check_outputs(ours, data)


def test_loss_gradients_follow_tf():
    logits, labels = jnp.array([[1.0, 2.0, 0.5]]), jnp.array([[0.2, 0.5, 0.3]])

    def v1(y):
        return nn.softmax_cross_entropy_with_logits(labels=y, logits=logits).sum()

    def v2(y):
        return nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits).sum()

    np.testing.assert_array_equal(jax.grad(v1)(labels), 0)  # TF1 stops it
    np.testing.assert_allclose(jax.grad(v2)(labels), -jax.nn.log_softmax(logits), rtol=1e-6)

    def sparse(z):
        return nn.sparse_softmax_cross_entropy_with_logits(labels=jnp.array([1]), logits=z).sum()

    expected = jax.nn.softmax(logits) - jnp.array([[0.0, 1.0, 0.0]])
    np.testing.assert_allclose(jax.grad(sparse)(logits), expected, atol=1e-6)
    bad = nn.sparse_softmax_cross_entropy_with_logits(labels=jnp.array([3]), logits=logits)
    assert np.isnan(bad).all()


def test_layer_scopes_follow_tf_names():
    data = load("naming")

    def program(x, images):
        cell_cls = nn.rnn_cell
        layers.dense(x, 3)
        layers.dense(x, 3)
        layers.dense(x, 3, name="foo")
        layers.dense(x, 3, name="foo", reuse=True)
        with sx.variable_scope("block"):
            layers.dense(x, 3)
            layers.dense(x, 3)
            layers.conv2d(images, 2, 3)
            layers.batch_normalization(images)
        layers.conv2d(images, 2, 3)
        layers.batch_normalization(x, name="bn")
        cell, named = cell_cls.BasicLSTMCell(3), cell_cls.BasicLSTMCell(3, name="mine")
        state = cell.zero_state(2, jnp.float32)
        cell(x, state)
        cell(x, state)
        with sx.variable_scope("other"):
            cell(x, state)
            cell_cls.BasicLSTMCell(3)(x, state)
            cell_cls.BasicLSTMCell(3)(x, state)
            named(x, state)
        cell_cls.BasicLSTMCell(3)(x, state, scope="explicit")
        gru = cell_cls.GRUCell(2)
        with sx.variable_scope("shared"):
            nn.static_rnn(gru, [x, x], dtype=jnp.float32)
            nn.dynamic_rnn(gru, jnp.stack([x, x], 1), dtype=jnp.float32)
        stack = cell_cls.MultiRNNCell([cell_cls.GRUCell(2), cell_cls.GRUCell(2)])
        nn.dynamic_rnn(stack, jnp.stack([x, x], 1), dtype=jnp.float32, scope="decoder")

    model = sx.transform_with_state(program)
    params, state = jax.eval_shape(model.init, jax.random.key(0), data["x"], data["images"])
    ours = {k: v.shape for k, v in {**sx.flatten(params), **sx.flatten(state)}.items()}
    assert ours == {k: v.shape for k, v in data.variables.items()}


def test_dense_misuse():
    def twice(x):
        layers.dense(x, 3, name="foo")
        return layers.dense(x, 3, name="foo")

    with pytest.raises(sx.errors.VariableExistsError, match="Variable foo/kernel already exists"):
        sx.transform(twice).init(jax.random.key(0), jnp.ones((1, 2)))
    with pytest.raises(ValueError, match=r"floating point.*inputs\.astype"):
        sx.transform(lambda x: layers.dense(x, 3)).init(jax.random.key(0), jnp.ones((1, 2), int))


def test_fully_connected_matches_hand_written_jax(jit):
    x = jax.random.normal(jax.random.key(1), (3, 4))

    def f(x):
        h = contrib_layers.fully_connected(x, 5)
        with sx.variable_scope("head"):
            return contrib_layers.fully_connected(h, 2, activation_fn=None, biases_initializer=None)

    model = sx.transform(f)
    params = model.init(jax.random.key(0), x)
    assert {k: v.shape for k, v in sx.flatten(params).items()} == {
        "fully_connected/biases": (5,),
        "fully_connected/weights": (4, 5),
        "head/fully_connected/weights": (5, 2),
    }
    p = sx.flatten(params)
    h = jax.nn.relu(x @ p["fully_connected/weights"] + p["fully_connected/biases"][None])
    expected = h @ p["head/fully_connected/weights"]
    np.testing.assert_allclose(jit(model.apply)(params, x), expected, atol=1e-5)


def test_fully_connected_with_normalizer_and_reuse():
    def f(x):
        a = contrib_layers.fully_connected(
            x,
            3,
            normalizer_fn=layers.batch_normalization,
            normalizer_params={"training": True},
            scope="fc",
        )
        b = contrib_layers.fully_connected(
            x,
            3,
            normalizer_fn=layers.batch_normalization,
            normalizer_params={"training": True},
            scope="fc",
            reuse=True,
        )
        return a, b

    model = sx.transform_with_state(f)
    params, state = jax.eval_shape(model.init, jax.random.key(0), jnp.ones((2, 4)))
    assert sorted(sx.flatten(params)) == [
        "fc/batch_normalization/beta",
        "fc/batch_normalization/gamma",
        "fc/weights",
    ]
    assert sorted(sx.flatten(state)) == [
        "fc/batch_normalization/moving_mean",
        "fc/batch_normalization/moving_variance",
    ]


def test_dropout():
    x = jnp.ones((200, 50))
    model = sx.transform(lambda x, t: layers.dropout(x, rate=0.25, training=t))
    assert model.apply({}, x, False) is x  # inference: no rng needed
    y = model.apply({}, x, True, rng=jax.random.key(0))
    np.testing.assert_allclose(np.unique(np.asarray(y)), [0.0, 1 / 0.75], rtol=1e-6)
    assert abs(float((y == 0).mean()) - 0.25) < 0.02
    traced = jax.jit(model.apply)({}, x, jnp.asarray(True), rng=jax.random.key(0))
    np.testing.assert_array_equal(traced, y)
    shared = sx.transform(lambda x: layers.dropout(x, 0.5, noise_shape=[200, 1], training=True))
    z = shared.apply({}, x, rng=jax.random.key(1))
    assert (z.min(1) == z.max(1)).all()  # one mask value per row
    with pytest.raises(sx.errors.MissingRngError):
        model.apply({}, x, True)
    with pytest.raises(ValueError, match=r"rate=1.5; pass a drop probability in \[0, 1\)"):
        layers.dropout(x, 1.5)


@pytest.mark.parametrize(
    "op",
    [
        lambda x: nn.max_pool(x, 2, 2, "VALID"),
        lambda x: nn.avg_pool(x, 2, 2, "SAME"),
        lambda x: nn.local_response_normalization(x, 1),
    ],
    ids=["max_pool", "avg_pool", "lrn"],
)
def test_pooling_and_lrn_differentiate_under_jit(op):
    x = jnp.arange(16.0).reshape(1, 4, 4, 1) / 16.0
    eager = jax.grad(lambda x: op(x).sum())(x)
    jitted = jax.jit(jax.grad(lambda x: op(x).sum()))(x)
    np.testing.assert_allclose(jitted, eager, rtol=1e-6)
