"""TF1's ops that make arrays or read their shapes: constant, zeros, range, shape, cast, ...

``shape``, ``rank`` and ``size`` are static here: a JAX array's shape is known when
the program is traced, so they return NumPy values, and code that computes shapes
from them (``tf.reshape(x, [tf.shape(x)[0], -1])``) compiles under ``jax.jit``.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from scopax import errors
from scopax.compat.v1._dtypes import as_dtype
from scopax.compat.v1._util import is_traced, named, one_axis, static_int, static_ints

_FLOAT32 = np.dtype("float32")
_INT32 = np.dtype("int32")


def _canonical(dtype: Any) -> np.dtype:
    return np.dtype(jax.dtypes.canonicalize_dtype(as_dtype(dtype)))


def _python_dtype(value: Any) -> np.dtype | None:
    """TF1's dtype for Python values: floats are float32, ints int32; arrays keep theirs."""
    if hasattr(value, "dtype"):
        return None
    kind = np.asarray(value).dtype.kind
    return {"f": _FLOAT32, "i": _INT32, "u": _INT32}.get(kind)


def constant(
    value: Any,
    dtype: Any = None,
    shape: Any = None,
    name: str = "Const",
    verify_shape: bool = False,
) -> jax.Array:
    """An array of ``value``; with ``shape``, a scalar fills it, a short list its last item.

    >>> import scopax.compat.v1 as tf
    >>> tf.constant([1, 2], shape=[2, 2])
    Array([[1, 2],
           [2, 2]], dtype=int32)
    """
    with named(name):
        if dtype is None:
            dtype = _python_dtype(value)
        x = jnp.asarray(value, None if dtype is None else _canonical(dtype))
        if shape is None:
            return x
        dims = static_ints("constant", "shape", shape)
        size = math.prod(dims)
        if x.shape == dims:
            return x
        if verify_shape or x.size > size or (x.size == 0 and size):
            raise errors.OpArgumentError(
                "constant",
                f"shape={list(dims)}",
                f"the value has shape {x.shape}; pass a value of that shape"
                + ("" if verify_shape else f", or at most {size} elements")
                + ".",
            )
        flat = jnp.ravel(x)
        if x.size < size:  # TF1 repeats the last element.
            flat = jnp.concatenate([flat, jnp.broadcast_to(flat[-1], (size - x.size,))])
        return jnp.reshape(flat, dims)


def zeros(shape: Any, dtype: Any = _FLOAT32, name: str | None = None) -> jax.Array:
    """An array of zeros.

    >>> import scopax.compat.v1 as tf
    >>> tf.zeros([2], tf.int32)
    Array([0, 0], dtype=int32)
    """
    with named(name):
        return jnp.zeros(static_ints("zeros", "shape", shape), _canonical(dtype))


def ones(shape: Any, dtype: Any = _FLOAT32, name: str | None = None) -> jax.Array:
    """An array of ones.

    >>> import scopax.compat.v1 as tf
    >>> tf.ones([2])
    Array([1., 1.], dtype=float32)
    """
    with named(name):
        return jnp.ones(static_ints("ones", "shape", shape), _canonical(dtype))


def zeros_like(
    tensor: Any, dtype: Any = None, name: str | None = None, optimize: bool = True
) -> jax.Array:
    """Zeros of ``tensor``'s shape (and dtype, unless given).

    >>> import scopax.compat.v1 as tf
    >>> tf.zeros_like(tf.constant([1.5, 2.5]))
    Array([0., 0.], dtype=float32)
    """
    del optimize
    with named(name):
        return jnp.zeros_like(tensor, None if dtype is None else _canonical(dtype))


def ones_like(
    tensor: Any, dtype: Any = None, name: str | None = None, optimize: bool = True
) -> jax.Array:
    """Ones of ``tensor``'s shape (and dtype, unless given).

    >>> import scopax.compat.v1 as tf
    >>> tf.ones_like(tf.constant([1, 2]))
    Array([1, 1], dtype=int32)
    """
    del optimize
    with named(name):
        return jnp.ones_like(tensor, None if dtype is None else _canonical(dtype))


def fill(dims: Any, value: Any, name: str | None = None) -> jax.Array:
    """An array of shape ``dims`` filled with ``value``.

    >>> import scopax.compat.v1 as tf
    >>> tf.fill([2, 2], 7)
    Array([[7, 7],
           [7, 7]], dtype=int32)
    """
    with named(name):
        return jnp.full(static_ints("fill", "dims", dims), value, _python_dtype(value))


