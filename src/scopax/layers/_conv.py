"""TF1's ``tf.layers`` convolutions: ``conv1d``/``2d``/``3d``, ``conv2d_transpose`` and
``separable_conv2d``, with Keras's variable names (``kernel``, ``bias``, ...)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np

import scopax as sx
from scopax.errors import NNArgumentError
from scopax.nn._conv import _LAYOUTS, _conv
from scopax.nn._conv import conv2d_transpose as _nn_conv2d_transpose
from scopax.nn._conv import separable_conv2d as _nn_separable_conv2d
from scopax.nn._ops import bias_add
from scopax.nn._util import float_dtype, int_tuple, layer_scope, padding_name

Activation = Callable[[jax.Array], jax.Array] | None


def _layout(inputs: Any, data_format: str, spatial: int, op: str) -> str:
    if data_format not in ("channels_last", "channels_first"):
        raise NNArgumentError(
            f'{op} got data_format={data_format!r}; pass "channels_last" or "channels_first".'
        )
    if np.ndim(inputs) != spatial + 2:
        raise NNArgumentError(
            f"{op} takes inputs of rank {spatial + 2} (batch, {spatial} spatial axes, "
            f"channels), got shape {np.shape(inputs)}."
        )
    return _LAYOUTS[spatial][0][0 if data_format == "channels_last" else 1]


def _bias(
    outputs: jax.Array, filters: int, layout: str, dtype: Any, initializer: Any, **kwargs: Any
) -> jax.Array:
    bias = sx.get_variable(
        "bias",
        [filters],
        dtype,
        sx.zeros_initializer() if initializer is None else initializer,
        **kwargs,
    )
    return bias_add(outputs, bias, layout)


def _conv_layer(
    spatial: int,
    op: str,
    inputs: Any,
    filters: int,
    kernel_size: Any,
    strides: Any,
    padding: str,
    data_format: str,
    dilation_rate: Any,
    activation: Activation,
    use_bias: bool,
    kernel_initializer: Any,
    bias_initializer: Any,
    kernel_regularizer: Any,
    bias_regularizer: Any,
    trainable: bool,
    name: str | None,
    reuse: Any,
) -> jax.Array:
    dtype = float_dtype(inputs, op)
    layout = _layout(inputs, data_format, spatial, op)
    channels = inputs.shape[layout.index("C")]
    size = int_tuple(kernel_size, spatial, op, "kernel_size")
    with layer_scope(name, op, reuse):
        kernel = sx.get_variable(
            "kernel",
            [*size, channels, filters],
            dtype,
            kernel_initializer,
            trainable=trainable,
            regularizer=kernel_regularizer,
        )
        outputs = _conv(
            inputs,
            kernel,
            int_tuple(strides, spatial, op, "strides"),
            padding_name(padding, op),
            layout,
            int_tuple(dilation_rate, spatial, op, "dilation_rate"),
            op,
            spatial,
        )
        if use_bias:
            outputs = _bias(
                outputs,
                filters,
                layout,
                dtype,
                bias_initializer,
                trainable=trainable,
                regularizer=bias_regularizer,
            )
    return outputs if activation is None else activation(outputs)


def conv2d(
    inputs: Any,
    filters: int,
    kernel_size: int | Sequence[int],
    strides: int | Sequence[int] = (1, 1),
    padding: str = "valid",
    data_format: str = "channels_last",
    dilation_rate: int | Sequence[int] = (1, 1),
    activation: Activation = None,
    use_bias: bool = True,
    kernel_initializer: Any = None,
    bias_initializer: Any = None,
    kernel_regularizer: Any = None,
    bias_regularizer: Any = None,
    trainable: bool = True,
    name: str | None = None,
    reuse: Any = None,
) -> jax.Array:
    """TF1's ``tf.layers.conv2d``: a 2-D convolution, plus bias, then ``activation``.

    Variables ``kernel`` ``[rows, cols, in_channels, filters]`` and ``bias``
    ``[filters]`` (zeros), in scope ``name`` or ``conv2d`` made unique. ``"same"``
    padding pads like TF (the extra row and column at the end).

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax import layers
    >>> model = sx.transform(lambda x: layers.conv2d(x, 8, 3, strides=2, padding="same"))
    >>> params = model.init(jax.random.key(0), jnp.ones((1, 9, 9, 3)))
    >>> params["conv2d/kernel"].shape, model.apply(params, jnp.ones((1, 9, 9, 3))).shape
    ((3, 3, 3, 8), (1, 5, 5, 8))

    Args:
      inputs: ``[batch, rows, cols, channels]`` (``channels_first``: channels second).
      filters: the number of output channels.
      kernel_size, strides, dilation_rate: an int or a pair ``(rows, cols)``.
      padding: ``"valid"`` or ``"same"``.
      data_format: ``"channels_last"`` or ``"channels_first"``.
      activation: as :func:`dense`; so are ``use_bias``, ``kernel_initializer``,
        ``bias_initializer``, ``kernel_regularizer``, ``bias_regularizer``,
        ``trainable``, ``name`` and ``reuse``.

    Returns:
      ``[batch, out_rows, out_cols, filters]`` (or channels first).
    """
    return _conv_layer(2, "conv2d", **_arguments(locals()))


def conv1d(
    inputs: Any,
    filters: int,
    kernel_size: int | Sequence[int],
    strides: int | Sequence[int] = 1,
    padding: str = "valid",
    data_format: str = "channels_last",
    dilation_rate: int | Sequence[int] = 1,
    activation: Activation = None,
    use_bias: bool = True,
    kernel_initializer: Any = None,
    bias_initializer: Any = None,
    kernel_regularizer: Any = None,
    bias_regularizer: Any = None,
    trainable: bool = True,
    name: str | None = None,
    reuse: Any = None,
) -> jax.Array:
    """TF1's ``tf.layers.conv1d``: variables ``kernel`` ``[width, in_channels, filters]``
    and ``bias``, in scope ``conv1d`` made unique; arguments as :func:`conv2d`.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax import layers
    >>> model = sx.transform(lambda x: layers.conv1d(x, 4, 3, padding="same"))
    >>> params = model.init(jax.random.key(0), jnp.ones((2, 7, 3)))
    >>> params["conv1d/kernel"].shape
    (3, 3, 4)
    """
    return _conv_layer(1, "conv1d", **_arguments(locals()))


def conv3d(
    inputs: Any,
    filters: int,
    kernel_size: int | Sequence[int],
    strides: int | Sequence[int] = (1, 1, 1),
    padding: str = "valid",
    data_format: str = "channels_last",
    dilation_rate: int | Sequence[int] = (1, 1, 1),
    activation: Activation = None,
    use_bias: bool = True,
    kernel_initializer: Any = None,
    bias_initializer: Any = None,
    kernel_regularizer: Any = None,
    bias_regularizer: Any = None,
    trainable: bool = True,
    name: str | None = None,
    reuse: Any = None,
) -> jax.Array:
    """TF1's ``tf.layers.conv3d``: variables ``kernel`` ``[depth, rows, cols, in, filters]``
    and ``bias``, in scope ``conv3d`` made unique; arguments as :func:`conv2d`.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax import layers
    >>> model = sx.transform(lambda x: layers.conv3d(x, 2, 2))
    >>> params = model.init(jax.random.key(0), jnp.ones((1, 3, 3, 3, 1)))
    >>> model.apply(params, jnp.ones((1, 3, 3, 3, 1))).shape
    (1, 2, 2, 2, 2)
    """
    return _conv_layer(3, "conv3d", **_arguments(locals()))


def _arguments(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k != "__class__"}


def _deconv_length(size: int, kernel: int, stride: int, padding: str) -> int:
    # Keras's deconv_output_length without output_padding.
    return size * stride + (max(kernel - stride, 0) if padding == "VALID" else 0)


def conv2d_transpose(
    inputs: Any,
    filters: int,
    kernel_size: int | Sequence[int],
    strides: int | Sequence[int] = (1, 1),
    padding: str = "valid",
    data_format: str = "channels_last",
    activation: Activation = None,
    use_bias: bool = True,
    kernel_initializer: Any = None,
    bias_initializer: Any = None,
    kernel_regularizer: Any = None,
    bias_regularizer: Any = None,
    trainable: bool = True,
    name: str | None = None,
    reuse: Any = None,
) -> jax.Array:
    """TF1's ``tf.layers.conv2d_transpose``: the transpose of a strided convolution.

    Variables ``kernel`` ``[rows, cols, filters, in_channels]`` (TF's layout: output
    channels before input channels) and ``bias`` ``[filters]``, in scope
    ``conv2d_transpose`` made unique. The output is ``size * stride`` with ``"same"``,
    ``size * stride + max(kernel - stride, 0)`` with ``"valid"``.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax import layers
    >>> model = sx.transform(lambda x: layers.conv2d_transpose(x, 4, 3, strides=2))
    >>> params = model.init(jax.random.key(0), jnp.ones((1, 5, 5, 2)))
    >>> params["conv2d_transpose/kernel"].shape, model.apply(params, jnp.ones((1, 5, 5, 2))).shape
    ((3, 3, 4, 2), (1, 11, 11, 4))

    Args:
      inputs: ``[batch, rows, cols, channels]`` (``channels_first``: channels second).
      filters: the output channels; the other arguments are as in :func:`conv2d`.
    """
    op = "conv2d_transpose"
    dtype = float_dtype(inputs, op)
    layout = _layout(inputs, data_format, 2, op)
    pad = padding_name(padding, op)
    size = int_tuple(kernel_size, 2, op, "kernel_size")
    stride = int_tuple(strides, 2, op, "strides")
    channel_axis = layout.index("C")
    spatial_axes = [a for a in range(4) if a != channel_axis][1:]
    with layer_scope(name, op, reuse):
        kernel = sx.get_variable(
            "kernel",
            [*size, filters, inputs.shape[channel_axis]],
            dtype,
            kernel_initializer,
            trainable=trainable,
            regularizer=kernel_regularizer,
        )
        shape = list(np.shape(inputs))
        shape[channel_axis] = filters
        for axis, k, s in zip(spatial_axes, size, stride, strict=True):
            shape[axis] = _deconv_length(shape[axis], k, s, pad)
        outputs = _nn_conv2d_transpose(inputs, kernel, shape, stride, pad, layout)
        if use_bias:
            outputs = _bias(
                outputs,
                filters,
                layout,
                dtype,
                bias_initializer,
                trainable=trainable,
                regularizer=bias_regularizer,
            )
    return outputs if activation is None else activation(outputs)


def separable_conv2d(
    inputs: Any,
    filters: int,
    kernel_size: int | Sequence[int],
    strides: int | Sequence[int] = (1, 1),
    padding: str = "valid",
    data_format: str = "channels_last",
    dilation_rate: int | Sequence[int] = (1, 1),
    depth_multiplier: int = 1,
    activation: Activation = None,
    use_bias: bool = True,
    depthwise_initializer: Any = None,
    pointwise_initializer: Any = None,
    bias_initializer: Any = None,
    depthwise_regularizer: Any = None,
    pointwise_regularizer: Any = None,
    bias_regularizer: Any = None,
    trainable: bool = True,
    name: str | None = None,
    reuse: Any = None,
) -> jax.Array:
    """TF1's ``tf.layers.separable_conv2d``: a depthwise convolution, then a 1x1 one.

    Variables ``depthwise_kernel`` ``[rows, cols, in_channels, depth_multiplier]``,
    ``pointwise_kernel`` ``[1, 1, in_channels * depth_multiplier, filters]`` and
    ``bias``, in scope ``separable_conv2d`` made unique.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax import layers
    >>> model = sx.transform(lambda x: layers.separable_conv2d(x, 5, 3, depth_multiplier=2))
    >>> params = model.init(jax.random.key(0), jnp.ones((1, 6, 6, 3)))
    >>> sorted((k, v.shape) for k, v in sx.flatten(params).items())
    [('separable_conv2d/bias', (5,)), ('separable_conv2d/depthwise_kernel', (3, 3, 3, 2)),
     ('separable_conv2d/pointwise_kernel', (1, 1, 6, 5))]

    Args:
      inputs: as :func:`conv2d`; so are the arguments not listed here.
      depth_multiplier: the depthwise filters per input channel.
      depthwise_initializer, pointwise_initializer: the kernels' initializers.
      depthwise_regularizer, pointwise_regularizer: the kernels' regularizers.
    """
    op = "separable_conv2d"
    dtype = float_dtype(inputs, op)
    layout = _layout(inputs, data_format, 2, op)
    channels = inputs.shape[layout.index("C")]
    size = int_tuple(kernel_size, 2, op, "kernel_size")
    with layer_scope(name, op, reuse):
        depthwise = sx.get_variable(
            "depthwise_kernel",
            [*size, channels, depth_multiplier],
            dtype,
            depthwise_initializer,
            trainable=trainable,
            regularizer=depthwise_regularizer,
        )
        pointwise = sx.get_variable(
            "pointwise_kernel",
            [1, 1, channels * depth_multiplier, filters],
            dtype,
            pointwise_initializer,
            trainable=trainable,
            regularizer=pointwise_regularizer,
        )
        outputs = _nn_separable_conv2d(
            inputs,
            depthwise,
            pointwise,
            int_tuple(strides, 2, op, "strides"),
            padding_name(padding, op),
            rate=int_tuple(dilation_rate, 2, op, "dilation_rate"),
            data_format=layout,
        )
        if use_bias:
            outputs = _bias(
                outputs,
                filters,
                layout,
                dtype,
                bias_initializer,
                trainable=trainable,
                regularizer=bias_regularizer,
            )
    return outputs if activation is None else activation(outputs)
