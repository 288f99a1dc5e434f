"""The word-level LSTM language model of TF's PTB tutorial (``ptb_word_lm.py``), on scopax.

The model is written as TF1 writes it: a ``PTBModel`` built inside
``variable_scope("Model", initializer=random_uniform(-init_scale, init_scale))``. The
training model is built with ``reuse=None`` and creates the variables; the validation
and test models are built with ``reuse=True`` (the test model with ``batch_size=1`` and
``num_steps=1``). In TF1 the three were built in one graph; here each is its own
``sx.transform``, run with ``apply`` on the training model's parameter tree, under the
tutorial's variable names:

========================================================  ========================
variable                                                  shape
========================================================  ========================
Model/embedding                                           [vocab, hidden]
Model/RNN/multi_rnn_cell/cell_{i}/basic_lstm_cell/kernel  [2 * hidden, 4 * hidden]
Model/RNN/multi_rnn_cell/cell_{i}/basic_lstm_cell/bias    [4 * hidden]
Model/softmax_w                                           [hidden, vocab]
Model/softmax_b                                           [vocab]
========================================================  ========================

The tutorial unrolled the LSTM in a Python loop over ``num_steps`` in scope ``RNN``;
``dynamic_rnn(..., scope="RNN")`` names the variables the same way and compiles one loop
(tests/test_ptb_example.py runs this model on TF's checkpoint of the unrolled one and
gets TF's costs).

>>> import jax, jax.numpy as jnp, scopax as sx
>>> from examples.ptb import model
>>> config = model.CONFIGS["test"]
>>> train_net = model.build(config, is_training=True)
>>> x = jnp.zeros((config.batch_size, config.num_steps), jnp.int32)
>>> params = train_net.init(jax.random.key(0), x, x, model.zero_state(config))
>>> sorted(sx.flatten(params))[-2:]
['Model/softmax_b', 'Model/softmax_w']
>>> test_net = model.build(config, is_training=False)  # batch_size=1, num_steps=1
>>> cost, state = test_net.apply(params, x[:1, :1], x[:1, :1], model.zero_state(config, 1))
>>> state[0].h.shape
(1, 2)
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp

import scopax as sx
from scopax import nn
from scopax.contrib import seq2seq
from scopax.nn import rnn_cell


@dataclasses.dataclass(frozen=True)
class Config:
    """The tutorial's hyperparameters (its ``SmallConfig``, ``MediumConfig``...)."""

    init_scale: float
    learning_rate: float
    max_grad_norm: float
    num_layers: int
    num_steps: int
    hidden_size: int
    max_epoch: int  # Epochs at the initial learning rate.
    max_max_epoch: int  # Epochs in all.
    keep_prob: float
    lr_decay: float
    batch_size: int
    vocab_size: int


CONFIGS = {
    "small": Config(0.1, 1.0, 5.0, 2, 20, 200, 4, 13, 1.0, 0.5, 20, 10000),
    "medium": Config(0.05, 1.0, 5.0, 2, 35, 650, 6, 39, 0.5, 0.8, 20, 10000),
    "large": Config(0.04, 1.0, 10.0, 2, 35, 1500, 14, 55, 0.35, 1 / 1.15, 20, 10000),
    "test": Config(0.1, 1.0, 1.0, 1, 2, 2, 1, 1, 1.0, 0.5, 20, 10000),
}

State = tuple[rnn_cell.LSTMStateTuple, ...]


def zero_state(config: Config, batch_size: int | None = None) -> State:
    """The LSTM state before the first word: zeros ``(c, h)`` for each layer."""
    batch = config.batch_size if batch_size is None else batch_size
    zeros = jnp.zeros((batch, config.hidden_size), jnp.float32)
    return tuple(rnn_cell.LSTMStateTuple(zeros, zeros) for _ in range(config.num_layers))


class PTBModel:
    """The tutorial's ``PTBModel``: the summed cost of one chunk and the state after it.

    Built inside a transformed function, under ``variable_scope("Model")``.

    Args:
      is_training: adds dropout (if ``config.keep_prob < 1``; masks from the ``rng`` of
        ``apply``) and creates the variables; the other models reuse them.
      config: the hyperparameters.
      input_data, targets: word ids ``int32 [batch_size, num_steps]``.
      initial_state: the previous chunk's final state (TF fed it into the zero state).
    """

    def __init__(
        self,
        is_training: bool,
        config: Config,
        input_data: Any,
        targets: Any,
        initial_state: State,
    ):
        batch_size, num_steps = input_data.shape
        size, vocab_size = config.hidden_size, config.vocab_size
        dropout = is_training and config.keep_prob < 1

        embedding = sx.get_variable("embedding", [vocab_size, size], jnp.float32)
        inputs = nn.embedding_lookup(embedding, input_data)
        if dropout:
            inputs = nn.dropout(inputs, config.keep_prob)

        def make_cell() -> rnn_cell.RNNCell:
            # reuse=True: the eval models enter the training model's cell scopes as named.
            cell = rnn_cell.BasicLSTMCell(size, forget_bias=0.0, reuse=not is_training)
            if dropout:
                cell = rnn_cell.DropoutWrapper(cell, output_keep_prob=config.keep_prob)
            return cell

        cell = rnn_cell.MultiRNNCell([make_cell() for _ in range(config.num_layers)])
        outputs, state = nn.dynamic_rnn(cell, inputs, initial_state=initial_state, scope="RNN")
        output = jnp.reshape(outputs, [-1, size])
        softmax_w = sx.get_variable("softmax_w", [size, vocab_size], jnp.float32)
        softmax_b = sx.get_variable("softmax_b", [vocab_size], jnp.float32)
        logits = nn.xw_plus_b(output, softmax_w, softmax_b)
        logits = jnp.reshape(logits, [batch_size, num_steps, vocab_size])
        # The loss of each time step, averaged over the batch; the cost is their sum.
        loss = seq2seq.sequence_loss(
            logits,
            targets,
            jnp.ones([batch_size, num_steps], jnp.float32),
            average_across_timesteps=False,
            average_across_batch=True,
        )
        self.cost: jax.Array = jnp.sum(loss)
        self.final_state: State = state


def build(config: Config, is_training: bool) -> sx.Transformed:
    """``f(input_data, targets, initial_state) -> (cost, final_state)`` as a transform.

    The training model (``reuse=None``) creates the variables with ``init``; the others
    are built with ``reuse=True``, as TF1 built them after it, so their ``init`` raises
    and their ``apply`` reads the training model's tree. The shapes of the inputs are
    the model's ``batch_size`` and ``num_steps``, as the placeholders' were in TF1.
    """
    initializer = sx.random_uniform_initializer(-config.init_scale, config.init_scale)
    reuse = None if is_training else True

    def model(input_data: Any, targets: Any, initial_state: State) -> tuple[jax.Array, State]:
        with sx.variable_scope("Model", reuse=reuse, initializer=initializer):
            m = PTBModel(is_training, config, input_data, targets, initial_state)
        return m.cost, m.final_state

    return sx.transform(model)
