"""TF1's dtype names, as NumPy dtypes: ``x.dtype == tf.float32`` reads as in TF1."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

from scopax import errors

float16 = np.dtype("float16")
bfloat16 = np.dtype(jnp.bfloat16)
float32 = np.dtype("float32")
float64 = np.dtype("float64")
int8 = np.dtype("int8")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
uint8 = np.dtype("uint8")
bool = np.dtype("bool")  # TF1's name, read as tf.bool; this module needs no builtin bool

_STRINGS = ("U", "S", "O")


def as_dtype(type_value: Any) -> np.dtype:
    """The NumPy dtype of a dtype, a type or a TF1 dtype name (TF1's ``tf.as_dtype``).

    >>> import scopax.compat.v1 as tf
    >>> tf.as_dtype("float32") == tf.float32, tf.as_dtype(int)
    (True, dtype('int64'))

    Under JAX's default (x64 off) arrays of 64-bit dtypes are stored in 32 bits.

    Raises:
      OpArgumentError: ``type_value`` names no dtype, or a string dtype, which JAX
        arrays cannot hold.
    """
    if (isinstance(type_value, str) and type_value == "string") or type_value in (str, bytes):
        dtype = np.dtype(str)  # TF1's tf.string: refused below, with the reason.
    else:
        dtype = None
    try:
        dtype = np.dtype(type_value) if dtype is None else dtype
    except TypeError as e:
        raise errors.OpArgumentError(
            "as_dtype",
            f"type_value={type_value!r}",
            "it names no dtype; pass e.g. tf.float32 or 'int32'.",
        ) from e
    if dtype.kind in _STRINGS:
        raise errors.OpArgumentError(
            "as_dtype",
            f"type_value={type_value!r}",
            "JAX arrays hold numbers only, so there is no string dtype; turn strings into "
            "integer ids (a vocabulary lookup in NumPy) before they reach the model.",
        )
    return dtype
