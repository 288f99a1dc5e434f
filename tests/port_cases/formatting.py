# type: ignore
# ruff: noqa
# fmt: off
# A scopax.port test input: odd formatting and comments around each rewrite survive.
import tensorflow.compat.v1   as   tf    # aligned, as someone liked it
from tensorflow.python.ops import (array_ops,  # ops
                                   nn_ops)


def   layer( x ,units ) :   # spacing kept
    # The static width, the TF1 way:
    in_dim=x.get_shape( ).as_list( )[ -1 ]
    w = tf.get_variable(
        "w",
        [in_dim, units],  # [in, out]
        initializer = tf.compat.v1.truncated_normal_initializer(stddev=0.1),
    )
    y = tf.reduce_sum(
        x,  # summed over the batch
        axis=0,
        keep_dims = True,  # kept for broadcasting
    ) ; n = x.shape [0] .value  # two statements, one line
    return nn_ops.relu(tf.matmul(x, w)) * array_ops.ones_like(y), n
