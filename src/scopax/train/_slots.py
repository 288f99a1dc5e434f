"""An optimizer's state under the names TF1 writes in a checkpoint, and back."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from scopax.errors import SlotMismatchError, TrainArgumentError
from scopax.train._base import TFOptimizer
from scopax.train._util import named_leaves

GLOBAL_STEP = "global_step"


def _check_optimizer(where: str, opt: Any) -> TFOptimizer:
    if not isinstance(opt, TFOptimizer):
        raise TrainArgumentError(
            where,
            f"opt={opt!r}",
            "pass a scopax.train optimizer (train.AdamOptimizer(...), ...); only these know "
            "the names TF1 gives their slots.",
        )
    return opt


def _slot_suffix(opt: TFOptimizer, index: int) -> str:
    # TF makes a slot's name unique in the graph: the first is <var>/Adam, then _1, _2.
    return opt.name if index == 0 else f"{opt.name}_{index}"


def slot_variables(opt: Any, state: Any, params: Any) -> dict[str, jax.Array]:
    """An optimizer's state as TF1's checkpoint variables, by TF's names.

    >>> import jax.numpy as jnp
    >>> import scopax as sx
    >>> from scopax import train
    >>> params = sx.unflatten({"net/w": jnp.ones((2, 2)), "net/b": jnp.zeros(2)})
    >>> opt = train.AdamOptimizer(0.01)
    >>> sorted(train.slot_variables(opt, opt.init(params), params))
    ['beta1_power', 'beta2_power', 'global_step', 'net/b/Adam', 'net/b/Adam_1',
     'net/w/Adam', 'net/w/Adam_1']

    The slots are ``<variable>/<name>``, ``<variable>/<name>_1``... in the order TF1
    creates them (``name`` is the optimizer's, ``"Adam"`` by default): Momentum's
    ``Momentum``; Adagrad's ``Adagrad``; Adam's ``m``, ``v`` and the non-slot variables
    ``beta1_power`` and ``beta2_power``; RMSProp's ``rms``, then ``mg`` if centered, then
    ``momentum``; Adadelta's ``accum`` and ``accum_update``. ``global_step`` is the
    number of updates done, which is TF's ``global_step`` when ``minimize`` counted it;
    outside ``jit`` it is a NumPy int64, TF's dtype for it.
    The names assume, as is usual, that TF built the optimizer at the root scope and
    that it was the graph's only optimizer of its name.

    Args:
      opt: a ``scopax.train`` optimizer.
      state: its state, as ``opt.init`` or ``opt.update`` returned it.
      params: the parameters (a ``Params`` or nested dict) the state was made for.

    Returns:
      A dict from TF's names to arrays, sorted by name; the params are not in it.
    """
    where = "slot_variables"
    opt = _check_optimizer(where, opt)
    names, _, treedef = named_leaves(where, "params", params)
    if not hasattr(state, "step"):
        raise TrainArgumentError(
            where,
            f"a state of type {type(state).__name__}",
            "pass the state that opt.init(params) or opt.update returned.",
        )
    out: dict[str, jax.Array] = {}
    for index, field in enumerate(opt._slot_fields()):
        try:
            values = treedef.flatten_up_to(getattr(state, field))
        except (AttributeError, ValueError, TypeError):
            raise TrainArgumentError(
                where,
                f"a state whose {field!r} does not match params",
                f"pass the state of {type(opt).__name__} for these params "
                "(state = opt.init(params)).",
            ) from None
        suffix = _slot_suffix(opt, index)
        out.update({f"{name}/{suffix}": value for name, value in zip(names, values, strict=True)})
    for field in opt._NON_SLOT_FIELDS:
        out[field] = getattr(state, field)
    out[GLOBAL_STEP] = _as_int64(state.step)
    return dict(sorted(out.items()))


def _as_int64(count: Any) -> Any:
    # TF's global_step is int64, and TF refuses to restore an int32 into it. The count is
    # int32 when JAX's 64-bit mode is off, so a concrete one is handed over as NumPy int64.
    try:
        return np.asarray(count, np.int64)
    except jax.errors.TracerArrayConversionError:
        return count


def _step_from_beta1_power(opt: TFOptimizer, flat: Mapping[str, Any]) -> int | None:
    beta1 = float(opt.hyperparameters["beta1"])
    power = float(np.asarray(flat["beta1_power"]))
    if not 0 < beta1 < 1 or not 0 < power <= 1:
        return None
    # beta1_power is beta1 ** (t + 1) after t updates.
    return max(round(math.log(power) / math.log(beta1)) - 1, 0)


def restore_slots(opt: Any, params: Any, flat: Mapping[str, Any] | Any) -> Any:
    """The optimizer state saved under TF's names, as ``opt.init(params)`` would shape it.

    The reverse of :func:`slot_variables`: resume a TF1 run from its checkpoint.

    >>> import scopax as sx
    >>> from scopax import train
    >>> flat = sx.load_tf_checkpoint("tests/fixtures/tf_train/adam_ckpt")
    >>> params = sx.unflatten({k: flat[k] for k in ("net/w", "net/b")})
    >>> state = train.restore_slots(train.AdamOptimizer(0.05), params, flat)
    >>> int(state.step), state.m["net/w"].shape
    (3, (3, 2))

    The step count comes from ``global_step``. Without it, Adam's count is worked out
    from ``beta1_power`` (``beta1 ** (count + 1)``); other optimizers start at 0, which
    only matters when the learning rate is a function of the step, and then a missing
    ``global_step`` is an error.

    Args:
      opt: a ``scopax.train`` optimizer built with the TF run's hyperparameters.
      params: the parameters (a ``Params`` or nested dict), named as in TF.
      flat: a dict from TF's names to arrays, such as :func:`scopax.load_tf_checkpoint`
        returns; other names in it are ignored.

    Returns:
      The optimizer state, with each slot in its variable's dtype.

    Raises:
      SlotMismatchError: slots are missing or have another shape; it lists them all.
    """
    where = "restore_slots"
    opt = _check_optimizer(where, opt)
    if not isinstance(flat, Mapping):
        raise TrainArgumentError(
            where,
            f"flat of type {type(flat).__name__}",
            "pass a dict from TF's names to arrays, e.g. sx.load_tf_checkpoint(path).",
        )
    names, leaves, treedef = named_leaves(where, "params", params)
    template: Any = opt.init(params)
    problems: list[tuple[str, str]] = []

    def read(key: str, like: Any) -> Any:
        if key not in flat:
            problems.append((key, "missing"))
            return like
        value = np.asarray(flat[key])
        if value.shape != tuple(like.shape):
            problems.append(
                (key, f"has shape {value.shape}, but the state needs shape {tuple(like.shape)}")
            )
            return like
        return jnp.asarray(value, dtype=like.dtype)

    fields: dict[str, Any] = {}
    for index, field in enumerate(opt._slot_fields()):
        suffix = _slot_suffix(opt, index)
        values = [read(f"{n}/{suffix}", leaf) for n, leaf in zip(names, leaves, strict=True)]
        fields[field] = treedef.unflatten(values)
    for field in opt._NON_SLOT_FIELDS:
        fields[field] = read(field, getattr(template, field))
    if GLOBAL_STEP in flat:
        fields["step"] = read(GLOBAL_STEP, template.step)
    else:
        step = None
        if "beta1_power" in opt._NON_SLOT_FIELDS and "beta1_power" in flat:
            step = _step_from_beta1_power(opt, flat)
        if step is None and callable(opt.learning_rate):
            problems.append(
                (GLOBAL_STEP, "missing, and the learning rate is a function of the step count")
            )
        fields["step"] = jnp.asarray(step or 0, template.step.dtype)
    if problems:
        raise SlotMismatchError(type(opt).__name__, problems)
    return template._replace(**fields)
