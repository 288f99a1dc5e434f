"""scopax.train against real TensorFlow 1 (tf.compat.v1.train).

The fixtures in tests/fixtures/tf_train/ are written by scripts/make_tf_train_fixtures.py;
each table below builds, with scopax, the configuration the script builds with TF under
the same name.
"""

import json
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import scopax as sx
from scopax import train

FIXTURES = Path(__file__).parent / "fixtures" / "tf_train"
RTOL = ATOL = 1e-5


def _decayed(step):
    return train.exponential_decay(0.5, step, 2, 0.8, staircase=True)


def _poly(step):
    return train.polynomial_decay(0.1, step, 3, end_learning_rate=0.01, power=2.0)


OPTIMIZERS = {
    "sgd": lambda: train.GradientDescentOptimizer(0.3),
    "sgd_decay": lambda: train.GradientDescentOptimizer(_decayed),
    "momentum": lambda: train.MomentumOptimizer(0.1, 0.9),
    "momentum_nesterov": lambda: train.MomentumOptimizer(0.1, 0.9, use_nesterov=True),
    "adam_default": lambda: train.AdamOptimizer(),
    "adam_custom": lambda: train.AdamOptimizer(0.05, beta1=0.8, beta2=0.99, epsilon=1e-4),
    "adam_poly": lambda: train.AdamOptimizer(_poly),
    "adagrad": lambda: train.AdagradOptimizer(0.1),
    "adagrad_init": lambda: train.AdagradOptimizer(0.2, initial_accumulator_value=0.5),
    "rmsprop": lambda: train.RMSPropOptimizer(0.01),
    "rmsprop_momentum": lambda: train.RMSPropOptimizer(0.01, momentum=0.9),
    "rmsprop_centered": lambda: train.RMSPropOptimizer(
        0.01, decay=0.8, momentum=0.5, epsilon=1e-6, centered=True
    ),
    "adadelta": lambda: train.AdadeltaOptimizer(1.0),
    "adadelta_custom": lambda: train.AdadeltaOptimizer(0.5, rho=0.9, epsilon=1e-6),
}

SCHEDULES = {
    "exponential": lambda s: train.exponential_decay(0.1, s, 7, 0.5),
    "exponential_staircase": lambda s: train.exponential_decay(0.1, s, 7, 0.5, True),
    "piecewise": lambda s: train.piecewise_constant(s, [5, 10, 20], [1.0, 0.5, 0.1, 0.05]),
    "polynomial": lambda s: train.polynomial_decay(0.1, s, 20),
    "polynomial_power": lambda s: train.polynomial_decay(0.1, s, 12, 0.02, power=2.0),
    "polynomial_cycle": lambda s: train.polynomial_decay(0.1, s, 7, 0.01, 0.5, cycle=True),
    "cosine": lambda s: train.cosine_decay(0.1, s, 20),
    "cosine_alpha": lambda s: train.cosine_decay(0.2, s, 25, alpha=0.1),
    "inverse_time": lambda s: train.inverse_time_decay(0.1, s, 4, 0.5),
    "inverse_time_staircase": lambda s: train.inverse_time_decay(0.1, s, 4, 0.5, True),
}


def _loss(x, y):
    with sx.variable_scope("net"):
        w = sx.get_variable("w", [3, 2])
        b = sx.get_variable("b", [2])
    return jnp.mean(jnp.square(jnp.tanh(x @ w + b[None, :]) - y))


MODEL = sx.transform(_loss)


def _load(name):
    with np.load(FIXTURES / name) as data:
        return dict(data)


def _at(tf, prefix):
    return {k[len(prefix) :]: v for k, v in tf.items() if k.startswith(prefix)}


def _train_steps(opt: Any, params: Any, state: Any, x: Any, y: Any, steps: int) -> Any:
    @jax.jit
    def step(params, state):
        loss, grads = jax.value_and_grad(MODEL.apply)(params, x, y)
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state, loss

    for _ in range(steps):
        params, state, loss = step(params, state)
        yield params, state, loss


