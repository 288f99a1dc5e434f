"""scopax.train's contract beyond TF's numbers: optax and jit, state names, bad inputs."""

import copy
import pickle
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import scopax as sx
from scopax import train
from scopax.errors import (
    NonTrainableInTransformError,
    NotInTransformError,
    SlotMismatchError,
    TrainArgumentError,
    TreeArgumentError,
)

PARAMS = sx.unflatten({"net/w": jnp.full((3, 2), 0.5), "net/b": jnp.array([0.1, -0.2])})
GRADS = jax.tree_util.tree_map(lambda p: jnp.cos(p) - 0.3, PARAMS)

EVERY_OPTIMIZER: list[Any] = [
    train.GradientDescentOptimizer(lambda s: train.cosine_decay(0.1, s, 10)),
    train.MomentumOptimizer(0.1, 0.9, use_nesterov=True),
    train.AdamOptimizer(0.01),
    train.AdagradOptimizer(0.1),
    train.RMSPropOptimizer(0.01, momentum=0.5, centered=True),
    train.RMSPropOptimizer(0.01),
    train.AdadeltaOptimizer(1.0),
]


def _run(opt: Any, params: Any, state: Any, steps: int) -> tuple[Any, Any]:
    step = jax.jit(opt.update)
    for _ in range(steps):
        updates, state = step(GRADS, state, params)
        params = optax.apply_updates(params, updates)
    return params, state


@pytest.mark.parametrize("opt", EVERY_OPTIMIZER, ids=lambda opt: type(opt).__name__)
def test_state_round_trips_through_tf_names(opt):
    assert isinstance(opt, optax.GradientTransformation)
    params, state = _run(opt, PARAMS, opt.init(PARAMS), 3)
    flat = train.slot_variables(opt, state, params)
    assert list(flat) == sorted(flat) and int(flat["global_step"]) == 3
    assert flat["global_step"].dtype == np.int64  # TF's dtype, which TF's Saver insists on
    restored = train.restore_slots(opt, params, {**flat, **sx.flatten(params)})
    assert jax.tree_util.tree_structure(restored) == jax.tree_util.tree_structure(state)
    for a, b in zip(
        jax.tree_util.tree_leaves(restored), jax.tree_util.tree_leaves(state), strict=True
    ):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    # The restored state continues exactly as the original one.
    np.testing.assert_array_equal(
        sx.flatten(_run(opt, params, restored, 1)[0])["net/w"],
        sx.flatten(_run(opt, params, state, 1)[0])["net/w"],
    )


def test_nested_dicts_and_optax_chain():
    params = {"net": {"w": jnp.ones(2)}}
    opt = optax.chain(optax.clip(0.5), train.MomentumOptimizer(0.1, 0.9))
    updates: Any
    updates, _ = opt.update({"net": {"w": jnp.array([2.0, -0.1])}}, opt.init(params))
    np.testing.assert_allclose(updates["net"]["w"], [-0.05, 0.01], rtol=1e-6)
    adam = train.AdamOptimizer(lr=0.1)
    state = adam.init(params)
    assert sorted(train.slot_variables(adam, state, params)) == [
        "beta1_power",
        "beta2_power",
        "global_step",
        "net/w/Adam",
        "net/w/Adam_1",
    ]


def test_names_and_dtypes():
    opt = train.MomentumOptimizer(0.1, 0.9, name="Mom")
    flat = train.slot_variables(opt, opt.init(PARAMS), PARAMS)
    assert sorted(flat) == ["global_step", "net/b/Mom", "net/w/Mom"]
    half = {"w": jnp.ones(2, jnp.bfloat16)}
    updates: Any
    state: Any
    updates, state = train.AdamOptimizer(0.1).update(half, train.AdamOptimizer().init(half))
    assert updates["w"].dtype == jnp.bfloat16 and state.m["w"].dtype == jnp.bfloat16
    assert state.beta1_power.dtype == jnp.bfloat16  # As TF: the first variable's dtype.


