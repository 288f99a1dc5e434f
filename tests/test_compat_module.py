"""``scopax.compat.v1`` as a module: graph-only names refused with the fix, TF1 names it
lacks answered with the closest it has, dtypes, lazy namespaces and the no-op graph
ideas (``device``, ``control_dependencies``, ``no_op``, ``group``)."""

import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scopax as sx
import scopax.compat.v1 as tf
from scopax import errors
from scopax.compat.v1 import _graph_only


@pytest.mark.parametrize("name", sorted(_graph_only.GRAPH_ONLY))
def test_graph_only_names_raise_with_what_to_do_instead(name):
    with pytest.raises(errors.GraphOnlyError) as raised:
        getattr(tf, name)
    message = str(raised.value)
    assert message.startswith(f"tf.{name} needs a TF1 graph and session")
    assert _graph_only.GRAPH_ONLY[name] in message
    assert isinstance(raised.value, ValueError)
    assert name not in dir(tf)


@pytest.mark.parametrize("name", sorted(_graph_only.TRAIN_GRAPH_ONLY))
def test_tf_train_refuses_its_graph_only_names(name):
    with pytest.raises(errors.GraphOnlyError) as raised:
        getattr(tf.train, name)
    assert str(raised.value).startswith(f"tf.train.{name} needs a TF1 graph and session")
    assert _graph_only.TRAIN_GRAPH_ONLY[name] in str(raised.value)


def test_tf_train_forwards_to_scopax_train():
    import scopax.train

    assert tf.train.AdamOptimizer is scopax.train.AdamOptimizer
    assert set(dir(tf.train)) == set(dir(scopax.train))
    with pytest.raises(AttributeError, match="no attribute 'NoSuchOptimizer'"):
        tf.train.NoSuchOptimizer  # noqa: B018


def test_graph_only_answers_point_to_scopax():
    def answer(name):
        with pytest.raises(errors.GraphOnlyError) as raised:
            getattr(tf, name)
        return str(raised.value)

    assert "model.init" in answer("global_variables_initializer")
    assert "model.apply" in answer("Session")
    assert "argument" in answer("placeholder")
    assert "sx.flatten" in answer("get_collection")
    assert "sx.summary" in answer("summary")
    assert "jax.pure_callback" in answer("py_func")


@pytest.mark.parametrize("name", sorted(_graph_only.ELSEWHERE))
def test_names_offered_elsewhere_are_attribute_errors_saying_where(name):
    with pytest.raises(AttributeError, match=r"scopax\.compat\.v1 has no") as raised:
        getattr(tf, name)
    assert _graph_only.ELSEWHERE[name] in str(raised.value)
    assert not hasattr(tf, name)


def test_an_unknown_name_suggests_the_closest_supported_one():
    with pytest.raises(AttributeError, match=r"closest name it has is tf\.reduce_sum"):
        tf.reduce_summ  # pyright: ignore[reportAttributeAccessIssue]  # noqa: B018
    with pytest.raises(AttributeError, match=r"closest name it has is tf\.get_variable"):
        tf.get_varaible  # pyright: ignore[reportAttributeAccessIssue]  # noqa: B018
    with pytest.raises(AttributeError, match=r"has no 'xyzzy_qq'") as raised:
        tf.xyzzy_qq  # pyright: ignore[reportAttributeAccessIssue]  # noqa: B018
    assert "closest" not in str(raised.value)


def test_dtypes_are_numpy_dtypes():
    assert tf.float32 == jnp.float32 and tf.int64 == np.int64 and tf.bool == np.bool_
    assert tf.bfloat16 == jnp.bfloat16 and tf.float16 == np.float16 and tf.uint8 == np.uint8
    assert (tf.int8, tf.int32, tf.float64) == (np.int8, np.int32, np.float64)
    assert tf.as_dtype("float32") is not None and tf.as_dtype(tf.int32) == np.int32
    assert tf.zeros([2], tf.bfloat16).dtype == jnp.bfloat16
    for bad in ("string", str, "no_such_type"):
        with pytest.raises(errors.OpArgumentError, match=r"as_dtype got type_value="):
            tf.as_dtype(bad)


def test_namespaces_resolve_lazily_to_scopax_modules():
    import scopax.nn

    assert tf.nn is scopax.nn
    assert "nn" in dir(tf) and "train" in dir(tf)


def test_a_missing_namespace_says_so(monkeypatch):
    monkeypatch.delitem(tf.__dict__, "train", raising=False)
    monkeypatch.setitem(sys.modules, "scopax.train", None)  # as if it did not exist
    with pytest.raises(AttributeError, match=r"tf\.train is scopax\.train.*optax"):
        tf.train  # noqa: B018


def test_graph_ideas_that_are_no_ops_here():
    def f(x):
        with tf.device("/gpu:0"), tf.control_dependencies([x]):
            y = tf.identity(x * 2)
        assert tf.no_op(name="nothing") is None
        assert tf.group(x, y, name="train_op") is None
        return y

    assert float(jax.jit(sx.transform(f).apply)({}, 1.0)) == 2.0
    with tf.control_dependencies(None), tf.device(None):
        pass
    with pytest.raises(errors.OpArgumentError, match=r"device"), tf.device(3):
        pass
    with pytest.raises(errors.OpArgumentError, match=r"control_inputs"):
        with tf.control_dependencies(jnp.ones(2)):
            pass
    with pytest.raises(errors.OpArgumentError, match=r"only name="):
        tf.group(control_inputs=[])


def test_assert_less_equal_checks_what_is_known_at_trace_time():
    # BERT's embedding_postprocessor: tf.assert_less_equal(seq_length, max_position_embeddings)
    # under tf.control_dependencies, with seq_length a static Python int.
    def f(x):
        with tf.control_dependencies([tf.assert_less_equal(x.shape[1], 4)]):
            y = tf.identity(x)
        assert tf.assert_less_equal(tf.reduce_sum(x), 0.0) is None  # traced: not checked
        return y

    model = sx.transform(f)
    assert float(jax.jit(model.apply)({}, jnp.ones((1, 4))).sum()) == 4.0
    with pytest.raises(ValueError, match=r"^Condition x <= y did not hold: x = 5, y = 4"):
        model.apply({}, jnp.ones((1, 5)))
    with pytest.raises(ValueError, match=r"too long Condition x <= y"):
        tf.assert_less_equal(np.array([1, 5]), 4, message="too long")


def test_slice_refuses_what_lies_outside_the_input():
    x = jnp.zeros((3, 4))
    assert tf.slice(x, [1, 0], [2, -1]).shape == (2, 4)
    for begin, size in [([2, 0], [2, 4]), ([4, 0], [-1, -1]), ([0, -1], [1, 1]), ([0], [1])]:
        with pytest.raises(errors.OpArgumentError, match=r"slice"):
            tf.slice(x, begin, size)


def test_public_names_have_runnable_examples():
    for name in tf.__all__:
        value = getattr(tf, name)
        if callable(value) and not isinstance(value, np.dtype) and name != "AUTO_REUSE":
            assert ">>>" in (value.__doc__ or ""), name


def test_name_arguments_name_the_traced_ops():
    def f(x):
        y = tf.add(x, 1.0, name="plus_one")
        return tf.reduce_sum(tf.matmul(y, y, name="gram"), name="total")

    text = jax.jit(f).lower(jnp.ones((2, 2))).as_text(debug_info=True)
    for name in ("plus_one/add", "gram/dot_general", "total/reduce_sum"):
        assert name in text, name
    assert float(jax.jit(f)(jnp.ones((2, 2)))) == 32.0
