"""Helpers shared by ``scopax.nn``, ``scopax.layers`` and ``scopax.contrib``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import scopax as sx
from scopax.errors import NNArgumentError


def layer_scope(name: str | None, default_name: str, reuse: Any) -> sx.variable_scope:
    """The scope of a ``tf.layers`` function: ``name`` as given, or ``default_name`` made
    unique (``dense``, ``dense_1``, ...); with ``reuse``, ``default_name`` as is."""
    if name is None and reuse:
        return sx.variable_scope(default_name, reuse=reuse)
    return sx.variable_scope(name, default_name=default_name, reuse=reuse)


def float_dtype(inputs: Any, op: str, argument: str = "inputs") -> Any:
    """The floating dtype of ``inputs``, or a clear error naming ``op`` and ``argument``."""
    dtype = jnp.result_type(inputs)
    if not jnp.issubdtype(dtype, jnp.inexact):
        raise NNArgumentError(
            f"{op} computes in floating point, but its {argument} have dtype {dtype}; cast "
            f"them, e.g. {argument}.astype(jnp.float32)."
        )
    return dtype


def matmul_last(inputs: jax.Array, kernel: jax.Array) -> jax.Array:
    # `tensordot` rather than `@`, so a rank-3 input never broadcasts the kernel.
    return jnp.tensordot(inputs, kernel, axes=1)


def bias_last(x: jax.Array, bias: jax.Array) -> jax.Array:
    return x + jnp.reshape(bias, (1,) * (x.ndim - 1) + (-1,))


def check_rank(value: Any, rank: int, op: str, argument: str, layout: str) -> None:
    if np.ndim(value) != rank:
        raise NNArgumentError(
            f"{op} takes {argument} of rank {rank} ({layout}), got shape {np.shape(value)}."
        )


def int_tuple(value: int | Sequence[int], n: int, op: str, argument: str) -> tuple[int, ...]:
    """An int or ``n`` ints as a tuple of ``n`` ints (Keras's ``normalize_tuple``)."""
    if isinstance(value, (int, np.integer)):
        return (int(value),) * n
    try:
        values = tuple(int(v) for v in value)
    except TypeError:
        values = ()
    if len(values) != n:
        raise NNArgumentError(f"{op} got {argument}={value!r}; pass an int or {n} ints.")
    return values


def padding_name(padding: Any, op: str) -> str:
    """``"SAME"`` or ``"VALID"`` from any case, or a clear error."""
    if not isinstance(padding, str) or padding.upper() not in ("SAME", "VALID"):
        raise NNArgumentError(f'{op} got padding={padding!r}; pass "same" or "valid" (any case).')
    return padding.upper()