def test_optimizers_copy_and_pickle():
    opt = train.AdamOptimizer(0.01, beta2=0.9)
    for clone in (copy.deepcopy(opt), pickle.loads(pickle.dumps(opt))):
        assert type(clone) is train.AdamOptimizer
        assert clone.hyperparameters == opt.hyperparameters
        assert repr(clone) == repr(opt)


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (lambda: train.GradientDescentOptimizer(), "no learning rate"),
        (lambda: train.GradientDescentOptimizer("0.1"), "learning_rate='0.1'"),
        (lambda: train.GradientDescentOptimizer(-0.1), "learning_rate must be  >= 0"),
        (lambda: train.AdamOptimizer(0.1, lr=0.1), "pass only one of them"),
        (lambda: train.AdamOptimizer(beta1=1.0), "beta1 must be  in [0, 1)"),
        (lambda: train.MomentumOptimizer(0.1), "momentum=None"),
        (lambda: train.MomentumOptimizer(0.1, True), "momentum=True"),
        (lambda: train.AdagradOptimizer(0.1, 0.0), "initial_accumulator_value must be  > 0"),
        (lambda: train.RMSPropOptimizer(0.1, decay=2.0), "decay must be  in [0, 1]"),
        (lambda: train.AdadeltaOptimizer(epsilon=-1.0), "epsilon must be  >= 0"),
    ],
)
def test_bad_hyperparameters(build, words):
    with pytest.raises(TrainArgumentError) as info:
        build()
    assert words in str(info.value)


def test_bad_update_inputs():
    opt = train.AdamOptimizer(0.1)
    with pytest.raises(TrainArgumentError, match=r"only floating-point"):
        opt.init({"w": jnp.ones(2), "step": jnp.zeros([], jnp.int32)})
    with pytest.raises(TrainArgumentError, match=r"pass the AdamState"):
        opt.update(GRADS, train.MomentumOptimizer(0.1, 0.9).init(PARAMS))
    with pytest.raises(TrainArgumentError, match=r"structure of the params"):
        opt.update({"w": jnp.ones(2)}, opt.init(PARAMS))
    vector_lr = train.GradientDescentOptimizer(lambda step: jnp.ones(2))
    with pytest.raises(TrainArgumentError, match=r"not a scalar"):
        vector_lr.update(GRADS, vector_lr.init(PARAMS))


def test_slot_errors():
    opt = train.MomentumOptimizer(lambda s: train.exponential_decay(0.1, s, 10, 0.9), 0.9)
    state = opt.init(PARAMS)
    flat = train.slot_variables(opt, state, PARAMS)
    with pytest.raises(TrainArgumentError, match=r"scopax.train optimizer"):
        train.slot_variables(optax.sgd(0.1), state, PARAMS)
    with pytest.raises(TreeArgumentError):
        train.slot_variables(opt, state, [jnp.ones(2)])
    with pytest.raises(TrainArgumentError, match=r"does not match params"):
        train.slot_variables(opt, state, {"other": jnp.ones(2)})
    with pytest.raises(SlotMismatchError) as info:
        train.restore_slots(opt, PARAMS, {"net/w/Momentum": np.zeros((2, 3))})
    assert info.value.names == ["net/b/Momentum", "net/w/Momentum", "global_step"]
    assert "has shape (2, 3), but the state needs shape (3, 2)" in str(info.value)
    with pytest.raises(TrainArgumentError, match=r"sx.load_tf_checkpoint"):
        train.restore_slots(opt, PARAMS, list(flat.items()))
    # A constant learning rate does not need the step count: it starts at 0.
    constant = train.MomentumOptimizer(0.1, 0.9)
    no_step = {k: v for k, v in flat.items() if k != "global_step"}
    assert int(train.restore_slots(constant, PARAMS, no_step).step) == 0


