"""TF1's eval models and GAN sampler, written as TF1 writes them, run on TF's own tree.

TF1 builds the PTB tutorial's valid and test models after the training model, under
``variable_scope("Model", reuse=True)``, and a DCGAN's sampler re-enters ``generator``
with ``scope.reuse_variables()``. Here each is its own transform, and all of them run on
the one tree restored from the checkpoint that TF saved for the same graphs
(scripts/make_tf_reuse_fixtures.py, tests/fixtures/tf_reuse/), giving TF's costs, final
states, train step and images to 1e-5, under TF's variable names.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import scopax as sx
import scopax.compat.v1 as tf

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "tf_reuse"
PTB_META = json.loads((FIXTURES / "ptb.json").read_text())
GAN_META = json.loads((FIXTURES / "gan.json").read_text())
CONFIG: dict[str, Any] = PTB_META["config"]
EVAL_CONFIG: dict[str, Any] = PTB_META["eval_config"]
GAN: dict[str, Any] = GAN_META["config"]
KEY = jax.random.key(0)


def assert_close(actual: Any, desired: Any, name: str = "") -> None:
    """TF's value to 1e-5, absolute or relative."""
    np.testing.assert_allclose(actual, desired, rtol=1e-5, atol=1e-5, err_msg=name)


@pytest.fixture(autouse=True)
def _default_rank_promotion():
    # TF1 code adds biases with `+`, broadcasting as TF does: user code, run with JAX's
    # default, as tests/test_examples.py runs the examples.
    with jax.numpy_rank_promotion("allow"):
        yield


# --- The PTB tutorial's model, TF1 style -------------------------------------------------


def sequence_loss_per_step(logits: Any, targets: Any) -> Any:
    batch_size, num_steps = targets.shape
    return tf.contrib.seq2seq.sequence_loss(
        logits,
        targets,
        tf.ones([batch_size, num_steps], dtype=tf.float32),
        average_across_timesteps=False,
        average_across_batch=True,
    )


class PTBModel:
    """The tutorial's ``PTBModel``: ``cost`` and ``final_state`` of one chunk of text."""

    def __init__(
        self,
        is_training: bool,
        config: dict[str, Any],
        input_data: Any,
        targets: Any,
        initial_state: Any = None,
        keep_prob: Any = None,
    ):
        batch_size, num_steps = input_data.shape
        size, vocab_size = config["hidden_size"], config["vocab_size"]
        dropout = is_training and config["keep_prob"] < 1

        embedding = tf.get_variable("embedding", [vocab_size, size], dtype=tf.float32)
        inputs = tf.nn.embedding_lookup(embedding, input_data)
        if dropout:
            inputs = tf.nn.dropout(inputs, keep_prob=keep_prob)

        def make_cell() -> Any:
            cell = tf.nn.rnn_cell.BasicLSTMCell(
                size, forget_bias=0.0, state_is_tuple=True, reuse=not is_training
            )
            if dropout:
                cell = tf.nn.rnn_cell.DropoutWrapper(cell, output_keep_prob=keep_prob)
            return cell

        cell = tf.nn.rnn_cell.MultiRNNCell(
            [make_cell() for _ in range(config["num_layers"])], state_is_tuple=True
        )
        # TF1 fed the previous chunk's final state into the zero state's tensors.
        if initial_state is None:
            initial_state = cell.zero_state(batch_size, tf.float32)
        state = initial_state
        outputs = []
        with tf.variable_scope("RNN"):
            for time_step in range(num_steps):
                if time_step > 0:
                    tf.get_variable_scope().reuse_variables()
                cell_output, state = cell(inputs[:, time_step, :], state)
                outputs.append(cell_output)
        output = tf.reshape(tf.concat(outputs, 1), [-1, size])
        softmax_w = tf.get_variable("softmax_w", [size, vocab_size], dtype=tf.float32)
        softmax_b = tf.get_variable("softmax_b", [vocab_size], dtype=tf.float32)
        logits = tf.nn.xw_plus_b(output, softmax_w, softmax_b)
        logits = tf.reshape(logits, [batch_size, num_steps, vocab_size])
        self.cost = tf.reduce_sum(sequence_loss_per_step(logits, targets))
        self.final_state = state
        if is_training:
            self.lr = tf.get_variable(
                "learning_rate", [], initializer=tf.zeros_initializer(), trainable=False
            )


def _initializer() -> Any:
    return tf.random_uniform_initializer(-CONFIG["init_scale"], CONFIG["init_scale"])


