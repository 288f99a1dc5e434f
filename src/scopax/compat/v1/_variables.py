"""TF1's variable API under its own signatures, on scopax's public core.

``get_variable`` and ``variable_scope`` take TF1's positional order and its extra
arguments; those that only steer TF1's runtime (``caching_device``, ``use_resource``...)
are accepted and have no effect, and those that would change the result in a way scopax
cannot reproduce raise, naming the replacement. ``Variable`` names variables as TF1 does
(``Variable``, ``Variable_1``, ...).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

import scopax as sx
from scopax import errors
from scopax.compat.v1._dtypes import as_dtype
from scopax.compat.v1._graph_only import GRAPH_ONLY

_PROTO = "build the variable with tf.Variable(initial_value) or tf.get_variable instead."
_PARTITIONER = (
    "scopax does not split variables; pass sharding= to sx.get_variable (with "
    "sx.axis_rules) to shard one across devices."
)
_CONSTRAINT = (
    "TF1 applies it after each optimizer step; apply it to the parameters after your "
    "optax update instead, and drop constraint=."
)


def _refuse(op: str, collections: Any, partitioner: Any, constraint: Any) -> None:
    if collections is not None:
        raise errors.GraphOnlyError(f"{op}(collections=...)", GRAPH_ONLY["get_collection"])
    if partitioner is not None:
        raise errors.OpArgumentError(op, f"partitioner={partitioner!r}", _PARTITIONER)
    if constraint is not None:
        raise errors.OpArgumentError(op, f"constraint={constraint!r}", _CONSTRAINT)


def get_variable(
    name: str,
    shape: Any = None,
    dtype: Any = None,
    initializer: Any = None,
    regularizer: Callable[[jax.Array], Any] | None = None,
    trainable: bool | None = None,
    collections: Any = None,
    caching_device: Any = None,
    partitioner: Any = None,
    validate_shape: bool = True,
    use_resource: Any = None,
    custom_getter: Callable[..., Any] | None = None,
    constraint: Any = None,
    synchronization: Any = None,
    aggregation: Any = None,
) -> jax.Array:
    """``sx.get_variable`` with TF1's signature (``regularizer`` and ``trainable`` fifth
    and sixth); ``custom_getter`` wraps this one call.

    >>> import jax, scopax as sx, scopax.compat.v1 as tf
    >>> def f():
    ...     with tf.variable_scope("layer"):
    ...         return tf.get_variable("w", [2], tf.float32, tf.zeros_initializer())
    >>> sx.transform(f).init(jax.random.key(0))["layer/w"]
    Array([0., 0.], dtype=float32)

    Raises:
      GraphOnlyError: ``collections`` is given.
      OpArgumentError: ``partitioner`` or ``constraint`` is given.
    """
    del caching_device, validate_shape, use_resource, synchronization, aggregation
    _refuse("get_variable", collections, partitioner, constraint)

    def get() -> jax.Array:
        return sx.get_variable(
            name,
            shape,
            None if dtype is None else as_dtype(dtype),
            initializer,
            trainable=trainable is not False,
            regularizer=regularizer,
        )

    if custom_getter is None:
        return get()
    with sx.variable_scope(sx.get_variable_scope(), custom_getter=custom_getter):
        return get()


def variable_scope(
    name_or_scope: Any,
    default_name: str | None = None,
    values: Any = None,
    initializer: Any = None,
    regularizer: Any = None,
    caching_device: Any = None,
    partitioner: Any = None,
    custom_getter: Callable[..., Any] | None = None,
    reuse: Any = None,
    dtype: Any = None,
    use_resource: Any = None,
    constraint: Any = None,
    auxiliary_name_scope: bool = True,
) -> sx.variable_scope:
    """``sx.variable_scope`` with TF1's signature.

    ``auxiliary_name_scope=False`` has no effect: scopax's scopes name ops as TF1's do.

    >>> import jax, scopax as sx, scopax.compat.v1 as tf
    >>> def f():
    ...     with tf.variable_scope("a", reuse=tf.AUTO_REUSE, caching_device="/cpu:0"):
    ...         return tf.get_variable("w", [1]) is tf.get_variable("w", [1])
    >>> sx.transform(f).apply(sx.transform(f).init(jax.random.key(0)))
    True

    Raises:
      OpArgumentError: ``partitioner`` or ``constraint`` is given.
    """
    del caching_device, use_resource, auxiliary_name_scope
    _refuse("variable_scope", None, partitioner, constraint)
    return sx.variable_scope(
        name_or_scope,
        default_name,
        values,
        reuse=reuse,
        initializer=initializer,
        dtype=None if dtype is None else as_dtype(dtype),
        custom_getter=custom_getter,
        regularizer=regularizer,
    )


def name_scope(name: str | None, default_name: str | None = None, values: Any = None) -> Any:
    """``sx.name_scope`` with TF1's signature: names ops, never variables.

    >>> import jax, scopax as sx, scopax.compat.v1 as tf
    >>> def f(x):
    ...     with tf.name_scope(None, "block", [x]):
    ...         return x * 2
    >>> float(sx.transform(f).apply({}, 1.0))
    2.0
    """
    del values
    return sx.name_scope(name if name else default_name)  # pyright: ignore[reportArgumentType]


def _force_new(getter: Callable[..., Any], name: str, *args: Any, **kwargs: Any) -> Any:
    kwargs["reuse"] = False  # TF1's tf.Variable ignores the scope's reuse flag.
    return getter(name, *args, **kwargs)


def Variable(  # TF1's capitalized name: tf.Variable was a class
    initial_value: Any = None,
    trainable: bool | None = None,
    collections: Any = None,
    validate_shape: bool = True,
    caching_device: Any = None,
    name: str | None = None,
    variable_def: Any = None,
    dtype: Any = None,
    expected_shape: Any = None,
    import_scope: Any = None,
    constraint: Any = None,
    use_resource: Any = None,
    synchronization: Any = None,
    aggregation: Any = None,
    shape: Any = None,
) -> jax.Array:
    """A new variable holding ``initial_value``, named ``name`` (default ``Variable``)
    made unique in the current variable scope: ``Variable``, ``Variable_1``, ...

    Like TF1, it always makes a new variable, even in a reusing scope. Unlike TF1, its
    name comes from the variable scope, not the name scope. ``trainable=False`` makes it
    state (run the model with ``sx.transform_with_state``). ``initial_value`` is computed
    in ``apply`` too, where it is unused (and dropped by ``jax.jit``); random initial
    values therefore need ``rng`` in ``apply``; ``tf.get_variable`` with an initializer
    does not.

    >>> import jax, jax.numpy as jnp, scopax as sx, scopax.compat.v1 as tf
    >>> def f():
    ...     with tf.variable_scope("net"):
    ...         w = tf.Variable(tf.zeros([2]))
    ...         b = tf.Variable([1.0, 2.0])
    ...     step = tf.Variable(0, trainable=False, name="global_step")
    ...     tf.assign_add(step, 1)
    ...     return w + b
    >>> model = sx.transform_with_state(f)
    >>> params, state = model.init(jax.random.key(0))
    >>> sorted(sx.flatten(params)), sx.flatten(state)
    (['net/Variable', 'net/Variable_1'], {'global_step': Array(0, dtype=int32)})
    >>> model.apply(params, state)[1]["global_step"]
    Array(1, dtype=int32)

    Raises:
      GraphOnlyError: ``collections`` or ``variable_def`` is given.
      OpArgumentError: no ``initial_value``, a ``shape`` that disagrees with it, or a
        ``constraint``.
    """
    del validate_shape, caching_device, import_scope, use_resource, synchronization
    del aggregation
    _refuse("Variable", collections, None, constraint)
    if variable_def is not None:
        raise errors.GraphOnlyError("Variable(variable_def=...)", _PROTO)
    if initial_value is None:
        raise errors.OpArgumentError(
            "Variable", "initial_value=None", "pass the initial value, e.g. tf.zeros([3])."
        )
    if callable(initial_value):
        initial_value = initial_value()
    value = jnp.asarray(initial_value, None if dtype is None else as_dtype(dtype))
    for expected, argument in ((shape, "shape"), (expected_shape, "expected_shape")):
        if expected is not None and tuple(expected) != value.shape:
            raise errors.OpArgumentError(
                "Variable",
                f"{argument}={expected!r}",
                f"the initial value has shape {value.shape}; make them agree.",
            )
    base = name or "Variable"
    scope = sx.get_variable_scope()
    with contextlib.ExitStack() as stack:
        if scope.reuse:
            stack.enter_context(sx.variable_scope(scope, custom_getter=_force_new))
        index = 0
        while True:  # The first free name: Variable, Variable_1, ...
            try:
                return sx.get_variable(
                    base if index == 0 else f"{base}_{index}",
                    value.shape,
                    value.dtype,
                    value,
                    trainable=trainable is not False,
                )
            except errors.VariableExistsError:
                index += 1


def _like(ref: Any, value: Any) -> Any:
    """``value`` in ``ref``'s dtype, as a strongly typed array (TF1's assign keeps the
    variable's dtype; a weakly typed Python scalar would change the state's type)."""
    dtype = getattr(ref, "dtype", None)
    if dtype is None or jnp.dtype(jnp.result_type(value)).kind != jnp.dtype(dtype).kind:
        return value  # sx.assign names the mismatch.
    return jnp.asarray(value, dtype)


def assign(
    ref: Any, value: Any, validate_shape: Any = None, use_locking: Any = None, name: Any = None
) -> jax.Array:
    """``sx.assign``: set a ``trainable=False`` variable's new value; returns it.

    >>> import jax, scopax as sx, scopax.compat.v1 as tf
    >>> def f():
    ...     v = tf.get_variable("v", [], tf.int32, trainable=False)
    ...     return tf.assign(v, 5)
    >>> model = sx.transform_with_state(f)
    >>> model.apply(*model.init(jax.random.key(0)))[1]["v"]
    Array(5, dtype=int32)
    """
    del validate_shape, use_locking, name
    return sx.assign(ref, _like(ref, value))


def assign_add(ref: Any, value: Any, use_locking: Any = None, name: Any = None) -> jax.Array:
    """``tf.assign(ref, ref + value)``; ``ref`` must be the variable's latest value.

    >>> import jax, scopax as sx, scopax.compat.v1 as tf
    >>> def f():
    ...     v = tf.Variable(1.0, trainable=False)
    ...     return tf.assign_add(v, 2.0)
    >>> model = sx.transform_with_state(f)
    >>> model.apply(*model.init(jax.random.key(0)))[1]["Variable"]
    Array(3., dtype=float32)
    """
    del use_locking, name
    return sx.assign(ref, _like(ref, ref + value))


def assign_sub(ref: Any, value: Any, use_locking: Any = None, name: Any = None) -> jax.Array:
    """``tf.assign(ref, ref - value)``; ``ref`` must be the variable's latest value.

    >>> import jax, scopax as sx, scopax.compat.v1 as tf
    >>> def f():
    ...     v = tf.Variable(1.0, trainable=False)
    ...     return tf.assign_sub(v, 2.0)
    >>> model = sx.transform_with_state(f)
    >>> model.apply(*model.init(jax.random.key(0)))[1]["Variable"]
    Array(-1., dtype=float32)
    """
    del use_locking, name
    return sx.assign(ref, _like(ref, ref - value))
