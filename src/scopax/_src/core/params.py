"""The immutable parameter tree, and ``flatten`` / ``unflatten``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import jax
import numpy as np

from scopax._src.core import errors


class Params(Mapping[str, Any]):
    """An immutable tree of variables, nested by scope, indexable by full name.

    A registered pytree: ``jax.tree_util`` maps keep the type, and key paths
    spell the variable names.

    >>> import jax.numpy as jnp, scopax as sx
    >>> p = sx.unflatten({"conv1/weights": jnp.zeros((5, 5, 3, 8)), "conv1/biases": jnp.zeros(8)})
    >>> p["conv1"]["weights"].shape, p["conv1/biases"].shape
    ((5, 5, 3, 8), (8,))
    >>> p
    Params(2 variables, 608 parameters:
      conv1/biases   float32[8]
      conv1/weights  float32[5,5,3,8]
    )
    """

    __slots__ = ("__weakref__", "_dict", "_flat", "_node")

    # The children by key, built on first use: jit unflattens every argument node by
    # node (twice per trace), and apply only needs the flat view, which _node gives.
    _dict: dict[str, Any] | None
    _flat: dict[str, Any] | None
    # (children, keys) as the pytree flattening returns them: computed once, because jit
    # flattens every argument several times per trace and the tree never changes.
    _node: tuple[tuple[Any, ...], tuple[str, ...]]

    def __init__(self, tree: Mapping[str, Any] | None = None):
        built = unflatten(flatten(tree)) if tree is not None else _make({})
        object.__setattr__(self, "_dict", built._dict)
        object.__setattr__(self, "_flat", built._flat)
        object.__setattr__(self, "_node", built._node)

    @property
    def _data(self) -> dict[str, Any]:
        data = self._dict
        if data is None:
            children, keys = self._node
            data = dict(zip(keys, children, strict=True))
            object.__setattr__(self, "_dict", data)
        return data

    def __getitem__(self, key: str) -> Any:
        data = self._data
        if key in data:
            return data[key]
        if isinstance(key, str) and "/" in key:
            node: Any = self
            for part in key.split("/"):
                if not isinstance(node, Params) or part not in node._data:
                    raise KeyError(key)
                node = node._data[part]
            return node
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        try:
            self[key]  # type: ignore[index]
        except KeyError:
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __setitem__(self, key: str, value: Any) -> None:
        raise errors.ParamsImmutableError(f"set item {key!r}")

    def __delitem__(self, key: str) -> None:
        raise errors.ParamsImmutableError(f"delete item {key!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise errors.ParamsImmutableError(f"set attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        raise errors.ParamsImmutableError(f"delete attribute {name!r}")

    def flat(self) -> dict[str, Any]:
        """The leaves keyed by full name (cached; do not mutate)."""
        flat = self._flat
        if flat is None:
            flat = {}
            children, keys = self._node
            _flatten_into(zip(keys, children, strict=True), "", flat)
            object.__setattr__(self, "_flat", flat)
        return flat

    def __repr__(self) -> str:
        flat = self.flat()
        if not flat:
            return "Params({})"
        rows = [(name, _describe(leaf)) for name, leaf in flat.items()]
        width = max(len(name) for name, _ in rows)
        noun = "variable" if len(rows) == 1 else "variables"
        head = f"{len(rows)} {noun}"
        if all(hasattr(leaf, "shape") and hasattr(leaf, "dtype") for leaf in flat.values()):
            count = sum(int(np.prod(leaf.shape)) for leaf in flat.values())
            head += f", {count:,} parameter{'' if count == 1 else 's'}"
        body = "\n".join(f"  {name.ljust(width)}  {desc}" for name, desc in rows)
        return f"Params({head}:\n{body}\n)"

    def __reduce__(self) -> Any:
        return (unflatten, (dict(self.flat()),))


def _describe(leaf: Any) -> str:
    shape = getattr(leaf, "shape", None)
    dtype = getattr(leaf, "dtype", None)
    if shape is None or dtype is None:
        return repr(leaf)
    return f"{np.dtype(dtype).name}[{','.join(str(d) for d in shape)}]"


def _make(
    data: dict[str, Any], node: tuple[tuple[Any, ...], tuple[str, ...]] | None = None
) -> Params:
    tree = object.__new__(Params)
    object.__setattr__(tree, "_dict", data)
    object.__setattr__(tree, "_flat", None)
    object.__setattr__(tree, "_node", node or (tuple(data.values()), tuple(data)))
    return tree


def _flatten_into(items: Iterable[tuple[str, Any]], prefix: str, out: dict[str, Any]) -> None:
    """Add the leaves under ``items`` (a node's ``(key, child)`` pairs) to ``out``."""
    for key, value in items:
        if type(key) is not str:
            raise errors.UnflattenError(
                f"Parameter tree key {prefix}{key!r} is a {type(key).__name__}; every key must "
                "be a string (a scope or variable name)."
            )
        kind = type(value)
        if kind is Params:
            children, keys = value._node  # No dict built: the cached node is enough.
            _flatten_into(zip(keys, children, strict=True), prefix + key + "/", out)
        elif _is_mapping_type(kind):
            _flatten_into(value.items(), prefix + key + "/", out)
        else:
            name = prefix + key
            if name in out:
                # Both {"d/k": ...} and {"d": {"k": ...}}: neither may silently win.
                raise errors.UnflattenError(
                    f"Variable {name} appears twice in the parameter tree, once under a key "
                    'with "/" and once nested; keep one of them.'
                )
            out[name] = value


_MAPPING_TYPES: dict[type, bool] = {}


def _is_mapping_type(kind: type) -> bool:
    # isinstance(x, Mapping) is an ABC check, slow enough to matter once per leaf on
    # every apply under jit (whose Params hold fresh tracers); the answer per type is not.
    answer = _MAPPING_TYPES.get(kind)
    if answer is None:
        answer = _MAPPING_TYPES[kind] = issubclass(kind, Mapping)
    return answer


def flatten(tree: Mapping[str, Any]) -> dict[str, Any]:
    """A flat ``dict`` from full variable names to arrays.

    >>> import jax.numpy as jnp, scopax as sx
    >>> sx.flatten({"conv1": {"weights": jnp.ones(2)}, "b": jnp.zeros(1)})
    {'b': Array([0.], dtype=float32), 'conv1/weights': Array([1., 1.], dtype=float32)}

    Args:
      tree: a :class:`Params` or any nested mapping of arrays.

    Returns:
      A new dict, keys in sorted order.
    """
    if isinstance(tree, Params):
        return dict(tree.flat())
    if not isinstance(tree, Mapping):
        raise errors.TreeArgumentError(
            "sx.flatten's tree", tree, "pass a Params or a nested dict of arrays."
        )
    out: dict[str, Any] = {}
    _flatten_into(tree.items(), "", out)
    return dict(sorted(out.items()))


def unflatten(flat: Mapping[str, Any]) -> Params:
    """The :class:`Params` tree of a flat ``{full name: array}`` mapping.

    >>> import jax.numpy as jnp, scopax as sx
    >>> tree = sx.unflatten({"a/b": jnp.ones(2), "a/c": jnp.zeros(3)})
    >>> tree["a"]["b"]
    Array([1., 1.], dtype=float32)

    Raises:
      UnflattenError: a name is both a variable and a scope (``a`` and ``a/b``),
        or a name is empty or has an empty part.
    """
    root: dict[str, Any] = {}
    names = sorted(flat)
    for name in names:
        parts = name.split("/") if isinstance(name, str) else None
        if not parts or not name or "" in parts:
            raise errors.UnflattenError(
                f"Variable name {name!r} is not a full name like 'scope/variable'; every "
                "part between slashes must be non-empty."
            )
        *scopes, leaf = parts
        node = root
        for depth, part in enumerate(scopes):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise errors.UnflattenError(
                    f"Variable {name} conflicts with {'/'.join(scopes[: depth + 1])}: a name "
                    "cannot be both a variable and a variable scope."
                )
            node = child
        if leaf in node:
            raise errors.UnflattenError(
                f"Variable {name} conflicts with {name}/...: a name cannot be both a "
                "variable and a variable scope."
            )
        node[leaf] = flat[name]
    tree = _freeze(root)
    object.__setattr__(tree, "_flat", {name: flat[name] for name in names})
    return tree


def _freeze(data: dict[str, Any]) -> Params:
    return _make({k: _freeze(v) if isinstance(v, dict) else v for k, v in sorted(data.items())})


def as_flat(tree: Any, argument: str, fix: str | None = None) -> dict[str, Any]:
    """The flat view of what a user passed to ``apply`` (a Params or nested mapping)."""
    if isinstance(tree, Params):
        return tree.flat()
    if isinstance(tree, Mapping):
        return flatten(tree)
    raise errors.TreeArgumentError(
        f"apply's {argument}",
        tree,
        fix or f"pass the {argument} that init returned, e.g. model.apply(params, x).",
    )


_KEY_PATHS: dict[tuple[str, ...], tuple[Any, ...]] = {}


def _flatten_with_keys(tree: Params) -> tuple[tuple[tuple[Any, Any], ...], tuple[str, ...]]:
    children, keys = tree._node
    # jit asks for key paths on every trace; a model has few distinct key tuples.
    entries = _KEY_PATHS.get(keys)
    if entries is None:
        if len(_KEY_PATHS) > 65536:
            _KEY_PATHS.clear()
        entries = _KEY_PATHS[keys] = tuple(jax.tree_util.DictKey(k) for k in keys)
    return tuple(zip(entries, children, strict=True)), keys


def _flatten(tree: Params) -> tuple[tuple[Any, ...], tuple[str, ...]]:
    return tree._node


def _unflatten(keys: tuple[str, ...], children: Any) -> Params:
    tree = object.__new__(Params)
    object.__setattr__(tree, "_dict", None)
    object.__setattr__(tree, "_flat", None)
    object.__setattr__(tree, "_node", (tuple(children), keys))
    return tree


jax.tree_util.register_pytree_with_keys(Params, _flatten_with_keys, _unflatten, _flatten)
