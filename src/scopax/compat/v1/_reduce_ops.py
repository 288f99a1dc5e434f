"""TF1's reductions, ``argmax``/``argmin``, ``cumsum`` and the clipping ops.

The reductions take TF1's spellings: ``axis`` or the older ``reduction_indices``,
``keepdims`` or the older ``keep_dims``. As in TF1, ``reduce_sum``/``reduce_prod``
keep an integer input's dtype and ``reduce_mean`` of integers divides with truncation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from scopax import errors
from scopax.compat.v1._util import axes, broadcastable, named, one_axis, pick, tensor_list

_INT64 = np.dtype("int64")


def _int_sum(x: jax.Array, axis: Any, keepdims: bool) -> jax.Array:
    return jnp.sum(x, axis, x.dtype if x.dtype.kind in "iu" else None, keepdims=keepdims)


def _int_prod(x: jax.Array, axis: Any, keepdims: bool) -> jax.Array:
    return jnp.prod(x, axis, x.dtype if x.dtype.kind in "iu" else None, keepdims=keepdims)


def _mean(x: jax.Array, axis: Any, keepdims: bool) -> jax.Array:
    if x.dtype.kind not in "iu":
        return jnp.mean(x, axis, keepdims=keepdims)
    count = math.prod(x.shape) if axis is None else math.prod(x.shape[a] for a in axis)
    return jax.lax.div(_int_sum(x, axis, keepdims), jnp.asarray(max(count, 1), x.dtype))


def _logsumexp(x: jax.Array, axis: Any, keepdims: bool) -> jax.Array:
    return jax.nn.logsumexp(x, axis, keepdims=keepdims)


def _reduction(
    op: str, fn: Callable[[jax.Array, Any, bool], jax.Array], args: str, result: str
) -> Any:
    def reduce(
        input_tensor: Any,
        axis: Any = None,
        keepdims: bool | None = None,
        name: str | None = None,
        reduction_indices: Any = None,
        keep_dims: bool | None = None,
    ) -> jax.Array:
        with named(name):
            x = jnp.asarray(input_tensor)
            axis = pick(op, "axis", axis, "reduction_indices", reduction_indices)
            keep = pick(op, "keepdims", keepdims, "keep_dims", keep_dims)
            return fn(x, axes(op, "axis", axis, x.ndim), bool(keep))

    reduce.__name__ = reduce.__qualname__ = op
    reduce.__doc__ = f"""TF1's ``tf.{op}`` over ``axis`` (all dimensions when None).

    >>> import scopax.compat.v1 as tf
    >>> x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    >>> tf.{op}({args})
    {result}
    """
    return reduce


reduce_sum = _reduction("reduce_sum", _int_sum, "x, axis=1", "Array([3., 7.], dtype=float32)")
reduce_mean = _reduction(
    "reduce_mean", _mean, "x, 0, keep_dims=True", "Array([[2., 3.]], dtype=float32)"
)
reduce_max = _reduction(
    "reduce_max",
    lambda x, a, k: jnp.max(x, a, keepdims=k),
    "x, reduction_indices=[1]",
    "Array([2., 4.], dtype=float32)",
)
reduce_min = _reduction(
    "reduce_min",
    lambda x, a, k: jnp.min(x, a, keepdims=k),
    "x",
    "Array(1., dtype=float32)",
)
reduce_prod = _reduction("reduce_prod", _int_prod, "x, -1", "Array([ 2., 12.], dtype=float32)")
reduce_any = _reduction(
    "reduce_any",
    lambda x, a, k: jnp.any(x, a, keepdims=k),
    "x > 3.5, 1",
    "Array([False,  True], dtype=bool)",
)
reduce_all = _reduction(
    "reduce_all",
    lambda x, a, k: jnp.all(x, a, keepdims=k),
    "x > 1.5",
    "Array(False, dtype=bool)",
)
reduce_logsumexp = _reduction(
    "reduce_logsumexp",
    _logsumexp,
    "x * 0.0, 1",
    "Array([0.6931472, 0.6931472], dtype=float32)",
)


def _arg(op: str, fn: Callable[..., jax.Array], example: str) -> Any:
    def arg(
        input: Any,
        axis: Any = None,
        name: str | None = None,
        dimension: Any = None,
        output_type: Any = _INT64,
    ) -> jax.Array:
        with named(name):
            x = jnp.asarray(input)
            axis = pick(op, "axis", axis, "dimension", dimension)
            # TF1 reduces axis 0 by default, not the flattened array.
            ax = one_axis(op, "axis", 0 if axis is None else axis, x.ndim)
            dtype = jax.dtypes.canonicalize_dtype(output_type)
            return fn(x, axis=ax).astype(dtype)

    arg.__name__ = arg.__qualname__ = op
    arg.__doc__ = f"""TF1's ``tf.{op}``: the index of the {example} along ``axis`` (default 0).

    Its int64 result is int32 under JAX's default (x64 off).

    >>> import scopax.compat.v1 as tf
    >>> tf.{op}(tf.constant([[1, 5], [3, 0]]))
    Array({"[1, 0]" if op == "argmax" else "[0, 1]"}, dtype=int32)
    """
    return arg


argmax = _arg("argmax", jnp.argmax, "largest value")
argmin = _arg("argmin", jnp.argmin, "smallest value")


def cumsum(
    x: Any, axis: Any = 0, exclusive: bool = False, reverse: bool = False, name: str | None = None
) -> jax.Array:
    """Running sums along ``axis``; ``exclusive`` leaves each element out of its own sum.

    >>> import scopax.compat.v1 as tf
    >>> tf.cumsum([1, 2, 3], exclusive=True, reverse=True)
    Array([5, 3, 0], dtype=int32)
    """
    with named(name):
        x = jnp.asarray(x)
        ax = one_axis("cumsum", "axis", axis, x.ndim)
        if reverse:
            x = jnp.flip(x, ax)
        out = jnp.cumsum(x, ax, dtype=x.dtype)
        if exclusive:
            widths = [(0, 0)] * x.ndim
            widths[ax] = (1, 0)
            out = jax.lax.slice_in_dim(jnp.pad(out, widths), 0, x.shape[ax], axis=ax)
        return jnp.flip(out, ax) if reverse else out


def clip_by_value(
    t: Any, clip_value_min: Any, clip_value_max: Any, name: str | None = None
) -> jax.Array:
    """``t`` with values below ``clip_value_min`` or above ``clip_value_max`` clipped.

    >>> import scopax.compat.v1 as tf
    >>> tf.clip_by_value(tf.constant([-2.0, 0.5, 3.0]), -1.0, 1.0)
    Array([-1. ,  0.5,  1. ], dtype=float32)
    """
    with named(name):
        x, low, high = broadcastable(
            "clip_by_value",
            "t, clip_value_min, clip_value_max",
            jnp.asarray(t),
            clip_value_min,
            clip_value_max,
        )
        return jnp.minimum(jnp.maximum(x, low), high)


def _safe_norm(squares: jax.Array) -> jax.Array:
    # sqrt'(0) is infinite: take it of 1 where the sum is 0, so gradients stay finite.
    positive = squares > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, squares, 1)), 0)


def clip_by_norm(t: Any, clip_norm: Any, axes: Any = None, name: str | None = None) -> jax.Array:
    """``t`` scaled down so that its L2 norm (over ``axes``) is at most ``clip_norm``.

    >>> import scopax.compat.v1 as tf
    >>> tf.clip_by_norm(tf.constant([3.0, 4.0]), 1.0)
    Array([0.6, 0.8], dtype=float32)
    """
    with named(name):
        x = jnp.asarray(t)
        over = _axes(x, axes)
        norm = _safe_norm(jnp.sum(x * x, over, keepdims=True))
        return (x * clip_norm / jnp.maximum(norm, clip_norm)).astype(x.dtype)


def _axes(x: jax.Array, value: Any) -> tuple[int, ...] | None:
    return axes("clip_by_norm", "axes", value, x.ndim)


def global_norm(t_list: Any, name: str | None = None) -> jax.Array:
    """The L2 norm of all arrays in ``t_list`` together (``None`` entries are skipped).

    >>> import scopax.compat.v1 as tf
    >>> tf.global_norm([tf.constant([3.0]), None, tf.constant([[4.0]])])
    Array(5., dtype=float32)
    """
    with named(name):
        arrays = [
            jnp.asarray(t) for t in tensor_list("global_norm", "t_list", t_list) if t is not None
        ]
        if not arrays:
            raise errors.OpArgumentError(
                "global_norm", "t_list of only None", "pass at least one array."
            )
        return jnp.sqrt(sum(jnp.sum(jnp.square(a)) for a in arrays))


def clip_by_global_norm(
    t_list: Any, clip_norm: Any, use_norm: Any = None, name: str | None = None
) -> tuple[list[Any], jax.Array]:
    """Scale every array by ``clip_norm / max(global_norm, clip_norm)``; also the norm.

    An infinite or NaN norm makes every entry NaN, as in TF1.

    >>> import scopax.compat.v1 as tf
    >>> clipped, norm = tf.clip_by_global_norm([tf.constant([3.0]), tf.constant([4.0])], 1.0)
    >>> clipped, norm
    ([Array([0.6], dtype=float32), Array([0.8], dtype=float32)], Array(5., dtype=float32))
    """
    with named(name):
        items = list(tensor_list("clip_by_global_norm", "t_list", t_list))
        norm = global_norm(items) if use_norm is None else jnp.asarray(use_norm)
        scale = clip_norm * jnp.minimum(1.0 / norm, 1.0 / jnp.asarray(clip_norm, norm.dtype))
        scale = jnp.where(jnp.isfinite(norm), scale, jnp.nan)
        clipped = [
            None if t is None else (jnp.asarray(t) * scale).astype(jnp.result_type(t))
            for t in items
        ]
        return clipped, norm
