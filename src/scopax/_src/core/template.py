"""``make_template``: wrap a function so that every call shares one set of variables."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from scopax._src.core import errors
from scopax._src.core import frame as frame_lib
from scopax._src.core.scope import variable_scope


class Template:
    """A function whose first call in a trace creates its variables under a unique
    scope and whose later calls reuse them. Built by :func:`make_template`.

    The scope a template got lives in the trace, not in the object, so one
    template can be created once and used by ``init``, ``apply`` and any number of
    other traces.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> scale = sx.make_template("scale", lambda x: x * sx.get_variable("s", [], initializer=2.0))
    >>> model = sx.transform(lambda x: scale(scale(x)))
    >>> params = model.init(jax.random.key(0), 1.0)
    >>> sorted(sx.flatten(params)), model.apply(params, 1.0)
    (['scale/s'], Array(4., dtype=float32))
    """

    def __init__(
        self,
        name: str,
        func: Callable[..., Any],
        custom_getter: Callable[..., Any] | None,
        kwargs: dict[str, Any],
        unique_name: str | None = None,
    ):
        self.name = name
        self._unique_name = unique_name
        self._func = functools.partial(func, **kwargs) if kwargs else func
        self._custom_getter = custom_getter
        functools.update_wrapper(self, func)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        frame = frame_lib.current_frame(f"Template {self.name!r}")
        entry = frame.templates.get(self)
        if entry is None:
            with variable_scope(
                self._unique_name, default_name=self.name, custom_getter=self._custom_getter
            ) as scope:
                frame.templates[self] = (scope, False)
                out = self._func(*args, **kwargs)
        else:
            scope, created = entry
            # TF1: the scope is kept from the first call, but only a call that returned
            # counts as having created the variables; until then, calls create them.
            with variable_scope(scope, reuse=True if created else None):
                out = self._func(*args, **kwargs)
            if created:
                return out
        frame.templates[self] = (scope, True)
        return out

    def __repr__(self) -> str:
        return f"Template({self.name!r}, {self._func!r})"


def make_template(
    name_: str,
    func_: Callable[..., Any],
    create_scope_now_: bool = False,
    unique_name_: str | None = None,
    custom_getter_: Callable[..., Any] | None = None,
    **kwargs: Any,
) -> Template:
    """TF1's ``make_template``: share ``func_``'s variables across all its calls.

    The first call in a trace opens a unique scope (``name_``; a second template
    of the same name gets ``name__1``) and creates the variables; later calls
    re-enter that scope with ``reuse=True``.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> def dense(x):
    ...     return x @ sx.get_variable("w", [2, 2])
    >>> layer = sx.make_template("dense", dense)
    >>> def siamese(a, b):
    ...     return layer(a), layer(b)
    >>> model = sx.transform(siamese)
    >>> params = model.init(jax.random.key(0), jnp.ones((1, 2)), jnp.ones((1, 2)))
    >>> list(sx.flatten(params))
    ['dense/w']

    Args:
      name_: the scope name, made unique in the scope of the first call.
      func_: the function; it may call :func:`get_variable`.
      create_scope_now_: accepted for TF1 compatibility; scopes are always made
        at the first call in each trace.
      unique_name_: a fixed scope name to use instead of uniquifying ``name_``.
      custom_getter_: a custom getter for the template's scope.
      **kwargs: bound to ``func_`` on every call.

    Returns:
      A callable :class:`Template`.
    """
    del create_scope_now_
    if name_ is None or name_ == "":
        raise errors.ScopeArgumentError(
            f"make_template got name_={name_!r}; pass a non-empty string, the name of the "
            'scope its variables live in, e.g. sx.make_template("dense", fn).'
        )
    if not isinstance(name_, str):
        raise errors.TemplateArgumentError(
            f"make_template got name_={name_!r}, a {type(name_).__name__}; pass a non-empty string."
        )
    if not callable(func_):
        raise errors.TemplateArgumentError(
            f"make_template got func_={func_!r}, which is not callable; pass the function "
            "whose variables the template shares."
        )
    return Template(name_, func_, custom_getter_, kwargs, unique_name_)
