"""``legacy_seq2seq``'s losses, ``sequence_loss_by_example`` and ``sequence_loss``, and
``model_with_buckets``, which builds one model per bucket on shared variables."""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp

import scopax as sx
from scopax.errors import NNArgumentError
from scopax.nn._losses import sparse_softmax_cross_entropy_with_logits

SoftmaxLoss = Callable[..., jax.Array]


def _add_n(xs: Sequence[Any]) -> Any:
    return functools.reduce(operator.add, xs)


def sequence_loss_by_example(
    logits: Sequence[Any],
    targets: Sequence[Any],
    weights: Sequence[Any],
    average_across_timesteps: bool = True,
    softmax_loss_function: SoftmaxLoss | None = None,
    name: str | None = None,
) -> jax.Array:
    """TF's ``sequence_loss_by_example``: the weighted cross-entropy of each sequence.

    ``sum_t weights[t] * xent(logits[t], targets[t])``, divided by ``sum_t weights[t] +
    1e-12`` when ``average_across_timesteps`` (the log-perplexity per symbol).

    >>> import jax.numpy as jnp
    >>> from scopax.contrib import legacy_seq2seq as seq2seq
    >>> logits = [jnp.zeros((2, 4))] * 3  # 3 steps, batch 2, 4 symbols: uniform
    >>> targets = [jnp.array([1, 2])] * 3
    >>> weights = [jnp.ones(2), jnp.ones(2), jnp.array([1.0, 0.0])]  # 2nd: length 2
    >>> seq2seq.sequence_loss_by_example(logits, targets, weights)  # log(4) each
    Array([1.3862944, 1.3862944], dtype=float32)

    Args:
      logits: a list of ``[batch_size, num_symbols]`` arrays, one per step.
      targets: a list of ``[batch_size]`` integer arrays, as long as ``logits``.
      weights: a list of ``[batch_size]`` float arrays, as long as ``logits`` (0 masks
        out padding).
      average_across_timesteps: divide by the total weight of each sequence.
      softmax_loss_function: ``f(labels=..., logits=...) -> [batch_size]`` to use
        instead of the sparse softmax cross-entropy; called with keywords.
      name: the op name scope; ``"sequence_loss_by_example"`` by default.

    Returns:
      ``[batch_size]``: the loss of each sequence.

    Raises:
      ValueError: the three lists differ in length.
    """
    if len(targets) != len(logits) or len(weights) != len(logits):
        raise NNArgumentError(
            "sequence_loss_by_example needs one target and one weight per step of logits, "
            f"got {len(logits)} logits, {len(targets)} targets and {len(weights)} weights."
        )
    with sx.name_scope(name or "sequence_loss_by_example"):
        log_perp_list = []
        for logit, target, weight in zip(logits, targets, weights, strict=True):
            if softmax_loss_function is None:
                crossent = sparse_softmax_cross_entropy_with_logits(
                    labels=jnp.reshape(target, [-1]), logits=logit
                )
            else:
                crossent = softmax_loss_function(labels=target, logits=logit)
            log_perp_list.append(crossent * weight)
        log_perps = _add_n(log_perp_list)
        if average_across_timesteps:
            log_perps = log_perps / (_add_n(weights) + 1e-12)  # 1e-12: all-zero weights
    return log_perps


def sequence_loss(
    logits: Sequence[Any],
    targets: Sequence[Any],
    weights: Sequence[Any],
    average_across_timesteps: bool = True,
    average_across_batch: bool = True,
    softmax_loss_function: SoftmaxLoss | None = None,
    name: str | None = None,
) -> jax.Array:
    """TF's ``sequence_loss``: :func:`sequence_loss_by_example` summed over the batch,
    and divided by the batch size when ``average_across_batch``.

    >>> import jax.numpy as jnp
    >>> from scopax.contrib import legacy_seq2seq as seq2seq
    >>> logits = [jnp.zeros((2, 2))]  # 1 step, batch 2, 2 symbols: uniform
    >>> weights = [jnp.array([1.0, 0.0])]  # the second example is padding here
    >>> seq2seq.sequence_loss(logits, [jnp.array([1, 0])], weights)  # (log 2 + 0) / 2
    Array(0.3465736, dtype=float32)

    Args:
      logits, targets, weights, average_across_timesteps, softmax_loss_function: as
        :func:`sequence_loss_by_example`.
      average_across_batch: divide by the batch size.
      name: the op name scope; ``"sequence_loss"`` by default.

    Returns:
      A scalar: the weighted average log-perplexity per symbol.
    """
    with sx.name_scope(name or "sequence_loss"):
        cost = jnp.sum(
            sequence_loss_by_example(
                logits,
                targets,
                weights,
                average_across_timesteps=average_across_timesteps,
                softmax_loss_function=softmax_loss_function,
            )
        )
        if average_across_batch:
            return cost / jnp.asarray(jnp.shape(targets[0])[0], cost.dtype)
        return cost


