"""TF1's shape and indexing ops on ``jax.numpy``: reshape, concat, split, gather, ..."""

from __future__ import annotations

import builtins
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from scopax import errors
from scopax.compat.v1._util import (
    axes,
    broadcastable,
    is_traced,
    named,
    one_axis,
    pick,
    static_ints,
    tensor_list,
)


def reshape(tensor: Any, shape: Any, name: str | None = None) -> jax.Array:
    """``tensor`` with a new shape; one dimension may be ``-1``.

    >>> import scopax.compat.v1 as tf
    >>> tf.reshape(tf.range(6), [2, -1]).shape
    (2, 3)
    """
    with named(name):
        x = jnp.asarray(tensor)
        dims = static_ints("reshape", "shape", shape)
        known = math.prod(d for d in dims if d != -1)
        unknown = dims.count(-1)
        if unknown > 1 or (unknown == 0 and known != x.size) or (unknown and x.size % known):
            raise errors.OpArgumentError(
                "reshape",
                f"shape={list(dims)}",
                f"the input has {x.size} elements (shape {x.shape}); pass a shape with that "
                "many elements, with at most one -1.",
            )
        return jnp.reshape(x, dims)


def concat(values: Any, axis: Any, name: str = "concat") -> jax.Array:
    """Join ``values`` along an existing ``axis``.

    >>> import scopax.compat.v1 as tf
    >>> tf.concat([tf.ones([2, 1]), tf.zeros([2, 2])], axis=1).shape
    (2, 3)
    """
    with named(name):
        if not isinstance(values, list | tuple):
            values = [values]  # TF1: one tensor concatenates to itself.
        arrays = [jnp.asarray(v) for v in tensor_list("concat", "values", values)]
        ax = one_axis("concat", "axis", axis, arrays[0].ndim)
        others = {(a.ndim, a.shape[:ax] + a.shape[ax + 1 :]) for a in arrays}
        if len(others) > 1:
            raise errors.OpArgumentError(
                "concat",
                f"values of shapes {[a.shape for a in arrays]}",
                f"all must have one rank and the same sizes outside axis {ax}.",
            )
        return jnp.concatenate(arrays, ax)


def slice(input_: Any, begin: Any, size: Any, name: str | None = None) -> jax.Array:
    """The part of ``input_`` that starts at ``begin`` and has shape ``size`` (-1: to the end).

    ``begin`` and ``size`` must be known when the function is traced (``x.shape`` and
    ``tf.shape(x)`` are).

    >>> import scopax.compat.v1 as tf
    >>> tf.slice(tf.reshape(tf.range(12), [3, 4]), [1, 1], [2, -1])
    Array([[ 5,  6,  7],
           [ 9, 10, 11]], dtype=int32)
    """
    with named(name):
        x = jnp.asarray(input_)
        starts = static_ints("slice", "begin", begin)
        sizes = static_ints("slice", "size", size)
        if len(starts) != x.ndim or len(sizes) != x.ndim:
            raise errors.OpArgumentError(
                "slice",
                f"begin={list(starts)}, size={list(sizes)}",
                f"pass one begin and one size per dimension of the input ({x.ndim}).",
            )
        ends = [n if s == -1 else b + s for b, s, n in zip(starts, sizes, x.shape, strict=True)]
        bounds = zip(starts, sizes, ends, x.shape, strict=True)
        if any(b < 0 or s < -1 or b > e or e > n for b, s, e, n in bounds):
            raise errors.OpArgumentError(
                "slice",
                f"begin={list(starts)}, size={list(sizes)}",
                f"the slice must lie inside the input's shape {tuple(x.shape)} (size -1: to "
                "the end).",
            )
        return x[tuple(builtins.slice(b, e) for b, e in zip(starts, ends, strict=True))]


