"""TF1's raw convolutions (``tf.nn.conv2d`` and friends): the filter is an argument."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from scopax.errors import NNArgumentError
from scopax.nn._util import float_dtype

# Per spatial rank: the layouts TF accepts (channels last first) and the filter layout.
_LAYOUTS = {
    1: (("NWC", "NCW"), "WIO"),
    2: (("NHWC", "NCHW"), "HWIO"),
    3: (("NDHWC", "NCDHW"), "DHWIO"),
}


def _layout(data_format: Any, spatial: int, op: str) -> str:
    formats = _LAYOUTS[spatial][0]
    if data_format is None:
        return formats[0]
    if data_format not in formats:
        raise NNArgumentError(
            f"{op} got data_format={data_format!r}; pass {formats[0]!r} or {formats[1]!r}."
        )
    return data_format


def _spatial_values(
    value: Any, spatial: int, layout: str, op: str, argument: str
) -> tuple[int, ...]:
    """TF's strides / dilations: an int, ``spatial`` ints, or one per axis of ``layout``
    with 1 for the batch and channel axes."""
    if value is None:
        return (1,) * spatial
    values = [int(value)] if isinstance(value, (int, np.integer)) else [int(v) for v in value]
    if len(values) == 1:
        return (int(values[0]),) * spatial
    if len(values) == spatial:
        return tuple(values)
    if len(values) == spatial + 2:
        channel = layout.index("C")
        if values[0] != 1 or values[channel] != 1:
            raise NNArgumentError(
                f"{op} got {argument}={value!r}; the batch and channel entries must be 1."
            )
        return tuple(v for i, v in enumerate(values) if i not in (0, channel))
    raise NNArgumentError(
        f"{op} got {argument}={value!r}; pass an int, {spatial} ints or {spatial + 2} ints "
        f"in {layout} order (e.g. {[1] * (spatial + 2)})."
    )


def _padding(padding: Any, spatial: int, layout: str, op: str) -> Any:
    """``"SAME"``, ``"VALID"`` or TF's explicit ``[[before, after], ...]`` per axis."""
    if isinstance(padding, str):
        if padding.upper() not in ("SAME", "VALID"):
            raise NNArgumentError(
                f'{op} got padding={padding!r}; pass "SAME", "VALID" or explicit '
                f"[[before, after], ...] pairs, one per axis of {layout}."
            )
        return padding.upper()
    try:
        pairs = [(int(a), int(b)) for a, b in padding]
    except (TypeError, ValueError):
        pairs = []
    channel = layout.index("C")
    if len(pairs) != spatial + 2 or pairs[0] != (0, 0) or pairs[channel] != (0, 0):
        raise NNArgumentError(
            f"{op} got padding={padding!r}; explicit padding is {spatial + 2} [before, after] "
            f"pairs in {layout} order, with [0, 0] for the batch and channel axes."
        )
    return [p for i, p in enumerate(pairs) if i not in (0, channel)]


def _conv(
    input: Any,
    filters: Any,
    strides: Any,
    padding: Any,
    data_format: Any,
    dilations: Any,
    op: str,
    spatial: int,
    groups: int = 1,
) -> jax.Array:
    layout = _layout(data_format, spatial, op)
    float_dtype(input, op, "input")
    if np.ndim(input) != spatial + 2 or np.ndim(filters) != spatial + 2:
        raise NNArgumentError(
            f"{op} takes input of rank {spatial + 2} ({layout}) and filter of rank "
            f"{spatial + 2}, got shapes {np.shape(input)} and {np.shape(filters)}."
        )
    channels = np.shape(input)[layout.index("C")]
    if np.shape(filters)[-2] * groups != channels:
        raise NNArgumentError(
            f"{op} got filter of shape {np.shape(filters)} for input of shape "
            f"{np.shape(input)} ({layout}): the filter's in_channels (its next-to-last "
            f"size) must be the input's {channels} channels."
        )
    return jax.lax.conv_general_dilated(
        input,
        jnp.asarray(filters, jnp.result_type(input)),
        _spatial_values(strides, spatial, layout, op, "strides"),
        _padding(padding, spatial, layout, op),
        rhs_dilation=_spatial_values(dilations, spatial, layout, op, "dilations"),
        dimension_numbers=(layout, _LAYOUTS[spatial][1], layout),
        feature_group_count=groups,
    )


