"""``tf.losses.Reduction`` and ``compute_weighted_loss`` (TF 1.15's ``losses_impl``)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from scopax.errors import NNArgumentError


class Reduction:
    """``tf.losses.Reduction``: how a loss reduces its weighted per-element values.

    >>> import jax.numpy as jnp
    >>> from scopax import losses
    >>> per_example = jnp.array([1.0, 3.0])
    >>> losses.compute_weighted_loss(per_example, reduction=losses.Reduction.SUM)
    Array(4., dtype=float32)
    >>> losses.Reduction.all()[-1]
    'weighted_sum_by_nonzero_weights'

    Attributes:
      NONE: no reduction; the weighted values.
      SUM: their sum.
      MEAN: their sum divided by the sum of the (broadcast) weights.
      SUM_OVER_BATCH_SIZE: their sum divided by the number of elements.
      SUM_BY_NONZERO_WEIGHTS: their sum divided by the number of non-zero weights (the
        default of every ``scopax.losses`` function); ``SUM_OVER_NONZERO_WEIGHTS`` is
        the same.
    """

    NONE = "none"
    SUM = "weighted_sum"
    SUM_OVER_BATCH_SIZE = "weighted_sum_over_batch_size"
    MEAN = "weighted_mean"
    SUM_BY_NONZERO_WEIGHTS = "weighted_sum_by_nonzero_weights"
    SUM_OVER_NONZERO_WEIGHTS = SUM_BY_NONZERO_WEIGHTS

    @classmethod
    def all(cls) -> tuple[str, ...]:
        """Every reduction, as TF lists them."""
        return (cls.NONE, cls.SUM, cls.MEAN, cls.SUM_OVER_BATCH_SIZE, cls.SUM_BY_NONZERO_WEIGHTS)

    @classmethod
    def validate(cls, key: str) -> None:
        """Raises ``ValueError`` unless ``key`` is one of :meth:`all`."""
        if key not in cls.all():
            raise NNArgumentError(
                f"got reduction={key!r}; pass one of scopax.losses.Reduction's values: "
                f"{list(cls.all())}."
            )


def _check_weights(losses: jax.Array, weights: jax.Array, op: str) -> None:
    """TF's rule: a scalar, or the losses' rank with each size 1 or the losses' size."""
    if weights.ndim == 0:
        return
    if weights.ndim != losses.ndim or any(
        w not in (1, n) for w, n in zip(weights.shape, losses.shape, strict=True)
    ):
        raise NNArgumentError(
            f"{op} got weights of shape {weights.shape} for losses of shape {losses.shape}; "
            "pass a scalar, or an array of the losses' rank with each size 1 or the "
            "losses' size (e.g. [batch, 1])."
        )


def compute_weighted_loss(
    losses: Any,
    weights: Any = 1.0,
    scope: Any = None,
    loss_collection: Any = None,
    reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS,
) -> jax.Array:
    """``tf.losses.compute_weighted_loss``: ``losses * weights``, reduced by ``reduction``.

    TF1 also adds the result to the ``LOSSES`` collection; scopax has no collections,
    so ``scope`` and ``loss_collection`` are accepted and ignored: return the loss and
    sum it yourself (there is no ``get_total_loss``).

    >>> import jax.numpy as jnp
    >>> from scopax import losses
    >>> losses.compute_weighted_loss(jnp.array([1.0, 2.0, 3.0]), jnp.array([1.0, 0.0, 1.0]))
    Array(2., dtype=float32)

    Args:
      losses: the per-element losses.
      weights: a scalar, or broadcastable to ``losses`` (same rank, sizes 1 or equal).
      scope, loss_collection: accepted and ignored.
      reduction: one of :class:`Reduction`'s values.

    Returns:
      A scalar, or an array like ``losses`` for ``Reduction.NONE``.
    """
    del scope, loss_collection
    Reduction.validate(reduction)
    losses = jnp.asarray(losses)
    dtype = losses.dtype
    if not jnp.issubdtype(dtype, jnp.inexact):
        raise NNArgumentError(
            f"compute_weighted_loss got losses of dtype {dtype}; pass floating losses."
        )
    losses = losses.astype(jnp.promote_types(dtype, jnp.float32))
    weights = jnp.asarray(weights, losses.dtype)
    _check_weights(losses, weights, "compute_weighted_loss")
    weighted = losses * weights
    if reduction == Reduction.NONE:
        return weighted.astype(dtype)
    total = jnp.sum(weighted)
    if reduction == Reduction.MEAN:
        total = _safe_mean(total, jnp.sum(jnp.ones_like(losses) * weights))
    elif reduction == Reduction.SUM_BY_NONZERO_WEIGHTS:
        present = jnp.broadcast_to((weights != 0).astype(losses.dtype), losses.shape)
        total = _safe_mean(total, jnp.sum(present))
    elif reduction == Reduction.SUM_OVER_BATCH_SIZE:
        total = _safe_mean(total, jnp.asarray(np.prod(losses.shape), losses.dtype))
    return total.astype(dtype)


def _safe_mean(total: jax.Array, count: jax.Array) -> jax.Array:
    # TF's div_no_nan: 0 when nothing is present.
    return jnp.where(count == 0, jnp.zeros_like(total), total / jnp.where(count == 0, 1, count))
