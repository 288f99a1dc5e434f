"""TF1's ``tf.nn`` activations and softmax, with TF1's argument names and defaults."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp


def relu(features: Any, name: str | None = None) -> jax.Array:
    """``tf.nn.relu``: ``max(features, 0)``.

    >>> import jax.numpy as jnp
    >>> from scopax import nn
    >>> nn.relu(jnp.array([-1.0, 2.0]))
    Array([0., 2.], dtype=float32)
    """
    del name
    return jax.nn.relu(features)


def relu6(features: Any, name: str | None = None) -> jax.Array:
    """``tf.nn.relu6``: ``min(max(features, 0), 6)``.

    >>> import jax.numpy as jnp
    >>> from scopax import nn
    >>> nn.relu6(jnp.array([-1.0, 7.0]))
    Array([0., 6.], dtype=float32)
    """
    del name
    return jnp.minimum(jnp.maximum(features, 0), 6)


def elu(features: Any, name: str | None = None) -> jax.Array:
    """``tf.nn.elu``: ``features`` where positive, else ``exp(features) - 1``.

    >>> import jax.numpy as jnp
    >>> from scopax import nn
    >>> nn.elu(jnp.array([0.0, 1.0]))
    Array([0., 1.], dtype=float32)
    """
    del name
    return jax.nn.elu(features)


def selu(features: Any, name: str | None = None) -> jax.Array:
    """``tf.nn.selu``: the scaled ELU of Klambauer et al. (2017), TF's constants.

    >>> import jax.numpy as jnp
    >>> from scopax import nn
    >>> nn.selu(jnp.array([1.0]))
    Array([1.050701], dtype=float32)
    """
    del name
    return jax.nn.selu(features)


def softplus(features: Any, name: str | None = None) -> jax.Array:
    """``tf.nn.softplus``: ``log(exp(features) + 1)``.

    >>> import jax.numpy as jnp
    >>> from scopax import nn
    >>> nn.softplus(jnp.array([0.0]))
    Array([0.6931472], dtype=float32)
    """
    del name
    return jax.nn.softplus(features)


def softsign(features: Any, name: str | None = None) -> jax.Array:
    """``tf.nn.softsign``: ``features / (abs(features) + 1)``.

    >>> import jax.numpy as jnp
    >>> from scopax import nn
    >>> nn.softsign(jnp.array([-3.0, 1.0]))
    Array([-0.75,  0.5 ], dtype=float32)
    """
    del name
    return features / (jnp.abs(features) + 1)


def sigmoid(x: Any, name: str | None = None) -> jax.Array:
    """``tf.nn.sigmoid``: ``1 / (1 + exp(-x))``.

    >>> import jax.numpy as jnp
    >>> from scopax import nn
    >>> nn.sigmoid(jnp.array([0.0]))
    Array([0.5], dtype=float32)
    """
    del name
    return jax.nn.sigmoid(x)


def tanh(x: Any, name: str | None = None) -> jax.Array:
    """``tf.nn.tanh``.

    >>> import jax.numpy as jnp
    >>> from scopax import nn
    >>> nn.tanh(jnp.array([0.0]))
    Array([0.], dtype=float32)
    """
    del name
    return jnp.tanh(x)


def leaky_relu(features: Any, alpha: float = 0.2, name: str | None = None) -> jax.Array:
    """``tf.nn.leaky_relu``: ``features`` where positive, else ``alpha * features``.

    Note TF's default ``alpha=0.2`` (``jax.nn.leaky_relu``'s is 0.01).

    >>> import jax.numpy as jnp
    >>> from scopax import nn
    >>> nn.leaky_relu(jnp.array([-1.0, 2.0]))
    Array([-0.2,  2. ], dtype=float32)
    """
    del name
    return (
        jnp.maximum(alpha * features, features)
        if alpha <= 1
        else jnp.where(features > 0, features, alpha * features)
    )


def crelu(features: Any, name: str | None = None, axis: int = -1) -> jax.Array:
    """``tf.nn.crelu``: ``relu(features)`` and ``relu(-features)``, concatenated on ``axis``.

    >>> import jax.numpy as jnp
    >>> from scopax import nn
    >>> nn.crelu(jnp.array([[-1.0, 2.0]]))
    Array([[0., 2., 1., 0.]], dtype=float32)
    """
    del name
    return jnp.concatenate([jax.nn.relu(features), jax.nn.relu(-features)], axis=axis)


def swish(features: Any) -> jax.Array:
    """``tf.nn.swish``: ``features * sigmoid(features)``.

    >>> import jax.numpy as jnp
    >>> from scopax import nn
    >>> nn.swish(jnp.array([0.0, 1.0]))
    Array([0.       , 0.7310586], dtype=float32)
    """
    return features * jax.nn.sigmoid(features)


def _axis(axis: int | None, dim: int | None) -> int:
    return -1 if axis is None and dim is None else (axis if axis is not None else dim)  # type: ignore[return-value]


def softmax(
    logits: Any, axis: int | None = None, name: str | None = None, dim: int | None = None
) -> jax.Array:
    """``tf.nn.softmax`` along ``axis`` (the last by default; ``dim`` is TF1's older name).

    >>> import jax.numpy as jnp
    >>> from scopax import nn
    >>> nn.softmax(jnp.array([0.0, 0.0]))
    Array([0.5, 0.5], dtype=float32)
    """
    del name
    return jax.nn.softmax(logits, axis=_axis(axis, dim))


def log_softmax(
    logits: Any, axis: int | None = None, name: str | None = None, dim: int | None = None
) -> jax.Array:
    """``tf.nn.log_softmax`` along ``axis`` (the last by default).

    >>> import jax.numpy as jnp
    >>> from scopax import nn
    >>> nn.log_softmax(jnp.array([0.0, 0.0]))
    Array([-0.6931472, -0.6931472], dtype=float32)
    """
    del name
    return jax.nn.log_softmax(logits, axis=_axis(axis, dim))