def conv2d(
    input: Any,  # TF1's argument names, so ported keyword calls run unchanged.
    filter: Any = None,
    strides: Any = None,
    padding: Any = None,
    use_cudnn_on_gpu: bool = True,
    data_format: str = "NHWC",
    dilations: Sequence[int] | int = (1, 1, 1, 1),
    name: str | None = None,
    filters: Any = None,
) -> jax.Array:
    """TF1's ``tf.nn.conv2d``: a 2-D convolution with a given ``filter``; no variables.

    >>> import jax.numpy as jnp
    >>> from scopax import nn
    >>> x, w = jnp.ones((1, 4, 4, 1)), jnp.ones((3, 3, 1, 2))
    >>> nn.conv2d(x, w, strides=[1, 1, 1, 1], padding="SAME")[0, :, :, 0]
    Array([[4., 6., 6., 4.],
           [6., 9., 9., 6.],
           [6., 9., 9., 6.],
           [4., 6., 6., 4.]], dtype=float32)

    Args:
      input: ``[batch, rows, cols, channels]`` (``NCHW``: channels second).
      filter: ``[rows, cols, in_channels, out_channels]``; ``filters`` is TF2's name.
      strides: an int, a pair, or TF's four-element list such as ``[1, 2, 2, 1]``.
      padding: ``"SAME"``, ``"VALID"`` or explicit pairs such as
        ``[[0, 0], [1, 1], [2, 2], [0, 0]]`` (in ``data_format`` order).
      use_cudnn_on_gpu, name: accepted for TF1 compatibility.
      data_format: ``"NHWC"`` or ``"NCHW"``.
      dilations: as ``strides``; the filter's dilation.

    Returns:
      ``[batch, out_rows, out_cols, out_channels]``.
    """
    del use_cudnn_on_gpu, name
    filter = filters if filter is None else filter
    if filter is None or strides is None or padding is None:
        raise TypeError("conv2d needs filter, strides and padding, e.g. conv2d(x, w, 1, 'SAME').")
    return _conv(input, filter, strides, padding, data_format, dilations, "conv2d", 2)


def conv1d(
    value: Any = None,
    filters: Any = None,
    stride: Any = None,
    padding: Any = None,
    use_cudnn_on_gpu: bool | None = None,
    data_format: str | None = None,
    name: str | None = None,
    input: Any = None,
    dilations: Any = None,
) -> jax.Array:
    """TF1's ``tf.nn.conv1d``: a 1-D convolution with a given filter.

    >>> import jax.numpy as jnp
    >>> from scopax import nn
    >>> nn.conv1d(jnp.arange(5.0).reshape(1, 5, 1), jnp.ones((2, 1, 1)), 1, "VALID")[0, :, 0]
    Array([1., 3., 5., 7.], dtype=float32)

    Args:
      value: ``[batch, width, channels]`` (``NCW``: channels second); ``input`` is its
        other name.
      filters: ``[width, in_channels, out_channels]``.
      stride: an int, or TF's three-element list.
      padding: ``"SAME"``, ``"VALID"`` or explicit pairs, as :func:`conv2d`.
      use_cudnn_on_gpu, name: accepted for TF1 compatibility.
      data_format: ``"NWC"`` (default) or ``"NCW"``.
      dilations: as ``stride``.

    Returns:
      ``[batch, out_width, out_channels]``.
    """
    del use_cudnn_on_gpu, name
    value = input if value is None else value
    if value is None or filters is None or stride is None or padding is None:
        raise TypeError("conv1d needs value, filters, stride and padding.")
    return _conv(value, filters, stride, padding, data_format, dilations, "conv1d", 1)


def depthwise_conv2d(
    input: Any,
    filter: Any,
    strides: Any,
    padding: Any,
    rate: Any = None,
    name: str | None = None,
    data_format: str | None = None,
    dilations: Any = None,
) -> jax.Array:
    """TF1's ``tf.nn.depthwise_conv2d``: each input channel convolved with its own
    ``channel_multiplier`` filters; output channel ``i * multiplier + m``.

    >>> import jax.numpy as jnp
    >>> from scopax import nn
    >>> x, w = jnp.ones((1, 3, 3, 2)), jnp.ones((2, 2, 2, 3))
    >>> nn.depthwise_conv2d(x, w, [1, 1, 1, 1], "VALID").shape
    (1, 2, 2, 6)

    Args:
      input: ``[batch, rows, cols, in_channels]`` (``NCHW``: channels second).
      filter: ``[rows, cols, in_channels, channel_multiplier]``.
      strides: as :func:`conv2d`.
      padding: ``"SAME"``, ``"VALID"`` or explicit pairs.
      rate: the dilation, an int or a pair; ``dilations`` is its other name.
      name: accepted for TF1 compatibility.
      data_format: ``"NHWC"`` or ``"NCHW"``.
      dilations: as ``rate``.

    Returns:
      ``[batch, out_rows, out_cols, in_channels * channel_multiplier]``.
    """
    del name
    if np.ndim(filter) != 4:
        raise NNArgumentError(
            "depthwise_conv2d takes filter [rows, cols, in_channels, channel_multiplier], "
            f"got shape {np.shape(filter)}."
        )
    rows, cols, channels, multiplier = np.shape(filter)
    # One group per input channel; HWIO with I = 1 and O ordered channel-major, as TF.
    kernel = jnp.reshape(filter, (rows, cols, 1, channels * multiplier))
    dilation = dilations if rate is None else rate
    return _conv(
        input, kernel, strides, padding, data_format, dilation, "depthwise_conv2d", 2, channels
    )


