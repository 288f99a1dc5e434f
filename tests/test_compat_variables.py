"""``scopax.compat.v1``'s variable API: TF1's signatures and naming on scopax's core,
and the "Sharing variables" tutorial's code, run verbatim with ``tf = scopax.compat.v1``."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scopax as sx
import scopax.compat.v1 as tf
from scopax import errors

KEY = jax.random.key(0)


def names(tree):
    return sorted(sx.flatten(tree))


def test_the_variable_api_is_scopax_s():
    assert tf.AUTO_REUSE is sx.AUTO_REUSE
    assert tf.get_variable_scope is sx.get_variable_scope
    assert tf.make_template is sx.make_template
    assert tf.glorot_uniform_initializer is sx.glorot_uniform_initializer
    assert tf.initializers.truncated_normal is sx.truncated_normal_initializer
    assert tf.initializers.zeros is sx.zeros_initializer


def test_get_variable_takes_tf1_s_positional_order():
    def f():
        # TF1: name, shape, dtype, initializer, regularizer, trainable.
        w = tf.get_variable("w", [2], tf.float32, tf.ones_initializer(), lambda v: 3 * v.sum())
        n = tf.get_variable("n", [], tf.int32, None, None, False, caching_device="/cpu:0")
        return w, n, sx.get_regularization_loss()

    model = sx.transform_with_state(f)
    params, state = model.init(KEY)
    (_, n, loss), _ = model.apply(params, state)
    assert names(params) == ["w"] and names(state) == ["n"]
    assert float(loss) == 6.0 and n.dtype == jnp.int32


def test_get_variable_custom_getter_wraps_one_call():
    seen = []

    def getter(next_getter, name, *args, **kwargs):
        seen.append(name)
        return next_getter(name, *args, **kwargs) * 2

    def f():
        with tf.variable_scope("s"):
            a = tf.get_variable("a", [], initializer=1.0, custom_getter=getter)
            b = tf.get_variable("b", [], initializer=1.0)
        return a, b

    model = sx.transform(f)
    assert model.apply(model.init(KEY)) == (2.0, 1.0)
    assert seen == ["s/a", "s/a"]


def test_variable_scope_takes_tf1_s_arguments():
    def f():
        with tf.variable_scope("a", None, None, tf.constant_initializer(0.5), dtype=tf.float16,
                               use_resource=True, auxiliary_name_scope=False):  # fmt: skip
            return tf.get_variable("w", [2])

    params = sx.transform(f).init(KEY)
    assert params["a/w"].dtype == jnp.float16 and (params["a/w"] == 0.5).all()


def test_name_scope_takes_a_default_name():
    def f(x):
        with tf.name_scope(None, "block", [x]) as scope:
            return scope

    assert sx.transform(f).apply({}, 1.0) == "block/"


def test_variable_names_like_tf1_in_the_current_variable_scope():
    def f():
        with tf.variable_scope("net"):
            a = tf.Variable(tf.zeros([2]))
            b = tf.Variable([1.0, 2.0])
            c = tf.Variable(lambda: tf.ones([3]), name="c")
            d = tf.Variable(0.5, name="c", dtype=tf.float16)
        with tf.variable_scope("net", reuse=True):
            e = tf.Variable(1)  # TF1's Variable ignores reuse: always a new variable
        return a, b, c, d, e

    model = sx.transform(f)
    params = model.init(KEY)
    assert names(params) == [
        "net/Variable", "net/Variable_1", "net/Variable_2", "net/c", "net/c_1"
    ]  # fmt: skip
    assert params["net/c_1"].dtype == jnp.float16 and params["net/Variable_2"].dtype == jnp.int32
    assert (params["net/Variable_1"] == jnp.array([1.0, 2.0])).all()
    trained = jax.tree.map(lambda v: v + 1, params)
    a, _, c, _, e = jax.jit(model.apply)(trained)
    assert (a == 1).all() and (c == 2).all() and e == 2  # apply reads the tree, not the values


def test_non_trainable_variable_is_state_and_assign_updates_it():
    def f(x):
        step = tf.Variable(0, trainable=False, name="global_step")
        total = tf.get_variable("total", [], trainable=False, initializer=tf.zeros_initializer())
        step = tf.assign_add(step, 1)
        total = tf.assign(total, total + tf.reduce_sum(x))
        tf.assign_sub(total, 0.5)
        return step

    model = sx.transform_with_state(f)
    params, state = model.init(KEY, jnp.ones(3))
    assert names(params) == [] and names(state) == ["global_step", "total"]
    step, state = model.apply(params, state, jnp.ones(3))
    step, state = model.apply(params, state, jnp.ones(3))
    assert int(step) == 2 and float(state["total"]) == 5.0
    assert state["global_step"].dtype == jnp.int32 and not state["global_step"].weak_type
    with pytest.raises(errors.NonTrainableInTransformError):
        sx.transform(lambda: tf.Variable(0, trainable=False)).init(KEY)


@pytest.mark.parametrize(
    ("call", "error", "fragment"),
    [
        (lambda: tf.get_variable("w", [1], collections=["x"]), errors.GraphOnlyError, "flatten"),
        (lambda: tf.get_variable("w", [2], partitioner=len), errors.OpArgumentError, "sharding="),
        (lambda: tf.get_variable("w", [1], constraint=abs), errors.OpArgumentError, "optax"),
        (lambda: tf.variable_scope("s", partitioner=len), errors.OpArgumentError, "sharding="),
        (lambda: tf.Variable(), errors.OpArgumentError, "initial value"),
        (lambda: tf.Variable([1.0], shape=[2]), errors.OpArgumentError, "shape (1,)"),
        (lambda: tf.Variable(1.0, variable_def={}), errors.GraphOnlyError, "tf.Variable"),
    ],
)
def test_what_the_variable_api_refuses(call, error, fragment):
    with pytest.raises(error) as raised:
        sx.transform(call).init(KEY)
    assert fragment in str(raised.value)


def test_tf_initializers_namespace():
    w = tf.initializers.he_normal()(KEY, (400, 50))
    # Truncated at two of the untruncated normal's stddevs, which is std / 0.8796.
    std = (2 / 400) ** 0.5
    assert abs(float(w.std()) - std) < 0.002 and abs(w).max() <= 2 * std / 0.87962566
    u = tf.initializers.lecun_uniform()(KEY, (300, 50))
    assert abs(u).max() <= (3 / 300) ** 0.5
    with pytest.raises(errors.GraphOnlyError, match=r"model\.init"):
        tf.initializers.global_variables()  # pyright: ignore[reportAttributeAccessIssue]
    with pytest.raises(AttributeError, match=r"tf\.initializers\.glorot_uniform"):
        tf.initializers.glorot_unifrom  # pyright: ignore[reportAttributeAccessIssue]  # noqa: B018


def conv_relu(input, kernel_shape, bias_shape):
    # The tutorial's code, verbatim.
    # Create variable named "weights".
    weights = tf.get_variable("weights", kernel_shape,
        initializer=tf.random_normal_initializer())  # fmt: skip
    # Create variable named "biases".
    biases = tf.get_variable("biases", bias_shape,
        initializer=tf.constant_initializer(0.0))  # fmt: skip
    conv = tf.nn.conv2d(input, weights,
        strides=[1, 1, 1, 1], padding='SAME')  # fmt: skip
    return tf.nn.relu(conv + biases)


def my_image_filter(input_images):
    with tf.variable_scope("conv1"):
        # Variables created here will be named "conv1/weights", "conv1/biases".
        relu1 = conv_relu(input_images, [5, 5, 32, 32], [32])
    with tf.variable_scope("conv2"):
        # Variables created here will be named "conv2/weights", "conv2/biases".
        return conv_relu(relu1, [5, 5, 32, 32], [32])


def test_the_sharing_variables_tutorial_runs_verbatim():
    def two_images(image1, image2):
        with tf.variable_scope("image_filters") as scope:
            result1 = my_image_filter(image1)
            scope.reuse_variables()
            result2 = my_image_filter(image2)
        return result1, result2

    image1 = jax.random.normal(jax.random.key(1), (1, 6, 6, 32))
    image2 = jax.random.normal(jax.random.key(2), (1, 6, 6, 32))
    model = sx.transform(two_images)
    # `conv + biases` broadcasts by rank, as TF1 code does (the unit tests run strict).
    with jax.numpy_rank_promotion("allow"):
        params = model.init(KEY, image1, image2)
        r1, r2 = jax.jit(model.apply)(params, image1, image2)
    assert names(params) == [
        "image_filters/conv1/biases", "image_filters/conv1/weights",
        "image_filters/conv2/biases", "image_filters/conv2/weights",
    ]  # fmt: skip
    p = sx.flatten(params)

    def reference(x):
        for layer in ("conv1", "conv2"):
            y = jax.lax.conv_general_dilated(
                x, p[f"image_filters/{layer}/weights"], (1, 1), "SAME",
                dimension_numbers=("NHWC", "HWIO", "NHWC"),
            )  # fmt: skip
            x = jax.nn.relu(y + p[f"image_filters/{layer}/biases"][None, None, None])
        return x

    np.testing.assert_allclose(r1, reference(image1), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(r2, reference(image2), rtol=1e-4, atol=1e-4)
