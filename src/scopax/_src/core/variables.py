"""``get_variable``, ``assign``, the custom-getter chain and regularizer losses.

``get_variable`` is the hot path of every trace: in ``apply`` it is a couple of
dict lookups and a shape/dtype comparison, and it never runs an initializer.
"""

from __future__ import annotations

import functools
import inspect
import math
import operator
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, SupportsIndex

import jax
import jax.numpy as jnp
import numpy as np
from jax.core import Tracer
from jax.sharding import PartitionSpec

from scopax._src.core import errors
from scopax._src.core import frame as frame_lib
from scopax._src.core.initializers import default_initializer


@functools.lru_cache(maxsize=256)
def _canonical(dtype: Any) -> np.dtype:
    return np.dtype(jax.dtypes.canonicalize_dtype(dtype))


def get_variable(
    name: str,
    shape: Sequence[SupportsIndex] | SupportsIndex | None = None,
    dtype: Any = None,
    initializer: Any = None,
    *,
    trainable: bool = True,
    regularizer: Callable[[jax.Array], jax.Array | None] | None = None,
    sharding: Any = None,
) -> jax.Array:
    """Create or reuse the variable ``<current scope>/name``.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> def f():
    ...     with sx.variable_scope("foo"):
    ...         v = sx.get_variable("v", [1], initializer=sx.constant_initializer(0.4))
    ...     with sx.variable_scope("foo", reuse=True):
    ...         v1 = sx.get_variable("v", [1])
    ...     return v1 is v, v
    >>> model = sx.transform(f)
    >>> params = model.init(jax.random.key(0))
    >>> params["foo/v"]
    Array([0.4], dtype=float32)
    >>> model.apply(params)
    (True, Array([0.4], dtype=float32))

    Args:
      name: the variable's name within the current variable scope.
      shape: its shape; may be omitted when reusing or when ``initializer`` is an array.
      dtype: its dtype; defaults to the scope's dtype (float32 at the root).
      initializer: ``f(key, shape, dtype) -> Array`` (every ``jax.nn.initializers``
        function works) or a concrete array or scalar. Defaults to the scope's
        initializer, else TF1's ``glorot_uniform`` for floats and zeros otherwise.
      trainable: ``False`` makes it state (see :func:`transform_with_state`).
      regularizer: ``f(variable) -> scalar loss or None``; see
        :func:`get_regularization_losses`.
      sharding: recorded for the custom getters; sharding rules build on it.

    Returns:
      The variable's value (a tracer under ``jax.jit``). Within one trace, getting
      the same variable again returns the identical object.

    Raises:
      VariableExistsError: a non-reusing scope and the name already exists.
      VariableNotFoundError: a reusing scope and the name does not exist yet.
      ShapeMismatchError, DtypeMismatchError: reuse with another shape or dtype.
      MissingParamError, ParamShapeError, ParamDtypeError: in ``apply``, the given
        tree lacks the variable or holds it with another shape or dtype.
    """
    frame = frame_lib.FRAME.get()
    if frame is None:
        raise errors.NotInTransformError("sx.get_variable")
    scope = frame.scope
    if type(name) is not str or not name:
        raise errors.ScopeArgumentError(
            f'get_variable got name={name!r}; pass a non-empty string such as "weights".'
        )
    full = scope._prefix + name
    if initializer is None:
        initializer = scope.initializer
    explicit = dtype is not None or scope._dtype_explicit
    dtype = scope.dtype if dtype is None else dtype
    if regularizer is None:
        regularizer = scope.regularizer
    reuse = scope._reuse
    if scope.custom_getter is None:
        return _true_get(
            frame,
            full,
            shape,
            dtype,
            explicit,
            initializer,
            regularizer,
            trainable,
            reuse,
            sharding,
        )

    def getter(
        name: str,
        shape: Sequence[int] | None = None,
        dtype: Any = None,
        initializer: Any = None,
        regularizer: Any = None,
        reuse: Any = None,
        trainable: bool | None = None,
        sharding: Any = None,
        **unused: Any,
    ) -> jax.Array:
        del unused
        # A getter that changes the dtype asks for it explicitly.
        checked = explicit or dtype is not default_dtype
        return _true_get(
            frame,
            name,
            shape,
            _FLOAT32 if dtype is None else dtype,
            checked,
            initializer,
            regularizer,
            trainable is not False,
            reuse,
            sharding,
        )

    default_dtype = dtype
    return scope.custom_getter(
        getter,
        name=full,
        shape=shape,
        dtype=dtype,
        initializer=initializer,
        regularizer=regularizer,
        trainable=trainable,
        reuse=reuse,
        sharding=sharding,
    )


