"""Regenerates tests/fixtures/tf_reuse/ with real TensorFlow: TF1 models built with reuse=True.

TensorFlow is never a dependency of scopax: only this script needs it, in a throwaway venv:

    python3.11 -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu tf-keras
    TF_USE_LEGACY_KERAS=1 /tmp/tfvenv/bin/python scripts/make_tf_reuse_fixtures.py

TF1 builds a model's evaluation copies in the same graph, after the training model, under
``variable_scope(..., reuse=True)``; scopax runs each copy as its own transform on the
training model's tree. This script builds two such graphs, in TF1 style (graph mode,
``tf.compat.v1`` with v2 behaviour off), sets every variable to seeded random values,
runs each model on fixed inputs and saves the variables with ``tf.train.Saver``:

- ``ptb/``: a small PTB-style word LM as TF's PTB tutorial structures it: the training
  model under ``variable_scope("Model", reuse=None, initializer=...)`` (embedding, input
  dropout and a two-layer ``MultiRNNCell`` of ``BasicLSTMCell`` with output dropout,
  unrolled over ``num_steps`` in scope ``RNN``, ``softmax_w``/``softmax_b``, the summed
  sequence loss, its learning rate as a non-trainable variable and a
  ``GradientDescentOptimizer`` train op on gradients clipped by their global norm); then
  the valid model and the test model (``batch_size=1``, ``num_steps=1``) under
  ``variable_scope("Model", reuse=True)``. ``ptb.npz`` holds the inputs, each model's cost
  and final state (valid over two chunks and test over five one-step calls, each fed the
  previous final state, as the tutorial's ``run_epoch`` does), and the variables after
  one train step. The dropout keep probability is a ``placeholder_with_default``, fed
  1.0 for the outputs compared here, since TF's dropout masks cannot be reproduced.
- ``gan/``: a tiny DCGAN-style generator and discriminator (``tf.layers`` batch
  normalization), the discriminator applied to real and to generated images
  (``reuse=True``), and a ``sampler`` that re-enters ``generator`` with
  ``scope.reuse_variables()`` and normalizes with the moving statistics
  (``training=False``). ``gan.npz`` holds ``z``, the real images, every output, and the
  generator's moving statistics after one training-mode update.

``ptb.json`` and ``gan.json`` hold the configuration and the name and shape of every
variable, in TF's order. The checkpoints are saved with relative paths, so the
``checkpoint`` files name no directory of this machine.

TF 2.x has no ``tf.contrib``: ``contrib.seq2seq.sequence_loss`` is written out of TF ops as
TF 1.15 computed it, and, as TF 1.15's fused batch norm did, epsilon is raised to 1.001e-5.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf  # pyright: ignore[reportMissingModuleSource]

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "tf_reuse"
v1 = tf.compat.v1

PTB = {
    "init_scale": 0.1,
    "learning_rate": 0.5,
    "max_grad_norm": 1.0,
    "num_layers": 2,
    "num_steps": 5,
    "hidden_size": 8,
    "keep_prob": 0.5,
    "batch_size": 3,
    "vocab_size": 50,
    "global_step": 3,  # The step the checkpoint is saved at.
}
GAN = {"batch_size": 2, "z_dim": 4, "image_size": 8, "gf_dim": 4, "df_dim": 4}
# TF 1.15's fused batch norm raised epsilon to at least this, as scopax does.
BN_EPSILON = max(1e-5, 1.001e-5)


def sequence_loss(logits: Any, targets: Any, weights: Any) -> Any:
    """TF 1.15's ``contrib.seq2seq.sequence_loss`` with ``average_across_timesteps=False``,
    ``average_across_batch=True``: the loss of each time step, averaged over the batch."""
    classes = logits.shape[2]
    crossent = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.reshape(targets, [-1]), logits=tf.reshape(logits, [-1, classes])
    )
    crossent = tf.reshape(crossent * tf.reshape(weights, [-1]), tf.shape(logits)[0:2])
    return tf.math.divide_no_nan(tf.reduce_sum(crossent, axis=[0]), tf.reduce_sum(weights, [0]))


class PTBModel:
    """The tutorial's ``PTBModel`` structure, with the input tensors passed in."""

    def __init__(self, is_training: bool, config: dict, input_data: Any, targets: Any):
        batch_size, num_steps = input_data.shape
        size, vocab_size = config["hidden_size"], config["vocab_size"]
        self.keep_prob = None
        dropout = is_training and config["keep_prob"] < 1
        if dropout:
            self.keep_prob = v1.placeholder_with_default(config["keep_prob"], [], "keep_prob")

        embedding = v1.get_variable("embedding", [vocab_size, size], dtype=tf.float32)
        inputs = v1.nn.embedding_lookup(embedding, input_data)
        if dropout:
            inputs = v1.nn.dropout(inputs, keep_prob=self.keep_prob)

        def make_cell() -> Any:
            cell = v1.nn.rnn_cell.BasicLSTMCell(
                size, forget_bias=0.0, state_is_tuple=True, reuse=not is_training
            )
            if dropout:
                cell = v1.nn.rnn_cell.DropoutWrapper(cell, output_keep_prob=self.keep_prob)
            return cell

        cell = v1.nn.rnn_cell.MultiRNNCell(
            [make_cell() for _ in range(config["num_layers"])], state_is_tuple=True
        )
        self.initial_state = cell.zero_state(batch_size, tf.float32)
        state = self.initial_state
        outputs = []
        with v1.variable_scope("RNN"):
            for time_step in range(num_steps):
                if time_step > 0:
                    v1.get_variable_scope().reuse_variables()
                cell_output, state = cell(inputs[:, time_step, :], state)
                outputs.append(cell_output)
        output = tf.reshape(tf.concat(outputs, 1), [-1, size])
        softmax_w = v1.get_variable("softmax_w", [size, vocab_size], dtype=tf.float32)
        softmax_b = v1.get_variable("softmax_b", [vocab_size], dtype=tf.float32)
        logits = v1.nn.xw_plus_b(output, softmax_w, softmax_b)
        logits = tf.reshape(logits, [batch_size, num_steps, vocab_size])
        loss = sequence_loss(logits, targets, tf.ones([batch_size, num_steps], tf.float32))
        self.cost = tf.reduce_sum(loss)
        self.final_state = state
        if not is_training:
            return

        # The tutorial's tf.Variable(0.0, trainable=False) takes its name from the name
        # scope (Train/Model/Variable), which scopax's tf.Variable does not; get_variable
        # names it by the variable scope in both.
        self.lr = v1.get_variable(
            "learning_rate", [], initializer=v1.zeros_initializer(), trainable=False
        )
        tvars = v1.trainable_variables()
        grads, self.global_norm = tf.clip_by_global_norm(
            tf.gradients(self.cost, tvars), config["max_grad_norm"]
        )
        optimizer = v1.train.GradientDescentOptimizer(self.lr)
        self.train_op = optimizer.apply_gradients(
            zip(grads, tvars, strict=True), global_step=v1.train.get_or_create_global_step()
        )


