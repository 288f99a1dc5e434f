"""Variable scopes: ``VariableScope``, ``variable_scope``, ``name_scope``, ``AUTO_REUSE``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import numpy as np

from scopax._src.core import errors
from scopax._src.core import frame as frame_lib


class _ReuseMode:
    """The type of :data:`AUTO_REUSE`; truthy, so ``reuse or outer.reuse`` keeps it."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "AUTO_REUSE"

    def __reduce__(self) -> str:
        return "AUTO_REUSE"


AUTO_REUSE: Any = _ReuseMode()
"""``reuse=AUTO_REUSE``: ``get_variable`` creates a variable if missing, reuses it if present.

>>> import jax, scopax as sx
>>> def f():
...     with sx.variable_scope("s", reuse=sx.AUTO_REUSE):
...         a = sx.get_variable("v", [2])
...         b = sx.get_variable("v", [2])
...     return a is b
>>> sx.transform(f).apply(sx.transform(f).init(jax.random.key(0)))
True
"""

_FLOAT32 = np.dtype("float32")


class VariableScope:
    """A variable scope: a name prefix plus the defaults its variables inherit.

    Yielded by :func:`variable_scope` and returned by :func:`get_variable_scope`;
    passing one back to :func:`variable_scope` re-enters that absolute scope.

    >>> import jax, scopax as sx
    >>> def f():
    ...     with sx.variable_scope("foo") as scope:
    ...         return scope.name, scope.original_name_scope, scope.reuse
    >>> sx.transform(f).apply({})
    ('foo', 'foo/', False)
    """

    __slots__ = (
        "_dtype_explicit",
        "_prefix",
        "_reuse",
        "custom_getter",
        "dtype",
        "initializer",
        "name",
        "original_name_scope",
        "regularizer",
    )

    def __init__(
        self,
        reuse: Any,
        name: str = "",
        initializer: Any = None,
        regularizer: Any = None,
        dtype: Any = _FLOAT32,
        custom_getter: Callable[..., Any] | None = None,
        original_name_scope: str = "",
        *,
        dtype_explicit: bool = False,
    ):
        self._reuse = reuse
        self.name = name
        self.initializer = initializer
        self.regularizer = regularizer
        self.dtype = dtype
        self.custom_getter = custom_getter
        self.original_name_scope = original_name_scope
        # Whether `dtype` came from a variable_scope(dtype=...) rather than the root default:
        # only then does it take part in reuse checks (TF1 behaviour).
        self._dtype_explicit = dtype_explicit
        self._prefix = name + "/" if name else ""

    @property
    def reuse(self) -> Any:
        """``False``, ``True`` or :data:`AUTO_REUSE`."""
        return self._reuse

    def reuse_variables(self) -> None:
        """Make this scope reuse variables from now on (it cannot be switched back).

        >>> import jax, scopax as sx
        >>> def f():
        ...     with sx.variable_scope("foo") as scope:
        ...         v = sx.get_variable("v", [1])
        ...         scope.reuse_variables()
        ...         return sx.get_variable("v", [1]) is v
        >>> sx.transform(f).apply(sx.transform(f).init(jax.random.key(0)))
        True
        """
        self._reuse = True

    def _with_reuse(self, reuse: Any) -> VariableScope:
        """A copy of this scope with another reuse flag (for lifted transforms' bodies)."""
        return VariableScope(
            reuse,
            self.name,
            self.initializer,
            self.regularizer,
            self.dtype,
            self.custom_getter,
            self.original_name_scope,
            dtype_explicit=self._dtype_explicit,
        )

    def __repr__(self) -> str:
        return f"VariableScope(name={self.name!r}, reuse={self._reuse!r})"


def get_variable_scope() -> VariableScope:
    """The current :class:`VariableScope` of the function being traced.

    >>> import jax, scopax as sx
    >>> def f():
    ...     with sx.variable_scope("a"), sx.variable_scope("b"):
    ...         return sx.get_variable_scope().name
    >>> sx.transform(f).apply({})
    'a/b'

    Raises:
      NotInTransformError: outside ``init``/``apply`` of a transformed function.
    """
    return frame_lib.current_frame("sx.get_variable_scope").scope


