"""Bad inputs to the core get TF1's error, or a scopax error naming what to fix.

Each case here was a raw Python error, a process abort or a silent wrong answer once.
"""

import inspect
import pickle
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scopax as sx
from scopax import errors


def bad(value: Any) -> Any:
    """``value``, typed so that the type checker lets a test pass it where it is wrong."""
    return value


def init_with(fn):
    return sx.transform(fn).init(jax.random.key(0))


@pytest.mark.parametrize(
    ("shape", "why"),
    [
        ([2.7, 3], "dimension 2.7 is a float, not an integer"),
        ("34", "a string is not a shape"),
        (["3"], "dimension '3' is a str, not an integer"),
        ([True], "dimension True is a bool, not an integer"),
        ([2, np.float32(3)], "dimension np.float32(3.0) is a float32, not an integer"),
        (object(), "it is not a sequence"),
    ],
)
def test_shape_that_is_not_integers_is_a_type_error(shape, why):
    with pytest.raises(errors.ShapeTypeError) as info:
        init_with(lambda: sx.get_variable("w", bad(shape)))
    assert isinstance(info.value, TypeError)
    assert str(info.value) == (
        f"Variable w got shape={shape!r}: {why}; pass a list or tuple of ints, e.g. shape=[3, 4]."
    )


def test_shape_is_checked_in_apply_too():
    model = sx.transform(lambda shape: sx.get_variable("w", shape))
    params = model.init(jax.random.key(0), [2, 3])
    with pytest.raises(errors.ShapeTypeError, match=r"dimension 2\.0 is a float"):
        model.apply(params, [2.0, 3])


def test_numpy_integers_and_a_single_int_are_shapes():
    params = init_with(
        lambda: (
            sx.get_variable("a", [np.int64(2), np.int32(3)]),
            sx.get_variable("b", 4),
            sx.get_variable("c", np.array([5, 6])),
        )
    )
    assert params["a"].shape == (2, 3)
    assert params["b"].shape == (4,)
    assert params["c"].shape == (5, 6)


def test_negative_dimension_says_so():
    with pytest.raises(errors.InvalidShapeError) as info:
        init_with(lambda: sx.get_variable("w", [-1]))
    assert str(info.value) == (
        "Variable w got shape=[-1]: dimension -1 is negative; every dimension must be >= 0."
    )


def test_huge_shape_raises_before_anything_is_allocated():
    # XLA aborts the whole process on this shape; the check must come first.
    with pytest.raises(errors.InvalidShapeError, match="more than one array can hold"):
        init_with(lambda: sx.get_variable("w", [2**31, 2**31]))
    with pytest.raises(errors.InvalidShapeError, match="more than one array can hold"):
        jax.eval_shape(
            sx.transform(lambda: sx.get_variable("w", [2**40, 2**40])).init, jax.random.key(0)
        )


def test_a_variable_given_twice_in_a_tree_is_refused():
    model = sx.transform(lambda: sx.get_variable("d/k", [2]))
    one, two = jnp.zeros(2), jnp.ones(2)
    with pytest.raises(errors.UnflattenError) as info:
        model.apply({"d/k": one, "d": {"k": two}})
    assert str(info.value) == (
        'Variable d/k appears twice in the parameter tree, once under a key with "/" and '
        "once nested; keep one of them."
    )


def test_leaf_that_is_not_an_array():
    model = sx.transform(lambda: sx.get_variable("w", [2]))
    with pytest.raises(errors.ParamTypeError) as info:
        model.apply({"w": [1.0, 2.0]})
    assert str(info.value) == (
        "Variable w in the params given to apply is a list, not an array; every leaf must be "
        "a jax.Array or numpy array (jax.tree_util.tree_map(jnp.asarray, tree) converts one)."
    )


def test_key_that_is_not_a_string():
    model = sx.transform(lambda: sx.get_variable("w", [2]))
    with pytest.raises(errors.UnflattenError, match=r"key 1 is a int; every key must be a str"):
        model.apply({1: jnp.zeros(2)})


# --- init and apply have their own signatures --------------------------------------------


def model_fn(x, is_training):
    w = sx.get_variable("w", [2])
    return x * w if is_training else x + w


def test_init_and_apply_have_their_own_signatures():
    model = sx.transform(model_fn)
    assert list(inspect.signature(model.init).parameters) == ["rng", "args", "kwargs"]
    assert list(inspect.signature(model.apply).parameters) == ["params", "args", "rng", "kwargs"]
    assert model.apply.__qualname__ == "model_fn.apply"
    stateful = sx.transform_with_state(model_fn)
    assert list(inspect.signature(stateful.apply).parameters)[:3] == ["params", "state", "args"]


def test_jit_static_argnums_and_argnames_address_apply():
    model = sx.transform(model_fn)
    x = jnp.ones(2)
    params = model.init(jax.random.key(0), x, True)
    by_position = jax.jit(model.apply, static_argnums=2)
    np.testing.assert_array_equal(by_position(params, x, True), params["w"])
    np.testing.assert_array_equal(by_position(params, x, False), 1 + params["w"])
    by_name = jax.jit(model.apply, static_argnames="is_training")
    np.testing.assert_array_equal(by_name(params, x, is_training=False), 1 + params["w"])
    init = jax.jit(model.init, static_argnums=2)
    np.testing.assert_array_equal(init(jax.random.key(0), x, True)["w"], params["w"])


