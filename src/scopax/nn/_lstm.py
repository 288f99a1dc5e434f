"""TF1's LSTM cells: ``BasicLSTMCell``, ``LSTMCell`` and their ``LSTMStateTuple``."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

import scopax as sx
from scopax.nn._cells import Activation, RNNCell, _check_inputs, _linear


class LSTMStateTuple(NamedTuple):
    """The state of an LSTM cell with ``state_is_tuple=True``: ``(c, h)``, in that order.

    ``c`` is the memory cell, ``h`` the output. A namedtuple, so a JAX pytree.

    >>> from scopax.nn import rnn_cell
    >>> rnn_cell.BasicLSTMCell(3).zero_state(2, "float32").h.shape
    (2, 3)
    """

    c: Any
    h: Any

    @property
    def dtype(self) -> Any:
        """The dtype of ``c`` and ``h``, which must agree."""
        if self.c.dtype != self.h.dtype:
            raise TypeError(
                f"LSTMStateTuple has c of dtype {self.c.dtype} and h of dtype {self.h.dtype}; "
                "build both halves in one dtype."
            )
        return self.c.dtype


class BasicLSTMCell(RNNCell):
    """TF1's ``BasicLSTMCell``: an LSTM without peepholes, clipping or projection.

    Variables: ``kernel`` ``[input_size + num_units, 4 * num_units]`` and ``bias``
    ``[4 * num_units]`` (zeros). The gates are ``i, j, f, o``, in that order, and
    ``forget_bias`` is added to ``f`` at every step (it is not part of ``bias``).

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax.nn import rnn_cell
    >>> cell = rnn_cell.BasicLSTMCell(3)
    >>> def step(x):
    ...     return cell(x, cell.zero_state(2, jnp.float32))
    >>> params = sx.transform(step).init(jax.random.key(0), jnp.ones((2, 5)))
    >>> params["basic_lstm_cell/kernel"].shape
    (8, 12)

    Args:
      num_units: the size of ``c`` and ``h``.
      forget_bias: added to the forget gate's pre-activation (1.0).
      state_is_tuple: state as :class:`LSTMStateTuple` ``(c, h)`` (``True``) or as
        one ``[batch_size, 2 * num_units]`` array, ``c`` first.
      activation: ``jnp.tanh`` by default.
      reuse, name, dtype: as :class:`RNNCell`.
    """

    def __init__(
        self,
        num_units: int,
        forget_bias: float = 1.0,
        state_is_tuple: bool = True,
        activation: Activation | None = None,
        reuse: Any = None,
        name: str | None = None,
        dtype: Any = None,
    ):
        super().__init__(reuse=reuse, name=name, dtype=dtype)
        self._num_units = num_units
        self._forget_bias = forget_bias
        self._state_is_tuple = state_is_tuple
        self._activation = jnp.tanh if activation is None else activation

    @property
    def state_size(self) -> Any:
        n = self._num_units
        return LSTMStateTuple(n, n) if self._state_is_tuple else 2 * n

    @property
    def output_size(self) -> int:
        return self._num_units

    def call(self, inputs: Any, state: Any) -> tuple[Any, Any]:
        dtype = _check_inputs(self, inputs)
        n = self._num_units
        c, h = state if self._state_is_tuple else jnp.split(state, 2, axis=1)
        kernel = sx.get_variable("kernel", [inputs.shape[1] + n, 4 * n], dtype)
        bias = sx.get_variable("bias", [4 * n], dtype, initializer=sx.zeros_initializer())
        i, j, f, o = jnp.split(_linear([inputs, h], kernel, bias), 4, axis=1)
        sigmoid, act = jax.nn.sigmoid, self._activation
        new_c = c * sigmoid(f + self._forget_bias) + sigmoid(i) * act(j)
        new_h = act(new_c) * sigmoid(o)
        if self._state_is_tuple:
            return new_h, LSTMStateTuple(new_c, new_h)
        return new_h, jnp.concatenate([new_c, new_h], axis=1)


class LSTMCell(RNNCell):
    """TF1's ``LSTMCell``, with optional peepholes, cell clipping and a projection.

    Variables: ``kernel`` ``[input_size + h, 4 * num_units]`` (``h`` is ``num_proj``
    when set, else ``num_units``), ``bias`` ``[4 * num_units]`` (zeros); with
    ``use_peepholes``, ``w_f_diag``, ``w_i_diag``, ``w_o_diag`` ``[num_units]``; with
    ``num_proj``, ``projection/kernel`` ``[num_units, num_proj]``. Gates ``i, j, f, o``.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax.nn import rnn_cell
    >>> cell = rnn_cell.LSTMCell(5, use_peepholes=True, num_proj=3)
    >>> def step(x):
    ...     return cell(x, cell.zero_state(2, jnp.float32))
    >>> params = sx.transform(step).init(jax.random.key(0), jnp.ones((2, 4)))
    >>> {k: v.shape for k, v in sx.flatten(params).items()}  # doctest: +NORMALIZE_WHITESPACE
    {'lstm_cell/bias': (20,), 'lstm_cell/kernel': (7, 20), 'lstm_cell/projection/kernel': (5, 3),
     'lstm_cell/w_f_diag': (5,), 'lstm_cell/w_i_diag': (5,), 'lstm_cell/w_o_diag': (5,)}

    Args:
      num_units: the size of ``c``.
      use_peepholes: add the diagonal peephole connections.
      cell_clip: clip ``c`` to ``[-cell_clip, cell_clip]`` before the output activation.
      initializer: for the kernel, the peepholes and the projection; the scope's
        default when ``None``.
      num_proj: project the output (and ``h``) to this size.
      proj_clip: clip the projected output to ``[-proj_clip, proj_clip]``.
      forget_bias: added to the forget gate's pre-activation (1.0).
      state_is_tuple: state as :class:`LSTMStateTuple` ``(c, h)`` or one array.
      activation: ``jnp.tanh`` by default.
      reuse, name, dtype: as :class:`RNNCell`.
    """

    def __init__(
        self,
        num_units: int,
        use_peepholes: bool = False,
        cell_clip: float | None = None,
        initializer: Any = None,
        num_proj: int | None = None,
        proj_clip: float | None = None,
        forget_bias: float = 1.0,
        state_is_tuple: bool = True,
        activation: Activation | None = None,
        reuse: Any = None,
        name: str | None = None,
        dtype: Any = None,
    ):
        super().__init__(reuse=reuse, name=name, dtype=dtype)
        self._num_units = num_units
        self._use_peepholes = use_peepholes
        self._cell_clip = cell_clip
        self._initializer = initializer
        self._num_proj = num_proj
        self._proj_clip = proj_clip
        self._forget_bias = forget_bias
        self._state_is_tuple = state_is_tuple
        self._activation = jnp.tanh if activation is None else activation

    @property
    def state_size(self) -> Any:
        n, m = self._num_units, self._num_proj or self._num_units
        return LSTMStateTuple(n, m) if self._state_is_tuple else n + m

    @property
    def output_size(self) -> int:
        return self._num_proj or self._num_units

    def call(self, inputs: Any, state: Any) -> tuple[Any, Any]:
        dtype = _check_inputs(self, inputs)
        n, init = self._num_units, self._initializer
        m_size = self._num_proj if self._num_proj is not None else n
        if self._state_is_tuple:
            c_prev, m_prev = state
        else:
            c_prev, m_prev = state[:, :n], state[:, n : n + m_size]
        kernel = sx.get_variable("kernel", [inputs.shape[1] + m_size, 4 * n], dtype, init)
        bias = sx.get_variable("bias", [4 * n], dtype, initializer=sx.zeros_initializer())
        i, j, f, o = jnp.split(_linear([inputs, m_prev], kernel, bias), 4, axis=1)
        sigmoid, act = jax.nn.sigmoid, self._activation
        if self._use_peepholes:
            w_f = sx.get_variable("w_f_diag", [n], dtype, init)[None, :]
            w_i = sx.get_variable("w_i_diag", [n], dtype, init)[None, :]
            w_o = sx.get_variable("w_o_diag", [n], dtype, init)[None, :]
            c = sigmoid(f + self._forget_bias + w_f * c_prev) * c_prev
            c = c + sigmoid(i + w_i * c_prev) * act(j)
        else:
            w_o = None
            c = sigmoid(f + self._forget_bias) * c_prev + sigmoid(i) * act(j)
        if self._cell_clip is not None:
            c = jnp.clip(c, -self._cell_clip, self._cell_clip)
        m = sigmoid(o if w_o is None else o + w_o * c) * act(c)
        if self._num_proj is not None:
            m = m @ sx.get_variable("projection/kernel", [n, self._num_proj], dtype, init)
            if self._proj_clip is not None:
                m = jnp.clip(m, -self._proj_clip, self._proj_clip)
        if self._state_is_tuple:
            return m, LSTMStateTuple(c, m)
        return m, jnp.concatenate([c, m], axis=1)