def separable_conv2d(
    input: Any,
    depthwise_filter: Any,
    pointwise_filter: Any,
    strides: Any,
    padding: Any,
    rate: Any = None,
    name: str | None = None,
    data_format: str | None = None,
    dilations: Any = None,
) -> jax.Array:
    """TF1's ``tf.nn.separable_conv2d``: :func:`depthwise_conv2d`, then a 1x1 convolution.

    >>> import jax.numpy as jnp
    >>> from scopax import nn
    >>> x = jnp.ones((1, 4, 4, 2))
    >>> nn.separable_conv2d(x, jnp.ones((3, 3, 2, 1)), jnp.ones((1, 1, 2, 5)),
    ...                     [1, 1, 1, 1], "VALID").shape
    (1, 2, 2, 5)

    Args:
      input, strides, padding, rate, name, data_format, dilations: as
        :func:`depthwise_conv2d`.
      depthwise_filter: ``[rows, cols, in_channels, channel_multiplier]``.
      pointwise_filter: ``[1, 1, in_channels * channel_multiplier, out_channels]``.

    Returns:
      ``[batch, out_rows, out_cols, out_channels]``.
    """
    depthwise = depthwise_conv2d(
        input, depthwise_filter, strides, padding, rate, name, data_format, dilations
    )
    return _conv(depthwise, pointwise_filter, 1, "VALID", data_format, 1, "separable_conv2d", 2)


def conv2d_transpose(
    value: Any = None,
    filter: Any = None,
    output_shape: Any = None,
    strides: Any = None,
    padding: str = "SAME",
    data_format: str = "NHWC",
    name: str | None = None,
    input: Any = None,
    filters: Any = None,
    dilations: Any = None,
) -> jax.Array:
    """TF1's ``tf.nn.conv2d_transpose``: the gradient of :func:`conv2d` for its input.

    ``filter`` is ``[rows, cols, out_channels, in_channels]``, as in TF: the filter of the
    forward convolution from ``output_shape`` to ``value``'s shape.

    >>> import jax.numpy as jnp
    >>> from scopax import nn
    >>> y = nn.conv2d_transpose(jnp.ones((1, 2, 2, 3)), jnp.ones((3, 3, 4, 3)),
    ...                         output_shape=[1, 4, 4, 4], strides=[1, 2, 2, 1])
    >>> y.shape
    (1, 4, 4, 4)

    Args:
      value: ``[batch, rows, cols, in_channels]``; ``input`` is its other name.
      filter: ``[rows, cols, out_channels, in_channels]``; ``filters`` is its other name.
      output_shape: the output's shape, four ints.
      strides, dilations: as :func:`conv2d`.
      padding: ``"SAME"`` or ``"VALID"`` (or explicit pairs).
      data_format: ``"NHWC"`` or ``"NCHW"``.
      name: accepted for TF1 compatibility.

    Returns:
      An array of ``output_shape``.
    """
    del name
    value = input if value is None else value
    filter = filters if filter is None else filter
    if value is None or filter is None or output_shape is None or strides is None:
        raise TypeError("conv2d_transpose needs value, filter, output_shape and strides.")
    shape = tuple(int(s) for s in np.asarray(output_shape).reshape(-1))
    dtype = float_dtype(value, "conv2d_transpose", "value")
    kernel = jnp.asarray(filter, dtype)
    layout = _layout(data_format, 2, "conv2d_transpose")
    channel = layout.index("C")
    if (
        kernel.ndim != 4
        or np.ndim(value) != 4
        or len(shape) != 4
        or kernel.shape[3] != np.shape(value)[channel]
        or kernel.shape[2] != shape[channel]
    ):
        raise NNArgumentError(
            f"conv2d_transpose got value of shape {np.shape(value)}, filter of shape "
            f"{kernel.shape} and output_shape={list(shape)} ({layout}); the filter is "
            "[rows, cols, output channels, value's channels] and output_shape has 4 sizes."
        )

    def forward(x: jax.Array) -> jax.Array:
        return _conv(x, kernel, strides, padding, data_format, dilations, "conv2d_transpose", 2)

    expected = jax.eval_shape(forward, jax.ShapeDtypeStruct(shape, dtype)).shape
    if expected != np.shape(value):
        raise NNArgumentError(
            f"conv2d_transpose got output_shape={list(shape)}, which a convolution with these "
            f"strides and padding takes to {list(expected)}, not to value's shape "
            f"{list(np.shape(value))}; pass the output_shape whose convolution gives value's."
        )
    (out,) = jax.linear_transpose(forward, jax.ShapeDtypeStruct(shape, dtype))(value)
    return out
