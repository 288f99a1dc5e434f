"""The parameter tree: immutable nested Mapping, full-name indexing, pytree, repr."""

from collections.abc import Mapping

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scopax as sx


@pytest.fixture
def tree():
    return sx.unflatten(
        {
            "image_filters/conv1/weights": jnp.ones((5, 5, 3, 8)),
            "image_filters/conv1/biases": jnp.zeros(8),
            "image_filters/conv2/weights": jnp.ones((5, 5, 8, 8)),
            "step": jnp.zeros((), jnp.int32),
        }
    )


def test_nested_and_full_name_indexing(tree):
    assert isinstance(tree, Mapping)
    assert tree["image_filters"]["conv1"]["weights"].shape == (5, 5, 3, 8)
    assert tree["image_filters/conv1/weights"] is tree["image_filters"]["conv1"]["weights"]
    assert tree["image_filters/conv1"]["biases"].shape == (8,)
    assert "image_filters/conv2/weights" in tree
    assert "image_filters/conv2/biases" not in tree
    assert list(tree) == ["image_filters", "step"]
    with pytest.raises(KeyError):
        tree["image_filters/conv3"]


def test_mutation_raises_type_error(tree):
    with pytest.raises(TypeError, match="immutable"):
        tree["step"] = 1
    with pytest.raises(TypeError, match="immutable"):
        del tree["step"]
    with pytest.raises(TypeError, match="immutable"):
        tree.foo = 1
    with pytest.raises(sx.errors.ParamsImmutableError):
        tree["image_filters"]["conv1"]["biases"] = 1


def test_pytree_keeps_type_and_key_paths_spell_names(tree):
    doubled = jax.tree_util.tree_map(lambda x: x * 2, tree)
    assert type(doubled) is sx.Params
    assert type(doubled["image_filters"]) is sx.Params
    chex.assert_trees_all_close(doubled["image_filters/conv1/weights"], 2 * jnp.ones((5, 5, 3, 8)))
    paths = [
        "/".join(k.key for k in path) for path, _ in jax.tree_util.tree_flatten_with_path(tree)[0]
    ]
    assert paths == list(sx.flatten(tree))
    assert jax.tree_util.tree_structure(tree) == jax.tree_util.tree_structure(doubled)


def test_flatten_unflatten_round_trip(tree):
    flat = sx.flatten(tree)
    assert list(flat) == [
        "image_filters/conv1/biases",
        "image_filters/conv1/weights",
        "image_filters/conv2/weights",
        "step",
    ]
    again = sx.unflatten(flat)
    chex.assert_trees_all_equal(again, tree)
    assert sx.flatten({"a": {"b": 1}, "c": 2}) == {"a/b": 1, "c": 2}
    # flatten returns a fresh dict: editing it never changes the tree.
    flat["step"] = 5
    assert tree["step"] == 0


def test_params_from_nested_dict():
    tree = sx.Params({"a": {"b": jnp.ones(2)}})
    assert sx.flatten(tree) == {"a/b": tree["a/b"]}


@pytest.mark.parametrize(
    "flat, message",
    [
        ({"a": 1, "a/b": 2}, "Variable a/b conflicts with a: a name cannot be both"),
        ({"a//b": 1}, "Variable name 'a//b' is not a full name"),
        ({"": 1}, "Variable name '' is not a full name"),
    ],
)
def test_unflatten_rejects_bad_names(flat, message):
    with pytest.raises(sx.errors.UnflattenError, match=message):
        sx.unflatten(flat)


def test_repr_shows_names_shapes_dtypes_not_numbers(tree):
    text = repr(tree)
    assert text == (
        "Params(4 variables, 2,209 parameters:\n"
        "  image_filters/conv1/biases   float32[8]\n"
        "  image_filters/conv1/weights  float32[5,5,3,8]\n"
        "  image_filters/conv2/weights  float32[5,5,8,8]\n"
        "  step                         int32[]\n"
        ")"
    )
    assert repr(sx.unflatten({})) == "Params({})"
    shapes = jax.tree_util.tree_map(lambda x: x.shape, tree)
    assert "parameters" not in repr(shapes)


def test_works_with_numpy_leaves_and_pickle(tree):
    import pickle

    as_numpy = jax.tree_util.tree_map(np.asarray, tree)
    back = pickle.loads(pickle.dumps(as_numpy))
    assert type(back) is sx.Params
    chex.assert_trees_all_equal(back, as_numpy)
