from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, cast

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scopax as sx
from scopax import (
    constant_initializer,
    glorot_normal_initializer,
    glorot_uniform_initializer,
    ones_initializer,
    orthogonal_initializer,
    random_normal_initializer,
    random_uniform_initializer,
    truncated_normal_initializer,
    variance_scaling_initializer,
    zeros_initializer,
)
from scopax.errors import InvalidInitializerArgumentError

TRUNC_STD = 0.87962566103423978  # std of a unit normal truncated to [-2, 2]
SHAPES = [(), (5,), (3, 4), (2, 3, 4, 5), (0, 3)]
KEY_KINDS = ["new", "raw"]
KEY = jax.random.key(0)


def make_key(kind: str, seed: int = 0) -> jax.Array:
    return jax.random.key(seed) if kind == "new" else jax.random.PRNGKey(seed)


def draw(init: Any, shape: tuple[int, ...], keys: int = 1, dtype: Any = jnp.float32):
    """Samples from ``keys`` keys (vmapped, for small shapes), as float64 numpy."""
    # Eager on purpose: the initializers' own compiled programs are cached by (initializer,
    # shape, dtype), where a jitted closure per call would compile again each time.
    if keys == 1:
        return np.asarray(init(jax.random.key(1), shape, dtype), np.float64)
    split = jax.random.split(jax.random.key(1), keys)
    return np.asarray(jax.vmap(lambda k: init(k, shape, dtype))(split), np.float64)


FLOAT_INITS = {
    "constant": constant_initializer(0.5),
    "zeros": zeros_initializer(),
    "ones": ones_initializer(),
    "random_uniform": random_uniform_initializer(),
    "random_normal": random_normal_initializer(),
    "truncated_normal": truncated_normal_initializer(),
    "variance_scaling": variance_scaling_initializer(),
    "variance_scaling_fan_out_normal": variance_scaling_initializer(
        2.0, "fan_out", "untruncated_normal"
    ),
    "variance_scaling_fan_avg_uniform": variance_scaling_initializer(0.5, "fan_avg", "uniform"),
    "glorot_uniform": glorot_uniform_initializer(),
    "glorot_normal": glorot_normal_initializer(),
}
INT_INITS = {
    "constant": constant_initializer(7),
    "zeros": zeros_initializer(),
    "ones": ones_initializer(),
    "random_uniform": random_uniform_initializer(0, 4),
}


# Compiling for each new shape is what costs time here, so the exhaustive shape/dtype grid
# is checked abstractly (same code path, traced but not compiled) and concretely at one shape.
@pytest.mark.parametrize("name", FLOAT_INITS)
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16])
@pytest.mark.parametrize("key_kind", KEY_KINDS)
def test_float_initializers_give_exact_shape_and_dtype(name, dtype, key_kind):
    init, key = FLOAT_INITS[name], make_key(key_kind)
    for shape in SHAPES:
        out = jax.eval_shape(lambda k, shape=shape: init(k, shape, dtype), key)
        assert out.shape == shape and out.dtype == dtype
    # Raw keys run concretely in the jit test, and bfloat16 draws in test_bfloat16_draws.
    if key_kind == "new" and dtype == jnp.float32:
        out = init(key, (3, 4), dtype)
        assert out.shape == (3, 4) and out.dtype == dtype
        assert np.all(np.isfinite(np.asarray(out, np.float32)))


@pytest.mark.parametrize("name", ["random_uniform", "random_normal", "truncated_normal"])
def test_bfloat16_draws(name):
    out = FLOAT_INITS[name](KEY, (3, 4), jnp.bfloat16)
    assert out.shape == (3, 4) and out.dtype == jnp.bfloat16
    assert np.all(np.abs(np.asarray(out, np.float32)) <= 6)


@pytest.mark.parametrize("name", INT_INITS)
@pytest.mark.parametrize("dtype", [jnp.int32, jnp.int8, jnp.uint8])
def test_integer_initializers_give_exact_shape_and_dtype(name, dtype):
    init, key = INT_INITS[name], KEY
    for shape in SHAPES:
        out = jax.eval_shape(lambda k, shape=shape: init(k, shape, dtype), key)
        assert out.shape == shape and out.dtype == dtype
    if dtype == jnp.int32:
        out = init(key, (3, 4), dtype)
        assert out.shape == (3, 4) and out.dtype == dtype


