"""``legacy_seq2seq``'s models on symbol ids: ``embedding_rnn_decoder``,
``embedding_rnn_seq2seq`` and ``embedding_tied_rnn_seq2seq``."""

from __future__ import annotations

import copy
from typing import Any

import scopax as sx
from scopax.contrib._rnn_wrappers import EmbeddingWrapper, OutputProjectionWrapper
from scopax.contrib._seq2seq_rnn import (
    check_bool,
    check_output_projection,
    check_steps,
    extract_argmax_and_embed,
    is_python_bool,
    rnn_decoder,
    select_decoder,
    tied_rnn_seq2seq,
)
from scopax.nn._embedding import embedding_lookup
from scopax.nn._rnn import static_rnn


def embedding_rnn_decoder(
    decoder_inputs: Any,
    initial_state: Any,
    cell: Any,
    num_symbols: int,
    embedding_size: int,
    output_projection: Any = None,
    feed_previous: bool = False,
    update_embedding_for_previous: bool = True,
    scope: Any = None,
) -> tuple[list[Any], Any]:
    """TF's ``embedding_rnn_decoder``: :func:`rnn_decoder` on embedded symbol ids, with
    greedy decoding when ``feed_previous``.

    Variables: ``embedding`` ``[num_symbols, embedding_size]`` in scope
    ``embedding_rnn_decoder``, and the cell's under ``embedding_rnn_decoder/rnn_decoder``.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax.contrib import rnn
    >>> from scopax.contrib import legacy_seq2seq as seq2seq
    >>> cell = rnn.OutputProjectionWrapper(rnn.GRUCell(4), 6)
    >>> def greedy(go, state):
    ...     outputs, _ = seq2seq.embedding_rnn_decoder(
    ...         [go] * 3, state, cell, num_symbols=6, embedding_size=3, feed_previous=True)
    ...     return [jnp.argmax(o, axis=1) for o in outputs]
    >>> model = sx.transform(greedy)
    >>> go, state = jnp.zeros(2, jnp.int32), jnp.zeros((2, 4))
    >>> params = model.init(jax.random.key(0), go, state)
    >>> params["embedding_rnn_decoder/embedding"].shape
    (6, 3)
    >>> len(model.apply(params, go, state))
    3

    Args:
      decoder_inputs: a list of ``[batch_size]`` integer arrays, one per step.
      initial_state: the cell's state before the first step.
      cell: an :class:`~scopax.nn.rnn_cell.RNNCell`.
      num_symbols: how many symbols the embedding holds.
      embedding_size: the depth of each symbol's embedding.
      output_projection: ``None`` or ``(W, B)``, ``W`` ``[output_size, num_symbols]``
        and ``B`` ``[num_symbols]``: with ``feed_previous``, each output is projected
        by them before its argmax.
      feed_previous: a Python bool. ``True``: only ``decoder_inputs[0]`` (the "GO"
        symbol) is read; each later input is the embedding of the previous output's
        argmax.
      update_embedding_for_previous: ``False`` stops the gradient through the fed-back
        embeddings (only the GO symbol's embedding then learns from them).
      scope: the variable scope; ``"embedding_rnn_decoder"`` by default.

    Returns:
      ``(outputs, state)`` as :func:`rnn_decoder`.
    """
    ids = check_steps(decoder_inputs, "decoder_inputs", "embedding_rnn_decoder")
    feed_previous = check_bool(feed_previous, "embedding_rnn_decoder")
    projection = check_output_projection(output_projection, num_symbols, "embedding_rnn_decoder")
    with sx.variable_scope(scope or "embedding_rnn_decoder"):
        embedding = sx.get_variable("embedding", [num_symbols, embedding_size])
        loop_function = None
        if feed_previous:
            loop_function = extract_argmax_and_embed(
                embedding, projection, update_embedding_for_previous
            )
        emb_inp = [embedding_lookup(embedding, i) for i in ids]
        return rnn_decoder(emb_inp, initial_state, cell, loop_function=loop_function)


