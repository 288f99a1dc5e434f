"""Cells built from cells: ``MultiRNNCell``, ``DropoutWrapper`` and ``ResidualWrapper``.

``DropoutWrapper`` and ``ResidualWrapper`` add no scope of their own (TF1 calls the
wrapped cell directly), so wrapping a cell never changes its variable names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp

import scopax as sx
from scopax.errors import NNArgumentError
from scopax.nn._cells import RNNCell
from scopax.nn._lstm import LSTMStateTuple


def _check_cell(cell: Any, argument: str = "cell") -> None:
    missing = [a for a in ("output_size", "state_size", "zero_state") if not hasattr(cell, a)]
    if missing or not callable(cell):
        raise TypeError(
            f"The argument {argument!r} ({cell!r}) is not an RNNCell: it lacks "
            f"{', '.join(missing) or '__call__'}; pass a cell such as rnn_cell.GRUCell(64)."
        )


class MultiRNNCell(RNNCell):
    """TF1's ``MultiRNNCell``: cells stacked in order, cell ``i`` in scope ``cell_<i>``.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax.nn import rnn_cell
    >>> cell = rnn_cell.MultiRNNCell([rnn_cell.GRUCell(4), rnn_cell.BasicLSTMCell(3)])
    >>> def step(x):
    ...     return cell(x, cell.zero_state(2, jnp.float32))
    >>> params = sx.transform(step).init(jax.random.key(0), jnp.ones((2, 5)))
    >>> sorted(sx.flatten(params))[-2:]
    ['multi_rnn_cell/cell_1/basic_lstm_cell/bias', 'multi_rnn_cell/cell_1/basic_lstm_cell/kernel']

    Args:
      cells: the cells, input side first.
      state_is_tuple: the state is a tuple with one entry per cell (``True``), or all
        states concatenated along axis 1 (then no cell may have a tuple state).
    """

    def __init__(self, cells: Sequence[Any], state_is_tuple: bool = True):
        super().__init__()
        if not isinstance(cells, (list, tuple)):
            raise TypeError(f"MultiRNNCell takes a list of cells, got cells={cells!r}.")
        if not cells:
            raise NNArgumentError("MultiRNNCell got cells=[]; pass at least one cell.")
        for i, cell in enumerate(cells):
            _check_cell(cell, f"cells[{i}]")
        if not state_is_tuple and any(isinstance(c.state_size, tuple) for c in cells):
            raise NNArgumentError(
                "MultiRNNCell(state_is_tuple=False) concatenates the cells' states, but some "
                f"have tuple states: {[c.state_size for c in cells]}; pass state_is_tuple=True."
            )
        self._cells = list(cells)
        self._state_is_tuple = state_is_tuple

    @property
    def state_size(self) -> Any:
        sizes = tuple(cell.state_size for cell in self._cells)
        return sizes if self._state_is_tuple else sum(sizes)

    @property
    def output_size(self) -> Any:
        return self._cells[-1].output_size

    def zero_state(self, batch_size: int, dtype: Any = jnp.float32) -> Any:
        if self._state_is_tuple:
            return tuple(cell.zero_state(batch_size, dtype) for cell in self._cells)
        return super().zero_state(batch_size, dtype)

    def call(self, inputs: Any, state: Any) -> tuple[Any, Any]:
        states = state
        if self._state_is_tuple and not isinstance(states, tuple):
            raise NNArgumentError(
                f"MultiRNNCell expected its state as a tuple of {len(self._cells)} states, got "
                f"{state!r}; start from cell.zero_state(batch_size, dtype)."
            )
        position, new_states = 0, []
        for i, cell in enumerate(self._cells):
            with sx.variable_scope(f"cell_{i}"):
                if self._state_is_tuple:
                    cur_state = states[i]
                else:
                    size = cell.state_size
                    cur_state = jax.lax.slice_in_dim(state, position, position + size, axis=1)
                    position += size
                inputs, new_state = cell(inputs, cur_state)
                new_states.append(new_state)
        if self._state_is_tuple:
            return inputs, tuple(new_states)
        return inputs, jnp.concatenate(new_states, axis=1)


class _Wrapper(RNNCell):
    """A cell around ``cell``, with its state and (by default) its output size."""

    def __init__(self, cell: Any):
        super().__init__()
        _check_cell(cell)
        self.cell = cell

    @property
    def wrapped_cell(self) -> Any:
        return self.cell

    @property
    def state_size(self) -> Any:
        return self.cell.state_size

    @property
    def output_size(self) -> Any:
        return self.cell.output_size

    def zero_state(self, batch_size: int, dtype: Any = jnp.float32) -> Any:
        return self.cell.zero_state(batch_size, dtype)


def _default_state_filter(substate: Any) -> Any:
    if isinstance(substate, LSTMStateTuple):
        return LSTMStateTuple(c=False, h=True)  # never drop out the memory
    return True


def _leaf_mask(visitor: Callable[[Any], Any], value: Any) -> list[bool]:
    """Which leaves of ``value`` TF's ``dropout_state_filter_visitor`` selects."""
    decision = visitor(value)
    if not isinstance(value, (tuple, list)):
        return [bool(decision)]
    if isinstance(decision, bool):
        if not decision:
            return [False] * len(jax.tree.leaves(value))
        return [m for child in value for m in _leaf_mask(visitor, child)]
    mask: list[bool] = []
    for selected, child in zip(decision, value, strict=True):
        if selected:
            mask += _leaf_mask(visitor, child)
        else:
            mask += [False] * len(jax.tree.leaves(child))
    return mask