@pytest.mark.parametrize("init", [zeros_initializer(), ones_initializer(), constant_initializer(1)])
def test_bool_fills(init):
    out = init(KEY, (3, 4), jnp.bool_)
    assert out.dtype == jnp.bool_ and out.shape == (3, 4)
    assert bool(out.all()) == (init != zeros_initializer())


def test_float64_is_canonicalized():
    out = jax.eval_shape(lambda k: random_normal_initializer()(k, (3,), jnp.float64), KEY)
    assert out.dtype == jax.dtypes.canonicalize_dtype(jnp.float64)


@pytest.mark.parametrize(
    "init",
    [
        constant_initializer([1.0, 2.0]),
        random_uniform_initializer(),
        variance_scaling_initializer(),
        orthogonal_initializer(),
    ],
)
def test_works_under_jit_and_eval_shape(init):
    # A raw key under jit must give what the same new-style key gives eagerly.
    jitted = jax.jit(lambda k: init(k, (3, 4), jnp.float32))(make_key("raw"))
    eager = init(make_key("new"), (3, 4), jnp.float32)
    np.testing.assert_allclose(jitted, eager, rtol=1e-6, atol=1e-6)
    abstract = jax.eval_shape(lambda k: init(k, (2, 3, 4), jnp.bfloat16), KEY)
    assert abstract.shape == (2, 3, 4) and abstract.dtype == jnp.bfloat16


@pytest.mark.parametrize("name", FLOAT_INITS)
def test_random_initializers_draw_in_one_compiled_program(name):
    # Eagerly, one dispatch and one buffer of the variable's size instead of one per op
    # (draw, scale, shift), which kept an eager init's peak memory above the parameters.
    init = FLOAT_INITS[name]
    jaxpr = jax.make_jaxpr(lambda k: init(k, (4, 3), jnp.float32))(KEY)
    programs = [e for e in jaxpr.eqns if "jaxpr" in e.params]
    if init.uses_key:
        assert len(programs) == 1 and len(jaxpr.eqns) == 1, jaxpr
    else:  # A fill is a single op: no program of its own, so no compile per fill value.
        assert programs == [], jaxpr


def test_new_and_raw_keys_agree():
    for init in (random_normal_initializer(seed=3), orthogonal_initializer()):
        new = init(jax.random.key(5), (3, 4))
        raw = init(jax.random.PRNGKey(5), (3, 4))
        np.testing.assert_array_equal(new, raw)


def _fans(shape: tuple[int, ...]) -> tuple[float, float]:
    """TF1's fans, written out: a 0-D shape has fans 1, a 1-D one n and n, a kernel's
    receptive field multiplies both."""
    if not shape:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


@pytest.mark.parametrize(
    ("shape", "fans"),
    [
        ((), (1, 1)),
        ((7,), (7, 7)),
        ((3, 5), (3, 5)),
        ((2, 3, 5), (6, 10)),
        ((3, 3, 4, 8), (36, 72)),
    ],
)
def test_fans_follow_tf1(shape, fans):
    # Seen through uniform variance scaling, whose bound is sqrt(3 * scale / fan).
    assert _fans(shape) == fans
    for mode, fan in (("fan_in", fans[0]), ("fan_out", fans[1])):
        x = draw(
            variance_scaling_initializer(1.0, mode, "uniform"),
            shape,
            keys=4000 if not shape else 40,
        )
        limit = math.sqrt(3.0 / fan)
        assert np.abs(x).max() <= limit * (1 + 1e-6)
        assert np.abs(x).max() > 0.9 * limit


BIG = (200, 500)  # one shape for the large draws, so that they share compiled kernels


def test_random_normal_statistics():
    x = draw(random_normal_initializer(mean=2.0, stddev=3.0), BIG)
    assert abs(x.mean() - 2.0) < 0.06 and abs(x.std() - 3.0) < 0.06