def _chain_getters(inner: Callable[..., Any], outer: Callable[..., Any]) -> Callable[..., Any]:
    """TF1 chaining: the inner getter runs first, with a getter that runs the outer one."""

    def chained(getter: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return inner(functools.partial(outer, getter), *args, **kwargs)

    return chained


def _check_reuse(reuse: Any) -> Any:
    if reuse is None or reuse is False:
        return None  # TF1: False means "inherit", a scope cannot switch reuse off.
    if reuse is True or reuse is AUTO_REUSE:
        return reuse
    raise errors.ScopeArgumentError(
        f"variable_scope got reuse={reuse!r}; pass True, False, None or sx.AUTO_REUSE."
    )


class variable_scope:
    """Open a variable scope: a name prefix for variables and defaults they inherit.

    >>> import jax, scopax as sx
    >>> def f():
    ...     with sx.variable_scope("foo"):
    ...         with sx.variable_scope("bar"):
    ...             v = sx.get_variable("v", [1])
    ...     with sx.variable_scope("foo", reuse=True):
    ...         v1 = sx.get_variable("bar/v", [1])
    ...     return v1 is v
    >>> params = sx.transform(f).init(jax.random.key(0))
    >>> list(sx.flatten(params))
    ['foo/bar/v']

    Args:
      name_or_scope: a string (nested like a path under the current scope) or a
        captured :class:`VariableScope` (re-entered as the absolute scope it names;
        op names are not changed).
      default_name: with ``name_or_scope=None``, a name made unique in the current
        scope: ``conv``, ``conv_1``, ...
      values: accepted and ignored, so ported TF1 calls run unchanged.
      reuse: ``True`` or :data:`AUTO_REUSE` to reuse variables; inherited by every
        sub-scope. ``None``/``False`` inherit the enclosing scope's flag.
      initializer: default initializer of variables in this scope.
      dtype: default dtype of variables in this scope.
      custom_getter: ``getter(next_getter, name, **kwargs)`` wrapping every
        ``get_variable``; chained with enclosing scopes' getters, innermost first.
      regularizer: default regularizer of variables in this scope.

    Raises:
      ScopeNameMissingError: neither ``name_or_scope`` nor ``default_name``.
      ScopeArgumentError: ``default_name`` with ``reuse=True``/``AUTO_REUSE``, or a
        bad argument.
    """

    __slots__ = (
        "_custom_getter",
        "_default_name",
        "_dtype",
        "_initializer",
        "_name_or_scope",
        "_plain",
        "_regularizer",
        "_reuse",
        "_stack",
    )

    def __init__(
        self,
        name_or_scope: str | VariableScope | None,
        default_name: str | None = None,
        values: Any = None,
        *,
        reuse: Any = None,
        initializer: Any = None,
        dtype: Any = None,
        custom_getter: Callable[..., Any] | None = None,
        regularizer: Any = None,
    ):
        del values
        if name_or_scope is None:
            if default_name is None:
                raise errors.ScopeNameMissingError()
            if reuse:
                raise errors.ScopeArgumentError(
                    f"variable_scope(None, default_name={default_name!r}) cannot reuse: a "
                    f"uniquified name ({default_name}, {default_name}_1, ...) never names an "
                    f"existing scope. Pass the name instead: "
                    f"variable_scope({default_name!r}, reuse={reuse!r})."
                )
            _check_name(default_name, "default_name")
        elif type(name_or_scope) is str:
            if not name_or_scope or name_or_scope[0] == "/" or name_or_scope[-1] == "/":
                _check_name(name_or_scope, "name_or_scope")
        elif isinstance(name_or_scope, str):
            _check_name(name_or_scope, "name_or_scope")
        elif not isinstance(name_or_scope, VariableScope):
            raise errors.ScopeArgumentError(
                f"variable_scope got name_or_scope={name_or_scope!r}; pass a string, a "
                "VariableScope, or None with a default_name."
            )
        if custom_getter is not None and not callable(custom_getter):
            raise errors.ScopeArgumentError(
                f"variable_scope got custom_getter={custom_getter!r}, which is not callable; "
                "pass a function getter(next_getter, name, *args, **kwargs)."
            )
        self._name_or_scope = name_or_scope
        self._default_name = default_name
        self._reuse = None if reuse is None else _check_reuse(reuse)
        self._initializer = initializer
        self._dtype = None if dtype is None else np.dtype(dtype)
        self._custom_getter = custom_getter
        self._regularizer = regularizer
        # The name, when this scope only renames: then entering it copies the outer defaults.
        self._plain = (
            name_or_scope
            if type(name_or_scope) is str
            and initializer is None
            and dtype is None
            and custom_getter is None
            and regularizer is None
            else None
        )
        self._stack: list[_Entered] = []

    def __enter__(self) -> VariableScope:
        frame = frame_lib.FRAME.get()
        if frame is None:
            raise errors.NotInTransformError("sx.variable_scope")
        old = frame.scope
        counts = frame.scope_counts
        plain = self._plain
        if plain is not None:
            # A string scope that only extends the name: the common case, once per layer.
            name = old._prefix + plain
            scope = VariableScope(
                self._reuse or old._reuse,
                name,
                old.initializer,
                old.regularizer,
                old.dtype,
                old.custom_getter,
                frame.name_scope + plain + "/",
                dtype_explicit=old._dtype_explicit,
            )
            parent = frame.count_node
            if parent is not None and "/" not in plain:
                node = counts.open_child(parent, plain)
            else:
                node = counts.open(name)
            named = None if _is_eager(frame) else jax.named_scope(plain)
            self._stack.append(
                _Entered(frame, scope, old, frame.name_scope, named, None, node, parent)
            )
            frame.scope = scope
            frame.count_node = node
            frame.name_scope = scope.original_name_scope
            if named is not None:
                named.__enter__()
            return scope
        target = self._name_or_scope
        if isinstance(target, VariableScope):
            base = target
            name = target.name
            reuse = self._reuse or target.reuse
            original = target.original_name_scope
            # TF1 names the ops under the current name scope, by the scope's last part.
            op_scope = name.rsplit("/", 1)[-1]
        else:
            if target is None:
                target = _unique_name(frame, old, self._default_name or "")
            base = old
            name = old._prefix + target
            reuse = self._reuse or old.reuse
            original = frame.name_scope + target + "/"
            op_scope = target
        getter = base.custom_getter
        if self._custom_getter is not None:
            getter = (
                self._custom_getter
                if getter is None
                else _chain_getters(self._custom_getter, getter)
            )
        scope = VariableScope(
            reuse,
            name,
            base.initializer if self._initializer is None else self._initializer,
            base.regularizer if self._regularizer is None else self._regularizer,
            base.dtype if self._dtype is None else self._dtype,
            getter,
            original,
            dtype_explicit=base._dtype_explicit or self._dtype is not None,
        )
        node = counts.open(name) if name else None
        # TF1 restores every count on leaving a re-entered scope object, and forgets the
        # counts below a named scope on leaving it.
        saved = counts.mark() if isinstance(target, VariableScope) else None
        named = None
        if op_scope and not _is_eager(frame):
            named = jax.named_scope(op_scope)
        self._stack.append(
            _Entered(frame, scope, old, frame.name_scope, named, saved, node, frame.count_node)
        )
        frame.scope = scope
        frame.count_node = counts.root if node is None else node
        if op_scope:
            frame.name_scope += op_scope + "/"
        if named is not None:
            named.__enter__()
        return scope

    def __exit__(self, exc_type: Any, exc: Any, traceback: Any) -> None:
        entered = self._stack.pop()
        frame = entered.frame
        if frame.scope is not entered.scope:
            # TF1 raises too: restoring the outer scope here would leave the inner one's
            # exit restoring a scope that is no longer open.
            raise RuntimeError(
                f"Improper nesting of variable_scope: leaving {entered.scope.name!r} while "
                f"{frame.scope.name!r} inside it is still open; leave scopes in the reverse "
                "order of entering them (nest them as with-blocks)."
            )
        if entered.saved is not None:
            frame.scope_counts.undo(entered.saved)
        elif entered.node is not None and entered.node.children:
            frame.scope_counts.forget_below(entered.node)
        frame.scope = entered.outer
        frame.count_node = entered.count_node
        frame.name_scope = entered.name_scope
        if entered.named is not None:
            entered.named.__exit__(exc_type, exc, traceback)


class _Entered(NamedTuple):
    """What leaving a :class:`variable_scope` restores in the frame it was entered in."""

    frame: frame_lib.Frame
    scope: VariableScope  # The scope entered: must be the current one when leaving.
    outer: VariableScope
    name_scope: str
    named: Any  # The jax.named_scope entered, or None when eager or unnamed.
    saved: int | None  # A ScopeCounts mark to undo to (re-entered scope objects), or None.
    node: Any  # The scope's count node, whose counts below are forgotten on leaving.
    count_node: Any  # The outer scope's count node.


def _is_eager(frame: frame_lib.Frame) -> bool:
    """Whether ops traced now run outside every trace, so op names reach no program."""
    return frame.eager and frame_lib.is_eager()


def _check_name(name: Any, argument: str) -> None:
    if not isinstance(name, str) or not name or name.startswith("/") or name.endswith("/"):
        raise errors.ScopeArgumentError(
            f"variable_scope got {argument}={name!r}; pass a non-empty string without a "
            'leading or trailing "/", such as "conv1" or "encoder/layer_0".'
        )


def _unique_name(frame: frame_lib.Frame, scope: VariableScope, prefix: str) -> str:
    counts = frame.scope_counts
    base = scope._prefix + prefix
    if counts.peek(base) == 0:
        return prefix
    index = 1
    while counts.peek(f"{base}_{index}") > 0:
        index += 1
    return f"{prefix}_{index}"


class name_scope:
    """Name the ops traced inside (via ``jax.named_scope``); never changes variable names.

    The names reach jaxprs, HLO metadata and profiler traces.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> def f(x):
    ...     with sx.variable_scope("foo"), sx.name_scope("bar"):
    ...         v = sx.get_variable("v", [1])
    ...         return v + x
    >>> model = sx.transform(f)
    >>> params = model.init(jax.random.key(0), jnp.ones(1))
    >>> list(sx.flatten(params))
    ['foo/v']
    >>> "foo/bar/add" in jax.jit(model.apply).lower(params, jnp.ones(1)).as_text(debug_info=True)
    True
    """

    __slots__ = ("_name", "_stack")

    def __init__(self, name: str):
        if not isinstance(name, str) or not name:
            raise errors.ScopeArgumentError(
                f'name_scope got name={name!r}; pass a non-empty string such as "block".'
            )
        self._name = name
        self._stack: list[tuple[frame_lib.Frame | None, str, Any]] = []

    def __enter__(self) -> str:
        frame = frame_lib.maybe_frame()
        old = ""
        if frame is not None:
            old = frame.name_scope
            frame.name_scope = old + self._name + "/"
        # As in variable_scope: outside every trace a name reaches no program.
        named = None if frame_lib.is_eager() else jax.named_scope(self._name)
        self._stack.append((frame, old, named))
        if named is not None:
            named.__enter__()
        return old + self._name + "/"

    def __exit__(self, exc_type: Any, exc: Any, traceback: Any) -> None:
        frame, old, named = self._stack.pop()
        if named is not None:
            named.__exit__(exc_type, exc, traceback)
        if frame is not None:
            frame.name_scope = old