def _state_arrays(prefix: str, state: Any) -> dict[str, np.ndarray]:
    out = {}
    for layer, (c, h) in enumerate(state):
        out[f"{prefix}_c{layer}"], out[f"{prefix}_h{layer}"] = c, h
    return out


def _feed_state(model: PTBModel, state: Any) -> dict[Any, np.ndarray]:
    feed = {}
    for (c, h), (c_value, h_value) in zip(model.initial_state, state, strict=True):
        feed[c], feed[h] = c_value, h_value
    return feed


def _randomize(sess: Any, rng: np.random.RandomState, skip: tuple[str, ...] = ()) -> None:
    """Every float variable to seeded values (moving variances positive)."""
    for var in v1.global_variables():
        name = var.op.name
        if name in skip or not var.dtype.base_dtype.is_floating:
            continue
        shape = var.shape.as_list()
        if name.endswith("moving_variance"):
            value = rng.uniform(0.5, 1.5, shape)
        else:
            value = rng.uniform(-0.3, 0.3, shape)
        var.load(value.astype(np.float32), sess)


def _variables() -> list[dict[str, Any]]:
    return [
        {"name": v.op.name, "shape": v.shape.as_list(), "trainable": v in v1.trainable_variables()}
        for v in v1.global_variables()
    ]


def _saver_save(sess: Any, name: str, step: int) -> str:
    out_dir = OUT / name
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    saver = v1.train.Saver(save_relative_paths=True)
    return saver.save(sess, str(out_dir / "model.ckpt"), global_step=step, write_meta_graph=False)


def _global_step_name_in_a_scope() -> str:
    """Where TF puts the global step when the model's scope asks for it."""
    with tf.Graph().as_default(), v1.variable_scope("Model"):
        return v1.train.get_or_create_global_step().op.name