def split(
    value: Any,
    num_or_size_splits: Any,
    axis: Any = 0,
    num: int | None = None,
    name: str = "split",
) -> list[jax.Array]:
    """Cut ``value`` along ``axis`` into equal parts (an int) or parts of given sizes.

    >>> import scopax.compat.v1 as tf
    >>> [p.shape for p in tf.split(tf.zeros([5, 2]), [1, -1, 2])]
    [(1, 2), (2, 2), (2, 2)]
    """
    with named(name):
        x = jnp.asarray(value)
        ax = one_axis("split", "axis", axis, x.ndim)
        n = x.shape[ax]
        splits = static_ints("split", "num_or_size_splits", num_or_size_splits)
        if np.ndim(num_or_size_splits) == 0:
            count = splits[0]
            if count <= 0 or n % count:
                raise errors.OpArgumentError(
                    "split",
                    f"num_or_size_splits={count}",
                    f"axis {ax} has size {n}, which is not a positive multiple of it; pass a "
                    "divisor of the size, or a list of sizes.",
                )
            sizes = [n // count] * count
        else:
            sizes = list(splits)
            if sizes.count(-1) == 1:
                sizes[sizes.index(-1)] = n - (sum(sizes) + 1)
            if sum(sizes) != n or any(s < 0 for s in sizes):
                raise errors.OpArgumentError(
                    "split",
                    f"num_or_size_splits={list(splits)}",
                    f"the sizes must add up to {n} (axis {ax}'s size), with at most one -1.",
                )
        if num is not None and num != len(sizes):
            raise errors.OpArgumentError(
                "split", f"num={num}", f"the split makes {len(sizes)} parts; drop num=."
            )
        cuts = [sum(sizes[: i + 1]) for i in range(len(sizes) - 1)]
        return list(jnp.split(x, cuts, axis=ax))


def stack(values: Any, axis: int = 0, name: str = "stack") -> jax.Array:
    """Join arrays of one shape along a new ``axis``.

    >>> import scopax.compat.v1 as tf
    >>> tf.stack([tf.ones([3]), tf.zeros([3])], axis=1).shape
    (3, 2)
    """
    with named(name):
        arrays = [jnp.asarray(v) for v in tensor_list("stack", "values", values)]
        if len({a.shape for a in arrays}) > 1:
            raise errors.OpArgumentError(
                "stack",
                f"values of shapes {[a.shape for a in arrays]}",
                "all must have the same shape.",
            )
        ax = one_axis("stack", "axis", axis, arrays[0].ndim + 1)
        return jnp.stack(arrays, ax)


def unstack(
    value: Any, num: int | None = None, axis: int = 0, name: str = "unstack"
) -> list[jax.Array]:
    """The slices of ``value`` along ``axis``, as a list.

    >>> import scopax.compat.v1 as tf
    >>> [t.shape for t in tf.unstack(tf.zeros([2, 3]), axis=1)]
    [(2,), (2,), (2,)]
    """
    with named(name):
        x = jnp.asarray(value)
        ax = one_axis("unstack", "axis", axis, x.ndim)
        if num is not None and num != x.shape[ax]:
            raise errors.OpArgumentError(
                "unstack", f"num={num}", f"axis {ax} has size {x.shape[ax]}; drop num=."
            )
        return list(jnp.moveaxis(x, ax, 0))


def _batched(fn: Any, batch_dims: int) -> Any:
    for _ in range(batch_dims):
        fn = jax.vmap(fn)
    return fn


def _batch_dims(op: str, batch_dims: int, params: jax.Array, indices: jax.Array) -> int:
    b = batch_dims + indices.ndim if batch_dims < 0 else batch_dims
    if not 0 <= b <= indices.ndim or b > params.ndim or params.shape[:b] != indices.shape[:b]:
        raise errors.OpArgumentError(
            op,
            f"batch_dims={batch_dims}",
            f"params {params.shape} and indices {indices.shape} must share their first "
            "batch_dims dimensions.",
        )
    return b


def gather(
    params: Any,
    indices: Any,
    validate_indices: Any = None,
    name: str | None = None,
    axis: Any = None,
    batch_dims: int = 0,
) -> jax.Array:
    """Slices of ``params`` along ``axis`` at ``indices`` (an index out of range gives 0).

    >>> import scopax.compat.v1 as tf
    >>> tf.gather(tf.constant([[1, 2], [3, 4], [5, 6]]), [2, 0])
    Array([[5, 6],
           [1, 2]], dtype=int32)
    """
    del validate_indices  # TF1 ignores it too.
    with named(name):
        p, i = jnp.asarray(params), jnp.asarray(indices)
        b = _batch_dims("gather", batch_dims, p, i)
        ax = one_axis("gather", "axis", b if axis is None else axis, p.ndim)
        if ax < b:
            raise errors.OpArgumentError(
                "gather", f"axis={axis}", f"it must not be below batch_dims={batch_dims}."
            )

        def take(p: jax.Array, i: jax.Array) -> jax.Array:
            return jnp.take(p, i, axis=ax - b, mode="fill", fill_value=0)

        return _batched(take, b)(p, i)


def gather_nd(params: Any, indices: Any, name: str | None = None, batch_dims: int = 0) -> jax.Array:
    """Slices of ``params`` at the index tuples in the last dimension of ``indices``.

    >>> import scopax.compat.v1 as tf
    >>> tf.gather_nd(tf.constant([[1, 2], [3, 4]]), [[1, 0], [0, 1]])
    Array([3, 2], dtype=int32)
    """
    with named(name):
        p, i = jnp.asarray(params), jnp.asarray(indices)
        b = _batch_dims("gather_nd", batch_dims, p, i)
        if i.ndim <= b or i.shape[-1] > p.ndim - b:
            raise errors.OpArgumentError(
                "gather_nd",
                f"indices of shape {i.shape}",
                f"the last dimension holds index tuples into params {p.shape} (after "
                f"batch_dims={batch_dims}); it may be at most {p.ndim - b} long.",
            )

        def take(p: jax.Array, i: jax.Array) -> jax.Array:
            where = tuple(i[..., k] for k in range(i.shape[-1]))
            return p.at[where].get(mode="fill", fill_value=0)

        return _batched(take, b)(p, i)


def squeeze(
    input: Any, axis: Any = None, name: str | None = None, squeeze_dims: Any = None
) -> jax.Array:
    """Drop dimensions of size 1 (all, or those in ``axis``).

    >>> import scopax.compat.v1 as tf
    >>> tf.squeeze(tf.zeros([1, 3, 1]), axis=[2]).shape
    (1, 3)
    """
    with named(name):
        x = jnp.asarray(input)
        which = axes(
            "squeeze", "axis", pick("squeeze", "axis", axis, "squeeze_dims", squeeze_dims), x.ndim
        )
        if which is not None and any(x.shape[a] != 1 for a in which):
            raise errors.OpArgumentError(
                "squeeze",
                f"axis={axis if squeeze_dims is None else squeeze_dims}",
                f"the input has shape {x.shape}; only dimensions of size 1 can be squeezed.",
            )
        return jnp.squeeze(x, which)


def expand_dims(
    input: Any, axis: Any = None, name: str | None = None, dim: Any = None
) -> jax.Array:
    """Insert a dimension of size 1 at ``axis``.

    >>> import scopax.compat.v1 as tf
    >>> tf.expand_dims(tf.zeros([2, 3]), -1).shape
    (2, 3, 1)
    """
    with named(name):
        x = jnp.asarray(input)
        axis = pick("expand_dims", "axis", axis, "dim", dim)
        if axis is None:
            raise errors.OpArgumentError("expand_dims", "axis=None", "pass the new axis, e.g. 0.")
        return jnp.expand_dims(x, one_axis("expand_dims", "axis", axis, x.ndim + 1))


def tile(input: Any, multiples: Any, name: str | None = None) -> jax.Array:
    """Repeat ``input`` ``multiples[i]`` times along each dimension ``i``.

    >>> import scopax.compat.v1 as tf
    >>> tf.tile(tf.zeros([2, 3]), [2, 1]).shape
    (4, 3)
    """
    with named(name):
        x = jnp.asarray(input)
        reps = static_ints("tile", "multiples", multiples)
        if len(reps) != x.ndim or any(r < 0 for r in reps):
            raise errors.OpArgumentError(
                "tile",
                f"multiples={list(reps)}",
                f"pass one non-negative int per dimension of the input ({x.ndim}).",
            )
        return jnp.tile(x, reps)


def transpose(
    a: Any, perm: Any = None, name: str = "transpose", conjugate: bool = False
) -> jax.Array:
    """Permute the dimensions of ``a`` (reversed when ``perm`` is None).

    >>> import scopax.compat.v1 as tf
    >>> tf.transpose(tf.zeros([2, 3, 4]), [0, 2, 1]).shape
    (2, 4, 3)
    """
    with named(name):
        x = jnp.asarray(a)
        if perm is not None:
            order = static_ints("transpose", "perm", perm)
            if sorted(order) != list(range(x.ndim)):
                raise errors.OpArgumentError(
                    "transpose",
                    f"perm={list(order)}",
                    f"pass a permutation of 0..{x.ndim - 1}, one entry per dimension.",
                )
            perm = order
        y = jnp.transpose(x, perm)
        return jnp.conj(y) if conjugate else y


def where(condition: Any, x: Any = None, y: Any = None, name: str | None = None) -> jax.Array:
    """Elements of ``x`` where ``condition``, else of ``y``; or, alone, where it holds.

    As in TF1, a vector ``condition`` picks whole rows of ``x`` and ``y``.

    >>> import scopax.compat.v1 as tf
    >>> tf.where([True, False], [[1, 2], [3, 4]], [[5, 6], [7, 8]])
    Array([[1, 2],
           [7, 8]], dtype=int32)
    >>> tf.where([[True, False], [False, True]])
    Array([[0, 0],
           [1, 1]], dtype=int32)
    """
    with named(name):
        c = jnp.asarray(condition)
        if x is None and y is None:
            if is_traced(c):
                raise errors.OpArgumentError(
                    "where",
                    "a traced condition without x and y",
                    "the number of true elements decides the result's shape, which jax.jit "
                    "must know; pass x and y, or use jnp.argwhere(condition, size=N).",
                )
            return jnp.argwhere(c)
        if x is None or y is None:
            raise errors.OpArgumentError(
                "where", "only one of x and y", "pass both, or neither to get the coordinates."
            )
        x, y = jnp.asarray(x), jnp.asarray(y)
        if c.ndim == 1 and x.ndim > 1:
            c = jnp.reshape(c, c.shape + (1,) * (x.ndim - 1))
        return jnp.where(*broadcastable("where", "condition, x, y", c, x, y))
