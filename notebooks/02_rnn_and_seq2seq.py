# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # RNN cells shared over time, and a small attention seq2seq
#
# Recurrent networks are where TF1's variable sharing earned its keep: one cell, one set
# of variables, called at every time step. This notebook
#
# 1. runs one `scopax.nn.rnn_cell` cell over time three ways (by hand, `static_rnn`,
#    `dynamic_rnn`) on one parameter tree;
# 2. trains TF 1's `embedding_attention_seq2seq` (`scopax.contrib.legacy_seq2seq`) to
#    reverse digit strings, reusing `examples/seq2seq/train.py`;
# 3. decodes greedily and draws the attention weights as a heat map.
#
# With `SCOPAX_SMOKE=1` in the environment (the test run sets it) it trains fewer steps.

# %%
import os
import pathlib
import sys

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax
from tqdm.auto import tqdm

import scopax as sx
from scopax import nn
from scopax.contrib import legacy_seq2seq as seq2seq
from scopax.contrib import rnn as contrib_rnn
from scopax.nn import rnn_cell

SMOKE = os.environ.get("SCOPAX_SMOKE", "0") not in ("", "0")

# The repository root, wherever Jupyter (or nbmake) starts this notebook.
ROOT = pathlib.Path.cwd().resolve()
while not (ROOT / "pyproject.toml").is_file() or not (ROOT / "src" / "scopax").is_dir():
    if ROOT.parent == ROOT:
        raise FileNotFoundError("run this notebook from inside the scopax repository")
    ROOT = ROOT.parent
sys.path.insert(0, str(ROOT))

from examples.seq2seq import train as s2s  # noqa: E402

key = jax.random.key(0)

# %% [markdown]
# ## One cell, every time step
#
# A cell is a small configuration object; its variables come from `sx.get_variable`
# when it is called. Its first call in a trace opens a scope named after it (`gru_cell`)
# and creates them; every later call of the same object reuses them. So a Python loop
# over time already shares one set of variables:

# %%
gru = rnn_cell.GRUCell(4)


def by_hand(x):  # x: [batch, time, depth]
    state = gru.zero_state(x.shape[0], jnp.float32)
    outputs = []
    for t in range(x.shape[1]):
        output, state = gru(x[:, t], state)
        outputs.append(output)
    return jnp.stack(outputs, axis=1), state


x = jax.random.normal(key, (2, 6, 3))
hand = sx.transform(by_hand)
gru_params = hand.init(key, x)
{name: v.shape for name, v in sx.flatten(gru_params).items()}

# %% [markdown]
# Six steps, four variables. `static_rnn` is TF's version of that loop (it calls
# `reuse_variables()` after the first step), and `dynamic_rnn` runs the cell in one
# compiled `scan`. Both work in the scope `rnn`, so they name the variables the same way
# and run on one parameter tree. Here a GRU and an LSTM are stacked with `MultiRNNCell`,
# the tree is built by `dynamic_rnn`, and `static_rnn` runs on it unchanged:

# %%
cell = rnn_cell.MultiRNNCell([rnn_cell.GRUCell(4), rnn_cell.BasicLSTMCell(3)])


def dynamic(x, lengths):
    return nn.dynamic_rnn(cell, x, sequence_length=lengths, dtype=jnp.float32)


def static(x, lengths):
    steps = list(jnp.swapaxes(x, 0, 1))  # a list of [batch, depth] arrays, one per step
    outputs, state = nn.static_rnn(cell, steps, sequence_length=lengths, dtype=jnp.float32)
    return jnp.stack(outputs, axis=1), state


lengths = jnp.array([6, 4])
rnn_params = jax.jit(sx.transform(dynamic).init)(key, x, lengths)
print(sx.summary(rnn_params))

out_d, state_d = jax.jit(sx.transform(dynamic).apply)(rnn_params, x, lengths)
out_s, state_s = jax.jit(sx.transform(static).apply)(rnn_params, x, lengths)
print("static_rnn == dynamic_rnn:", bool(jnp.allclose(out_d, out_s, atol=1e-6)))
print("final LSTM state equal:", bool(jnp.allclose(state_d[1].h, state_s[1].h, atol=1e-6)))
print("past the second example's length the outputs are zero:", out_d[1, 4:].tolist())

# %% [markdown]
# The difference is in the program: `static_rnn` unrolls six copies of the cell,
# `dynamic_rnn` compiles one loop body. Counting the matrix products in each jaxpr:


# %%
def count_dots(fn, *args):
    return str(jax.make_jaxpr(fn)(*args)).count("dot_general")


print("static_rnn: ", count_dots(sx.transform(static).apply, rnn_params, x, lengths))
print("dynamic_rnn:", count_dots(sx.transform(dynamic).apply, rnn_params, x, lengths))