def test_random_uniform_float_range():
    x = draw(random_uniform_initializer(-2.0, 5.0), BIG)
    assert x.min() >= -2.0 and x.max() < 5.0
    assert x.min() < -1.99 and x.max() > 4.99
    assert abs(x.mean() - 1.5) < 0.05
    y = draw(random_uniform_initializer(), BIG)
    assert y.min() >= 0.0 and y.max() < 1.0 and abs(y.mean() - 0.5) < 0.01


def test_random_uniform_integers_cover_half_open_range():
    x = random_uniform_initializer(-3, 4)(KEY, BIG, jnp.int32)
    assert set(np.unique(np.asarray(x)).tolist()) == set(range(-3, 4))


def test_truncated_normal_is_cut_at_two_sigma_not_rescaled():
    mean, stddev = 1.0, 2.0
    x = draw(truncated_normal_initializer(mean, stddev), BIG)
    assert np.all(np.abs(x - mean) <= 2 * stddev * (1 + 1e-6))
    assert np.abs(x - mean).max() > 1.95 * stddev
    assert abs(x.mean() - mean) < 0.03
    assert abs(x.std() - TRUNC_STD * stddev) < 0.03


def check_variance_scaling(x, distribution, target):
    assert abs(x.mean()) < 0.05 * target
    assert abs(x.std() / target - 1) < 0.04
    if distribution == "truncated_normal":
        assert np.abs(x).max() <= 2 * target / TRUNC_STD * (1 + 1e-6)
    if distribution == "uniform":
        limit = math.sqrt(3) * target
        assert 0.99 * limit < np.abs(x).max() <= limit * (1 + 1e-6)


@pytest.mark.parametrize(
    ("shape", "keys"), [((), 10_000), ((20_000,), 1), (BIG, 1), ((3, 3, 64, 96), 1)]
)
@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
def test_variance_scaling_std_per_mode_and_fan(shape, keys, mode):
    fan_in, fan_out = _fans(shape)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    x = draw(variance_scaling_initializer(2.0, mode), shape, keys)
    check_variance_scaling(x, "truncated_normal", math.sqrt(2.0 / n))


@pytest.mark.parametrize("distribution", ["truncated_normal", "untruncated_normal", "uniform"])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
def test_variance_scaling_distributions(distribution, mode):
    n = {"fan_in": 200, "fan_out": 500, "fan_avg": 350}[mode]
    x = draw(variance_scaling_initializer(0.5, mode, distribution), BIG)
    check_variance_scaling(x, distribution, math.sqrt(0.5 / n))


def test_variance_scaling_normal_is_tf1_alias_of_truncated_normal():
    normal = variance_scaling_initializer(distribution="normal")
    assert normal == variance_scaling_initializer(distribution="truncated_normal")
    assert variance_scaling_initializer(distribution="Uniform").distribution == "uniform"


def test_variance_scaling_handles_zero_size_shapes():
    assert variance_scaling_initializer()(KEY, (0, 5)).shape == (0, 5)


def test_glorot_limits_and_std():
    limit = math.sqrt(6 / (200 + 500))
    u = draw(glorot_uniform_initializer(), BIG)
    assert np.abs(u).max() <= limit and np.abs(u).max() > 0.99 * limit
    g = draw(glorot_normal_initializer(), BIG)
    check_variance_scaling(g, "truncated_normal", math.sqrt(2 / (200 + 500)))
    assert glorot_uniform_initializer() == variance_scaling_initializer(1.0, "fan_avg", "uniform")


@pytest.mark.parametrize(
    ("shape", "gain", "dtype"),
    [
        ((6, 4), 1.0, jnp.float32),
        ((3, 7), 2.0, jnp.float32),
        ((3, 3, 4, 8), 0.5, jnp.float32),
        ((6, 4), 1.0, jnp.bfloat16),
    ],
)
def test_orthogonal_is_orthonormal_times_gain(shape, gain, dtype):
    w = jax.jit(lambda k: orthogonal_initializer(gain)(k, shape, dtype))(KEY)
    assert w.shape == shape and w.dtype == dtype
    m = np.asarray(w, np.float64).reshape(-1, shape[-1])
    gram = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
    atol = 1e-5 if dtype == jnp.float32 else 2e-2
    np.testing.assert_allclose(gram, gain**2 * np.eye(len(gram)), atol=atol * gain**2)