def embedding_rnn_seq2seq(
    encoder_inputs: Any,
    decoder_inputs: Any,
    cell: Any,
    num_encoder_symbols: int,
    num_decoder_symbols: int,
    embedding_size: int,
    output_projection: Any = None,
    feed_previous: Any = False,
    dtype: Any = None,
    scope: Any = None,
) -> tuple[list[Any], Any]:
    """TF's ``embedding_rnn_seq2seq``: an ``EmbeddingWrapper`` encoder (a copy of
    ``cell``), then :func:`embedding_rnn_decoder` from its final state.

    Without ``output_projection`` the decoder's cell is wrapped in an
    ``OutputProjectionWrapper`` to ``num_decoder_symbols``, so outputs are logits.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax.contrib import rnn
    >>> from scopax.contrib import legacy_seq2seq as seq2seq
    >>> cell = rnn.GRUCell(4)
    >>> def model(source, target):
    ...     return seq2seq.embedding_rnn_seq2seq(list(source), list(target), cell, 7, 9, 3)[0]
    >>> source, target = jnp.zeros((5, 2), jnp.int32), jnp.zeros((4, 2), jnp.int32)
    >>> shapes = jax.eval_shape(sx.transform(model).init, jax.random.key(0), source, target)
    >>> for name, x in sorted(sx.flatten(shapes).items()):
    ...     print(name.removeprefix("embedding_rnn_seq2seq/"), x.shape)
    embedding_rnn_decoder/embedding (9, 3)
    embedding_rnn_decoder/rnn_decoder/output_projection_wrapper/bias (9,)
    embedding_rnn_decoder/rnn_decoder/output_projection_wrapper/gru_cell/candidate/bias (4,)
    embedding_rnn_decoder/rnn_decoder/output_projection_wrapper/gru_cell/candidate/kernel (7, 4)
    embedding_rnn_decoder/rnn_decoder/output_projection_wrapper/gru_cell/gates/bias (8,)
    embedding_rnn_decoder/rnn_decoder/output_projection_wrapper/gru_cell/gates/kernel (7, 8)
    embedding_rnn_decoder/rnn_decoder/output_projection_wrapper/kernel (4, 9)
    rnn/embedding_wrapper/embedding (7, 3)
    rnn/embedding_wrapper/gru_cell/candidate/bias (4,)
    rnn/embedding_wrapper/gru_cell/candidate/kernel (7, 4)
    rnn/embedding_wrapper/gru_cell/gates/bias (8,)
    rnn/embedding_wrapper/gru_cell/gates/kernel (7, 8)

    Args:
      encoder_inputs, decoder_inputs: lists of ``[batch_size]`` integer arrays.
      cell: an :class:`~scopax.nn.rnn_cell.RNNCell`.
      num_encoder_symbols, num_decoder_symbols: the two vocabulary sizes.
      embedding_size: the depth of both embeddings.
      output_projection: as :func:`embedding_rnn_decoder`; ``None`` adds the wrapper.
      feed_previous: a Python bool (as :func:`embedding_rnn_decoder`), or a scalar
        boolean array chosen at run time: then both decoders are built, TF's
        ``tf.cond``, the ``True`` one first, and neither updates the fed-back
        embeddings.
      dtype: the dtype of the initial states and of the variables; ``float32`` (the
        scope's) by default.
      scope: the variable scope; ``"embedding_rnn_seq2seq"`` by default.

    Returns:
      ``(outputs, state)`` of the decoder.
    """
    fn = "embedding_rnn_seq2seq"
    encoder_inputs = check_steps(encoder_inputs, "encoder_inputs", fn)
    with sx.variable_scope(scope or fn, dtype=dtype) as varscope:
        dtype = varscope.dtype
        encoder_cell = EmbeddingWrapper(
            copy.deepcopy(cell),
            embedding_classes=num_encoder_symbols,
            embedding_size=embedding_size,
        )
        _, encoder_state = static_rnn(encoder_cell, encoder_inputs, dtype=dtype)
        if output_projection is None:
            cell = OutputProjectionWrapper(cell, num_decoder_symbols)

        def decoder(feed: bool, update_embedding: bool = False) -> tuple[list[Any], Any]:
            return embedding_rnn_decoder(
                decoder_inputs,
                encoder_state,
                cell,
                num_decoder_symbols,
                embedding_size,
                output_projection=output_projection,
                feed_previous=feed,
                update_embedding_for_previous=update_embedding,
            )

        if is_python_bool(feed_previous):
            return decoder(bool(feed_previous), update_embedding=True)
        return select_decoder(feed_previous, decoder, fn)


