"""scopax.contrib.legacy_seq2seq: TF 1.15's legacy_seq2seq names (golden files) and math.

TF 2 cannot run tf.contrib, so the math is checked against the hand-written JAX below,
which follows TF 1.15's formulas independently of the module: it reads every variable
by its full TF name from the parameter tree, and would fail on a misnamed one.

    SCOPAX_REGEN_GOLDEN=1 .venv/bin/python -m pytest tests/nn/test_seq2seq.py

rewrites tests/nn/golden/seq2seq_*.txt (review the diff).
"""

import os
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from nn_testing import describe, random_params

import scopax as sx
from scopax.contrib import legacy_seq2seq as seq2seq
from scopax.nn import rnn_cell

GOLDEN = Path(__file__).resolve().parent / "golden"
REGEN = os.environ.get("SCOPAX_REGEN_GOLDEN") == "1"
KEY = jax.random.key(0)
B, H = 2, 3  # batch size, cell size
ENC, DEC = 5, 7  # vocabulary sizes


def ids(seed, steps, vocab):
    return [jnp.asarray(x) for x in np.random.RandomState(seed).randint(0, vocab, (steps, B))]


def vecs(seed, steps, depth):
    return list(jnp.asarray(np.random.RandomState(seed).randn(steps, B, depth), jnp.float32))


def close(a, b):
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_allclose(x, y, rtol=2e-5, atol=2e-6)


def names(fn, *args):
    return sorted(sx.flatten(jax.eval_shape(sx.transform(fn).init, KEY, *args)))


def check_golden(name, fn, *args):
    text = "\n".join(describe(jax.eval_shape(sx.transform(fn).init, KEY, *args))) + "\n"
    path = GOLDEN / f"seq2seq_{name}.txt"
    if REGEN:
        path.write_text(text)
    assert path.exists(), f"No golden file {path}; run with SCOPAX_REGEN_GOLDEN=1 to write it."
    assert text == path.read_text(), f"The variables of {name} changed:\n{text}"


def test_every_seq2seq_golden_file_is_tested():
    tested = {
        "attention_decoder",
        "basic_rnn",
        "embedding_attention",
        "embedding_rnn",
        "embedding_tied_rnn",
        "model_with_buckets",
        "rnn_decoder",
        "tied_rnn",
    } | {"example_attention", "example_tied"}  # tests/test_seq2seq_example.py
    assert {p.stem.removeprefix("seq2seq_") for p in GOLDEN.glob("seq2seq_*.txt")} == tested


# The reference: TF 1.15's formulas, reading variables by name.


def lin(p, scope, args):
    """core_rnn_cell._Linear: concat(args) @ kernel + bias."""
    return jnp.concatenate(args, axis=1) @ p[f"{scope}/kernel"] + p[f"{scope}/bias"][None, :]


def gru(p, scope, x, h):
    xh = jnp.concatenate([x, h], axis=1)
    gates = jax.nn.sigmoid(xh @ p[f"{scope}/gates/kernel"] + p[f"{scope}/gates/bias"][None, :])
    r, u = gates[:, : h.shape[1]], gates[:, h.shape[1] :]
    xrh = jnp.concatenate([x, r * h], axis=1)
    c = jnp.tanh(xrh @ p[f"{scope}/candidate/kernel"] + p[f"{scope}/candidate/bias"][None, :])
    new = u * h + (1 - u) * c
    return new, new


def lstm(p, scope, x, state):
    c, h = state
    z = lin(p, scope, [x, h])
    n = h.shape[1]
    i, j, f, o = (z[:, k * n : (k + 1) * n] for k in range(4))
    c = c * jax.nn.sigmoid(f + 1.0) + jax.nn.sigmoid(i) * jnp.tanh(j)
    h = jnp.tanh(c) * jax.nn.sigmoid(o)
    return h, rnn_cell.LSTMStateTuple(c, h)


def projected(p, scope, cell, inner):
    """OutputProjectionWrapper(cell) in ``scope``."""

    def step(x, state):
        out, state = cell(p, f"{scope}/output_projection_wrapper/{inner}", x, state)
        return lin(p, f"{scope}/output_projection_wrapper", [out]), state

    return step