def test_apply_of_a_stateful_model_without_state():
    model = sx.transform_with_state(lambda x: x + sx.get_variable("w", [2]))
    params, _ = model.init(jax.random.key(0), jnp.ones(2))
    with pytest.raises(errors.TreeArgumentError) as info:
        model.apply(params, jnp.ones(2))
    assert str(info.value) == (
        "apply's state must be a parameter tree (a Mapping, such as init returns), got "
        "ArrayImpl; the apply of sx.transform_with_state takes apply(params, state, *args) "
        "and returns (out, new_state): out, state = model.apply(params, state, x)."
    )


# --- TF1's scope and template rules ------------------------------------------------------


def test_leaving_scopes_out_of_order_raises():
    def f():
        outer = sx.variable_scope("outer")
        inner = sx.variable_scope("inner")
        outer.__enter__()
        inner.__enter__()
        with pytest.raises(RuntimeError) as info:
            outer.__exit__(None, None, None)
        assert str(info.value) == (
            "Improper nesting of variable_scope: leaving 'outer' while 'outer/inner' inside "
            "it is still open; leave scopes in the reverse order of entering them (nest them "
            "as with-blocks)."
        )
        return sx.get_variable_scope().name

    assert sx.transform(f).apply({}) == "outer/inner"


def test_make_template_without_a_name():
    with pytest.raises(errors.ScopeArgumentError) as info:
        sx.make_template(bad(None), lambda: None)
    assert isinstance(info.value, ValueError)
    assert str(info.value).startswith("make_template got name_=None; pass a non-empty string")
    with pytest.raises(errors.TemplateArgumentError, match="a int; pass a non-empty string"):
        sx.make_template(bad(3), lambda: None)


def test_failed_first_template_call_is_not_its_first_call():
    def dense(x):
        return x @ sx.get_variable("w", [2, 2])

    layer = sx.make_template("dense", dense)

    def f(x):
        with pytest.raises(TypeError):
            layer(x, "an argument too many")
        return layer(x), layer(x)

    model = sx.transform(f)
    x = jnp.ones((1, 2))
    params = model.init(jax.random.key(0), x)
    assert list(sx.flatten(params)) == ["dense/w"]
    a, b = model.apply(params, x)
    np.testing.assert_array_equal(a, b)


# --- errors travel -------------------------------------------------------------------------


def _every_error_class():
    found, todo = [], [errors.ScopaxError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_every_error_class_is_public():
    public = [
        getattr(errors, name) for name in dir(errors) if isinstance(getattr(errors, name), type)
    ]
    assert [cls for cls in _every_error_class() if cls not in public] == []


def test_errors_survive_pickle():
    caught = []
    for fn in (
        lambda: sx.get_variable("w", [-1]),
        lambda: (sx.get_variable("w", [1]), sx.get_variable("w", [1])),
        lambda: sx.get_variable("w", bad("34")),
    ):
        with pytest.raises(errors.ScopaxError) as info:
            init_with(fn)
        caught.append(info.value)
    caught.append(errors.CheckpointMismatchError("ckpt", [("a", "missing")], "fix it"))
    caught.append(errors.MissingParamError("m/w", "state", "params"))
    for error in caught:
        back = pickle.loads(pickle.dumps(error))
        assert type(back) is type(error)
        assert str(back) == str(error)
        assert back.__dict__ == error.__dict__


def test_nn_initializers_are_not_tested_for_truth():
    # `bias_initializer or default` raised on an array ("truth value ... ambiguous") and
    # replaced a falsy 0.0 with the default; 0.0 now reaches get_variable, which (as TF1)
    # refuses a scalar constant for a shaped variable.
    def f(x):
        return sx.layers.dense(x, 3, bias_initializer=jnp.ones(3))

    params = sx.transform(f).init(jax.random.key(0), jnp.ones((1, 2)))
    np.testing.assert_array_equal(params["dense/bias"], jnp.ones(3))
    with pytest.raises(errors.InitializerShapeError, match="dense/bias"):
        sx.transform(lambda x: sx.layers.dense(x, 3, bias_initializer=0.0)).init(
            jax.random.key(0), jnp.ones((1, 2))
        )


def test_state_found_in_params_says_which_tree():
    def f(x):
        mean = sx.get_variable(
            "bn/moving_mean", [2], trainable=False, initializer=sx.zeros_initializer()
        )
        sx.assign(mean, mean + x)
        return x - mean

    model = sx.transform_with_state(f)
    params, state = model.init(jax.random.key(0), jnp.ones(2))
    merged = {**sx.flatten(params), **sx.flatten(state)}  # the whole checkpoint in params
    with pytest.raises(errors.MissingParamError) as info:
        model.apply(merged, {}, jnp.ones(2))
    assert str(info.value) == (
        "Variable bn/moving_mean is not in the state given to apply; it is in the params "
        "instead, but this function gets it with trainable=False (state). Move it to the "
        "state tree (init returns (params, state) already split), or change its trainable= "
        "argument."
    )
    # Held in both trees: read from state, and assignable, as it was created.
    _, new_state = model.apply(merged, state, jnp.ones(2))
    np.testing.assert_array_equal(new_state["bn/moving_mean"], jnp.ones(2))
