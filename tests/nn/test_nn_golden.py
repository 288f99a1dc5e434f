"""Golden files: the full name, shape and dtype of every variable of each cell
configuration and each example model, checked in under tests/nn/golden/. TF1's names
are part of scopax.nn's contract, so a change here must be deliberate:

    SCOPAX_REGEN_GOLDEN=1 .venv/bin/python -m pytest tests/nn/test_nn_golden.py

rewrites the files (review the diff before committing it)."""

import os
from pathlib import Path

import jax
import jax.numpy as jnp
import pytest
from nn_testing import Fixture, describe, fixtures, rnn_args, rnn_model

import scopax as sx
from scopax import layers, nn
from scopax.contrib import layers as contrib_layers
from scopax.contrib import rnn as contrib_rnn
from scopax.nn import rnn_cell

GOLDEN = Path(__file__).resolve().parent / "golden"
REGEN = os.environ.get("SCOPAX_REGEN_GOLDEN") == "1"


def cnn_classifier(images, labels, training):
    x = layers.conv2d(images, 8, 5, padding="same", activation=jax.nn.relu)
    x = nn.max_pool(x, [1, 3, 3, 1], [1, 2, 2, 1], "SAME")
    x = nn.local_response_normalization(x, 4, bias=1.0, alpha=0.001 / 9.0, beta=0.75)
    x = layers.conv2d(x, 8, 5, padding="same", use_bias=False)
    x = jax.nn.relu(layers.batch_normalization(x, training=training))
    x = nn.avg_pool(x, 2, 2, "VALID")
    x = jnp.reshape(x, (x.shape[0], -1))
    x = layers.dropout(layers.dense(x, 16, activation=jax.nn.relu), 0.5, training=training)
    logits = layers.dense(x, 10, name="logits")
    return jnp.mean(nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))


def lstm_language_model(ids):
    with sx.variable_scope("lm"):
        embedding = sx.get_variable("embedding", [50, 8])
        inputs = nn.embedding_lookup(embedding, ids[:, :-1])
        cells = [rnn_cell.DropoutWrapper(rnn_cell.BasicLSTMCell(8)) for _ in range(2)]
        outputs, _ = nn.dynamic_rnn(rnn_cell.MultiRNNCell(cells), inputs, dtype=jnp.float32)
        logits = layers.dense(outputs, 50, name="softmax")
    return nn.sparse_softmax_cross_entropy_with_logits(labels=ids[:, 1:], logits=logits).mean()


def seq2seq(source, target):
    with sx.variable_scope("seq2seq"):
        with sx.variable_scope("encoder"):
            encoder = contrib_rnn.EmbeddingWrapper(rnn_cell.GRUCell(6), 20, 4)
            _, state = nn.static_rnn(encoder, list(source), dtype=jnp.float32)
        with sx.variable_scope("decoder"):
            decoder = contrib_rnn.OutputProjectionWrapper(
                contrib_rnn.InputProjectionWrapper(rnn_cell.GRUCell(6), 4), 20
            )
            embedded = nn.embedding_lookup(sx.get_variable("embedding", [20, 5]), target)
            logits, _ = nn.dynamic_rnn(decoder, embedded, initial_state=state, time_major=True)
    return logits


def mlp(x):
    x = contrib_layers.fully_connected(x, 16)
    x = contrib_layers.fully_connected(
        x, 16, normalizer_fn=layers.batch_normalization, scope="hidden"
    )
    return contrib_layers.fully_connected(x, 3, activation_fn=None, scope="out")


def rnn_cell_zoo(xs):
    cells = {
        "basic_rnn": rnn_cell.BasicRNNCell(4),
        "gru": rnn_cell.GRUCell(4),
        "basic_lstm": rnn_cell.BasicLSTMCell(4),
        "basic_lstm_concat": rnn_cell.BasicLSTMCell(4, state_is_tuple=False),
        "lstm": rnn_cell.LSTMCell(4),
        "lstm_peepholes_proj": rnn_cell.LSTMCell(4, use_peepholes=True, num_proj=2),
        "multi": rnn_cell.MultiRNNCell([rnn_cell.GRUCell(3), rnn_cell.LSTMCell(2)]),
        "dropout": rnn_cell.DropoutWrapper(rnn_cell.GRUCell(4)),
        "residual": rnn_cell.ResidualWrapper(rnn_cell.GRUCell(3)),
        "input_projection": contrib_rnn.InputProjectionWrapper(rnn_cell.GRUCell(4), 2),
        "output_projection": contrib_rnn.OutputProjectionWrapper(rnn_cell.GRUCell(4), 2),
    }
    for name, cell in cells.items():
        nn.dynamic_rnn(cell, xs, dtype=jnp.float32, scope=name)
    ids = jnp.zeros(xs.shape[:2], jnp.int32)
    embedding = contrib_rnn.EmbeddingWrapper(rnn_cell.GRUCell(4), 10, 3)
    nn.dynamic_rnn(embedding, ids, dtype=jnp.float32, scope="embedding")


EXAMPLES = {
    "cnn_classifier": (
        sx.transform_with_state(cnn_classifier),
        (jnp.ones((2, 16, 16, 3)), jnp.zeros(2, jnp.int32), True),
    ),
    "lstm_language_model": (sx.transform(lstm_language_model), (jnp.zeros((2, 6), jnp.int32),)),
    "seq2seq": (
        sx.transform(seq2seq),
        (jnp.zeros((5, 2), jnp.int32), jnp.zeros((4, 2), jnp.int32)),
    ),
    "mlp": (sx.transform_with_state(mlp), (jnp.ones((2, 5)),)),
    "rnn_cell_zoo": (sx.transform(rnn_cell_zoo), (jnp.ones((2, 3, 3)),)),
}


def golden_text(init, args) -> str:
    trees = jax.eval_shape(init, jax.random.key(0), *args)
    if isinstance(trees, tuple):
        params, state = trees
        lines = [*describe(params), "# state (trainable=False)", *describe(state)]
    else:
        lines = describe(trees)
    return "\n".join(lines) + "\n"


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / f"{name}.txt"
    if REGEN:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"No golden file {path}; run with SCOPAX_REGEN_GOLDEN=1 to write it."
    expected = path.read_text()
    assert text == expected, (
        f"The variables of {name} changed (ours first, then {path.name}). If the change is "
        "deliberate, rerun with SCOPAX_REGEN_GOLDEN=1 and review the diff.\n"
        f"{text}\n---\n{expected}"
    )


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_model_golden(name):
    model, args = EXAMPLES[name]
    check_golden(name, golden_text(model.init, args))


@pytest.mark.parametrize("path", fixtures("tf_rnn"), ids=lambda p: p.stem)
def test_rnn_cell_golden(path):
    fixture = Fixture(path)
    check_golden(
        f"rnn_{fixture.name}", golden_text(rnn_model(fixture.spec).init, rnn_args(fixture))
    )


def test_every_golden_file_is_tested():
    # cifar10.txt is checked by tests/test_cifar10.py, seq2seq_*.txt by test_seq2seq*.py.
    elsewhere = {p.stem for p in GOLDEN.glob("seq2seq_*.txt")} | {"cifar10"}
    tested = {f"rnn_{p.stem}" for p in fixtures("tf_rnn")} | set(EXAMPLES) | elsewhere
    assert {p.stem for p in GOLDEN.glob("*.txt")} == tested
