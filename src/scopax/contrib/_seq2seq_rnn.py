"""``legacy_seq2seq``'s plain RNN models, ``rnn_decoder``, ``basic_rnn_seq2seq`` and
``tied_rnn_seq2seq``, and the helpers every seq2seq model shares.

Like TF 1.15's module, every model takes Python lists with one ``[batch_size, ...]``
array per time step and unrolls its loops in Python, calling
``reuse_variables()`` after the first step.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import scopax as sx
from scopax.errors import NNArgumentError
from scopax.nn._embedding import embedding_lookup
from scopax.nn._rnn import static_rnn

LoopFunction = Callable[[jax.Array, int], jax.Array]


def check_steps(steps: Any, argument: str, fn: str) -> list[Any]:
    """``steps`` as a list, or a ``TypeError`` that says how to make one."""
    if isinstance(steps, jax.Array | np.ndarray) or not isinstance(steps, list | tuple):
        raise TypeError(
            f"{fn} takes {argument} as a list with one array per time step (TF's "
            f"legacy_seq2seq API), got {type(steps).__name__}; pass list(x) for a "
            "time-major array x."
        )
    return list(steps)


def linear(args: list[jax.Array], output_size: int) -> jax.Array:
    """TF's ``core_rnn_cell._Linear(args, output_size, True)``: ``concat(args) @ kernel +
    bias``, with ``kernel`` (the scope's initializer) and ``bias`` (zeros) created in the
    current scope."""
    dtype = args[0].dtype
    depth = sum(int(np.shape(a)[1]) for a in args)
    kernel = sx.get_variable("kernel", [depth, output_size], dtype)
    bias = sx.get_variable("bias", [output_size], dtype, initializer=sx.zeros_initializer())
    inputs = args[0] if len(args) == 1 else jnp.concatenate(args, axis=1)
    return inputs @ kernel + bias[None, :]


def check_output_projection(
    output_projection: Any, num_symbols: int, fn: str
) -> tuple[jax.Array, jax.Array] | None:
    """``(W, B)`` as arrays, checked against ``[output_size, num_symbols]`` and
    ``[num_symbols]`` as TF does."""
    if output_projection is None:
        return None
    if not isinstance(output_projection, list | tuple) or len(output_projection) != 2:
        raise TypeError(
            f"{fn} got output_projection={output_projection!r}; pass None or a pair (W, B) "
            f"with W of shape [output_size, {num_symbols}] and B of shape [{num_symbols}]."
        )
    weights, biases = output_projection
    if np.ndim(weights) != 2 or np.shape(weights)[1] != num_symbols:
        raise NNArgumentError(
            f"{fn} got output_projection W of shape {np.shape(weights)}; it must be "
            f"[output_size, {num_symbols}] (num_symbols={num_symbols})."
        )
    if np.shape(biases) != (num_symbols,):
        raise NNArgumentError(
            f"{fn} got output_projection B of shape {np.shape(biases)}; it must be "
            f"[{num_symbols}] (num_symbols={num_symbols})."
        )
    return jnp.asarray(weights), jnp.asarray(biases)


def extract_argmax_and_embed(
    embedding: jax.Array,
    output_projection: tuple[jax.Array, jax.Array] | None = None,
    update_embedding: bool = True,
) -> LoopFunction:
    """TF's ``_extract_argmax_and_embed``: a ``loop_function`` that feeds back the
    embedding of the previous step's most likely symbol (greedy decoding)."""

    def loop_function(prev: jax.Array, _: int) -> jax.Array:
        if output_projection is not None:
            prev = prev @ output_projection[0] + output_projection[1][None, :]
        emb_prev = embedding_lookup(embedding, jnp.argmax(prev, axis=1))
        return emb_prev if update_embedding else jax.lax.stop_gradient(emb_prev)

    return loop_function


def is_python_bool(feed_previous: Any) -> bool:
    return isinstance(feed_previous, bool | np.bool_)


def check_bool(feed_previous: Any, fn: str) -> bool:
    if not is_python_bool(feed_previous):
        raise TypeError(
            f"{fn} takes feed_previous as a Python bool, got {feed_previous!r}; to choose at "
            "run time, pass a boolean array to the seq2seq model instead (e.g. "
            "embedding_attention_seq2seq), which builds both decoders."
        )
    return bool(feed_previous)


def select_decoder(feed_previous: Any, decode: Callable[[bool], Any], fn: str) -> Any:
    """TF's ``tf.cond(feed_previous, lambda: decoder(True), lambda: decoder(False))``.

    As in TF, the ``True`` decoder is built first and creates the variables, the
    ``False`` one reuses them; both run and the prediction picks one result.
    """
    pred = jnp.asarray(feed_previous)
    if pred.shape != () or pred.dtype != jnp.bool_:
        raise NNArgumentError(
            f"{fn} got feed_previous of shape {pred.shape} and dtype {pred.dtype}; pass a "
            "Python bool, or a scalar boolean array to choose at run time."
        )
    scope = sx.get_variable_scope()
    with sx.variable_scope(scope):
        fed = decode(True)
    with sx.variable_scope(scope, reuse=True):
        given = decode(False)
    return jax.tree.map(lambda a, b: jnp.where(pred, a, b), fed, given)


def rnn_decoder(
    decoder_inputs: Any,
    initial_state: Any,
    cell: Any,
    loop_function: LoopFunction | None = None,
    scope: Any = None,
) -> tuple[list[Any], Any]:
    """TF's ``legacy_seq2seq.rnn_decoder``: run ``cell`` over the decoder inputs.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax.contrib import rnn
    >>> from scopax.contrib import legacy_seq2seq as seq2seq
    >>> cell = rnn.GRUCell(4)
    >>> def decode(inputs, state):
    ...     return seq2seq.rnn_decoder(list(inputs), state, cell)
    >>> inputs, state = jnp.ones((3, 2, 5)), jnp.zeros((2, 4))  # 3 steps, batch 2
    >>> model = sx.transform(decode)
    >>> params = model.init(jax.random.key(0), inputs, state)
    >>> sorted(sx.flatten(params))[-1]
    'rnn_decoder/gru_cell/gates/kernel'
    >>> outputs, state = model.apply(params, inputs, state)
    >>> len(outputs), outputs[0].shape
    (3, (2, 4))

    Args:
      decoder_inputs: a list of ``[batch_size, input_size]`` arrays, one per step.
      initial_state: the cell's state before the first step.
      cell: an :class:`~scopax.nn.rnn_cell.RNNCell`.
      loop_function: ``f(prev, i) -> next``: if given, the input of step ``i > 0`` is
        ``f(output of step i - 1, i)`` (run in scope ``loop_function`` with
        ``reuse=True``) and only ``decoder_inputs[0]`` (the "GO" input) is used.
      scope: the variable scope; ``"rnn_decoder"`` by default.

    Returns:
      ``(outputs, state)``: a list of ``[batch_size, output_size]`` outputs, one per
      decoder input, and the final state.
    """
    inputs = check_steps(decoder_inputs, "decoder_inputs", "rnn_decoder")
    with sx.variable_scope(scope or "rnn_decoder"):
        state = initial_state
        outputs = []
        prev = None
        for i, inp in enumerate(inputs):
            if loop_function is not None and prev is not None:
                with sx.variable_scope("loop_function", reuse=True):
                    inp = loop_function(prev, i)
            if i > 0:
                sx.get_variable_scope().reuse_variables()
            output, state = cell(inp, state)
            outputs.append(output)
            if loop_function is not None:
                prev = output
    return outputs, state


def basic_rnn_seq2seq(
    encoder_inputs: Any,
    decoder_inputs: Any,
    cell: Any,
    dtype: Any = jnp.float32,
    scope: Any = None,
) -> tuple[list[Any], Any]:
    """TF's ``basic_rnn_seq2seq``: encode with a copy of ``cell``, then decode from its
    final state. Encoder and decoder have the same kind of cell but their own variables:
    ``basic_rnn_seq2seq/rnn/...`` and ``basic_rnn_seq2seq/rnn_decoder/...``.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax.contrib import rnn
    >>> from scopax.contrib import legacy_seq2seq as seq2seq
    >>> cell = rnn.BasicRNNCell(4)
    >>> def model(xs, ys):
    ...     return seq2seq.basic_rnn_seq2seq(list(xs), list(ys), cell)[0]
    >>> xs, ys = jnp.ones((5, 2, 3)), jnp.ones((4, 2, 3))
    >>> params = sx.transform(model).init(jax.random.key(0), xs, ys)
    >>> sorted(sx.flatten(params))
    ['basic_rnn_seq2seq/rnn/basic_rnn_cell/bias', 'basic_rnn_seq2seq/rnn/basic_rnn_cell/kernel',
     'basic_rnn_seq2seq/rnn_decoder/basic_rnn_cell/bias',
     'basic_rnn_seq2seq/rnn_decoder/basic_rnn_cell/kernel']

    Args:
      encoder_inputs, decoder_inputs: lists of ``[batch_size, input_size]`` arrays.
      cell: an :class:`~scopax.nn.rnn_cell.RNNCell`; the encoder runs a deep copy.
      dtype: the dtype of the encoder's zero state.
      scope: the variable scope; ``"basic_rnn_seq2seq"`` by default.

    Returns:
      ``(outputs, state)`` of the decoder, as :func:`rnn_decoder`.
    """
    with sx.variable_scope(scope or "basic_rnn_seq2seq"):
        enc_cell = copy.deepcopy(cell)
        encoder_inputs = check_steps(encoder_inputs, "encoder_inputs", "basic_rnn_seq2seq")
        _, enc_state = static_rnn(enc_cell, encoder_inputs, dtype=dtype)
        return rnn_decoder(decoder_inputs, enc_state, cell)


def tied_rnn_seq2seq(
    encoder_inputs: Any,
    decoder_inputs: Any,
    cell: Any,
    loop_function: LoopFunction | None = None,
    dtype: Any = jnp.float32,
    scope: Any = None,
) -> tuple[list[Any], Any]:
    """TF's ``tied_rnn_seq2seq``: encoder and decoder are one cell, with one set of
    variables, in ``combined_tied_rnn_seq2seq/<scope>``.

    The encoder runs in the scope, which then calls ``reuse_variables()``; the decoder
    re-enters it: the sharing example of TF's variable-scope tutorial.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax.contrib import rnn
    >>> from scopax.contrib import legacy_seq2seq as seq2seq
    >>> cell = rnn.GRUCell(3)
    >>> def model(xs, ys):
    ...     return seq2seq.tied_rnn_seq2seq(list(xs), list(ys), cell)[0]
    >>> xs = jnp.ones((4, 2, 3))
    >>> params = sx.transform(model).init(jax.random.key(0), xs, xs)
    >>> sorted(sx.flatten(params))
    ['combined_tied_rnn_seq2seq/tied_rnn_seq2seq/gru_cell/candidate/bias',
     'combined_tied_rnn_seq2seq/tied_rnn_seq2seq/gru_cell/candidate/kernel',
     'combined_tied_rnn_seq2seq/tied_rnn_seq2seq/gru_cell/gates/bias',
     'combined_tied_rnn_seq2seq/tied_rnn_seq2seq/gru_cell/gates/kernel']

    Args:
      encoder_inputs, decoder_inputs: lists of ``[batch_size, input_size]`` arrays; the
        depths must match, since one cell reads both.
      cell: an :class:`~scopax.nn.rnn_cell.RNNCell`.
      loop_function: as :func:`rnn_decoder`.
      dtype: the dtype of the encoder's zero state.
      scope: the scope inside ``combined_tied_rnn_seq2seq``; ``"tied_rnn_seq2seq"`` by
        default.

    Returns:
      ``(outputs, state)`` of the decoder, as :func:`rnn_decoder`.
    """
    encoder_inputs = check_steps(encoder_inputs, "encoder_inputs", "tied_rnn_seq2seq")
    with sx.variable_scope("combined_tied_rnn_seq2seq"):
        scope = scope or "tied_rnn_seq2seq"
        _, enc_state = static_rnn(cell, encoder_inputs, dtype=dtype, scope=scope)
        sx.get_variable_scope().reuse_variables()
        return rnn_decoder(
            decoder_inputs, enc_state, cell, loop_function=loop_function, scope=scope
        )
