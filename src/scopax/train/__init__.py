"""``scopax.train``: TF1's ``tf.train``: optimizers, slots, schedules, moving averages.

The optimizers are ``optax.GradientTransformation`` objects with TF1's update rules, so a TF1
training loop ports with TF1's numbers; :func:`slot_variables` and :func:`restore_slots`
move their state to and from TF1's checkpoint names, to resume a TF1 run.

>>> import jax, jax.numpy as jnp, optax
>>> import scopax as sx
>>> from scopax import train
>>> def loss_fn(x, y):
...     w = sx.get_variable("w", [3, 1], initializer=sx.zeros_initializer())
...     return jnp.mean((x @ w - y) ** 2)
>>> model = sx.transform(loss_fn)
>>> x, y = jnp.ones((4, 3)), jnp.ones((4, 1))
>>> params = model.init(jax.random.key(0), x, y)
>>> opt = train.AdamOptimizer(lambda step: train.exponential_decay(0.1, step, 100, 0.96))
>>> state = opt.init(params)
>>> @jax.jit
... def train_step(params, state, x, y):  # TF1: sess.run([train_op, loss])
...     loss, grads = jax.value_and_grad(model.apply)(params, x, y)
...     updates, state = opt.update(grads, state, params)
...     return optax.apply_updates(params, updates), state, loss
>>> for _ in range(3):
...     params, state, loss = train_step(params, state, x, y)
>>> sorted(train.slot_variables(opt, state, params))
['beta1_power', 'beta2_power', 'global_step', 'w/Adam', 'w/Adam_1']
"""

from scopax.train._adaptive import AdadeltaOptimizer as AdadeltaOptimizer
from scopax.train._adaptive import AdadeltaState as AdadeltaState
from scopax.train._adaptive import AdamOptimizer as AdamOptimizer
from scopax.train._adaptive import AdamState as AdamState
from scopax.train._adaptive import RMSPropOptimizer as RMSPropOptimizer
from scopax.train._adaptive import RMSPropState as RMSPropState
from scopax.train._base import CountState as CountState
from scopax.train._base import TFOptimizer as TFOptimizer
from scopax.train._ema import ExponentialMovingAverage as ExponentialMovingAverage
from scopax.train._global_step import get_or_create_global_step as get_or_create_global_step
from scopax.train._global_step import list_variables as list_variables
from scopax.train._optimizers import AdagradOptimizer as AdagradOptimizer
from scopax.train._optimizers import AdagradState as AdagradState
from scopax.train._optimizers import GradientDescentOptimizer as GradientDescentOptimizer
from scopax.train._optimizers import MomentumOptimizer as MomentumOptimizer
from scopax.train._optimizers import MomentumState as MomentumState
from scopax.train._schedules import cosine_decay as cosine_decay
from scopax.train._schedules import exponential_decay as exponential_decay
from scopax.train._schedules import inverse_time_decay as inverse_time_decay
from scopax.train._schedules import piecewise_constant as piecewise_constant
from scopax.train._schedules import polynomial_decay as polynomial_decay
from scopax.train._slots import restore_slots as restore_slots
from scopax.train._slots import slot_variables as slot_variables

__all__ = [
    "AdadeltaOptimizer",
    "AdadeltaState",
    "AdagradOptimizer",
    "AdagradState",
    "AdamOptimizer",
    "AdamState",
    "CountState",
    "ExponentialMovingAverage",
    "GradientDescentOptimizer",
    "MomentumOptimizer",
    "MomentumState",
    "RMSPropOptimizer",
    "RMSPropState",
    "TFOptimizer",
    "cosine_decay",
    "exponential_decay",
    "get_or_create_global_step",
    "inverse_time_decay",
    "list_variables",
    "piecewise_constant",
    "polynomial_decay",
    "restore_slots",
    "slot_variables",
]