def test_schedules_under_jit_and_bad_arguments():
    lr = jax.jit(lambda s: train.piecewise_constant(s, [2, 4], [3, 2, 1]))
    assert [int(lr(s)) for s in (2, 3, 5)] == [3, 2, 1]
    assert lr(0).dtype == jnp.int32
    cases = [
        (lambda: train.exponential_decay(0.1, None, 10, 0.5), "global_step is required"),
        (lambda: train.exponential_decay(0.1, 1, 0, 0.5), "decay_steps must be  > 0"),
        (lambda: train.polynomial_decay("a", 1, 10), "learning_rate='a'"),
        (lambda: train.cosine_decay(0.1, 1.5j, 10), "global_step=1.5j"),
        (lambda: train.piecewise_constant(1, [1, 2], [1.0]), "one more element"),
        (lambda: train.piecewise_constant(1, [1], [1.0, 2]), "all have one dtype"),
        (lambda: train.piecewise_constant(1, [3, 2], [1.0, 2.0, 3.0]), "increase strictly"),
        (lambda: train.piecewise_constant(1, 3, [1.0, 2.0]), "pass two lists"),
    ]
    for call, words in cases:
        with pytest.raises(TrainArgumentError) as info:
            call()
        assert words in str(info.value)


def test_moving_average_contract():
    ema = train.ExponentialMovingAverage(0.99, num_updates=0)
    averages = ema.init(PARAMS)
    new = jax.tree_util.tree_map(jnp.zeros_like, PARAMS)
    # The constructor's num_updates is the default; a call's own wins.
    np.testing.assert_allclose(ema.apply(new, averages)["net/b"], [0.01, -0.02], rtol=1e-5)
    later = ema.apply(new, averages, num_updates=jnp.asarray(1000))
    np.testing.assert_allclose(later["net/b"], [0.099, -0.198], rtol=1e-5)
    assert ema.average_name("net/w") == "net/w/ExponentialMovingAverage"
    assert train.ExponentialMovingAverage(0.9, name="avg").average_name("x") == "x/avg"
    with pytest.raises(TrainArgumentError, match=r"decay must be  in \[0, 1\]"):
        train.ExponentialMovingAverage(1.5)
    with pytest.raises(TrainArgumentError, match=r"only floating-point"):
        ema.init({"count": jnp.zeros([], jnp.int32)})
    with pytest.raises(TrainArgumentError, match=r"averages whose tree differs"):
        ema.apply(PARAMS, {"w": jnp.ones(1)})
    with pytest.raises(TrainArgumentError, match=r"num_updates='3'"):
        ema.apply(PARAMS, averages, num_updates="3")
    with pytest.raises(TrainArgumentError, match=r"full name"):
        ema.average_name("")


def test_global_step():
    def fn(x):
        with sx.variable_scope("model"):
            step = train.get_or_create_global_step()
            again = train.get_or_create_global_step()  # The same variable: AUTO_REUSE.
        assert again is step
        sx.assign(step, step + 1)
        return x + again

    model = sx.transform_with_state(fn)
    params, state = model.init(jax.random.key(0), jnp.ones([]))
    # Made in the current scope, as TF1 makes it (the PTB tutorial saves Model/global_step).
    assert sorted(sx.flatten(state)) == ["model/global_step"] and not sx.flatten(params)
    dtype = jax.dtypes.canonicalize_dtype(jnp.int64)  # int32 unless x64 is on
    assert state["model/global_step"].dtype == dtype
    out, state = jax.jit(model.apply)(params, state, jnp.ones([]))
    assert int(out) == 1 and int(state["model/global_step"]) == 1
    with pytest.raises(NotInTransformError, match=r"get_or_create_global_step"):
        train.get_or_create_global_step()
    with pytest.raises(NonTrainableInTransformError, match=r"global_step"):
        sx.transform(lambda: train.get_or_create_global_step()).init(jax.random.key(0))
