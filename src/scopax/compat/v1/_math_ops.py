"""TF1's element-wise math, comparisons, ``matmul``, ``einsum`` and ``add_n``.

Each op is the ``jax.numpy`` function of the same meaning under TF1's name and
argument names; ``name=`` names the traced ops. Unlike TF1, mixed dtypes promote as in
JAX rather than raise (``tf.add(int_array, 0.5)`` is a float array).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from scopax import errors
from scopax.compat.v1._util import broadcastable, named, tensor_list


def _unary(fn: Callable[[Any], jax.Array], op: str, doc: str) -> Callable[..., jax.Array]:
    def unary(x: Any, name: str | None = None) -> jax.Array:
        with named(name):
            return fn(jnp.asarray(x))

    unary.__name__ = unary.__qualname__ = op
    unary.__doc__ = doc
    return unary


def _binary(fn: Callable[[Any, Any], jax.Array], op: str, doc: str) -> Callable[..., jax.Array]:
    def binary(x: Any, y: Any, name: str | None = None) -> jax.Array:
        with named(name):
            return fn(*broadcastable(op, "x, y", x, y))

    binary.__name__ = binary.__qualname__ = op
    binary.__doc__ = doc
    return binary


def _example(op: str, args: str, result: str) -> str:
    return f"""TF1's ``tf.{op}``.

    >>> import scopax.compat.v1 as tf
    >>> tf.{op}({args})
    {result}
    """


_F = "tf.constant([0.5, 2.0])"
_I = "tf.constant([-3, 4])"

add = _binary(jnp.add, "add", _example("add", f"{_I}, 1", "Array([-2,  5], dtype=int32)"))
subtract = _binary(
    jnp.subtract, "subtract", _example("subtract", f"{_I}, 1", "Array([-4,  3], dtype=int32)")
)
multiply = _binary(
    jnp.multiply, "multiply", _example("multiply", f"{_I}, 2", "Array([-6,  8], dtype=int32)")
)
divide = _binary(
    jnp.true_divide,
    "divide",
    _example("divide", f"{_I}, 2", "Array([-1.5,  2. ], dtype=float32)"),
)
truediv = _binary(
    jnp.true_divide,
    "truediv",
    _example("truediv", f"{_F}, 2.0", "Array([0.25, 1.  ], dtype=float32)"),
)
floordiv = _binary(
    jnp.floor_divide,
    "floordiv",
    _example("floordiv", f"{_I}, 2", "Array([-2,  2], dtype=int32)"),
)
mod = _binary(jnp.mod, "mod", _example("mod", f"{_I}, 3", "Array([0, 1], dtype=int32)"))
pow = _binary(  # TF1's name
    jnp.power, "pow", _example("pow", f"{_F}, 2.0", "Array([0.25, 4.  ], dtype=float32)")
)
maximum = _binary(
    jnp.maximum, "maximum", _example("maximum", f"{_I}, 0", "Array([0, 4], dtype=int32)")
)
minimum = _binary(
    jnp.minimum, "minimum", _example("minimum", f"{_I}, 0", "Array([-3,  0], dtype=int32)")
)
squared_difference = _binary(
    lambda x, y: jnp.square(jnp.subtract(x, y)),
    "squared_difference",
    _example("squared_difference", f"{_I}, 1", "Array([16,  9], dtype=int32)"),
)

sqrt = _unary(
    jnp.sqrt, "sqrt", _example("sqrt", _F, "Array([0.70710677, 1.4142135 ], dtype=float32)")
)
rsqrt = _unary(
    jax.lax.rsqrt, "rsqrt", _example("rsqrt", _F, "Array([1.4142135 , 0.70710677], dtype=float32)")
)
exp = _unary(jnp.exp, "exp", _example("exp", _F, "Array([1.6487212, 7.389056 ], dtype=float32)"))
log = _unary(jnp.log, "log", _example("log", _F, "Array([-0.6931472,  0.6931472], dtype=float32)"))
log1p = _unary(
    jnp.log1p, "log1p", _example("log1p", _F, "Array([0.4054651, 1.0986123], dtype=float32)")
)
square = _unary(jnp.square, "square", _example("square", _I, "Array([ 9, 16], dtype=int32)"))
abs = _unary(  # TF1's name
    jnp.abs, "abs", _example("abs", _I, "Array([3, 4], dtype=int32)")
)
negative = _unary(
    jnp.negative, "negative", _example("negative", _I, "Array([ 3, -4], dtype=int32)")
)
sign = _unary(jnp.sign, "sign", _example("sign", _I, "Array([-1,  1], dtype=int32)"))
tanh = _unary(
    jnp.tanh, "tanh", _example("tanh", _F, "Array([0.46211717, 0.9640276 ], dtype=float32)")
)
sigmoid = _unary(
    jax.nn.sigmoid,
    "sigmoid",
    _example("sigmoid", "[0.0]", "Array([0.5], dtype=float32)"),
)
floor = _unary(jnp.floor, "floor", _example("floor", _F, "Array([0., 2.], dtype=float32)"))
ceil = _unary(jnp.ceil, "ceil", _example("ceil", _F, "Array([1., 2.], dtype=float32)"))
round = _unary(  # TF1's name; halves go to the even neighbour, as in TF
    jnp.round, "round", _example("round", "[0.5, 1.5, 2.5]", "Array([0., 2., 2.], dtype=float32)")
)
erf = _unary(
    jax.scipy.special.erf,
    "erf",
    _example("erf", "[0.0]", "Array([0.], dtype=float32)"),
)
reciprocal = _unary(
    jnp.reciprocal, "reciprocal", _example("reciprocal", _F, "Array([2. , 0.5], dtype=float32)")
)

equal = _binary(
    jnp.equal, "equal", _example("equal", f"{_I}, 4", "Array([False,  True], dtype=bool)")
)
not_equal = _binary(
    jnp.not_equal,
    "not_equal",
    _example("not_equal", f"{_I}, 4", "Array([ True, False], dtype=bool)"),
)
less = _binary(jnp.less, "less", _example("less", f"{_I}, 4", "Array([ True, False], dtype=bool)"))
less_equal = _binary(
    jnp.less_equal,
    "less_equal",
    _example("less_equal", f"{_I}, 4", "Array([ True,  True], dtype=bool)"),
)
greater = _binary(
    jnp.greater, "greater", _example("greater", f"{_I}, 0", "Array([False,  True], dtype=bool)")
)
greater_equal = _binary(
    jnp.greater_equal,
    "greater_equal",
    _example("greater_equal", f"{_I}, 4", "Array([False,  True], dtype=bool)"),
)
_B = "[True, False], [True, True]"
logical_and = _binary(
    jnp.logical_and, "logical_and", _example("logical_and", _B, "Array([ True, False], dtype=bool)")
)
logical_or = _binary(
    jnp.logical_or, "logical_or", _example("logical_or", _B, "Array([ True,  True], dtype=bool)")
)
logical_not = _unary(
    jnp.logical_not,
    "logical_not",
    _example("logical_not", "[True, False]", "Array([False,  True], dtype=bool)"),
)


def add_n(inputs: Any, name: str | None = None) -> jax.Array:
    """The element-wise sum of a list of arrays of one shape.

    >>> import scopax.compat.v1 as tf
    >>> tf.add_n([tf.ones([2]), tf.ones([2]), tf.ones([2])])
    Array([3., 3.], dtype=float32)
    """
    with named(name):
        arrays = [jnp.asarray(x) for x in tensor_list("add_n", "inputs", inputs)]
        if len({a.shape for a in arrays}) > 1:
            raise errors.OpArgumentError(
                "add_n",
                f"inputs of shapes {[a.shape for a in arrays]}",
                "every input must have the same shape; broadcast them first.",
            )
        return functools.reduce(jnp.add, arrays)


def matmul(
    a: Any,
    b: Any,
    transpose_a: bool = False,
    transpose_b: bool = False,
    adjoint_a: bool = False,
    adjoint_b: bool = False,
    a_is_sparse: bool = False,
    b_is_sparse: bool = False,
    name: str | None = None,
) -> jax.Array:
    """The matrix product of the last two dimensions (earlier ones are batch dimensions).

    ``a_is_sparse``/``b_is_sparse`` were hints to TF1's kernels and are ignored.

    >>> import scopax.compat.v1 as tf
    >>> tf.matmul(tf.ones([2, 3]), tf.ones([2, 3]), transpose_b=True)
    Array([[3., 3.],
           [3., 3.]], dtype=float32)
    """
    del a_is_sparse, b_is_sparse
    with named(name):
        x, y = jnp.asarray(a), jnp.asarray(b)
        for arg, array, t, adj in (
            ("a", x, transpose_a, adjoint_a),
            ("b", y, transpose_b, adjoint_b),
        ):
            if array.ndim < 2:
                raise errors.OpArgumentError(
                    "matmul",
                    f"{arg} of shape {array.shape}",
                    "it must have rank 2 or more; reshape a vector to [1, n] or [n, 1], or "
                    "use tf.tensordot-like tf.einsum.",
                )
            if t and adj:
                raise errors.OpArgumentError(
                    "matmul",
                    f"transpose_{arg}=True and adjoint_{arg}=True",
                    f"pass only one: adjoint_{arg} already transposes.",
                )
        if transpose_a or adjoint_a:
            x = jnp.swapaxes(x, -1, -2)
        inner_b = y.shape[-1] if transpose_b or adjoint_b else y.shape[-2]
        if x.shape[-1] != inner_b:
            raise errors.OpArgumentError(
                "matmul",
                f"a of shape {jnp.shape(a)} and b of shape {y.shape}",
                f"the inner dimensions differ ({x.shape[-1]} and {inner_b}, after "
                "transposes); transpose one, e.g. transpose_b=True.",
            )
        if transpose_b or adjoint_b:
            y = jnp.swapaxes(y, -1, -2)
        if adjoint_a:
            x = jnp.conj(x)
        if adjoint_b:
            y = jnp.conj(y)
        return jnp.matmul(x, y)


def einsum(equation: str, *inputs: Any, **kwargs: Any) -> jax.Array:
    """Einstein summation, as ``jnp.einsum``; the only keyword argument is ``name``.

    >>> import scopax.compat.v1 as tf
    >>> tf.einsum("ij,jk->ik", tf.ones([2, 3]), tf.ones([3, 4])).shape
    (2, 4)
    """
    name = kwargs.pop("name", None)
    if kwargs:
        raise errors.OpArgumentError(
            "einsum", f"{sorted(kwargs)}", "TF1's einsum takes only name=; drop the others."
        )
    with named(name):
        return jnp.einsum(equation, *inputs)