def ref_rnn_decoder(inputs, state, step, loop=None):
    outputs = []
    for i, x in enumerate(inputs):
        if loop is not None and i > 0:
            x = loop(outputs[-1], i)
        out, state = step(x, state)
        outputs.append(out)
    return outputs, state


def ref_attention_decoder(p, scope, inputs, state, memory, step, heads, loop=None, isa=False):
    batch, length, size = memory.shape
    keys = [
        (memory.reshape(batch * length, size) @ p[f"{scope}/AttnW_{a}"].reshape(size, size))
        for a in range(heads)
    ]

    def attend(query):
        query = jnp.concatenate(jax.tree.leaves(query), axis=1)
        reads = []
        for a in range(heads):
            u = lin(p, f"{scope}/Attention_{a}", [query])
            e = jnp.tanh(keys[a].reshape(batch, length, size) + u[:, None, :])
            logits = jnp.einsum("bls,s->bl", e, p[f"{scope}/AttnV_{a}"])
            reads.append(jnp.einsum("bl,bls->bs", jax.nn.softmax(logits, axis=1), memory))
        return reads

    attns = attend(state) if isa else [jnp.zeros((batch, size))] * heads
    outputs = []
    for i, x in enumerate(inputs):
        if loop is not None and i > 0:
            x = loop(outputs[-1], i)
        cell_out, state = step(lin(p, scope, [x, *attns]), state)
        attns = attend(state)
        outputs.append(lin(p, f"{scope}/AttnOutputProjection", [cell_out, *attns]))
    return outputs, state


def greedy(embedding, projection=None):
    def loop(prev, _):
        if projection is not None:
            prev = prev @ projection[0] + projection[1][None, :]
        return embedding[jnp.argmax(prev, axis=1)]

    return loop


def ref_encoder(p, scope, source, cell, inner, zero):
    embedding = p[f"{scope}/embedding_wrapper/embedding"]
    state, outputs = zero, []
    for x in source:
        out, state = cell(p, f"{scope}/embedding_wrapper/{inner}", embedding[x], state)
        outputs.append(out)
    return outputs, state


# Names.


def test_rnn_models_golden_names():
    xs = vecs(0, 3, 2)
    check_golden("rnn_decoder", lambda x: seq2seq.rnn_decoder(x, jnp.zeros((B, H)), gru_cell()), xs)
    lstm_cell = rnn_cell.BasicLSTMCell(H)
    check_golden("basic_rnn", lambda x, y: seq2seq.basic_rnn_seq2seq(x, y, lstm_cell), xs, xs[:2])
    check_golden("tied_rnn", lambda x, y: seq2seq.tied_rnn_seq2seq(x, y, gru_cell()), xs, xs[:2])


def gru_cell():
    return rnn_cell.GRUCell(H)


def test_embedding_models_golden_names():
    src, tgt = ids(0, 3, ENC), ids(1, 2, DEC)
    cell = rnn_cell.MultiRNNCell([rnn_cell.GRUCell(H), rnn_cell.GRUCell(H)])

    def embedding_rnn(x, y):
        return seq2seq.embedding_rnn_seq2seq(x, y, cell, ENC, DEC, 4)

    def embedding_tied(x, y):
        return seq2seq.embedding_tied_rnn_seq2seq(x, y, gru_cell(), ENC, 4, num_decoder_symbols=3)

    def embedding_attention(x, y):
        return seq2seq.embedding_attention_seq2seq(x, y, cell, ENC, DEC, 4, num_heads=2)

    check_golden("embedding_rnn", embedding_rnn, src, tgt)
    check_golden("embedding_tied_rnn", embedding_tied, src, tgt)
    check_golden("embedding_attention", embedding_attention, src, tgt)


def test_attention_decoder_golden_names_with_a_tuple_state():
    cell = rnn_cell.BasicLSTMCell(H)

    def decode(xs, memory):
        state = cell.zero_state(B, jnp.float32)
        return seq2seq.attention_decoder(xs, state, memory, cell, output_size=6, num_heads=2)

    check_golden("attention_decoder", decode, vecs(0, 2, 2), jnp.ones((B, 4, 5)))


