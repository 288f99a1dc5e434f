"""``scopax.nn.rnn_cell``: TF 1.15's ``tf.nn.rnn_cell`` cells, with TF1's variable names.

Each cell is called as ``cell(inputs, state)`` and has ``zero_state(batch_size, dtype)``,
``state_size`` and ``output_size``. Run a cell over time with
:func:`scopax.nn.dynamic_rnn` or :func:`scopax.nn.static_rnn`. ``tf.contrib.rnn``'s
wrappers (``EmbeddingWrapper``, ...) are in :mod:`scopax.contrib.rnn`.

>>> import jax, jax.numpy as jnp, scopax as sx
>>> from scopax import nn
>>> cell = nn.rnn_cell.MultiRNNCell([nn.rnn_cell.GRUCell(4), nn.rnn_cell.GRUCell(4)])
>>> model = sx.transform(lambda x: nn.dynamic_rnn(cell, x, dtype=jnp.float32))
>>> params = model.init(jax.random.key(0), jnp.ones((2, 5, 3)))
>>> sorted(sx.flatten(params))[-1]
'rnn/multi_rnn_cell/cell_1/gru_cell/gates/kernel'
"""

from scopax.nn._cells import BasicRNNCell as BasicRNNCell
from scopax.nn._cells import GRUCell as GRUCell
from scopax.nn._cells import RNNCell as RNNCell
from scopax.nn._lstm import BasicLSTMCell as BasicLSTMCell
from scopax.nn._lstm import LSTMCell as LSTMCell
from scopax.nn._lstm import LSTMStateTuple as LSTMStateTuple
from scopax.nn._wrappers import DropoutWrapper as DropoutWrapper
from scopax.nn._wrappers import MultiRNNCell as MultiRNNCell
from scopax.nn._wrappers import ResidualWrapper as ResidualWrapper

__all__ = [
    "BasicLSTMCell",
    "BasicRNNCell",
    "DropoutWrapper",
    "GRUCell",
    "LSTMCell",
    "LSTMStateTuple",
    "MultiRNNCell",
    "RNNCell",
    "ResidualWrapper",
]
