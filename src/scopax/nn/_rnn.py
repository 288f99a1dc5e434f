"""TF1's RNN drivers: ``static_rnn`` (a Python unroll), ``dynamic_rnn`` (``sx.scan``) and
``bidirectional_dynamic_rnn``.

``static_rnn`` and ``dynamic_rnn`` both open the variable scope ``rnn`` (or ``scope``)
and call the cell in it, so both give every variable the same name
(``rnn/basic_lstm_cell/kernel``) and one parameter tree runs in either.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import scopax as sx
from scopax.errors import NNArgumentError


def _initial_state(cell: Any, initial_state: Any, dtype: Any, batch_size: int, driver: str) -> Any:
    if initial_state is not None:
        return initial_state
    if dtype is None:
        raise NNArgumentError(
            f"{driver} needs the state's dtype when no initial_state is given; pass "
            "dtype=jnp.float32 or initial_state=cell.zero_state(batch_size, dtype)."
        )
    return cell.zero_state(batch_size, dtype)


def _sequence_length(sequence_length: Any, batch_size: int, driver: str) -> Any:
    if sequence_length is None:
        return None
    if np.shape(sequence_length) != (batch_size,):
        raise NNArgumentError(
            f"{driver} got sequence_length of shape {np.shape(sequence_length)}; pass a vector "
            f"with one length per example, of shape ({batch_size},)."
        )
    return jnp.asarray(sequence_length, jnp.int32)


def _masked_step(
    cell: Any, time: Any, inputs: Any, state: Any, sequence_length: Any, zero_output: Any
) -> tuple[Any, Any]:
    """One step; past an example's length, zero output and the state copied through."""
    output, new_state = cell(inputs, state)
    if sequence_length is None:
        return output, new_state
    done = time >= sequence_length

    def select(old: Any, new: Any) -> Any:
        where = jnp.reshape(done, done.shape + (1,) * (jnp.ndim(new) - 1))
        return jnp.where(where, old, new)

    return jax.tree.map(select, zero_output, output), jax.tree.map(select, state, new_state)


def _zero_output(cell: Any, batch_size: int, dtype: Any, state: Any) -> Any:
    dtype = dtype if dtype is not None else jax.tree.leaves(state)[0].dtype
    return jax.tree.map(lambda size: jnp.zeros((batch_size, size), dtype), cell.output_size)


def static_rnn(
    cell: Any,
    inputs: Any,
    initial_state: Any = None,
    dtype: Any = None,
    sequence_length: Any = None,
    scope: Any = None,
) -> tuple[list[Any], Any]:
    """TF1's ``static_rnn``: run ``cell`` over a Python list of time steps.

    The loop is unrolled in Python, with ``reuse_variables()`` after the first step,
    exactly as TF1 does.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax import nn
    >>> cell = nn.rnn_cell.BasicLSTMCell(3)
    >>> def f(xs):
    ...     return nn.static_rnn(cell, list(xs), dtype=jnp.float32)
    >>> xs = jnp.ones((4, 2, 5))  # 4 steps of [batch 2, depth 5]
    >>> params = sx.transform(f).init(jax.random.key(0), xs)
    >>> sorted(sx.flatten(params))
    ['rnn/basic_lstm_cell/bias', 'rnn/basic_lstm_cell/kernel']
    >>> outputs, state = sx.transform(f).apply(params, xs)
    >>> len(outputs), outputs[0].shape, state.c.shape
    (4, (2, 3), (2, 3))

    Args:
      cell: an :class:`~scopax.nn.rnn_cell.RNNCell`.
      inputs: a non-empty list of ``[batch_size, input_size]`` arrays (or of nested
        structures of them), one per time step.
      initial_state: the state before the first step; ``cell.zero_state`` by default.
      dtype: the dtype of the zero state; required without ``initial_state``.
      sequence_length: ``[batch_size]`` lengths; past an example's length its output is
        zero and its state is copied through, so the final state is the state at its
        last valid step.
      scope: the variable scope; ``"rnn"`` by default.

    Returns:
      ``(outputs, state)``: the list of per-step outputs and the final state.
    """
    if not isinstance(inputs, (list, tuple)):
        raise TypeError(
            f"static_rnn takes inputs as a list of time steps, got {type(inputs).__name__}; "
            "pass list(xs) for a time-major array xs, or use scopax.nn.dynamic_rnn."
        )
    if not inputs:
        raise NNArgumentError("static_rnn got inputs=[]; pass at least one time step.")
    outputs = []
    with sx.variable_scope(scope or "rnn") as varscope:
        batch_size = int(np.shape(jax.tree.leaves(inputs[0])[0])[0])
        state = _initial_state(cell, initial_state, dtype, batch_size, "static_rnn")
        lengths = _sequence_length(sequence_length, batch_size, "static_rnn")
        zero_output = None
        if lengths is not None:
            zero_output = _zero_output(cell, batch_size, dtype, state)
        for time, step_inputs in enumerate(inputs):
            if time > 0:
                varscope.reuse_variables()
            output, state = _masked_step(cell, time, step_inputs, state, lengths, zero_output)
            outputs.append(output)
    return outputs, state