def test_traced_feed_previous_builds_the_same_variables():
    src, tgt = ids(0, 3, ENC), ids(1, 2, DEC)
    for model in (seq2seq.embedding_attention_seq2seq, seq2seq.embedding_rnn_seq2seq):

        def fn(x, y, feed, model=model):
            return model(x, y, gru_cell(), ENC, DEC, 4, feed_previous=feed)

        assert names(fn, src, tgt, jnp.array(True)) == names(fn, src, tgt, False)

    def tied(x, y, feed):
        return seq2seq.embedding_tied_rnn_seq2seq(x, y, gru_cell(), ENC, 4, feed_previous=feed)

    assert names(tied, src, tgt, jnp.array(False)) == names(tied, src, tgt, True)


def test_model_with_buckets_shares_one_model_golden():
    src, tgt, w = ids(0, 4, ENC), ids(1, 3, DEC), list(jnp.ones((3, B)))
    cell = gru_cell()

    def model(x, y, w):
        def s2s(a, b):
            return seq2seq.embedding_attention_seq2seq(a, b, cell, ENC, DEC, 4)

        return seq2seq.model_with_buckets(x, y, y, w, [(2, 2), (4, 3)], s2s)

    def single(x, y):
        return seq2seq.embedding_attention_seq2seq(x, y, cell, ENC, DEC, 4)

    check_golden("model_with_buckets", model, src, tgt, w)
    assert names(model, src, tgt, w) == names(single, src, tgt)


# Math against the reference.


def run(fn, *args, seed=0):
    model = sx.transform(fn)
    params = random_params(model.init, *args, seed=seed)
    return sx.flatten(params), model.apply(params, *args)


@pytest.mark.parametrize("loop", [False, True])
def test_rnn_decoder(loop):
    xs, h0 = vecs(0, 3, H), jnp.asarray(np.random.RandomState(1).randn(B, H), jnp.float32)
    loop_fn = (lambda prev, i: jnp.tanh(prev) * i) if loop else None
    p, out = run(lambda x, h: seq2seq.rnn_decoder(x, h, gru_cell(), loop_fn), xs, h0)
    step = lambda x, h: gru(p, "rnn_decoder/gru_cell", x, h)  # noqa: E731
    close(out, ref_rnn_decoder(xs, h0, step, loop_fn))


def test_basic_rnn_seq2seq_has_two_cells():
    xs, ys = vecs(0, 3, 2), vecs(1, 2, 2)
    p, out = run(lambda x, y: seq2seq.basic_rnn_seq2seq(x, y, gru_cell()), xs, ys)
    h = jnp.zeros((B, H))
    for x in xs:
        h = gru(p, "basic_rnn_seq2seq/rnn/gru_cell", x, h)[1]
    step = lambda x, h: gru(p, "basic_rnn_seq2seq/rnn_decoder/gru_cell", x, h)  # noqa: E731
    close(out, ref_rnn_decoder(ys, h, step))


@pytest.mark.parametrize("loop", [False, True])
def test_tied_rnn_seq2seq_runs_one_cell_for_both(loop):
    xs, ys = vecs(0, 3, H), vecs(1, 3, H)
    loop_fn = (lambda prev, i: prev * 0.5) if loop else None
    p, out = run(lambda x, y: seq2seq.tied_rnn_seq2seq(x, y, gru_cell(), loop_fn), xs, ys)
    assert len(p) == 4  # one GRU: gates and candidate, kernel and bias
    scope = "combined_tied_rnn_seq2seq/tied_rnn_seq2seq/gru_cell"
    step = lambda x, h: gru(p, scope, x, h)  # noqa: E731
    _, h = ref_rnn_decoder(xs, jnp.zeros((B, H)), step)
    close(out, ref_rnn_decoder(ys, h, step, loop_fn))


