"""TF1's learning-rate schedules (``tf.compat.v1.train.*_decay``, ``piecewise_constant``).

Each is a function of the global step returning a scalar, with TF1's arguments and
arithmetic (the step and the constants cast to the learning rate's dtype, float32 for a
Python float), so that ``lr=lambda step: exponential_decay(0.1, step, 100, 0.9)`` gives
an optimizer TF1's learning rates.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp

from scopax.errors import TrainArgumentError
from scopax.train._util import check_number, concrete


def _rate(where: str, learning_rate: Any) -> jax.Array:
    check_number(where, "learning_rate", learning_rate)
    value = jnp.asarray(learning_rate)
    # TF converts a Python number to float32; a float array keeps its dtype.
    if isinstance(learning_rate, int | float) or not jnp.issubdtype(value.dtype, jnp.floating):
        value = value.astype(jnp.float32)
    return value


def _step(where: str, global_step: Any, dtype: Any) -> jax.Array:
    if global_step is None:
        raise TrainArgumentError(
            where,
            "global_step=None",
            "global_step is required; pass the step count (an int, or the traced count "
            "inside a jitted step), e.g. the learning-rate function's own argument.",
        )
    check_number(where, "global_step", global_step)
    return jnp.asarray(global_step).astype(dtype)


def _positive(where: str, argument: str, value: Any) -> Any:
    return check_number(where, argument, value, lambda v: v > 0, " > 0")


def exponential_decay(
    learning_rate: Any,
    global_step: Any,
    decay_steps: Any,
    decay_rate: Any,
    staircase: bool = False,
) -> jax.Array:
    """``learning_rate * decay_rate ** (global_step / decay_steps)``, as TF1's.

    >>> from scopax import train
    >>> float(train.exponential_decay(0.1, 200, 100, 0.5))
    0.025...
    >>> float(train.exponential_decay(0.1, 150, 100, 0.5, staircase=True))  # floor(1.5)
    0.05...

    Args:
      learning_rate: the initial learning rate.
      global_step: the step count, an int or a traced integer.
      decay_steps: steps per decay period, > 0.
      decay_rate: the factor per period.
      staircase: decay in whole periods (``floor(global_step / decay_steps)``).

    Returns:
      A scalar of the learning rate's dtype.
    """
    where = "exponential_decay"
    lr = _rate(where, learning_rate)
    _positive(where, "decay_steps", decay_steps)
    check_number(where, "decay_rate", decay_rate)
    p = _step(where, global_step, lr.dtype) / jnp.asarray(decay_steps, lr.dtype)
    if staircase:
        p = jnp.floor(p)
    return lr * jnp.power(jnp.asarray(decay_rate, lr.dtype), p)


def inverse_time_decay(
    learning_rate: Any,
    global_step: Any,
    decay_steps: Any,
    decay_rate: Any,
    staircase: bool = False,
) -> jax.Array:
    """``learning_rate / (1 + decay_rate * global_step / decay_steps)``, as TF1's.

    >>> from scopax import train
    >>> float(train.inverse_time_decay(0.1, 10, 5, 0.5))
    0.05...

    Args:
      learning_rate: the initial learning rate.
      global_step: the step count, an int or a traced integer.
      decay_steps: steps per decay period, > 0.
      decay_rate: the decay per period.
      staircase: decay in whole periods.

    Returns:
      A scalar of the learning rate's dtype.
    """
    where = "inverse_time_decay"
    lr = _rate(where, learning_rate)
    _positive(where, "decay_steps", decay_steps)
    check_number(where, "decay_rate", decay_rate)
    p = _step(where, global_step, lr.dtype) / jnp.asarray(decay_steps, lr.dtype)
    if staircase:
        p = jnp.floor(p)
    return lr / (1 + jnp.asarray(decay_rate, lr.dtype) * p)


def polynomial_decay(
    learning_rate: Any,
    global_step: Any,
    decay_steps: Any,
    end_learning_rate: Any = 0.0001,
    power: Any = 1.0,
    cycle: bool = False,
) -> jax.Array:
    """From ``learning_rate`` to ``end_learning_rate`` in ``decay_steps``, as TF1's.

    ``(learning_rate - end) * (1 - step / decay_steps) ** power + end``, the step held at
    ``decay_steps`` after it, or with ``cycle=True`` ``decay_steps`` stretched to the next
    multiple above the step.

    >>> from scopax import train
    >>> float(train.polynomial_decay(0.1, 5, 10, end_learning_rate=0.0))
    0.05...
    >>> float(train.polynomial_decay(0.1, 50, 10, end_learning_rate=0.0))
    0.0

    Args:
      learning_rate: the initial learning rate.
      global_step: the step count, an int or a traced integer.
      decay_steps: the length of the decay, > 0.
      end_learning_rate: the final learning rate.
      power: the polynomial's power.
      cycle: restart the decay past ``decay_steps``.

    Returns:
      A scalar of the learning rate's dtype.
    """
    where = "polynomial_decay"
    lr = _rate(where, learning_rate)
    _positive(where, "decay_steps", decay_steps)
    check_number(where, "end_learning_rate", end_learning_rate)
    check_number(where, "power", power)
    step = _step(where, global_step, lr.dtype)
    steps = jnp.asarray(decay_steps, lr.dtype)
    if cycle:
        # As TF: step 0 is in the first cycle, not in a cycle of length zero. TF's graph
        # divides by the constant decay_steps as a product with its float reciprocal,
        # which puts some exact multiples (21 of 7) in the next cycle; so does this.
        cycles = jnp.ceil(step * (jnp.ones([], lr.dtype) / steps))
        steps = steps * jnp.where(step == 0, jnp.ones_like(step), cycles)
    else:
        step = jnp.minimum(step, steps)
    end = jnp.asarray(end_learning_rate, lr.dtype)
    return (lr - end) * jnp.power(1 - step / steps, jnp.asarray(power, lr.dtype)) + end


def cosine_decay(
    learning_rate: Any, global_step: Any, decay_steps: Any, alpha: Any = 0.0
) -> jax.Array:
    """Half a cosine from ``learning_rate`` to ``alpha * learning_rate``, as TF1's.

    >>> from scopax import train
    >>> round(float(train.cosine_decay(0.1, 50, 100)), 6)
    0.05
    >>> float(train.cosine_decay(0.1, 500, 100, alpha=0.1))
    0.01...

    Args:
      learning_rate: the initial learning rate.
      global_step: the step count, an int or a traced integer.
      decay_steps: the length of the decay, > 0.
      alpha: the final fraction of ``learning_rate``.

    Returns:
      A scalar of the learning rate's dtype.
    """
    where = "cosine_decay"
    lr = _rate(where, learning_rate)
    _positive(where, "decay_steps", decay_steps)
    check_number(where, "alpha", alpha)
    steps = jnp.asarray(decay_steps, lr.dtype)
    fraction = jnp.minimum(_step(where, global_step, lr.dtype), steps) / steps
    cosine = 0.5 * (1 + jnp.cos(jnp.asarray(math.pi, lr.dtype) * fraction))
    a = jnp.asarray(alpha, lr.dtype)
    return lr * ((1 - a) * cosine + a)


def piecewise_constant(
    x: Any, boundaries: Sequence[Any] | Any, values: Sequence[Any] | Any
) -> jax.Array:
    """``values[i]`` while ``boundaries[i - 1] < x <= boundaries[i]``, as TF1's.

    >>> from scopax import train
    >>> [float(train.piecewise_constant(s, [10, 20], [1.0, 0.5, 0.1])) for s in (10, 11, 21)]
    [1.0, 0.5, 0.1...]

    Args:
      x: the step (or any scalar), an int or a traced scalar.
      boundaries: increasing boundaries, cast to ``x``'s dtype as TF does.
      values: one more value than boundaries, all of one kind (all floats or all ints).

    Returns:
      A scalar: the value of the interval ``x`` falls in.
    """
    where = "piecewise_constant"
    if not isinstance(boundaries, Sequence) or not isinstance(values, Sequence):
        raise TrainArgumentError(
            where,
            f"boundaries={boundaries!r}, values={values!r}",
            "pass two lists, e.g. piecewise_constant(step, [100, 200], [1.0, 0.5, 0.1]).",
        )
    if len(values) != len(boundaries) + 1:
        raise TrainArgumentError(
            where,
            f"{len(boundaries)} boundaries and {len(values)} values",
            "values must have one more element than boundaries (the value before the "
            "first boundary, then one after each).",
        )
    for i, b in enumerate(boundaries):
        check_number(where, f"boundaries[{i}]", b)
    for i, v in enumerate(values):
        check_number(where, f"values[{i}]", v)
    kinds = {bool(jnp.issubdtype(jnp.asarray(v).dtype, jnp.floating)) for v in values}
    if len(kinds) > 1:
        raise TrainArgumentError(
            where,
            f"values={list(values)!r}",
            "values must all have one dtype, as in TF; write them all as floats (1.0, not 1).",
        )
    known = [concrete(b) for b in boundaries]
    numbers = [b for b in known if b is not None]
    if len(numbers) == len(known) and any(a >= b for a, b in itertools.pairwise(numbers)):
        raise TrainArgumentError(
            where, f"boundaries={list(boundaries)!r}", "boundaries must increase strictly."
        )
    check_number(where, "x", x)
    step = jnp.asarray(x)
    if all(isinstance(v, int | float) for v in values):
        # As TF converts Python numbers: float32 or int32.
        table = jnp.asarray(values, jnp.float32 if kinds == {True} else jnp.int32)
    else:
        table = jnp.stack([jnp.asarray(v) for v in values])
    edges = jnp.stack([jnp.asarray(b).astype(step.dtype) for b in boundaries])
    return table[jnp.sum(step > edges)]
