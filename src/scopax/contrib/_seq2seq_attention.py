"""``legacy_seq2seq``'s attention models: ``attention_decoder``,
``embedding_attention_decoder`` and ``embedding_attention_seq2seq`` (Vinyals et al.,
2015, "Grammar as a Foreign Language", https://arxiv.org/abs/1412.7449)."""

from __future__ import annotations

import copy
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import scopax as sx
from scopax.contrib._rnn_wrappers import EmbeddingWrapper, OutputProjectionWrapper
from scopax.contrib._seq2seq_rnn import (
    LoopFunction,
    check_bool,
    check_output_projection,
    check_steps,
    extract_argmax_and_embed,
    is_python_bool,
    linear,
    select_decoder,
)
from scopax.errors import NNArgumentError
from scopax.nn._embedding import embedding_lookup
from scopax.nn._rnn import static_rnn


def attention_decoder(
    decoder_inputs: Any,
    initial_state: Any,
    attention_states: Any,
    cell: Any,
    output_size: int | None = None,
    num_heads: int = 1,
    loop_function: LoopFunction | None = None,
    dtype: Any = None,
    scope: Any = None,
    initial_state_attention: bool = False,
) -> tuple[list[Any], Any]:
    """TF's ``attention_decoder``: an RNN decoder that reads ``attention_states`` at
    every step.

    Step ``i``, with ``attns`` the previous step's reads (zeros at first):
    ``cell_output, state = cell(linear([input] + attns), state)``; then for each head
    ``a``, ``attn_a = sum_t softmax_t(V_a . tanh(W_a h_t + U_a state)) h_t`` over the
    attention states ``h_t``; and ``output = linear([cell_output] + attns)``.

    Variables, in scope ``attention_decoder``: ``AttnW_<a>`` ``[1, 1, attn_size,
    attn_size]`` (TF's 1x1 convolution kernel) and ``AttnV_<a>`` ``[attn_size]`` per head,
    ``Attention_<a>/kernel`` and ``/bias`` (``U_a``), ``kernel`` and ``bias`` of the
    input ``linear``, the cell's, and ``AttnOutputProjection/kernel`` and ``/bias``.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax.contrib import rnn
    >>> from scopax.contrib import legacy_seq2seq as seq2seq
    >>> cell = rnn.GRUCell(4)
    >>> def decode(inputs, memory):
    ...     state = cell.zero_state(2, jnp.float32)
    ...     return seq2seq.attention_decoder(list(inputs), state, memory, cell, num_heads=2)
    >>> inputs, memory = jnp.ones((2, 2, 3)), jnp.ones((2, 3, 4))  # memory: 3 states of 4
    >>> model = sx.transform(decode)
    >>> params = model.init(jax.random.key(0), inputs, memory)
    >>> for name, x in sorted(sx.flatten(params).items()):
    ...     print(name, x.shape)
    attention_decoder/Attention_0/bias (4,)
    attention_decoder/Attention_0/kernel (4, 4)
    attention_decoder/Attention_1/bias (4,)
    attention_decoder/Attention_1/kernel (4, 4)
    attention_decoder/AttnOutputProjection/bias (4,)
    attention_decoder/AttnOutputProjection/kernel (12, 4)
    attention_decoder/AttnV_0 (4,)
    attention_decoder/AttnV_1 (4,)
    attention_decoder/AttnW_0 (1, 1, 4, 4)
    attention_decoder/AttnW_1 (1, 1, 4, 4)
    attention_decoder/bias (3,)
    attention_decoder/gru_cell/candidate/bias (4,)
    attention_decoder/gru_cell/candidate/kernel (7, 4)
    attention_decoder/gru_cell/gates/bias (8,)
    attention_decoder/gru_cell/gates/kernel (7, 8)
    attention_decoder/kernel (11, 3)
    >>> outputs, state = model.apply(params, inputs, memory)
    >>> len(outputs), outputs[0].shape
    (2, (2, 4))

    Args:
      decoder_inputs: a non-empty list of ``[batch_size, input_size]`` arrays.
      initial_state: the cell's state before the first step (a nested state is
        flattened and concatenated to query the attention).
      attention_states: ``[batch_size, attn_length, attn_size]``.
      cell: an :class:`~scopax.nn.rnn_cell.RNNCell`.
      output_size: the depth of the outputs; ``cell.output_size`` by default.
      num_heads: how many attention heads read ``attention_states``.
      loop_function: as :func:`rnn_decoder`.
      dtype: the dtype of the variables and the attention reads; the scope's
        (``float32``) by default.
      scope: the variable scope; ``"attention_decoder"`` by default.
      initial_state_attention: ``True`` starts from reads computed from
        ``initial_state`` instead of zeros (to resume decoding).

    Returns:
      ``(outputs, state)``: a list of ``[batch_size, output_size]`` outputs and the
      final state.

    Raises:
      ValueError: no decoder inputs, ``num_heads < 1``, or ``attention_states`` not
        of rank 3.
    """
    fn = "attention_decoder"
    inputs = check_steps(decoder_inputs, "decoder_inputs", fn)
    if not inputs:
        raise NNArgumentError(f"{fn} got decoder_inputs=[]; pass at least one step (the GO input).")
    if num_heads < 1:
        raise NNArgumentError(
            f"{fn} got num_heads={num_heads}; pass num_heads >= 1, or use rnn_decoder for a "
            "decoder without attention."
        )
    if np.ndim(attention_states) != 3:
        raise NNArgumentError(
            f"{fn} got attention_states of shape {np.shape(attention_states)}; pass "
            "[batch_size, attn_length, attn_size], e.g. jnp.stack(encoder_outputs, axis=1)."
        )
    out_size = int(cell.output_size if output_size is None else output_size)
    with sx.variable_scope(scope or fn, dtype=dtype) as varscope:
        dtype = varscope.dtype
        attn_size = int(np.shape(attention_states)[2])
        hidden = attention_states
        hidden_features, v = [], []
        for a in range(num_heads):
            k = sx.get_variable(f"AttnW_{a}", [1, 1, attn_size, attn_size], dtype)
            hidden_features.append(jnp.einsum("bts,sv->btv", hidden, k[0, 0]))
            v.append(sx.get_variable(f"AttnV_{a}", [attn_size], dtype))

        def attention(query: Any) -> list[jax.Array]:
            """The heads' reads of ``hidden`` for ``query`` (the state)."""
            parts = jax.tree.leaves(query)
            query = parts[0] if len(parts) == 1 else jnp.concatenate(parts, axis=1)
            reads = []
            for a in range(num_heads):
                with sx.variable_scope(f"Attention_{a}"):
                    y = linear([query], attn_size).astype(dtype)
                    scores = jnp.sum(
                        v[a][None, None, :] * jnp.tanh(hidden_features[a] + y[:, None, :]),
                        axis=2,
                    )
                    weights = jax.nn.softmax(scores.astype(jnp.float32), axis=1).astype(dtype)
                    reads.append(jnp.sum(weights[:, :, None] * hidden, axis=1))
            return reads

        batch_size = int(np.shape(inputs[0])[0])
        attns = [jnp.zeros((batch_size, attn_size), dtype) for _ in range(num_heads)]
        if initial_state_attention:
            attns = attention(initial_state)
        state = initial_state
        outputs = []
        prev = None
        for i, inp in enumerate(inputs):
            if i > 0:
                sx.get_variable_scope().reuse_variables()
            if loop_function is not None and prev is not None:
                with sx.variable_scope("loop_function", reuse=True):
                    inp = loop_function(prev, i)
            if np.ndim(inp) != 2:
                raise NNArgumentError(
                    f"{fn} takes decoder inputs of shape [batch_size, input_size], got "
                    f"{np.shape(inp)} at step {i}."
                )
            x = linear([e.astype(dtype) for e in (inp, *attns)], int(np.shape(inp)[1]))
            cell_output, state = cell(x, state)
            if i == 0 and initial_state_attention:
                with sx.variable_scope(sx.get_variable_scope(), reuse=True):
                    attns = attention(state)
            else:
                attns = attention(state)
            with sx.variable_scope("AttnOutputProjection"):
                output = linear([cell_output.astype(dtype), *attns], out_size)
            if loop_function is not None:
                prev = output
            outputs.append(output)
    return outputs, state


