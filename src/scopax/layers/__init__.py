"""``scopax.layers``: TF1's ``tf.layers``, with TF1's signatures and variable names.

Each layer opens a scope named after it, made unique in the current scope (``dense``,
``dense_1``, ...), or the ``name`` you pass, and creates Keras's variables in it
(``kernel``, ``bias``, ``gamma``, ``moving_mean``, ...).

>>> import jax, jax.numpy as jnp, scopax as sx
>>> from scopax import layers
>>> def classifier(images, training):
...     x = layers.conv2d(images, 4, 3, activation=jax.nn.relu)
...     x = layers.max_pooling2d(x, 2, 2)
...     x = layers.dropout(layers.flatten(x), rate=0.5, training=training)
...     return layers.dense(x, 10)
>>> model = sx.transform(classifier)
>>> params = model.init(jax.random.key(0), jnp.ones((2, 8, 8, 1)), False)
>>> sorted(sx.flatten(params))
['conv2d/bias', 'conv2d/kernel', 'dense/bias', 'dense/kernel']
"""

from scopax.layers._conv import conv1d as conv1d
from scopax.layers._conv import conv2d as conv2d
from scopax.layers._conv import conv2d_transpose as conv2d_transpose
from scopax.layers._conv import conv3d as conv3d
from scopax.layers._conv import separable_conv2d as separable_conv2d
from scopax.layers._core import dense as dense
from scopax.layers._core import dropout as dropout
from scopax.layers._core import flatten as flatten
from scopax.layers._normalization import batch_normalization as batch_normalization
from scopax.layers._pooling import average_pooling1d as average_pooling1d
from scopax.layers._pooling import average_pooling2d as average_pooling2d
from scopax.layers._pooling import max_pooling1d as max_pooling1d
from scopax.layers._pooling import max_pooling2d as max_pooling2d

__all__ = [
    "average_pooling1d",
    "average_pooling2d",
    "batch_normalization",
    "conv1d",
    "conv2d",
    "conv2d_transpose",
    "conv3d",
    "dense",
    "dropout",
    "flatten",
    "max_pooling1d",
    "max_pooling2d",
    "separable_conv2d",
]
