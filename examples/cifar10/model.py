"""The CIFAR-10 network of TF's ``tutorials/image/cifar10/cifar10.py``, on scopax.

``inference`` builds the same layers under the same variable scopes with the same
initializers, so the parameter tree has the names of the tutorial's TF variables and
checkpoints (``conv1/weights``, ..., ``softmax_linear/biases``):

======================  ============  ======================  ======
variable                shape         initializer             decay
======================  ============  ======================  ======
conv1/weights           [5,5,3,64]    truncated normal 5e-2   0.0
conv1/biases            [64]          0.0
conv2/weights           [5,5,64,64]   truncated normal 5e-2   0.0
conv2/biases            [64]          0.1
local3/weights          [2304,384]    truncated normal 0.04   0.004
local3/biases           [384]         0.1
local4/weights          [384,192]     truncated normal 0.04   0.004
local4/biases           [192]         0.1
softmax_linear/weights  [192,10]      truncated normal 1/192  0.0
softmax_linear/biases   [10]          0.0
======================  ============  ======================  ======

TF added each weight decay term, ``wd * tf.nn.l2_loss(w)``, to a ``losses`` collection by
hand; here it is the variable's ``regularizer`` and ``sx.get_regularization_loss()``
collects it, once per variable however often the variable is read.

>>> import jax, jax.numpy as jnp, scopax as sx
>>> from examples.cifar10 import model
>>> shapes = jax.eval_shape(sx.transform(model.inference).init, jax.random.key(0),
...                         jnp.zeros((2, 24, 24, 3)))
>>> shapes["local3/weights"].shape
(2304, 384)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp

import scopax as sx
from scopax import nn

IMAGE_SIZE = 24  # The tutorial trains on 24x24 crops of the 32x32 images.
NUM_CLASSES = 10


def _weight_decay(wd: float) -> Callable[[jax.Array], jax.Array]:
    """``wd * tf.nn.l2_loss(w)``; ``tf.nn.l2_loss`` is half the sum of squares."""
    return lambda w: wd * (0.5 * jnp.sum(jnp.square(w)))


def _variable_with_weight_decay(
    name: str, shape: list[int], stddev: float, wd: float | None
) -> jax.Array:
    """The tutorial's helper: a truncated-normal variable, with weight decay unless ``wd`` is
    None (``wd=0.0`` still adds a zero term, as in TF)."""
    return sx.get_variable(
        name,
        shape,
        initializer=sx.truncated_normal_initializer(stddev=stddev),
        regularizer=None if wd is None else _weight_decay(wd),
    )


def max_pool(x: jax.Array) -> jax.Array:
    """``tf.nn.max_pool(x, ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1], padding="SAME")``."""
    return nn.max_pool(x, [1, 3, 3, 1], [1, 2, 2, 1], "SAME")


def lrn(x: jax.Array) -> jax.Array:
    """``tf.nn.lrn(x, 4, bias=1.0, alpha=0.001 / 9.0, beta=0.75)``: across channels."""
    return nn.lrn(x, 4, bias=1.0, alpha=0.001 / 9.0, beta=0.75)


def _biases(size: int, value: float) -> jax.Array:
    return sx.get_variable("biases", [size], initializer=sx.constant_initializer(value))


def _conv_relu(inputs: jax.Array, shape: list[int], bias: float) -> jax.Array:
    kernel = _variable_with_weight_decay("weights", shape, stddev=5e-2, wd=0.0)
    conv = jax.lax.conv_general_dilated(
        inputs, kernel, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
    )
    biases = _biases(shape[-1], bias)
    return jax.nn.relu(conv + jnp.reshape(biases, (1, 1, 1, -1)))


def _local(inputs: jax.Array, units: int, stddev: float, wd: float, bias: float) -> jax.Array:
    weights = _variable_with_weight_decay("weights", [inputs.shape[-1], units], stddev, wd)
    return inputs @ weights + jnp.reshape(_biases(units, bias), (1, -1))


def inference(images: jax.Array) -> jax.Array:
    """The logits for ``images`` ``[batch, 24, 24, 3]``, as TF's ``cifar10.inference``."""
    with sx.variable_scope("conv1"):
        conv1 = _conv_relu(images, [5, 5, 3, 64], bias=0.0)
    pool1 = max_pool(conv1)
    norm1 = lrn(pool1)

    with sx.variable_scope("conv2"):
        conv2 = _conv_relu(norm1, [5, 5, 64, 64], bias=0.1)
    norm2 = lrn(conv2)
    pool2 = max_pool(norm2)

    with sx.variable_scope("local3"):
        reshape = jnp.reshape(pool2, (pool2.shape[0], -1))
        local3 = jax.nn.relu(_local(reshape, 384, stddev=0.04, wd=0.004, bias=0.1))
    with sx.variable_scope("local4"):
        local4 = jax.nn.relu(_local(local3, 192, stddev=0.04, wd=0.004, bias=0.1))
    with sx.variable_scope("softmax_linear"):
        return _local(local4, NUM_CLASSES, stddev=1 / 192.0, wd=0.0, bias=0.0)


def loss(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """Mean cross entropy plus every weight decay term: TF's ``total_loss``."""
    cross_entropy = nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    return jnp.mean(cross_entropy) + sx.get_regularization_loss()


def train_loss(images: jax.Array, labels: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(total_loss, logits)``: what one training step differentiates."""
    logits = inference(images)
    return loss(logits, labels), logits


def ema_getter(averages: Mapping[str, Any]) -> Callable[..., jax.Array]:
    """A ``custom_getter`` that reads each variable's moving average instead of its value.

    TF's ``cifar10_eval.py`` restored the ``ExponentialMovingAverage`` shadow variables
    in place of the variables; here the model runs unchanged and the getter swaps every
    variable it asks for. ``averages`` is keyed by full name (a parameter tree works).
    """

    def getter(next_getter: Callable[..., jax.Array], name: str, *args: Any, **kwargs: Any):
        next_getter(name, *args, **kwargs)  # Still checks name, shape and dtype in params.
        return averages[name]

    return getter


def averaged_inference(images: jax.Array, averages: Mapping[str, Any]) -> jax.Array:
    """:func:`inference` with every variable replaced by its entry in ``averages``."""
    with sx.variable_scope(sx.get_variable_scope(), custom_getter=ema_getter(averages)):
        return inference(images)


network = sx.transform(inference)
training = sx.transform(train_loss)
averaged = sx.transform(averaged_inference)