def embedding_attention_decoder(
    decoder_inputs: Any,
    initial_state: Any,
    attention_states: Any,
    cell: Any,
    num_symbols: int,
    embedding_size: int,
    num_heads: int = 1,
    output_size: int | None = None,
    output_projection: Any = None,
    feed_previous: bool = False,
    update_embedding_for_previous: bool = True,
    dtype: Any = None,
    scope: Any = None,
    initial_state_attention: bool = False,
) -> tuple[list[Any], Any]:
    """TF's ``embedding_attention_decoder``: :func:`attention_decoder` on embedded
    symbol ids, with greedy decoding when ``feed_previous``.

    Variables: ``embedding`` ``[num_symbols, embedding_size]`` in scope
    ``embedding_attention_decoder``, and the attention decoder's under
    ``embedding_attention_decoder/attention_decoder``.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax.contrib import rnn
    >>> from scopax.contrib import legacy_seq2seq as seq2seq
    >>> cell = rnn.OutputProjectionWrapper(rnn.GRUCell(4), 6)
    >>> def greedy(go, state, memory):
    ...     outputs, _ = seq2seq.embedding_attention_decoder(
    ...         [go] * 3, state, memory, cell, num_symbols=6, embedding_size=3,
    ...         feed_previous=True)
    ...     return jnp.stack([jnp.argmax(o, axis=1) for o in outputs], axis=1)
    >>> go, state, memory = jnp.zeros(2, jnp.int32), jnp.zeros((2, 4)), jnp.ones((2, 3, 4))
    >>> model = sx.transform(greedy)
    >>> params = model.init(jax.random.key(0), go, state, memory)
    >>> params["embedding_attention_decoder/embedding"].shape
    (6, 3)
    >>> model.apply(params, go, state, memory).shape  # 3 steps of greedy decoding
    (2, 3)

    Args:
      decoder_inputs: a non-empty list of ``[batch_size]`` integer arrays.
      initial_state, attention_states, cell, num_heads, initial_state_attention: as
        :func:`attention_decoder`.
      num_symbols: how many symbols the embedding holds.
      embedding_size: the depth of each symbol's embedding.
      output_size: the depth of the outputs; ``cell.output_size`` by default.
      output_projection, feed_previous, update_embedding_for_previous: as
        :func:`embedding_rnn_decoder`.
      dtype: the dtype of the variables; the scope's (``float32``) by default.
      scope: the variable scope; ``"embedding_attention_decoder"`` by default.

    Returns:
      ``(outputs, state)`` as :func:`attention_decoder`.
    """
    fn = "embedding_attention_decoder"
    ids = check_steps(decoder_inputs, "decoder_inputs", fn)
    feed_previous = check_bool(feed_previous, fn)
    if output_size is None:
        output_size = cell.output_size
    projection = check_output_projection(output_projection, num_symbols, fn)
    with sx.variable_scope(scope or fn, dtype=dtype):
        embedding = sx.get_variable("embedding", [num_symbols, embedding_size])
        loop_function = None
        if feed_previous:
            loop_function = extract_argmax_and_embed(
                embedding, projection, update_embedding_for_previous
            )
        emb_inp = [embedding_lookup(embedding, i) for i in ids]
        return attention_decoder(
            emb_inp,
            initial_state,
            attention_states,
            cell,
            output_size=output_size,
            num_heads=num_heads,
            loop_function=loop_function,
            initial_state_attention=initial_state_attention,
        )


