"""A checkpoint's tree structure, as JSON, and matching it against a restore target.

Each node is ``{"node": kind, "children": [[label, store key, child], ...]}`` or ``{"leaf":
kind, "shape", "dtype", "path"}``, where "store key" names the child in the nested dict
that orbax saves and "path" is ``jax.tree_util.keystr`` of the leaf's key path (what a
target is matched by).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import jax
import numpy as np

from scopax._src.errors import CheckpointMismatchError, CheckpointTreeError
from scopax._src.params import Params

_SAFE_KEY = re.compile(r"[A-Za-z0-9_\-]+")
_PYTHON = {"bool": bool, "int": int, "float": float, "complex": complex}
_RESTORE_FIX = (
    "Pass a target with the structure, shapes and dtypes that were saved (or target=None "
    "to restore the tree as saved)."
)


def encode(node: Any, keys: tuple[Any, ...]) -> tuple[dict[str, Any], Any]:
    if node is None:
        return {"node": "None"}, None
    kind = type(node).__name__
    if isinstance(node, Params) or type(node) is dict:
        kind = "Params" if isinstance(node, Params) else "dict"
        for key in node:
            if not isinstance(key, str):
                raise CheckpointTreeError(
                    jax.tree_util.keystr(keys), f"dict key {key!r} is not a string; use str keys"
                )
        children = [(jax.tree_util.DictKey(k), k, v) for k, v in node.items()]
    elif type(node) in (list, tuple):
        children = [(jax.tree_util.SequenceKey(i), i, v) for i, v in enumerate(node)]
    elif _is_leaf(node):
        return _encode_leaf(node, keys)
    else:
        flat, _ = jax.tree_util.tree_flatten_with_path(node, is_leaf=lambda x: x is not node)
        if len(flat) == 1 and not flat[0][0]:
            raise CheckpointTreeError(
                jax.tree_util.keystr(keys),
                f"cannot save a leaf of type {kind}; leaves must be arrays or numbers",
            )
        children = [(p[0], jax.tree_util.keystr(p), v) for p, v in flat]
        kind = "opaque"
    described, stored = [], {}
    for i, (key, label, child) in enumerate(children):
        desc, value = encode(child, (*keys, key))
        text = str(label)
        store = text if _SAFE_KEY.fullmatch(text) else f"~{i}"
        described.append([label, store, desc])
        if value is not None and not (isinstance(value, dict) and not value):
            stored[store] = value
    out: dict[str, Any] = {"node": kind, "children": described}
    if kind == "opaque":
        out["type"] = f"{type(node).__module__}.{type(node).__qualname__}"
    return out, stored


def _name(keys: Sequence[Any]) -> str:
    """A leaf's name in messages: ``conv1/weights`` in a tree of mappings, else its keystr."""
    if keys and all(isinstance(getattr(k, "key", None), str) for k in keys):
        return "/".join(k.key for k in keys)
    return jax.tree_util.keystr(tuple(keys))


def _is_leaf(node: Any) -> bool:
    return isinstance(node, (jax.Array, np.ndarray, np.generic, bool, int, float, complex))


def _encode_leaf(node: Any, keys: tuple[Any, ...]) -> tuple[dict[str, Any], Any]:
    name = jax.tree_util.keystr(keys)
    if isinstance(node, jax.Array):
        kind, value = "jax", node
    elif isinstance(node, (np.ndarray, np.generic)):
        kind, value = ("numpy" if isinstance(node, np.ndarray) else "numpy-scalar"), node
    else:
        kind, value = type(node).__name__, node
    array = np.asarray(value) if not isinstance(value, jax.Array) else value
    if array.dtype.kind in "OSU" or array.dtype.name.startswith("void"):
        raise CheckpointTreeError(name, f"cannot save an array of dtype {array.dtype}")
    desc = {
        "leaf": kind,
        "shape": list(array.shape),
        "dtype": np.dtype(array.dtype).name,
        "path": name,
        "name": _name(keys),
    }
    return desc, array if kind == "jax" else np.asarray(array)


def saved_leaves(
    desc: dict[str, Any], store: tuple[str, ...]
) -> list[tuple[str, tuple[dict[str, Any], tuple[str, ...]]]]:
    """(keystr, (leaf description, path in the orbax tree)) of every saved leaf."""
    if "leaf" in desc:
        return [(desc["path"], (desc, store or ("~root",)))]
    out = []
    for _, key, child in desc.get("children", ()):
        out.extend(saved_leaves(child, (*store, key)))
    return out


