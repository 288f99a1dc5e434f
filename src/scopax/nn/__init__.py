"""``scopax.nn``: TF1's ``tf.nn``, the raw ops (no variables), RNN cells and RNN drivers.

Each name is the ``tf.nn`` function of the same name, with TF1's signature and defaults.
The layers that create variables are in :mod:`scopax.layers` (``tf.layers``) and
:mod:`scopax.contrib.layers` (``tf.contrib.layers``).

>>> import jax, jax.numpy as jnp, scopax as sx
>>> from scopax import nn
>>> def classifier(images, labels):
...     w = sx.get_variable("w", [3, 3, 1, 4])
...     x = nn.relu(nn.conv2d(images, w, strides=[1, 1, 1, 1], padding="SAME"))
...     x = nn.max_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "VALID")
...     x = jnp.reshape(x, (x.shape[0], -1))
...     logits = nn.xw_plus_b(x, sx.get_variable("w_out", [64, 10]), sx.get_variable("b", [10]))
...     return nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits).mean()
>>> model = sx.transform(classifier)
>>> images, labels = jnp.ones((2, 8, 8, 1)), jnp.array([3, 7])
>>> params = model.init(jax.random.key(0), images, labels)
>>> sorted(sx.flatten(params))
['b', 'w', 'w_out']
"""

from scopax.nn import rnn_cell as rnn_cell
from scopax.nn._activations import crelu as crelu
from scopax.nn._activations import elu as elu
from scopax.nn._activations import leaky_relu as leaky_relu
from scopax.nn._activations import log_softmax as log_softmax
from scopax.nn._activations import relu as relu
from scopax.nn._activations import relu6 as relu6
from scopax.nn._activations import selu as selu
from scopax.nn._activations import sigmoid as sigmoid
from scopax.nn._activations import softmax as softmax
from scopax.nn._activations import softplus as softplus
from scopax.nn._activations import softsign as softsign
from scopax.nn._activations import swish as swish
from scopax.nn._activations import tanh as tanh
from scopax.nn._conv import conv1d as conv1d
from scopax.nn._conv import conv2d as conv2d
from scopax.nn._conv import conv2d_transpose as conv2d_transpose
from scopax.nn._conv import depthwise_conv2d as depthwise_conv2d
from scopax.nn._conv import separable_conv2d as separable_conv2d
from scopax.nn._embedding import embedding_lookup as embedding_lookup
from scopax.nn._losses import (
    sigmoid_cross_entropy_with_logits as sigmoid_cross_entropy_with_logits,
)
from scopax.nn._losses import (
    softmax_cross_entropy_with_logits as softmax_cross_entropy_with_logits,
)
from scopax.nn._losses import (
    softmax_cross_entropy_with_logits_v2 as softmax_cross_entropy_with_logits_v2,
)
from scopax.nn._losses import (
    sparse_softmax_cross_entropy_with_logits as sparse_softmax_cross_entropy_with_logits,
)
from scopax.nn._losses import (
    weighted_cross_entropy_with_logits as weighted_cross_entropy_with_logits,
)
from scopax.nn._ops import batch_normalization as batch_normalization
from scopax.nn._ops import bias_add as bias_add
from scopax.nn._ops import dropout as dropout
from scopax.nn._ops import in_top_k as in_top_k
from scopax.nn._ops import l2_loss as l2_loss
from scopax.nn._ops import l2_normalize as l2_normalize
from scopax.nn._ops import moments as moments
from scopax.nn._ops import top_k as top_k
from scopax.nn._ops import xw_plus_b as xw_plus_b
from scopax.nn._pool import avg_pool as avg_pool
from scopax.nn._pool import local_response_normalization as local_response_normalization
from scopax.nn._pool import max_pool as max_pool
from scopax.nn._rnn import bidirectional_dynamic_rnn as bidirectional_dynamic_rnn
from scopax.nn._rnn import dynamic_rnn as dynamic_rnn
from scopax.nn._rnn import static_rnn as static_rnn

lrn = local_response_normalization

__all__ = [
    "avg_pool",
    "batch_normalization",
    "bias_add",
    "bidirectional_dynamic_rnn",
    "conv1d",
    "conv2d",
    "conv2d_transpose",
    "crelu",
    "depthwise_conv2d",
    "dropout",
    "dynamic_rnn",
    "elu",
    "embedding_lookup",
    "in_top_k",
    "l2_loss",
    "l2_normalize",
    "leaky_relu",
    "local_response_normalization",
    "log_softmax",
    "lrn",
    "max_pool",
    "moments",
    "relu",
    "relu6",
    "rnn_cell",
    "selu",
    "separable_conv2d",
    "sigmoid",
    "sigmoid_cross_entropy_with_logits",
    "softmax",
    "softmax_cross_entropy_with_logits",
    "softmax_cross_entropy_with_logits_v2",
    "softplus",
    "softsign",
    "sparse_softmax_cross_entropy_with_logits",
    "static_rnn",
    "swish",
    "tanh",
    "top_k",
    "weighted_cross_entropy_with_logits",
    "xw_plus_b",
]
