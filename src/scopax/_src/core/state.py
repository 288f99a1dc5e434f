"""``assign``: new values of non-trainable variables (state) within a trace."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from scopax._src.core import errors
from scopax._src.core import frame as frame_lib


def assign(name_or_array: str | jax.Array, value: Any) -> jax.Array:
    """Set the new value of a non-trainable variable (state) in this trace.

    Later reads in the same trace see ``value``; ``apply`` of
    :func:`transform_with_state` returns it in the new state.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> def count():
    ...     n = sx.get_variable("n", [], jnp.int32, trainable=False)
    ...     sx.assign(n, n + 1)
    ...     return n
    >>> model = sx.transform_with_state(count)
    >>> params, state = model.init(jax.random.key(0))
    >>> out, state = model.apply(params, state)
    >>> out, state["n"]
    (Array(0, dtype=int32), Array(1, dtype=int32))

    Args:
      name_or_array: the array ``get_variable`` returned in this trace, or the
        variable's full name.
      value: the new value, of the variable's shape (a same-kind dtype is cast).

    Returns:
      The value stored.

    Raises:
      AssignError: the target is not a non-trainable variable got in this trace,
        or ``value`` has another shape or dtype kind.
      InnerTraceError: called inside a raw ``lax.scan``/``cond`` body.
    """
    frame = frame_lib.current_frame("sx.assign")
    if isinstance(name_or_array, str):
        name = name_or_array
        if name not in frame.values:
            raise errors.AssignError(
                name,
                "no variable of that full name was got in this trace; call "
                "sx.get_variable(..., trainable=False) before assigning to it.",
            )
    else:
        entry = frame.state_ids.get(id(name_or_array))
        if entry is None:
            # Only state is indexed by id; find a trainable variable for a better message.
            named = (n for n, v in frame.values.items() if v is name_or_array)
            entry = (next(named, None), name_or_array)
        name = entry[0]
        if name is None:
            raise errors.AssignError(
                _describe(name_or_array),
                "it is not a variable returned by sx.get_variable(..., trainable=False) in "
                "this trace; pass that array or the variable's full name.",
            )
    old = frame.values[name]
    # How this trace got the variable decides, not which tree holds a variable of that name.
    entry = frame.state_ids.get(id(old))
    if entry is None or entry[0] != name:
        raise errors.AssignError(
            name,
            "it was got with trainable=True in this trace, and trainable variables are only "
            "changed by the optimizer; create it with trainable=False to make it state.",
        )
    if frame.in_inner_trace():
        raise errors.InnerTraceError(name, "assigned")
    value = jnp.asarray(value)
    if value.shape != old.shape:
        raise errors.AssignError(
            name, f"the value has shape {value.shape}, but the variable has shape {old.shape}."
        )
    if value.dtype != old.dtype:
        if jnp.dtype(value.dtype).kind != jnp.dtype(old.dtype).kind:
            raise errors.AssignError(
                name,
                f"the value has dtype {value.dtype}, but the variable has dtype {old.dtype}; "
                f"cast it with .astype(jnp.{old.dtype}).",
            )
        value = value.astype(old.dtype)
    frame.values[name] = value
    frame.assigned[name] = value
    frame.state_ids[id(value)] = (name, value)
    return value


def _describe(x: Any) -> str:
    shape = getattr(x, "shape", None)
    dtype = getattr(x, "dtype", None)
    if shape is not None and dtype is not None:
        return f"an array of shape {tuple(shape)} and dtype {dtype}"
    return repr(x)
