"""TF1's raw ``tf.nn`` ops without variables: dropout, moments, normalization, biases, top-k."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import scopax as sx
from scopax.errors import NNArgumentError
from scopax.nn._util import float_dtype


def dropout(
    x: Any,
    keep_prob: Any = None,
    noise_shape: Sequence[int] | None = None,
    seed: int | None = None,
    name: str | None = None,
    rate: Any = None,
) -> jax.Array:
    """TF1's ``tf.nn.dropout``: always on; keeps each value with probability ``keep_prob``.

    Kept values are scaled by ``1 / keep_prob``, the others are zero. Pass exactly one of
    ``keep_prob`` and ``rate = 1 - keep_prob``. The mask's key comes from
    ``sx.next_rng_key()``, so ``apply`` needs an ``rng``. (``tf.layers.dropout``, which
    takes ``rate`` and a ``training`` flag that is off by default, is
    :func:`scopax.layers.dropout`.)

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax import nn
    >>> model = sx.transform(lambda x: nn.dropout(x, 0.25))  # keep a quarter
    >>> y = model.apply({}, jnp.ones(1000), rng=jax.random.key(0))
    >>> sorted(set(y.tolist()))
    [0.0, 4.0]

    Args:
      x: a floating array.
      keep_prob: the probability of keeping each value, in ``(0, 1]``.
      noise_shape: the mask's shape, broadcast against ``x`` (same rank), e.g.
        ``[batch, 1, depth]`` to drop the same features at every step.
      seed: folded into the key.
      name: accepted for TF1 compatibility.
      rate: the probability of dropping each value, in ``[0, 1)``.

    Returns:
      An array like ``x``.
    """
    del name
    if (keep_prob is None) == (rate is None):
        raise NNArgumentError(
            "dropout takes exactly one of keep_prob and rate, got "
            f"keep_prob={keep_prob!r} and rate={rate!r}; e.g. dropout(x, keep_prob=0.9) or "
            "dropout(x, rate=0.1)."
        )
    if keep_prob is not None:
        if isinstance(keep_prob, (int, float)) and not 0 < keep_prob <= 1:
            raise NNArgumentError(
                f"dropout got keep_prob={keep_prob}; pass a probability in (0, 1]."
            )
        rate = 1 - keep_prob
    elif isinstance(rate, (int, float)) and not 0 <= rate < 1:
        raise NNArgumentError(f"dropout got rate={rate}; pass a drop probability in [0, 1).")
    dtype = float_dtype(x, "dropout", "x")
    if isinstance(rate, (int, float)) and rate == 0:
        return jnp.asarray(x)
    return _drop(x, rate, noise_shape, seed, dtype, "dropout")


def _drop(x: Any, rate: Any, noise_shape: Any, seed: Any, dtype: Any, op: str) -> jax.Array:
    """TF's mask: keep where ``uniform[0, 1) >= rate``, kept values times ``1/(1-rate)``."""
    key = sx.next_rng_key()
    if seed is not None:
        key = jax.random.fold_in(key, seed % 2**32)
    shape = tuple(np.shape(x)) if noise_shape is None else tuple(int(s) for s in noise_shape)
    if len(shape) != np.ndim(x) or any(
        s not in (1, d) for s, d in zip(shape, np.shape(x), strict=False)
    ):
        raise NNArgumentError(
            f"{op} got noise_shape={list(shape)} for an input of shape {list(np.shape(x))}; "
            "give it the input's rank, each entry the input's size or 1 (mask shared)."
        )
    rate = jnp.asarray(rate, dtype)
    keep = jax.random.uniform(key, shape, dtype) >= rate
    return jnp.where(keep, x * (1 / (1 - rate)), jnp.zeros((), dtype))


def moments(
    x: Any,
    axes: Sequence[int] | int,
    shift: Any = None,
    name: str | None = None,
    keep_dims: bool | None = None,
    keepdims: bool | None = None,
) -> tuple[jax.Array, jax.Array]:
    """TF1's ``tf.nn.moments``: the mean and (biased) variance of ``x`` over ``axes``.

    As in TF, no gradient flows through the mean inside the variance, and half-precision
    inputs are reduced in float32.

    >>> import jax.numpy as jnp
    >>> from scopax import nn
    >>> nn.moments(jnp.array([[1.0, 3.0], [5.0, 7.0]]), axes=[0])
    (Array([3., 5.], dtype=float32), Array([4., 4.], dtype=float32))

    Args:
      x: a floating array.
      axes: the axes to reduce.
      shift, name: accepted for TF1 compatibility (TF 1.15 ignores ``shift`` too).
      keep_dims: TF1's older name of ``keepdims``.
      keepdims: keep the reduced axes, with size 1.

    Returns:
      ``(mean, variance)``.
    """
    del shift, name
    keep = bool(keepdims if keepdims is not None else keep_dims)
    dtype = float_dtype(x, "moments", "x")
    y = jnp.asarray(x, jnp.float32) if dtype in (jnp.float16, jnp.bfloat16) else jnp.asarray(x)
    axes = (axes,) if isinstance(axes, int) else tuple(int(a) for a in axes)
    mean = jnp.mean(y, axis=axes, keepdims=True)
    variance = jnp.mean(jnp.square(y - jax.lax.stop_gradient(mean)), axis=axes, keepdims=True)
    if not keep:
        mean, variance = jnp.squeeze(mean, axes), jnp.squeeze(variance, axes)
    return mean.astype(dtype), variance.astype(dtype)


