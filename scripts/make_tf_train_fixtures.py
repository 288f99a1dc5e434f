"""Regenerates tests/fixtures/tf_train/ with real TensorFlow's ``tf.compat.v1.train``.

TensorFlow is never a dependency of scopax: only this script needs it, in a throwaway venv:

    python3.11 -m venv /tmp/tfenv && /tmp/tfenv/bin/pip install tensorflow-cpu tf-keras
    TF_USE_LEGACY_KERAS=1 /tmp/tfenv/bin/python scripts/make_tf_train_fixtures.py

It writes, for tests/test_train*.py to compare scopax.train with:

- ``optimizers.npz``: one small model (``net/w`` [3, 2], ``net/b`` [2]; loss
  ``mean((tanh(x @ w + b) - y) ** 2)`` on fixed ``x``, ``y``) trained five steps by each
  optimizer configuration below with ``minimize(loss, global_step=...)``. Keys are
  ``<config>/init/<var>``, ``<config>/loss`` (the loss before each step, shape [5]) and
  ``<config>/step<k>/<name>`` for every global variable after step k (params, slots,
  ``beta1_power``..., ``global_step``), by the names TF gives them.
- ``optimizers.json``: per configuration, the names ``tf.train.list_variables`` finds in a
  checkpoint saved after the five steps (the names TF really writes).
- ``schedules.npz``: every learning-rate schedule case below at global steps 0 to 30.
- ``ema.npz`` / ``ema.json``: ``ExponentialMovingAverage`` with and without
  ``num_updates`` over five assignments of new values, and the averages' names.
- ``adam_ckpt/``: a checkpoint written by ``tf.train.Saver`` after three Adam steps,
  ``adam_ckpt_variables.json``: what ``tf.train.list_variables`` lists in it, and
  ``adam_resume.npz``: the three steps TF took after it (params, slots, loss).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf  # pyright: ignore[reportMissingModuleSource]

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "tf_train"
v1 = tf.compat.v1
STEPS = 5

_RNG = np.random.RandomState(0)
X = _RNG.randn(4, 3).astype(np.float32)
Y = _RNG.randn(4, 2).astype(np.float32)
W0 = (0.5 * _RNG.randn(3, 2)).astype(np.float32)
B0 = np.array([0.1, -0.2], np.float32)


def _schedule_lr(step: Any) -> Any:
    return v1.train.exponential_decay(0.5, step, 2, 0.8, staircase=True)


def _poly_lr(step: Any) -> Any:
    return v1.train.polynomial_decay(0.1, step, 3, end_learning_rate=0.01, power=2.0)


# Each configuration: a function of the global step returning the TF optimizer. The tests
# build the same configurations with scopax.train under the same names.
OPTIMIZERS = {
    "sgd": lambda s: v1.train.GradientDescentOptimizer(0.3),
    "sgd_decay": lambda s: v1.train.GradientDescentOptimizer(_schedule_lr(s)),
    "momentum": lambda s: v1.train.MomentumOptimizer(0.1, 0.9),
    "momentum_nesterov": lambda s: v1.train.MomentumOptimizer(0.1, 0.9, use_nesterov=True),
    "adam_default": lambda s: v1.train.AdamOptimizer(),
    "adam_custom": lambda s: v1.train.AdamOptimizer(0.05, beta1=0.8, beta2=0.99, epsilon=1e-4),
    "adam_poly": lambda s: v1.train.AdamOptimizer(_poly_lr(s)),
    "adagrad": lambda s: v1.train.AdagradOptimizer(0.1),
    "adagrad_init": lambda s: v1.train.AdagradOptimizer(0.2, initial_accumulator_value=0.5),
    "rmsprop": lambda s: v1.train.RMSPropOptimizer(0.01),
    "rmsprop_momentum": lambda s: v1.train.RMSPropOptimizer(0.01, momentum=0.9),
    "rmsprop_centered": lambda s: v1.train.RMSPropOptimizer(
        0.01, decay=0.8, momentum=0.5, epsilon=1e-6, centered=True
    ),
    "adadelta": lambda s: v1.train.AdadeltaOptimizer(1.0),
    "adadelta_custom": lambda s: v1.train.AdadeltaOptimizer(0.5, rho=0.9, epsilon=1e-6),
}

SCHEDULES = {
    "exponential": lambda s: v1.train.exponential_decay(0.1, s, 7, 0.5),
    "exponential_staircase": lambda s: v1.train.exponential_decay(0.1, s, 7, 0.5, True),
    "piecewise": lambda s: v1.train.piecewise_constant(s, [5, 10, 20], [1.0, 0.5, 0.1, 0.05]),
    "polynomial": lambda s: v1.train.polynomial_decay(0.1, s, 20),
    "polynomial_power": lambda s: v1.train.polynomial_decay(0.1, s, 12, 0.02, power=2.0),
    "polynomial_cycle": lambda s: v1.train.polynomial_decay(0.1, s, 7, 0.01, 0.5, cycle=True),
    "cosine": lambda s: v1.train.cosine_decay(0.1, s, 20),
    "cosine_alpha": lambda s: v1.train.cosine_decay(0.2, s, 25, alpha=0.1),
    "inverse_time": lambda s: v1.train.inverse_time_decay(0.1, s, 4, 0.5),
    "inverse_time_staircase": lambda s: v1.train.inverse_time_decay(0.1, s, 4, 0.5, True),
}


def _model() -> tuple[Any, list[Any]]:
    with v1.variable_scope("net"):
        w = v1.get_variable("w", initializer=tf.constant(W0))
        b = v1.get_variable("b", initializer=tf.constant(B0))
    loss = tf.reduce_mean(tf.square(tf.tanh(tf.matmul(tf.constant(X), w) + b) - tf.constant(Y)))
    return loss, [w, b]


def _values(sess: Any) -> dict[str, np.ndarray]:
    variables = v1.global_variables()
    return {
        v.op.name: np.asarray(value)
        for v, value in zip(variables, sess.run(variables), strict=True)
    }


def make_optimizers(tmp: Path) -> None:
    arrays: dict[str, np.ndarray] = {"x": X, "y": Y, "init/net/w": W0, "init/net/b": B0}
    names: dict[str, list[str]] = {}
    for config, make in OPTIMIZERS.items():
        graph = tf.Graph()
        with graph.as_default():
            loss, _ = _model()
            step = v1.train.get_or_create_global_step()
            train = make(step).minimize(loss, global_step=step)
            saver = v1.train.Saver()
            with v1.Session(graph=graph) as sess:
                sess.run(v1.global_variables_initializer())
                losses = []
                for k in range(1, STEPS + 1):
                    losses.append(sess.run(loss))
                    sess.run(train)
                    for name, value in _values(sess).items():
                        arrays[f"{config}/step{k}/{name}"] = value
                arrays[f"{config}/loss"] = np.array(losses, np.float32)
                prefix = saver.save(sess, str(tmp / config / "model.ckpt"), write_meta_graph=False)
        listed = [name for name, _ in tf.train.list_variables(prefix)]
        head = f"{config}/step1/"
        assert set(listed) == {n[len(head) :] for n in arrays if n.startswith(head)}
        names[config] = listed
    np.savez_compressed(OUT / "optimizers.npz", allow_pickle=False, **arrays)
    (OUT / "optimizers.json").write_text(json.dumps(names, indent=1, sort_keys=True) + "\n")


def make_schedules() -> None:
    arrays: dict[str, np.ndarray] = {}
    graph = tf.Graph()
    with graph.as_default():
        step = v1.placeholder(tf.int64, [])
        ops = {name: make(step) for name, make in SCHEDULES.items()}
        with v1.Session(graph=graph) as sess:
            for name, op in ops.items():
                arrays[name] = np.array([sess.run(op, {step: s}) for s in range(31)])
    np.savez_compressed(OUT / "schedules.npz", allow_pickle=False, **arrays)


def make_ema() -> None:
    arrays: dict[str, np.ndarray] = {}
    names: dict[str, dict[str, str]] = {}
    updates = [(_RNG.randn(3, 2).astype(np.float32), _RNG.randn(2).astype(np.float32))]
    for _ in range(STEPS - 1):
        updates.append((_RNG.randn(3, 2).astype(np.float32), _RNG.randn(2).astype(np.float32)))
    for i, (w_new, b_new) in enumerate(updates):
        arrays[f"values{i + 1}/net/w"] = w_new
        arrays[f"values{i + 1}/net/b"] = b_new
    arrays["init/net/w"], arrays["init/net/b"] = W0, B0
    for config, decay, counted in (("plain", 0.9, False), ("num_updates", 0.999, True)):
        graph = tf.Graph()
        with graph.as_default():
            _, variables = _model()
            count = v1.Variable(0, dtype=tf.int64, trainable=False, name="count")
            ema = v1.train.ExponentialMovingAverage(decay, num_updates=count if counted else None)
            apply = ema.apply(variables)
            new = [v1.placeholder(tf.float32, v.shape) for v in variables]
            assign = [v1.assign(v, n) for v, n in zip(variables, new, strict=True)]
            bump = v1.assign_add(count, 1)
            names[config] = {v.op.name: ema.average_name(v) for v in variables}
            with v1.Session(graph=graph) as sess:
                sess.run(v1.global_variables_initializer())
                for k, values in enumerate(updates, start=1):
                    sess.run(assign, dict(zip(new, values, strict=True)))
                    sess.run(apply)  # With num_updates, n = count = k - 1 updates before.
                    sess.run(bump)
                    for v in variables:
                        average = ema.average(v)
                        arrays[f"{config}/step{k}/{average.op.name}"] = sess.run(average)
    np.savez_compressed(OUT / "ema.npz", allow_pickle=False, **arrays)
    (OUT / "ema.json").write_text(json.dumps(names, indent=1, sort_keys=True) + "\n")


def make_adam_resume() -> None:
    graph = tf.Graph()
    arrays: dict[str, np.ndarray] = {}
    with graph.as_default():
        loss, _ = _model()
        step = v1.train.get_or_create_global_step()
        train = v1.train.AdamOptimizer(0.05).minimize(loss, global_step=step)
        # Relative paths: the `checkpoint` file names no directory of this machine.
        saver = v1.train.Saver(save_relative_paths=True)
        out_dir = OUT / "adam_ckpt"
        shutil.rmtree(out_dir, ignore_errors=True)
        out_dir.mkdir(parents=True)
        with v1.Session(graph=graph) as sess:
            sess.run(v1.global_variables_initializer())
            for _ in range(3):
                sess.run(train)
            prefix = saver.save(
                sess, str(out_dir / "model.ckpt"), global_step=3, write_meta_graph=False
            )
            listed = [[name, list(shape)] for name, shape in tf.train.list_variables(prefix)]
            (OUT / "adam_ckpt_variables.json").write_text(json.dumps(listed) + "\n")
            losses = []
            for k in range(4, 7):
                losses.append(sess.run(loss))
                sess.run(train)
                for name, value in _values(sess).items():
                    arrays[f"step{k}/{name}"] = value
            arrays["loss"] = np.array(losses, np.float32)
    np.savez_compressed(OUT / "adam_resume.npz", allow_pickle=False, **arrays)


if __name__ == "__main__":
    v1.disable_v2_behavior()
    OUT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp())
    try:
        make_optimizers(work)
    finally:
        shutil.rmtree(work)
    make_schedules()
    make_ema()
    make_adam_resume()
    for f in sorted(OUT.rglob("*")):
        print(f.relative_to(OUT.parent.parent.parent), f.stat().st_size)
