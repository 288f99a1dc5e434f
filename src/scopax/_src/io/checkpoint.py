"""Checkpoints on orbax-checkpoint: ``save`` and ``restore``, atomic and verified.

A checkpoint is a directory::

    path/scopax_checkpoint.json          what is committed: the tree's structure, the
                                         committed state, and the size and SHA-256 of
                                         every file of that state
    path/state-00000007-3f9c0a1b5e2d4c68/  an orbax-checkpoint directory holding the arrays
    path/state-00000006-0b1c...            earlier commits, kept for readers in flight

Every save writes its own state directory, named by generation and a random token, so
that two writers never touch each other's files. Orbax writes it under a temporary name
and renames it; ``save`` then fsyncs and hashes it, and commits it by atomically
replacing ``scopax_checkpoint.json`` (``os.replace`` of a fully written, fsynced draft).
The last commit wins. ``save`` keeps the last :data:`KEEP` committed states and deletes
only older states that it saw committed and superseded, and leftovers that nobody has
touched for :data:`ABANDONED_AFTER_S` seconds: never a state another writer may still
commit.

``restore`` reads the pointer once, validates it against a schema (types, sizes, nesting,
names), checks every file against the recorded hashes, checks every declared shape and
dtype against the target, orbax's metadata and what orbax returns, and reads only the
state the pointer names. If that state is deleted under it by later saves, it starts
again from the new pointer (a bounded number of times). Every read is bounded, and only
regular files are read. The structure is JSON (``checkpoint_tree``): nothing is ever
unpickled.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import stat
import time
from collections.abc import Iterator, Mapping
from typing import Any

import jax
import numpy as np

from scopax._src.core.errors import (
    CheckpointCorruptError,
    CheckpointExistsError,
    CheckpointNotFoundError,
    CheckpointTreeError,
    MissingDependencyError,
    ScopaxError,
)
from scopax._src.io import checkpoint_tree as tree_lib

KEEP = 5  # Committed states kept, the newest included (as TF's Saver, max_to_keep=5).
ABANDONED_AFTER_S = 3600.0  # Leftovers untouched this long belong to no live save.

_POINTER = "scopax_checkpoint.json"
_FORMAT = "scopax.checkpoint"
_VERSION = 1
# state-<generation>-<random token>; checkpoints of earlier scopax have no token.
_STATE = re.compile(r"state-(\d{8})(?:-[0-9a-f]{16})?")
_ORBAX_TMP = re.compile(r"state-\d{8}(?:-[0-9a-f]{16})?\.orbax-checkpoint-tmp.*")
_DRAFT = f".{_POINTER}.tmp"
_TRASH = ".scopax-trash-"
_POINTER_LIMIT = 16 * 2**20  # Bytes: ~100,000 leaves; bounds what a hostile file costs.
_MAX_FILES = 100_000
_MAX_FILE_BYTES = 2**62
_READ_ATTEMPTS = 8
_CHUNK = 2**20
_OPEN = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_HEX64 = re.compile(r"[0-9a-f]{64}")


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

    Several processes may save to one ``path`` at once (with ``overwrite=True``): each
    save succeeds, and the last to commit wins. The last few committed states are kept,
    so that a ``restore`` in flight finishes.

    Args:
      path: a directory to create, on a local or shared POSIX file system.
      tree: the tree to save.
      overwrite: replace the checkpoint already at ``path``. Until the new one is
        committed, the old one stays readable.

    Raises:
      CheckpointExistsError: ``path`` holds a checkpoint (and ``overwrite`` is False;
        also when another save commits one first), or is a file or a directory that is
        not a scopax checkpoint.
      CheckpointTreeError: a leaf that cannot be saved (strings, abstract arrays), a dict
        key that is not a string, or a tree too large or too deep to describe.
      MissingDependencyError: orbax-checkpoint is not installed.
    """
    ocp = _orbax("sx.save")
    path = os.path.abspath(os.fspath(path))
    structure, arrays = tree_lib.encode(tree, ())
    _check_describable(structure)
    if "leaf" in structure:
        arrays = {"~root": arrays}
    elif not arrays:
        arrays = None
    generation, seen = _check_destination(path, overwrite)
    state = _new_state_name(generation + 1)
    _sync("scopax_save_start")
    primary = jax.process_index() == 0
    if primary:
        os.makedirs(path, exist_ok=True)
    _sync("scopax_save_prepared")
    if arrays is not None:
        with ocp.Checkpointer(ocp.StandardCheckpointHandler()) as checkpointer:
            checkpointer.save(os.path.join(path, state), args=ocp.args.StandardSave(arrays))
    if primary:
        files = _seal(path, state) if arrays is not None else {}
        body = {
            "format": _FORMAT,
            "version": _VERSION,
            "generation": generation + 1,
            "state": state if arrays is not None else None,
            "tree": structure,
            "files": files,
        }
        seen |= _commit(path, body, overwrite)
        _collect(path, seen)
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
    JAX's canonicalization. With a target, nothing larger than the target is allocated.

    The restored tree is always the whole of one committed save, even while other
    processes save to ``path``.

    Args:
      path: a directory written by :func:`save`.
      target: optional tree of the structure that was saved.
      verify: check every file against its SHA-256 before reading it (default). This
        reads the checkpoint twice; pass False only for files you trust.

    Returns:
      The restored tree.

    Raises:
      CheckpointNotFoundError: nothing was committed at ``path`` (or a first save to it
        was interrupted), or ``path`` is a file.
      CheckpointCorruptError: a file is missing, truncated, altered, not a regular file,
        or describes something other than what the state holds.
      CheckpointMismatchError: ``target`` differs from what was saved: every leaf
        missing, extra, or of another shape or dtype, reported at once.
      CheckpointTreeError: a node saved from a custom pytree, restored without target.
      MissingDependencyError: orbax-checkpoint is not installed.
    """
    ocp = _orbax("sx.restore")
    path = os.path.abspath(os.fspath(path))
    # A multi-host restore is collective: every process must read the same state once.
    attempts = _READ_ATTEMPTS if jax.process_count() == 1 else 1
    for attempt in range(attempts):
        raw, pointer = _read_pointer(path)
        leaves = dict(tree_lib.saved_leaves(pointer["tree"], ()))
        abstract = _abstract(path, leaves, target)  # Before anything is read or allocated.
        try:
            arrays = _read_state(ocp, path, pointer, leaves, abstract, verify)
        except Exception as error:
            if attempt + 1 < attempts and _pointer_moved(path, raw):
                time.sleep(0.01 * attempt)  # Later saves deleted our state: read the new one.
                continue
            if isinstance(error, ScopaxError):
                raise
            why = f"orbax could not read {pointer['state']} ({type(error).__name__}: {error})"
            raise CheckpointCorruptError(path, why) from error
        return _rebuild(path, pointer, leaves, arrays, target)
    raise AssertionError("unreachable")  # pragma: no cover


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


# Saving: naming, sealing, committing, collecting.


def _check_describable(structure: dict[str, Any]) -> None:
    """Refuses, before writing anything, a tree that restore would refuse to read back."""
    try:
        size = len(json.dumps(structure))
        tree_lib.check_structure(structure)
    except (RecursionError, tree_lib.InvalidStructure) as error:
        raise CheckpointTreeError("", f"the tree cannot be saved: {error}") from None
    if size > _POINTER_LIMIT // 2:  # The rest is for the file list.
        raise CheckpointTreeError(
            "",
            f"the tree's description takes {size} bytes, more than {_POINTER_LIMIT // 2}; "
            "save fewer, larger arrays (e.g. stack layers), or split the tree over "
            "several checkpoints",
        )


def _new_state_name(generation: int) -> str:
    """A name no other save picks: process 0's random token, shared by every process."""
    words = np.frombuffer(os.urandom(8), np.uint32)
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        shared = np.array([generation, *words], np.uint32)
        shared = np.asarray(multihost_utils.broadcast_one_to_all(shared))
        generation, words = int(shared[0]), shared[1:]
    return f"state-{generation:08d}-" + "".join(f"{int(w):08x}" for w in words)