def train_model(input_data: Any, targets: Any, keep_prob: Any) -> tuple[Any, Any]:
    global_step = tf.train.get_or_create_global_step()  # At the root, as the TF graph's.
    with tf.variable_scope("Model", reuse=None, initializer=_initializer()):
        m = PTBModel(True, CONFIG, input_data, targets, keep_prob=keep_prob)
    tf.assign(global_step, global_step + 1)  # What apply_gradients(global_step=) did.
    return m.cost, m.final_state


def eval_model(config: dict[str, Any]) -> Any:
    def model(input_data: Any, targets: Any, initial_state: Any = None) -> tuple[Any, Any]:
        with tf.variable_scope("Model", reuse=True, initializer=_initializer()):
            m = PTBModel(False, config, input_data, targets, initial_state)
        return m.cost, m.final_state

    return model


train_net = sx.transform_with_state(train_model)
valid_net = sx.transform(eval_model(CONFIG))
test_net = sx.transform(eval_model(EVAL_CONFIG))


@jax.jit
def train_step(params: Any, state: Any, x: Any, y: Any, keep_prob: Any, rng: Any) -> Any:
    """The tutorial's ``sess.run([cost, final_state, train_op])``: clipped gradients, SGD
    at the rate held in the model. Returns the new params and state, the cost, the final
    LSTM state and the gradients' global norm."""

    def cost_fn(params: Any) -> tuple[jax.Array, Any]:
        (cost, final_state), new_state = train_net.apply(params, state, x, y, keep_prob, rng=rng)
        return cost, (final_state, new_state)

    (cost, (final_state, new_state)), grads = jax.value_and_grad(cost_fn, has_aux=True)(params)
    leaves, treedef = jax.tree.flatten(grads)
    clipped, global_norm = tf.clip_by_global_norm(leaves, CONFIG["max_grad_norm"])
    optimizer = tf.train.GradientDescentOptimizer(state["Model/learning_rate"])
    updates, _ = optimizer.update(jax.tree.unflatten(treedef, clipped), optimizer.init(params))
    return optax.apply_updates(params, updates), new_state, cost, final_state, global_norm


eval_valid_apply = jax.jit(valid_net.apply)
eval_test_apply = jax.jit(test_net.apply)


def _zero_state(batch_size: int) -> tuple[Any, ...]:
    zeros = jnp.zeros([batch_size, CONFIG["hidden_size"]], jnp.float32)
    return tuple(tf.nn.rnn_cell.LSTMStateTuple(zeros, zeros) for _ in range(CONFIG["num_layers"]))


def _tf_state(expected: Any, prefix: str) -> tuple[Any, ...]:
    return tuple(
        tf.nn.rnn_cell.LSTMStateTuple(expected[f"{prefix}_c{i}"], expected[f"{prefix}_h{i}"])
        for i in range(CONFIG["num_layers"])
    )


def _assert_state(state: Any, expected: Any, prefix: str) -> None:
    for layer, want in zip(state, _tf_state(expected, prefix), strict=True):
        assert_close(layer.c, want.c)
        assert_close(layer.h, want.h)


@pytest.fixture(scope="module")
def ptb() -> Any:
    return np.load(FIXTURES / "ptb.npz")


@pytest.fixture(scope="module")
def ptb_tree(ptb) -> tuple[sx.Params, sx.Params]:
    keep = jnp.float32(1.0)
    shapes = jax.eval_shape(train_net.init, KEY, ptb["train_x"], ptb["train_y"], keep)
    return sx.restore_from_tf(shapes, FIXTURES / "ptb")


def test_ptb_train_model_has_tfs_names_and_shapes(ptb_tree):
    params, state = ptb_tree
    ours = {k: list(v.shape) for k, v in {**sx.flatten(params), **sx.flatten(state)}.items()}
    assert ours == {v["name"]: v["shape"] for v in PTB_META["variables"]}
    trainable = {v["name"] for v in PTB_META["variables"] if v["trainable"]}
    assert set(sx.flatten(params)) == trainable
    assert int(state["global_step"]) == CONFIG["global_step"]
    assert float(state["Model/learning_rate"]) == CONFIG["learning_rate"]


def test_ptb_eval_models_cannot_create_what_they_reuse(ptb):
    for net, x, y in (
        (valid_net, ptb["valid_x"][0], ptb["valid_y"][0]),
        (test_net, ptb["test_x"][0], ptb["test_y"][0]),
    ):
        # TF1's rule holds at init: under reuse=True there is nothing to reuse yet.
        with pytest.raises(sx.errors.VariableNotFoundError) as info:
            net.init(KEY, x, y)
        assert info.value.name == "Model/embedding"


