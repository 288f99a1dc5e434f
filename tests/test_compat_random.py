"""``scopax.compat.v1``'s random ops, by their statistics: TF's generator is not JAX's,
so no fixture can hold their values, but their distributions must be TF's."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scopax as sx
import scopax.compat.v1 as tf
from scopax import errors

N = 20000


def draw(fn, seed=0):
    return np.asarray(jax.jit(sx.transform(fn).apply)({}, rng=jax.random.key(seed)))


def test_random_normal_has_its_mean_and_stddev():
    x = draw(lambda: tf.random_normal([N], mean=3.0, stddev=0.5))
    assert x.dtype == np.float32 and x.shape == (N,)
    assert abs(x.mean() - 3.0) < 0.02 and abs(x.std() - 0.5) < 0.02


def test_truncated_normal_stays_within_two_stddevs():
    x = draw(lambda: tf.truncated_normal([N], mean=-1.0, stddev=2.0))
    assert x.min() >= -5.0 and x.max() <= 3.0
    assert abs(x.mean() + 1.0) < 0.05
    # A normal cut at two standard deviations keeps 0.8796 of its standard deviation.
    assert abs(x.std() - 2.0 * 0.8796) < 0.05


def test_random_uniform_floats_and_ints():
    x, ints, unit = sx.transform(
        lambda: (
            tf.random_uniform([N], -2.0, 4.0),
            tf.random_uniform([N], 3, 7, dtype=tf.int32),
            tf.random_uniform([N], dtype=tf.float16),
        )
    ).apply({}, rng=jax.random.key(0))
    x, ints, unit = np.asarray(x), np.asarray(ints), np.asarray(unit)
    assert x.min() >= -2.0 and x.max() < 4.0 and abs(x.mean() - 1.0) < 0.05
    assert ints.dtype == np.int32 and set(np.unique(ints)) == {3, 4, 5, 6}
    assert unit.dtype == np.float16 and unit.min() >= 0 and unit.max() < 1


def test_random_shuffle_permutes_the_first_dimension():
    rows = np.arange(20).reshape(10, 2)
    x = draw(lambda: tf.random_shuffle(tf.constant(rows)))
    assert sorted(x[:, 0].tolist()) == list(range(0, 20, 2))
    assert (x[:, 1] == x[:, 0] + 1).all()  # whole rows move
    assert not (x == rows).all()


def test_multinomial_follows_the_softmax_of_the_logits():
    logits = np.log(np.array([[0.2, 0.3, 0.5], [0.9, 0.05, 0.05]], np.float32))
    x = draw(lambda: tf.multinomial(logits, N))
    assert x.shape == (2, N) and x.dtype == np.int32  # int64, stored as int32 (x64 off)
    for row, p in zip(x, np.exp(logits), strict=True):
        assert np.allclose(np.bincount(row, minlength=3) / N, p, atol=0.02)


def test_keys_come_from_the_rng_and_the_seed():
    def two():
        return tf.random_normal([4]), tf.random_normal([4])

    a, b = sx.transform(two).apply({}, rng=jax.random.key(0))
    again, _ = sx.transform(two).apply({}, rng=jax.random.key(0))
    assert not jnp.array_equal(a, b)  # each op draws a fresh key
    assert jnp.array_equal(a, again)  # the same rng gives the same values
    seven, eight = sx.transform(
        lambda: (tf.random_normal([4], seed=7), tf.random_normal([4], seed=8))
    ).apply({}, rng=jax.random.key(0))
    assert not jnp.array_equal(seven, eight)


def test_random_ops_need_a_transform_and_an_rng():
    with pytest.raises(errors.NotInTransformError):
        tf.random_normal([2])
    with pytest.raises(errors.MissingRngError):
        sx.transform(lambda: tf.random_uniform([2])).apply({})