_FLOAT32 = np.dtype("float32")


def _true_get(
    frame: frame_lib.Frame,
    name: str,
    shape: Any,
    dtype: Any,
    check_dtype: bool,
    initializer: Any,
    regularizer: Any,
    trainable: bool,
    reuse: Any,
    sharding: Any,
) -> jax.Array:
    if shape is not None:
        shape = shape_tuple(name, shape)
    value = frame.values.get(name)
    if value is not None:
        if not reuse:
            raise errors.VariableExistsError(name)
        if shape is not None and shape != value.shape:
            raise errors.ShapeMismatchError(name, shape, value.shape)
        if check_dtype and _canonical(dtype) != value.dtype:
            raise errors.DtypeMismatchError(name, _canonical(dtype), value.dtype)
        return value
    if frame.is_init:
        if reuse is True:
            raise errors.VariableNotFoundError(name)
        value = _create(frame, name, shape, dtype, check_dtype, initializer, trainable)
        if sharding is not None:
            frame.shardings[name] = check_sharding(name, sharding, value.ndim)
    else:
        value = _read(frame, name, shape, dtype, check_dtype, initializer, trainable)
    frame.values[name] = value
    if regularizer is not None:
        frame.reg_losses.append((name, regularizer, value))
    return value


def check_sharding(name: str, sharding: Any, ndim: int) -> Any:
    """A ``PartitionSpec`` or a tuple of logical axis names, one entry per dimension."""
    entries = tuple(sharding) if isinstance(sharding, PartitionSpec | tuple | list) else None
    ok = entries is not None and all(
        e is None
        or isinstance(e, str)
        or (isinstance(e, tuple) and all(isinstance(a, str) for a in e))
        for e in entries
    )
    if not ok or entries is None or len(entries) > ndim:
        raise errors.ShardingError(
            name,
            f"sharding={sharding!r} is not a PartitionSpec or a tuple of logical axis names "
            f"with at most {ndim} entries (one per dimension); pass e.g. "
            f"sharding={('embed', 'mlp')[:ndim] or ()!r} or PartitionSpec(...).",
        )
    return sharding


def check_new_name(frame: frame_lib.Frame, name: str) -> None:
    prefixes = frame.prefixes
    if name in prefixes:
        other = next(n for n in frame.values if n.startswith(name + "/"))
        raise errors.NameConflictError(name, other)
    cut = name.rfind("/")
    if cut == -1 or name[:cut] in prefixes:
        # A known scope: it and every scope above it were checked against the variables
        # when first added, and a variable can never take a name that is in `prefixes`.
        return
    cut = name.find("/")
    while cut != -1:
        prefix = name[:cut]
        if prefix in frame.values:
            raise errors.NameConflictError(name, prefix)
        prefixes.add(prefix)
        cut = name.find("/", cut + 1)


def _is_concrete(initializer: Any) -> bool:
    # Hot path: one builtin call. What is neither None nor callable must be an array-like;
    # jnp.asarray rejects anything else where the value is made.
    return initializer is not None and not callable(initializer)


def _create(
    frame: frame_lib.Frame,
    name: str,
    shape: tuple[int, ...] | None,
    dtype: Any,
    explicit: bool,
    initializer: Any,
    trainable: bool,
) -> jax.Array:
    if not trainable and not frame.with_state:
        raise _no_state(frame, name)
    if frame.in_inner_trace():
        raise errors.InnerTraceError(name)
    check_new_name(frame, name)
    recipe = _Recipe(name, initializer, shape, dtype, explicit, trainable)
    value = make_value(recipe, frame.rng)
    if frame.recipes is not None:
        if _is_concrete(initializer) and _holds_tracer(initializer):
            frame.recipes = None  # A value computed in the trace: only a run can make it.
        else:
            frame.recipes.append(recipe)
    add_created(frame, name, value, trainable)
    return value


