# type: ignore
# ruff: noqa
# fmt: off
# A scopax.port test input: odd formatting and comments around each rewrite survive.
import scopax.compat.v1   as   tf    # aligned, as someone liked it
# ops
import scopax.compat.v1 as array_ops
from scopax import nn as nn_ops


def   layer( x ,units ) :   # spacing kept
    # The static width, the TF1 way:
    in_dim=list(x.shape)[ -1 ]
    w = tf.get_variable(
        "w",
        [in_dim, units],  # [in, out]
        initializer = tf.truncated_normal_initializer(stddev=0.1),
    )
    y = tf.reduce_sum(
        x,  # summed over the batch
        axis=0,
        keepdims = True,  # kept for broadcasting
    ) ; n = x.shape [0]  # two statements, one line
    return nn_ops.relu(tf.matmul(x, w)) * array_ops.ones_like(y), n
