"""TF1's ``tf.nn`` pooling: ``max_pool``, ``avg_pool`` and ``local_response_normalization``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from scopax.errors import NNArgumentError
from scopax.nn._util import float_dtype, padding_name


def _window(value: int | Sequence[int], data_format: str, argument: str) -> tuple[int, ...]:
    sizes = [value] if isinstance(value, int) else list(value)
    if len(sizes) == 1:
        sizes = sizes * 2
    if len(sizes) == 2:
        rows, cols = sizes
        return (1, rows, cols, 1) if data_format == "NHWC" else (1, 1, rows, cols)
    if len(sizes) == 4:
        return tuple(int(s) for s in sizes)
    raise NNArgumentError(
        f"{argument}={value!r}; pass an int, a pair (rows, cols) or TF's four-element list "
        "such as [1, 2, 2, 1]."
    )


def _pool_args(
    value: Any, ksize: Any, strides: Any, padding: str, data_format: str, op: str
) -> tuple[tuple[int, ...], tuple[int, ...], str]:
    if data_format not in ("NHWC", "NCHW"):
        raise NNArgumentError(f'{op} got data_format={data_format!r}; pass "NHWC" or "NCHW".')
    if np.ndim(value) != 4:
        raise NNArgumentError(f"{op} takes a rank-4 value, got shape {np.shape(value)}.")
    return (
        _window(ksize, data_format, f"{op} got ksize"),
        _window(strides, data_format, f"{op} got strides"),
        padding_name(padding, op),
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
    float_dtype(value, "avg_pool")
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
    float_dtype(input, "local_response_normalization")
    if np.ndim(input) != 4:
        raise NNArgumentError(
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
