"""restore_from_tf fills params and state at once, and restores nothing silently."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scopax as sx
from scopax import errors


def net(x):
    with sx.variable_scope("net"):
        w = sx.get_variable("w", [3, 2])
        mean = sx.get_variable(
            "moving_mean", [2], initializer=sx.zeros_initializer(), trainable=False
        )
        step = sx.get_variable("global_step", [], jnp.int64, trainable=False)
    return x @ w - mean[None], step


@pytest.fixture
def model_and_ckpt(tmp_path):
    model = sx.transform_with_state(net)
    params, state = model.init(jax.random.key(0), jnp.ones((1, 3)))
    saved = {
        "net/w": np.arange(6, dtype=np.float32).reshape(3, 2),
        "net/moving_mean": np.array([0.5, -0.5], np.float32),
        "net/global_step": np.int64(7),
        "net/w/Adam": np.zeros((3, 2), np.float32),  # a slot: skipped
    }
    prefix = sx.save_tf_checkpoint(str(tmp_path / "model.ckpt-7"), saved)
    return params, state, prefix, saved


def test_restores_params_and_state_at_once(model_and_ckpt):
    params, state, prefix, saved = model_and_ckpt
    new_params, new_state = sx.restore_from_tf((params, state), prefix)
    assert isinstance(new_params, sx.Params) and isinstance(new_state, sx.Params)
    assert list(sx.flatten(new_params)) == ["net/w"]
    assert sorted(sx.flatten(new_state)) == ["net/global_step", "net/moving_mean"]
    np.testing.assert_array_equal(new_params["net/w"], saved["net/w"])
    np.testing.assert_array_equal(new_state["net/moving_mean"], saved["net/moving_mean"])
    assert int(new_state["net/global_step"]) == 7


def test_an_empty_map_restores_nothing_only_when_asked(model_and_ckpt):
    params, state, prefix, _ = model_and_ckpt
    with pytest.raises(errors.CheckpointMismatchError) as info:
        sx.restore_from_tf((params, state), prefix, {})
    assert "assignment_map is empty, so nothing would be restored" in str(info.value)
    same = sx.restore_from_tf(params, prefix, {}, strict=False)
    np.testing.assert_array_equal(same["net/w"], params["net/w"])


def test_a_variable_the_checkpoint_lacks(model_and_ckpt, tmp_path):
    params, state, _, saved = model_and_ckpt
    partial = sx.save_tf_checkpoint(str(tmp_path / "partial"), {"net/w": saved["net/w"]})
    with pytest.raises(errors.CheckpointMismatchError) as info:
        sx.restore_from_tf((params, state), partial)
    assert info.value.names == ["net/global_step", "net/moving_mean"]
    new_params, new_state = sx.restore_from_tf((params, state), partial, strict=False)
    np.testing.assert_array_equal(new_params["net/w"], saved["net/w"])
    np.testing.assert_array_equal(new_state["net/moving_mean"], state["net/moving_mean"])


def test_a_map_entry_that_covers_nothing(model_and_ckpt):
    params, _, prefix, _ = model_and_ckpt
    with pytest.raises(errors.CheckpointMismatchError, match="params has none"):
        sx.restore_from_tf(params, prefix, {"net/": "net/", "other/": "head/"})
    restored = sx.restore_from_tf(params, prefix, {"net/": "net/", "other/": "head/"}, strict=False)
    np.testing.assert_array_equal(restored["net/w"], np.arange(6).reshape(3, 2))


def test_a_variable_in_both_trees(model_and_ckpt):
    params, state, prefix, _ = model_and_ckpt
    with pytest.raises(errors.CheckpointTreeError, match="is in both params and state"):
        sx.restore_from_tf((params, {**sx.flatten(state), "net/w": params["net/w"]}), prefix)