# %% [markdown]
# ## A small attention seq2seq: reversing digit strings
#
# `examples/seq2seq/train.py` builds TF 1's `embedding_attention_seq2seq` on a GRU and
# makes batches of digit strings and their reversals, time-major, with TF's GO, EOS and
# padding conventions. We reuse its `make_batch` and `build_model` and write the
# training loop here, with a progress bar.

# %%
HIDDEN, EMBEDDING, MIN_LEN, MAX_LEN, BATCH = 64, 16, 5, 8, 64
STEPS = 200 if SMOKE else 800

rng = np.random.RandomState(0)
model = s2s.build_model("attention", HIDDEN, EMBEDDING)  # logits(source, decoder_inputs, feed)
source, decoder_inputs, targets, weights = s2s.make_batch(rng, 2, MIN_LEN, MAX_LEN)
print("source [time, batch]:\n", source)
print("decoder inputs (GO=1, then the targets shifted by one):\n", decoder_inputs)
print("targets (EOS=2, PAD=0):\n", targets)
print("weights:\n", weights)

# %% [markdown]
# One compiled `init` (rather than one small program per initializer), and the variable
# names TF 1.15 would give, with `depth=` folding the deeper scopes:

# %%
init = jax.jit(lambda key, src, dec: model.init(key, src, dec, False))
params = init(key, source, decoder_inputs)
sx.summary(params, depth=4)

# %%
optimizer = optax.chain(optax.clip_by_global_norm(5.0), optax.adam(3e-3))
opt_state = optimizer.init(params)


def loss_fn(params, batch):
    source, decoder_inputs, targets, weights = batch
    logits = model.apply(params, source, decoder_inputs, False)  # teacher forcing
    return seq2seq.sequence_loss(logits, list(targets), list(weights))


@jax.jit
def train_step(params, opt_state, batch):
    loss, grads = jax.value_and_grad(loss_fn)(params, batch)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss


@jax.jit
def greedy(params, source, decoder_inputs):
    # feed_previous=True: the decoder feeds back its own most likely symbol.
    return jnp.stack(model.apply(params, source, decoder_inputs, True))


eval_set = s2s.make_batch(np.random.RandomState(1), 500, MIN_LEN, MAX_LEN)


def evaluate(params):
    source, decoder_inputs, targets, weights = eval_set
    return float(s2s.sequence_accuracy(greedy(params, source, decoder_inputs), targets, weights))


losses, accuracies = [], []
for step in tqdm(range(1, STEPS + 1), desc="train"):
    batch = s2s.make_batch(rng, BATCH, MIN_LEN, MAX_LEN)
    params, opt_state, loss = train_step(params, opt_state, batch)
    losses.append(float(loss))
    if step % 50 == 0 or step == STEPS:
        accuracies.append((step, evaluate(params)))
print(f"greedy sequence accuracy after {STEPS} steps: {accuracies[-1][1]:.1%}")

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3))
ax1.plot(range(1, STEPS + 1), losses)
ax1.set(xlabel="step", ylabel="sequence loss", yscale="log", title="training loss")
ax2.plot(*zip(*accuracies, strict=True), marker="o")
ax2.set(xlabel="step", ylabel="accuracy", ylim=(0, 1.05), title="greedy sequence accuracy")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Greedy decoding
#
# The same parameters decode with `feed_previous=True`: the decoder reads only GO and
# then feeds back the embedding of each step's most likely symbol.


# %%
def to_string(symbols):
    out = []
    for s in symbols:
        if s == s2s.EOS:
            break
        out.append(str(s - s2s.FIRST_DIGIT) if s >= s2s.FIRST_DIGIT else "?")
    return "".join(out)


demo = s2s.make_batch(np.random.RandomState(2), 6, MIN_LEN, MAX_LEN)
predicted = np.asarray(jnp.argmax(greedy(params, demo[0], demo[1]), axis=-1))
for b in range(predicted.shape[1]):
    string = to_string(s for s in demo[0][:, b] if s != s2s.PAD)
    answer = to_string(predicted[:, b])
    print(f"{string:>8} -> {answer:<8} {'ok' if answer == string[::-1] else 'wrong'}")

# %% [markdown]
# ## Where the decoder looks: attention weights
#
# `attention_decoder` follows TF 1's API, which returns only the outputs and the final
# state: the attention weights stay inside. We compute them here from the trained
# parameters with a small hand-written read of the attention, the formula in
# `attention_decoder`'s docstring:
#
# $$a_{i,t} = \mathrm{softmax}_t\big(V \cdot \tanh(W h_t + U s_i + b)\big)$$
#
# with `AttnW_0` ($W$, a 1×1 convolution kernel in TF), `AttnV_0` ($V$) and
# `Attention_0/kernel`, `/bias` ($U$, $b$); $h_t$ are the encoder's outputs and $s_i$
# the decoder cell's state after step $i$. Two things are needed that the model does
# not return:
#
# - **The decoder's states.** A `GRUCell` subclass records each state it computes; the
#   model is built with it *inside* the transformed function, so every trace gets a
#   fresh record. Named `gru_cell`, it reads the trained variables under their names.
# - **The encoder's outputs.** The encoder is a copy of the cell in an `EmbeddingWrapper`
#   under `embedding_attention_seq2seq/rnn`. We run just that piece on the *same*
#   parameter tree: the names are the contract, so a part of a model can run on its own.


