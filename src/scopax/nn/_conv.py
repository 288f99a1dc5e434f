"""TF1's image layers: ``conv2d``, ``max_pool``, ``avg_pool``, ``local_response_normalization``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import scopax as sx
from scopax.nn._core import _float_dtype, layer_scope


def _pair(value: int | Sequence[int], argument: str) -> tuple[int, int]:
    if isinstance(value, int):
        return value, value
    value = tuple(value)
    if len(value) != 2:
        raise ValueError(f"conv2d got {argument}={value}; pass an int or a pair (rows, cols).")
    return int(value[0]), int(value[1])


def _padding(padding: str, argument: str = "padding") -> str:
    if not isinstance(padding, str) or padding.upper() not in ("SAME", "VALID"):
        raise ValueError(f'{argument}={padding!r}; pass "same" or "valid" (any case).')
    return padding.upper()


def conv2d(
    inputs: Any,
    filters: int,
    kernel_size: int | Sequence[int],
    strides: int | Sequence[int] = (1, 1),
    padding: str = "valid",
    data_format: str = "channels_last",
    dilation_rate: int | Sequence[int] = (1, 1),
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
    """TF1's ``tf.layers.conv2d``: a 2-D convolution, plus bias, then ``activation``.

    Variables ``kernel`` ``[rows, cols, in_channels, filters]`` and ``bias``
    ``[filters]`` (zeros), in scope ``name`` or ``conv2d`` made unique. ``"same"``
    padding pads like TF (the extra row and column at the end).

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax import nn
    >>> model = sx.transform(lambda x: nn.conv2d(x, 8, 3, strides=2, padding="same"))
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
    dtype = _float_dtype(inputs, "conv2d")
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            f'conv2d got data_format={data_format!r}; pass "channels_last" or "channels_first".'
        )
    if np.ndim(inputs) != 4:
        raise ValueError(
            f"conv2d takes inputs of rank 4 ([batch, rows, cols, channels]), got shape "
            f"{np.shape(inputs)}."
        )
    layout = "NHWC" if data_format == "channels_last" else "NCHW"
    channels = inputs.shape[3] if layout == "NHWC" else inputs.shape[1]
    rows, cols = _pair(kernel_size, "kernel_size")
    with layer_scope(name, "conv2d", reuse):
        kernel = sx.get_variable(
            "kernel",
            [rows, cols, channels, filters],
            dtype,
            kernel_initializer,
            trainable=trainable,
            regularizer=kernel_regularizer,
        )
        outputs = jax.lax.conv_general_dilated(
            inputs,
            kernel,
            _pair(strides, "strides"),
            _padding(padding, "conv2d got padding"),
            rhs_dilation=_pair(dilation_rate, "dilation_rate"),
            dimension_numbers=(layout, "HWIO", layout),
        )
        if use_bias:
            bias = sx.get_variable(
                "bias",
                [filters],
                dtype,
                sx.zeros_initializer() if bias_initializer is None else bias_initializer,
                trainable=trainable,
                regularizer=bias_regularizer,
            )
            shape = (1, 1, 1, filters) if layout == "NHWC" else (1, filters, 1, 1)
            outputs = outputs + jnp.reshape(bias, shape)
    return outputs if activation is None else activation(outputs)


def _window(value: int | Sequence[int], data_format: str, argument: str) -> tuple[int, ...]:
    sizes = [value] if isinstance(value, int) else list(value)
    if len(sizes) == 1:
        sizes = sizes * 2
    if len(sizes) == 2:
        rows, cols = sizes
        return (1, rows, cols, 1) if data_format == "NHWC" else (1, 1, rows, cols)
    if len(sizes) == 4:
        return tuple(int(s) for s in sizes)
    raise ValueError(
        f"{argument}={value!r}; pass an int, a pair (rows, cols) or TF's four-element list "
        "such as [1, 2, 2, 1]."
    )


def _pool_args(
    value: Any, ksize: Any, strides: Any, padding: str, data_format: str, op: str
) -> tuple[tuple[int, ...], tuple[int, ...], str]:
    if data_format not in ("NHWC", "NCHW"):
        raise ValueError(f'{op} got data_format={data_format!r}; pass "NHWC" or "NCHW".')
    if np.ndim(value) != 4:
        raise ValueError(f"{op} takes a rank-4 value, got shape {np.shape(value)}.")
    return (
        _window(ksize, data_format, f"{op} got ksize"),
        _window(strides, data_format, f"{op} got strides"),
        _padding(padding, f"{op} got padding"),
    )