class DropoutWrapper(_Wrapper):
    """TF1's ``DropoutWrapper``: dropout on a cell's inputs, outputs and new state.

    Masks come from ``sx.next_rng_key()``, so ``apply`` needs an ``rng`` whenever a keep
    probability is below 1. Inside ``scopax.nn.dynamic_rnn`` (``sx.scan``) each step gets
    its own key. With ``variational_recurrent=True`` one mask per run is drawn when the
    wrapper is constructed, as TF1 does: construct it inside the transformed function.
    By default the ``c`` half of an :class:`LSTMStateTuple` is never dropped.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax.nn import rnn_cell
    >>> cell = rnn_cell.DropoutWrapper(rnn_cell.GRUCell(4), output_keep_prob=0.5)
    >>> model = sx.transform(lambda x: cell(x, cell.zero_state(2, jnp.float32))[0])
    >>> params = model.init(jax.random.key(0), jnp.ones((2, 3)))
    >>> sorted(sx.flatten(params))[0]  # the wrapped cell's names, unchanged
    'gru_cell/candidate/bias'
    >>> out = model.apply(params, jnp.ones((2, 3)), rng=jax.random.key(1))
    >>> out.shape
    (2, 4)

    Args:
      cell: the cell to wrap.
      input_keep_prob, output_keep_prob, state_keep_prob: the probability of keeping
        each value (kept values are scaled by ``1 / keep_prob``); a float in
        ``[0, 1]`` or a scalar array. A float 1.0 adds no dropout at all.
      variational_recurrent: one mask per run (Gal & Ghahramani, 2016), shared by
        every step and every example of the batch; needs ``dtype`` and, with input
        dropout, ``input_size``.
      input_size: the depth (int, or nested ints) of the inputs, for variational input
        dropout.
      dtype: the dtype of the variational masks.
      seed: folded into every key, to decorrelate two wrappers.
      dropout_state_filter_visitor: ``f(substate) -> bool`` or a depth-one structure of
        bools saying which parts of the state to drop out, as in TF1.
    """

    def __init__(
        self,
        cell: Any,
        input_keep_prob: Any = 1.0,
        output_keep_prob: Any = 1.0,
        state_keep_prob: Any = 1.0,
        variational_recurrent: bool = False,
        input_size: Any = None,
        dtype: Any = None,
        seed: int | None = None,
        dropout_state_filter_visitor: Callable[[Any], Any] | None = None,
    ):
        super().__init__(cell)
        if dropout_state_filter_visitor is not None and not callable(dropout_state_filter_visitor):
            raise TypeError(
                "DropoutWrapper got a dropout_state_filter_visitor that is not callable: "
                f"{dropout_state_filter_visitor!r}."
            )
        self._filter = dropout_state_filter_visitor or _default_state_filter
        self._keep = {}
        for kind, prob in (
            ("input", input_keep_prob),
            ("state", state_keep_prob),
            ("output", output_keep_prob),
        ):
            if isinstance(prob, (int, float)):
                if not 0 <= prob <= 1:
                    raise NNArgumentError(
                        f"DropoutWrapper got {kind}_keep_prob={prob}; pass a probability in "
                        "[0, 1] (1.0 keeps everything)."
                    )
                prob = float(prob)
            self._keep[kind] = prob
        self._seed = seed
        self._noise: dict[str, list[Any]] = {}
        if variational_recurrent:
            if dtype is None:
                raise NNArgumentError(
                    "DropoutWrapper(variational_recurrent=True) needs dtype=, the dtype of "
                    "its masks, e.g. dtype=jnp.float32."
                )
            sizes = {"input": input_size, "state": cell.state_size, "output": cell.output_size}
            if self._should_drop("input") and input_size is None:
                raise NNArgumentError(
                    "DropoutWrapper(variational_recurrent=True) with input_keep_prob < 1 needs "
                    "input_size=, the depth of the inputs, e.g. input_size=128."
                )
            for kind, size in sizes.items():
                if self._should_drop(kind):
                    self._noise[kind] = self._draw_noise(size, dtype)

    def _should_drop(self, kind: str) -> bool:
        prob = self._keep[kind]
        return not isinstance(prob, float) or prob < 1

    def _key(self) -> jax.Array:
        key = sx.next_rng_key()
        return key if self._seed is None else jax.random.fold_in(key, self._seed % 2**32)

    def _draw_noise(self, size: Any, dtype: Any) -> list[Any]:
        try:
            key = self._key()
        except sx.errors.NotInTransformError as e:
            raise NNArgumentError(
                "DropoutWrapper(variational_recurrent=True) draws its masks when it is "
                "constructed, as TF1 does: construct it inside the function given to "
                "sx.transform, and pass rng= to init and apply."
            ) from e
        sizes = jax.tree.leaves(size)
        keys = jax.random.split(key, len(sizes))
        return [jax.random.uniform(k, (1, s), dtype) for k, s in zip(keys, sizes, strict=True)]

    def _dropout(self, kind: str, value: Any, mask: list[bool] | None = None) -> Any:
        keep = self._keep[kind]
        leaves, treedef = jax.tree.flatten(value)
        mask = [True] * len(leaves) if mask is None else mask
        noise = self._noise.get(kind)
        out = []
        for i, (leaf, selected) in enumerate(zip(leaves, mask, strict=True)):
            if not selected:
                out.append(leaf)
            elif noise is not None:
                out.append(leaf / keep * jnp.floor(keep + noise[i]))
            else:
                kept = jax.random.bernoulli(self._key(), keep, jnp.shape(leaf))
                out.append(jnp.where(kept, leaf / keep, jnp.zeros_like(leaf)))
        return jax.tree.unflatten(treedef, out)

    def __call__(self, inputs: Any, state: Any, scope: Any = None) -> tuple[Any, Any]:
        if self._should_drop("input"):
            inputs = self._dropout("input", inputs)
        output, new_state = self.cell(inputs, state, scope=scope)
        if self._should_drop("state"):
            mask = _leaf_mask(self._filter, new_state)
            new_state = self._dropout("state", new_state, mask)
        if self._should_drop("output"):
            output = self._dropout("output", output)
        return output, new_state


