"""``tf.contrib.layers.layer_norm`` and ``batch_norm``, with TF 1.15's defaults and math."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import numpy as np

import scopax as sx
from scopax.errors import NNArgumentError
from scopax.layers._normalization import moving_normalization
from scopax.nn._ops import batch_normalization, moments
from scopax.nn._util import float_dtype

# TF1's `tf.GraphKeys.UPDATE_OPS`, the default of `updates_collections`.
UPDATE_OPS = "update_ops"


def layer_norm(
    inputs: Any,
    center: bool = True,
    scale: bool = True,
    activation_fn: Callable[[jax.Array], jax.Array] | None = None,
    reuse: Any = None,
    variables_collections: Any = None,
    outputs_collections: Any = None,
    trainable: bool = True,
    begin_norm_axis: int = 1,
    begin_params_axis: int = -1,
    scope: Any = None,
) -> jax.Array:
    """``tf.contrib.layers.layer_norm`` (TF 1.15): normalize over the axes from
    ``begin_norm_axis`` on, then ``gamma * x + beta``.

    Variables ``beta`` (zeros) and ``gamma`` (ones) of shape
    ``inputs.shape[begin_params_axis:]``, in scope ``scope`` or ``LayerNorm`` made
    unique. TF 1.15 adds ``1e-12`` to the variance.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax.contrib import layers
    >>> model = sx.transform(lambda x: layers.layer_norm(x))
    >>> x = jnp.array([[1.0, 2.0, 3.0]])
    >>> params = model.init(jax.random.key(0), x)
    >>> sorted(sx.flatten(params))
    ['LayerNorm/beta', 'LayerNorm/gamma']
    >>> model.apply(params, x)
    Array([[-1.2247448,  0.       ,  1.2247448]], dtype=float32)

    Args:
      inputs: an array of rank >= 2, batch first.
      center, scale: whether to have ``beta`` and ``gamma``.
      activation_fn: applied last, if given.
      reuse: ``True`` or ``sx.AUTO_REUSE``, with ``scope``.
      variables_collections, outputs_collections: accepted and ignored.
      trainable: ``False`` makes the variables state.
      begin_norm_axis: the first axis normalized over (negative counts from the end).
      begin_params_axis: the first axis of the parameters' shape.
      scope: the variable scope.
    """
    del variables_collections, outputs_collections
    dtype = float_dtype(inputs, "layer_norm")
    rank = np.ndim(inputs)
    if rank < 1:
        raise NNArgumentError("layer_norm takes inputs with at least one axis, got a scalar.")
    norm_axis = begin_norm_axis + rank if begin_norm_axis < 0 else begin_norm_axis
    if not 0 <= norm_axis < rank or not -rank <= begin_params_axis < rank:
        raise NNArgumentError(
            f"layer_norm got begin_norm_axis={begin_norm_axis} and begin_params_axis="
            f"{begin_params_axis} for inputs of rank {rank}; both must be axes of the inputs, "
            "e.g. begin_norm_axis=-1, begin_params_axis=-1."
        )
    params_shape = list(np.shape(inputs)[begin_params_axis:])
    with sx.variable_scope(scope, "LayerNorm", [inputs], reuse=reuse):
        beta = gamma = None
        if center:
            beta = sx.get_variable(
                "beta", params_shape, dtype, sx.zeros_initializer(), trainable=trainable
            )
        if scale:
            gamma = sx.get_variable(
                "gamma", params_shape, dtype, sx.ones_initializer(), trainable=trainable
            )
        mean, variance = moments(inputs, list(range(norm_axis, rank)), keepdims=True)
        outputs = batch_normalization(inputs, mean, variance, beta, gamma, 1e-12)
    return outputs if activation_fn is None else activation_fn(outputs)


def _unsupported(argument: str, value: Any, default: Any) -> None:
    if value is not default and value != default:
        raise NNArgumentError(
            f"batch_norm got {argument}={value!r}, which scopax does not port; leave it "
            f"at {default!r}."
        )


def batch_norm(
    inputs: Any,
    decay: float = 0.999,
    center: bool = True,
    scale: bool = False,
    epsilon: float = 0.001,
    activation_fn: Callable[[jax.Array], jax.Array] | None = None,
    param_initializers: dict[str, Any] | None = None,
    param_regularizers: dict[str, Any] | None = None,
    updates_collections: Any = UPDATE_OPS,
    is_training: Any = True,
    reuse: Any = None,
    variables_collections: Any = None,
    outputs_collections: Any = None,
    trainable: bool = True,
    batch_weights: Any = None,
    fused: bool | None = None,
    data_format: str = "NHWC",
    zero_debias_moving_mean: bool = False,
    scope: Any = None,
    renorm: bool = False,
    renorm_clipping: Any = None,
    renorm_decay: float = 0.99,
    adjustment: Any = None,
) -> jax.Array:
    """``tf.contrib.layers.batch_norm`` (TF 1.15): training mode and no ``gamma`` by default.

    Variables, in scope ``scope`` or ``BatchNorm`` made unique: ``beta`` (zeros; with
    ``center``), ``gamma`` (ones; only with ``scale=True``), and the non-trainable
    ``moving_mean`` (zeros) and ``moving_variance`` (ones), which make the model
    stateful: run it with ``sx.transform_with_state``. In training (the default) the
    batch's statistics normalize and ``sx.assign`` moves the moving ones,
    ``moving -= (moving - batch) * (1 - decay)``.

    Where TF 1.15 runs its fused kernel, for rank 2 and for rank 4 with the channels
    on axis 1 or 3 (unless ``fused=False``), the moving variance moves towards the
    batch variance with Bessel's correction (``n / (n - 1)``, ``n`` the values per
    channel) and ``epsilon`` is at least 1.001e-5; other ranks use the plain variance.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax.contrib import layers
    >>> model = sx.transform_with_state(lambda x: layers.batch_norm(x))
    >>> x = jnp.array([[0.0, 1.0], [2.0, 5.0]])
    >>> params, state = model.init(jax.random.key(0), x)
    >>> sorted(sx.flatten(params)), sorted(sx.flatten(state))
    (['BatchNorm/beta'], ['BatchNorm/moving_mean', 'BatchNorm/moving_variance'])
    >>> y, state = model.apply(params, state, x)
    >>> state["BatchNorm/moving_variance"]  # 0.999 + 0.001 * (2, 8): Bessel-corrected
    Array([1.001, 1.007], dtype=float32)

    Args:
      inputs: ``[batch, ..., channels]`` (``"NCHW"``: channels second).
      decay: of the moving averages.
      center, scale: whether to have ``beta`` and ``gamma``.
      epsilon: added to the variance.
      activation_fn: applied last, if given.
      param_initializers: initializers by variable name (``"beta"``, ``"gamma"``,
        ``"moving_mean"``, ``"moving_variance"``).
      param_regularizers: regularizers by name (``"beta"``, ``"gamma"``).
      updates_collections: accepted and ignored: the update is always returned in the
        new state, whatever TF1 collection it would have gone to.
      is_training: a Python bool, or a boolean scalar array (both branches then run).
      reuse: ``True`` or ``sx.AUTO_REUSE``, with ``scope``.
      variables_collections, outputs_collections: accepted and ignored.
      trainable: ``False`` makes ``beta`` and ``gamma`` state too.
      batch_weights: not ported, nor are ``zero_debias_moving_mean``, ``renorm``,
        ``renorm_clipping``, ``renorm_decay`` and ``adjustment``: leave them at their
        defaults.
      fused: ``False`` for the plain batch variance at rank 2 and 4 too.
      data_format: ``"NHWC"`` (channels last) or ``"NCHW"`` (channels on axis 1).
      scope: the variable scope.
    """
    del updates_collections, variables_collections, outputs_collections, renorm_decay
    for argument, value, default in (
        ("batch_weights", batch_weights, None),
        ("zero_debias_moving_mean", zero_debias_moving_mean, False),
        ("renorm", renorm, False),
        ("renorm_clipping", renorm_clipping, None),
        ("adjustment", adjustment, None),
    ):
        _unsupported(argument, value, default)
    if data_format not in ("NHWC", "NCHW"):
        raise NNArgumentError(f'batch_norm got data_format={data_format!r}; pass "NHWC" or "NCHW".')
    dtype = float_dtype(inputs, "batch_norm")
    ndim = np.ndim(inputs)
    if ndim < 2:
        raise NNArgumentError(
            f"batch_norm takes inputs of rank >= 2, got shape {np.shape(inputs)}."
        )
    axis = 1 if data_format == "NCHW" else ndim - 1
    initializers = dict(param_initializers or {})
    regularizers = dict(param_regularizers or {})
    unknown = sorted(set(initializers) - {"beta", "gamma", "moving_mean", "moving_variance"})
    unknown += sorted(set(regularizers) - {"beta", "gamma"})
    if unknown:
        raise NNArgumentError(
            f"batch_norm got param_initializers/param_regularizers for {unknown}; the keys "
            'are "beta", "gamma", "moving_mean", "moving_variance" (regularizers: "beta", '
            '"gamma").'
        )
    # TF keeps half-precision parameters in float32.
    param_dtype = np.dtype(np.float32) if np.dtype(dtype).itemsize < 4 else dtype
    channels = [np.shape(inputs)[axis]]
    with sx.variable_scope(scope, "BatchNorm", [inputs], reuse=reuse):

        def variable(name: str, default: Any, train: bool) -> Any:
            return sx.get_variable(
                name,
                channels,
                param_dtype,
                initializers.get(name, default),
                trainable=train,
                regularizer=regularizers.get(name),
            )

        beta = variable("beta", sx.zeros_initializer(), trainable) if center else None
        gamma = variable("gamma", sx.ones_initializer(), trainable) if scale else None
        moving_mean = variable("moving_mean", sx.zeros_initializer(), False)
        moving_variance = variable("moving_variance", sx.ones_initializer(), False)
        # TF 1.15's contrib batch_norm runs the fused kernel for rank 2 (its own
        # reshape to rank 4) and, through tf.layers, for rank 4 with channels on 1 or 3.
        is_fused = fused is not False and (ndim == 2 or (ndim == 4 and axis in (1, 3)))
        outputs = moving_normalization(
            inputs,
            axis,
            decay,
            epsilon,
            gamma,
            beta,
            moving_mean,
            moving_variance,
            is_training,
            is_fused,
        )
    return outputs if activation_fn is None else activation_fn(outputs)
