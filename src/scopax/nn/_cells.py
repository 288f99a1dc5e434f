"""TF1's RNN cell base class ``RNNCell`` and the cells ``BasicRNNCell`` and ``GRUCell``.

A cell holds configuration only. Its variables come from ``sx.get_variable`` when it
is called, so one cell object serves ``init``, ``apply`` and any number of traces.
Called without ``scope``, a cell behaves like TF1's Keras-style cells: its first call
in a trace opens a scope named after the cell, made unique in the current scope
(``basic_lstm_cell``, ``basic_lstm_cell_1``, ...), and every later call in the same
trace re-enters that scope with ``reuse=True`` (``sx.make_template`` does the
bookkeeping, in the trace and not in the object).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import scopax as sx
from scopax.errors import NNArgumentError

Activation = Callable[[jax.Array], jax.Array]


def _snake_case(name: str) -> str:
    # TF's `to_snake_case`, which names a Keras-style layer after its class.
    intermediate = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    snake = re.sub("([a-z])([A-Z])", r"\1_\2", intermediate).lower()
    return snake if snake[0] != "_" else "private" + snake


class RNNCell:
    """The base of every cell, TF1's ``tf.nn.rnn_cell.RNNCell``.

    A subclass defines ``state_size``, ``output_size`` and ``call(inputs, state) ->
    (output, new_state)``, which may call ``sx.get_variable``; calling the cell runs
    ``call`` in the cell's own scope.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax.nn import rnn_cell
    >>> class Scaled(rnn_cell.RNNCell):
    ...     state_size = output_size = 2
    ...     def call(self, inputs, state):
    ...         h = jnp.tanh(inputs * sx.get_variable("scale", [2]) + state)
    ...         return h, h
    >>> cell = Scaled()
    >>> def f(x):
    ...     h = cell.zero_state(1, jnp.float32)
    ...     return cell(x, cell(x, h)[1])  # the second call reuses the first one's variables
    >>> params = sx.transform(f).init(jax.random.key(0), jnp.ones((1, 2)))
    >>> list(sx.flatten(params))
    ['scaled/scale']

    Args:
      reuse: ``True`` (or ``sx.AUTO_REUSE``) to reuse existing variables: the cell then
        enters the scope ``name`` as given, without making it unique.
      name: the cell's scope name; defaults to the class name in snake case
        (``BasicLSTMCell`` -> ``basic_lstm_cell``).
      dtype: the dtype of the cell's variables; defaults to the inputs' dtype.
    """

    def __init__(self, reuse: Any = None, name: str | None = None, dtype: Any = None):
        if name is not None and (not isinstance(name, str) or not name):
            raise NNArgumentError(
                f"{type(self).__name__} got name={name!r}; pass a non-empty string such as "
                '"encoder_cell", or leave it out.'
            )
        self.name = name
        self.dtype = None if dtype is None else np.dtype(dtype)
        self._reuse = reuse

    @property
    def state_size(self) -> Any:
        """The size (an int, or a nested tuple of ints) of the cell's state."""
        raise NotImplementedError(f"{type(self).__name__} must define state_size.")

    @property
    def output_size(self) -> Any:
        """The size (an int) of the cell's output."""
        raise NotImplementedError(f"{type(self).__name__} must define output_size.")

    def call(self, inputs: Any, state: Any) -> tuple[Any, Any]:
        """One step, run in the cell's scope: ``(output, new_state)``."""
        raise NotImplementedError(f"{type(self).__name__} must define call(inputs, state).")

    def __call__(self, inputs: Any, state: Any, scope: Any = None) -> tuple[Any, Any]:
        """Run one step: ``(output, new_state)``.

        Args:
          inputs: ``[batch_size, input_size]``.
          state: ``[batch_size, state_size]``, or a tuple of such (as ``state_size``).
          scope: a variable scope (string or ``sx.VariableScope``) to use instead of
            the cell's own; the cell's variables then live directly in it, created or
            reused as the enclosing scope's ``reuse`` flag says.
        """
        if scope is not None:
            with sx.variable_scope(scope):
                return self.call(inputs, state)
        name = getattr(self, "name", None) or _snake_case(type(self).__name__)
        reuse = getattr(self, "_reuse", None)
        if reuse:
            with sx.variable_scope(name, reuse=reuse):
                return self.call(inputs, state)
        template = self.__dict__.get("_template")
        if template is None:
            # A template holds no variables: its scope lives in each trace's frame.
            template = self.__dict__["_template"] = sx.make_template(name, self.call)
        return template(inputs, state)

    def zero_state(self, batch_size: int, dtype: Any = jnp.float32) -> Any:
        """Zeros shaped like the state: ``[batch_size, s]`` for each ``s`` in ``state_size``.

        >>> from scopax.nn import rnn_cell
        >>> rnn_cell.GRUCell(4).zero_state(2, "float32").shape
        (2, 4)
        """
        return jax.tree.map(lambda size: jnp.zeros((batch_size, size), dtype), self.state_size)


def _check_inputs(cell: RNNCell, inputs: Any) -> Any:
    shape = np.shape(inputs)
    if len(shape) != 2:
        raise NNArgumentError(
            f"{type(cell).__name__} takes inputs of shape [batch_size, input_size], got shape "
            f"{tuple(shape)}; call it once per time step, or run it with "
            "scopax.nn.dynamic_rnn / static_rnn."
        )
    dtype = getattr(cell, "dtype", None)
    dtype = jnp.result_type(inputs) if dtype is None else dtype
    if not jnp.issubdtype(dtype, jnp.inexact):
        raise NNArgumentError(
            f"{type(cell).__name__} computes in floating point, but its inputs have dtype "
            f"{dtype}; cast them, e.g. inputs.astype(jnp.float32)."
        )
    return dtype


