"""TF1's random ops, drawing their keys from the transform (``sx.next_rng_key()``).

Randomness comes from the ``rng`` given to ``model.init``/``model.apply``: an op-level
``seed`` is folded into the key (so two ops with different seeds differ), but there is
no graph-level seed. Outside ``init``/``apply``, or in an ``apply`` without ``rng``,
they raise ``NotInTransformError`` or ``MissingRngError``.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import scopax as sx
from scopax import errors
from scopax.compat.v1._dtypes import as_dtype
from scopax.compat.v1._util import named, static_int, static_ints

_FLOAT32 = np.dtype("float32")


def _key(op: str, seed: Any) -> jax.Array:
    key = sx.next_rng_key()
    if seed is None:
        return key
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool):
        raise errors.OpArgumentError(op, f"seed={seed!r}", "pass an int, or None.")
    return jax.random.fold_in(key, int(seed) % 2**32)


def _float(op: str, dtype: Any) -> np.dtype:
    dtype = np.dtype(jax.dtypes.canonicalize_dtype(as_dtype(dtype)))
    if dtype.kind != "f":
        raise errors.OpArgumentError(op, f"dtype={dtype}", "pass a float dtype, e.g. tf.float32.")
    return dtype


def random_normal(
    shape: Any,
    mean: Any = 0.0,
    stddev: Any = 1.0,
    dtype: Any = _FLOAT32,
    seed: int | None = None,
    name: str | None = None,
) -> jax.Array:
    """Normal samples of the given ``mean`` and ``stddev``.

    >>> import jax, scopax as sx, scopax.compat.v1 as tf
    >>> model = sx.transform(lambda: tf.random_normal([2, 3], stddev=0.1))
    >>> model.apply({}, rng=jax.random.key(0)).shape
    (2, 3)
    """
    with named(name):
        dt = _float("random_normal", dtype)
        dims = static_ints("random_normal", "shape", shape)
        sample = jax.random.normal(_key("random_normal", seed), dims, dt)
        return (sample * jnp.asarray(stddev, dt) + jnp.asarray(mean, dt)).astype(dt)


def truncated_normal(
    shape: Any,
    mean: Any = 0.0,
    stddev: Any = 1.0,
    dtype: Any = _FLOAT32,
    seed: int | None = None,
    name: str | None = None,
) -> jax.Array:
    """Normal samples redrawn beyond two standard deviations of ``mean``.

    >>> import jax, scopax as sx, scopax.compat.v1 as tf
    >>> model = sx.transform(lambda: tf.truncated_normal([1000], stddev=0.1))
    >>> bool((abs(model.apply({}, rng=jax.random.key(0))) <= 0.2).all())
    True
    """
    with named(name):
        dt = _float("truncated_normal", dtype)
        dims = static_ints("truncated_normal", "shape", shape)
        sample = jax.random.truncated_normal(_key("truncated_normal", seed), -2.0, 2.0, dims, dt)
        return (sample * jnp.asarray(stddev, dt) + jnp.asarray(mean, dt)).astype(dt)


def random_uniform(
    shape: Any,
    minval: Any = 0,
    maxval: Any = None,
    dtype: Any = _FLOAT32,
    seed: int | None = None,
    name: str | None = None,
) -> jax.Array:
    """Uniform samples in ``[minval, maxval)`` (``maxval`` defaults to 1 for floats).

    >>> import jax, scopax as sx, scopax.compat.v1 as tf
    >>> model = sx.transform(lambda: tf.random_uniform([4], 0, 10, tf.int32))
    >>> model.apply({}, rng=jax.random.key(0)).dtype
    dtype('int32')
    """
    with named(name):
        dt = np.dtype(jax.dtypes.canonicalize_dtype(as_dtype(dtype)))
        dims = static_ints("random_uniform", "shape", shape)
        key = _key("random_uniform", seed)
        if dt.kind in "iu":
            if maxval is None:
                raise errors.OpArgumentError(
                    "random_uniform",
                    f"dtype={dt} without maxval",
                    "an integer range needs an upper bound; pass maxval=.",
                )
            return jax.random.randint(key, dims, minval, maxval, dt)
        if dt.kind != "f":
            raise errors.OpArgumentError(
                "random_uniform", f"dtype={dt}", "pass a float or an integer dtype."
            )
        high = 1.0 if maxval is None else maxval
        return jax.random.uniform(key, dims, dt, jnp.asarray(minval, dt), jnp.asarray(high, dt))


def random_shuffle(value: Any, seed: int | None = None, name: str | None = None) -> jax.Array:
    """``value`` with its first dimension randomly permuted.

    >>> import jax, scopax as sx, scopax.compat.v1 as tf
    >>> model = sx.transform(lambda: tf.random_shuffle(tf.range(5)))
    >>> sorted(model.apply({}, rng=jax.random.key(0)).tolist())
    [0, 1, 2, 3, 4]
    """
    with named(name):
        x = jnp.asarray(value)
        if x.ndim == 0:
            raise errors.OpArgumentError(
                "random_shuffle", "a scalar value", "pass an array of rank 1 or more."
            )
        return jax.random.permutation(_key("random_shuffle", seed), x, axis=0)


def multinomial(
    logits: Any,
    num_samples: Any,
    seed: int | None = None,
    name: str | None = None,
    output_dtype: Any = None,
) -> jax.Array:
    """``num_samples`` class indices per row of ``[batch, classes]`` ``logits``.

    The int64 default is int32 under JAX's default (x64 off).

    >>> import jax, scopax as sx, scopax.compat.v1 as tf
    >>> model = sx.transform(lambda: tf.multinomial([[0.0, -1e9], [-1e9, 0.0]], 3))
    >>> model.apply({}, rng=jax.random.key(0))
    Array([[0, 0, 0],
           [1, 1, 1]], dtype=int32)
    """
    with named(name):
        x = jnp.asarray(logits)
        if x.ndim != 2:
            raise errors.OpArgumentError(
                "multinomial",
                f"logits of shape {x.shape}",
                "pass a [batch, classes] matrix of unnormalized log-probabilities.",
            )
        n = static_int("multinomial", "num_samples", num_samples)
        key = _key("multinomial", seed)
        drawn = jax.random.categorical(key, x, axis=-1, shape=(n, x.shape[0]))
        dtype = jax.dtypes.canonicalize_dtype(as_dtype(output_dtype or np.dtype("int64")))
        return drawn.T.astype(dtype)
