"""A checkpoint's tree structure, as JSON, and matching it against a restore target.

Each node is ``{"node": kind, "children": [[label, store key, child], ...]}`` or ``{"leaf":
kind, "shape", "dtype", "path"}``, where "store key" names the child in the nested dict
that orbax saves and "path" is ``jax.tree_util.keystr`` of the leaf's key path (what a
target is matched by).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any, TypeGuard

import jax
import numpy as np

from scopax._src.core.errors import CheckpointMismatchError, CheckpointTreeError
from scopax._src.core.params import Params

_SAFE_KEY = re.compile(r"[A-Za-z0-9_\-]+")
_STORE_KEY = re.compile(r"[A-Za-z0-9_\-]+|~\d+")
MAX_DEPTH = 100  # Nesting of a saved tree; deeper ones are refused, on save and restore.
_MAX_NODES = 1_000_000
_MAX_NDIM = 64
_MAX_BYTES = 2**62
_MAX_TEXT = 65536
_NODES = ("None", "Params", "dict", "list", "tuple", "opaque")
_LEAVES = ("jax", "numpy", "numpy-scalar", "bool", "int", "float", "complex")
# The dtype kinds each kind of Python number is saved with.
_PYTHON_KINDS = {"bool": "b", "int": "iu", "float": "f", "complex": "c"}
_PYTHON = {"bool": bool, "int": int, "float": float, "complex": complex}
_RESTORE_FIX = (
    "Pass a target with the structure, shapes and dtypes that were saved (or target=None "
    "to restore the tree as saved)."
)


def encode(node: Any, keys: tuple[Any, ...]) -> tuple[dict[str, Any], Any]:
    if len(keys) > MAX_DEPTH:
        raise CheckpointTreeError(
            jax.tree_util.keystr(keys[:3]) + "...",
            f"the tree nests deeper than {MAX_DEPTH} levels; flatten it (e.g. sx.flatten)",
        )
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


class InvalidStructure(ValueError):
    """A tree description that ``encode`` cannot have written (raised with why, caught)."""


def check_structure(desc: Any) -> int:
    """Checks a description read from disk before anything uses it; returns its leaf count.

    Checks the type of every field, the nesting depth and node count, that every shape
    is a list of non-negative ints of a size an array can have, every dtype one that
    can be saved, and that leaf paths and sibling store keys are unique.
    """
    seen: dict[str, Any] = {"nodes": 0, "paths": set()}
    _check_node(desc, 0, seen)
    return len(seen["paths"])


def _check_node(desc: Any, depth: int, seen: dict[str, Any]) -> None:
    seen["nodes"] += 1
    if depth > MAX_DEPTH or seen["nodes"] > _MAX_NODES:
        raise InvalidStructure(f"deeper than {MAX_DEPTH} or more than {_MAX_NODES} nodes")
    if not isinstance(desc, dict):
        raise InvalidStructure(f"a node is a {type(desc).__name__}, not an object")
    if "leaf" in desc:
        _check_leaf(desc, seen["paths"])
        return
    kind = desc.get("node")
    if kind not in _NODES:
        raise InvalidStructure(f"unknown node kind {_short(kind)}")
    children = desc.get("children", [])
    if not isinstance(children, list) or (kind == "None" and children):
        raise InvalidStructure(f"the children of a {kind} node are not a list")
    if kind == "opaque" and not _text(desc.get("type")):
        raise InvalidStructure("an opaque node has no type name")
    stores = set()
    for i, child in enumerate(children):
        if not isinstance(child, list) or len(child) != 3:
            raise InvalidStructure(f"a child of a {kind} node is not [label, key, node]")
        label, store, node = child
        if not _label_fits(kind, label, i):
            raise InvalidStructure(f"a {kind} node has the child label {_short(label)}")
        if not (_text(store) and _STORE_KEY.fullmatch(store)) or store in stores:
            raise InvalidStructure(f"a {kind} node has the child key {_short(store)}")
        stores.add(store)
        _check_node(node, depth + 1, seen)


def _label_fits(kind: str, label: Any, index: int) -> bool:
    if kind in ("list", "tuple"):
        return type(label) is int and label == index
    return _text(label)


def _check_leaf(desc: dict[str, Any], paths: set[str]) -> None:
    kind, shape, path = desc.get("leaf"), desc.get("shape"), desc.get("path")
    if kind not in _LEAVES:
        raise InvalidStructure(f"unknown leaf kind {_short(kind)}")
    if not _text(path) or path in paths or not _text(desc.get("name")):
        raise InvalidStructure(f"a leaf's path {_short(path)} is missing or repeated")
    paths.add(path)
    if not (
        isinstance(shape, list)
        and len(shape) <= _MAX_NDIM
        and all(type(d) is int and 0 <= d <= _MAX_BYTES for d in shape)
    ):
        raise InvalidStructure(f"leaf {path}: shape {_short(shape)} is not a list of sizes")
    dtype = _checked_dtype(desc.get("dtype"), path)
    if math.prod(shape) * dtype.itemsize > _MAX_BYTES:
        raise InvalidStructure(f"leaf {path}: shape {shape} is larger than any array")
    if kind in _PYTHON_KINDS and (shape or dtype.kind not in _PYTHON_KINDS[kind]):
        raise InvalidStructure(f"leaf {path}: a Python {kind} saved as {dtype.name}{shape}")
    if kind == "numpy-scalar" and shape:
        raise InvalidStructure(f"leaf {path}: a NumPy scalar of shape {shape}")


def _checked_dtype(name: Any, path: str) -> np.dtype[Any]:
    try:
        dtype = np.dtype(_dtype(name)) if _text(name) else None
    except TypeError:
        dtype = None
    # kind "V" is ml_dtypes' (bfloat16, float8...); plain void was never saved.
    if dtype is None or dtype.name != name or dtype.kind not in "biufcV" or name.startswith("void"):
        raise InvalidStructure(f"leaf {path}: {_short(name)} is not a dtype that can be saved")
    return dtype


def _text(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and len(value) <= _MAX_TEXT


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def dtype_of(desc: dict[str, Any]) -> np.dtype[Any]:
    """The dtype of a leaf description that :func:`check_structure` accepted."""
    return np.dtype(_dtype(desc["dtype"]))


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
            if problem := _sharding_problem(leaf, shape):
                problems.append((names[key], problem))
            else:  # Abstract: allocates nothing.
                specs[key] = jax.ShapeDtypeStruct(shape, dtype, sharding=leaf)
            continue
        want = np.asarray(leaf) if isinstance(leaf, (bool, int, float, complex)) else leaf
        if not hasattr(want, "shape") or not hasattr(want, "dtype"):
            problems.append((names[key], f"target leaf is a {type(leaf).__name__}, not an array"))
            continue
        if tuple(want.shape) != shape:
            problems.append((names[key], f"shape {tuple(want.shape)} in target, {shape} saved"))
        elif problem := _sharding_problem(getattr(leaf, "sharding", None), shape):
            problems.append((names[key], problem))
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
        specs[key] = (shape, dtype, want, numpy)
    if problems:
        raise CheckpointMismatchError(path, problems, _RESTORE_FIX)
    # Only now, with every shape equal to the target's, is anything allocated.
    return {key: _spec(*spec) if isinstance(spec, tuple) else spec for key, spec in specs.items()}


def _sharding_problem(sharding: Any, shape: tuple[int, ...]) -> str | None:
    """Why ``sharding`` cannot hold an array of ``shape`` (None if it can): found here, it
    is reported with the other mismatches instead of failing inside orbax."""
    if not isinstance(sharding, jax.sharding.Sharding):
        return None
    spec = getattr(sharding, "spec", ())
    try:
        if len(spec) > len(shape):
            return f"sharding {spec} has more axes than the saved shape {shape}"
        sharding.shard_shape(shape)
    except ValueError as error:
        return (
            f"sharding {spec or sharding} cannot hold the saved shape {shape}: "
            + (str(error).split(". ")[0])
        )
    return None


def _spec(shape: tuple[int, ...], dtype: Any, want: Any, numpy: bool) -> Any:
    if numpy:
        return np.empty(shape, dtype)
    return jax.ShapeDtypeStruct(shape, want.dtype, sharding=getattr(want, "sharding", None))


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