def decode(desc: dict[str, Any], values: dict[str, Any]) -> Any:
    if "leaf" in desc:
        return values[desc["path"]]
    node = desc["node"]
    if node == "None":
        return None
    children = [(label, decode(child, values)) for label, _, child in desc["children"]]
    if node == "Params":
        return Params(dict(children))
    if node == "dict":
        return dict(children)
    if node in ("list", "tuple"):
        items = [child for _, child in children]
        return items if node == "list" else tuple(items)
    raise CheckpointTreeError(
        "",
        f"the checkpoint holds a node of type {desc.get('type')}, which scopax cannot rebuild by "
        "itself; pass target= with the same structure (for an optimizer state, "
        "optimizer.init(params))",
    )


def target_specs(path: str, leaves: dict[str, Any], target: Any) -> dict[str, Any]:
    flat, names = {}, {}
    for keys, leaf in jax.tree_util.tree_flatten_with_path(target)[0]:
        flat[jax.tree_util.keystr(keys)] = leaf
        names[jax.tree_util.keystr(keys)] = _name(keys)
    problems = [(names[k], "in target but not in the checkpoint") for k in flat if k not in leaves]
    problems += [
        (desc["name"], "in the checkpoint but not in target")
        for k, (desc, _) in leaves.items()
        if k not in flat
    ]
    specs = {}
    for key, (desc, _) in leaves.items():
        if key not in flat:
            continue
        leaf = flat[key]
        shape, dtype = tuple(desc["shape"]), np.dtype(_dtype(desc["dtype"]))
        if isinstance(leaf, jax.sharding.Sharding):
            specs[key] = jax.ShapeDtypeStruct(shape, dtype, sharding=leaf)
            continue
        want = np.asarray(leaf) if isinstance(leaf, (bool, int, float, complex)) else leaf
        if not hasattr(want, "shape") or not hasattr(want, "dtype"):
            problems.append((names[key], f"target leaf is a {type(leaf).__name__}, not an array"))
            continue
        if tuple(want.shape) != shape:
            problems.append((names[key], f"shape {tuple(want.shape)} in target, {shape} saved"))
        numpy = isinstance(leaf, (np.ndarray, np.generic, bool, int, float, complex))
        same = (
            np.dtype(want.dtype) == dtype
            if numpy
            else jax.dtypes.canonicalize_dtype(want.dtype) == jax.dtypes.canonicalize_dtype(dtype)
        )
        if not same and not isinstance(leaf, (bool, int, float, complex)):
            problems.append(
                (names[key], f"dtype {np.dtype(want.dtype).name} in target, {dtype.name} saved")
            )
        if numpy:
            specs[key] = np.empty(shape, dtype)
        else:
            sharding = getattr(leaf, "sharding", None)
            specs[key] = jax.ShapeDtypeStruct(shape, want.dtype, sharding=sharding)
    if problems:
        raise CheckpointMismatchError(path, problems, _RESTORE_FIX)
    return specs


def _dtype(name: str) -> Any:
    return jax.numpy.dtype(name)


def cast(desc: dict[str, Any], value: Any) -> Any:
    kind = desc["leaf"]
    if kind == "numpy-scalar":
        return np.asarray(value)[()]
    if kind in _PYTHON:
        return _PYTHON[kind](np.asarray(value).item())
    return value


def as_target(value: Any, leaf: Any) -> Any:
    if isinstance(leaf, (bool, int, float, complex)):  # bool first: it is an int.
        return type(leaf)(np.asarray(value).item())
    if isinstance(leaf, np.generic):
        return np.asarray(value)[()]
    if isinstance(leaf, np.ndarray):
        return np.asarray(value)
    if not isinstance(value, jax.Array):
        return jax.numpy.asarray(value)
    return value


def put(tree: dict[str, Any], store: tuple[str, ...], value: Any) -> None:
    for key in store[:-1]:
        tree = tree.setdefault(key, {})
    tree[store[-1]] = value


def get(tree: Any, store: tuple[str, ...]) -> Any:
    for key in store:
        tree = tree[key]
    return tree