def model_with_buckets(
    encoder_inputs: Sequence[Any],
    decoder_inputs: Sequence[Any],
    targets: Sequence[Any],
    weights: Sequence[Any],
    buckets: Sequence[tuple[int, int]],
    seq2seq: Callable[[list[Any], list[Any]], tuple[list[Any], Any]],
    softmax_loss_function: SoftmaxLoss | None = None,
    per_example_loss: bool = False,
    name: str | None = None,
) -> tuple[list[list[Any]], list[jax.Array]]:
    """TF's ``model_with_buckets``: ``seq2seq`` and its loss on the first ``(input size,
    output size)`` steps of each bucket, every bucket after the first with
    ``reuse=True``, so all buckets share one set of variables.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax.contrib import rnn
    >>> from scopax.contrib import legacy_seq2seq as seq2seq
    >>> cell = rnn.GRUCell(4)
    >>> def model(source, target, weight):
    ...     def s2s(x, y):
    ...         return seq2seq.embedding_rnn_seq2seq(x, y, cell, 6, 6, 3)
    ...     _, losses = seq2seq.model_with_buckets(
    ...         list(source), list(target), list(target), list(weight), [(2, 2), (3, 3)], s2s)
    ...     return losses
    >>> source, target, weight = jnp.zeros((3, 2), int), jnp.zeros((3, 2), int), jnp.ones((3, 2))
    >>> params = sx.transform(model).init(jax.random.key(0), source, target, weight)
    >>> len(sx.flatten(params))  # one model, built twice
    12
    >>> [loss.shape for loss in sx.transform(model).apply(params, source, target, weight)]
    [(), ()]

    Args:
      encoder_inputs, decoder_inputs: the lists ``seq2seq`` takes, at least as long as
        the last bucket's sizes.
      targets: a list of ``[batch_size]`` integer arrays, the desired outputs.
      weights: a list of ``[batch_size]`` float arrays, the targets' weights.
      buckets: ``(input size, output size)`` pairs, ascending.
      seq2seq: ``f(encoder_inputs, decoder_inputs) -> (outputs, state)``, e.g. a
        lambda around :func:`embedding_attention_seq2seq`.
      softmax_loss_function: as :func:`sequence_loss_by_example`.
      per_example_loss: return each bucket's :func:`sequence_loss_by_example` instead
        of its :func:`sequence_loss`.
      name: the op name scope; ``"model_with_buckets"`` by default.

    Returns:
      ``(outputs, losses)``: each bucket's outputs (a list per bucket) and loss (a
      scalar, or ``[batch_size]`` with ``per_example_loss``).

    Raises:
      ValueError: an input list shorter than the last bucket.
    """
    if not buckets:
        raise NNArgumentError(
            "model_with_buckets got buckets=[]; pass (input size, output size) pairs."
        )
    for argument, given, needed in (
        ("encoder_inputs", encoder_inputs, buckets[-1][0]),
        ("targets", targets, buckets[-1][1]),
        ("weights", weights, buckets[-1][1]),
    ):
        if len(given) < needed:
            raise NNArgumentError(
                f"model_with_buckets got {len(given)} {argument}; the last bucket "
                f"{tuple(buckets[-1])} needs at least {needed}."
            )
    loss_fn = sequence_loss_by_example if per_example_loss else sequence_loss
    outputs, losses = [], []
    with sx.name_scope(name or "model_with_buckets"):
        for j, (input_size, output_size) in enumerate(buckets):
            scope = sx.get_variable_scope()
            with sx.variable_scope(scope, reuse=True if j > 0 else None):
                bucket_outputs, _ = seq2seq(
                    list(encoder_inputs[:input_size]), list(decoder_inputs[:output_size])
                )
                outputs.append(bucket_outputs)
                losses.append(
                    loss_fn(
                        bucket_outputs,
                        list(targets[:output_size]),
                        list(weights[:output_size]),
                        softmax_loss_function=softmax_loss_function,
                    )
                )
    return outputs, losses
