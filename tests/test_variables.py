"""get_variable: create/reuse rules, dtypes, initializers, custom getters, regularizers,
and the exact text of every error."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scopax as sx


def init(fn, *args):
    return sx.transform(fn).init(jax.random.key(0), *args)


def raises(cls, text):
    """pytest.raises matching the whole message exactly."""
    return pytest.raises(cls, match="^" + re.escape(text) + "$")


def test_create_twice_raises_exact_message():
    def f():
        with sx.variable_scope("image_filters"), sx.variable_scope("conv1"):
            sx.get_variable("weights", [1])
            sx.get_variable("weights", [1])

    with raises(
        sx.errors.VariableExistsError,
        "Variable image_filters/conv1/weights already exists; did you mean to set "
        "reuse=True or reuse=sx.AUTO_REUSE in variable_scope?",
    ) as info:
        init(f)
    assert info.value.name == "image_filters/conv1/weights"
    assert isinstance(info.value, ValueError)


def test_reuse_missing_raises_exact_message():
    def f():
        with sx.variable_scope("foo", reuse=True):
            sx.get_variable("v", [1])

    with raises(
        sx.errors.VariableNotFoundError,
        "Variable foo/v does not exist, so it cannot be reused; create it first in a scope "
        "with reuse=False, or set reuse=sx.AUTO_REUSE in variable_scope to create it when "
        "missing.",
    ):
        init(f)


def test_reuse_with_other_shape_or_dtype_raises():
    def shape():
        sx.get_variable("v", [2])
        sx.get_variable_scope().reuse_variables()
        sx.get_variable("v", [3])

    with raises(
        sx.errors.ShapeMismatchError,
        "Trying to share variable v, but specified shape (3,) and found shape (2,); pass "
        "shape=(2,) or omit shape when reusing it.",
    ):
        init(shape)

    def dtype():
        sx.get_variable("v", [2])
        sx.get_variable_scope().reuse_variables()
        sx.get_variable("v", [2], dtype=jnp.int32)

    with raises(
        sx.errors.DtypeMismatchError,
        "Trying to share variable v, but specified dtype int32 and found dtype float32; pass "
        "dtype=jnp.float32 or omit dtype when reusing it.",
    ):
        init(dtype)


def test_root_default_dtype_does_not_count_on_reuse_but_scope_dtype_does():
    def f():
        t = sx.get_variable("t", [], dtype=jnp.int32)
        sx.get_variable_scope().reuse_variables()
        assert sx.get_variable("t") is t
        return t

    init(f)

    def g():
        with sx.variable_scope("s"):
            sx.get_variable("t", [], dtype=jnp.int32)
        with sx.variable_scope("s", reuse=True, dtype=jnp.float32):
            sx.get_variable("t")

    with pytest.raises(sx.errors.DtypeMismatchError, match="variable s/t"):
        init(g)


def test_same_variable_is_identical_object_in_init_and_apply(jit):
    def f():
        with sx.variable_scope("s", reuse=sx.AUTO_REUSE):
            a = sx.get_variable("v", [2])
            b = sx.get_variable("v", [2])
        return a is b

    model = sx.transform(f)
    params = model.init(jax.random.key(0))
    assert model.apply(params) is True
    assert jit(lambda p: model.apply(p) and jnp.ones(()))(params) == 1


def test_name_cannot_be_both_variable_and_scope():
    def f():
        sx.get_variable("a", [1])
        with sx.variable_scope("a"):
            sx.get_variable("b", [1])

    with raises(
        sx.errors.NameConflictError,
        "Variable a/b conflicts with a: a name cannot be both a variable and a variable "
        "scope; rename one of them.",
    ):
        init(f)

    def g():
        sx.get_variable("a/b", [1])
        sx.get_variable("a", [1])

    with pytest.raises(sx.errors.NameConflictError, match="Variable a conflicts with a/b"):
        init(g)


@pytest.mark.parametrize(
    "dtype, expected",
    [(jnp.float32, "glorot"), (jnp.bfloat16, "glorot"), (jnp.int32, 0), (jnp.bool_, False)],
)
def test_default_initializer(dtype, expected):
    params = init(lambda: sx.get_variable("v", [64, 64], dtype=dtype))
    v = params["v"]
    assert v.dtype == dtype
    if expected == "glorot":
        limit = np.sqrt(6 / 128)
        values = np.asarray(v, np.float32)
        assert np.abs(values).max() <= limit * 1.01  # bfloat16 rounds the limit itself.
        assert np.std(values) == pytest.approx(limit / np.sqrt(3), rel=0.05)
    else:
        assert not np.asarray(v).any()


def test_default_initializer_accepts_scalars_and_vectors():
    params = init(lambda: (sx.get_variable("s", []), sx.get_variable("v", [5])))
    assert params["s"].shape == () and params["v"].shape == (5,)


def test_concrete_initializer():
    def f():
        a = sx.get_variable("a", initializer=jnp.arange(3.0))
        b = sx.get_variable("b", [2], initializer=np.ones(2, np.float32))
        c = sx.get_variable("c", initializer=2.0)
        d = sx.get_variable("d", initializer=3, dtype=jnp.float32)
        e = sx.get_variable("e", initializer=7)
        return a, b, c, d, e

    model = sx.transform(f)
    params = model.init(jax.random.key(0))
    a, b, c, d, e = model.apply(params)
    np.testing.assert_array_equal(a, [0, 1, 2])
    assert b.shape == (2,)
    assert c.dtype == jnp.float32 and not c.weak_type
    assert d.dtype == jnp.float32 and float(d) == 3.0
    assert e.dtype == jnp.int32


def test_concrete_initializer_shape_mismatch_raises():
    with raises(
        sx.errors.InitializerShapeError,
        "Variable a has shape (4,), but the initializer array has shape (3,); make the "
        "shape argument and the initializer agree.",
    ):
        init(lambda: sx.get_variable("a", [4], initializer=jnp.arange(3.0)))


def test_callable_initializer_without_shape_raises():
    with raises(
        sx.errors.ShapeRequiredError,
        "Shape of a new variable (s/w) must be fully defined, but is None; pass shape=, e.g. "
        'sx.get_variable("w", [3, 4]), or a concrete array as initializer.',
    ):
        init(lambda: _in_scope("s", lambda: sx.get_variable("w")))


def _in_scope(name, fn):
    with sx.variable_scope(name):
        return fn()


def test_jax_nn_initializers_work():
    params = init(
        lambda: sx.get_variable("w", [4, 3], initializer=jax.nn.initializers.lecun_normal())
    )
    assert params["w"].shape == (4, 3)


def test_initializer_with_wrong_signature_raises():
    with pytest.raises(
        sx.errors.InitializerSignatureError,
        match=r"^The initializer of variable w \(.*\) cannot be called as "
        r"initializer\(key, shape, dtype\): .*Pass a function of that signature",
    ):
        init(lambda: sx.get_variable("w", [2], initializer=lambda shape: jnp.zeros(shape)))


def test_initializer_internal_type_error_is_not_masked():
    def bad(key, shape, dtype):
        raise TypeError("my own bug")

    with pytest.raises(TypeError, match=r"^my own bug$"):
        init(lambda: sx.get_variable("w", [2], initializer=bad))


def test_initializer_returning_wrong_shape_or_dtype_raises():
    with raises(
        sx.errors.InitializerShapeError,
        "Variable w has shape (2,), but its initializer's output has shape (3,); make the "
        "shape argument and the initializer agree.",
    ):
        init(lambda: sx.get_variable("w", [2], initializer=lambda k, s, d: jnp.zeros(3, d)))
    with raises(
        sx.errors.InitializerDtypeError,
        "Variable w has dtype float32, but its initializer returned dtype int32; the "
        "initializer must honour its dtype argument: f(key, shape, dtype) -> Array.",
    ):
        init(lambda: sx.get_variable("w", [2], initializer=lambda k, s, d: jnp.zeros(s, "int32")))


def test_x64_off_stores_64_bit_requests_as_32_bit():
    def f():
        return sx.get_variable("v", [2], dtype=jnp.float64), sx.get_variable(
            "i", [2], dtype=np.int64
        )

    params = init(f)
    assert params["v"].dtype == jnp.float32
    assert params["i"].dtype == jnp.int32

    def g():
        sx.get_variable("v", [2], dtype=jnp.float32)
        sx.get_variable_scope().reuse_variables()
        return sx.get_variable("v", [2], dtype=jnp.float64)  # Canonically the same type.

    init(g)


def test_get_variable_outside_transform_raises():
    with raises(
        sx.errors.NotInTransformError,
        "sx.get_variable must be called inside a function transformed by sx.transform or "
        "sx.transform_with_state, and run through its init or apply: "
        "model = sx.transform(fn); params = model.init(rng, x).",
    ):
        sx.get_variable("w", [1])


def test_bad_names_and_scope_arguments():
    with raises(
        sx.errors.ScopeNameMissingError,
        "variable_scope needs a name: pass name_or_scope (a string or a VariableScope) or, "
        'with name_or_scope=None, a default_name such as variable_scope(None, "conv").',
    ):
        sx.variable_scope(None)
    assert issubclass(sx.errors.ScopeNameMissingError, TypeError)
    for reuse in (True, sx.AUTO_REUSE):
        with pytest.raises(sx.errors.ScopeArgumentError, match="cannot reuse"):
            sx.variable_scope(None, default_name="conv", reuse=reuse)
    with pytest.raises(sx.errors.ScopeArgumentError, match="reuse='yes'"):
        sx.variable_scope("a", reuse="yes")
    with pytest.raises(sx.errors.ScopeArgumentError, match="name_or_scope=''"):
        sx.variable_scope("")
    with pytest.raises(sx.errors.ScopeArgumentError, match="name_or_scope=3"):
        sx.variable_scope(3)  # type: ignore[arg-type]
    with pytest.raises(sx.errors.ScopeArgumentError, match="get_variable got name=''"):
        init(lambda: sx.get_variable("", [1]))


def test_custom_getter_receives_tf1_keywords():
    calls = []

    def getter(next_getter, name, *args, **kwargs):
        calls.append((name, dict(kwargs)))
        return next_getter(name, *args, **kwargs) * 2

    reg = lambda w: jnp.sum(w)  # noqa: E731
    init_fn = sx.zeros_initializer()

    def f():
        with sx.variable_scope("s", custom_getter=getter, regularizer=reg):
            return sx.get_variable("w", [3], initializer=init_fn)

    model = sx.transform(f)
    params = model.init(jax.random.key(0))
    out = model.apply({"s": {"w": jnp.ones(3)}})
    np.testing.assert_array_equal(out, 2 * np.ones(3))
    name, kwargs = calls[0]
    assert name == "s/w"
    assert kwargs == {
        "shape": [3],
        "dtype": jnp.float32,
        "initializer": init_fn,
        "regularizer": reg,
        "trainable": True,
        "reuse": False,
        "sharding": None,
    }
    assert list(sx.flatten(params)) == ["s/w"]


def test_custom_getters_chain_innermost_first():
    order = []

    def tagging(tag):
        def getter(next_getter, name, **kwargs):
            order.append(tag)
            return next_getter(name, **kwargs) + 1

        return getter

    def f():
        with sx.variable_scope("outer", custom_getter=tagging("outer")):
            with sx.variable_scope("inner", custom_getter=tagging("inner")):
                return sx.get_variable("w", [], initializer=sx.zeros_initializer())

    model = sx.transform(f)
    assert float(model.apply(model.init(jax.random.key(0)))) == 2.0
    assert order == ["inner", "outer", "inner", "outer"]


def test_custom_getter_mixed_precision_storage():
    def fp32_storage(next_getter, name, dtype=None, **kwargs):
        return next_getter(name, dtype=jnp.float32, **kwargs).astype(dtype)

    def f(x):
        with sx.variable_scope("m", dtype=jnp.bfloat16, custom_getter=fp32_storage):
            w = sx.get_variable("w", [2, 2])
            return x @ w

    model = sx.transform(f)
    x = jnp.ones((1, 2), jnp.bfloat16)
    params = model.init(jax.random.key(0), x)
    assert params["m/w"].dtype == jnp.float32
    assert model.apply(params, x).dtype == jnp.bfloat16


def test_regularization_losses_once_per_variable_and_filtered():
    l2 = lambda w: jnp.sum(w**2)  # noqa: E731

    def f():
        with sx.variable_scope("a", regularizer=l2):
            sx.get_variable("w", [2], initializer=sx.ones_initializer())
            sx.get_variable("none", [2], regularizer=lambda w: None)
        with sx.variable_scope("a", reuse=True):
            sx.get_variable("w", [2])
        with sx.variable_scope("b"):
            sx.get_variable("w", [3], initializer=sx.ones_initializer(), regularizer=l2)
            sx.get_variable("plain", [3])
        return (
            sx.get_regularization_losses(),
            sx.get_regularization_loss(),
            sx.get_regularization_losses("b"),
            sx.get_regularization_loss("c"),
        )

    model = sx.transform(f)
    params = model.init(jax.random.key(0))
    for out in (model.apply(params), jax.jit(model.apply)(params)):
        losses, total, only_b, none = out
        assert [float(x) for x in losses] == [2.0, 3.0]
        assert float(total) == 5.0
        assert [float(x) for x in only_b] == [3.0]
        assert float(none) == 0.0
