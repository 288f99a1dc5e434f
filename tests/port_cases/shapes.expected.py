# type: ignore
# ruff: noqa
# fmt: off
# A scopax.port test input: TF's static-shape idioms, and look-alikes left alone.
import scopax.compat.v1 as tf


def attention(query, keys, num_heads):
    batch, length, depth = list(keys.shape)
    dims = list(query.shape)
    static = keys.shape
    units = query.shape[-1]
    heads = keys.shape[2] // num_heads
    if query.ndim == 3 and keys.ndim != 3:
        raise ValueError("rank")
    rank = keys.ndim
    size = keys.size
    width = depth
    padded = (depth + 1) * 2
    known = depth
    first = keys.shape[0]

    keys.shape.assert_has_rank(3)
    query.shape.with_rank(3)
    keys.shape.with_rank_at_least(2)
    if not keys.shape.is_fully_defined():
        raise ValueError("static shapes only")
    keys.shape.assert_is_compatible_with(query.shape)
    merged = keys.shape.merge_with(query.shape)

    scores = tf.reduce_sum(query * keys, axis=-1, keepdims=True)
    norm = tf.reduce_mean(scores, 1, keepdims=False)  # keyword after a positional
    peak = tf.reduce_max(scores, axis=1,
                                   keepdims=True)  # split over two lines
    both = tf.reduce_min(scores, keep_dims=True, keepdims=True)  # TF raises; left as is
    mean, var = tf.nn.moments(scores, [0], keep_dims=True)  # not a reduce_*: left as is
    total = tf.to_float(length)  # scopax.compat.v1 provides to_float

    # A bare .value may be anything: it is never touched.
    step = tf.train.get_or_create_global_step()
    value = config.value
    return scores, norm, peak, both, mean, var, total, value, units, heads
