# type: ignore
# ruff: noqa
# fmt: off
# A scopax.port test input: TF's static-shape idioms, and look-alikes left alone.
import tensorflow as tf


def attention(query, keys, num_heads):
    batch, length, depth = keys.get_shape().as_list()
    dims = query.shape.as_list()
    static = keys.get_shape()
    units = query.get_shape()[-1].value
    heads = keys.shape[2].value // num_heads
    if query.shape.ndims == 3 and keys.get_shape().ndims != 3:
        raise ValueError("rank")
    rank = keys.shape.rank
    size = keys.get_shape().num_elements()
    width = tf.Dimension(depth)
    padded = tf.compat.v1.Dimension(depth + 1) * 2
    known = tf.Dimension(depth).value
    first = tf.dimension_value(keys.shape[0])

    keys.get_shape().assert_has_rank(3)
    query.shape.with_rank(3)
    keys.get_shape().with_rank_at_least(2)
    if not keys.shape.is_fully_defined():
        raise ValueError("static shapes only")
    keys.get_shape().assert_is_compatible_with(query.get_shape())
    merged = keys.shape.merge_with(query.shape)

    scores = tf.reduce_sum(query * keys, axis=-1, keep_dims=True)
    norm = tf.reduce_mean(scores, 1, keep_dims=False)  # keyword after a positional
    peak = tf.compat.v1.reduce_max(scores, axis=1,
                                   keep_dims=True)  # split over two lines
    both = tf.reduce_min(scores, keep_dims=True, keepdims=True)  # TF raises; left as is
    mean, var = tf.nn.moments(scores, [0], keep_dims=True)  # not a reduce_*: left as is
    total = tf.to_float(length)  # scopax.compat.v1 provides to_float

    # A bare .value may be anything: it is never touched.
    step = tf.train.get_or_create_global_step()
    value = config.value
    return scores, norm, peak, both, mean, var, total, value, units, heads
