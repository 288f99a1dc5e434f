"""Checkpoints on orbax-checkpoint: ``save`` and ``restore``, atomic and verified.

A checkpoint is a directory::

    path/scopax_checkpoint.json   what is committed: the tree's structure, and the size
                                  and SHA-256 of every file of the state directory
    path/state-00000002/          an orbax-checkpoint directory holding the arrays

``save`` writes a new ``state-N`` beside the committed one, hashes it, and commits it by
atomically replacing ``scopax_checkpoint.json`` (``os.replace``); only then does it delete
the old state. A process killed at any moment leaves the previous checkpoint committed
and intact, or the new one, never a mixture. ``restore`` checks every file against the
recorded hashes before orbax reads it, so truncation or corruption raises
``CheckpointCorruptError`` instead of returning wrong data. The structure is JSON
(``checkpoint_tree``): nothing is ever unpickled.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
from collections.abc import Mapping
from typing import Any

import jax

from scopax._src import checkpoint_tree as tree_lib
from scopax._src.errors import (
    CheckpointCorruptError,
    CheckpointExistsError,
    CheckpointNotFoundError,
    MissingDependencyError,
)

_POINTER = "scopax_checkpoint.json"
_FORMAT = "scopax.checkpoint"
_VERSION = 1
_STATE = re.compile(r"state-(\d{8})(\..*)?")


def save(path: str | os.PathLike[str], tree: Any, *, overwrite: bool = False) -> None:
    """Saves a tree of arrays to the directory ``path``, atomically.

    >>> import tempfile, jax.numpy as jnp, scopax as sx
    >>> params = sx.unflatten({"conv1/weights": jnp.ones((3, 3)), "conv1/biases": jnp.zeros(3)})
    >>> path = tempfile.mkdtemp() + "/ckpt"
    >>> sx.save(path, params)
    >>> sx.restore(path)["conv1/weights"].shape
    (3, 3)
    >>> sx.save(path, params, overwrite=True)  # replaces it, atomically

    The tree may nest :class:`Params`, dicts with string keys, lists, tuples and ``None``,
    and other pytrees (optimizer states): those need a ``target`` to be restored. Leaves
    are ``jax.Array`` (sharded ones too: every process of a multi-host job calls
    ``save``), NumPy arrays, NumPy scalars and Python numbers, of every dtype orbax
    stores, ``bfloat16`` included.

    Args:
      path: a directory to create, on a local or shared POSIX file system.
      tree: the tree to save.
      overwrite: replace the checkpoint already at ``path``. Until the new one is
        committed, the old one stays readable.

    Raises:
      CheckpointExistsError: ``path`` holds a checkpoint (and ``overwrite`` is False), or
        is a file or a directory that is not a scopax checkpoint.
      CheckpointTreeError: a leaf that cannot be saved (strings, abstract arrays) or a
        dict key that is not a string.
      MissingDependencyError: orbax-checkpoint is not installed.
    """
    ocp = _orbax("sx.save")
    path = os.path.abspath(os.fspath(path))
    structure, arrays = tree_lib.encode(tree, ())
    if "leaf" in structure:
        arrays = {"~root": arrays}
    elif not arrays:
        arrays = None
    generation = _check_destination(path, overwrite) + 1
    state = f"state-{generation:08d}"
    _sync("scopax_save_start")
    primary = jax.process_index() == 0
    if primary:
        os.makedirs(path, exist_ok=True)
        _remove_stale(path, keep=None)
    _sync("scopax_save_prepared")
    if arrays is not None:
        with ocp.Checkpointer(ocp.StandardCheckpointHandler()) as checkpointer:
            checkpointer.save(os.path.join(path, state), args=ocp.args.StandardSave(arrays))
    if primary:
        files = _hash_tree(os.path.join(path, state)) if arrays is not None else {}
        body = {
            "format": _FORMAT,
            "version": _VERSION,
            "generation": generation,
            "state": state if arrays is not None else None,
            "tree": structure,
            "files": files,
        }
        _commit(path, {**body, "sha256": _digest(body)})
        _remove_stale(path, keep=state)
    _sync("scopax_save_done")


def restore(path: str | os.PathLike[str], target: Any = None, *, verify: bool = True) -> Any:
    """Restores the tree that :func:`save` wrote to ``path``.

    >>> import tempfile, jax, jax.numpy as jnp, numpy as np, scopax as sx
    >>> from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
    >>> path = tempfile.mkdtemp() + "/ckpt"
    >>> sx.save(path, {"w": jnp.arange(8.0, dtype=jnp.bfloat16), "step": 3})
    >>> sx.restore(path)
    {'w': Array([0, 1, 2, 3, 4, 5, 6, 7], dtype=bfloat16), 'step': 3}
    >>> mesh = Mesh(np.array(jax.devices()), ("data",))
    >>> restored = sx.restore(path, {"w": NamedSharding(mesh, P("data")), "step": 0})
    >>> restored["w"].sharding.spec
    P('data',)

    Without ``target`` the tree comes back as it was saved: :class:`Params` as
    ``Params``, ``jax.Array`` leaves on the shardings they were saved with, NumPy
    leaves as NumPy, Python numbers as Python numbers. A ``target`` gives the structure
    to return and where to put each array: its leaves may be arrays (their shape,
    dtype and sharding), ``jax.ShapeDtypeStruct`` (from ``jax.eval_shape``), or
    ``jax.sharding.Sharding`` objects (``sx.param_shardings``). Dtypes must match after
    JAX's canonicalization.

    Args:
      path: a directory written by :func:`save`.
      target: optional tree of the structure that was saved.
      verify: check every file against its SHA-256 before reading it (default). This
        reads the checkpoint twice; pass False only for files you trust.

    Returns:
      The restored tree.

    Raises:
      CheckpointNotFoundError: nothing was committed at ``path`` (or a first save to it
        was interrupted).
      CheckpointCorruptError: a file is missing, truncated or altered.
      CheckpointMismatchError: ``target`` differs from what was saved: every leaf
        missing, extra, or of another shape or dtype, reported at once.
      CheckpointTreeError: a node saved from a custom pytree, restored without target.
      MissingDependencyError: orbax-checkpoint is not installed.
    """
    ocp = _orbax("sx.restore")
    path = os.path.abspath(os.fspath(path))
    pointer = _read_pointer(path)
    if verify and pointer["state"] is not None:
        _verify(path, pointer)
    leaves = dict(tree_lib.saved_leaves(pointer["tree"], ()))
    abstract: dict[str, Any] | None = None
    if target is not None:
        abstract = {}
        for key, spec in tree_lib.target_specs(path, leaves, target).items():
            tree_lib.put(abstract, leaves[key][1], spec)
    arrays: Any = {}
    if pointer["state"] is not None:
        with ocp.Checkpointer(ocp.StandardCheckpointHandler()) as checkpointer:
            arrays = checkpointer.restore(
                os.path.join(path, pointer["state"]), args=ocp.args.StandardRestore(abstract)
            )
    if target is None:
        values = {
            key: tree_lib.cast(desc, tree_lib.get(arrays, store))
            for key, (desc, store) in leaves.items()
        }
        return tree_lib.decode(pointer["tree"], values)
    paths, treedef = jax.tree_util.tree_flatten_with_path(target)
    values = [
        tree_lib.as_target(tree_lib.get(arrays, leaves[jax.tree_util.keystr(p)][1]), leaf)
        for p, leaf in paths
    ]
    return jax.tree_util.tree_unflatten(treedef, values)


def _orbax(what: str) -> Any:
    try:
        import orbax.checkpoint as ocp
    except ImportError:
        raise MissingDependencyError("orbax-checkpoint", what) from None
    return ocp


def _sync(name: str) -> None:
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices(name)


# The directory: committing, cleaning up, reading back.


def _check_destination(path: str, overwrite: bool) -> int:
    """The committed generation at ``path`` (0 if none); raises if it must not be replaced."""
    if not os.path.lexists(path):
        return 0
    if not os.path.isdir(path):
        raise CheckpointExistsError(path, "it is a file; pass a directory path")
    if os.path.exists(os.path.join(path, _POINTER)):
        if not overwrite:
            raise CheckpointExistsError(
                path, "it holds a checkpoint; pass overwrite=True to replace it"
            )
        try:
            return int(_read_pointer(path)["generation"])
        except CheckpointCorruptError:
            pass  # Replace a damaged checkpoint; never reuse a state name it may hold.
    else:
        foreign = [n for n in os.listdir(path) if not _STATE.fullmatch(n) and not n.startswith(".")]
        if foreign:
            raise CheckpointExistsError(
                path, f"it is a directory that is not a scopax checkpoint (it holds {foreign[0]})"
            )
    numbers = [int(m.group(1)) for n in os.listdir(path) if (m := _STATE.fullmatch(n))]
    return max(numbers, default=0)


def _remove_stale(path: str, keep: str | None) -> None:
    """Deletes state directories and pointer drafts that nothing references."""
    committed = keep
    if keep is None and os.path.exists(os.path.join(path, _POINTER)):
        with contextlib.suppress(CheckpointCorruptError):
            committed = _read_pointer(path)["state"]
    for name in os.listdir(path):
        full = os.path.join(path, name)
        if name.startswith("." + _POINTER + ".tmp"):
            os.remove(full)
        elif _STATE.fullmatch(name) and name != committed:
            shutil.rmtree(full, ignore_errors=True)


def _hash_tree(root: str) -> dict[str, list[Any]]:
    files = {}
    for directory, _, names in sorted(os.walk(root)):
        for name in sorted(names):
            full = os.path.join(directory, name)
            digest = _hash_file(full, sync=True)
            files[os.path.relpath(full, root)] = [os.path.getsize(full), digest]
    return files


def _hash_file(full: str, sync: bool = False) -> str:
    with open(full, "rb") as f:
        if sync:  # Durable before the commit that makes it reachable.
            os.fsync(f.fileno())
        return hashlib.file_digest(f, "sha256").hexdigest()


def _digest(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _commit(path: str, pointer: dict[str, Any]) -> None:
    draft = os.path.join(path, f".{_POINTER}.tmp{os.getpid()}")
    with open(draft, "w", encoding="utf-8") as f:
        json.dump(pointer, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(draft, os.path.join(path, _POINTER))
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_pointer(path: str) -> dict[str, Any]:
    file = os.path.join(path, _POINTER)
    try:
        with open(file, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        if not os.path.isdir(path):
            raise CheckpointNotFoundError(path, "the directory does not exist") from None
        partial = any(_STATE.fullmatch(n) for n in os.listdir(path))
        why = (
            "a save to it was interrupted before it committed anything"
            if partial
            else f"it has no {_POINTER}; pass a directory written by sx.save"
        )
        raise CheckpointNotFoundError(path, why) from None
    try:
        pointer = json.loads(raw)
        body = {k: v for k, v in pointer.items() if k != "sha256"}
        valid = pointer["sha256"] == _digest(body) and pointer["format"] == _FORMAT
    except (ValueError, TypeError, KeyError, AttributeError):
        valid = False
    if not valid:
        raise CheckpointCorruptError(path, f"{_POINTER} is damaged")
    if pointer["version"] > _VERSION:
        raise CheckpointCorruptError(path, "it was written by a newer scopax; upgrade scopax")
    return pointer


def _verify(path: str, pointer: dict[str, Any]) -> None:
    root = os.path.join(path, pointer["state"])
    for relative, (size, digest) in pointer["files"].items():
        full = os.path.normpath(os.path.join(root, relative))
        if not full.startswith(root + os.sep):
            raise CheckpointCorruptError(path, f"{_POINTER} names a file outside it")
        try:
            actual = os.path.getsize(full)
            ok = actual == size and _hash_file(full) == digest
        except OSError:
            raise CheckpointCorruptError(path, f"{relative} is missing") from None
        if not ok:
            why = (
                f"{actual} bytes, {size} written"
                if actual != size
                else "same size, but its SHA-256 differs"
            )
            raise CheckpointCorruptError(path, f"{relative} differs from what was saved ({why})")