class _Recipe(NamedTuple):
    """How ``init`` makes one variable: everything :func:`make_value` reads."""

    name: str
    initializer: Any
    shape: tuple[int, ...] | None
    dtype: Any
    explicit: bool
    trainable: bool


def make_value(recipe: _Recipe, rng: Any) -> jax.Array:
    """The initial value of a new variable: the one place where initializers run.

    ``init`` calls it while tracing the function, and again, outside that trace, for
    each recipe that discovery recorded; the same arguments give the same value.
    """
    name, initializer, shape, dtype = recipe.name, recipe.initializer, recipe.shape, recipe.dtype
    if _is_concrete(initializer):
        try:
            # A strong dtype even for Python scalars, so init and apply agree on it.
            value = jnp.asarray(
                initializer,
                dtype=_canonical(dtype) if recipe.explicit else _concrete_dtype(initializer),
            )
        except TypeError as e:
            raise errors.InitializerSignatureError(name, initializer, e) from e
        if shape is not None and shape != value.shape:
            raise errors.InitializerShapeError(name, shape, value.shape, "the initializer array")
        return value
    if shape is None:
        raise errors.ShapeRequiredError(name)
    dtype = _canonical(dtype)
    _check_size(name, shape, dtype)
    if initializer is None:
        initializer = default_initializer(dtype)
    # A constant ignores its key; deriving one would cost a fold_in.
    uses_key = getattr(initializer, "uses_key", True)
    key = frame_lib.variable_key(rng, name) if uses_key else rng
    return _call_initializer(name, initializer, key, shape, dtype)


def _holds_tracer(value: Any) -> bool:
    return any(isinstance(leaf, Tracer) for leaf in jax.tree_util.tree_leaves(value))


def add_created(frame: frame_lib.Frame, name: str, value: Any, trainable: bool) -> None:
    """Record a variable that ``init`` made: the one place where the created trees grow.

    :func:`get_variable` makes values with their initializers; the lifted transforms
    (``sx.layer_stack``, per-member ``sx.vmap``) make them stacked, in a mapped body,
    and record them here after their own existence and name checks.
    """
    if trainable:
        frame.created_params[name] = value
    else:
        frame.created_state[name] = value
        frame.state_ids[id(value)] = (name, value)
    if frame.recipes is not None and (not frame.recipes or frame.recipes[-1].name != name):
        frame.recipes = None  # Made elsewhere (a stacked body): only a run can make it.


def _no_state(frame: frame_lib.Frame, name: str) -> Exception:
    if frame.stacked is not None:
        return errors.LiftedTransformError(
            name,
            f"it is not trainable (trainable=False), and the stacked members of "
            f"{frame.stacked!r} (sx.layer_stack, per-member sx.vmap) cannot hold state; create "
            "it outside the stack and pass it in.",
        )
    return errors.NonTrainableInTransformError(name)


def shape_tuple(name: str, shape: Any) -> tuple[int, ...]:
    """``shape`` as a tuple of non-negative ints, or the error TF1 raises for it.

    TF1 takes a sequence of integers (numpy integers too) or a single integer; a float,
    a bool, a string or a string's characters is a ``TypeError``, as is any dimension
    without ``__index__``; ``None`` in it means "not fully defined".
    """
    kind = type(shape)
    if kind is tuple or kind is list:
        for d in shape:
            if type(d) is not int or d < 0:
                break
        else:
            return shape if kind is tuple else tuple(shape)  # The common case: all checked.
        dims = shape
    elif isinstance(shape, str | bytes):
        raise errors.ShapeTypeError(name, shape, "a string is not a shape")
    else:
        try:
            dims = tuple(shape)
        except TypeError:
            if not hasattr(shape, "__index__") or isinstance(shape, bool):
                raise errors.ShapeTypeError(name, shape, "it is not a sequence") from None
            dims = (shape,)  # TF1: a single integer is the shape [n].
    result = []
    for d in dims:
        if type(d) is not int:
            if d is None:
                raise errors.ShapeRequiredError(name)
            if isinstance(d, bool) or not hasattr(d, "__index__"):
                raise errors.ShapeTypeError(
                    name, shape, f"dimension {d!r} is a {type(d).__name__}, not an integer"
                )
            try:
                d = operator.index(d)
            except TypeError as e:  # A traced value: shapes are static in JAX.
                raise errors.ShapeTypeError(name, shape, f"dimension {d!r}: {e}") from None
        if d < 0:
            raise errors.InvalidShapeError(
                name, shape, f"dimension {d} is negative; every dimension must be >= 0"
            )
        result.append(d)
    return tuple(result)


