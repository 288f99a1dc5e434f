"""``scopax.contrib.rnn``: TF 1.15's ``tf.contrib.rnn``: the ``tf.nn.rnn_cell`` cells
(the same classes as :mod:`scopax.nn.rnn_cell`), ``static_rnn``, and contrib's own
wrappers ``EmbeddingWrapper``, ``InputProjectionWrapper`` and ``OutputProjectionWrapper``.

>>> import jax, jax.numpy as jnp, scopax as sx
>>> from scopax.contrib import rnn
>>> cell = rnn.EmbeddingWrapper(rnn.GRUCell(4), embedding_classes=10, embedding_size=3)
>>> def encode(ids):  # ids: a list of [batch] steps
...     return rnn.static_rnn(cell, ids, dtype=jnp.float32)[1]
>>> params = sx.transform(encode).init(jax.random.key(0), [jnp.array([1, 2])] * 3)
>>> sorted(sx.flatten(params))[0]
'rnn/embedding_wrapper/embedding'
"""

from scopax.contrib._rnn_wrappers import EmbeddingWrapper as EmbeddingWrapper
from scopax.contrib._rnn_wrappers import InputProjectionWrapper as InputProjectionWrapper
from scopax.contrib._rnn_wrappers import OutputProjectionWrapper as OutputProjectionWrapper
from scopax.nn._rnn import static_rnn as static_rnn
from scopax.nn.rnn_cell import BasicLSTMCell as BasicLSTMCell
from scopax.nn.rnn_cell import BasicRNNCell as BasicRNNCell
from scopax.nn.rnn_cell import DropoutWrapper as DropoutWrapper
from scopax.nn.rnn_cell import GRUCell as GRUCell
from scopax.nn.rnn_cell import LSTMCell as LSTMCell
from scopax.nn.rnn_cell import LSTMStateTuple as LSTMStateTuple
from scopax.nn.rnn_cell import MultiRNNCell as MultiRNNCell
from scopax.nn.rnn_cell import ResidualWrapper as ResidualWrapper
from scopax.nn.rnn_cell import RNNCell as RNNCell

__all__ = [
    "BasicLSTMCell",
    "BasicRNNCell",
    "DropoutWrapper",
    "EmbeddingWrapper",
    "GRUCell",
    "InputProjectionWrapper",
    "LSTMCell",
    "LSTMStateTuple",
    "MultiRNNCell",
    "OutputProjectionWrapper",
    "RNNCell",
    "ResidualWrapper",
    "static_rnn",
]