def test_ptb_valid_model_runs_on_the_train_tree_feeding_its_state(ptb, ptb_tree):
    params, _ = ptb_tree
    state = _zero_state(CONFIG["batch_size"])
    for chunk in range(2):
        cost, state = eval_valid_apply(params, ptb["valid_x"][chunk], ptb["valid_y"][chunk], state)
        assert_close(cost, ptb[f"valid_cost{chunk}"])
        _assert_state(state, ptb, f"valid{chunk}")


def test_ptb_test_model_runs_one_word_at_a_time_on_the_train_tree(ptb, ptb_tree):
    params, _ = ptb_tree
    state, costs = _zero_state(1), []
    for step in range(5):
        cost, state = eval_test_apply(params, ptb["test_x"][step], ptb["test_y"][step], state)
        costs.append(cost)
    assert_close(np.array(costs), ptb["test_costs"])
    _assert_state(state, ptb, "test")


def test_ptb_train_model_gives_tfs_cost_final_state_and_clipped_sgd_step(ptb, ptb_tree):
    params, state = ptb_tree
    x, y, keep = ptb["train_x"], ptb["train_y"], jnp.float32(1.0)
    new_params, new_state, cost, final_state, norm = train_step(params, state, x, y, keep, KEY)
    assert_close(cost, ptb["train_cost"])
    _assert_state(final_state, ptb, "train")
    assert_close(norm, ptb["train_global_norm"])
    assert float(norm) > CONFIG["max_grad_norm"]  # The clipping took effect.
    for name, value in sx.flatten(new_params).items():
        assert_close(value, ptb[f"after_step/{name}"], name)
    assert int(new_state["global_step"]) == int(ptb["after_step/global_step"])


def test_ptb_dropout_is_in_the_train_model_only(ptb, ptb_tree):
    params, state = ptb_tree
    x, y = ptb["train_x"], ptb["train_y"]
    keep = jnp.float32(CONFIG["keep_prob"])
    costs = [float(train_step(params, state, x, y, keep, jax.random.key(s))[2]) for s in (1, 2, 1)]
    assert costs[0] == costs[2] != costs[1]  # Masks follow the rng.
    assert float(ptb["train_cost"]) not in costs
    # The eval models draw no masks: they run without an rng.
    cost, _ = eval_valid_apply(params, ptb["valid_x"][0], ptb["valid_y"][0], _zero_state(3))
    assert_close(cost, ptb["valid_cost0"])


def test_global_step_asked_for_in_a_scope_is_named_as_tf_names_it():
    def model() -> Any:
        with tf.variable_scope("Model"):
            return tf.train.get_or_create_global_step()

    _, state = sx.transform_with_state(model).init(KEY)
    assert list(sx.flatten(state)) == [PTB_META["global_step_name_in_a_scope"]]


# --- A DCGAN's generator, discriminator and sampler, TF1 style ----------------------------


def linear(x: Any, output_size: int, scope: str) -> Any:
    with tf.variable_scope(scope):
        matrix = tf.get_variable(
            "Matrix",
            [int(x.shape[1]), output_size],
            tf.float32,
            tf.random_normal_initializer(stddev=0.02),
        )
        bias = tf.get_variable("bias", [output_size], initializer=tf.constant_initializer(0.0))
        return tf.matmul(x, matrix) + bias


def conv2d(x: Any, output_dim: int, name: str) -> Any:
    with tf.variable_scope(name):
        w = tf.get_variable(
            "w",
            [3, 3, int(x.shape[-1]), output_dim],
            initializer=tf.truncated_normal_initializer(stddev=0.02),
        )
        conv = tf.nn.conv2d(x, w, strides=[1, 2, 2, 1], padding="SAME")
        biases = tf.get_variable("biases", [output_dim], initializer=tf.constant_initializer(0.0))
        return tf.nn.bias_add(conv, biases)


def deconv2d(x: Any, output_shape: list[int], name: str) -> Any:
    with tf.variable_scope(name):
        w = tf.get_variable(
            "w",
            [3, 3, output_shape[-1], int(x.shape[-1])],
            initializer=tf.random_normal_initializer(stddev=0.02),
        )
        deconv = tf.nn.conv2d_transpose(x, w, output_shape=output_shape, strides=[1, 2, 2, 1])
        biases = tf.get_variable(
            "biases", [output_shape[-1]], initializer=tf.constant_initializer(0.0)
        )
        return tf.nn.bias_add(deconv, biases)


