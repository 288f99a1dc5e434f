"""``scopax.contrib.layers``: TF 1.15's ``tf.contrib.layers``, with its names and defaults.

Note the defaults that differ from :mod:`scopax.layers`: ``fully_connected`` and
``conv2d`` apply ReLU and name their variables ``weights``/``biases`` (scopes
``fully_connected``, ``Conv``); ``batch_norm`` trains by default, has no ``gamma``
(``scale=False``) and a ``decay`` of 0.999, in scope ``BatchNorm``.

>>> import jax, jax.numpy as jnp, scopax as sx
>>> from scopax.contrib import layers
>>> def mlp(x):
...     x = layers.fully_connected(x, 8, normalizer_fn=layers.batch_norm)
...     return layers.layer_norm(layers.fully_connected(x, 4, activation_fn=None))
>>> model = sx.transform_with_state(mlp)
>>> params, state = model.init(jax.random.key(0), jnp.ones((2, 3)))
>>> for name in sorted(sx.flatten(params)):
...     print(name)
LayerNorm/beta
LayerNorm/gamma
fully_connected/BatchNorm/beta
fully_connected/weights
fully_connected_1/biases
fully_connected_1/weights
"""

from scopax.contrib._layers_core import conv2d as conv2d
from scopax.contrib._layers_core import fully_connected as fully_connected
from scopax.contrib._layers_norm import batch_norm as batch_norm
from scopax.contrib._layers_norm import layer_norm as layer_norm

__all__ = ["batch_norm", "conv2d", "fully_connected", "layer_norm"]
