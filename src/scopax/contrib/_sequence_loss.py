"""``tf.contrib.seq2seq.sequence_loss`` (TF 1.15), on ``[batch, time, classes]`` logits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from scopax.errors import NNArgumentError
from scopax.nn._losses import sparse_softmax_cross_entropy_with_logits


def _div_no_nan(x: jax.Array, y: jax.Array) -> jax.Array:
    # TF's div_no_nan: 0 where the divisor is 0.
    return jnp.where(y == 0, jnp.zeros_like(x), x / jnp.where(y == 0, 1, y))


def sequence_loss(
    logits: Any,
    targets: Any,
    weights: Any,
    average_across_timesteps: bool = True,
    average_across_batch: bool = True,
    sum_over_timesteps: bool = False,
    sum_over_batch: bool = False,
    softmax_loss_function: Callable[..., jax.Array] | None = None,
    name: str | None = None,
) -> jax.Array:
    """``tf.contrib.seq2seq.sequence_loss``: the weighted cross entropy of a sequence.

    The ``average_*`` options divide the weighted sum by the sum of the weights; the
    ``sum_over_*`` options (TF 1.15's naming) divide it by the number of non-zero
    weights. By default the result is a scalar; turning an option off for an axis keeps
    that axis. A zero divisor gives 0, as TF's ``div_no_nan``.

    >>> import jax.numpy as jnp
    >>> from scopax.contrib import seq2seq
    >>> logits = jnp.zeros((2, 3, 4))
    >>> targets, weights = jnp.zeros((2, 3), int), jnp.array([[1.0, 1, 0], [1, 0, 0]])
    >>> seq2seq.sequence_loss(logits, targets, weights, average_across_batch=False)
    Array([1.3862944, 1.3862944], dtype=float32)

    Args:
      logits: ``[batch, time, classes]``.
      targets: ``[batch, time]`` integer class ids.
      weights: ``[batch, time]``, e.g. 1 for real steps and 0 for padding.
      average_across_timesteps, average_across_batch: average over that axis.
      sum_over_timesteps, sum_over_batch: sum over that axis, divided by the count of
        non-zero weights; not together with the average over the same axis.
      softmax_loss_function: ``f(labels=..., logits=...)`` on the flattened
        ``[batch * time]`` targets and ``[batch * time, classes]`` logits, instead of
        the sparse softmax cross entropy.
      name: accepted for TF1 compatibility.

    Returns:
      A scalar, ``[batch]``, ``[time]`` or ``[batch, time]``.
    """
    del name
    for argument, value, rank, shape in (
        ("logits", logits, 3, "[batch, time, classes]"),
        ("targets", targets, 2, "[batch, time]"),
        ("weights", weights, 2, "[batch, time]"),
    ):
        if np.ndim(value) != rank:
            raise NNArgumentError(
                f"sequence_loss takes {argument} of shape {shape}, got shape {np.shape(value)}."
            )
    if average_across_timesteps and sum_over_timesteps:
        raise NNArgumentError(
            "sequence_loss got average_across_timesteps=True and sum_over_timesteps=True; "
            "set one of them to False."
        )
    if average_across_batch and sum_over_batch:
        raise NNArgumentError(
            "sequence_loss got average_across_batch=True and sum_over_batch=True; set one of "
            "them to False."
        )
    batch, time, classes = np.shape(logits)
    if np.shape(targets) != (batch, time) or np.shape(weights) != (batch, time):
        raise NNArgumentError(
            f"sequence_loss got logits {np.shape(logits)}, targets {np.shape(targets)} and "
            f"weights {np.shape(weights)}; targets and weights must be [batch, time] = "
            f"{[batch, time]}."
        )
    flat_logits = jnp.reshape(logits, (-1, classes))
    flat_targets = jnp.reshape(targets, (-1,))
    loss_fn = softmax_loss_function or sparse_softmax_cross_entropy_with_logits
    weights = jnp.asarray(weights)
    crossent = loss_fn(labels=flat_targets, logits=flat_logits) * jnp.reshape(weights, (-1,))
    nonzero = (weights != 0).astype(crossent.dtype)
    if average_across_timesteps and average_across_batch:
        return _div_no_nan(jnp.sum(crossent), jnp.sum(weights).astype(crossent.dtype))
    if sum_over_timesteps and sum_over_batch:
        return _div_no_nan(jnp.sum(crossent), jnp.sum(nonzero))
    crossent = jnp.reshape(crossent, (batch, time))
    if average_across_timesteps or average_across_batch:
        axis = 0 if average_across_batch else 1
        total = jnp.sum(weights, axis=axis).astype(crossent.dtype)
        return _div_no_nan(jnp.sum(crossent, axis=axis), total)
    if sum_over_timesteps or sum_over_batch:
        axis = 0 if sum_over_batch else 1
        return _div_no_nan(jnp.sum(crossent, axis=axis), jnp.sum(nonzero, axis=axis))
    return crossent
