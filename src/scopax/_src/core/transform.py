"""``transform``, ``transform_with_state`` and ``next_rng_key``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from scopax._src.core import errors
from scopax._src.core import frame as frame_lib
from scopax._src.core.params import Params, as_flat, unflatten
from scopax._src.core.scope import VariableScope
from scopax._src.core.variables import make_value


class Transformed(NamedTuple):
    """The pure functions of :func:`transform`: ``init(rng, ...)`` and ``apply(params, ...)``.

    >>> import jax, scopax as sx
    >>> init, apply = sx.transform(lambda: sx.get_variable("w", [2]))
    >>> apply(init(jax.random.key(0))).shape
    (2,)
    """

    init: Callable[..., Params]
    apply: Callable[..., Any]


class TransformedWithState(NamedTuple):
    """The pure functions of :func:`transform_with_state`.

    >>> import jax, scopax as sx
    >>> init, apply = sx.transform_with_state(lambda: sx.get_variable("n", [], trainable=False))
    >>> params, state = init(jax.random.key(0))
    >>> apply(params, state)[0].shape
    ()
    """

    init: Callable[..., tuple[Params, Params]]
    apply: Callable[..., tuple[Any, Params]]


def _check_fn(fn: Any) -> None:
    if isinstance(fn, jax.stages.Wrapped):
        raise errors.JittedFunctionError(fn)
    if not callable(fn):
        raise TypeError(f"sx.transform expects a function, got {fn!r}.")


def _check_rng(rng: Any, required: bool) -> Any:
    if rng is None:
        if required:
            raise errors.InvalidRngError(rng)
        return None
    dtype = getattr(rng, "dtype", None)
    if dtype is not None:
        if jnp.issubdtype(dtype, jax.dtypes.prng_key) and np.ndim(rng) == 0:
            return rng
        if dtype == np.uint32 and np.ndim(rng) == 1:
            return rng
    raise errors.InvalidRngError(rng)


def _run(
    fn: Callable[..., Any],
    is_init: bool,
    with_state: bool,
    rng: Any,
    params: Any,
    state: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> tuple[Any, frame_lib.Frame]:
    # Positional all the way down: this runs on every eager apply call, where keyword
    # passing was a measurable part of the fixed cost.
    frame = frame_lib.Frame(is_init, with_state, rng, VariableScope(False), params, state)
    token = frame_lib.FRAME.set(frame)
    try:
        out = fn(*args, **kwargs)
    finally:
        frame_lib.FRAME.reset(token)
    if frame.shardings:
        recorder = frame_lib.RECORDER.get()
        if recorder is not None:
            recorder.update(frame.shardings)
    return out, frame


def _init(
    fn: Callable[..., Any],
    with_state: bool,
    rng: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The variables ``fn`` creates, made without running its forward pass for values.

    ``fn`` is traced abstractly (``jax.eval_shape``: no op runs, nothing compiles) in an
    init frame that records how each variable is made; then only the initializers run,
    with the same arguments, so the values are those of a plain run. Eagerly, that skips
    dispatching (and compiling, per new shape) every op of the forward pass.

    It runs the function instead when discovery cannot stand in for a run: a variable
    whose initial value is computed in the function (from its inputs or other
    variables), variables made in a stacked body, or a function that needs concrete
    values (Python control flow on them). Any other error is raised from the discovery
    trace: the same code raises it in a run.

    Under a trace (``jax.jit(model.init)``, ``jax.eval_shape``), the function is run:
    there the forward pass is only traced anyway (XLA drops what ``init`` does not
    return), and discovering first would trace it twice.
    """
    recipes = _discover(fn, with_state, rng, args, kwargs) if frame_lib.is_eager() else None
    if recipes is not None:
        try:
            made = [(recipe, make_value(recipe, rng)) for recipe in recipes]
        except jax.errors.UnexpectedTracerError:
            pass  # An initializer closed over a value of the discovery trace.
        else:
            params = {r.name: v for r, v in made if r.trainable}
            state = {r.name: v for r, v in made if not r.trainable}
            return params, state
    _, frame = _run(fn, True, with_state, rng, None, None, args, kwargs)
    return frame.created_params, frame.created_state


