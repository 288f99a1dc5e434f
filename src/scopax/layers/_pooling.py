"""TF1's ``tf.layers`` pooling: ``max_pooling1d/2d`` and ``average_pooling1d/2d``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from scopax.errors import NNArgumentError
from scopax.nn._pool import avg_pool, max_pool
from scopax.nn._util import int_tuple, padding_name


def _pool(
    pool: Callable[..., jax.Array],
    spatial: int,
    op: str,
    inputs: Any,
    pool_size: Any,
    strides: Any,
    padding: str,
    data_format: str,
) -> jax.Array:
    if data_format not in ("channels_last", "channels_first"):
        raise NNArgumentError(
            f'{op} got data_format={data_format!r}; pass "channels_last" or "channels_first".'
        )
    if np.ndim(inputs) != spatial + 2:
        raise NNArgumentError(
            f"{op} takes inputs of rank {spatial + 2}, got shape {np.shape(inputs)}."
        )
    size = int_tuple(pool_size, spatial, op, "pool_size")
    stride = int_tuple(strides, spatial, op, "strides")
    pad = padding_name(padding, op)
    layout = "NHWC" if data_format == "channels_last" else "NCHW"
    x = jnp.asarray(inputs)
    if spatial == 1:
        # As Keras: a 1-D pool is a 2-D pool over a row of height 1.
        x = jnp.expand_dims(x, 1 if data_format == "channels_last" else 2)
        size, stride = (1, *size), (1, *stride)
    out = pool(x, size, stride, pad, layout)
    if spatial == 1:
        out = jnp.squeeze(out, 1 if data_format == "channels_last" else 2)
    return out


def max_pooling2d(
    inputs: Any,
    pool_size: int | Sequence[int],
    strides: int | Sequence[int],
    padding: str = "valid",
    data_format: str = "channels_last",
    name: str | None = None,
) -> jax.Array:
    """TF1's ``tf.layers.max_pooling2d``: the maximum over each window.

    >>> import jax.numpy as jnp
    >>> from scopax import layers
    >>> layers.max_pooling2d(jnp.arange(16.0).reshape(1, 4, 4, 1), 2, 2)[0, :, :, 0]
    Array([[ 5.,  7.],
           [13., 15.]], dtype=float32)

    Args:
      inputs: ``[batch, rows, cols, channels]`` (``channels_first``: channels second).
      pool_size, strides: an int or a pair ``(rows, cols)``.
      padding: ``"valid"`` or ``"same"``.
      data_format: ``"channels_last"`` or ``"channels_first"``.
      name: accepted for TF1 compatibility.
    """
    del name
    return _pool(max_pool, 2, "max_pooling2d", inputs, pool_size, strides, padding, data_format)


def average_pooling2d(
    inputs: Any,
    pool_size: int | Sequence[int],
    strides: int | Sequence[int],
    padding: str = "valid",
    data_format: str = "channels_last",
    name: str | None = None,
) -> jax.Array:
    """TF1's ``tf.layers.average_pooling2d``: the mean over each window; with ``"same"``
    a border window averages only the values inside the input, as TF.

    >>> import jax.numpy as jnp
    >>> from scopax import layers
    >>> layers.average_pooling2d(jnp.arange(9.0).reshape(1, 3, 3, 1), 2, 2, "same")[0, :, :, 0]
    Array([[2. , 3.5],
           [6.5, 8. ]], dtype=float32)

    Args:
      inputs, pool_size, strides, padding, data_format, name: as :func:`max_pooling2d`.
    """
    del name
    return _pool(avg_pool, 2, "average_pooling2d", inputs, pool_size, strides, padding, data_format)


def max_pooling1d(
    inputs: Any,
    pool_size: int | Sequence[int],
    strides: int | Sequence[int],
    padding: str = "valid",
    data_format: str = "channels_last",
    name: str | None = None,
) -> jax.Array:
    """TF1's ``tf.layers.max_pooling1d`` over ``[batch, width, channels]``.

    >>> import jax.numpy as jnp
    >>> from scopax import layers
    >>> layers.max_pooling1d(jnp.array([[[1.0], [3.0], [2.0], [0.0]]]), 2, 2)[0, :, 0]
    Array([3., 2.], dtype=float32)

    Args:
      inputs: ``[batch, width, channels]`` (``channels_first``: channels second).
      pool_size, strides: an int.
      padding, data_format, name: as :func:`max_pooling2d`.
    """
    del name
    return _pool(max_pool, 1, "max_pooling1d", inputs, pool_size, strides, padding, data_format)


def average_pooling1d(
    inputs: Any,
    pool_size: int | Sequence[int],
    strides: int | Sequence[int],
    padding: str = "valid",
    data_format: str = "channels_last",
    name: str | None = None,
) -> jax.Array:
    """TF1's ``tf.layers.average_pooling1d`` over ``[batch, width, channels]``.

    >>> import jax.numpy as jnp
    >>> from scopax import layers
    >>> layers.average_pooling1d(jnp.array([[[1.0], [3.0], [2.0]]]), 2, 2, "same")[0, :, 0]
    Array([2., 2.], dtype=float32)

    Args:
      inputs, pool_size, strides, padding, data_format, name: as :func:`max_pooling1d`.
    """
    del name
    return _pool(avg_pool, 1, "average_pooling1d", inputs, pool_size, strides, padding, data_format)
