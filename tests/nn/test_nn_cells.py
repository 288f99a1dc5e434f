"""scopax.nn.rnn_cell and the drivers: how cells name and share their variables, the
wrappers TF 2.21 no longer has (against hand-written JAX), dropout, and misuse."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from nn_testing import random_params

import scopax as sx
from scopax import nn
from scopax.contrib import rnn as contrib_rnn
from scopax.nn import rnn_cell

X = jax.random.normal(jax.random.key(1), (2, 3))
XS = jax.random.normal(jax.random.key(2), (2, 5, 3))  # batch-major


def names(fn, *args):
    return sorted(sx.flatten(jax.eval_shape(sx.transform(fn).init, jax.random.key(0), *args)))


def test_a_cell_called_twice_shares_and_two_cells_do_not():
    cell = rnn_cell.GRUCell(3)

    def f(x):
        h = cell.zero_state(2, jnp.float32)
        h = cell(x, cell(x, h)[1])[1]
        return rnn_cell.GRUCell(3)(x, h)

    assert names(f, X)[::4] == ["gru_cell/candidate/bias", "gru_cell_1/candidate/bias"]


def test_reuse_and_explicit_scope():
    def f(x):
        state = rnn_cell.BasicRNNCell(4).zero_state(2, jnp.float32)
        a = rnn_cell.BasicRNNCell(4)(x, state)[0]
        b = rnn_cell.BasicRNNCell(4, reuse=True)(x, state)[0]  # the scope as named
        with sx.variable_scope("s"):
            rnn_cell.BasicRNNCell(4)(x, state, scope="mine")
        return a, b

    assert names(f, X) == [
        "basic_rnn_cell/bias",
        "basic_rnn_cell/kernel",
        "s/mine/bias",
        "s/mine/kernel",
    ]
    model = sx.transform(f)
    a, b = jax.jit(model.apply)(random_params(model.init, X), X)
    np.testing.assert_array_equal(a, b)


def test_cell_names_come_from_the_class_in_snake_case():
    class MyFancyLSTMCell(rnn_cell.RNNCell):
        @property
        def state_size(self):
            return 3

        @property
        def output_size(self):
            return 3

        def call(self, inputs, state):
            return state, state + sx.get_variable("w", [3])[None]

    def f(x):
        cell = MyFancyLSTMCell()
        return nn.dynamic_rnn(cell, x, dtype=jnp.float32)

    assert names(f, XS) == ["rnn/my_fancy_lstm_cell/w"]


def test_state_sizes_and_zero_states():
    lstm = rnn_cell.LSTMCell(5, num_proj=2)
    assert lstm.state_size == rnn_cell.LSTMStateTuple(5, 2) and lstm.output_size == 2
    flat = rnn_cell.LSTMCell(5, num_proj=2, state_is_tuple=False)
    assert flat.state_size == 7 and flat.zero_state(3, jnp.float32).shape == (3, 7)
    multi = rnn_cell.MultiRNNCell([rnn_cell.GRUCell(2), lstm])
    assert multi.state_size == (2, rnn_cell.LSTMStateTuple(5, 2)) and multi.output_size == 2
    zero = multi.zero_state(4, jnp.bfloat16)
    assert [x.shape for x in jax.tree.leaves(zero)] == [(4, 2), (4, 5), (4, 2)]
    assert zero[1].dtype == jnp.bfloat16
    concat = rnn_cell.MultiRNNCell([rnn_cell.GRUCell(2), rnn_cell.GRUCell(3)], False)
    assert concat.state_size == 5 and concat.zero_state(1, jnp.float32).shape == (1, 5)
    wrapped = rnn_cell.DropoutWrapper(lstm)
    assert wrapped.state_size == lstm.state_size and wrapped.wrapped_cell is lstm


def test_dynamic_and_static_rnn_agree_and_dynamic_is_one_scan():
    cell = rnn_cell.MultiRNNCell([rnn_cell.GRUCell(4), rnn_cell.BasicLSTMCell(3)])
    lengths = jnp.array([5, 2])

    def dynamic(xs):
        return nn.dynamic_rnn(cell, xs, sequence_length=lengths, dtype=jnp.float32)

    def static(xs):
        outputs, state = nn.static_rnn(
            cell, list(jnp.swapaxes(xs, 0, 1)), sequence_length=lengths, dtype=jnp.float32
        )
        return jnp.stack(outputs, 1), state

    params = random_params(sx.transform(dynamic).init, XS)
    assert names(static, XS) == sorted(sx.flatten(params))
    out_d, state_d = jax.jit(sx.transform(dynamic).apply)(params, XS)
    out_s, state_s = jax.jit(sx.transform(static).apply)(params, XS)
    chex.assert_trees_all_close(out_d, out_s, atol=1e-6)
    chex.assert_trees_all_close(state_d, state_s, atol=1e-6)
    np.testing.assert_array_equal(out_d[1, 2:], 0)
    jaxpr = jax.make_jaxpr(sx.transform(dynamic).apply)(params, XS)
    assert [e.primitive.name for e in jaxpr.jaxpr.eqns].count("scan") == 1


def test_embedding_and_projection_wrappers_match_hand_written_jax():
    ids = jnp.array([[1, 4], [7, 7], [0, 9]])  # [time, batch]
    cell = contrib_rnn.OutputProjectionWrapper(
        contrib_rnn.EmbeddingWrapper(
            rnn_cell.BasicLSTMCell(3), embedding_classes=10, embedding_size=4
        ),
        output_size=6,
    )

    def f(ids):
        return nn.static_rnn(cell, list(ids), dtype=jnp.float32)

    model = sx.transform(f)
    params = random_params(model.init, ids)
    p = {k.removeprefix("rnn/output_projection_wrapper/"): v for k, v in sx.flatten(params).items()}
    assert {k: v.shape for k, v in p.items()} == {
        "bias": (6,),
        "embedding_wrapper/basic_lstm_cell/bias": (12,),
        "embedding_wrapper/basic_lstm_cell/kernel": (7, 12),
        "embedding_wrapper/embedding": (10, 4),
        "kernel": (3, 6),
    }
    table = p["embedding_wrapper/embedding"]
    kernel, bias = (
        p["embedding_wrapper/basic_lstm_cell/kernel"],
        p["embedding_wrapper/basic_lstm_cell/bias"],
    )
    c = h = jnp.zeros((2, 3))
    expected = []
    for t in range(3):
        gates = jnp.concatenate([table[ids[t]], h], 1) @ kernel + bias[None]
        i, j, f_, o = jnp.split(gates, 4, 1)
        c = c * jax.nn.sigmoid(f_ + 1.0) + jax.nn.sigmoid(i) * jnp.tanh(j)
        h = jnp.tanh(c) * jax.nn.sigmoid(o)
        expected.append(h @ p["kernel"] + p["bias"][None])
    outputs, state = jax.jit(model.apply)(params, ids)
    np.testing.assert_allclose(jnp.stack(outputs), jnp.stack(expected), atol=1e-5)
    np.testing.assert_allclose(state.h, h, atol=1e-5)


def test_input_projection_wrapper_matches_hand_written_jax():
    cell = contrib_rnn.InputProjectionWrapper(
        rnn_cell.BasicRNNCell(2), num_proj=4, activation=jnp.tanh
    )
    model = sx.transform(lambda x: cell(x, cell.zero_state(2, jnp.float32)))
    params = random_params(model.init, X)
    p = sx.flatten(params)
    assert sorted(p) == [
        "input_projection_wrapper/basic_rnn_cell/bias",
        "input_projection_wrapper/basic_rnn_cell/kernel",
        "input_projection_wrapper/bias",
        "input_projection_wrapper/kernel",
    ]
    projected = jnp.tanh(
        X @ p["input_projection_wrapper/kernel"] + p["input_projection_wrapper/bias"][None]
    )
    kernel = p["input_projection_wrapper/basic_rnn_cell/kernel"]
    h = jnp.tanh(
        jnp.concatenate([projected, jnp.zeros((2, 2))], 1) @ kernel
        + p["input_projection_wrapper/basic_rnn_cell/bias"][None]
    )
    out, state = jax.jit(model.apply)(params, X)
    np.testing.assert_allclose(out, h, atol=1e-6)
    np.testing.assert_allclose(state, h, atol=1e-6)


def test_embedding_wrapper_initializers():
    cell = contrib_rnn.EmbeddingWrapper(rnn_cell.BasicRNNCell(1), 50, 20)

    def f(ids):
        cell(ids, cell.zero_state(2, jnp.float32))
        with sx.variable_scope("m", initializer=sx.constant_initializer(0.5)):
            return cell(ids, cell.zero_state(2, jnp.float32), scope="w")

    params = sx.transform(f).init(jax.random.key(0), jnp.array([0, 4]))
    table = params["embedding_wrapper/embedding"]  # TF's uniform(-sqrt 3, sqrt 3)
    assert float(jnp.abs(table).max()) <= 3**0.5 and float(jnp.abs(table).max()) > 1.5
    np.testing.assert_array_equal(params["m/w/embedding"], 0.5)


def test_dropout_wrapper_masks_each_step_and_spares_the_lstm_memory():
    lstm = rnn_cell.BasicLSTMCell(16)
    cell = rnn_cell.DropoutWrapper(lstm, output_keep_prob=0.5, state_keep_prob=0.5)

    def f(xs):
        return nn.dynamic_rnn(cell, xs, dtype=jnp.float32)

    plain = sx.transform(lambda xs: nn.dynamic_rnn(lstm, xs, dtype=jnp.float32))
    xs = jnp.ones((4, 3, 2))
    params = random_params(plain.init, xs)
    assert names(f, xs) == sorted(sx.flatten(params))
    outputs, state = jax.jit(sx.transform(f).apply)(params, xs, rng=jax.random.key(3))
    zero = np.asarray(outputs == 0)
    assert 0.3 < zero.mean() < 0.7
    assert (zero[:, 0] != zero[:, 1]).any()  # a new mask every step
    assert (state.c != 0).all() and (state.h == 0).any()  # c is never dropped
    with pytest.raises(sx.errors.MissingRngError):
        sx.transform(f).apply(params, xs)
    keep_all = rnn_cell.DropoutWrapper(lstm, input_keep_prob=1.0, output_keep_prob=1.0)
    ref = jax.jit(plain.apply)(params, xs)
    kept = sx.transform(lambda xs: nn.dynamic_rnn(keep_all, xs, dtype=jnp.float32))
    got = jax.jit(kept.apply)(params, xs)
    chex.assert_trees_all_close(got, ref)


def test_variational_dropout_wrapper_keeps_one_mask_per_run():
    def f(xs):
        cell = rnn_cell.DropoutWrapper(
            rnn_cell.GRUCell(16),
            input_keep_prob=0.5,
            output_keep_prob=0.5,
            variational_recurrent=True,
            input_size=3,
            dtype=jnp.float32,
        )
        return nn.dynamic_rnn(cell, xs, dtype=jnp.float32)[0]

    model = sx.transform(f)
    xs = jnp.ones((3, 4, 3))
    params = random_params(model.init, xs)
    zero = np.asarray(jax.jit(model.apply)(params, xs, rng=jax.random.key(1)) == 0)
    assert zero.any() and (zero == zero[:1, :1]).all()  # the same mask at every step and row

    with pytest.raises(
        ValueError, match=r"construct it inside the function given to sx\.transform"
    ):
        rnn_cell.DropoutWrapper(
            rnn_cell.GRUCell(2), output_keep_prob=0.5, variational_recurrent=True, dtype=jnp.float32
        )


def test_residual_wrapper():
    cell = rnn_cell.ResidualWrapper(rnn_cell.GRUCell(3))
    model = sx.transform(lambda x: cell(x, cell.zero_state(2, jnp.float32)))
    out, state = jax.jit(model.apply)(random_params(model.init, X), X)
    np.testing.assert_allclose(out, X + state, atol=1e-6)
    bad = rnn_cell.ResidualWrapper(rnn_cell.GRUCell(4))
    with pytest.raises(ValueError, match="make the cell's output_size equal the input depth"):
        names(lambda x: bad(x, bad.zero_state(2, jnp.float32)), X)


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (lambda: rnn_cell.MultiRNNCell([]), ValueError, r"cells=\[\]; pass at least one cell"),
        (
            lambda: rnn_cell.MultiRNNCell(rnn_cell.GRUCell(2)),  # pyright: ignore[reportArgumentType]
            TypeError,
            "takes a list of cells",
        ),
        (
            lambda: rnn_cell.MultiRNNCell([rnn_cell.BasicLSTMCell(2)], state_is_tuple=False),
            ValueError,
            "pass state_is_tuple=True",
        ),
        (lambda: rnn_cell.MultiRNNCell([object()]), TypeError, r"'cells\[0\]'.*is not an RNNCell"),
        (
            lambda: rnn_cell.DropoutWrapper(rnn_cell.GRUCell(2), output_keep_prob=1.5),
            ValueError,
            r"output_keep_prob=1.5; pass a probability in \[0, 1\]",
        ),
        (
            lambda: rnn_cell.DropoutWrapper(rnn_cell.GRUCell(2), variational_recurrent=True),
            ValueError,
            "needs dtype=",
        ),
        (lambda: rnn_cell.GRUCell(2, name=""), ValueError, "pass a non-empty string"),
        (lambda: contrib_rnn.OutputProjectionWrapper(rnn_cell.GRUCell(2), 0), ValueError, ">= 1"),
    ],
)
def test_construction_errors(build, error, message):
    with pytest.raises(error, match=message):
        build()


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (
            lambda xs: rnn_cell.GRUCell(2)(xs, jnp.zeros((2, 2))),
            r"takes inputs of shape \[batch_size, input_size\], got shape \(2, 5, 3\)",
        ),
        (
            lambda xs: rnn_cell.GRUCell(2)(jnp.ones((2, 3), int), jnp.zeros((2, 2))),
            "inputs have dtype int",
        ),
        (lambda xs: nn.dynamic_rnn(rnn_cell.GRUCell(2), xs), "pass dtype=jnp.float32"),
        (lambda xs: nn.static_rnn(rnn_cell.GRUCell(2), xs, dtype=jnp.float32), r"pass list\(xs\)"),
        (lambda xs: nn.static_rnn(rnn_cell.GRUCell(2), [], dtype=jnp.float32), "inputs=\\[\\]"),
        (
            lambda xs: nn.dynamic_rnn(
                rnn_cell.GRUCell(2), xs, sequence_length=jnp.array([1]), dtype=jnp.float32
            ),
            r"of shape \(1,\); pass a vector with one length per example, of shape \(2,\)",
        ),
        (
            lambda xs: rnn_cell.MultiRNNCell([rnn_cell.GRUCell(2)])(xs[:, 0], jnp.zeros((2, 2))),
            "expected its state as a tuple of 1 states",
        ),
    ],
)
def test_call_errors(fn, message):
    with pytest.raises((ValueError, TypeError), match=message):
        sx.transform(fn).init(jax.random.key(0), XS)
