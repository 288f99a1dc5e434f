"""TF1's ``tf.nn`` cross-entropy losses, per example (reduce them yourself)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from scopax.errors import NNArgumentError


def softmax_cross_entropy_with_logits_v2(
    *, labels: Any, logits: Any, axis: int = -1, name: str | None = None
) -> jax.Array:
    """TF1's ``tf.nn.softmax_cross_entropy_with_logits_v2``: ``-sum(labels * log_softmax)``.

    Gradients flow into ``labels`` too. Arguments are keyword-only, as in TF.

    >>> import jax.numpy as jnp
    >>> from scopax import nn
    >>> nn.softmax_cross_entropy_with_logits_v2(labels=jnp.array([[0.0, 1.0]]),
    ...                                         logits=jnp.array([[0.0, 0.0]]))
    Array([0.6931472], dtype=float32)

    Args:
      labels: a probability distribution along ``axis`` per example.
      logits: unscaled log probabilities, like ``labels``.
      axis: the class axis.
      name: accepted for TF1 compatibility.

    Returns:
      The loss per example: ``logits`` without ``axis``.
    """
    del name
    if jnp.shape(labels) != jnp.shape(logits):
        raise NNArgumentError(
            f"softmax_cross_entropy_with_logits got labels of shape {jnp.shape(labels)} and "
            f"logits of shape {jnp.shape(logits)}; they must be equal (one distribution per "
            "example). For integer class ids use sparse_softmax_cross_entropy_with_logits."
        )
    return -jnp.sum(labels * jax.nn.log_softmax(logits, axis=axis), axis=axis)


def softmax_cross_entropy_with_logits(
    *,
    labels: Any,
    logits: Any,
    dim: int = -1,
    name: str | None = None,
    axis: int | None = None,
) -> jax.Array:
    """TF1's ``tf.nn.softmax_cross_entropy_with_logits``: as the ``_v2`` loss, but no
    gradient flows into ``labels`` (TF1 stops it).

    >>> import jax, jax.numpy as jnp
    >>> from scopax import nn
    >>> loss = lambda y: nn.softmax_cross_entropy_with_logits(labels=y, logits=jnp.zeros(2))
    >>> jax.grad(loss)(jnp.array([0.0, 1.0]))
    Array([0., 0.], dtype=float32)

    Args:
      labels, logits, name: as :func:`softmax_cross_entropy_with_logits_v2`.
      dim: the class axis (TF1's older name).
      axis: the class axis; overrides ``dim``.

    Returns:
      The loss per example.
    """
    return softmax_cross_entropy_with_logits_v2(
        labels=jax.lax.stop_gradient(labels),
        logits=logits,
        axis=dim if axis is None else axis,
        name=name,
    )


def sparse_softmax_cross_entropy_with_logits(
    *, labels: Any, logits: Any, name: str | None = None
) -> jax.Array:
    """TF1's ``tf.nn.sparse_softmax_cross_entropy_with_logits``, with integer class ids.

    A class id outside ``[0, num_classes)`` gives NaN (TF raises on CPU, gives NaN on
    GPU). Arguments are keyword-only, as in TF.

    >>> import jax.numpy as jnp
    >>> from scopax import nn
    >>> nn.sparse_softmax_cross_entropy_with_logits(labels=jnp.array([1, 0]),
    ...                                             logits=jnp.zeros((2, 4)))
    Array([1.3862944, 1.3862944], dtype=float32)

    Args:
      labels: integer class ids, of shape ``logits.shape[:-1]``.
      logits: ``[..., num_classes]`` unscaled log probabilities.
      name: accepted for TF1 compatibility.

    Returns:
      The loss per example, of the shape of ``labels``.
    """
    del name
    labels = jnp.asarray(labels)
    if not jnp.issubdtype(labels.dtype, jnp.integer):
        raise NNArgumentError(
            f"sparse_softmax_cross_entropy_with_logits got labels of dtype {labels.dtype}; "
            "pass integer class ids (for one-hot or soft labels use "
            "softmax_cross_entropy_with_logits)."
        )
    if labels.shape != jnp.shape(logits)[:-1]:
        raise NNArgumentError(
            f"sparse_softmax_cross_entropy_with_logits got labels of shape {labels.shape} and "
            f"logits of shape {jnp.shape(logits)}; labels must have the logits' shape without "
            "the last (class) axis."
        )
    num_classes = jnp.shape(logits)[-1]
    log_probs = jax.nn.log_softmax(logits, axis=-1)
    valid = (labels >= 0) & (labels < num_classes)
    picked = jnp.take_along_axis(log_probs, jnp.clip(labels, 0, num_classes - 1)[..., None], -1)
    return jnp.where(valid, -picked[..., 0], jnp.nan)


def sigmoid_cross_entropy_with_logits(
    _sentinel: Any = None, labels: Any = None, logits: Any = None, name: str | None = None
) -> jax.Array:
    """TF1's ``tf.nn.sigmoid_cross_entropy_with_logits``, elementwise, in TF's stable form
    ``max(x, 0) - x * z + log(1 + exp(-abs(x)))``.

    >>> import jax.numpy as jnp
    >>> from scopax import nn
    >>> nn.sigmoid_cross_entropy_with_logits(labels=jnp.array([1.0]), logits=jnp.array([0.0]))
    Array([0.6931472], dtype=float32)

    Args:
      _sentinel: must stay unset: pass ``labels`` and ``logits`` by name, as in TF.
      labels: probabilities in ``[0, 1]``, of ``logits``' shape.
      logits: unscaled log odds.
      name: accepted for TF1 compatibility.
    """
    del name
    _check_named("sigmoid_cross_entropy_with_logits", _sentinel, labels, logits)
    return jax.nn.relu(logits) - logits * labels + jnp.log1p(jnp.exp(-jnp.abs(logits)))


def weighted_cross_entropy_with_logits(
    labels: Any = None,
    logits: Any = None,
    pos_weight: Any = None,
    name: str | None = None,
    targets: Any = None,
) -> jax.Array:
    """TF1's ``tf.nn.weighted_cross_entropy_with_logits``: the sigmoid cross entropy with
    the positive term weighted by ``pos_weight``.

    >>> import jax.numpy as jnp
    >>> from scopax import nn
    >>> nn.weighted_cross_entropy_with_logits(labels=jnp.array([1.0]), logits=jnp.array([0.0]),
    ...                                       pos_weight=2.0)
    Array([1.3862944], dtype=float32)

    Args:
      labels: probabilities in ``[0, 1]``; ``targets`` is TF1's older name.
      logits: unscaled log odds, of ``labels``' shape.
      pos_weight: the weight of the positive examples.
      name: accepted for TF1 compatibility.
      targets: as ``labels``.
    """
    del name
    labels = targets if labels is None else labels
    _check_named("weighted_cross_entropy_with_logits", None, labels, logits)
    if pos_weight is None:
        raise NNArgumentError(
            "weighted_cross_entropy_with_logits needs pos_weight, e.g. pos_weight=2.0."
        )
    log_weight = 1 + (pos_weight - 1) * labels
    return (1 - labels) * logits + log_weight * (
        jnp.log1p(jnp.exp(-jnp.abs(logits))) + jax.nn.relu(-logits)
    )


def _check_named(op: str, sentinel: Any, labels: Any, logits: Any) -> None:
    if sentinel is not None or labels is None or logits is None:
        raise NNArgumentError(
            f"{op} takes labels and logits by name: {op}(labels=..., logits=...)."
        )
    if jnp.shape(labels) != jnp.shape(logits):
        raise NNArgumentError(
            f"{op} got labels of shape {jnp.shape(labels)} and logits of shape "
            f"{jnp.shape(logits)}; they must be equal."
        )
