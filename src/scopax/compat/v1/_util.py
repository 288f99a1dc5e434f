"""What every ``scopax.compat.v1`` op module shares: op names, static ints, argument checks."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import jax
import numpy as np
from jax.core import Tracer

from scopax import errors


def named(name: str | None) -> contextlib.AbstractContextManager[Any]:
    """TF's ``name=``: the ops traced inside carry it (in jaxprs, HLO metadata, profiles)."""
    return jax.named_scope(name) if name else contextlib.nullcontext()


def static_ints(op: str, argument: str, value: Any) -> tuple[int, ...]:
    """A shape-like argument as Python ints; it must be known when the program is traced.

    TF1 accepts a tensor here and reads it when the session runs; under ``jax.jit`` a
    traced array has no value yet, so the message says how to pass a static one.
    """
    if is_traced(value):
        raise errors.OpArgumentError(
            op,
            f"{argument}=<a traced array>",
            "it must be known when the program is traced (jax.jit compiles one program per "
            "shape); pass Python ints, or values computed from x.shape or tf.shape(x), "
            "which are static in scopax.",
        )
    try:
        array = np.asarray(value)
    except Exception as e:  # jax raises several types for a value it cannot make concrete
        raise errors.OpArgumentError(op, f"{argument}={value!r}", f"{e}") from e
    if array.dtype.kind not in "iu" and not (array.size == 0 and array.dtype.kind == "f"):
        raise errors.OpArgumentError(
            op,
            f"{argument}={value!r}",
            "it must hold integers; pass e.g. [2, 3] or an int.",
        )
    return tuple(int(v) for v in array.reshape(-1))


def axes(op: str, argument: str, value: Any, ndim: int) -> tuple[int, ...] | None:
    """An ``axis`` argument (None, an int or a list of ints) as checked, non-negative ints."""
    if value is None:
        return None
    result = []
    for a in static_ints(op, argument, value):
        if not -ndim <= a < max(ndim, 1):
            raise errors.OpArgumentError(
                op,
                f"{argument}={value!r}",
                f"the input has rank {ndim}, so each axis must be in [{-ndim}, {ndim}).",
            )
        result.append(a % max(ndim, 1))
    return tuple(result)


def one_axis(op: str, argument: str, value: Any, ndim: int) -> int:
    """A single axis, as a non-negative int in ``[0, ndim)``."""
    found = axes(op, argument, value, ndim)
    if found is None or len(found) != 1:
        raise errors.OpArgumentError(op, f"{argument}={value!r}", "pass one int axis.")
    return found[0]


def pick(op: str, new: str, value: Any, old: str, old_value: Any) -> Any:
    """TF1's deprecated argument spellings (``keep_dims``, ``squeeze_dims``...): one wins."""
    if old_value is None:
        return value
    if value is not None:
        raise errors.OpArgumentError(
            op, f"both {new}= and {old}=", f"they mean the same; pass only {new}=."
        )
    return old_value


def tensor_list(op: str, argument: str, values: Any) -> Sequence[Any]:
    """A list or tuple of arrays (TF1 ops that take ``values`` or ``inputs``)."""
    if not isinstance(values, list | tuple) or not values:
        raise errors.OpArgumentError(
            op, f"{argument}={values!r}", "pass a non-empty list of arrays."
        )
    return values


def broadcastable(op: str, names: str, *values: Any) -> list[Any]:
    """TF's broadcasting, whatever ``jax_numpy_rank_promotion`` says: lower ranks gain
    leading dimensions of size 1 (what ``jax.numpy`` does when promotion is allowed, so
    the program is the same). Lists become arrays, as TF converts them. ``names`` names
    the arguments, comma-separated, for the error."""
    values_ = [jax.numpy.asarray(v) if isinstance(v, list | tuple) else v for v in values]
    shapes = [np.shape(v) for v in values_]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        given = " and ".join(
            f"{n.strip()} of shape {s}" for n, s in zip(names.split(","), shapes, strict=True)
        )
        raise errors.OpArgumentError(
            op,
            given,
            "they do not broadcast (aligned from the last dimension, each pair of sizes must "
            "be equal or 1); reshape, tile or transpose one of them.",
        ) from None
    ranks = [len(s) for s in shapes]
    if len({r for r in ranks if r}) < 2:
        return values_
    rank = max(ranks)
    return [
        jax.lax.broadcast_to_rank(v, rank) if 0 < r < rank else v
        for v, r in zip(values_, ranks, strict=True)
    ]


def is_traced(value: Any) -> bool:
    """Whether ``value`` is an abstract array of a trace (``jax.jit``...), with no value yet."""
    return isinstance(value, Tracer)


def static_int(op: str, argument: str, value: Any) -> int:
    """One int known when the program is traced (a depth, a length, a count)."""
    ints = static_ints(op, argument, value)
    if len(ints) != 1 or np.ndim(value) != 0:
        raise errors.OpArgumentError(op, f"{argument}={value!r}", "pass one int.")
    return ints[0]