def _check_destination(path: str, overwrite: bool) -> tuple[int, set[str]]:
    """The committed generation at ``path`` (0 if none) and the states it names.

    Raises if ``path`` must not be replaced.
    """
    if not os.path.lexists(path):
        return 0, set()
    if not os.path.isdir(path):
        raise CheckpointExistsError(path, "it is a file; pass a directory path")
    if os.path.lexists(os.path.join(path, _POINTER)):
        if stat.S_ISDIR(os.lstat(os.path.join(path, _POINTER)).st_mode):
            raise CheckpointExistsError(
                path, f"its {_POINTER} is a directory, which sx.save never writes; remove it"
            )
        if not overwrite:
            raise CheckpointExistsError(
                path, "it holds a checkpoint; pass overwrite=True to replace it"
            )
        pointer = _peek_pointer(path)
        if pointer is not None:
            return pointer["generation"], _named_states(pointer)
        # A damaged pointer is replaced; its generation is guessed from the directories.
    else:
        foreign = [n for n in os.listdir(path) if not _ours(n)]
        if foreign:
            raise CheckpointExistsError(
                path, f"it is a directory that is not a scopax checkpoint (it holds {foreign[0]})"
            )
    numbers = [int(m.group(1)) for n in os.listdir(path) if (m := _STATE.match(n))]
    return max(numbers, default=0), set()