@pytest.mark.parametrize("heads", [1, 2])
@pytest.mark.parametrize("isa", [False, True], ids=["zero_attns", "initial_state_attention"])
def test_attention_decoder(heads, isa):
    xs, memory = vecs(0, 3, 2), jnp.asarray(np.random.RandomState(1).randn(B, 4, 5), jnp.float32)
    cell = rnn_cell.GRUCell(H)
    h0 = jnp.asarray(np.random.RandomState(2).randn(B, H), jnp.float32)

    def fn(x, h, m):
        return seq2seq.attention_decoder(
            x, h, m, cell, num_heads=heads, initial_state_attention=isa, output_size=6
        )

    p, out = run(fn, xs, h0, memory)
    step = lambda x, h: gru(p, "attention_decoder/gru_cell", x, h)  # noqa: E731
    close(out, ref_attention_decoder(p, "attention_decoder", xs, h0, memory, step, heads, isa=isa))


def test_attention_decoder_queries_with_the_flattened_tuple_state_and_a_loop_function():
    cell = rnn_cell.BasicLSTMCell(H)
    xs, memory = vecs(0, 3, H), jnp.asarray(np.random.RandomState(1).randn(B, 4, 2), jnp.float32)
    loop_fn = lambda prev, i: jnp.tanh(prev) + i  # noqa: E731

    def fn(x, m):
        state = cell.zero_state(B, jnp.float32)
        return seq2seq.attention_decoder(x, state, m, cell, loop_function=loop_fn, scope="att")

    p, out = run(fn, xs, memory)
    step = lambda x, s: lstm(p, "att/basic_lstm_cell", x, s)  # noqa: E731
    zero = rnn_cell.LSTMStateTuple(jnp.zeros((B, H)), jnp.zeros((B, H)))
    close(out, ref_attention_decoder(p, "att", xs, zero, memory, step, 1, loop=loop_fn))


def ref_embedding_attention(p, src, tgt, feed, heads=1, isa=False, projection=None):
    top = "embedding_attention_seq2seq"
    enc, state = ref_encoder(p, f"{top}/rnn", src, gru, "gru_cell", jnp.zeros((B, H)))
    scope = f"{top}/embedding_attention_decoder"
    embedding = p[f"{scope}/embedding"]
    if projection is None:
        step = projected(p, f"{scope}/attention_decoder", gru, "gru_cell")
    else:
        step = lambda x, h: gru(p, f"{scope}/attention_decoder/gru_cell", x, h)  # noqa: E731
    return ref_attention_decoder(
        p,
        f"{scope}/attention_decoder",
        [embedding[y] for y in tgt],
        state,
        jnp.stack(enc, axis=1),
        step,
        heads,
        loop=greedy(embedding, projection) if feed else None,
        isa=isa,
    )


@pytest.mark.parametrize(
    "feed", [False, True, "traced_false", "traced_true"], ids=lambda f: f"feed_previous={f}"
)
def test_embedding_attention_seq2seq(feed):
    src, tgt = ids(0, 4, ENC), ids(1, 3, DEC)
    flag = {"traced_false": jnp.array(False), "traced_true": jnp.array(True)}.get(feed, feed)

    def fn(x, y):
        return seq2seq.embedding_attention_seq2seq(
            x, y, gru_cell(), ENC, DEC, 4, num_heads=2, feed_previous=flag
        )

    p, out = run(fn, src, tgt)
    close(out, ref_embedding_attention(p, src, tgt, feed in (True, "traced_true"), heads=2))


def test_embedding_attention_seq2seq_with_output_projection_and_initial_state_attention():
    src, tgt = ids(0, 3, ENC), ids(1, 3, DEC)
    rng = np.random.RandomState(3)
    w, b = jnp.asarray(rng.randn(H, DEC), jnp.float32), jnp.asarray(rng.randn(DEC), jnp.float32)

    def fn(x, y):
        return seq2seq.embedding_attention_seq2seq(
            x,
            y,
            gru_cell(),
            ENC,
            DEC,
            4,
            output_projection=(w, b),
            feed_previous=True,
            initial_state_attention=True,
        )

    p, out = run(fn, src, tgt)
    assert out[0][0].shape == (B, H)  # outputs are the cell's, projected only to feed back
    close(out, ref_embedding_attention(p, src, tgt, True, isa=True, projection=(w, b)))