def batch_normalization(
    x: Any,
    mean: Any,
    variance: Any,
    offset: Any,
    scale: Any,
    variance_epsilon: float,
    name: str | None = None,
) -> jax.Array:
    """TF1's ``tf.nn.batch_normalization``, the raw op: ``scale * (x - mean) / sqrt(variance
    + variance_epsilon) + offset``, with the statistics given (no variables).

    The layer with moving statistics is :func:`scopax.layers.batch_normalization`.

    >>> import jax.numpy as jnp
    >>> from scopax import nn
    >>> nn.batch_normalization(jnp.array([1.0, 3.0]), 2.0, 1.0, None, None, 0.0)
    Array([-1.,  1.], dtype=float32)

    Args:
      x: the input.
      mean, variance: broadcast against ``x``.
      offset: added last, or ``None``.
      scale: multiplies the normalized value, or ``None``.
      variance_epsilon: added to the variance.
      name: accepted for TF1 compatibility.
    """
    del name
    dtype = float_dtype(x, "batch_normalization", "x")
    ndim = np.ndim(x)

    def aligned(v: Any, argument: str) -> jax.Array:
        # NumPy's broadcasting, spelled out: scopax runs with rank promotion raising.
        v = jnp.asarray(v)
        if v.ndim > ndim:
            raise NNArgumentError(
                f"batch_normalization got {argument} of shape {v.shape} for x of shape "
                f"{np.shape(x)}; it must broadcast against x."
            )
        return jnp.reshape(v, (1,) * (ndim - v.ndim) + v.shape)

    mean = aligned(mean, "mean")
    inv = jax.lax.rsqrt(aligned(variance, "variance") + variance_epsilon)
    if scale is not None:
        inv = inv * aligned(scale, "scale")
    shift = -mean * inv if offset is None else aligned(offset, "offset") - mean * inv
    return x * inv.astype(dtype) + shift.astype(dtype)


def l2_normalize(
    x: Any,
    axis: Any = None,
    epsilon: float = 1e-12,
    name: str | None = None,
    dim: Any = None,
) -> jax.Array:
    """TF1's ``tf.nn.l2_normalize``: ``x / sqrt(max(sum(x ** 2, axis), epsilon))``.

    >>> import jax.numpy as jnp
    >>> from scopax import nn
    >>> nn.l2_normalize(jnp.array([3.0, 4.0]), axis=0)
    Array([0.6, 0.8], dtype=float32)

    Args:
      x: a floating array.
      axis: the axis or axes to normalize over; all of them when ``None``.
      epsilon: the lower bound on the squared norm.
      name: accepted for TF1 compatibility.
      dim: TF1's older name of ``axis``.
    """
    del name
    axis = dim if axis is None else axis
    axes = None if axis is None else (axis,) if isinstance(axis, int) else tuple(axis)
    square_sum = jnp.sum(jnp.square(x), axis=axes, keepdims=True)
    return x * jax.lax.rsqrt(jnp.maximum(square_sum, epsilon))


def l2_loss(t: Any, name: str | None = None) -> jax.Array:
    """TF1's ``tf.nn.l2_loss``: ``sum(t ** 2) / 2``, without the square root.

    >>> import jax.numpy as jnp
    >>> from scopax import nn
    >>> nn.l2_loss(jnp.array([1.0, 2.0]))
    Array(2.5, dtype=float32)
    """
    del name
    return jnp.sum(jnp.square(t)) / 2