def _ours(name: str) -> bool:
    return name.startswith(".") or bool(_STATE.fullmatch(name) or _ORBAX_TMP.fullmatch(name))


def _named_states(pointer: Mapping[str, Any]) -> set[str]:
    return {n for n in (pointer["state"], *pointer.get("previous", ())) if n is not None}


def _seal(path: str, state: str) -> dict[str, list[Any]]:
    """Fsyncs and hashes the files of the state orbax wrote; returns its file list."""
    root = os.path.join(path, state)
    files = {}
    for relative, _ in _walk_state(path, root):
        full = os.path.join(root, relative)
        size, digest = _hash_file(path, full, relative, None, sync=True)
        files[relative] = [size, digest]
        os.utime(root)  # Alive: a long hash must not look abandoned to another writer.
    for directory in (*{os.path.dirname(os.path.join(root, r)) for r in files}, root, path):
        _fsync_directory(directory)  # Entries durable before the commit names them.
    return files


def _fsync_directory(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _commit(path: str, body: dict[str, Any], overwrite: bool) -> set[str]:
    """Makes ``body`` the committed pointer; returns the states it knows were committed."""
    current = _peek_pointer(path)
    previous = [] if current is None else [current["state"], *current.get("previous", ())]
    previous = [n for n in dict.fromkeys(previous) if n is not None and n != body["state"]]
    body = {**body, "previous": previous[: KEEP - 1]}
    data = json.dumps({**body, "sha256": _digest(body)}, indent=1).encode()
    draft = os.path.join(path, f"{_DRAFT}-{os.urandom(8).hex()}")
    with open(draft, "xb") as f:  # A name of its own: never another save's draft.
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    try:
        _install(path, draft, body["state"], overwrite)
    finally:
        if os.path.lexists(draft):
            os.remove(draft)
    _fsync_directory(path)
    return {*previous, *([body["state"]] if body["state"] else [])}


def _install(path: str, draft: str, state: str | None, overwrite: bool) -> None:
    """Moves the draft into place: over any pointer, or only where none is."""
    final = os.path.join(path, _POINTER)
    if state is not None and not os.path.isdir(os.path.join(path, state)):
        raise CheckpointCorruptError(path, f"{state} was deleted before this save committed it")
    if overwrite:
        os.replace(draft, final)
        return
    try:
        os.link(draft, final)  # Atomic: fails if another save committed first.
    except FileExistsError:
        if state is not None:
            _discard(path, state)
        raise CheckpointExistsError(
            path, "another save committed a checkpoint there first; pass overwrite=True"
        ) from None
    except OSError:  # No hard links on this file system: check, then replace.
        if os.path.lexists(final):
            raise CheckpointExistsError(
                path, "it holds a checkpoint; pass overwrite=True to replace it"
            ) from None
        os.replace(draft, final)


def _collect(path: str, seen: set[str]) -> None:
    """Deletes what no reader can need and no writer can still commit.

    That is states outside the current pointer's last :data:`KEEP` commits which this
    save saw committed (they are superseded), and leftovers idle for
    :data:`ABANDONED_AFTER_S` (killed saves). Another writer's state between orbax's
    write and its commit is in neither set.
    """
    current = _peek_pointer(path)
    if current is None:
        return  # Never guess what a damaged pointer meant to keep.
    kept = _named_states(current)
    for name in os.listdir(path):
        if _collectable(path, name, kept, seen):
            _discard(path, name)


def _collectable(path: str, name: str, kept: set[str], seen: set[str]) -> bool:
    if name.startswith(_TRASH):
        return True  # Half-deleted by a killed save: nobody can read it.
    if _STATE.fullmatch(name):
        if name in kept:
            return False
        return name in seen or _abandoned(os.path.join(path, name))
    # Another save's work in progress, unless it has been idle too long.
    if _ORBAX_TMP.fullmatch(name) or name.startswith(_DRAFT):
        return _abandoned(os.path.join(path, name))
    return False


def _discard(path: str, name: str) -> None:
    """Deletes a state whole: renamed away first, so that no reader sees half of one."""
    trash = os.path.join(path, name)
    if not name.startswith(_TRASH):
        trash = os.path.join(path, f"{_TRASH}{name}-{os.urandom(4).hex()}")
        try:
            os.rename(os.path.join(path, name), trash)
        except OSError:
            return  # Another writer discarded it first.
    if os.path.isdir(trash):
        shutil.rmtree(trash, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):  # Another writer removed it first.
            os.remove(trash)


def _abandoned(full: str) -> bool:
    """Whether nothing under ``full`` changed for :data:`ABANDONED_AFTER_S`."""
    newest = 0.0
    try:
        newest = os.lstat(full).st_mtime
        for directory, names, files in os.walk(full):
            for name in names + files:
                newest = max(newest, os.lstat(os.path.join(directory, name)).st_mtime)
    except OSError:
        return False  # Changing under us: someone is at work on it.
    return time.time() - newest > ABANDONED_AFTER_S


def _digest(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


# Reading: the pointer, bounded and validated; the state's files.


def _read_pointer(path: str) -> tuple[bytes, dict[str, Any]]:
    """The pointer's bytes, and the pointer, validated."""
    raw = _read_pointer_bytes(path)
    try:
        pointer = json.loads(raw)
    except (ValueError, RecursionError):
        raise CheckpointCorruptError(path, f"{_POINTER} is damaged (not JSON)") from None
    _check_pointer(path, pointer)
    return raw, pointer


def _peek_pointer(path: str) -> dict[str, Any] | None:
    """The committed pointer, or None if there is none or it is damaged."""
    try:
        return _read_pointer(path)[1]
    except (CheckpointCorruptError, CheckpointNotFoundError):
        return None


def _pointer_moved(path: str, raw: bytes) -> bool:
    try:
        return _read_pointer_bytes(path) != raw
    except (CheckpointCorruptError, CheckpointNotFoundError):
        return True


def _read_pointer_bytes(path: str) -> bytes:
    file = os.path.join(path, _POINTER)
    try:
        fd = os.open(file, _OPEN)
    except OSError as error:
        raise _unreadable(path, error) from None
    try:
        return _read_regular(path, fd, _POINTER, _POINTER_LIMIT)
    finally:
        os.close(fd)


def _unreadable(path: str, error: OSError) -> ScopaxError:
    if error.errno == errno.ENOENT:
        if not os.path.isdir(path):
            return CheckpointNotFoundError(path, "the directory does not exist")
        partial = any(_STATE.match(n) for n in os.listdir(path))
        why = (
            "a save to it was interrupted before it committed anything"
            if partial
            else f"it has no {_POINTER}; pass a directory written by sx.save"
        )
        return CheckpointNotFoundError(path, why)
    if error.errno == errno.ENOTDIR:
        return CheckpointNotFoundError(
            path, "it is a file, not a directory; pass the directory that sx.save wrote"
        )
    if error.errno == errno.ELOOP:
        return CheckpointCorruptError(path, f"{_POINTER} is a symbolic link, not a regular file")
    return CheckpointNotFoundError(
        path, f"{_POINTER} cannot be read ({error.strerror}); check its permissions"
    )


def _read_regular(path: str, fd: int, name: str, limit: int) -> bytes:
    """At most ``limit`` bytes of the open regular file ``fd``; raises past that."""
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        raise CheckpointCorruptError(path, f"{name} is not a regular file")
    chunks, size = [], 0
    while size <= limit and (chunk := os.read(fd, min(_CHUNK, limit + 1 - size))):
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise CheckpointCorruptError(path, f"{name} is larger than {limit} bytes")
    return b"".join(chunks)


def _check_pointer(path: str, pointer: Any) -> None:
    """Validates everything restore will use, before using any of it."""

    def damaged(why: str) -> CheckpointCorruptError:
        return CheckpointCorruptError(path, f"{_POINTER} is damaged: {why}")

    if not isinstance(pointer, dict) or pointer.get("format") != _FORMAT:
        raise CheckpointCorruptError(path, f"{_POINTER} is damaged")
    version = pointer.get("version")
    if type(version) is int and version > _VERSION:
        raise CheckpointCorruptError(path, "it was written by a newer scopax; upgrade scopax")
    body = {k: v for k, v in pointer.items() if k != "sha256"}
    try:
        valid = pointer.get("sha256") == _digest(body)
    except (ValueError, RecursionError):
        valid = False
    if not valid:
        raise CheckpointCorruptError(path, f"{_POINTER} is damaged")
    if type(version) is not int or version < 1:
        raise damaged(f"version {version!r} is not a positive integer")
    if not _natural(pointer.get("generation"), 10**8):
        raise damaged("generation is not an integer from 0 to 99999999")
    state = pointer.get("state")
    if state is not None and not (isinstance(state, str) and _STATE.fullmatch(state)):
        raise damaged(f"state {state!r} is not the name of a state directory")
    previous = pointer.get("previous", [])
    if not isinstance(previous, list) or len(previous) > 64:
        raise damaged("previous is not a list of at most 64 state names")
    if not all(isinstance(n, str) and _STATE.fullmatch(n) for n in previous):
        raise damaged("previous names something other than a state directory")
    try:
        leaves = tree_lib.check_structure(pointer.get("tree"))
    except tree_lib.InvalidStructure as error:
        raise damaged(f"tree: {error}") from None
    _check_files(path, pointer.get("files"), damaged)
    if (state is None) != (leaves == 0) or (state is None) != (not pointer["files"]):
        # Also refuses an emptied file list, which would silently verify nothing.
        raise damaged("state, tree and files disagree on whether there are arrays")


def _check_files(path: str, files: Any, damaged: Any) -> None:
    if not isinstance(files, dict) or len(files) > _MAX_FILES:
        raise damaged(f"files is not a mapping of at most {_MAX_FILES} files")
    for relative, entry in files.items():
        parts = relative.split("/")
        if relative.startswith("/") or any(p in ("", ".", "..") or "\0" in p for p in parts):
            raise damaged(f"file {relative!r} is not a path inside the state")
        if not (
            isinstance(entry, list)
            and len(entry) == 2
            and _natural(entry[0], _MAX_FILE_BYTES)
            and isinstance(entry[1], str)
            and _HEX64.fullmatch(entry[1])
        ):
            raise damaged(f"file {relative!r} has no [size, sha256]")


def _natural(value: Any, bound: int) -> bool:
    return type(value) is int and 0 <= value < bound


def _walk_state(path: str, root: str) -> Iterator[tuple[str, int]]:
    """(relative path, size) of every file under ``root``; refuses links and devices."""
    pending, count = [""], 0
    while pending:
        relative = pending.pop()
        try:
            entries = sorted(os.scandir(os.path.join(root, relative)), key=lambda e: e.name)
        except FileNotFoundError:
            missing = relative or os.path.basename(root)
            raise CheckpointCorruptError(path, f"{missing} is missing") from None
        for entry in entries:
            name = f"{relative}/{entry.name}" if relative else entry.name
            info = entry.stat(follow_symlinks=False)
            count += 1
            if count > _MAX_FILES:
                raise CheckpointCorruptError(path, f"it holds more than {_MAX_FILES} files")
            if stat.S_ISDIR(info.st_mode):
                pending.append(name)
            elif stat.S_ISREG(info.st_mode):
                yield name, info.st_size
            else:
                raise CheckpointCorruptError(path, f"{name} is not a regular file or directory")


def _check_state_directory(path: str, state: str) -> str:
    root = os.path.join(path, state)
    try:
        info = os.lstat(root)
    except OSError:
        raise CheckpointCorruptError(path, f"its state directory {state} is missing") from None
    if not stat.S_ISDIR(info.st_mode):
        raise CheckpointCorruptError(path, f"{state} is not a directory")
    return root


def _verify(path: str, root: str, pointer: dict[str, Any]) -> None:
    """Checks the state's files, all of them and nothing else, against the pointer."""
    files = pointer["files"]
    on_disk = dict(_walk_state(path, root))
    for relative in sorted(files.keys() - on_disk.keys()):
        raise CheckpointCorruptError(path, f"{relative} is missing")
    for relative in sorted(on_disk.keys() - files.keys()):
        raise CheckpointCorruptError(path, f"{relative} is not one of the files that were saved")
    for relative, (size, digest) in files.items():
        actual, actual_digest = _hash_file(path, os.path.join(root, relative), relative, size)
        if actual != size:
            why = f"more than {size} bytes" if actual > size else f"{actual} bytes"
            why += f", {size} written"
            raise CheckpointCorruptError(path, f"{relative} differs from what was saved ({why})")
        if actual_digest != digest:
            raise CheckpointCorruptError(
                path, f"{relative} differs from what was saved (same size, but its SHA-256 differs)"
            )


def _hash_file(
    path: str, full: str, relative: str, limit: int | None, sync: bool = False
) -> tuple[int, str]:
    """(bytes read, SHA-256) of a regular file, reading at most ``limit + 1`` bytes."""
    try:
        fd = os.open(full, _OPEN)
    except OSError:
        raise CheckpointCorruptError(path, f"{relative} is missing or not a regular file") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise CheckpointCorruptError(path, f"{relative} is not a regular file")
        if sync:  # Durable before the commit that makes it reachable.
            os.fsync(fd)
        digest, size = hashlib.sha256(), 0
        budget = _MAX_FILE_BYTES if limit is None else limit + 1
        while size < budget and (chunk := os.read(fd, min(_CHUNK, budget - size))):
            digest.update(chunk)
            size += len(chunk)
        return size, digest.hexdigest()
    finally:
        os.close(fd)


# Restoring one committed state.


def _abstract(path: str, leaves: dict[str, Any], target: Any) -> dict[str, Any] | None:
    """What orbax is to restore into: None for the tree as saved."""
    if target is None:
        return None
    abstract: dict[str, Any] = {}
    for key, spec in tree_lib.target_specs(path, leaves, target).items():
        tree_lib.put(abstract, leaves[key][1], spec)
    return abstract


def _read_state(
    ocp: Any,
    path: str,
    pointer: dict[str, Any],
    leaves: dict[str, Any],
    abstract: dict[str, Any] | None,
    verify: bool,
) -> Any:
    """The arrays of the state the pointer names, checked against what it declares."""
    if pointer["state"] is None:
        return {}
    root = _check_state_directory(path, pointer["state"])
    if verify:
        _verify(path, root, pointer)
    with ocp.Checkpointer(ocp.StandardCheckpointHandler()) as checkpointer:
        _check_stored(path, leaves, checkpointer.metadata(root))
        arrays = checkpointer.restore(root, args=ocp.args.StandardRestore(abstract))
    _check_restored(path, leaves, arrays)
    return arrays


def _rebuild(
    path: str, pointer: dict[str, Any], leaves: dict[str, Any], arrays: Any, target: Any
) -> Any:
    """The tree to return: as saved, or in the target's structure."""
    if target is None:
        values = {
            key: tree_lib.cast(desc, tree_lib.get(arrays, store))
            for key, (desc, store) in leaves.items()
        }
        return _decode(path, pointer["tree"], values)
    paths, treedef = jax.tree_util.tree_flatten_with_path(target)
    values = [
        tree_lib.as_target(tree_lib.get(arrays, leaves[jax.tree_util.keystr(p)][1]), leaf)
        for p, leaf in paths
    ]
    return jax.tree_util.tree_unflatten(treedef, values)


def _check_stored(path: str, leaves: dict[str, Any], metadata: Any) -> None:
    """Declared shapes and dtypes against orbax's metadata, before orbax allocates them."""
    tree = getattr(metadata, "item_metadata", metadata)
    tree = getattr(tree, "tree", tree)
    for desc, store in leaves.values():
        try:
            stored = tree_lib.get(tree, store)
        except (KeyError, IndexError, TypeError):
            raise CheckpointCorruptError(
                path, f"the state does not hold {desc['path'] or 'the root'}", desc["name"]
            ) from None
        shape, dtype = getattr(stored, "shape", None), getattr(stored, "dtype", None)
        if shape is not None and dtype is not None:
            _check_leaf(path, desc, shape, dtype, "the state holds")


def _check_restored(path: str, leaves: dict[str, Any], arrays: Any) -> None:
    """Declared shapes and dtypes against what orbax returned."""
    for desc, store in leaves.values():
        try:
            value = tree_lib.get(arrays, store)
        except (KeyError, IndexError, TypeError):
            raise CheckpointCorruptError(
                path, f"orbax returned no {desc['path'] or 'root'}", desc["name"]
            ) from None
        _check_leaf(path, desc, np.shape(value), getattr(value, "dtype", None), "orbax returned")


def _check_leaf(path: str, desc: dict[str, Any], shape: Any, dtype: Any, what: str) -> None:
    declared_shape, declared = tuple(desc["shape"]), tree_lib.dtype_of(desc)
    try:
        canonical = jax.dtypes.canonicalize_dtype  # With x64 off, int64 comes back int32.
        same = (
            dtype is not None
            and tuple(shape) == declared_shape
            and canonical(dtype) == canonical(declared)
        )
    except TypeError:
        same = False
    if not same:
        raise CheckpointCorruptError(
            path,
            f"{_POINTER} declares {declared.name}{list(declared_shape)}, {what} "
            f"{getattr(dtype, 'name', dtype)}{list(shape)}",
            desc["name"],
        )


def _decode(path: str, structure: dict[str, Any], values: dict[str, Any]) -> Any:
    try:
        return tree_lib.decode(structure, values)
    except CheckpointTreeError:
        raise
    except ScopaxError as error:
        raise CheckpointCorruptError(
            path, f"{_POINTER} describes a tree that cannot be rebuilt ({error})"
        ) from None
