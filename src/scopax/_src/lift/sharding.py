"""Sharded parameters: logical axis rules and the ``NamedSharding`` tree of a model."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import jax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from scopax._src.core import errors
from scopax._src.core import frame as frame_lib

_RULES: contextvars.ContextVar[tuple[tuple[str, Any], ...] | None] = contextvars.ContextVar(
    "scopax_axis_rules", default=None
)


@contextlib.contextmanager
def axis_rules(rules: Sequence[tuple[str, Any]]) -> Iterator[None]:
    """Map logical axis names to mesh axes (or ``None``: replicated) while inside.

    As MaxText/T5X logical axis rules: ``get_variable(..., sharding=("embed",
    "mlp"))`` names each dimension; the rules say which mesh axis shards it.

    >>> import jax, scopax as sx
    >>> from jax.sharding import Mesh
    >>> mesh = Mesh(jax.devices()[:1], ("model",))
    >>> f = lambda: sx.get_variable("w", [4, 8], sharding=("embed", "mlp"))
    >>> with sx.axis_rules([("embed", None), ("mlp", "model")]):
    ...     shardings = sx.param_shardings(mesh, sx.transform(f).init, jax.random.key(0))
    >>> shardings["w"].spec
    P(None, 'model')
    """
    rules = tuple((str(name), axis) for name, axis in rules)
    token = _RULES.set(rules)
    try:
        yield
    finally:
        _RULES.reset(token)


def _resolve(name: str, spec: Any, rules: tuple[tuple[str, Any], ...] | None) -> PartitionSpec:
    if isinstance(spec, PartitionSpec):
        return spec
    table = dict(rules or ())
    axes = []
    for logical in spec:
        if logical is None:
            axes.append(None)
        elif logical in table:
            axes.append(table[logical])
        else:
            raise errors.ShardingError(
                name,
                f"logical axis {logical!r} has no rule; add one to sx.axis_rules, e.g. "
                f"sx.axis_rules([({logical!r}, 'model')]) to shard it or "
                f"({logical!r}, None) to replicate it.",
            )
    return PartitionSpec(*axes)


def param_shardings(
    mesh: Mesh, init_fn: Callable[..., Any], *init_args: Any, **init_kwargs: Any
) -> Any:
    """The ``NamedSharding`` tree of what ``init_fn`` returns, from an abstract init.

    Nothing is allocated (``jax.eval_shape``). Pass the result as ``out_shardings``
    of ``jax.jit(model.init)`` to create every parameter directly in its shards.
    Variables without ``sharding=`` are replicated.

    >>> import jax, numpy as np, scopax as sx
    >>> from jax.sharding import Mesh, PartitionSpec as P
    >>> mesh = Mesh(np.array(jax.devices()[:1]), ("data",))
    >>> model = sx.transform(lambda: sx.get_variable("w", [4, 2], sharding=P("data")))
    >>> shardings = sx.param_shardings(mesh, model.init, jax.random.key(0))
    >>> params = jax.jit(model.init, out_shardings=shardings)(jax.random.key(0))
    >>> params["w"].sharding.spec
    P('data',)
    """
    recorded: dict[str, Any] = {}
    token = frame_lib.RECORDER.set(recorded)
    try:
        # A fresh function each time: JAX caches traces by function, and a cache hit would
        # skip the init whose get_variable calls record the shardings.
        shapes = jax.eval_shape(lambda *a, **k: init_fn(*a, **k), *init_args, **init_kwargs)
    finally:
        frame_lib.RECORDER.reset(token)
    rules = _RULES.get()
    resolved = {name: _resolve(name, spec, rules) for name, spec in recorded.items()}

    def sharding_of(path: tuple[Any, ...], leaf: Any) -> NamedSharding:
        names = [getattr(k, "key", None) for k in path]
        # Walk the path from the innermost Params level: the key path below the
        # (params, state) tuple spells the full name.
        parts = [n for n in names if isinstance(n, str)]
        spec = resolved.get("/".join(parts), PartitionSpec())
        return NamedSharding(mesh, spec)

    return jax.tree_util.tree_map_with_path(sharding_of, shapes)