def _discover(
    fn: Callable[..., Any],
    with_state: bool,
    rng: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> list[Any] | None:
    found: dict[str, Any] = {}
    failed: list[Exception] = []

    def trace() -> None:
        # Built here, so that the frame belongs to the abstract trace.
        frame = frame_lib.Frame(True, with_state, rng, VariableScope(False))
        frame.recipes = []
        token = frame_lib.FRAME.set(frame)
        try:
            fn(*args, **kwargs)
        except Exception as e:
            # Kept, not raised through eval_shape, which would append its own note to
            # the message of an error that is the user's.
            failed.append(e)
            return
        finally:
            frame_lib.FRAME.reset(token)
        found.update(recipes=frame.recipes, shardings=frame.shardings)

    # Arguments are closed over, not passed: non-array arguments (flags, shapes) stay
    # Python values, as in a run.
    jax.eval_shape(trace)
    if failed:
        if isinstance(failed[0], _NEEDS_VALUES):
            return None
        # Any other error is the one a run would raise: the same code ran, abstractly.
        raise failed[0]
    recipes = found["recipes"]
    if recipes is not None and found["shardings"]:
        recorder = frame_lib.RECORDER.get()
        if recorder is not None:
            recorder.update(found["shardings"])
    return recipes


# What JAX raises when code needs concrete values (Python control flow on an array,
# numpy conversion, boolean masks): such a function must run to make its variables.
_NEEDS_VALUES = (jax.errors.JAXTypeError, jax.errors.JAXIndexError)


def transform(fn: Callable[..., Any]) -> Transformed:
    """Turn a function that calls :func:`get_variable` into a pair of pure functions.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> def linear(x):
    ...     w = sx.get_variable("w", [3, 2])
    ...     b = sx.get_variable("b", [2], initializer=sx.zeros_initializer())
    ...     return x @ w + b
    >>> init, apply = sx.transform(linear)
    >>> params = init(jax.random.key(0), jnp.ones((1, 3)))
    >>> sorted(sx.flatten(params))
    ['b', 'w']
    >>> jax.jit(apply)(params, jnp.ones((1, 3))).shape
    (1, 2)

    ``init(rng, *args, **kwargs)`` runs ``fn`` once, creating every variable with
    its initializer and a key derived from ``rng`` and the variable's full name;
    it returns the :class:`Params` tree. ``apply(params, *args, rng=None,
    **kwargs)`` runs ``fn`` reading every variable from ``params`` and returns
    ``fn``'s output; it is pure (``jit``/``grad``/``vmap`` compatible). ``rng``
    feeds :func:`next_rng_key`.

    Raises:
      JittedFunctionError: ``fn`` is already ``jax.jit``-compiled.
    """
    _check_fn(fn)

    def init(rng: Any, *args: Any, **kwargs: Any) -> Params:
        rng = _check_rng(rng, required=True)
        return unflatten(_init(fn, False, rng, args, kwargs)[0])

    def apply(params: Any, *args: Any, rng: Any = None, **kwargs: Any) -> Any:
        flat = as_flat(params, "params")
        if rng is not None:
            rng = _check_rng(rng, required=False)
        return _run(fn, False, False, rng, flat, None, args, kwargs)[0]

    return Transformed(_named(init, fn), _named(apply, fn))


def _named(pure: Callable[..., Any], fn: Callable[..., Any]) -> Callable[..., Any]:
    """Name ``init``/``apply`` after ``fn`` for reprs and profiles, keeping their own
    signatures: ``functools.wraps`` would make ``inspect.signature`` (and so
    ``jax.jit``'s ``static_argnums``/``static_argnames``) see ``fn``'s parameters."""
    owner = getattr(fn, "__qualname__", None) or type(fn).__name__
    pure.__qualname__ = f"{owner}.{pure.__name__}"
    pure.__module__ = getattr(fn, "__module__", None) or pure.__module__
    return pure


def transform_with_state(fn: Callable[..., Any]) -> TransformedWithState:
    """Like :func:`transform`, for functions with non-trainable variables (state).

    ``init(rng, ...) -> (params, state)``; ``apply(params, state, ..., rng=None)
    -> (out, new_state)``. Variables created with ``trainable=False`` go to
    ``state``; :func:`assign` sets their new values.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> def running_mean(x):
    ...     mean = sx.get_variable("mean", [2], trainable=False,
    ...                            initializer=sx.zeros_initializer())
    ...     sx.assign(mean, 0.9 * mean + 0.1 * x)
    ...     return x - mean
    >>> model = sx.transform_with_state(running_mean)
    >>> params, state = model.init(jax.random.key(0), jnp.ones(2))
    >>> len(params), state["mean"]
    (0, Array([0., 0.], dtype=float32))
    >>> out, state = jax.jit(model.apply)(params, state, jnp.ones(2))
    >>> state["mean"]
    Array([0.1, 0.1], dtype=float32)

    Raises:
      JittedFunctionError: ``fn`` is already ``jax.jit``-compiled.
    """
    _check_fn(fn)

    def init(rng: Any, *args: Any, **kwargs: Any) -> tuple[Params, Params]:
        rng = _check_rng(rng, required=True)
        params, state = _init(fn, True, rng, args, kwargs)
        return unflatten(params), unflatten(state)

    def apply(
        params: Any, state: Any, *args: Any, rng: Any = None, **kwargs: Any
    ) -> tuple[Any, Params]:
        flat = as_flat(params, "params")
        flat_state = as_flat(state, "state", _STATE_FIX)
        if rng is not None:
            rng = _check_rng(rng, required=False)
        out, frame = _run(fn, False, True, rng, flat, flat_state, args, kwargs)
        return out, unflatten({**flat_state, **frame.assigned})

    return TransformedWithState(_named(init, fn), _named(apply, fn))


_STATE_FIX = (
    "the apply of sx.transform_with_state takes apply(params, state, *args) and returns "
    "(out, new_state): out, state = model.apply(params, state, x)."
)


def next_rng_key() -> jax.Array:
    """A fresh random key for the function being run (e.g. for dropout).

    Keys are derived from the ``rng`` given to ``init``/``apply`` and a per-trace
    counter, so the same ``rng`` gives the same keys. Inside a raw ``lax.scan``
    body the body is traced once, so every iteration would see the same key:
    pass per-step keys through the scan's ``xs`` instead.

    >>> import jax, scopax as sx
    >>> def noise():
    ...     return jax.random.normal(sx.next_rng_key(), (2,))
    >>> model = sx.transform(noise)
    >>> a = model.apply({}, rng=jax.random.key(1))
    >>> b = model.apply({}, rng=jax.random.key(1))
    >>> bool((a == b).all())
    True

    Raises:
      MissingRngError: no ``rng`` was given to ``apply``.
      NotInTransformError: called outside ``init``/``apply``.
    """
    frame = frame_lib.current_frame("sx.next_rng_key")
    if frame.rng is None:
        raise errors.MissingRngError()
    return frame_lib.next_key(frame)