def test_orthogonal_sign_fix_leaves_no_bias():
    # Raw Householder QR favours one sign on the diagonal; TF1's diag(r) fix removes that.
    sample = jax.jit(jax.vmap(lambda k: orthogonal_initializer()(k, (3, 3))))
    w = np.asarray(sample(jax.random.split(KEY, 500)))
    assert np.abs(w.mean(axis=0)).max() < 0.15  # about 0.48 on the diagonal without it


@pytest.mark.parametrize(
    ("value", "shape", "expected"),
    [
        (0.5, (2, 2), [[0.5, 0.5], [0.5, 0.5]]),
        (3, (), 3.0),
        ([1.0, 2.0, 3.0], (2, 3), [[1, 2, 3], [3, 3, 3]]),
        ([[1, 2], [3, 4], [5, 6]], (2, 3), [[1, 2, 3], [4, 5, 6]]),
        (np.arange(6.0).reshape(2, 3), (6,), [0, 1, 2, 3, 4, 5]),
        ([4.0], (3,), [4, 4, 4]),
        ((1, 2), (2, 2), [[1, 2], [2, 2]]),
    ],
)
def test_constant_fills_reshapes_and_pads_with_last_element(value, shape, expected):
    out = constant_initializer(value)(KEY, shape)
    assert out.shape == shape and out.dtype == jnp.float32
    np.testing.assert_array_equal(out, np.asarray(expected, np.float32))


def test_constant_casts_to_requested_dtype():
    out = constant_initializer([1, 2])(KEY, (3,), jnp.int32)
    assert out.dtype == jnp.int32
    np.testing.assert_array_equal(out, [1, 2, 2])
    verified = constant_initializer([1, 2], verify_shape=True)(KEY, (2,))
    np.testing.assert_array_equal(verified, [1.0, 2.0])


def _init_one(dtype: Any, initializer: Any = None) -> jax.Array:
    """``w``'s value when get_variable creates it with ``initializer``."""
    fn = lambda: sx.get_variable("w", [3, 4], dtype, initializer)  # noqa: E731
    return sx.transform(fn).init(KEY)["w"]


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16, jnp.float16])
def test_default_initializer_is_glorot_uniform_for_floats(dtype):
    default = _init_one(dtype)
    assert default.dtype == dtype
    np.testing.assert_array_equal(default, _init_one(dtype, glorot_uniform_initializer()))


@pytest.mark.parametrize("dtype", [jnp.int32, jnp.uint8, jnp.int8, jnp.bool_])
def test_default_initializer_is_zeros_for_integers_and_bool(dtype):
    out = _init_one(dtype)
    assert out.dtype == dtype and not np.asarray(out).any()


def test_default_initializer_rejects_complex():
    with pytest.raises(InvalidInitializerArgumentError, match=r"no default initializer.*complex"):
        _init_one(jnp.complex64)


RANDOM_FACTORIES: dict[str, Callable[..., Any]] = {
    "random_uniform": random_uniform_initializer,
    "random_normal": random_normal_initializer,
    "truncated_normal": truncated_normal_initializer,
    "variance_scaling": variance_scaling_initializer,
    "glorot_uniform": glorot_uniform_initializer,
    "glorot_normal": glorot_normal_initializer,
    "orthogonal": orthogonal_initializer,
}