def dynamic_rnn(
    cell: Any,
    inputs: Any,
    sequence_length: Any = None,
    initial_state: Any = None,
    dtype: Any = None,
    parallel_iterations: int | None = None,
    swap_memory: bool = False,
    time_major: bool = False,
    scope: Any = None,
) -> tuple[Any, Any]:
    """TF1's ``dynamic_rnn``: run ``cell`` over the time axis of ``inputs`` with ``sx.scan``.

    Variable names are those of :func:`static_rnn`, so the two share parameter trees.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax import nn
    >>> cell = nn.rnn_cell.GRUCell(4)
    >>> def f(x, lengths):
    ...     return nn.dynamic_rnn(cell, x, sequence_length=lengths, dtype=jnp.float32)
    >>> x, lengths = jnp.ones((2, 6, 3)), jnp.array([6, 2])  # batch-major
    >>> model = sx.transform(f)
    >>> params = model.init(jax.random.key(0), x, lengths)
    >>> sorted(sx.flatten(params))[-1]
    'rnn/gru_cell/gates/kernel'
    >>> outputs, state = jax.jit(model.apply)(params, x, lengths)
    >>> outputs.shape, bool((outputs[1, 2:] == 0).all())
    ((2, 6, 4), True)

    Args:
      cell: an :class:`~scopax.nn.rnn_cell.RNNCell`.
      inputs: ``[batch_size, max_time, ...]`` (``[max_time, batch_size, ...]`` with
        ``time_major``), or a nested structure of such arrays.
      sequence_length: ``[batch_size]`` lengths, as :func:`static_rnn`.
      initial_state: the state before the first step; ``cell.zero_state`` by default.
      dtype: the dtype of the zero state; required without ``initial_state``.
      parallel_iterations, swap_memory: accepted for TF1 compatibility; XLA decides.
      time_major: whether ``inputs`` and ``outputs`` have time first.
      scope: the variable scope; ``"rnn"`` by default.

    Returns:
      ``(outputs, state)``: outputs ``[batch_size, max_time, output_size]`` (time first
      with ``time_major``) and the final state.
    """
    del parallel_iterations, swap_memory
    with sx.variable_scope(scope or "rnn"):
        if not time_major:
            inputs = jax.tree.map(lambda x: jnp.swapaxes(x, 0, 1), inputs)
        leaves = jax.tree.leaves(inputs)
        if not leaves or any(np.ndim(x) < 2 for x in leaves):
            raise NNArgumentError(
                "dynamic_rnn takes inputs of shape [batch_size, max_time, ...] (or "
                "[max_time, batch_size, ...] with time_major=True), got shapes "
                f"{[np.shape(x) for x in leaves]}."
            )
        max_time, batch_size = np.shape(leaves[0])[:2]
        state = _initial_state(cell, initial_state, dtype, batch_size, "dynamic_rnn")
        lengths = _sequence_length(sequence_length, batch_size, "dynamic_rnn")
        zero_output = None
        if lengths is not None:
            zero_output = _zero_output(cell, batch_size, dtype, state)

        def step(carry: Any, inputs_and_time: tuple[Any, Any]) -> tuple[Any, Any]:
            step_inputs, time = inputs_and_time
            output, new_state = _masked_step(cell, time, step_inputs, carry, lengths, zero_output)
            return new_state, output

        times = jnp.arange(max_time, dtype=jnp.int32)
        state, outputs = sx.scan(step, state, (inputs, times))
        if not time_major:
            outputs = jax.tree.map(lambda x: jnp.swapaxes(x, 0, 1), outputs)
    return outputs, state


