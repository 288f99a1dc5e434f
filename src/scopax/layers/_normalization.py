"""TF1's ``tf.layers.batch_normalization``, with its moving statistics as state."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import scopax as sx
from scopax.errors import NNArgumentError
from scopax.nn._util import float_dtype, layer_scope

_HALF = (np.dtype(jnp.float16), np.dtype(jnp.bfloat16))


def batch_normalization(
    inputs: Any,
    axis: int = -1,
    momentum: float = 0.99,
    epsilon: float = 1e-3,
    center: bool = True,
    scale: bool = True,
    beta_initializer: Any = None,
    gamma_initializer: Any = None,
    moving_mean_initializer: Any = None,
    moving_variance_initializer: Any = None,
    beta_regularizer: Any = None,
    gamma_regularizer: Any = None,
    training: Any = False,
    trainable: bool = True,
    name: str | None = None,
    reuse: Any = None,
    fused: bool | None = None,
) -> jax.Array:
    """TF1's ``tf.layers.batch_normalization``.

    Variables, in scope ``name`` or ``batch_normalization`` made unique: ``gamma``
    (ones) and ``beta`` (zeros), ``[channels]``, and the non-trainable ``moving_mean``
    (zeros) and ``moving_variance`` (ones), which make the model stateful: run it with
    ``sx.transform_with_state``. In training the batch's statistics normalize and
    ``sx.assign`` moves the moving statistics towards them,
    ``moving -= (moving - batch) * (1 - momentum)``, the update TF1 puts in
    ``UPDATE_OPS``; outside training the moving statistics normalize.

    As in TF1, a rank-4 input with the channels on axis 1 or 3 takes the fused kernel,
    whose variance for the moving average has Bessel's correction (``n / (n - 1)``);
    other inputs use the plain batch variance.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax import layers
    >>> model = sx.transform_with_state(lambda x: layers.batch_normalization(x, training=True))
    >>> x = jnp.array([[0.0, 1.0], [2.0, 5.0]])
    >>> params, state = model.init(jax.random.key(0), x)
    >>> sorted(sx.flatten(params)), sorted(sx.flatten(state))
    (['batch_normalization/beta', 'batch_normalization/gamma'],
     ['batch_normalization/moving_mean', 'batch_normalization/moving_variance'])
    >>> y, state = model.apply(params, state, x)
    >>> state["batch_normalization/moving_mean"]
    Array([0.01, 0.03], dtype=float32)

    Args:
      inputs: an array with the channels on ``axis``.
      axis: the channel axis (an int).
      momentum: of the moving averages.
      epsilon: added to the variance.
      center, scale: whether to have ``beta`` and ``gamma``.
      beta_initializer: overrides the default above; so do ``gamma_initializer``,
        ``moving_mean_initializer`` and ``moving_variance_initializer``.
      beta_regularizer, gamma_regularizer: ``f(variable) -> loss``.
      training: a Python bool, or a boolean scalar array (both branches then run).
      trainable: ``False`` makes ``gamma`` and ``beta`` state too.
      name, reuse: as :func:`dense`.
      fused: ``False`` to use the plain batch variance for a rank-4 input too.

    Returns:
      An array like ``inputs``.
    """
    if not isinstance(axis, int):
        raise NNArgumentError(f"batch_normalization got axis={axis!r}; pass one int axis.")
    dtype = float_dtype(inputs, "batch_normalization")
    ndim = np.ndim(inputs)
    if not -ndim <= axis < ndim:
        raise NNArgumentError(
            f"batch_normalization got axis={axis} for inputs of shape {np.shape(inputs)}."
        )
    axis %= ndim
    channels = inputs.shape[axis]
    # TF keeps half-precision layers' parameters in float32.
    param_dtype = np.dtype(np.float32) if dtype in _HALF else dtype
    with layer_scope(name, "batch_normalization", reuse):
        gamma = beta = None
        if scale:
            gamma = sx.get_variable(
                "gamma",
                [channels],
                param_dtype,
                sx.ones_initializer() if gamma_initializer is None else gamma_initializer,
                trainable=trainable,
                regularizer=gamma_regularizer,
            )
        if center:
            beta = sx.get_variable(
                "beta",
                [channels],
                param_dtype,
                sx.zeros_initializer() if beta_initializer is None else beta_initializer,
                trainable=trainable,
                regularizer=beta_regularizer,
            )
        moving_mean = sx.get_variable(
            "moving_mean",
            [channels],
            param_dtype,
            sx.zeros_initializer() if moving_mean_initializer is None else moving_mean_initializer,
            trainable=False,
        )
        moving_variance = sx.get_variable(
            "moving_variance",
            [channels],
            param_dtype,
            sx.ones_initializer()
            if moving_variance_initializer is None
            else moving_variance_initializer,
            trainable=False,
        )
        # TF 1.15 takes its fused kernel for rank 4 with the channels on axis 1 or 3.
        is_fused = ndim == 4 and axis in (1, 3) and fused is not False
        out = moving_normalization(
            inputs,
            axis,
            momentum,
            epsilon,
            gamma,
            beta,
            moving_mean,
            moving_variance,
            training,
            is_fused,
        )
    return out


def moving_normalization(
    inputs: Any,
    axis: int,
    momentum: float,
    epsilon: float,
    gamma: Any,
    beta: Any,
    moving_mean: Any,
    moving_variance: Any,
    training: Any,
    fused: bool,
) -> jax.Array:
    """Normalizes with the batch's statistics in training (and moves the moving ones,
    with ``sx.assign``), else with the moving statistics; shared with
    ``scopax.contrib.layers.batch_norm``.

    ``fused``: whether TF 1.15 runs its fused kernel here. That kernel raises
    ``epsilon`` to at least 1.001e-5 and gives the moving average the variance with
    Bessel's correction, ``n / (n - 1)``; otherwise both use the plain batch variance.
    """
    dtype = jnp.result_type(inputs)
    param_dtype = jnp.result_type(moving_mean)
    ndim = np.ndim(inputs)
    shape = [1] * ndim
    shape[axis] = inputs.shape[axis]
    if fused:
        epsilon = max(epsilon, 1.001e-5)

    def normalize(mean: jax.Array, variance: jax.Array) -> jax.Array:
        inv = jax.lax.rsqrt(variance + epsilon)
        if gamma is not None:
            inv = inv * gamma
        offset = -mean * inv if beta is None else beta - mean * inv
        x = inputs.astype(param_dtype)
        out = x * jnp.reshape(inv, shape) + jnp.reshape(offset, shape)
        return out.astype(dtype)

    if training is None or training is False:
        return normalize(moving_mean, moving_variance)
    reduce = tuple(a for a in range(ndim) if a != axis)
    x = inputs.astype(param_dtype)
    mean = jnp.mean(x, axis=reduce)
    variance = jnp.mean(jnp.square(x - jnp.reshape(mean, shape)), axis=reduce)
    update_variance = variance
    if fused:
        n = np.prod([inputs.shape[a] for a in reduce])
        update_variance = variance * (n / max(n - 1, 1))
    decay = 1.0 - momentum
    new_mean = moving_mean - (moving_mean - mean) * decay
    new_variance = moving_variance - (moving_variance - update_variance) * decay
    out = normalize(mean, variance)
    if training is not True:
        out = jnp.where(training, out, normalize(moving_mean, moving_variance))
        new_mean = jnp.where(training, new_mean, moving_mean)
        new_variance = jnp.where(training, new_variance, moving_variance)
    sx.assign(moving_mean, new_mean)
    sx.assign(moving_variance, new_variance)
    return out
