"""Cells and RNN drivers against real TensorFlow 1 (tests/fixtures/tf_rnn, written by
scripts/make_tf_fixtures.py): the same variable names and shapes, and, given TF's
variable values, the same outputs and final states."""

import jax
import numpy as np
import pytest
from nn_testing import Fixture, fixtures, rnn_args, rnn_model

import scopax as sx

CASES = fixtures("tf_rnn")


def test_there_are_fixtures():
    assert len(CASES) >= 15


@pytest.fixture(params=CASES, ids=[p.stem for p in CASES], scope="module")
def fixture(request) -> Fixture:
    return Fixture(request.param)


def test_names_shapes_and_dtypes_equal_tf(fixture):
    model = rnn_model(fixture.spec)
    params = jax.eval_shape(model.init, jax.random.key(0), *rnn_args(fixture))
    ours = {name: (v.shape, v.dtype) for name, v in sx.flatten(params).items()}
    tf = {name: (v.shape, v.dtype) for name, v in fixture.variables.items()}
    assert sorted(ours) == sorted(tf)
    assert ours == tf


@pytest.mark.parametrize("driver", ["static", "dynamic"])
def test_outputs_and_final_state_equal_tf(fixture, driver):
    # Each fixture runs in both drivers: one parameter tree serves both.
    params = sx.unflatten(fixture.variables)
    outputs, state = jax.jit(rnn_model(fixture.spec, driver).apply)(params, *rnn_args(fixture))
    np.testing.assert_allclose(outputs, fixture["outputs"], atol=1e-5, rtol=1e-5)
    final = jax.tree.leaves(state)
    expected = fixture.leaves("final_state")
    assert len(final) == len(expected)
    for ours, tf in zip(final, expected, strict=True):
        np.testing.assert_allclose(ours, tf, atol=1e-5, rtol=1e-5)