# %%
class RecordingGRUCell(rnn_cell.GRUCell):
    """A GRUCell that keeps every new state it computes."""

    def __init__(self, num_units):
        super().__init__(num_units, name="gru_cell")
        self.states = []

    def call(self, inputs, state):
        output, state = super().call(inputs, state)
        self.states.append(state)
        return output, state


def greedy_with_states(source, decoder_inputs):
    cell = RecordingGRUCell(HIDDEN)
    outputs, _ = seq2seq.embedding_attention_seq2seq(
        list(source),
        list(decoder_inputs),
        cell,
        num_encoder_symbols=s2s.VOCAB,
        num_decoder_symbols=s2s.VOCAB,
        embedding_size=EMBEDDING,
        feed_previous=True,
    )
    # The encoder ran a deep copy of `cell`; `cell.states` holds the decoder's steps.
    return jnp.stack(outputs), jnp.stack(cell.states)


def encoder_outputs(source):
    with sx.variable_scope("embedding_attention_seq2seq"):
        encoder = contrib_rnn.EmbeddingWrapper(rnn_cell.GRUCell(HIDDEN), s2s.VOCAB, EMBEDDING)
        outputs, _ = nn.static_rnn(encoder, list(source), dtype=jnp.float32)
    return jnp.stack(outputs, axis=1)  # [batch, time, HIDDEN]: the attention states


logits, states = jax.jit(sx.transform(greedy_with_states).apply)(params, demo[0], demo[1])
hidden = jax.jit(sx.transform(encoder_outputs).apply)(params, demo[0])
same = bool((jnp.argmax(logits, axis=-1) == predicted).all())
print("the recording model decodes as before:", same)

# %%
p = sx.flatten(params)
scope = "embedding_attention_seq2seq/embedding_attention_decoder/attention_decoder/"
W, V = p[scope + "AttnW_0"][0, 0], p[scope + "AttnV_0"]
U, b = p[scope + "Attention_0/kernel"], p[scope + "Attention_0/bias"]

features = jnp.einsum("bts,sv->btv", hidden, W)  # W h_t: [batch, enc_time, attn]
query = states @ U + b  # U s_i + b: [dec_time, batch, attn]
scores = jnp.einsum("v,ibtv->ibt", V, jnp.tanh(features[None] + query[:, :, None, :]))
attention = jax.nn.softmax(scores, axis=-1)
print("attention weights [decoder step, batch, input position]:", attention.shape)

# %% [markdown]
# A check that these are the weights the model used: the decoder's output at step $i$
# is `AttnOutputProjection` of the cell's output (the GRU state through the
# `OutputProjectionWrapper`) and the attention read $\sum_t a_{i,t} h_t$. Rebuilt from
# our weights, it matches the model's logits:

# %%
proj = scope + "output_projection_wrapper/"
cell_output = states @ p[proj + "kernel"] + p[proj + "bias"]
reads = jnp.einsum("ibt,bts->ibs", attention, hidden)
out_k, out_b = p[scope + "AttnOutputProjection/kernel"], p[scope + "AttnOutputProjection/bias"]
rebuilt = jnp.concatenate([cell_output, reads], axis=-1) @ out_k + out_b
print("max |rebuilt - model logits|:", float(jnp.max(jnp.abs(rebuilt - logits))))

# %% [markdown]
# Each row is one output symbol, each column one input position. Reversing a string,
# the decoder reads the input back to front: the bright anti-diagonal. Padding columns
# (`·`) get almost no weight.

# %%
fig, axes = plt.subplots(1, 3, figsize=(12, 4))
for b, ax in enumerate(axes):
    length = int((demo[0][:, b] != s2s.PAD).sum())
    answer = to_string(predicted[:, b])
    rows = len(answer) + 1  # the answer and EOS
    ax.imshow(np.asarray(attention[:rows, b]), cmap="viridis", vmin=0, vmax=1)
    inputs = [str(s - s2s.FIRST_DIGIT) if s >= s2s.FIRST_DIGIT else "·" for s in demo[0][:, b]]
    ax.set_xticks(range(MAX_LEN), inputs)
    ax.set_yticks(range(rows), [*answer, "EOS"])
    ax.set(xlabel="input", ylabel="output", title=f"{length} digits")
fig.tight_layout()
plt.show()