def range(  # TF1's name
    start: Any,
    limit: Any = None,
    delta: Any = 1,
    dtype: Any = None,
    name: str = "range",
) -> jax.Array:
    """``start, start + delta, ...`` up to but excluding ``limit`` (``range(n)``: 0..n-1).

    >>> import scopax.compat.v1 as tf
    >>> tf.range(3), tf.range(1, 2, 0.25)
    (Array([0, 1, 2], dtype=int32), Array([1.  , 1.25, 1.5 , 1.75], dtype=float32))
    """
    with named(name):
        values = {"start": start, "limit": limit, "delta": delta}
        for argument, v in values.items():
            if v is not None and (is_traced(v) or np.ndim(v) != 0):
                raise errors.OpArgumentError(
                    "range",
                    f"{argument}={v!r}",
                    "pass a number known when the program is traced (the length decides "
                    "the result's shape).",
                )
        if limit is None:
            start, limit = 0, start
        if delta == 0:
            raise errors.OpArgumentError("range", "delta=0", "pass a non-zero step.")
        if dtype is None:  # TF1: float32 if any bound is a float, else int32.
            floats = any(np.asarray(v).dtype.kind == "f" for v in (start, limit, delta))
            dtype = _FLOAT32 if floats else _INT32
        return jnp.arange(start, limit, delta, dtype=_canonical(dtype))


def shape(input: Any, name: str | None = None, out_type: Any = None) -> np.ndarray:
    """The static shape of ``input``, as a NumPy vector (TF1: an int32 tensor).

    >>> import scopax.compat.v1 as tf
    >>> x = tf.zeros([4, 3])
    >>> tf.shape(x), tf.reshape(x, [tf.shape(x)[0], -1, 1]).shape
    (array([4, 3], dtype=int32), (4, 3, 1))
    """
    del name
    return np.asarray(np.shape(input), as_dtype(out_type or _INT32))


def rank(input: Any, name: str | None = None) -> int:
    """The number of dimensions of ``input``, as a Python int.

    >>> import scopax.compat.v1 as tf
    >>> tf.rank(tf.zeros([4, 3]))
    2
    """
    del name
    return int(np.ndim(input))


def size(input: Any, name: str | None = None, out_type: Any = None) -> np.ndarray:
    """The static number of elements of ``input``, as a NumPy scalar.

    >>> import scopax.compat.v1 as tf
    >>> int(tf.size(tf.zeros([4, 3])))
    12
    """
    del name
    return np.asarray(np.size(input), as_dtype(out_type or _INT32))


def cast(x: Any, dtype: Any, name: str | None = None) -> jax.Array:
    """``x`` converted to ``dtype`` (floats to ints truncate towards zero).

    >>> import scopax.compat.v1 as tf
    >>> tf.cast(tf.constant([-1.7, 2.7]), tf.int32)
    Array([-1,  2], dtype=int32)
    """
    with named(name):
        return jnp.asarray(x).astype(_canonical(dtype))


def to_float(x: Any, name: str = "ToFloat") -> jax.Array:
    """``cast(x, tf.float32)``.

    >>> import scopax.compat.v1 as tf
    >>> tf.to_float(tf.constant([1, 2]))
    Array([1., 2.], dtype=float32)
    """
    return cast(x, _FLOAT32, name)


def to_int32(x: Any, name: str = "ToInt32") -> jax.Array:
    """``cast(x, tf.int32)``.

    >>> import scopax.compat.v1 as tf
    >>> tf.to_int32(tf.constant([1.9, -1.9]))
    Array([ 1, -1], dtype=int32)
    """
    return cast(x, _INT32, name)


def one_hot(
    indices: Any,
    depth: Any,
    on_value: Any = None,
    off_value: Any = None,
    axis: Any = None,
    dtype: Any = None,
    name: str | None = None,
) -> jax.Array:
    """``on_value`` where ``indices`` point, ``off_value`` elsewhere (out of range: all off).

    >>> import scopax.compat.v1 as tf
    >>> tf.one_hot([2, -1], 3)
    Array([[0., 0., 1.],
           [0., 0., 0.]], dtype=float32)
    """
    with named(name):
        i = jnp.asarray(indices)
        n = static_int("one_hot", "depth", depth)
        if dtype is None:
            given = on_value if on_value is not None else off_value
            dtype = _FLOAT32 if given is None else (_python_dtype(given) or jnp.result_type(given))
        dtype = _canonical(dtype)
        classes = jnp.arange(n, dtype=i.dtype).reshape((1,) * i.ndim + (n,))
        hot = i[..., None] == classes
        if on_value is None and off_value is None:
            # As jax.nn.one_hot: XLA folds a converted mask times x into a select.
            hot = hot.astype(dtype)
        else:
            on = jnp.asarray(1 if on_value is None else on_value, dtype)
            off = jnp.asarray(0 if off_value is None else off_value, dtype)
            hot = jnp.where(hot, on, off)
        if axis is None or axis == -1:
            return hot
        return jnp.moveaxis(hot, -1, one_axis("one_hot", "axis", axis, hot.ndim))


def identity(input: Any, name: str | None = None) -> jax.Array:
    """``input`` itself, as an array (no op in the compiled program).

    >>> import scopax.compat.v1 as tf
    >>> tf.identity([1.0, 2.0])
    Array([1., 2.], dtype=float32)
    """
    with named(name):
        return jnp.asarray(input)


def stop_gradient(input: Any, name: str | None = None) -> jax.Array:
    """``input``, through which no gradient flows.

    >>> import jax, scopax.compat.v1 as tf
    >>> jax.grad(lambda x: x * tf.stop_gradient(x))(3.0)
    Array(3., dtype=float32, weak_type=True)
    """
    with named(name):
        return jax.lax.stop_gradient(jnp.asarray(input))