# XLA aborts the process (it does not raise) on arrays whose element count overflows its
# index arithmetic, seen from 2**60 elements; 2**56 bytes (64 PiB) is far above any device.
_MAX_BYTES = 2**56


def _check_size(name: str, shape: tuple[int, ...], dtype: np.dtype) -> None:
    size = math.prod(shape) * dtype.itemsize
    if size > _MAX_BYTES:
        raise errors.InvalidShapeError(
            name,
            list(shape),
            f"{math.prod(shape)} elements of {dtype} take {size} bytes, more than one array "
            f"can hold ({_MAX_BYTES} bytes); check the shape",
        )


def _call_initializer(
    name: str, initializer: Any, key: Any, shape: tuple[int, ...], dtype: np.dtype
) -> jax.Array:
    try:
        value = initializer(key, shape, dtype)
    except TypeError as e:
        if not callable(initializer) or not _accepts_three(initializer):
            raise errors.InitializerSignatureError(name, initializer, e) from e
        raise
    if not isinstance(value, jax.Array):
        value = jnp.asarray(value)
    if value.shape != shape:
        raise errors.InitializerShapeError(name, shape, value.shape, "its initializer's output")
    if value.dtype != dtype:
        raise errors.InitializerDtypeError(name, dtype, value.dtype)
    return value


def _accepts_three(fn: Callable[..., Any]) -> bool:
    try:
        inspect.signature(fn).bind(None, (), None)
    except TypeError:
        return False
    except ValueError:  # No signature available (some builtins): assume it is fine.
        return True
    return True


def _read(
    frame: frame_lib.Frame,
    name: str,
    shape: tuple[int, ...] | None,
    dtype: Any,
    explicit: bool,
    initializer: Any,
    trainable: bool,
) -> jax.Array:
    if trainable:
        source, collection = frame.in_params, "params"
    elif frame.with_state:
        source, collection = frame.in_state, "state"
    else:
        raise _no_state(frame, name)
    assert source is not None
    value = source.get(name)
    if value is None:
        other = frame.in_state if trainable else frame.in_params
        found = other is not None and name in other
        raise errors.MissingParamError(
            name, collection, ("state" if trainable else "params") if found else None
        )
    if _is_concrete(initializer):
        expected_shape = np.shape(initializer)
        if not explicit:
            dtype = _concrete_dtype(initializer)
    elif shape is None:
        raise errors.ShapeRequiredError(name)
    else:
        expected_shape = shape
    # A tracer's or jax.Array's aval holds shape and dtype as plain attributes (the
    # array's own are properties); numpy arrays have them directly.
    aval = getattr(value, "aval", value)
    try:
        got_shape, got_dtype = aval.shape, aval.dtype
    except AttributeError:
        raise errors.ParamTypeError(name, collection, value) from None
    if got_shape != expected_shape:
        raise errors.ParamShapeError(name, tuple(expected_shape), got_shape)
    # Builtin numpy dtypes are singletons: the identity test nearly always settles it.
    if got_dtype is not dtype and got_dtype != _canonical(dtype):
        raise errors.ParamDtypeError(name, _canonical(dtype), got_dtype)
    if not trainable:
        frame.state_ids[id(value)] = (name, value)
    return value


def _concrete_dtype(x: Any) -> np.dtype:
    dtype = getattr(x, "dtype", None)
    if dtype is None:
        dtype = jnp.asarray(x).dtype
    return _canonical(dtype)