def max_pool(
    value: Any,
    ksize: int | Sequence[int],
    strides: int | Sequence[int],
    padding: str,
    data_format: str = "NHWC",
    name: str | None = None,
) -> jax.Array:
    """TF1's ``tf.nn.max_pool``: the maximum over each window.

    >>> import jax.numpy as jnp
    >>> from scopax import nn
    >>> x = jnp.arange(16.0).reshape(1, 4, 4, 1)
    >>> nn.max_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "VALID")[0, :, :, 0]
    Array([[ 5.,  7.],
           [13., 15.]], dtype=float32)

    Args:
      value: ``[batch, rows, cols, channels]`` (``NCHW``: channels second).
      ksize, strides: TF's four-element list (``[1, rows, cols, 1]``), a pair
        ``(rows, cols)`` or an int.
      padding: ``"SAME"`` or ``"VALID"``; ``"SAME"`` pads with ``-inf``.
      data_format: ``"NHWC"`` or ``"NCHW"``.
      name: accepted for TF1 compatibility.
    """
    del name
    window, stride, pad = _pool_args(value, ksize, strides, padding, data_format, "max_pool")
    dtype = jnp.result_type(value)
    lowest = -jnp.inf if jnp.issubdtype(dtype, jnp.floating) else jnp.iinfo(dtype).min
    # A NumPy init value, not a jnp one: under a trace a jnp value is a tracer, and
    # reduce_window then no longer recognises a max window and has no gradient.
    return jax.lax.reduce_window(value, np.array(lowest, dtype), jax.lax.max, window, stride, pad)


def avg_pool(
    value: Any,
    ksize: int | Sequence[int],
    strides: int | Sequence[int],
    padding: str,
    data_format: str = "NHWC",
    name: str | None = None,
) -> jax.Array:
    """TF1's ``tf.nn.avg_pool``: the mean over each window.

    With ``"SAME"`` padding a window at the border averages only the values inside
    the image, as TF does (padding is not counted as zeros).

    >>> import jax.numpy as jnp
    >>> from scopax import nn
    >>> x = jnp.arange(9.0).reshape(1, 3, 3, 1)
    >>> nn.avg_pool(x, 2, 2, "SAME")[0, :, :, 0]
    Array([[2. , 3.5],
           [6.5, 8. ]], dtype=float32)

    Args:
      value, ksize, strides, padding, data_format, name: as :func:`max_pool`.
    """
    del name
    window, stride, pad = _pool_args(value, ksize, strides, padding, data_format, "avg_pool")
    _float_dtype(value, "avg_pool")
    zero = np.zeros((), jnp.result_type(value))  # NumPy: see max_pool.
    total = jax.lax.reduce_window(value, zero, jax.lax.add, window, stride, pad)
    ones = jnp.ones(np.shape(value), jnp.result_type(value))
    count = jax.lax.reduce_window(ones, zero, jax.lax.add, window, stride, pad)
    return total / count


def local_response_normalization(
    input: Any,  # TF1's argument name, so ported keyword calls run unchanged.
    depth_radius: int = 5,
    bias: float = 1.0,
    alpha: float = 1.0,
    beta: float = 0.5,
    name: str | None = None,
) -> jax.Array:
    """TF1's ``tf.nn.local_response_normalization`` (``tf.nn.lrn``), across channels.

    ``output = input / (bias + alpha * sqr_sum) ** beta``, where ``sqr_sum`` sums the
    squares of the ``2 * depth_radius + 1`` channels centred on each one.

    >>> import jax.numpy as jnp
    >>> from scopax import nn
    >>> x = jnp.ones((1, 1, 1, 3))
    >>> nn.local_response_normalization(x, depth_radius=1, bias=0.0, alpha=1.0, beta=1.0)
    Array([[[[0.5       , 0.33333334, 0.5       ]]]], dtype=float32)

    Args:
      input: ``[batch, rows, cols, channels]``.
      depth_radius: the half-width of the channel window.
      bias, alpha, beta: as in the formula.
      name: accepted for TF1 compatibility.
    """
    del name
    _float_dtype(input, "local_response_normalization")
    if np.ndim(input) != 4:
        raise ValueError(
            "local_response_normalization takes [batch, rows, cols, channels], got shape "
            f"{np.shape(input)}."
        )
    r = depth_radius
    sqr_sum = jax.lax.reduce_window(
        jnp.square(input),
        np.zeros((), jnp.result_type(input)),  # NumPy: see max_pool.
        jax.lax.add,
        (1, 1, 1, 2 * r + 1),
        (1, 1, 1, 1),
        ((0, 0), (0, 0), (0, 0), (r, r)),
    )
    return input / (bias + alpha * sqr_sum) ** beta