def _reverse_sequence(x: jax.Array, lengths: Any, time_axis: int) -> jax.Array:
    """TF's ``reverse_sequence``: each example's first ``length`` steps reversed."""
    steps = x.shape[time_axis]
    if lengths is None:
        return jnp.flip(x, time_axis)
    time = jnp.arange(steps)[:, None]  # [time, batch]
    source = jnp.where(time < lengths[None, :], lengths[None, :] - 1 - time, time)
    if time_axis == 1:
        source = source.T
    source = jnp.reshape(source, source.shape + (1,) * (x.ndim - 2))
    return jnp.take_along_axis(x, source, axis=time_axis)


def bidirectional_dynamic_rnn(
    cell_fw: Any,
    cell_bw: Any,
    inputs: Any,
    sequence_length: Any = None,
    initial_state_fw: Any = None,
    initial_state_bw: Any = None,
    dtype: Any = None,
    parallel_iterations: int | None = None,
    swap_memory: bool = False,
    time_major: bool = False,
    scope: Any = None,
) -> tuple[tuple[Any, Any], tuple[Any, Any]]:
    """TF1's ``bidirectional_dynamic_rnn``: ``cell_fw`` over the inputs, ``cell_bw`` over
    each example's first ``sequence_length`` steps reversed.

    Variables in ``bidirectional_rnn/fw/...`` and ``bidirectional_rnn/bw/...`` (or
    ``scope``), as in TF. The backward outputs are reversed back, so step ``t`` of both
    outputs belongs to input step ``t``.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax import nn
    >>> fw, bw = nn.rnn_cell.GRUCell(3), nn.rnn_cell.GRUCell(2)
    >>> def f(x):
    ...     return nn.bidirectional_dynamic_rnn(fw, bw, x, dtype=jnp.float32)
    >>> params = sx.transform(f).init(jax.random.key(0), jnp.ones((2, 5, 4)))
    >>> sorted(sx.flatten(params))[0]
    'bidirectional_rnn/bw/gru_cell/candidate/bias'
    >>> (out_fw, out_bw), _ = sx.transform(f).apply(params, jnp.ones((2, 5, 4)))
    >>> out_fw.shape, out_bw.shape
    ((2, 5, 3), (2, 5, 2))

    Args:
      cell_fw, cell_bw: the forward and backward cells.
      inputs, sequence_length, dtype, parallel_iterations, swap_memory, time_major: as
        :func:`dynamic_rnn`.
      initial_state_fw, initial_state_bw: the cells' initial states.
      scope: the variable scope; ``"bidirectional_rnn"`` by default.

    Returns:
      ``((output_fw, output_bw), (state_fw, state_bw))``.
    """
    time_axis = 0 if time_major else 1
    common = {
        "sequence_length": sequence_length,
        "dtype": dtype,
        "parallel_iterations": parallel_iterations,
        "swap_memory": swap_memory,
        "time_major": time_major,
    }
    lengths = None if sequence_length is None else jnp.asarray(sequence_length, jnp.int32)
    with sx.variable_scope(scope or "bidirectional_rnn"):
        with sx.variable_scope("fw") as fw_scope:
            output_fw, state_fw = dynamic_rnn(
                cell_fw, inputs, initial_state=initial_state_fw, scope=fw_scope, **common
            )
        with sx.variable_scope("bw") as bw_scope:
            reversed_inputs = jax.tree.map(
                lambda x: _reverse_sequence(x, lengths, time_axis), inputs
            )
            output, state_bw = dynamic_rnn(
                cell_bw, reversed_inputs, initial_state=initial_state_bw, scope=bw_scope, **common
            )
    output_bw = jax.tree.map(lambda x: _reverse_sequence(x, lengths, time_axis), output)
    return (output_fw, output_bw), (state_fw, state_bw)
