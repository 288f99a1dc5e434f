"""TF 1.15's ``tf.losses`` functions: a per-element loss, weighted and reduced."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import scopax as sx
from scopax.errors import GraphOnlyError, NNArgumentError
from scopax.losses._reduction import Reduction, compute_weighted_loss
from scopax.nn._losses import (
    sigmoid_cross_entropy_with_logits,
    softmax_cross_entropy_with_logits_v2,
    sparse_softmax_cross_entropy_with_logits,
)

_DEFAULT = Reduction.SUM_BY_NONZERO_WEIGHTS


def _pair(labels: Any, predictions: Any, op: str, names: tuple[str, str]) -> tuple[Any, Any]:
    labels, predictions = jnp.asarray(labels), jnp.asarray(predictions)
    if labels.shape != predictions.shape:
        raise NNArgumentError(
            f"{op} got {names[0]} of shape {labels.shape} and {names[1]} of shape "
            f"{predictions.shape}; they must be equal."
        )
    dtype = jnp.promote_types(predictions.dtype, jnp.float32)
    return labels.astype(dtype), predictions.astype(dtype)


def absolute_difference(
    labels: Any,
    predictions: Any,
    weights: Any = 1.0,
    scope: Any = None,
    loss_collection: Any = None,
    reduction: str = _DEFAULT,
) -> jax.Array:
    """``tf.losses.absolute_difference``: ``abs(predictions - labels)``, weighted and reduced
    as :func:`compute_weighted_loss`.

    >>> import jax.numpy as jnp
    >>> from scopax import losses
    >>> losses.absolute_difference(jnp.array([1.0, 2.0]), jnp.array([2.0, 4.0]))
    Array(1.5, dtype=float32)

    Args:
      labels, predictions: arrays of one shape.
      weights, scope, loss_collection, reduction: as :func:`compute_weighted_loss`.
    """
    labels, predictions = _pair(
        labels, predictions, "absolute_difference", ("labels", "predictions")
    )
    return compute_weighted_loss(jnp.abs(predictions - labels), weights, reduction=reduction)


def mean_squared_error(
    labels: Any,
    predictions: Any,
    weights: Any = 1.0,
    scope: Any = None,
    loss_collection: Any = None,
    reduction: str = _DEFAULT,
) -> jax.Array:
    """``tf.losses.mean_squared_error``: ``(predictions - labels) ** 2``, weighted and
    reduced as :func:`compute_weighted_loss`.

    >>> import jax.numpy as jnp
    >>> from scopax import losses
    >>> losses.mean_squared_error(jnp.array([1.0, 2.0]), jnp.array([2.0, 4.0]))
    Array(2.5, dtype=float32)

    Args:
      labels, predictions, weights, scope, loss_collection, reduction: as
        :func:`absolute_difference`.
    """
    labels, predictions = _pair(
        labels, predictions, "mean_squared_error", ("labels", "predictions")
    )
    return compute_weighted_loss(jnp.square(predictions - labels), weights, reduction=reduction)


def huber_loss(
    labels: Any,
    predictions: Any,
    weights: Any = 1.0,
    delta: float = 1.0,
    scope: Any = None,
    loss_collection: Any = None,
    reduction: str = _DEFAULT,
) -> jax.Array:
    """``tf.losses.huber_loss``: quadratic for errors up to ``delta``, linear beyond.

    >>> import jax.numpy as jnp
    >>> from scopax import losses
    >>> losses.huber_loss(jnp.zeros(2), jnp.array([0.5, 3.0]))
    Array(1.3125, dtype=float32)

    Args:
      labels, predictions, weights, scope, loss_collection, reduction: as
        :func:`absolute_difference`.
      delta: where the loss turns linear.
    """
    labels, predictions = _pair(labels, predictions, "huber_loss", ("labels", "predictions"))
    error = jnp.abs(predictions - labels)
    quadratic = jnp.minimum(error, delta)
    linear = error - quadratic
    losses = 0.5 * quadratic * quadratic + delta * linear
    return compute_weighted_loss(losses, weights, reduction=reduction)


def log_loss(
    labels: Any,
    predictions: Any,
    weights: Any = 1.0,
    epsilon: float = 1e-7,
    scope: Any = None,
    loss_collection: Any = None,
    reduction: str = _DEFAULT,
) -> jax.Array:
    """``tf.losses.log_loss``: the binary cross entropy of probabilities ``predictions``.

    >>> import jax.numpy as jnp
    >>> from scopax import losses
    >>> losses.log_loss(jnp.array([1.0, 0.0]), jnp.array([0.5, 0.5]))
    Array(0.69314694, dtype=float32)

    Args:
      labels: targets in ``[0, 1]``.
      predictions: probabilities, of ``labels``' shape.
      epsilon: added inside the logarithms.
      weights, scope, loss_collection, reduction: as :func:`compute_weighted_loss`.
    """
    labels, predictions = _pair(labels, predictions, "log_loss", ("labels", "predictions"))
    losses = -labels * jnp.log(predictions + epsilon) - (1 - labels) * jnp.log(
        1 - predictions + epsilon
    )
    return compute_weighted_loss(losses, weights, reduction=reduction)


def hinge_loss(
    labels: Any,
    logits: Any,
    weights: Any = 1.0,
    scope: Any = None,
    loss_collection: Any = None,
    reduction: str = _DEFAULT,
) -> jax.Array:
    """``tf.losses.hinge_loss``: ``relu(1 - (2 * labels - 1) * logits)`` for 0/1 labels.

    >>> import jax.numpy as jnp
    >>> from scopax import losses
    >>> losses.hinge_loss(jnp.array([1.0, 0.0]), jnp.array([0.5, 0.5]))
    Array(1., dtype=float32)

    Args:
      labels: 0 or 1.
      logits: of ``labels``' shape.
      weights, scope, loss_collection, reduction: as :func:`compute_weighted_loss`.
    """
    labels, logits = _pair(labels, logits, "hinge_loss", ("labels", "logits"))
    losses = jax.nn.relu(1 - (2 * labels - 1) * logits)
    return compute_weighted_loss(losses, weights, reduction=reduction)


def cosine_distance(
    labels: Any,
    predictions: Any,
    axis: int | None = None,
    weights: Any = 1.0,
    scope: Any = None,
    loss_collection: Any = None,
    reduction: str = _DEFAULT,
    dim: int | None = None,
) -> jax.Array:
    """``tf.losses.cosine_distance``: ``1 - sum(labels * predictions, axis)``, for unit
    vectors (normalize them first, e.g. with ``scopax.nn.l2_normalize``).

    >>> import jax.numpy as jnp
    >>> from scopax import losses
    >>> losses.cosine_distance(jnp.array([[1.0, 0.0]]), jnp.array([[0.6, 0.8]]), axis=1)
    Array(0.39999998, dtype=float32)

    Args:
      labels, predictions: unit vectors along ``axis``, of one shape.
      axis: the vector axis (required); ``dim`` is its older name.
      weights: broadcastable to the losses, which keep ``axis`` with size 1.
      scope, loss_collection, reduction: as :func:`compute_weighted_loss`.
      dim: as ``axis``.
    """
    axis = dim if axis is None else axis
    if axis is None:
        raise NNArgumentError("cosine_distance needs axis, the vector axis, e.g. axis=1.")
    labels, predictions = _pair(labels, predictions, "cosine_distance", ("labels", "predictions"))
    losses = 1 - jnp.sum(labels * predictions, axis=axis, keepdims=True)
    return compute_weighted_loss(losses, weights, reduction=reduction)


def sigmoid_cross_entropy(
    multi_class_labels: Any,
    logits: Any,
    weights: Any = 1.0,
    label_smoothing: float = 0,
    scope: Any = None,
    loss_collection: Any = None,
    reduction: str = _DEFAULT,
) -> jax.Array:
    """``tf.losses.sigmoid_cross_entropy``: per-element sigmoid cross entropy; with
    ``label_smoothing`` the labels move towards 1/2.

    >>> import jax.numpy as jnp
    >>> from scopax import losses
    >>> losses.sigmoid_cross_entropy(jnp.array([[1.0, 0.0]]), jnp.zeros((1, 2)))
    Array(0.6931472, dtype=float32)

    Args:
      multi_class_labels: 0/1 (or soft) labels, of ``logits``' shape.
      logits: unscaled log odds.
      label_smoothing: the labels become ``labels * (1 - s) + s / 2``.
      weights, scope, loss_collection, reduction: as :func:`compute_weighted_loss`.
    """
    labels, logits = _pair(
        multi_class_labels, logits, "sigmoid_cross_entropy", ("multi_class_labels", "logits")
    )
    if label_smoothing > 0:
        labels = labels * (1 - label_smoothing) + 0.5 * label_smoothing
    losses = sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
    return compute_weighted_loss(losses, weights, reduction=reduction)


def softmax_cross_entropy(
    onehot_labels: Any,
    logits: Any,
    weights: Any = 1.0,
    label_smoothing: float = 0,
    scope: Any = None,
    loss_collection: Any = None,
    reduction: str = _DEFAULT,
) -> jax.Array:
    """``tf.losses.softmax_cross_entropy``: one loss per example; with
    ``label_smoothing`` the labels become ``onehot * (1 - s) + s / num_classes``. No
    gradient flows into the labels.

    >>> import jax.numpy as jnp
    >>> from scopax import losses
    >>> losses.softmax_cross_entropy(jnp.array([[0.0, 1.0]]), jnp.zeros((1, 2)))
    Array(0.6931472, dtype=float32)

    Args:
      onehot_labels: ``[batch, num_classes]`` one-hot (or soft) labels.
      logits: ``[batch, num_classes]``.
      weights: a scalar or ``[batch]``-broadcastable (``[batch]`` or ``[batch, 1]``).
      label_smoothing: as above.
      scope, loss_collection, reduction: as :func:`compute_weighted_loss`.
    """
    labels, logits = _pair(
        onehot_labels, logits, "softmax_cross_entropy", ("onehot_labels", "logits")
    )
    if label_smoothing > 0:
        labels = labels * (1 - label_smoothing) + label_smoothing / labels.shape[-1]
    losses = softmax_cross_entropy_with_logits_v2(
        labels=jax.lax.stop_gradient(labels), logits=logits
    )
    return compute_weighted_loss(losses, _per_example(weights, losses), reduction=reduction)


def sparse_softmax_cross_entropy(
    labels: Any,
    logits: Any,
    weights: Any = 1.0,
    scope: Any = None,
    loss_collection: Any = None,
    reduction: str = _DEFAULT,
) -> jax.Array:
    """``tf.losses.sparse_softmax_cross_entropy``: one loss per example, integer labels.

    >>> import jax.numpy as jnp
    >>> from scopax import losses
    >>> losses.sparse_softmax_cross_entropy(jnp.array([1, 0]), jnp.zeros((2, 4)))
    Array(1.3862944, dtype=float32)

    Args:
      labels: ``[batch]`` (or ``[batch, 1]``, squeezed as TF does) class ids.
      logits: ``[batch, num_classes]``.
      weights: a scalar or ``[batch]``-broadcastable.
      scope, loss_collection, reduction: as :func:`compute_weighted_loss`.
    """
    labels = jnp.asarray(labels)
    if labels.ndim == np.ndim(logits) and labels.shape[-1:] == (1,):
        labels = jnp.squeeze(labels, -1)  # TF's _remove_squeezable_dimensions
    losses = sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    return compute_weighted_loss(losses, _per_example(weights, losses), reduction=reduction)


def _per_example(weights: Any, losses: jax.Array) -> Any:
    weights = jnp.asarray(weights)
    if weights.ndim == losses.ndim + 1 and weights.shape[-1] == 1:
        return jnp.squeeze(weights, -1)  # [batch, 1] weights for [batch] losses
    return weights


def get_regularization_losses(scope: str | None = None) -> list[jax.Array]:
    """``tf.losses.get_regularization_losses``: :func:`scopax.get_regularization_losses`.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax import layers, losses
    >>> def f(x):
    ...     layers.dense(x, 2, kernel_regularizer=lambda w: jnp.sum(w * w))
    ...     return losses.get_regularization_losses()
    >>> len(sx.transform(f).apply({"dense/kernel": jnp.ones((3, 2)),
    ...                            "dense/bias": jnp.zeros(2)}, jnp.ones((1, 3))))
    1
    """
    return sx.get_regularization_losses(scope)


def get_regularization_loss(
    scope: str | None = None, name: str = "total_regularization_loss"
) -> jax.Array:
    """``tf.losses.get_regularization_loss``: :func:`scopax.get_regularization_loss`.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax import layers, losses
    >>> def f(x):
    ...     layers.dense(x, 2, kernel_regularizer=lambda w: jnp.sum(w * w))
    ...     return losses.get_regularization_loss()
    >>> sx.transform(f).apply({"dense/kernel": jnp.ones((3, 2)), "dense/bias": jnp.zeros(2)},
    ...                       jnp.ones((1, 3)))
    Array(6., dtype=float32)
    """
    del name
    return sx.get_regularization_loss(scope)


def get_total_loss(*args: Any, **kwargs: Any) -> jax.Array:
    """``tf.losses.get_total_loss`` is not supported: it sums TF1's ``LOSSES`` collection,
    which only a graph has; scopax's losses are returned, never collected. Add them.

    >>> from scopax import losses
    >>> losses.get_total_loss()
    Traceback (most recent call last):
    ...
    scopax.errors.GraphOnlyError: tf.losses.get_total_loss needs a TF1 graph ...
    """
    del args, kwargs
    raise GraphOnlyError(
        "losses.get_total_loss",
        "scopax's losses are returned, not added to a LOSSES collection: add them yourself, "
        "e.g. loss = losses.softmax_cross_entropy(labels, logits) + "
        "losses.get_regularization_loss().",
    )
