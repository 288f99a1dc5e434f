"""TF1's ``tf.nn.embedding_lookup``, over one table or a list of shards."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from scopax.errors import NNArgumentError


def embedding_lookup(
    params: Any,
    ids: Any,
    partition_strategy: str = "mod",
    name: str | None = None,
    validate_indices: bool = True,
    max_norm: float | None = None,
) -> jax.Array:
    """TF1's ``tf.nn.embedding_lookup``: the rows of ``params`` at ``ids``.

    ``params`` may be one array or a list of shards of one table, split TF's way:
    ``"mod"`` puts id ``i`` in shard ``i % n`` at row ``i // n``; ``"div"`` splits the
    ids into contiguous ranges, the first shards one longer when they do not divide
    evenly. Ids out of range give NaN rows (TF raises on CPU).

    >>> import jax.numpy as jnp
    >>> from scopax import nn
    >>> table = jnp.arange(10.0).reshape(5, 2)
    >>> nn.embedding_lookup(table, jnp.array([[4, 0]]))
    Array([[[8., 9.],
            [0., 1.]]], dtype=float32)
    >>> shards = [table[0::2], table[1::2]]  # "mod": ids 0, 2, 4 and 1, 3
    >>> nn.embedding_lookup(shards, jnp.array([3, 4])).tolist()
    [[6.0, 7.0], [8.0, 9.0]]

    Args:
      params: ``[vocab, ...]``, or a list of shards of it.
      ids: integer array of any shape.
      partition_strategy: ``"mod"`` or ``"div"``, for a list of shards.
      name, validate_indices: accepted for TF1 compatibility.
      max_norm: if given, rows with a larger L2 norm are scaled down to it.

    Returns:
      ``ids.shape + params.shape[1:]``.
    """
    del name, validate_indices
    if partition_strategy not in ("mod", "div"):
        raise NNArgumentError(
            f'embedding_lookup got partition_strategy={partition_strategy!r}; pass "mod" or "div".'
        )
    ids = jnp.asarray(ids)
    if isinstance(params, (list, tuple)):
        shards = list(params)
        table = jnp.concatenate(shards, axis=0) if len(shards) > 1 else shards[0]
        if len(shards) > 1:
            ids = _partitioned_rows(ids, [int(np.shape(s)[0]) for s in shards], partition_strategy)
    else:
        table = params
    rows = jnp.take(table, ids, axis=0, mode="fill")
    if max_norm is not None:
        axes = tuple(range(ids.ndim, rows.ndim))
        norm = jnp.sqrt(jnp.sum(rows * rows, axis=axes, keepdims=True))
        rows = rows * max_norm / jnp.maximum(norm, max_norm)
    return rows


def _partitioned_rows(ids: jax.Array, sizes: list[int], strategy: str) -> jax.Array:
    """Where id ``i`` lies in the concatenation of the shards."""
    n, total = len(sizes), sum(sizes)
    offsets = jnp.asarray(np.cumsum([0, *sizes[:-1]]), ids.dtype)
    if strategy == "mod":
        shard, row = ids % n, ids // n
    else:
        per, extras = total // n, total % n
        shard = jnp.maximum(ids // (per + 1), (ids - extras) // max(per, 1))
        row = jnp.where(shard < extras, ids % (per + 1), (ids - extras) % max(per, 1))
    valid = (ids >= 0) & (ids < total)
    # An out-of-range id points past the end, so `take(mode="fill")` gives NaN.
    return jnp.where(valid, offsets[jnp.clip(shard, 0, n - 1)] + row, total)