def make_ptb() -> None:
    config = PTB
    eval_config = {**config, "batch_size": 1, "num_steps": 1}
    rng = np.random.RandomState(0)
    batch, steps, vocab = config["batch_size"], config["num_steps"], config["vocab_size"]
    data = {
        "train_x": rng.randint(0, vocab, (batch, steps)),
        "train_y": rng.randint(0, vocab, (batch, steps)),
        "valid_x": rng.randint(0, vocab, (2, batch, steps)),  # two chunks, fed one by one
        "valid_y": rng.randint(0, vocab, (2, batch, steps)),
        "test_x": rng.randint(0, vocab, (5, 1, 1)),  # five one-step calls
        "test_y": rng.randint(0, vocab, (5, 1, 1)),
    }
    data = {k: v.astype(np.int32) for k, v in data.items()}
    graph = tf.Graph()
    with graph.as_default():
        v1.set_random_seed(0)
        initializer = v1.random_uniform_initializer(-config["init_scale"], config["init_scale"])
        placeholders = {k: v1.placeholder(tf.int32, v.shape[-2:], name=k) for k, v in data.items()}
        # The global step at the root, before the models: see _global_step_name_in_a_scope.
        global_step = v1.train.get_or_create_global_step()
        with v1.name_scope("Train"):
            with v1.variable_scope("Model", reuse=None, initializer=initializer):
                m = PTBModel(True, config, placeholders["train_x"], placeholders["train_y"])
        with v1.name_scope("Valid"):
            with v1.variable_scope("Model", reuse=True, initializer=initializer):
                mvalid = PTBModel(False, config, placeholders["valid_x"], placeholders["valid_y"])
        with v1.name_scope("Test"):
            with v1.variable_scope("Model", reuse=True, initializer=initializer):
                mtest = PTBModel(False, eval_config, placeholders["test_x"], placeholders["test_y"])
        variables = _variables()
        trainable = list(v1.trainable_variables())
        with v1.Session(graph=graph) as sess:
            sess.run(v1.global_variables_initializer())
            _randomize(sess, rng, skip=(m.lr.op.name,))
            m.lr.load(config["learning_rate"], sess)
            global_step.load(config["global_step"], sess)
            out: dict[str, np.ndarray] = dict(data)
            feed: dict[Any, Any] = {placeholders[k]: data[k] for k in ("train_x", "train_y")}
            feed[m.keep_prob] = 1.0
            cost, state, norm = sess.run([m.cost, m.final_state, m.global_norm], feed)
            out |= {"train_cost": cost, "train_global_norm": norm} | _state_arrays("train", state)

            state = sess.run(mvalid.initial_state)
            for chunk in range(2):
                feed = _feed_state(mvalid, state)
                feed[placeholders["valid_x"]] = data["valid_x"][chunk]
                feed[placeholders["valid_y"]] = data["valid_y"][chunk]
                cost, state = sess.run([mvalid.cost, mvalid.final_state], feed)
                out[f"valid_cost{chunk}"] = cost
                out |= _state_arrays(f"valid{chunk}", state)

            state = sess.run(mtest.initial_state)
            costs = []
            for step in range(5):
                feed = _feed_state(mtest, state)
                feed[placeholders["test_x"]] = data["test_x"][step]
                feed[placeholders["test_y"]] = data["test_y"][step]
                cost, state = sess.run([mtest.cost, mtest.final_state], feed)
                costs.append(cost)
            out["test_costs"] = np.array(costs, np.float32)
            out |= _state_arrays("test", state)

            prefix = _saver_save(sess, "ptb", config["global_step"])
            # One train step, as the tutorial's run_epoch runs m.train_op.
            feed: dict[Any, Any] = {placeholders[k]: data[k] for k in ("train_x", "train_y")}
            feed[m.keep_prob] = 1.0
            sess.run(m.train_op, feed)
            for var in trainable:
                out[f"after_step/{var.op.name}"] = sess.run(var)
            out["after_step/global_step"] = np.asarray(sess.run(global_step))
    np.savez_compressed(OUT / "ptb.npz", allow_pickle=False, **out)
    meta = {
        "config": config,
        "eval_config": eval_config,
        "checkpoint": Path(prefix).relative_to(OUT).as_posix(),
        "variables": variables,
        "global_step_name_in_a_scope": _global_step_name_in_a_scope(),
    }
    (OUT / "ptb.json").write_text(json.dumps(meta, indent=1) + "\n")


# DCGAN-style layers, as TF1 GAN code writes them with tf.get_variable.
def linear(x: Any, output_size: int, scope: str) -> Any:
    with v1.variable_scope(scope):
        matrix = v1.get_variable(
            "Matrix",
            [int(x.shape[1]), output_size],
            tf.float32,
            v1.random_normal_initializer(stddev=0.02),
        )
        bias = v1.get_variable("bias", [output_size], initializer=v1.constant_initializer(0.0))
        return tf.matmul(x, matrix) + bias


def conv2d(x: Any, output_dim: int, name: str) -> Any:
    with v1.variable_scope(name):
        w = v1.get_variable(
            "w",
            [3, 3, int(x.shape[-1]), output_dim],
            initializer=v1.truncated_normal_initializer(stddev=0.02),
        )
        conv = tf.nn.conv2d(x, w, strides=[1, 2, 2, 1], padding="SAME")
        biases = v1.get_variable("biases", [output_dim], initializer=v1.constant_initializer(0.0))
        return tf.nn.bias_add(conv, biases)


