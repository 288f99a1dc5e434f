"""TF1's padding and sequence ops: pad, reverse, reverse_sequence, sequence_mask."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from scopax import errors
from scopax.compat.v1._dtypes import as_dtype
from scopax.compat.v1._util import (
    axes,
    is_traced,
    named,
    one_axis,
    pick,
    static_int,
    static_ints,
)

_BOOL = np.dtype("bool")


def pad(
    tensor: Any,
    paddings: Any,
    mode: str = "CONSTANT",
    name: str | None = None,
    constant_values: Any = 0,
) -> jax.Array:
    """Pad each dimension ``i`` by ``paddings[i] = [before, after]``.

    >>> import scopax.compat.v1 as tf
    >>> tf.pad(tf.constant([1, 2, 3]), [[2, 1]], "REFLECT")
    Array([3, 2, 1, 2, 3, 2], dtype=int32)
    """
    with named(name):
        x = jnp.asarray(tensor)
        flat = static_ints("pad", "paddings", paddings)
        if len(flat) != 2 * x.ndim or any(p < 0 for p in flat):
            raise errors.OpArgumentError(
                "pad",
                f"paddings={paddings!r}",
                f"pass [[before, after]] of non-negative ints for each of the {x.ndim} dimensions.",
            )
        widths = [(flat[2 * i], flat[2 * i + 1]) for i in range(x.ndim)]
        kind = mode.upper() if isinstance(mode, str) else mode
        if kind == "CONSTANT":
            return jnp.pad(x, widths, constant_values=jnp.asarray(constant_values, x.dtype))
        if kind not in ("REFLECT", "SYMMETRIC"):
            raise errors.OpArgumentError(
                "pad", f"mode={mode!r}", 'pass "CONSTANT", "REFLECT" or "SYMMETRIC".'
            )
        limit = 0 if kind == "REFLECT" else 1  # REFLECT skips the edge, so pads less.
        for (before, after), size in zip(widths, x.shape, strict=True):
            if max(before, after) > size - 1 + limit:
                raise errors.OpArgumentError(
                    "pad",
                    f"paddings={paddings!r}",
                    f"{kind} pads at most {size - 1 + limit} on a side of a dimension of "
                    f"size {size}.",
                )
        return jnp.pad(x, widths, mode=kind.lower())


def reverse(tensor: Any, axis: Any, name: str | None = None) -> jax.Array:
    """``tensor`` reversed along each dimension in the list ``axis``.

    >>> import scopax.compat.v1 as tf
    >>> tf.reverse(tf.constant([[1, 2], [3, 4]]), [1])
    Array([[2, 1],
           [4, 3]], dtype=int32)
    """
    with named(name):
        x = jnp.asarray(tensor)
        return jnp.flip(x, axes("reverse", "axis", axis, x.ndim))


def reverse_sequence(
    input: Any,
    seq_lengths: Any,
    seq_axis: int | None = None,
    batch_axis: int | None = None,
    name: str | None = None,
    seq_dim: int | None = None,
    batch_dim: int | None = None,
) -> jax.Array:
    """Reverse the first ``seq_lengths[b]`` steps of each sequence ``b``; keep the rest.

    >>> import scopax.compat.v1 as tf
    >>> tf.reverse_sequence(tf.constant([[1, 2, 3], [4, 5, 6]]), [2, 3], seq_axis=1)
    Array([[2, 1, 3],
           [6, 5, 4]], dtype=int32)
    """
    with named(name):
        x, lengths = jnp.asarray(input), jnp.asarray(seq_lengths)
        seq = pick("reverse_sequence", "seq_axis", seq_axis, "seq_dim", seq_dim)
        if seq is None:
            raise errors.OpArgumentError(
                "reverse_sequence", "seq_axis=None", "pass the time axis, e.g. seq_axis=1."
            )
        batch = pick("reverse_sequence", "batch_axis", batch_axis, "batch_dim", batch_dim)
        s = one_axis("reverse_sequence", "seq_axis", seq, x.ndim)
        b = one_axis("reverse_sequence", "batch_axis", 0 if batch is None else batch, x.ndim)
        if s == b or lengths.shape != (x.shape[b],):
            raise errors.OpArgumentError(
                "reverse_sequence",
                f"seq_lengths of shape {lengths.shape}",
                f"pass one length per batch entry ({x.shape[b]},), and seq_axis != batch_axis.",
            )
        steps = jnp.arange(x.shape[s], dtype=lengths.dtype)[None, :]
        ends = lengths[:, None]
        source = jnp.where(steps < ends, ends - 1 - steps, steps)  # [batch, time]
        shape = [1] * x.ndim
        shape[b], shape[s] = x.shape[b], x.shape[s]
        source = jnp.reshape(source if b < s else source.T, shape)
        return jnp.take_along_axis(x, jnp.broadcast_to(source, x.shape), axis=s)


def sequence_mask(
    lengths: Any, maxlen: Any = None, dtype: Any = _BOOL, name: str | None = None
) -> jax.Array:
    """``mask[..., j] = j < lengths[...]``, ``maxlen`` long (default: the longest length).

    >>> import scopax.compat.v1 as tf
    >>> tf.sequence_mask([1, 3], 4)
    Array([[ True, False, False, False],
           [ True,  True,  True, False]], dtype=bool)
    """
    with named(name):
        lengths = jnp.asarray(lengths)
        if maxlen is None:
            if is_traced(lengths):
                raise errors.OpArgumentError(
                    "sequence_mask",
                    "maxlen=None with traced lengths",
                    "the longest length decides the mask's shape, which jax.jit must know; "
                    "pass maxlen=, e.g. the padded time dimension x.shape[1].",
                )
            maxlen = int(np.max(np.asarray(lengths), initial=0))
        else:
            maxlen = static_int("sequence_mask", "maxlen", maxlen)
        steps = jnp.arange(maxlen, dtype=lengths.dtype).reshape((1,) * lengths.ndim + (maxlen,))
        mask = steps < lengths[..., None]
        return mask.astype(as_dtype(dtype))