@pytest.mark.parametrize("name", RANDOM_FACTORIES)
def test_seed_is_folded_into_the_key(name):
    factory, key, shape = RANDOM_FACTORIES[name], KEY, (3, 4)
    plain = factory()(key, shape)
    np.testing.assert_array_equal(plain, factory()(key, shape))
    seeded = factory(seed=7)(key, shape)
    np.testing.assert_array_equal(seeded, factory(seed=7)(key, shape))
    np.testing.assert_array_equal(seeded, factory()(jax.random.fold_in(key, 7), shape))
    assert not np.array_equal(plain, seeded)
    assert not np.array_equal(seeded, factory(seed=8)(key, shape))
    assert not np.array_equal(plain, factory()(jax.random.key(1), shape))
    assert factory(seed=-1)(key, shape).shape == shape


def test_initializers_are_hashable_with_readable_reprs():
    init = random_normal_initializer(stddev=0.02, seed=cast(Any, np.int64(3)))
    assert repr(init) == "RandomNormal(mean=0.0, stddev=0.02, seed=3)"
    assert hash(init) == hash(random_normal_initializer(stddev=0.02, seed=3))
    assert repr(constant_initializer([1, 2])) == "Constant(value=(1, 2))"
    assert len({zeros_initializer(), zeros_initializer(), ones_initializer()}) == 2
    with pytest.raises(AttributeError):
        init.stddev = 1.0  # pyright: ignore[reportAttributeAccessIssue]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: variance_scaling_initializer(scale=0.0), r"scale=0\.0.*positive"),
        (lambda: variance_scaling_initializer(scale=-1), r"scale=-1.*positive"),
        (lambda: variance_scaling_initializer(mode="FAN_IN"), r"mode='FAN_IN'.*'fan_avg'"),
        (lambda: variance_scaling_initializer(distribution="gaussian"), r"distribution='gauss"),
        (lambda: random_normal_initializer(stddev=-1.0), r"stddev=-1\.0.*>= 0"),
        (lambda: truncated_normal_initializer(stddev=-0.5), r"stddev=-0\.5.*>= 0"),
        (lambda: random_uniform_initializer(2, 1), r"maxval=1 < minval=2.*minval <= maxval"),
        (lambda: random_normal_initializer(mean=cast(Any, "0")), r"mean must be a real.*mean=1\.0"),
        (lambda: orthogonal_initializer(seed=cast(Any, 1.5)), r"seed must be None or a Python int"),
        (lambda: constant_initializer("abc"), r"value must be a number.*got 'abc'"),
        (lambda: constant_initializer([[1, 2], [3]]), r"rectangular"),
    ],
)
def test_bad_arguments_raise_at_construction(make, message):
    with pytest.raises(InvalidInitializerArgumentError, match=message):
        make()


@pytest.mark.parametrize(
    ("init", "shape", "dtype", "message"),
    [
        (orthogonal_initializer(), (5,), jnp.float32, r"rank at least 2, got \(5,\)"),
        (orthogonal_initializer(), (), jnp.float32, r"rank at least 2, got \(\)"),
        (constant_initializer([1, 2, 3, 4]), (3,), jnp.float32, r"has 4 elements.*has 3"),
        (constant_initializer([]), (2,), jnp.float32, r"has 0 elements.*between 1 and 2"),
        (constant_initializer([1, 2], verify_shape=True), (3,), jnp.float32, r"of shape \(2,\)"),
        (random_uniform_initializer(), (3,), jnp.int32, r"for dtype int32.*maxval=None"),
        (random_uniform_initializer(0, 2.5), (3,), jnp.int32, r"whole numbers.*maxval=2\.5"),
        (random_uniform_initializer(1, 1), (3,), jnp.int32, r"minval < maxval"),
        (random_uniform_initializer(), (3,), jnp.bool_, r"floating dtypes, got dtype bool"),
        (random_normal_initializer(), (3,), jnp.int32, r"random_normal.*floating dtypes"),
        (glorot_uniform_initializer(), (3, 3), jnp.int32, r"variance_scaling.*floating"),
        (orthogonal_initializer(), (3, 3), jnp.int32, r"orthogonal.*floating"),
    ],
)
def test_bad_calls_raise(init, shape, dtype, message):
    with pytest.raises(InvalidInitializerArgumentError, match=message) as info:
        init(KEY, shape, dtype)
    assert isinstance(info.value, ValueError)