def deconv2d(x: Any, output_shape: list[int], name: str) -> Any:
    with v1.variable_scope(name):
        w = v1.get_variable(
            "w",
            [3, 3, output_shape[-1], int(x.shape[-1])],
            initializer=v1.random_normal_initializer(stddev=0.02),
        )
        deconv = v1.nn.conv2d_transpose(x, w, output_shape=output_shape, strides=[1, 2, 2, 1])
        biases = v1.get_variable(
            "biases", [output_shape[-1]], initializer=v1.constant_initializer(0.0)
        )
        return tf.nn.bias_add(deconv, biases)


def batch_norm(x: Any, train: bool, name: str) -> Any:
    return v1.layers.batch_normalization(
        x, momentum=0.9, epsilon=BN_EPSILON, training=train, name=name
    )


def lrelu(x: Any, leak: float = 0.2) -> Any:
    return tf.maximum(x, leak * x)


def _generator_body(z: Any, train: bool) -> Any:
    batch, gf = GAN["batch_size"], GAN["gf_dim"]
    h0 = tf.reshape(linear(z, gf * 2 * 2 * 2, "g_h0_lin"), [-1, 2, 2, gf * 2])
    h0 = tf.nn.relu(batch_norm(h0, train, "g_bn0"))
    h1 = tf.nn.relu(batch_norm(deconv2d(h0, [batch, 4, 4, gf], "g_h1"), train, "g_bn1"))
    return tf.nn.tanh(deconv2d(h1, [batch, 8, 8, 1], "g_h2"))


def generator(z: Any) -> Any:
    with v1.variable_scope("generator"):
        return _generator_body(z, train=True)


def sampler(z: Any) -> Any:
    with v1.variable_scope("generator") as scope:
        scope.reuse_variables()
        return _generator_body(z, train=False)


def discriminator(image: Any, reuse: bool = False) -> tuple[Any, Any]:
    df = GAN["df_dim"]
    with v1.variable_scope("discriminator") as scope:
        if reuse:
            scope.reuse_variables()
        h0 = lrelu(conv2d(image, df, "d_h0_conv"))
        h1 = lrelu(batch_norm(conv2d(h0, df * 2, "d_h1_conv"), True, "d_bn1"))
        h2 = linear(tf.reshape(h1, [GAN["batch_size"], -1]), 1, "d_h2_lin")
        return tf.nn.sigmoid(h2), h2


def make_gan() -> None:
    rng = np.random.RandomState(1)
    size = GAN["image_size"]
    z_value = rng.uniform(-1, 1, (GAN["batch_size"], GAN["z_dim"])).astype(np.float32)
    images_value = rng.uniform(-1, 1, (GAN["batch_size"], size, size, 1)).astype(np.float32)
    graph = tf.Graph()
    with graph.as_default():
        z = v1.placeholder(tf.float32, z_value.shape, name="z")
        images = v1.placeholder(tf.float32, images_value.shape, name="images")
        g = generator(z)
        d, d_logits = discriminator(images)
        sample = sampler(z)
        d_, d_logits_ = discriminator(g, reuse=True)
        generator_updates = v1.get_collection(v1.GraphKeys.UPDATE_OPS, scope="generator")
        variables = _variables()
        g_moving = [
            v
            for v in v1.global_variables()
            if v.op.name.startswith("generator/") and "moving" in v.op.name
        ]
        with v1.Session(graph=graph) as sess:
            sess.run(v1.global_variables_initializer())
            _randomize(sess, rng)
            prefix = _saver_save(sess, "gan", 0)
            feed = {z: z_value, images: images_value}
            fetched = sess.run(
                {
                    "G": g,
                    "D": d,
                    "D_logits": d_logits,
                    "sampler": sample,
                    "D_": d_,
                    "D_logits_": d_logits_,
                },
                feed,
            )
            sess.run(generator_updates, feed)  # the generator's moving statistics, once
            moved = {f"after_update/{v.op.name}": sess.run(v) for v in g_moving}
    out = {"z": z_value, "images": images_value, **fetched, **moved}
    np.savez_compressed(OUT / "gan.npz", allow_pickle=False, **out)
    meta = {
        "config": GAN,
        "checkpoint": Path(prefix).relative_to(OUT).as_posix(),
        "variables": variables,
        "generator_update_ops": len(generator_updates),
    }
    (OUT / "gan.json").write_text(json.dumps(meta, indent=1) + "\n")


def main() -> None:
    v1.disable_v2_behavior()
    OUT.mkdir(parents=True, exist_ok=True)
    make_ptb()
    make_gan()
    for path in sorted(OUT.rglob("*")):
        if path.is_file():
            print(path.relative_to(OUT.parent.parent.parent), path.stat().st_size)


if __name__ == "__main__":
    main()