def bias_add(
    value: Any, bias: Any, data_format: str | None = None, name: str | None = None
) -> jax.Array:
    """TF1's ``tf.nn.bias_add``: ``bias`` added along the channel axis.

    >>> import jax.numpy as jnp
    >>> from scopax import nn
    >>> nn.bias_add(jnp.zeros((1, 2, 3)), jnp.array([1.0, 2.0, 3.0]))[0, 0]
    Array([1., 2., 3.], dtype=float32)

    Args:
      value: an array of rank >= 2.
      bias: ``[channels]``.
      data_format: ``None`` or ``"N...C"`` for the last axis; ``"NC..."`` for axis 1.
      name: accepted for TF1 compatibility.
    """
    del name
    channels_first = data_format is not None and data_format.startswith("NC")
    if data_format is not None and not (channels_first or data_format.endswith("C")):
        raise NNArgumentError(
            f'bias_add got data_format={data_format!r}; pass e.g. "NHWC" or "NCHW".'
        )
    axis = 1 if channels_first else -1
    if np.ndim(bias) != 1 or np.ndim(value) < 2 or np.shape(value)[axis] != np.shape(bias)[0]:
        raise NNArgumentError(
            f"bias_add got value of shape {np.shape(value)} and bias of shape {np.shape(bias)}; "
            "bias must be a vector as long as value's channel axis "
            f"({'1' if channels_first else 'the last'})."
        )
    shape = [1] * np.ndim(value)
    shape[axis] = -1
    return value + jnp.reshape(bias, shape)


def xw_plus_b(x: Any, weights: Any, biases: Any, name: str | None = None) -> jax.Array:
    """TF1's ``tf.nn.xw_plus_b``: ``x @ weights + biases``, for a matrix ``x``.

    >>> import jax.numpy as jnp
    >>> from scopax import nn
    >>> nn.xw_plus_b(jnp.ones((1, 2)), jnp.ones((2, 3)), jnp.arange(3.0))
    Array([[2., 3., 4.]], dtype=float32)
    """
    if np.ndim(x) != 2 or np.ndim(weights) != 2:
        raise NNArgumentError(
            f"xw_plus_b takes a matrix x and matrix weights, got shapes {np.shape(x)} and "
            f"{np.shape(weights)}; reshape x to [batch, depth] first."
        )
    return bias_add(jnp.matmul(x, weights), biases, name=name)


def top_k(
    input: Any, k: int = 1, sorted: bool = True, name: str | None = None
) -> tuple[jax.Array, jax.Array]:
    """TF1's ``tf.nn.top_k``: the ``k`` largest values of the last axis and their indices.

    Ties go to the lower index, as in TF. The values are always sorted (TF leaves the
    order unspecified with ``sorted=False``).

    >>> import jax.numpy as jnp
    >>> from scopax import nn
    >>> values, indices = nn.top_k(jnp.array([1.0, 3.0, 2.0]), k=2)
    >>> values, indices
    (Array([3., 2.], dtype=float32), Array([1, 2], dtype=int32))
    """
    del sorted, name
    if not 0 <= k <= np.shape(input)[-1]:
        raise NNArgumentError(
            f"top_k got k={k} for input of shape {np.shape(input)}; k must be at most "
            "the size of the last axis."
        )
    values, indices = jax.lax.top_k(jnp.asarray(input), k)
    return values, indices.astype(jnp.int32)


def in_top_k(predictions: Any, targets: Any, k: int, name: str | None = None) -> jax.Array:
    """TF1's ``tf.nn.in_top_k``: whether each target's prediction is among the ``k`` largest.

    As in TF, classes tied with the target count in its favour (fewer than ``k``
    predictions strictly larger is enough), and a row with a non-finite prediction or an
    out-of-range target gives ``False``.

    >>> import jax.numpy as jnp
    >>> from scopax import nn
    >>> nn.in_top_k(jnp.array([[0.1, 0.8, 0.1], [0.5, 0.2, 0.3]]), jnp.array([1, 1]), 1)
    Array([ True, False], dtype=bool)

    Args:
      predictions: ``[batch, classes]``.
      targets: ``[batch]`` integer class ids.
      k: how many of the largest count.
      name: accepted for TF1 compatibility.
    """
    del name
    targets = jnp.asarray(targets)
    if np.ndim(predictions) != 2 or targets.shape != np.shape(predictions)[:1]:
        raise NNArgumentError(
            f"in_top_k takes predictions [batch, classes] and targets [batch], got shapes "
            f"{np.shape(predictions)} and {targets.shape}."
        )
    if not jnp.issubdtype(targets.dtype, jnp.integer):
        raise NNArgumentError(
            f"in_top_k got targets of dtype {targets.dtype}; pass integer class ids."
        )
    classes = np.shape(predictions)[1]
    valid = (targets >= 0) & (targets < classes)
    target = jnp.take_along_axis(predictions, jnp.clip(targets, 0, classes - 1)[:, None], 1)
    larger = jnp.sum(predictions > target, axis=1)
    finite = jnp.all(jnp.isfinite(predictions), axis=1)
    return valid & finite & (larger < k)