def embedding_attention_seq2seq(
    encoder_inputs: Any,
    decoder_inputs: Any,
    cell: Any,
    num_encoder_symbols: int,
    num_decoder_symbols: int,
    embedding_size: int,
    num_heads: int = 1,
    output_projection: Any = None,
    feed_previous: Any = False,
    dtype: Any = None,
    scope: Any = None,
    initial_state_attention: bool = False,
) -> tuple[list[Any], Any]:
    """TF's ``embedding_attention_seq2seq``: an ``EmbeddingWrapper`` encoder (a copy of
    ``cell``) whose outputs the :func:`embedding_attention_decoder` attends to, starting
    from the encoder's final state: the model of TF's translation tutorial.

    Without ``output_projection`` the decoder's cell is wrapped in an
    ``OutputProjectionWrapper`` to ``num_decoder_symbols``, and the outputs are logits.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax.contrib import rnn
    >>> from scopax.contrib import legacy_seq2seq as seq2seq
    >>> cell = rnn.GRUCell(4)
    >>> def model(source, target, feed_previous):
    ...     outputs, _ = seq2seq.embedding_attention_seq2seq(
    ...         list(source), list(target), cell, num_encoder_symbols=6,
    ...         num_decoder_symbols=6, embedding_size=3, feed_previous=feed_previous)
    ...     return jnp.stack(outputs, axis=1)  # [batch, time, symbols]
    >>> source, target = jnp.zeros((3, 2), jnp.int32), jnp.zeros((3, 2), jnp.int32)
    >>> model = sx.transform(model)
    >>> params = model.init(jax.random.key(0), source, target, False)
    >>> names = sorted(sx.flatten(params))
    >>> len(names), names[-1]
    (20, 'embedding_attention_seq2seq/rnn/embedding_wrapper/gru_cell/gates/kernel')
    >>> model.apply(params, source, target, True).shape  # greedy decoding
    (2, 3, 6)
    >>> model.apply(params, source, target, jnp.array(True)).shape  # chosen at run time
    (2, 3, 6)

    Args:
      encoder_inputs, decoder_inputs: lists of ``[batch_size]`` integer arrays.
      cell: an :class:`~scopax.nn.rnn_cell.RNNCell`.
      num_encoder_symbols, num_decoder_symbols: the two vocabulary sizes.
      embedding_size: the depth of both embeddings.
      num_heads, initial_state_attention: as :func:`attention_decoder`.
      output_projection: as :func:`embedding_rnn_decoder`; ``None`` adds the wrapper.
      feed_previous: a Python bool, or a scalar boolean array chosen at run time, as
        :func:`embedding_rnn_seq2seq`.
      dtype: the dtype of the initial state and of the variables; ``float32`` by default.
      scope: the variable scope; ``"embedding_attention_seq2seq"`` by default.

    Returns:
      ``(outputs, state)`` of the decoder.
    """
    fn = "embedding_attention_seq2seq"
    encoder_inputs = check_steps(encoder_inputs, "encoder_inputs", fn)
    with sx.variable_scope(scope or fn, dtype=dtype) as varscope:
        dtype = varscope.dtype
        encoder_cell = EmbeddingWrapper(
            copy.deepcopy(cell),
            embedding_classes=num_encoder_symbols,
            embedding_size=embedding_size,
        )
        encoder_outputs, encoder_state = static_rnn(encoder_cell, encoder_inputs, dtype=dtype)
        attention_states = jnp.stack(
            [jnp.reshape(e, (-1, cell.output_size)) for e in encoder_outputs], axis=1
        )
        output_size = None
        if output_projection is None:
            cell = OutputProjectionWrapper(cell, num_decoder_symbols)
            output_size = num_decoder_symbols

        def decoder(feed: bool, update_embedding: bool = False) -> tuple[list[Any], Any]:
            return embedding_attention_decoder(
                decoder_inputs,
                encoder_state,
                attention_states,
                cell,
                num_decoder_symbols,
                embedding_size,
                num_heads=num_heads,
                output_size=output_size,
                output_projection=output_projection,
                feed_previous=feed,
                update_embedding_for_previous=update_embedding,
                initial_state_attention=initial_state_attention,
            )

        if is_python_bool(feed_previous):
            return decoder(bool(feed_previous), update_embedding=True)
        return select_decoder(feed_previous, decoder, fn)
