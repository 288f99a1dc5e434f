"""TF1's core layers: ``dense``, ``fully_connected``, ``dropout``, ``embedding_lookup``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import scopax as sx

_ZEROS = sx.zeros_initializer()


def layer_scope(name: str | None, default_name: str, reuse: Any) -> sx.variable_scope:
    """The scope of a ``tf.layers`` function: ``name`` as given, or ``default_name`` made
    unique (``dense``, ``dense_1``, ...); with ``reuse``, ``default_name`` as is."""
    if name is None and reuse:
        return sx.variable_scope(default_name, reuse=reuse)
    return sx.variable_scope(name, default_name=default_name, reuse=reuse)


def _float_dtype(inputs: Any, layer: str) -> Any:
    dtype = jnp.result_type(inputs)
    if not jnp.issubdtype(dtype, jnp.inexact):
        raise ValueError(
            f"{layer} computes in floating point, but its inputs have dtype {dtype}; cast "
            "them, e.g. inputs.astype(jnp.float32)."
        )
    return dtype


def _matmul_last(inputs: jax.Array, kernel: jax.Array) -> jax.Array:
    # `tensordot` rather than `@`, so a rank-3 input never broadcasts the kernel.
    return jnp.tensordot(inputs, kernel, axes=1)


def _bias_add(x: jax.Array, bias: jax.Array) -> jax.Array:
    return x + jnp.reshape(bias, (1,) * (x.ndim - 1) + (-1,))


def dense(
    inputs: Any,
    units: int,
    activation: Callable[[jax.Array], jax.Array] | None = None,
    use_bias: bool = True,
    kernel_initializer: Any = None,
    bias_initializer: Any = None,
    kernel_regularizer: Any = None,
    bias_regularizer: Any = None,
    trainable: bool = True,
    name: str | None = None,
    reuse: Any = None,
) -> jax.Array:
    """TF1's ``tf.layers.dense``: ``activation(inputs @ kernel + bias)``.

    Variables ``kernel`` ``[depth, units]`` (the scope's initializer, else
    ``glorot_uniform``) and ``bias`` ``[units]`` (zeros), in scope ``name``, or ``dense``
    made unique in the current scope (``dense``, ``dense_1``, ...). Inputs of rank > 2
    are multiplied along their last axis.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax import nn
    >>> def mlp(x):
    ...     return nn.dense(nn.dense(x, 8, activation=jax.nn.relu), 2)
    >>> params = sx.transform(mlp).init(jax.random.key(0), jnp.ones((4, 3)))
    >>> sorted(sx.flatten(params))
    ['dense/bias', 'dense/kernel', 'dense_1/bias', 'dense_1/kernel']

    Args:
      inputs: ``[..., depth]``.
      units: the output depth.
      activation: applied last, if given.
      use_bias: add a bias.
      kernel_initializer, bias_initializer: initializers; the defaults above when None.
      kernel_regularizer, bias_regularizer: ``f(variable) -> loss``, see
        ``sx.get_regularization_losses``.
      trainable: ``False`` makes the variables state (``sx.transform_with_state``).
      name: the scope name, used as given (not made unique).
      reuse: ``True`` or ``sx.AUTO_REUSE`` to reuse the variables of scope ``name``.

    Returns:
      ``[..., units]``.
    """
    dtype = _float_dtype(inputs, "dense")
    with layer_scope(name, "dense", reuse):
        kernel = sx.get_variable(
            "kernel",
            [inputs.shape[-1], units],
            dtype,
            kernel_initializer,
            trainable=trainable,
            regularizer=kernel_regularizer,
        )
        outputs = _matmul_last(inputs, kernel)
        if use_bias:
            bias = sx.get_variable(
                "bias",
                [units],
                dtype,
                sx.zeros_initializer() if bias_initializer is None else bias_initializer,
                trainable=trainable,
                regularizer=bias_regularizer,
            )
            outputs = _bias_add(outputs, bias)
    return outputs if activation is None else activation(outputs)


def fully_connected(
    inputs: Any,
    num_outputs: int,
    activation_fn: Callable[[jax.Array], jax.Array] | None = jax.nn.relu,
    normalizer_fn: Callable[..., jax.Array] | None = None,
    normalizer_params: dict[str, Any] | None = None,
    weights_initializer: Any = None,
    weights_regularizer: Any = None,
    biases_initializer: Any = _ZEROS,
    biases_regularizer: Any = None,
    reuse: Any = None,
    trainable: bool = True,
    scope: Any = None,
) -> jax.Array:
    """``tf.contrib.layers.fully_connected``: a dense layer, ReLU by default.

    Variables ``weights`` and ``biases`` in scope ``scope``, or ``fully_connected``
    made unique. With a ``normalizer_fn`` there are no biases: the normalizer runs on
    ``inputs @ weights`` (in the same scope) before the activation.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax import nn
    >>> model = sx.transform(lambda x: nn.fully_connected(x, 4))
    >>> params = model.init(jax.random.key(0), jnp.ones((2, 3)))
    >>> sorted(sx.flatten(params))
    ['fully_connected/biases', 'fully_connected/weights']
    >>> bool((model.apply(params, jnp.ones((2, 3))) >= 0).all())  # ReLU
    True

    Args:
      inputs: ``[..., depth]``.
      num_outputs: the output depth.
      activation_fn: ``jax.nn.relu`` by default; ``None`` for a linear layer.
      normalizer_fn: e.g. :func:`batch_normalization`, called as
        ``normalizer_fn(outputs, **normalizer_params)``.
      normalizer_params: keyword arguments for ``normalizer_fn``.
      weights_initializer: the scope's initializer, else ``glorot_uniform`` (TF's
        ``xavier_initializer``), when ``None``.
      weights_regularizer, biases_regularizer: ``f(variable) -> loss``.
      biases_initializer: zeros; ``None`` for no biases.
      reuse: ``True`` or ``sx.AUTO_REUSE``, with ``scope``.
      trainable: ``False`` makes the variables state.
      scope: the variable scope (a string or ``sx.VariableScope``).

    Returns:
      ``[..., num_outputs]``.
    """
    dtype = _float_dtype(inputs, "fully_connected")
    with sx.variable_scope(scope, "fully_connected", [inputs], reuse=reuse):
        weights = sx.get_variable(
            "weights",
            [inputs.shape[-1], num_outputs],
            dtype,
            weights_initializer,
            trainable=trainable,
            regularizer=weights_regularizer,
        )
        outputs = _matmul_last(inputs, weights)
        if normalizer_fn is not None:
            outputs = normalizer_fn(outputs, **(normalizer_params or {}))
        elif biases_initializer is not None:
            biases = sx.get_variable(
                "biases",
                [num_outputs],
                dtype,
                biases_initializer,
                trainable=trainable,
                regularizer=biases_regularizer,
            )
            outputs = _bias_add(outputs, biases)
    return outputs if activation_fn is None else activation_fn(outputs)


def dropout(
    inputs: Any,
    rate: float = 0.5,
    noise_shape: Sequence[int] | None = None,
    seed: int | None = None,
    training: Any = False,
    name: str | None = None,
) -> jax.Array:
    """TF1's ``tf.layers.dropout``: in training, zero each value with probability ``rate``.

    Kept values are scaled by ``1 / (1 - rate)``; outside training (the default!) the
    inputs pass unchanged. The mask's key comes from ``sx.next_rng_key()``.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax import nn
    >>> model = sx.transform(lambda x: nn.dropout(x, rate=0.5, training=True))
    >>> y = model.apply({}, jnp.ones(1000), rng=jax.random.key(0))
    >>> sorted(set(y.tolist()))
    [0.0, 2.0]

    Args:
      inputs: any array.
      rate: the drop probability, in ``[0, 1)``. (TF1's ``tf.nn.dropout`` took the
        keep probability instead: pass ``rate=1 - keep_prob``.)
      noise_shape: the mask's shape, broadcast against ``inputs`` (same rank), e.g.
        ``[batch, 1, depth]`` to drop the same features at every step.
      seed: folded into the key.
      training: a Python bool, or a boolean scalar array (both branches then run).
      name: accepted for TF1 compatibility.

    Returns:
      An array like ``inputs``.
    """
    del name
    if not 0 <= rate < 1:
        raise ValueError(f"dropout got rate={rate}; pass a drop probability in [0, 1).")
    if training is None or training is False or rate == 0:
        return inputs
    key = sx.next_rng_key()
    if seed is not None:
        key = jax.random.fold_in(key, seed % 2**32)
    keep = 1.0 - rate
    shape = tuple(np.shape(inputs)) if noise_shape is None else tuple(noise_shape)
    if len(shape) != np.ndim(inputs):
        raise ValueError(
            f"dropout got noise_shape={list(shape)} for inputs of shape {np.shape(inputs)}; "
            "give it the inputs' rank, with 1 where the mask is shared."
        )
    kept = jax.random.bernoulli(key, keep, shape)
    dropped = jnp.where(kept, inputs / keep, jnp.zeros((), jnp.result_type(inputs)))
    if training is True:
        return dropped
    return jnp.where(training, dropped, inputs)


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
        raise ValueError(
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
