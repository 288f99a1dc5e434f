"""TF1's ``tf.layers.dense``, ``dropout`` and ``flatten``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import scopax as sx
from scopax.errors import NNArgumentError
from scopax.nn._ops import _drop
from scopax.nn._util import bias_last, float_dtype, layer_scope, matmul_last


def dense(
    inputs: Any,
    units: int,
    activation: Callable[[jax.Array], jax.Array] | None = None,
    use_bias: bool = True,
    kernel_initializer: Any = None,
    bias_initializer: Any = None,
    kernel_regularizer: Any = None,
    bias_regularizer: Any = None,
    trainable: bool = True,
    name: str | None = None,
    reuse: Any = None,
) -> jax.Array:
    """TF1's ``tf.layers.dense``: ``activation(inputs @ kernel + bias)``.

    Variables ``kernel`` ``[depth, units]`` (the scope's initializer, else
    ``glorot_uniform``) and ``bias`` ``[units]`` (zeros), in scope ``name``, or ``dense``
    made unique in the current scope (``dense``, ``dense_1``, ...). Inputs of rank > 2
    are multiplied along their last axis.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax import layers
    >>> def mlp(x):
    ...     return layers.dense(layers.dense(x, 8, activation=jax.nn.relu), 2)
    >>> params = sx.transform(mlp).init(jax.random.key(0), jnp.ones((4, 3)))
    >>> sorted(sx.flatten(params))
    ['dense/bias', 'dense/kernel', 'dense_1/bias', 'dense_1/kernel']

    Args:
      inputs: ``[..., depth]``.
      units: the output depth.
      activation: applied last, if given.
      use_bias: add a bias.
      kernel_initializer, bias_initializer: initializers; the defaults above when None.
      kernel_regularizer, bias_regularizer: ``f(variable) -> loss``, see
        ``sx.get_regularization_losses``.
      trainable: ``False`` makes the variables state (``sx.transform_with_state``).
      name: the scope name, used as given (not made unique).
      reuse: ``True`` or ``sx.AUTO_REUSE`` to reuse the variables of scope ``name``.

    Returns:
      ``[..., units]``.
    """
    dtype = float_dtype(inputs, "dense")
    with layer_scope(name, "dense", reuse):
        kernel = sx.get_variable(
            "kernel",
            [inputs.shape[-1], units],
            dtype,
            kernel_initializer,
            trainable=trainable,
            regularizer=kernel_regularizer,
        )
        outputs = matmul_last(inputs, kernel)
        if use_bias:
            bias = sx.get_variable(
                "bias",
                [units],
                dtype,
                sx.zeros_initializer() if bias_initializer is None else bias_initializer,
                trainable=trainable,
                regularizer=bias_regularizer,
            )
            outputs = bias_last(outputs, bias)
    return outputs if activation is None else activation(outputs)


def dropout(
    inputs: Any,
    rate: float = 0.5,
    noise_shape: Sequence[int] | None = None,
    seed: int | None = None,
    training: Any = False,
    name: str | None = None,
) -> jax.Array:
    """TF1's ``tf.layers.dropout``: in training, zero each value with probability ``rate``.

    Kept values are scaled by ``1 / (1 - rate)``; outside training (the default!) the
    inputs pass unchanged. The mask's key comes from ``sx.next_rng_key()``. (TF1's
    ``tf.nn.dropout(x, keep_prob)``, always on, is :func:`scopax.nn.dropout`.)

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax import layers
    >>> model = sx.transform(lambda x: layers.dropout(x, rate=0.5, training=True))
    >>> y = model.apply({}, jnp.ones(1000), rng=jax.random.key(0))
    >>> sorted(set(y.tolist()))
    [0.0, 2.0]

    Args:
      inputs: a floating array.
      rate: the drop probability, in ``[0, 1)``.
      noise_shape: the mask's shape, broadcast against ``inputs`` (same rank), e.g.
        ``[batch, 1, depth]`` to drop the same features at every step.
      seed: folded into the key.
      training: a Python bool, or a boolean scalar array (both branches then run).
      name: accepted for TF1 compatibility.

    Returns:
      An array like ``inputs``.
    """
    del name
    if not 0 <= rate < 1:
        raise NNArgumentError(f"dropout got rate={rate}; pass a drop probability in [0, 1).")
    dtype = float_dtype(inputs, "dropout")
    if training is None or training is False or rate == 0:
        return inputs
    dropped = _drop(inputs, rate, noise_shape, seed, dtype, "dropout")
    if training is True:
        return dropped
    return jnp.where(training, dropped, inputs)


def flatten(inputs: Any, name: str | None = None, data_format: str = "channels_last") -> jax.Array:
    """TF1's ``tf.layers.flatten``: ``[batch, ...]`` to ``[batch, features]``.

    With ``channels_first`` the channels are moved last first, as Keras does, so the
    features come in the same order for either layout.

    >>> import jax.numpy as jnp
    >>> from scopax import layers
    >>> layers.flatten(jnp.ones((2, 3, 4))).shape
    (2, 12)

    Args:
      inputs: an array of rank >= 1.
      name: accepted for TF1 compatibility.
      data_format: ``"channels_last"`` or ``"channels_first"``.
    """
    del name
    if data_format not in ("channels_last", "channels_first"):
        raise NNArgumentError(
            f'flatten got data_format={data_format!r}; pass "channels_last" or "channels_first".'
        )
    inputs = jnp.asarray(inputs)
    if inputs.ndim < 1:
        raise NNArgumentError("flatten takes inputs with a batch axis, got a scalar.")
    if data_format == "channels_first" and inputs.ndim > 2:
        inputs = jnp.moveaxis(inputs, 1, -1)
    return jnp.reshape(inputs, (np.shape(inputs)[0], -1))
