"""TF1's first-order optimizers: ``GradientDescentOptimizer``, ``MomentumOptimizer``,
``AdagradOptimizer``.

Each update is written as TF1's kernel (``training_ops``) computes it, operation for
operation, so that float32 results agree with TF to rounding.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from scopax.train._base import CountState, TFOptimizer, cast, map_leaves, zero_count
from scopax.train._util import check_learning_rate, check_number, nonnegative


class GradientDescentOptimizer(TFOptimizer):
    """TF1's ``tf.train.GradientDescentOptimizer``: ``var -= learning_rate * grad``.

    >>> import jax.numpy as jnp, optax
    >>> from scopax import train
    >>> opt = train.GradientDescentOptimizer(0.1)
    >>> params = {"w": jnp.array([1.0, 2.0])}
    >>> state = opt.init(params)
    >>> updates, state = opt.update({"w": jnp.array([1.0, -1.0])}, state, params)
    >>> optax.apply_updates(params, updates)["w"]
    Array([0.9, 2.1], dtype=float32)

    Args:
      learning_rate: a number, or a function of the step count (the updates done before
        this one, 0 first: TF's ``global_step``) returning one, such as
        ``lambda step: train.exponential_decay(0.1, step, 100, 0.9)``. ``lr`` is
        another name for it.
      name: TF's name of the optimizer (it has no slots).
    """

    def __new__(
        cls, learning_rate: Any = None, *, lr: Any = None, name: str = "GradientDescent"
    ) -> GradientDescentOptimizer:
        rate = check_learning_rate(cls.__name__, learning_rate, lr)
        return cls._build({"learning_rate": rate, "name": name})

    def _init_state(self, params: Any) -> CountState:
        return CountState(zero_count())

    def _update(self, updates: Any, state: CountState) -> tuple[Any, CountState]:
        self._check_state(state, CountState)
        lr = self._lr(state.step)
        (new,) = map_leaves(
            f"{type(self).__name__}.update", lambda g: (-(g * cast(lr, g)),), updates
        )
        return new, CountState(state.step + 1)


class MomentumState(NamedTuple):
    """``MomentumOptimizer``'s state: the update count and the ``Momentum`` slot.

    >>> import jax.numpy as jnp
    >>> from scopax import train
    >>> train.MomentumOptimizer(0.1, 0.9).init({"w": jnp.ones(2)}).momentum
    {'w': Array([0., 0.], dtype=float32)}
    """

    step: jax.Array
    momentum: Any


class MomentumOptimizer(TFOptimizer):
    """TF1's ``tf.train.MomentumOptimizer``.

    ``accum = momentum * accum + grad``; ``var -= learning_rate * accum``, or with
    ``use_nesterov``, ``var -= learning_rate * (grad + momentum * accum)``. The slot
    ``accum`` is ``<variable>/Momentum`` in a TF checkpoint.

    >>> import jax.numpy as jnp, optax
    >>> from scopax import train
    >>> opt = train.MomentumOptimizer(0.1, 0.9)
    >>> params = {"w": jnp.array([1.0])}
    >>> state = opt.init(params)
    >>> for _ in range(2):
    ...     updates, state = opt.update({"w": jnp.array([1.0])}, state, params)
    ...     params = optax.apply_updates(params, updates)
    >>> params["w"]  # 1 - 0.1 * 1 - 0.1 * 1.9
    Array([0.71], dtype=float32)

    Args:
      learning_rate: a number or a function of the step count (see
        :class:`GradientDescentOptimizer`); ``lr`` is another name for it.
      momentum: the momentum, >= 0.
      use_nesterov: use Nesterov momentum.
      name: TF's name of the optimizer, and of its slot.
    """

    _SLOT_FIELDS = ("momentum",)

    def __new__(
        cls,
        learning_rate: Any = None,
        momentum: Any = None,
        use_nesterov: bool = False,
        *,
        lr: Any = None,
        name: str = "Momentum",
    ) -> MomentumOptimizer:
        where = cls.__name__
        rate = check_learning_rate(where, learning_rate, lr)
        nonnegative(where, "momentum", momentum)
        return cls._build(
            {
                "learning_rate": rate,
                "momentum": momentum,
                "use_nesterov": bool(use_nesterov),
                "name": name,
            }
        )

    def _init_state(self, params: Any) -> MomentumState:
        return MomentumState(zero_count(), jax.tree_util.tree_map(jnp.zeros_like, params))

    def _update(self, updates: Any, state: MomentumState) -> tuple[Any, MomentumState]:
        self._check_state(state, MomentumState)
        lr = self._lr(state.step)
        mu = self.hyperparameters["momentum"]
        nesterov = self.hyperparameters["use_nesterov"]

        def step(g: jax.Array, accum: jax.Array) -> tuple[jax.Array, jax.Array]:
            lr_t, mu_t = cast(lr, g), cast(mu, g)
            accum = accum * mu_t + g
            if nesterov:
                return -(g * lr_t + accum * mu_t * lr_t), accum
            return -(accum * lr_t), accum

        new, accum = map_leaves(f"{type(self).__name__}.update", step, updates, state.momentum)
        return new, MomentumState(state.step + 1, accum)


class AdagradState(NamedTuple):
    """``AdagradOptimizer``'s state: the update count and the ``Adagrad`` slot.

    >>> import jax.numpy as jnp
    >>> from scopax import train
    >>> train.AdagradOptimizer(0.1).init({"w": jnp.ones(2)}).accumulator
    {'w': Array([0.1, 0.1], dtype=float32)}
    """

    step: jax.Array
    accumulator: Any


class AdagradOptimizer(TFOptimizer):
    """TF1's ``tf.train.AdagradOptimizer``.

    ``accum += grad ** 2``; ``var -= learning_rate * grad / sqrt(accum)``, the
    accumulator starting at ``initial_accumulator_value`` (TF1's Adagrad has no epsilon).
    The slot is ``<variable>/Adagrad`` in a TF checkpoint.

    >>> import jax.numpy as jnp, optax
    >>> from scopax import train
    >>> opt = train.AdagradOptimizer(0.1, initial_accumulator_value=3.0)
    >>> params = {"w": jnp.array([1.0])}
    >>> updates, state = opt.update({"w": jnp.array([1.0])}, opt.init(params), params)
    >>> optax.apply_updates(params, updates)["w"]  # 1 - 0.1 * 1 / sqrt(3 + 1)
    Array([0.95], dtype=float32)

    Args:
      learning_rate: a number or a function of the step count (see
        :class:`GradientDescentOptimizer`); ``lr`` is another name for it.
      initial_accumulator_value: the accumulator's start, > 0.
      name: TF's name of the optimizer, and of its slot.
    """

    _SLOT_FIELDS = ("accumulator",)

    def __new__(
        cls,
        learning_rate: Any = None,
        initial_accumulator_value: Any = 0.1,
        *,
        lr: Any = None,
        name: str = "Adagrad",
    ) -> AdagradOptimizer:
        where = cls.__name__
        rate = check_learning_rate(where, learning_rate, lr)
        check_number(
            where, "initial_accumulator_value", initial_accumulator_value, lambda v: v > 0, " > 0"
        )
        return cls._build(
            {
                "learning_rate": rate,
                "initial_accumulator_value": initial_accumulator_value,
                "name": name,
            }
        )

    def _init_state(self, params: Any) -> AdagradState:
        start = self.hyperparameters["initial_accumulator_value"]
        return AdagradState(
            zero_count(), jax.tree_util.tree_map(lambda p: jnp.full_like(p, start), params)
        )

    def _update(self, updates: Any, state: AdagradState) -> tuple[Any, AdagradState]:
        self._check_state(state, AdagradState)
        lr = self._lr(state.step)

        def step(g: jax.Array, accum: jax.Array) -> tuple[jax.Array, jax.Array]:
            accum = accum + g * g
            return -(g * cast(lr, g) * lax.rsqrt(accum)), accum

        new, accum = map_leaves(f"{type(self).__name__}.update", step, updates, state.accumulator)
        return new, AdagradState(state.step + 1, accum)