@pytest.mark.parametrize("feed", [False, True])
def test_embedding_rnn_seq2seq(feed):
    src, tgt = ids(0, 3, ENC), ids(1, 3, DEC)
    p, out = run(
        lambda x, y: seq2seq.embedding_rnn_seq2seq(x, y, gru_cell(), ENC, DEC, 4, None, feed),
        src,
        tgt,
    )
    _, state = ref_encoder(p, "embedding_rnn_seq2seq/rnn", src, gru, "gru_cell", jnp.zeros((B, H)))
    scope = "embedding_rnn_seq2seq/embedding_rnn_decoder"
    embedding = p[f"{scope}/embedding"]
    step = projected(p, f"{scope}/rnn_decoder", gru, "gru_cell")
    loop = greedy(embedding) if feed else None
    close(out, ref_rnn_decoder([embedding[y] for y in tgt], state, step, loop))


@pytest.mark.parametrize("feed", [False, True])
def test_embedding_tied_rnn_seq2seq(feed):
    src, tgt = ids(0, 3, ENC), ids(1, 3, ENC)

    def fn(x, y):
        return seq2seq.embedding_tied_rnn_seq2seq(x, y, gru_cell(), ENC, 4, feed_previous=feed)

    p, out = run(fn, src, tgt)
    top = "embedding_tied_rnn_seq2seq"
    embedding = p[f"{top}/embedding"]
    step = projected(p, f"{top}/combined_tied_rnn_seq2seq/tied_rnn_seq2seq", gru, "gru_cell")
    _, state = ref_rnn_decoder([embedding[x] for x in src], jnp.zeros((B, H)), step)
    loop = greedy(embedding) if feed else None
    close(out, ref_rnn_decoder([embedding[y] for y in tgt], state, step, loop))


def test_traced_feed_previous_under_jit_and_its_gradient():
    src, tgt = ids(0, 2, ENC), ids(1, 2, DEC)

    def loss(x, y, feed):
        outputs, _ = seq2seq.embedding_attention_seq2seq(
            x, y, gru_cell(), ENC, DEC, 4, feed_previous=feed
        )
        return seq2seq.sequence_loss(outputs, y, [jnp.ones(B)] * 2)

    model = sx.transform(loss)
    params = random_params(model.init, src, tgt, jnp.array(True))
    jitted = jax.jit(model.apply)  # one compilation serves both values of the flag
    for flag in (False, True):
        expected = model.apply(params, src, tgt, flag)
        np.testing.assert_allclose(jitted(params, src, tgt, jnp.array(flag)), expected, rtol=1e-5)
    # TF builds both decoders with update_embedding_for_previous=False: fed-back embeddings
    # get no gradient, so only the GO symbols' rows of the decoder embedding learn.
    grads = jax.grad(model.apply)(params, src, tgt, jnp.array(True))
    row_norms = np.linalg.norm(
        grads["embedding_attention_seq2seq/embedding_attention_decoder/embedding"], axis=1
    )
    assert set(np.flatnonzero(row_norms)) == set(np.asarray(tgt[0]).tolist())


# Losses.


def test_sequence_losses_against_hand_written_cross_entropy():
    rng = np.random.RandomState(0)
    logits = list(jnp.asarray(rng.randn(3, B, 4), jnp.float32))
    targets = [jnp.asarray(t) for t in rng.randint(0, 4, (3, B))]
    weights = [jnp.ones(B), jnp.array([1.0, 0.0]), jnp.array([0.5, 0.0])]
    xent = np.stack(
        [-np.log(np.exp(z) / np.exp(z).sum(1, keepdims=True))[np.arange(B), t]
         for z, t in zip(map(np.asarray, logits), targets, strict=True)]
    )  # fmt: skip
    w = np.stack(weights)
    total = (xent * w).sum(0)
    per_symbol = total / (w.sum(0) + 1e-12)
    close(seq2seq.sequence_loss_by_example(logits, targets, weights), per_symbol)
    close(seq2seq.sequence_loss_by_example(logits, targets, weights, False), total)
    close(seq2seq.sequence_loss(logits, targets, weights), per_symbol.sum() / B)
    close(seq2seq.sequence_loss(logits, targets, weights, False, False), total.sum())

    def squared(*, labels, logits):
        return jnp.sum((jax.nn.one_hot(labels, 4) - logits) ** 2, axis=1)

    custom = seq2seq.sequence_loss_by_example(
        logits, targets, weights, softmax_loss_function=squared
    )
    expected = sum(
        ((np.eye(4)[t] - np.asarray(z)) ** 2).sum(1) * np.asarray(wt)
        for z, t, wt in zip(logits, targets, weights, strict=True)
    )
    close(custom, expected / (w.sum(0) + 1e-12))


