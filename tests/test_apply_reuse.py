"""Apply-time reuse: in ``apply``, a variable in the given tree exists.

TF1 builds an eval model after the training model in one graph, under
``variable_scope("Model", reuse=True)``; a GAN's sampler reuses the generator. In scopax
each is its own function, run by ``apply`` on the training model's tree.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scopax as sx
from scopax import errors


def generator(z):
    h = jnp.tanh(z @ sx.get_variable("g_h0/w", [4, 8]))
    return h @ sx.get_variable("g_out/w", [8, 2])


def train_model(z):
    with sx.variable_scope("generator"):
        return generator(z)


def sampler(z):
    # TF1 GAN code: the sampler is built with reuse=True after the generator.
    with sx.variable_scope("generator") as scope:
        scope.reuse_variables()
        return generator(z)


def eval_model(z):
    with sx.variable_scope("generator", reuse=True):
        return generator(z)


Z = jnp.ones((3, 4))


@pytest.mark.parametrize("reusing", [sampler, eval_model])
def test_reusing_function_runs_on_the_training_tree(reusing):
    params = sx.transform(train_model).init(jax.random.key(0), Z)
    expected = sx.transform(train_model).apply(params, Z)
    np.testing.assert_array_equal(sx.transform(reusing).apply(params, Z), expected)
    np.testing.assert_array_equal(jax.jit(sx.transform(reusing).apply)(params, Z), expected)


def test_init_keeps_tf1s_rule():
    with pytest.raises(errors.VariableNotFoundError) as info:
        sx.transform(eval_model).init(jax.random.key(0), Z)
    assert info.value.name == "generator/g_h0/w"


def test_apply_names_what_params_lack():
    params = sx.transform(train_model).init(jax.random.key(0), Z)
    partial = {k: v for k, v in sx.flatten(params).items() if k != "generator/g_out/w"}
    with pytest.raises(errors.MissingParamError) as info:
        sx.transform(eval_model).apply(partial, Z)
    assert info.value.name == "generator/g_out/w"


def test_reuse_in_apply_still_checks_shape_and_identity():
    params = sx.transform(train_model).init(jax.random.key(0), Z)

    def twice(z):
        with sx.variable_scope("generator", reuse=True):
            a = sx.get_variable("g_h0/w", [4, 8])
            b = sx.get_variable("g_h0/w")
            with pytest.raises(errors.ShapeMismatchError):
                sx.get_variable("g_h0/w", [8, 4])
        return a is b

    assert sx.transform(twice).apply(params, Z) is True
    with pytest.raises(errors.ParamShapeError):
        sx.transform(lambda: sx.get_variable("generator/g_h0/w", [4, 9])).apply(params)
