# type: ignore
# ruff: noqa
# fmt: off
# A scopax.port test input: every TensorFlow import the porter knows, and some it does not.
"""Imports of a TF1 research codebase, grown over the years."""

import os
import numpy as np, scopax.compat.v1 as tf  # one line, two modules

try:
    import scopax.compat.v1 as tf
except ImportError:  # older TF
    import scopax.compat.v1 as tf

import scopax.compat.v1 as tf1
from scopax.compat import v1
import scopax.compat.v1 as tensorflow
import tensorflow.compat.v2 as tf2
from tensorflow import keras
from scopax import nn as tf_nn

from scopax.contrib import rnn
from scopax.contrib import layers as contrib_layers
from tensorflow.contrib import slim
import tensorflow.contrib.slim as slim
from scopax.contrib import legacy_seq2seq
from tensorflow.contrib import slim as tf_slim
from tensorflow.contrib import framework
from scopax.contrib.rnn import LSTMCell, GRUCell
from scopax.contrib.layers import (  # the layers we use
    fully_connected,  # dense, TF1 style
    layer_norm,
)

from scopax.nn import rnn_cell as rnn_cell_impl
import scopax.compat.v1 as array_ops
import scopax.compat.v1 as math_ops
from scopax import nn as nn_ops
from scopax.nn.rnn_cell import LSTMStateTuple
from tensorflow.python.util import nest
import scopax.compat.v1 as ops
from tensorflow.python.framework import tensor_util
import tensorflow.python.ops.init_ops
from scopax.nn import rnn_cell  # where TF 0.x kept them
from scopax.contrib import legacy_seq2seq as seq2seq


def cell(num_units):
    """The v1 prefixes go: scopax.compat.v1 is the whole TF1 namespace."""
    init = tf.glorot_uniform_initializer()
    with tf.variable_scope("cell", initializer=init):
        c = tf1.nn.rnn_cell.LSTMCell(num_units)
        v = tensorflow.get_variable("v", [num_units])
    compat = tf  # the namespace itself
    net = tf.contrib.slim.fully_connected(v, 3)  # reported: slim
    dense = tf.keras.layers.Dense(3)  # reported: Keras
    normed = tf.contrib.layers.layer_norm(v)  # scopax.contrib.layers has it
    projected = slim.fully_connected(v, 3)  # its import is reported, not each use
    return c, v, compat, tf2.constant(0)


def project(x, units):
    hidden = fully_connected(x, units, activation_fn=None)
    hidden = math_ops.reduce_sum(hidden, axis=0)
    return array_ops.concat([hidden, nn_ops.relu(hidden)], 0)