def test_model_with_buckets_runs_each_bucket_on_the_shared_variables():
    src, tgt = ids(0, 4, ENC), ids(1, 3, DEC)
    weights = [jnp.ones(B), jnp.ones(B), jnp.array([1.0, 0.0])]
    cell = gru_cell()

    def s2s(x, y):
        return seq2seq.embedding_attention_seq2seq(x, y, cell, ENC, DEC, 4)

    def buckets(x, y, w, per_example):
        return seq2seq.model_with_buckets(x, y, y, w, [(2, 2), (4, 3)], s2s, None, per_example)

    model = sx.transform(lambda x, y, w: buckets(x, y, w, False))
    params = random_params(model.init, src, tgt, weights)
    outputs, losses = model.apply(params, src, tgt, weights)
    for (n_in, n_out), out, loss in zip([(2, 2), (4, 3)], outputs, losses, strict=True):
        expected = sx.transform(s2s).apply(params, src[:n_in], tgt[:n_out])[0]
        close(out, expected)
        close(loss, seq2seq.sequence_loss(expected, tgt[:n_out], weights[:n_out]))
    _, per_example = sx.transform(lambda x, y, w: buckets(x, y, w, True)).apply(
        params, src, tgt, weights
    )
    assert [loss.shape for loss in per_example] == [(B,), (B,)]


# Misuse.


def test_errors_name_the_argument_and_the_fix():
    cell = gru_cell()

    def s2s(x, y):
        return seq2seq.basic_rnn_seq2seq(x, y, cell)

    xs = jnp.ones((3, B, 2))

    def call(fn, *args):
        return jax.eval_shape(sx.transform(fn).init, KEY, *args)

    with pytest.raises(TypeError, match=r"decoder_inputs as a list .* pass list\(x\)"):
        call(lambda x: seq2seq.rnn_decoder(x, jnp.zeros((B, H)), cell), xs)
    with pytest.raises(ValueError, match="num_heads=0; pass num_heads >= 1"):
        call(lambda x: seq2seq.attention_decoder(list(x), jnp.zeros((B, H)), x, cell, 1, 0), xs)
    with pytest.raises(ValueError, match=r"attention_states of shape \(2, 2\)"):
        call(lambda x: seq2seq.attention_decoder(list(x), jnp.zeros((B, H)), x[0], cell), xs)
    src = ids(0, 2, ENC)
    with pytest.raises(ValueError, match=r"feed_previous of shape \(2,\)"):
        call(
            lambda x: seq2seq.embedding_rnn_seq2seq(x, x, cell, ENC, ENC, 2, None, jnp.ones(2)),
            src,
        )
    with pytest.raises(TypeError, match="feed_previous as a Python bool"):
        call(
            lambda x: seq2seq.embedding_rnn_decoder(
                x,
                jnp.zeros((B, H)),
                cell,
                ENC,
                2,
                feed_previous=jnp.array(True),  # type: ignore
            ),
            src,
        )
    with pytest.raises(ValueError, match=r"projection W of shape \(3, 4\).*\[output_size, 5\]"):
        call(
            lambda x: seq2seq.embedding_attention_seq2seq(
                x, x, cell, ENC, ENC, 2, output_projection=(jnp.ones((H, 4)), jnp.ones(4))
            ),
            src,
        )
    with pytest.raises(ValueError, match="got 3 logits, 2 targets and 3 weights"):
        seq2seq.sequence_loss([xs[0]] * 3, src, [jnp.ones(B)] * 3)
    with pytest.raises(ValueError, match=r"got 2 encoder_inputs; the last bucket \(3, 2\)"):
        call(lambda x: seq2seq.model_with_buckets(x, x, x, x, [(3, 2)], s2s), src)
