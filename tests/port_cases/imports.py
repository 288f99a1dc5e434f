# type: ignore
# ruff: noqa
# fmt: off
# A scopax.port test input: every TensorFlow import the porter knows, and some it does not.
"""Imports of a TF1 research codebase, grown over the years."""

import os
import numpy as np, tensorflow as tf  # one line, two modules

try:
    import tensorflow.compat.v1 as tf
except ImportError:  # older TF
    import tensorflow as tf

from tensorflow.compat import v1 as tf1
from tensorflow.compat import v1
import tensorflow
import tensorflow.compat.v2 as tf2
from tensorflow import keras
from tensorflow import nn as tf_nn

from tensorflow.contrib import rnn
from tensorflow.contrib import layers as contrib_layers
from tensorflow.contrib import slim
import tensorflow.contrib.slim as slim
from tensorflow.contrib import legacy_seq2seq, slim as tf_slim
from tensorflow.contrib import framework
from tensorflow.contrib.rnn import LSTMCell, GRUCell
from tensorflow.contrib.layers import (  # the layers we use
    fully_connected,  # dense, TF1 style
    layer_norm,
)

from tensorflow.python.ops import rnn_cell_impl
from tensorflow.python.ops import array_ops, math_ops, nn_ops
from tensorflow.python.ops.rnn_cell_impl import LSTMStateTuple
from tensorflow.python.util import nest
from tensorflow.python.framework import ops
from tensorflow.python.framework import tensor_util
import tensorflow.python.ops.init_ops
from tensorflow.models.rnn import rnn_cell, seq2seq  # where TF 0.x kept them


def cell(num_units):
    """The v1 prefixes go: scopax.compat.v1 is the whole TF1 namespace."""
    init = tf.compat.v1.glorot_uniform_initializer()
    with tf.compat.v1.variable_scope("cell", initializer=init):
        c = tf1.nn.rnn_cell.LSTMCell(num_units)
        v = tensorflow.compat.v1.get_variable("v", [num_units])
    compat = tf.compat.v1  # the namespace itself
    net = tf.contrib.slim.fully_connected(v, 3)  # reported: slim
    dense = tf.keras.layers.Dense(3)  # reported: Keras
    normed = tf.contrib.layers.layer_norm(v)  # scopax.contrib.layers has it
    projected = slim.fully_connected(v, 3)  # its import is reported, not each use
    return c, v, compat, tf2.constant(0)


def project(x, units):
    hidden = fully_connected(x, units, activation_fn=None)
    hidden = math_ops.reduce_sum(hidden, axis=0)
    return array_ops.concat([hidden, nn_ops.relu(hidden)], 0)
