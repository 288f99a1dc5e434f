"""Checks shared by scopax.train: numeric arguments, learning rates, variable names."""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from scopax.errors import TrainArgumentError, TreeArgumentError


def _is_numeric_scalar(value: Any) -> bool:
    if isinstance(value, bool | np.bool_):
        return False
    if isinstance(value, numbers.Real):
        return True
    dtype = getattr(value, "dtype", None)
    shape = getattr(value, "shape", None)
    return (
        dtype is not None
        and shape == ()
        and (jnp.issubdtype(dtype, jnp.floating) or jnp.issubdtype(dtype, jnp.integer))
    )


def concrete(value: Any) -> float | None:
    """The value as a float when it is known now (not traced), else None."""
    try:
        return float(value)
    except jax.errors.ConcretizationTypeError:  # Traced under jit: checked by no one.
        return None


def check_number(
    where: str,
    argument: str,
    value: Any,
    ok: Callable[[float], bool] | None = None,
    rule: str = "",
) -> Any:
    """``value`` if it is a real number (or a 0-d numeric array); ``ok`` checked if concrete."""
    if not _is_numeric_scalar(value):
        raise TrainArgumentError(
            where, f"{argument}={value!r}", f"pass a number (a float, or a scalar array){rule}."
        )
    known = concrete(value)
    if ok is not None and known is not None and not ok(known):
        raise TrainArgumentError(where, f"{argument}={value!r}", f"{argument} must be {rule}.")
    return value


def nonnegative(where: str, argument: str, value: Any) -> Any:
    return check_number(where, argument, value, lambda v: v >= 0, " >= 0")


def unit_interval(where: str, argument: str, value: Any, *, open_high: bool = False) -> Any:
    if open_high:
        return check_number(where, argument, value, lambda v: 0 <= v < 1, " in [0, 1)")
    return check_number(where, argument, value, lambda v: 0 <= v <= 1, " in [0, 1]")


def check_learning_rate(where: str, learning_rate: Any, lr: Any, default: Any = None) -> Any:
    """The learning rate from TF's ``learning_rate=`` or the short ``lr=``; one of them only."""
    if learning_rate is not None and lr is not None:
        raise TrainArgumentError(
            where,
            f"learning_rate={learning_rate!r} and lr={lr!r}",
            "they are two names of one argument; pass only one of them.",
        )
    value = learning_rate if learning_rate is not None else lr
    if value is None:
        value = default
    if value is None:
        raise TrainArgumentError(
            where,
            "no learning rate",
            f"pass one, e.g. {where}(0.1), or a function of the step count such as "
            "lambda step: scopax.train.exponential_decay(0.1, step, 1000, 0.96).",
        )
    if callable(value):
        return value
    return nonnegative(where, "learning_rate", value)


def learning_rate_at(where: str, learning_rate: Any, count: jax.Array) -> jax.Array:
    """The learning rate for the update that follows ``count`` updates."""
    value = learning_rate(count) if callable(learning_rate) else learning_rate
    if not _is_numeric_scalar(value):
        raise TrainArgumentError(
            where,
            f"learning_rate={learning_rate!r}",
            f"called with the step count it returned {value!r}, not a scalar; a learning-rate "
            "function must return one number, e.g. "
            "lambda step: scopax.train.exponential_decay(0.1, step, 1000, 0.96).",
        )
    return jnp.asarray(value)


def named_leaves(where: str, argument: str, tree: Any) -> tuple[list[str], list[Any], Any]:
    """The full variable names, the leaves and the treedef of a Params or nested dict."""
    if not hasattr(tree, "keys"):
        raise TreeArgumentError(
            f"{where}'s {argument}",
            tree,
            "pass the Params (or nested dict of arrays) the optimizer was initialized with.",
        )
    with_paths, treedef = jax.tree_util.tree_flatten_with_path(tree)
    names = []
    for path, _ in with_paths:
        if not all(
            isinstance(key, jax.tree_util.DictKey) and isinstance(key.key, str) for key in path
        ):
            raise TrainArgumentError(
                where,
                f"{argument} with a leaf at {jax.tree_util.keystr(path)}",
                "slots are named after variables, so every leaf must sit under string keys; "
                "pass a Params or a nested dict of arrays.",
            )
        names.append("/".join(str(getattr(key, "key", "")) for key in path))
    return names, [leaf for _, leaf in with_paths], treedef


def check_float_leaves(where: str, argument: str, tree: Any) -> None:
    """TF1 optimizers and moving averages only take floating-point variables."""
    for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
        dtype = getattr(leaf, "dtype", None)
        if dtype is None or not jnp.issubdtype(dtype, jnp.floating):
            raise TrainArgumentError(
                where,
                f"{argument} with {jax.tree_util.keystr(path) or 'a leaf'} of type "
                f"{dtype if dtype is not None else type(leaf).__name__}",
                "only floating-point variables can be trained or averaged, as in TF1; leave "
                "integer variables (step counters) out of the tree, e.g. keep them in the "
                "state of sx.transform_with_state.",
            )
