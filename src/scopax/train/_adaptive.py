"""TF1's adaptive optimizers: ``AdamOptimizer``, ``RMSPropOptimizer``, ``AdadeltaOptimizer``.

As in ``_optimizers``, each update follows TF1's kernel operation for operation.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from scopax.train._base import TFOptimizer, cast, map_leaves, zero_count
from scopax.train._util import check_learning_rate, nonnegative, unit_interval


class AdamState(NamedTuple):
    """``AdamOptimizer``'s state, as TF1 keeps it: ``beta1_power`` and ``beta2_power``
    (``beta ** t`` after ``t`` updates, starting at ``beta``) and the slots ``m`` and
    ``v`` (``<variable>/Adam``, ``<variable>/Adam_1``).

    >>> import jax.numpy as jnp
    >>> from scopax import train
    >>> state = train.AdamOptimizer().init({"w": jnp.ones(2)})
    >>> state.step, state.beta2_power
    (Array(0, dtype=int32), Array(0.999, dtype=float32))
    """

    step: jax.Array
    beta1_power: jax.Array
    beta2_power: jax.Array
    m: Any
    v: Any


def _power_dtype(params: Any) -> Any:
    # TF makes the beta powers with the dtype of the first variable by name.
    leaves = jax.tree_util.tree_leaves(params)
    return leaves[0].dtype if leaves else jnp.float32


class AdamOptimizer(TFOptimizer):
    """TF1's ``tf.train.AdamOptimizer``, with TF1's "epsilon hat" form.

    ``lr_t = learning_rate * sqrt(1 - beta2 ** t) / (1 - beta1 ** t)``;
    ``m = beta1 * m + (1 - beta1) * grad``; ``v = beta2 * v + (1 - beta2) * grad ** 2``;
    ``var -= lr_t * m / (sqrt(v) + epsilon)``. Unlike ``optax.adam``, epsilon is added
    to ``sqrt(v)`` before the bias correction of the step size, not after.

    >>> import jax.numpy as jnp, optax
    >>> from scopax import train
    >>> opt = train.AdamOptimizer(0.1)
    >>> params = {"w": jnp.array([1.0, 1.0])}
    >>> updates, state = opt.update({"w": jnp.array([2.0, -0.5])}, opt.init(params), params)
    >>> optax.apply_updates(params, updates)["w"].round(6)  # First step: +-learning_rate
    Array([0.9, 1.1], dtype=float32)
    >>> round(float(state.beta1_power), 6)  # as TF's beta1_power variable: 0.9 ** 2
    0.81

    Args:
      learning_rate: a number or a function of the step count (see
        :class:`GradientDescentOptimizer`); ``lr`` is another name for it.
      beta1: decay of the first moment, in [0, 1).
      beta2: decay of the second moment, in [0, 1).
      epsilon: added to ``sqrt(v)``, >= 0.
      name: TF's name of the optimizer, and of its slots.
    """

    _SLOT_FIELDS = ("m", "v")
    _NON_SLOT_FIELDS = ("beta1_power", "beta2_power")

    def __new__(
        cls,
        learning_rate: Any = None,
        beta1: Any = 0.9,
        beta2: Any = 0.999,
        epsilon: Any = 1e-8,
        *,
        lr: Any = None,
        name: str = "Adam",
    ) -> AdamOptimizer:
        where = cls.__name__
        rate = check_learning_rate(where, learning_rate, lr, default=0.001)
        unit_interval(where, "beta1", beta1, open_high=True)
        unit_interval(where, "beta2", beta2, open_high=True)
        nonnegative(where, "epsilon", epsilon)
        return cls._build(
            {
                "learning_rate": rate,
                "beta1": beta1,
                "beta2": beta2,
                "epsilon": epsilon,
                "name": name,
            }
        )

    def _init_state(self, params: Any) -> AdamState:
        dtype = _power_dtype(params)
        zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
        return AdamState(
            zero_count(),
            jnp.asarray(self.hyperparameters["beta1"], dtype),
            jnp.asarray(self.hyperparameters["beta2"], dtype),
            zeros,
            zeros,
        )

    def _update(self, updates: Any, state: AdamState) -> tuple[Any, AdamState]:
        self._check_state(state, AdamState)
        lr = self._lr(state.step)
        b1, b2, eps = (self.hyperparameters[k] for k in ("beta1", "beta2", "epsilon"))

        def step(g: jax.Array, m: jax.Array, v: jax.Array) -> tuple[jax.Array, ...]:
            one = jnp.ones([], g.dtype)
            b1p, b2p = cast(state.beta1_power, g), cast(state.beta2_power, g)
            alpha = cast(lr, g) * jnp.sqrt(one - b2p) / (one - b1p)
            m = m + (g - m) * (one - cast(b1, g))
            v = v + (g * g - v) * (one - cast(b2, g))
            return -((m * alpha) / (jnp.sqrt(v) + cast(eps, g))), m, v

        new, m, v = map_leaves(f"{type(self).__name__}.update", step, updates, state.m, state.v)
        # TF's _finish: the powers advance once per update, by a multiplication.
        b1p = state.beta1_power * cast(b1, state.beta1_power)
        b2p = state.beta2_power * cast(b2, state.beta2_power)
        return new, AdamState(state.step + 1, b1p, b2p, m, v)


class RMSPropState(NamedTuple):
    """``RMSPropOptimizer``'s state: the mean square ``rms`` (starting at ones, as TF1),
    the mean gradient ``mg`` (``None`` unless centered) and ``momentum``; in a TF
    checkpoint ``<variable>/RMSProp``, then ``_1`` and ``_2`` in that order.

    >>> import jax.numpy as jnp
    >>> from scopax import train
    >>> state = train.RMSPropOptimizer(0.1).init({"w": jnp.ones(2)})
    >>> state.rms, state.mg
    ({'w': Array([1., 1.], dtype=float32)}, None)
    """

    step: jax.Array
    rms: Any
    mg: Any
    momentum: Any


class RMSPropOptimizer(TFOptimizer):
    """TF1's ``tf.train.RMSPropOptimizer``.

    ``ms += (grad ** 2 - ms) * (1 - decay)``; ``mom = momentum * mom + learning_rate *
    grad / sqrt(ms + epsilon)``; ``var -= mom``. Centered, ``mg += (grad - mg) * (1 -
    decay)`` and ``ms - mg ** 2`` replaces ``ms``. As in TF1, ``ms`` starts at ones and
    epsilon is inside the square root.

    >>> import jax.numpy as jnp, optax
    >>> from scopax import train
    >>> opt = train.RMSPropOptimizer(0.1)
    >>> params = {"w": jnp.array([1.0])}
    >>> updates, state = opt.update({"w": jnp.array([3.0])}, opt.init(params), params)
    >>> state.rms["w"].round(6)  # 1 + (9 - 1) * 0.1
    Array([1.8], dtype=float32)

    Args:
      learning_rate: a number or a function of the step count (see
        :class:`GradientDescentOptimizer`); ``lr`` is another name for it.
      decay: the decay of the moving averages, in [0, 1].
      momentum: >= 0.
      epsilon: added to the mean square under the root, >= 0.
      centered: divide by an estimate of the variance instead of the mean square.
      name: TF's name of the optimizer, and of its slots.
    """

    def __new__(
        cls,
        learning_rate: Any = None,
        decay: Any = 0.9,
        momentum: Any = 0.0,
        epsilon: Any = 1e-10,
        centered: bool = False,
        *,
        lr: Any = None,
        name: str = "RMSProp",
    ) -> RMSPropOptimizer:
        where = cls.__name__
        rate = check_learning_rate(where, learning_rate, lr)
        unit_interval(where, "decay", decay)
        nonnegative(where, "momentum", momentum)
        nonnegative(where, "epsilon", epsilon)
        return cls._build(
            {
                "learning_rate": rate,
                "decay": decay,
                "momentum": momentum,
                "epsilon": epsilon,
                "centered": bool(centered),
                "name": name,
            }
        )

    def _slot_fields(self) -> tuple[str, ...]:
        # TF creates the slots in this order: rms, then mg if centered, then momentum.
        return (
            ("rms", "mg", "momentum") if self.hyperparameters["centered"] else ("rms", "momentum")
        )

    def _init_state(self, params: Any) -> RMSPropState:
        zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
        ones = jax.tree_util.tree_map(jnp.ones_like, params)
        mg = zeros if self.hyperparameters["centered"] else None
        return RMSPropState(zero_count(), ones, mg, zeros)

    def _update(self, updates: Any, state: RMSPropState) -> tuple[Any, RMSPropState]:
        self._check_state(state, RMSPropState)
        lr = self._lr(state.step)
        rho, mu, eps = (self.hyperparameters[k] for k in ("decay", "momentum", "epsilon"))
        where = f"{type(self).__name__}.update"

        if self.hyperparameters["centered"]:

            def centered(g: jax.Array, ms: jax.Array, mg: jax.Array, mom: jax.Array) -> Any:
                one_minus = jnp.ones([], g.dtype) - cast(rho, g)
                ms = ms + (g * g - ms) * one_minus
                mg = mg + (g - mg) * one_minus
                denom = (ms - mg * mg) + cast(eps, g)
                mom = mom * cast(mu, g) + (g * cast(lr, g)) / jnp.sqrt(denom)
                return -mom, ms, mg, mom

            new, ms, mg, mom = map_leaves(
                where, centered, updates, state.rms, state.mg, state.momentum
            )
            return new, RMSPropState(state.step + 1, ms, mg, mom)

        def plain(g: jax.Array, ms: jax.Array, mom: jax.Array) -> Any:
            ms = ms + (g * g - ms) * (jnp.ones([], g.dtype) - cast(rho, g))
            mom = mom * cast(mu, g) + (g * cast(lr, g)) / jnp.sqrt(ms + cast(eps, g))
            return -mom, ms, mom

        new, ms, mom = map_leaves(where, plain, updates, state.rms, state.momentum)
        return new, RMSPropState(state.step + 1, ms, None, mom)


class AdadeltaState(NamedTuple):
    """``AdadeltaOptimizer``'s state: ``accum`` and ``accum_update``, in a TF checkpoint
    ``<variable>/Adadelta`` and ``<variable>/Adadelta_1``.

    >>> import jax.numpy as jnp
    >>> from scopax import train
    >>> train.AdadeltaOptimizer().init({"w": jnp.ones(2)}).accum_update
    {'w': Array([0., 0.], dtype=float32)}
    """

    step: jax.Array
    accum: Any
    accum_update: Any


class AdadeltaOptimizer(TFOptimizer):
    """TF1's ``tf.train.AdadeltaOptimizer``.

    ``accum = rho * accum + (1 - rho) * grad ** 2``;
    ``update = sqrt(accum_update + epsilon) / sqrt(accum + epsilon) * grad``;
    ``accum_update = rho * accum_update + (1 - rho) * update ** 2``;
    ``var -= learning_rate * update``.

    >>> import jax.numpy as jnp, optax
    >>> from scopax import train
    >>> opt = train.AdadeltaOptimizer(1.0)
    >>> params = {"w": jnp.array([1.0])}
    >>> updates, state = opt.update({"w": jnp.array([1.0])}, opt.init(params), params)
    >>> float(updates["w"][0])  # -sqrt(1e-8) / sqrt(0.05 + 1e-8)
    -0.000447...

    Args:
      learning_rate: a number or a function of the step count (see
        :class:`GradientDescentOptimizer`); ``lr`` is another name for it.
      rho: the decay of the accumulators, in [0, 1].
      epsilon: >= 0.
      name: TF's name of the optimizer, and of its slots.
    """

    _SLOT_FIELDS = ("accum", "accum_update")

    def __new__(
        cls,
        learning_rate: Any = None,
        rho: Any = 0.95,
        epsilon: Any = 1e-8,
        *,
        lr: Any = None,
        name: str = "Adadelta",
    ) -> AdadeltaOptimizer:
        where = cls.__name__
        rate = check_learning_rate(where, learning_rate, lr, default=0.001)
        unit_interval(where, "rho", rho)
        nonnegative(where, "epsilon", epsilon)
        return cls._build({"learning_rate": rate, "rho": rho, "epsilon": epsilon, "name": name})

    def _init_state(self, params: Any) -> AdadeltaState:
        zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
        return AdadeltaState(zero_count(), zeros, zeros)

    def _update(self, updates: Any, state: AdadeltaState) -> tuple[Any, AdadeltaState]:
        self._check_state(state, AdadeltaState)
        lr = self._lr(state.step)
        rho, eps = self.hyperparameters["rho"], self.hyperparameters["epsilon"]

        def step(g: jax.Array, accum: jax.Array, accum_update: jax.Array) -> Any:
            rho_t, eps_t = cast(rho, g), cast(eps, g)
            one_minus = jnp.ones([], g.dtype) - rho_t
            accum = accum * rho_t + g * g * one_minus
            update = jnp.sqrt(accum_update + eps_t) * lax.rsqrt(accum + eps_t) * g
            accum_update = accum_update * rho_t + update * update * one_minus
            return -(update * cast(lr, g)), accum, accum_update

        new, accum, accum_update = map_leaves(
            f"{type(self).__name__}.update", step, updates, state.accum, state.accum_update
        )
        return new, AdadeltaState(state.step + 1, accum, accum_update)
