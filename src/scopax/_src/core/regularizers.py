"""Regularizer losses of the variables got in a trace (TF1's ``tf.losses`` helpers)."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from scopax._src.core import frame as frame_lib


def get_regularization_losses(scope: str | None = None) -> list[jax.Array]:
    """The regularizer losses of the variables got in this trace, once per variable.

    TF1's ``tf.losses.get_regularization_losses``: in the order the variables
    were first got, optionally only those whose full name starts with ``scope``.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> def f():
    ...     l2 = lambda w: 0.5 * jnp.sum(w**2)
    ...     with sx.variable_scope("a", regularizer=l2):
    ...         sx.get_variable("w", [2], initializer=sx.ones_initializer())
    ...     with sx.variable_scope("a", reuse=True):
    ...         sx.get_variable("w")
    ...     return sx.get_regularization_losses(), sx.get_regularization_loss()
    >>> model = sx.transform(f)
    >>> model.apply(model.init(jax.random.key(0)))
    ([Array(1., dtype=float32)], Array(1., dtype=float32))

    Args:
      scope: keep only variables whose full name starts with this string.

    Returns:
      A list of scalar arrays; regularizers that returned ``None`` are left out.
    """
    frame = frame_lib.current_frame("sx.get_regularization_losses")
    losses = []
    for name, regularizer, value in frame.reg_losses:
        if scope is None or name.startswith(scope):
            loss = regularizer(value)
            if loss is not None:
                losses.append(loss)
    return losses


def get_regularization_loss(scope: str | None = None) -> jax.Array:
    """The sum of :func:`get_regularization_losses` (0.0 when there are none).

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> def f():
    ...     sx.get_variable("w", [3], initializer=sx.ones_initializer(),
    ...                     regularizer=lambda w: jnp.sum(w))
    ...     return sx.get_regularization_loss()
    >>> sx.transform(f).apply({"w": jnp.ones(3)})
    Array(3., dtype=float32)
    """
    losses = get_regularization_losses(scope)
    if not losses:
        return jnp.zeros((), jnp.float32)
    return functools.reduce(jnp.add, losses)