def embedding_tied_rnn_seq2seq(
    encoder_inputs: Any,
    decoder_inputs: Any,
    cell: Any,
    num_symbols: int,
    embedding_size: int,
    num_decoder_symbols: int | None = None,
    output_projection: Any = None,
    feed_previous: Any = False,
    dtype: Any = None,
    scope: Any = None,
) -> tuple[list[Any], Any]:
    """TF's ``embedding_tied_rnn_seq2seq``: one embedding and one cell for encoder and
    decoder, :func:`tied_rnn_seq2seq` on the embedded ids.

    Without ``output_projection`` the cell is wrapped in an ``OutputProjectionWrapper``
    (to ``num_decoder_symbols``, else ``num_symbols``), which the encoder runs too.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax.contrib import rnn
    >>> from scopax.contrib import legacy_seq2seq as seq2seq
    >>> cell = rnn.GRUCell(4)
    >>> def model(source, target):
    ...     return seq2seq.embedding_tied_rnn_seq2seq(list(source), list(target), cell, 8, 3)[0]
    >>> ids = jnp.zeros((5, 2), jnp.int32)
    >>> shapes = jax.eval_shape(sx.transform(model).init, jax.random.key(0), ids, ids)
    >>> tied = "embedding_tied_rnn_seq2seq/combined_tied_rnn_seq2seq/tied_rnn_seq2seq/"
    >>> for name, x in sorted(sx.flatten(shapes).items()):
    ...     print(name.replace(tied, "<tied>/"), x.shape)
    <tied>/output_projection_wrapper/bias (8,)
    <tied>/output_projection_wrapper/gru_cell/candidate/bias (4,)
    <tied>/output_projection_wrapper/gru_cell/candidate/kernel (7, 4)
    <tied>/output_projection_wrapper/gru_cell/gates/bias (8,)
    <tied>/output_projection_wrapper/gru_cell/gates/kernel (7, 8)
    <tied>/output_projection_wrapper/kernel (4, 8)
    embedding_tied_rnn_seq2seq/embedding (8, 3)

    Args:
      encoder_inputs, decoder_inputs: lists of ``[batch_size]`` integer arrays.
      cell: an :class:`~scopax.nn.rnn_cell.RNNCell`.
      num_symbols: the size of the shared vocabulary.
      embedding_size: the depth of the shared embedding.
      num_decoder_symbols: if given, the decoder predicts only the first
        ``num_decoder_symbols`` symbols.
      output_projection: ``None`` or ``(W, B)``, ``W`` ``[output_size, num_symbols]``,
        ``B`` ``[num_symbols]``, as :func:`embedding_rnn_decoder`.
      feed_previous: a Python bool or a scalar boolean array, as
        :func:`embedding_rnn_seq2seq`.
      dtype: the dtype of the initial states and the variables; ``float32`` by default.
      scope: the variable scope; ``"embedding_tied_rnn_seq2seq"`` by default.

    Returns:
      ``(outputs, state)`` of the decoder.
    """
    fn = "embedding_tied_rnn_seq2seq"
    encoder_ids = check_steps(encoder_inputs, "encoder_inputs", fn)
    decoder_ids = check_steps(decoder_inputs, "decoder_inputs", fn)
    projection = check_output_projection(output_projection, num_symbols, fn)
    with sx.variable_scope(scope or fn, dtype=dtype) as varscope:
        dtype = varscope.dtype
        embedding = sx.get_variable("embedding", [num_symbols, embedding_size], dtype)
        emb_encoder_inputs = [embedding_lookup(embedding, x) for x in encoder_ids]
        emb_decoder_inputs = [embedding_lookup(embedding, x) for x in decoder_ids]
        output_symbols = num_symbols if num_decoder_symbols is None else num_decoder_symbols
        if output_projection is None:
            cell = OutputProjectionWrapper(cell, output_symbols)

        def decoder(feed: bool, update_embedding: bool = False) -> tuple[list[Any], Any]:
            loop_function = None
            if feed:
                loop_function = extract_argmax_and_embed(embedding, projection, update_embedding)
            return tied_rnn_seq2seq(
                emb_encoder_inputs,
                emb_decoder_inputs,
                cell,
                loop_function=loop_function,
                dtype=dtype,
            )

        if is_python_bool(feed_previous):
            return decoder(bool(feed_previous), update_embedding=True)
        return select_decoder(feed_previous, decoder, fn)
