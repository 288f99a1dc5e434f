"""``tf.contrib.rnn``'s cell wrappers: ``EmbeddingWrapper``, ``InputProjectionWrapper``
and ``OutputProjectionWrapper``.

Unlike ``DropoutWrapper``, each is a cell with a scope of its own, and the wrapped
cell's scope nests inside it: ``rnn/embedding_wrapper/gru_cell/...``.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp

import scopax as sx
from scopax.errors import NNArgumentError
from scopax.nn._cells import Activation
from scopax.nn._wrappers import _Wrapper


class EmbeddingWrapper(_Wrapper):
    """``tf.contrib.rnn.EmbeddingWrapper``: looks integer inputs up in ``embedding``.

    ``embedding`` is ``[embedding_classes, embedding_size]``; its initializer is
    ``initializer``, else the scope's, else uniform in ``[-sqrt(3), sqrt(3)]``. The
    wrapper has its own scope, ``embedding_wrapper``, that holds the wrapped cell's.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax.contrib import rnn as rnn_cell
    >>> cell = rnn_cell.EmbeddingWrapper(rnn_cell.GRUCell(4), 10, 3)
    >>> model = sx.transform(lambda ids: cell(ids, cell.zero_state(2, jnp.float32)))
    >>> params = model.init(jax.random.key(0), jnp.array([1, 7]))
    >>> sorted(sx.flatten(params))[-1]
    'embedding_wrapper/gru_cell/gates/kernel'

    Args:
      cell: the cell to feed.
      embedding_classes: how many ids there are.
      embedding_size: the depth of the embedded inputs.
      initializer: the embedding's initializer.
      reuse: as :class:`RNNCell`.
    """

    def __init__(
        self,
        cell: Any,
        embedding_classes: int,
        embedding_size: int,
        initializer: Any = None,
        reuse: Any = None,
    ):
        super().__init__(cell)
        if embedding_classes <= 0 or embedding_size <= 0:
            raise NNArgumentError(
                f"EmbeddingWrapper got embedding_classes={embedding_classes}, embedding_size="
                f"{embedding_size}; both must be > 0."
            )
        self._reuse = reuse
        self._classes = embedding_classes
        self._size = embedding_size
        self._initializer = initializer

    def call(self, inputs: Any, state: Any) -> tuple[Any, Any]:
        initializer = self._initializer
        if initializer is None and sx.get_variable_scope().initializer is None:
            initializer = sx.random_uniform_initializer(-math.sqrt(3), math.sqrt(3))
        dtype = jax.tree.leaves(state)[0].dtype
        embedding = sx.get_variable(
            "embedding", [self._classes, self._size], dtype, initializer=initializer
        )
        embedded = jnp.take(embedding, jnp.reshape(inputs, [-1]), axis=0)
        return self.cell(embedded, state)


def _projection(inputs: Any, size: int) -> jax.Array:
    kernel = sx.get_variable("kernel", [inputs.shape[1], size], inputs.dtype)
    bias = sx.get_variable("bias", [size], inputs.dtype, initializer=sx.zeros_initializer())
    return inputs @ kernel + bias[None, :]


class InputProjectionWrapper(_Wrapper):
    """``tf.contrib.rnn.InputProjectionWrapper``: a dense layer before the cell.

    Variables ``kernel`` and ``bias`` in scope ``input_projection_wrapper``, which also
    holds the wrapped cell's.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax.contrib import rnn as rnn_cell
    >>> cell = rnn_cell.InputProjectionWrapper(rnn_cell.BasicRNNCell(3), num_proj=2)
    >>> model = sx.transform(lambda x: cell(x, cell.zero_state(1, jnp.float32)))
    >>> params = model.init(jax.random.key(0), jnp.ones((1, 5)))
    >>> params["input_projection_wrapper/kernel"].shape
    (5, 2)

    Args:
      cell: the cell to feed.
      num_proj: the depth of the projected inputs.
      activation: applied to the projection, if given.
      reuse: as :class:`RNNCell`.
    """

    def __init__(
        self, cell: Any, num_proj: int, activation: Activation | None = None, reuse: Any = None
    ):
        super().__init__(cell)
        self._reuse = reuse
        self._num_proj = num_proj
        self._activation = activation

    def call(self, inputs: Any, state: Any) -> tuple[Any, Any]:
        projected = _projection(inputs, self._num_proj)
        if self._activation is not None:
            projected = self._activation(projected)
        return self.cell(projected, state)


class OutputProjectionWrapper(_Wrapper):
    """``tf.contrib.rnn.OutputProjectionWrapper``: a dense layer after the cell.

    Variables ``kernel`` and ``bias`` in scope ``output_projection_wrapper``, which
    also holds the wrapped cell's. The state is the wrapped cell's, unprojected.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax.contrib import rnn as rnn_cell
    >>> cell = rnn_cell.OutputProjectionWrapper(rnn_cell.GRUCell(4), output_size=10)
    >>> model = sx.transform(lambda x: cell(x, cell.zero_state(1, jnp.float32))[0])
    >>> model.apply(model.init(jax.random.key(0), jnp.ones((1, 3))), jnp.ones((1, 3))).shape
    (1, 10)

    Args:
      cell: the cell to project.
      output_size: the depth of the projected output.
      activation: applied to the projection, if given.
      reuse: as :class:`RNNCell`.
    """

    def __init__(
        self,
        cell: Any,
        output_size: int,
        activation: Activation | None = None,
        reuse: Any = None,
    ):
        super().__init__(cell)
        if output_size < 1:
            raise NNArgumentError(
                f"OutputProjectionWrapper got output_size={output_size}; pass >= 1."
            )
        self._reuse = reuse
        self._output_size = output_size
        self._activation = activation

    @property
    def output_size(self) -> int:
        return self._output_size

    def call(self, inputs: Any, state: Any) -> tuple[Any, Any]:
        output, new_state = self.cell(inputs, state)
        projected = _projection(output, self._output_size)
        if self._activation is not None:
            projected = self._activation(projected)
        return projected, new_state