def batch_norm(x: Any, train: bool, name: str) -> Any:
    return tf.layers.batch_normalization(x, momentum=0.9, epsilon=1e-5, training=train, name=name)


def lrelu(x: Any, leak: float = 0.2) -> Any:
    return tf.maximum(x, leak * x)


def _generator_body(z: Any, train: bool) -> Any:
    batch, gf = GAN["batch_size"], GAN["gf_dim"]
    h0 = tf.reshape(linear(z, gf * 2 * 2 * 2, "g_h0_lin"), [-1, 2, 2, gf * 2])
    h0 = tf.nn.relu(batch_norm(h0, train, "g_bn0"))
    h1 = tf.nn.relu(batch_norm(deconv2d(h0, [batch, 4, 4, gf], "g_h1"), train, "g_bn1"))
    return tf.nn.tanh(deconv2d(h1, [batch, 8, 8, 1], "g_h2"))


def generator(z: Any) -> Any:
    with tf.variable_scope("generator"):
        return _generator_body(z, train=True)


def sampler(z: Any) -> Any:
    with tf.variable_scope("generator") as scope:
        scope.reuse_variables()
        return _generator_body(z, train=False)


def discriminator(image: Any, reuse: bool = False) -> tuple[Any, Any]:
    with tf.variable_scope("discriminator") as scope:
        if reuse:
            scope.reuse_variables()
        h0 = lrelu(conv2d(image, GAN["df_dim"], "d_h0_conv"))
        h1 = lrelu(batch_norm(conv2d(h0, GAN["df_dim"] * 2, "d_h1_conv"), True, "d_bn1"))
        h2 = linear(tf.reshape(h1, [GAN["batch_size"], -1]), 1, "d_h2_lin")
        return tf.nn.sigmoid(h2), h2


def gan(z: Any, images: Any) -> dict[str, Any]:
    g = generator(z)
    d, d_logits = discriminator(images)
    d_, d_logits_ = discriminator(g, reuse=True)
    return {"G": g, "D": d, "D_logits": d_logits, "D_": d_, "D_logits_": d_logits_}


gan_net = sx.transform_with_state(gan)
sampler_net = sx.transform_with_state(sampler)


@pytest.fixture(scope="module")
def gan_data() -> Any:
    return np.load(FIXTURES / "gan.npz")


@pytest.fixture(scope="module")
def gan_tree(gan_data) -> tuple[sx.Params, sx.Params]:
    shapes = jax.eval_shape(gan_net.init, KEY, gan_data["z"], gan_data["images"])
    return sx.restore_from_tf(shapes, FIXTURES / "gan")


def test_gan_has_tfs_names_trainable_and_moving_statistics(gan_tree):
    params, state = gan_tree
    ours = {k: list(v.shape) for k, v in {**sx.flatten(params), **sx.flatten(state)}.items()}
    assert ours == {v["name"]: v["shape"] for v in GAN_META["variables"]}
    assert set(sx.flatten(state)) == {
        v["name"] for v in GAN_META["variables"] if not v["trainable"]
    }


def test_gan_training_outputs_and_generator_updates_match_tf(gan_data, gan_tree):
    params, state = gan_tree
    out, new_state = jax.jit(gan_net.apply)(params, state, gan_data["z"], gan_data["images"])
    for name, value in out.items():
        assert_close(value, gan_data[name], name)
    moved = {k.removeprefix("after_update/") for k in gan_data.files if "after_update/" in k}
    assert len(moved) == GAN_META["generator_update_ops"] == 4
    for name in moved:
        want = gan_data[f"after_update/{name}"]
        assert_close(new_state[name], want, name)
        assert not np.allclose(state[name], want)  # It did move.


def test_gan_sampler_is_its_own_transform_reading_the_moving_statistics(gan_data, gan_tree):
    params, state = gan_tree
    images, new_state = jax.jit(sampler_net.apply)(params, state, gan_data["z"])
    assert_close(images, gan_data["sampler"])
    for name, value in sx.flatten(state).items():  # Inference assigns nothing.
        np.testing.assert_array_equal(new_state[name], value)
    # It needs only what the generator made: the discriminator's variables are unused.
    generator_only = {k: v for k, v in sx.flatten(params).items() if k.startswith("generator/")}
    again, _ = sampler_net.apply(generator_only, state, gan_data["z"])
    assert_close(again, gan_data["sampler"])
