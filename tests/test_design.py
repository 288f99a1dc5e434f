"""Small real models written only against the public API, as a user would."""

import jax
import jax.numpy as jnp
import numpy as np

import scopax as sx


def dense(x, size, name):
    with sx.variable_scope(name):
        w = sx.get_variable("kernel", [x.shape[-1], size])
        b = sx.get_variable("bias", [size], initializer=sx.zeros_initializer())
        return x @ w + b[None]


def tied_autoencoder(x, code_size=3):
    """The decoder reads the encoder's kernel, transposed: one shared weight."""
    with sx.variable_scope("autoencoder") as scope:
        code = jax.nn.sigmoid(dense(x, code_size, "encoder"))
        scope.reuse_variables()
        kernel = sx.get_variable("encoder/kernel")
    with sx.variable_scope("decoder"):
        bias = sx.get_variable("bias", [x.shape[-1]], initializer=sx.zeros_initializer())
    return code @ kernel.T + bias[None]


def test_tied_autoencoder_shares_and_trains():
    model = sx.transform(tied_autoencoder)
    x = jax.random.uniform(jax.random.key(1), (16, 6))
    params = model.init(jax.random.key(0), x)
    assert sorted(sx.flatten(params)) == [
        "autoencoder/encoder/bias",
        "autoencoder/encoder/kernel",
        "decoder/bias",
    ]

    def loss(p):
        return jnp.mean((model.apply(p, x) - x) ** 2)

    grads = jax.grad(loss)(params)
    # The shared kernel's gradient has both the encoder's and the decoder's part.
    kernel = params["autoencoder/encoder/kernel"]

    def untied(k_enc, k_dec):
        p = sx.flatten(params)
        code = jax.nn.sigmoid(x @ k_enc + p["autoencoder/encoder/bias"][None])
        return jnp.mean((code @ k_dec.T + p["decoder/bias"][None] - x) ** 2)

    g_enc, g_dec = jax.grad(untied, argnums=(0, 1))(kernel, kernel)
    np.testing.assert_allclose(grads["autoencoder/encoder/kernel"], g_enc + g_dec, rtol=1e-5)

    step = jax.jit(lambda p: jax.tree_util.tree_map(lambda w, g: w - 0.5 * g, p, jax.grad(loss)(p)))
    first = loss(params)
    for _ in range(50):
        params = step(params)
    assert loss(params) < first


def test_siamese_net_via_make_template():
    tower = sx.make_template("tower", lambda x: jnp.tanh(dense(jnp.tanh(dense(x, 8, "h")), 4, "o")))

    def siamese(a, b):
        return jnp.sum((tower(a) - tower(b)) ** 2, axis=-1)

    model = sx.transform(siamese)
    a = jax.random.normal(jax.random.key(1), (5, 3))
    params = model.init(jax.random.key(0), a, a)
    assert sorted(sx.flatten(params)) == [
        "tower/h/bias",
        "tower/h/kernel",
        "tower/o/bias",
        "tower/o/kernel",
    ]
    np.testing.assert_allclose(jax.jit(model.apply)(params, a, a), np.zeros(5), atol=1e-6)
    b = a + 1.0
    out = jax.jit(model.apply)(params, a, b)
    assert out.shape == (5,) and bool(jnp.all(out > 0))


def rnn_step(x, h):
    with sx.variable_scope("cell"):
        return jnp.tanh(dense(jnp.concatenate([x, h], -1), h.shape[-1], "linear"))


def unrolled_rnn(xs, hidden=4):
    h = jnp.zeros((xs.shape[1], hidden))
    outputs = []
    with sx.variable_scope("rnn") as scope:
        for t in range(xs.shape[0]):
            if t > 0:
                scope.reuse_variables()
            h = rnn_step(xs[t], h)
            outputs.append(h)
    return jnp.stack(outputs), h


def test_rnn_cell_shared_over_time_matches_hand_written_loop():
    model = sx.transform(unrolled_rnn)
    xs = jax.random.normal(jax.random.key(1), (7, 2, 3))
    params = model.init(jax.random.key(0), xs)
    assert sorted(sx.flatten(params)) == ["rnn/cell/linear/bias", "rnn/cell/linear/kernel"]
    outputs, final = jax.jit(model.apply)(params, xs)

    w = params["rnn/cell/linear/kernel"]
    b = params["rnn/cell/linear/bias"]
    h = jnp.zeros((2, 4))
    expected = []
    for t in range(7):
        h = jnp.tanh(jnp.concatenate([xs[t], h], -1) @ w + b[None])
        expected.append(h)
    np.testing.assert_allclose(outputs, jnp.stack(expected), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(final, h, rtol=1e-5, atol=1e-6)
