"""``scopax.nn``: TF1's layers, losses, RNN cells and RNN drivers, on the public core.

Every function creates its variables with ``sx.get_variable`` under TF1's scope names
(``dense/kernel``, ``conv2d/bias``, ``rnn/basic_lstm_cell/kernel``, ...), so a model
ported from TF1 gets TF1's parameter names, and TF1's variable values run in it.

>>> import jax, jax.numpy as jnp, scopax as sx
>>> from scopax import nn
>>> def classifier(images, labels):
...     x = nn.conv2d(images, 4, 3, activation=jax.nn.relu)
...     x = nn.max_pool(x, 2, 2, "VALID")
...     logits = nn.dense(jnp.reshape(x, (x.shape[0], -1)), 10)
...     return nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits).mean()
>>> model = sx.transform(classifier)
>>> images, labels = jnp.ones((2, 8, 8, 1)), jnp.array([3, 7])
>>> params = model.init(jax.random.key(0), images, labels)
>>> sorted(sx.flatten(params))
['conv2d/bias', 'conv2d/kernel', 'dense/bias', 'dense/kernel']
"""

from scopax.nn import rnn_cell as rnn_cell
from scopax.nn import seq2seq as seq2seq
from scopax.nn._conv import avg_pool as avg_pool
from scopax.nn._conv import conv2d as conv2d
from scopax.nn._conv import local_response_normalization as local_response_normalization
from scopax.nn._conv import max_pool as max_pool
from scopax.nn._core import dense as dense
from scopax.nn._core import dropout as dropout
from scopax.nn._core import embedding_lookup as embedding_lookup
from scopax.nn._core import fully_connected as fully_connected
from scopax.nn._losses import (
    softmax_cross_entropy_with_logits as softmax_cross_entropy_with_logits,
)
from scopax.nn._losses import (
    softmax_cross_entropy_with_logits_v2 as softmax_cross_entropy_with_logits_v2,
)
from scopax.nn._losses import (
    sparse_softmax_cross_entropy_with_logits as sparse_softmax_cross_entropy_with_logits,
)
from scopax.nn._normalization import batch_norm as batch_norm
from scopax.nn._normalization import batch_normalization as batch_normalization
from scopax.nn._rnn import dynamic_rnn as dynamic_rnn
from scopax.nn._rnn import static_rnn as static_rnn

lrn = local_response_normalization

__all__ = [
    "avg_pool",
    "batch_norm",
    "batch_normalization",
    "conv2d",
    "dense",
    "dropout",
    "dynamic_rnn",
    "embedding_lookup",
    "fully_connected",
    "local_response_normalization",
    "lrn",
    "max_pool",
    "rnn_cell",
    "softmax_cross_entropy_with_logits",
    "softmax_cross_entropy_with_logits_v2",
    "sparse_softmax_cross_entropy_with_logits",
    "static_rnn",
]