def _check_variables(ours, theirs, where):
    assert sorted(ours) == sorted(theirs), where
    for name, value in theirs.items():
        np.testing.assert_allclose(
            ours[name], value, rtol=RTOL, atol=ATOL, err_msg=f"{where}: {name}"
        )


@pytest.fixture(scope="module")
def tf_optimizers():
    return _load("optimizers.npz"), json.loads((FIXTURES / "optimizers.json").read_text())


@pytest.mark.parametrize("config", sorted(OPTIMIZERS))
def test_optimizer_matches_tf_for_five_steps(config, tf_optimizers):
    tf, listed = tf_optimizers
    opt = OPTIMIZERS[config]()
    params = sx.unflatten(_at(tf, "init/"))
    steps = _train_steps(opt, params, opt.init(params), tf["x"], tf["y"], 5)
    ours: dict[str, Any] = {}
    for k, (params, state, loss) in enumerate(steps, start=1):
        np.testing.assert_allclose(loss, tf[f"{config}/loss"][k - 1], rtol=RTOL, atol=ATOL)
        ours = {**sx.flatten(params), **train.slot_variables(opt, state, params)}
        _check_variables(ours, _at(tf, f"{config}/step{k}/"), f"{config} step {k}")
    # The names TF wrote in its checkpoint, as tf.train.list_variables read them back.
    assert sorted(ours) == listed[config]


def test_adam_resumes_a_tf_checkpoint():
    path = FIXTURES / "adam_ckpt"
    flat = sx.load_tf_checkpoint(path)
    tf = _load("adam_resume.npz")
    inputs = _load("optimizers.npz")
    opt = train.AdamOptimizer(0.05)
    params = sx.unflatten({name: flat[name] for name in ("net/w", "net/b")})
    without_step = {k: v for k, v in flat.items() if k != "global_step"}
    for source in (flat, without_step):  # The count from beta1_power when needed.
        state = train.restore_slots(opt, params, source)
        assert int(state.step) == 3
        steps = _train_steps(opt, params, state, inputs["x"], inputs["y"], 3)
        for k, (new, state, loss) in enumerate(steps, start=4):
            np.testing.assert_allclose(loss, tf["loss"][k - 4], rtol=RTOL, atol=ATOL)
            ours = {**sx.flatten(new), **train.slot_variables(opt, state, new)}
            _check_variables(ours, _at(tf, f"step{k}/"), f"resumed step {k}")


def test_list_variables_matches_tf():
    expected = json.loads((FIXTURES / "adam_ckpt_variables.json").read_text())
    assert train.list_variables(FIXTURES / "adam_ckpt") == [tuple(pair) for pair in expected]


def test_schedules_match_tf_at_steps_0_to_30():
    tf = _load("schedules.npz")
    assert sorted(tf) == sorted(SCHEDULES)
    steps = jnp.arange(31)
    for name, schedule in SCHEDULES.items():
        eager = np.array([schedule(s) for s in range(31)])
        traced = jax.jit(jax.vmap(schedule))(steps)  # global_step traced, as in a train step
        assert eager.dtype == tf[name].dtype, name
        np.testing.assert_allclose(eager, tf[name], rtol=1e-6, atol=1e-7, err_msg=name)
        np.testing.assert_allclose(traced, tf[name], rtol=1e-6, atol=1e-7, err_msg=name)


@pytest.mark.parametrize(
    ("config", "ema", "counted"),
    [
        ("plain", train.ExponentialMovingAverage(0.9), False),
        ("num_updates", train.ExponentialMovingAverage(0.999), True),
    ],
)
def test_moving_average_matches_tf(config, ema, counted):
    tf = _load("ema.npz")
    names = json.loads((FIXTURES / "ema.json").read_text())[config]
    assert {name: ema.average_name(name) for name in names} == names
    averages = ema.init(sx.unflatten(_at(tf, "init/")))
    apply = jax.jit(ema.apply)
    for k in range(1, 6):
        values = sx.unflatten(_at(tf, f"values{k}/"))
        # TF read num_updates (a counter bumped after each apply) as k - 1.
        averages = apply(values, averages, k - 1) if counted else apply(values, averages)
        _check_variables(ema.named_averages(averages), _at(tf, f"{config}/step{k}/"), config)