def _linear(inputs: list[Any], kernel: jax.Array, bias: jax.Array | None) -> jax.Array:
    out = jnp.concatenate(inputs, axis=1) @ kernel
    return out if bias is None else out + bias[None, :]


class BasicRNNCell(RNNCell):
    """TF1's ``BasicRNNCell``: ``output = new_state = activation(W [x, h] + b)``.

    Variables: ``kernel`` ``[input_size + num_units, num_units]`` and ``bias``
    ``[num_units]`` (zeros).

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax.nn import rnn_cell
    >>> cell = rnn_cell.BasicRNNCell(4)
    >>> model = sx.transform(lambda x: cell(x, cell.zero_state(2, jnp.float32)))
    >>> params = model.init(jax.random.key(0), jnp.ones((2, 3)))
    >>> {k: v.shape for k, v in sx.flatten(params).items()}
    {'basic_rnn_cell/bias': (4,), 'basic_rnn_cell/kernel': (7, 4)}

    Args:
      num_units: the size of the state and of the output.
      activation: the nonlinearity; ``jnp.tanh`` by default.
      reuse, name, dtype: as :class:`RNNCell`.
    """

    def __init__(
        self,
        num_units: int,
        activation: Activation | None = None,
        reuse: Any = None,
        name: str | None = None,
        dtype: Any = None,
    ):
        super().__init__(reuse=reuse, name=name, dtype=dtype)
        self._num_units = num_units
        self._activation = jnp.tanh if activation is None else activation

    @property
    def state_size(self) -> int:
        return self._num_units

    @property
    def output_size(self) -> int:
        return self._num_units

    def call(self, inputs: Any, state: Any) -> tuple[Any, Any]:
        dtype = _check_inputs(self, inputs)
        n = self._num_units
        kernel = sx.get_variable("kernel", [inputs.shape[1] + n, n], dtype)
        bias = sx.get_variable("bias", [n], dtype, initializer=sx.zeros_initializer())
        output = self._activation(_linear([inputs, state], kernel, bias))
        return output, output


class GRUCell(RNNCell):
    """TF1's ``GRUCell`` (Cho et al., 2014).

    Variables: ``gates/kernel`` ``[input_size + num_units, 2 * num_units]``,
    ``gates/bias`` (ones, so the cell starts by remembering), ``candidate/kernel``
    ``[input_size + num_units, num_units]`` and ``candidate/bias`` (zeros). The gates
    are ``r, u``, in that order; ``h' = u * h + (1 - u) * tanh(W_c [x, r * h] + b_c)``.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax.nn import rnn_cell
    >>> cell = rnn_cell.GRUCell(4)
    >>> model = sx.transform(lambda x: cell(x, cell.zero_state(2, jnp.float32)))
    >>> params = model.init(jax.random.key(0), jnp.ones((2, 3)))
    >>> sorted(sx.flatten(params))
    ['gru_cell/candidate/bias', 'gru_cell/candidate/kernel',
     'gru_cell/gates/bias', 'gru_cell/gates/kernel']

    Args:
      num_units: the size of the state and of the output.
      activation: the candidate's nonlinearity; ``jnp.tanh`` by default.
      reuse, name, dtype: as :class:`RNNCell`.
      kernel_initializer: for both kernels; the scope's default when ``None``.
      bias_initializer: for both biases, replacing the ones/zeros defaults.
    """

    def __init__(
        self,
        num_units: int,
        activation: Activation | None = None,
        reuse: Any = None,
        kernel_initializer: Any = None,
        bias_initializer: Any = None,
        name: str | None = None,
        dtype: Any = None,
    ):
        super().__init__(reuse=reuse, name=name, dtype=dtype)
        self._num_units = num_units
        self._activation = jnp.tanh if activation is None else activation
        self._kernel_initializer = kernel_initializer
        self._bias_initializer = bias_initializer

    @property
    def state_size(self) -> int:
        return self._num_units

    @property
    def output_size(self) -> int:
        return self._num_units

    def call(self, inputs: Any, state: Any) -> tuple[Any, Any]:
        dtype = _check_inputs(self, inputs)
        n, depth = self._num_units, inputs.shape[1]
        kernel_init, bias_init = self._kernel_initializer, self._bias_initializer
        gate_kernel = sx.get_variable("gates/kernel", [depth + n, 2 * n], dtype, kernel_init)
        gate_bias = sx.get_variable(
            "gates/bias",
            [2 * n],
            dtype,
            sx.constant_initializer(1.0) if bias_init is None else bias_init,
        )
        cand_kernel = sx.get_variable("candidate/kernel", [depth + n, n], dtype, kernel_init)
        cand_bias = sx.get_variable(
            "candidate/bias", [n], dtype, sx.zeros_initializer() if bias_init is None else bias_init
        )
        r, u = jnp.split(jax.nn.sigmoid(_linear([inputs, state], gate_kernel, gate_bias)), 2, 1)
        c = self._activation(_linear([inputs, r * state], cand_kernel, cand_bias))
        new_h = u * state + (1 - u) * c
        return new_h, new_h