class ResidualWrapper(_Wrapper):
    """TF1's ``ResidualWrapper``: the cell's output plus its input.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax.nn import rnn_cell
    >>> cell = rnn_cell.ResidualWrapper(rnn_cell.BasicRNNCell(3))
    >>> model = sx.transform(lambda x: cell(x, cell.zero_state(2, jnp.float32))[0])
    >>> params = model.init(jax.random.key(0), jnp.ones((2, 3)))
    >>> sorted(sx.flatten(params))
    ['basic_rnn_cell/bias', 'basic_rnn_cell/kernel']

    Args:
      cell: the cell to wrap; its output must have the inputs' shape.
      residual_fn: ``f(inputs, outputs) -> outputs``; adds them by default.
    """

    def __init__(self, cell: Any, residual_fn: Callable[[Any, Any], Any] | None = None):
        super().__init__(cell)
        self._residual_fn = residual_fn

    def __call__(self, inputs: Any, state: Any, scope: Any = None) -> tuple[Any, Any]:
        output, new_state = self.cell(inputs, state, scope=scope)
        if self._residual_fn is not None:
            return self._residual_fn(inputs, output), new_state
        if jax.tree.structure(inputs) != jax.tree.structure(output) or any(
            jnp.shape(i) != jnp.shape(o)
            for i, o in zip(jax.tree.leaves(inputs), jax.tree.leaves(output), strict=True)
        ):
            raise NNArgumentError(
                "ResidualWrapper adds the cell's inputs to its outputs, but they differ in "
                f"shape: {jax.tree.map(jnp.shape, inputs)} vs {jax.tree.map(jnp.shape, output)};"
                " make the cell's output_size equal the input depth, or pass residual_fn=."
            )
        return jax.tree.map(jnp.add, inputs, output), new_state
