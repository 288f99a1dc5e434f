"""save / restore on orbax-checkpoint: round trips of every tree, dtype and sharding;
atomic saves (children killed mid-save); corrupted, truncated and missing files."""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

import scopax as sx
from scopax import errors
from scopax._src.io import checkpoint
from scopax._src.io.checkpoint import ABANDONED_AFTER_S, KEEP, restore, save

ROOT = Path(__file__).resolve().parent.parent


def mesh() -> Mesh:
    return Mesh(np.array(jax.devices()).reshape(4, 2), ("data", "model"))


def assert_trees_equal(a: Any, b: Any) -> None:
    assert jax.tree_util.tree_structure(a) == jax.tree_util.tree_structure(b)
    for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b), strict=True):
        assert type(x) is type(y)
        assert np.asarray(x).dtype == np.asarray(y).dtype
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


DTYPES = [
    jnp.bfloat16, jnp.float16, jnp.float32, jnp.int8, jnp.int16, jnp.int32, jnp.uint8,
    jnp.uint16, jnp.uint32, jnp.bool_, jnp.complex64, jnp.float8_e4m3fn,
]  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: jnp.dtype(d).name)
def test_every_dtype(tmp_path, dtype):
    value = jnp.arange(6).reshape(2, 3).astype(dtype)
    params = sx.unflatten({"scope/w": value, "b": jnp.zeros((), dtype)})
    save(tmp_path / "c", params)
    restored = restore(tmp_path / "c")
    assert isinstance(restored, sx.Params)
    assert restored["scope/w"].dtype == jnp.dtype(dtype)
    assert_trees_equal(restored, params)


def test_numpy_and_python_leaves_keep_their_types(tmp_path):
    tree = {
        "params": sx.unflatten({"conv1/weights": jnp.ones((3, 3)), "conv1/biases": jnp.zeros(3)}),
        "f64": np.linspace(0, 1, 3),
        "i64": np.array([2**40, -1], np.int64),
        "u64": np.array([2**64 - 1], np.uint64),
        "scalar": np.float64(2.5),
        "step": 7,
        "lr": 0.25,
        "done": False,
        "nothing": None,
        "list": [jnp.ones(2), (jnp.zeros(1), None)],
        "odd.key/with slash": jnp.arange(2),
        "empty": {},
    }
    save(tmp_path / "c", tree)
    restored = restore(tmp_path / "c")
    assert_trees_equal(restored, tree)
    assert isinstance(restored["params"], sx.Params) and isinstance(restored["list"][1], tuple)
    assert restored["step"] == 7 and type(restored["step"]) is int
    assert type(restored["done"]) is bool and type(restored["scalar"]) is np.float64
    assert restored["empty"] == {} and restored["nothing"] is None


def test_root_leaf_and_empty_tree(tmp_path):
    save(tmp_path / "leaf", jnp.arange(3.0))
    np.testing.assert_array_equal(restore(tmp_path / "leaf"), jnp.arange(3.0))
    save(tmp_path / "empty", sx.Params())
    assert restore(tmp_path / "empty") == sx.Params()


def test_sharded_round_trip(tmp_path):
    sharding = NamedSharding(mesh(), P("data", "model"))
    params = sx.unflatten(
        {
            "w": jax.device_put(jnp.arange(32.0).reshape(8, 4).astype(jnp.bfloat16), sharding),
            "b": jax.device_put(jnp.arange(8.0), NamedSharding(mesh(), P("data"))),
        }
    )
    save(tmp_path / "c", params)
    as_saved = restore(tmp_path / "c")
    assert as_saved["w"].sharding == sharding
    assert_trees_equal(as_saved, params)
    onto = NamedSharding(mesh(), P(None, "data"))
    target = sx.unflatten({"w": onto, "b": NamedSharding(mesh(), P())})
    restored = restore(tmp_path / "c", target)
    assert isinstance(restored, sx.Params)
    assert restored["w"].sharding == onto and restored["b"].sharding.spec == P()
    assert_trees_equal(restored, params)
    abstract = jax.tree_util.tree_map(
        lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=onto if x.ndim == 2 else None),
        params,
    )
    assert restore(tmp_path / "c", abstract)["w"].sharding == onto


class State(NamedTuple):
    count: Any
    mu: Any


def test_custom_nodes_need_a_target(tmp_path):
    state = (State(jnp.zeros((), jnp.int32), {"w": jnp.ones(2)}), None)
    save(tmp_path / "c", state)
    with pytest.raises(errors.CheckpointTreeError) as e:
        restore(tmp_path / "c")
    assert str(e.value) == (
        f"the checkpoint holds a node of type {__name__}.State, which scopax cannot rebuild by "
        "itself; pass target= with the same structure (for an optimizer state, "
        "optimizer.init(params))"
    )
    assert_trees_equal(restore(tmp_path / "c", state), state)


def test_target_mismatches_are_reported_at_once(tmp_path):
    save(tmp_path / "c", sx.unflatten({"a/w": jnp.zeros((2, 3)), "a/b": jnp.zeros(3)}))
    target = sx.unflatten(
        {"a/w": jnp.zeros((3, 2)), "a/c": jnp.zeros(3), "x": jnp.zeros(1, jnp.bfloat16)}
    )
    with pytest.raises(errors.CheckpointMismatchError) as e:
        restore(tmp_path / "c", target)
    assert str(e.value) == (
        f"Cannot restore 4 variables from checkpoint {tmp_path / 'c'}:\n"
        "  a/c: in target but not in the checkpoint\n"
        "  x: in target but not in the checkpoint\n"
        "  a/b: in the checkpoint but not in target\n"
        "  a/w: shape (3, 2) in target, (2, 3) saved\n"
        "Pass a target with the structure, shapes and dtypes that were saved (or "
        "target=None to restore the tree as saved)."
    )
    with pytest.raises(
        errors.CheckpointMismatchError, match="a/w: dtype bfloat16 in target, float32"
    ):
        restore(tmp_path / "c", {"a": {"w": jnp.zeros((2, 3), jnp.bfloat16), "b": jnp.zeros(3)}})


def test_unsavable_trees(tmp_path):
    with pytest.raises(
        errors.CheckpointTreeError, match=r"\['s'\]: cannot save an array of dtype <U1"
    ):
        save(tmp_path / "c", {"s": np.array(["a"])})
    with pytest.raises(
        errors.CheckpointTreeError, match="cannot save a leaf of type ShapeDtypeStruct"
    ):
        save(tmp_path / "c", {"w": jax.ShapeDtypeStruct((2,), jnp.float32)})
    with pytest.raises(errors.CheckpointTreeError, match="dict key 1 is not a string"):
        save(tmp_path / "c", {1: jnp.zeros(1)})
    assert not (tmp_path / "c").exists()


def test_overwrite(tmp_path):
    path = tmp_path / "c"
    save(path, {"w": jnp.zeros(2)})
    with pytest.raises(errors.CheckpointExistsError) as e:
        save(path, {"w": jnp.ones(2)})
    assert str(e.value) == (
        f"Cannot save to {path}: it holds a checkpoint; pass overwrite=True to replace it."
    )
    assert isinstance(e.value, FileExistsError) and isinstance(e.value, ValueError)
    save(path, {"w": jnp.ones(3)}, overwrite=True)
    np.testing.assert_array_equal(restore(path)["w"], jnp.ones(3))
    names = sorted(os.listdir(path))  # Both kept: a reader may still be reading the first.
    assert names[0] == "scopax_checkpoint.json" and len(names) == 3
    assert [n[:15] for n in names[1:]] == ["state-00000001-", "state-00000002-"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(errors.CheckpointExistsError, match="it is a file"):
        save(tmp_path / "file", {"w": jnp.ones(2)}, overwrite=True)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("x")
    with pytest.raises(
        errors.CheckpointExistsError, match="not a scopax checkpoint \\(it holds notes"
    ):
        save(tmp_path / "mine", {"w": jnp.ones(2)}, overwrite=True)


def test_not_found(tmp_path):
    with pytest.raises(errors.CheckpointNotFoundError) as e:
        restore(tmp_path / "nope")
    assert str(e.value) == f"No checkpoint at {tmp_path / 'nope'}: the directory does not exist."
    with pytest.raises(errors.CheckpointNotFoundError, match=r"it has no scopax_checkpoint\.json"):
        restore(tmp_path)


def corrupt(file: Path, how: str) -> None:
    data = file.read_bytes()
    if how == "truncate":
        file.write_bytes(data[: len(data) // 2])
    elif how == "flip":
        middle = len(data) // 2
        file.write_bytes(data[:middle] + bytes([data[middle] ^ 0x20]) + data[middle + 1 :])
    else:
        file.unlink()


@pytest.mark.parametrize("how", ["truncate", "flip", "delete"])
def test_corrupt_files_raise(tmp_path, how):
    source = tmp_path / "source"
    save(source, {"w": jnp.arange(1000.0), "b": jnp.ones(3, jnp.bfloat16)})
    files = sorted(p for p in source.glob("state-*/**/*") if p.is_file())
    assert len(files) > 3
    for i, file in enumerate(files):
        copy = tmp_path / f"copy{i}"
        shutil.copytree(source, copy)
        corrupt(copy / file.relative_to(source), how)
        with pytest.raises(errors.CheckpointCorruptError, match=f"Checkpoint {copy} is corrupt"):
            restore(copy)
    shutil.copytree(source, tmp_path / "pointer")
    corrupt(tmp_path / "pointer" / "scopax_checkpoint.json", how)
    error = errors.CheckpointNotFoundError if how == "delete" else errors.CheckpointCorruptError
    with pytest.raises(error):
        restore(tmp_path / "pointer")


def test_corrupt_pointer_message(tmp_path):
    save(tmp_path / "c", {"w": jnp.zeros(2)})
    pointer = tmp_path / "c" / "scopax_checkpoint.json"
    data = json.loads(pointer.read_text())
    data["tree"]["children"][0][2]["shape"] = [3]  # Valid JSON, wrong checksum.
    pointer.write_text(json.dumps(data))
    with pytest.raises(errors.CheckpointCorruptError) as e:
        restore(tmp_path / "c")
    assert str(e.value) == (
        f"Checkpoint {tmp_path / 'c'} is corrupt or truncated: scopax_checkpoint.json is "
        "damaged. Nothing was restored from it; copy the checkpoint again from where it was "
        "written, or use an earlier one."
    )


def test_missing_orbax(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "orbax.checkpoint", None)
    with pytest.raises(errors.MissingDependencyError) as e:
        save(tmp_path / "c", {})
    assert str(e.value) == (
        "sx.save needs the orbax-checkpoint package, which is not installed; "
        "pip install orbax-checkpoint"
    )
    assert isinstance(e.value, ImportError) and isinstance(e.value, ValueError)


# Atomicity: children killed with SIGKILL at every step of a save over a checkpoint.

CHILD = """
import os, shutil, signal, sys
import numpy as np
from scopax._src.io import checkpoint as ckpt

path, stage = sys.argv[1], sys.argv[2]

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

if stage == "orbax":  # Inside orbax's write, once its temporary directory has files.
    import glob, threading, time

    def watch():
        while not glob.glob(os.path.join(path, "state-*.orbax-checkpoint-tmp*", "*")):
            time.sleep(0.001)
        die()

    threading.Thread(target=watch, daemon=True).start()
elif stage == "hashing":  # Orbax has written the new state; nothing is committed.
    ckpt._hash_file = die
elif stage == "replace":  # The new pointer is written, not yet moved into place.
    replace = os.replace
    os.replace = lambda a, b: die() if b.endswith("scopax_checkpoint.json") else replace(a, b)
elif stage == "committed":
    commit = ckpt._commit
    ckpt._commit = lambda *a: (commit(*a), die())
elif stage == "cleanup":  # Killed halfway through deleting the superseded state.
    import types

    ckpt.KEEP = 1  # Collect the old state right after the commit.

    def partial(trash, **kwargs):
        shutil.rmtree(os.path.join(trash, "d"))
        die()

    ckpt.shutil = types.SimpleNamespace(rmtree=partial)
tree = {"w": np.full(SIZE, 2.0, np.float32), "b": np.full(1000, 2, np.int32)}
print("saving", flush=True)
ckpt.save(path, tree, overwrite=True)
print("saved", flush=True)
"""

# Killed at each step of the save, and after a few delays (wherever they land).
STAGES = ["orbax", "hashing", "replace", "committed", "cleanup", "0.2", "0.5", "0.8"]
SIZE = 4_000_000  # 16 MB: long enough to be killed inside orbax's write.


def age(directory: Path) -> None:
    """Makes everything under ``directory`` look untouched for twice the abandon time."""
    when = time.time() - 2 * ABANDONED_AFTER_S
    for item in [directory, *directory.rglob("*")]:
        os.utime(item, (when, when), follow_symlinks=False)


def test_killed_saves_leave_a_complete_checkpoint(tmp_path):
    first = {"w": np.full(SIZE, 1.0, np.float32), "b": np.full(1000, 1, np.int32)}
    save(tmp_path / "first", first)
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    children: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for stage in STAGES:
            path = tmp_path / stage
            shutil.copytree(tmp_path / "first", path)
            with open(tmp_path / f"{stage}.log", "wb") as log:  # A pipe could fill and block.
                children[stage] = subprocess.Popen(
                    [sys.executable, "-c", CHILD.replace("SIZE", str(SIZE)), str(path), stage],
                    stdout=subprocess.PIPE,
                    stderr=log,
                    cwd=ROOT,
                    env=env,
                    start_new_session=True,
                )
        for stage, child in children.items():
            if stage[0].isdigit():
                assert child.stdout is not None
                assert child.stdout.readline() == b"saving\n", stage
                time.sleep(float(stage))
                os.killpg(child.pid, signal.SIGKILL)
        codes = {stage: child.wait(timeout=300) for stage, child in children.items()}
    finally:
        for child in children.values():
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
            assert child.stdout is not None
            child.stdout.close()
    outcomes = {}
    for stage in STAGES:
        if not stage[0].isdigit():
            assert codes[stage] == -signal.SIGKILL, (tmp_path / f"{stage}.log").read_text()
        restored = restore(tmp_path / stage)
        value = restored["w"][0]
        assert value in (1.0, 2.0)
        np.testing.assert_array_equal(restored["w"], np.full(SIZE, value, np.float32))
        np.testing.assert_array_equal(restored["b"], np.full(1000, int(value), np.int32))
        outcomes[stage] = value
        save(tmp_path / stage, {"w": np.zeros(1)}, overwrite=True)
        np.testing.assert_array_equal(restore(tmp_path / stage)["w"], np.zeros(1))
        age(tmp_path / stage)  # The killed save's leftovers now look abandoned...
        save(tmp_path / stage, {"w": np.zeros(2)}, overwrite=True)  # ...and are deleted.
        pointer = json.loads((tmp_path / stage / "scopax_checkpoint.json").read_text())
        named = {pointer["state"], *pointer["previous"]}
        assert set(os.listdir(tmp_path / stage)) - named == {"scopax_checkpoint.json"}
    expected = {"orbax": 1.0, "hashing": 1.0, "replace": 1.0, "committed": 2.0, "cleanup": 2.0}
    assert {k: v for k, v in outcomes.items() if k in expected} == expected


# Keeping the last states for readers in flight; collecting only what nobody can need.


def pointer_of(path: Path) -> dict[str, Any]:
    return json.loads((path / "scopax_checkpoint.json").read_text())


def test_keeps_the_last_committed_states(tmp_path):
    path = tmp_path / "c"
    for i in range(KEEP + 3):
        save(path, {"w": np.full(2, float(i))}, overwrite=True)
    pointer = pointer_of(path)
    named = [pointer["state"], *pointer["previous"]]
    assert len(named) == KEEP and named == sorted(named, reverse=True)  # Newest first.
    assert sorted(os.listdir(path)) == sorted(["scopax_checkpoint.json", *named])
    np.testing.assert_array_equal(restore(path)["w"], np.full(2, float(KEEP + 2)))


def test_spares_other_saves_in_flight_and_collects_abandoned_ones(tmp_path):
    path = tmp_path / "c"
    save(path, {"w": np.zeros(2)})
    committed = pointer_of(path)["state"]
    # What another save has on disk before it commits: orbax's temporary directory,
    # a finished state, a pointer draft.
    in_flight = [
        "state-00000002-00000000000000aa.orbax-checkpoint-tmp-1234",
        "state-00000002-00000000000000bb",
        ".scopax_checkpoint.json.tmp-00000000000000cc",
    ]
    for name in in_flight[:2]:
        shutil.copytree(path / committed, path / name)
    (path / in_flight[2]).write_text("{}")
    for i in range(KEEP + 1):  # The first state is collected: this process saw it committed.
        save(path, {"w": np.full(2, float(i))}, overwrite=True)
    assert committed not in os.listdir(path)
    assert set(in_flight) <= set(os.listdir(path))
    age(path)
    save(path, {"w": np.ones(2)}, overwrite=True)
    assert not set(in_flight) & set(os.listdir(path))
    pointer = pointer_of(path)
    assert set(os.listdir(path)) == {
        "scopax_checkpoint.json",
        pointer["state"],
        *pointer["previous"],
    }


def test_a_reader_whose_state_is_collected_reads_the_new_one(tmp_path, monkeypatch):
    path = tmp_path / "c"
    save(path, {"w": np.zeros(2)})
    saved_leaves = checkpoint.tree_lib.saved_leaves
    calls = []

    def saves_meanwhile(*args: Any) -> Any:  # Between reading the pointer and the state.
        if not calls:
            calls.append(1)
            for i in range(KEEP + 1):
                save(path, {"w": np.full(2, i + 1.0)}, overwrite=True)
        return saved_leaves(*args)

    monkeypatch.setattr(checkpoint.tree_lib, "saved_leaves", saves_meanwhile)
    for verify in (True, False):
        calls.clear()
        np.testing.assert_array_equal(restore(path, verify=verify)["w"], np.full(2, KEEP + 1.0))


def test_a_state_deleted_by_hand_is_corrupt(tmp_path):
    path = tmp_path / "c"
    save(path, {"w": np.zeros(2)})
    shutil.rmtree(path / pointer_of(path)["state"])
    for verify in (True, False):
        with pytest.raises(errors.CheckpointCorruptError, match=r"state directory .* is missing"):
            restore(path, verify=verify)


def test_a_first_save_racing_another_without_overwrite_fails_clearly(tmp_path, monkeypatch):
    path = tmp_path / "c"
    seal = checkpoint._seal

    def other_save_commits_first(*args: Any) -> Any:
        monkeypatch.setattr(checkpoint, "_seal", seal)
        save(path, {"w": np.ones(2)})
        return seal(*args)

    monkeypatch.setattr(checkpoint, "_seal", other_save_commits_first)
    with pytest.raises(errors.CheckpointExistsError, match="another save committed"):
        save(path, {"w": np.zeros(2)})
    np.testing.assert_array_equal(restore(path)["w"], np.ones(2))
    assert len(os.listdir(path)) == 2  # The loser's state is gone.


# Hostile files: never read without bound, never a raw error.


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Fails a block that blocks (a FIFO opened for reading never returns)."""

    def fail(*_: Any) -> None:
        raise TimeoutError(f"still reading after {seconds} s")

    previous = signal.signal(signal.SIGALRM, fail)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def replace_with(file: Path, kind: str) -> None:
    file.unlink()
    if kind == "zeros":
        file.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(file)
    elif kind == "directory":
        file.mkdir()
    else:  # A sparse file one byte past the pointer's limit.
        with file.open("wb") as f:
            f.truncate(16 * 2**20 + 1)


@pytest.mark.parametrize("kind", ["zeros", "fifo", "directory", "huge"])
def test_a_pointer_that_is_not_a_small_regular_file_is_refused(tmp_path, kind):
    path = tmp_path / "c"
    save(path, {"w": np.zeros(2)})
    replace_with(path / "scopax_checkpoint.json", kind)
    with deadline(10), pytest.raises(errors.CheckpointCorruptError) as e:
        restore(path)
    why = "larger than" if kind == "huge" else "a symbolic link|not a regular file"
    assert re.search(rf"scopax_checkpoint\.json is ({why})", str(e.value)), str(e.value)
    if kind == "directory":  # Not something sx.save wrote: left alone.
        with pytest.raises(errors.CheckpointExistsError, match="is a directory"):
            save(path, {"w": np.ones(2)}, overwrite=True)
        return
    save(path, {"w": np.ones(2)}, overwrite=True)  # Replaced, whatever it was.
    np.testing.assert_array_equal(restore(path)["w"], np.ones(2))


@pytest.mark.parametrize("kind", ["zeros", "fifo", "directory"])
def test_a_state_file_that_is_not_a_regular_file_is_refused(tmp_path, kind):
    path = tmp_path / "c"
    save(path, {"w": np.zeros(2)})
    state = path / pointer_of(path)["state"]
    replace_with(state / "_METADATA", kind)
    with deadline(10), pytest.raises(errors.CheckpointCorruptError, match="_METADATA"):
        restore(path)


def test_restoring_a_file_is_not_found(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(errors.CheckpointNotFoundError) as e:
        restore(tmp_path / "f")
    assert str(e.value) == (
        f"No checkpoint at {tmp_path / 'f'}: it is a file, not a directory; pass the "
        "directory that sx.save wrote."
    )


# A pointer rewritten with a valid checksum is still checked before anything uses it.


def rewrite_pointer(path: Path, mutate: Any) -> None:
    """Applies ``mutate`` to the pointer's body and recomputes its SHA-256."""
    file = path / "scopax_checkpoint.json"
    body = json.loads(file.read_text())
    body.pop("sha256")
    body = mutate(body)
    if isinstance(body, dict):
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        body = {**body, "sha256": digest}
    file.write_text(json.dumps(body))


def leaf_of(body: dict[str, Any]) -> dict[str, Any]:
    return body["tree"]["children"][0][2]


def deep(levels: int) -> dict[str, Any]:
    node: dict[str, Any] = {"node": "None"}
    for _ in range(levels):
        node = {"node": "list", "children": [[0, "0", node]]}
    return node


MUTATIONS = {
    "state outside": lambda b: {**b, "state": "../elsewhere"},
    "state absolute": lambda b: {**b, "state": "/etc"},
    "state nested": lambda b: {**b, "state": b["state"] + "/.."},
    "state not a name": lambda b: {**b, "state": 7},
    "files emptied": lambda b: {**b, "files": {}},
    "files escape": lambda b: {**b, "files": {"../x": [1, "0" * 64]}},
    "files a list": lambda b: {**b, "files": []},
    "tree a list": lambda b: {**b, "tree": []},
    "tree deep": lambda b: {**b, "tree": deep(200)},
    "children not lists": lambda b: {**b, "tree": {"node": "dict", "children": [5]}},
    "unknown node": lambda b: {**b, "tree": {"node": "eval", "children": []}},
    "shape of floats": lambda b: (leaf_of(b).update(shape=[1e6, 1e6]), b)[1],
    "shape negative": lambda b: (leaf_of(b).update(shape=[-1]), b)[1],
    "shape enormous": lambda b: (leaf_of(b).update(shape=[2**40] * 4), b)[1],
    "dtype object": lambda b: (leaf_of(b).update(dtype="object"), b)[1],
    "dtype unknown": lambda b: (leaf_of(b).update(dtype="float7"), b)[1],
    "int leaf of complex": lambda b: (
        leaf_of(b).update(leaf="int", shape=[], dtype="complex64"),
        b,
    )[1],
    "duplicate paths": lambda b: {
        **b,
        "tree": {"node": "dict", "children": [b["tree"]["children"][0]] * 2},
    },
    "version a string": lambda b: {**b, "version": "1"},
    "generation huge": lambda b: {**b, "generation": 10**30},
    "body a list": lambda b: [b],
}


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_a_rehashed_pointer_is_validated(tmp_path, mutation):
    path = tmp_path / "c"
    save(path, {"w": np.zeros((2, 3), np.float32)})
    rewrite_pointer(path, MUTATIONS[mutation])
    for verify in (True, False):
        with pytest.raises(errors.CheckpointCorruptError, match=r"scopax_checkpoint\.json"):
            restore(path, verify=verify)
        with pytest.raises(errors.CheckpointCorruptError, match=r"scopax_checkpoint\.json"):
            restore(path, {"w": np.zeros((2, 3), np.float32)}, verify=verify)


def test_a_pointer_too_deep_for_json_is_corrupt(tmp_path):
    path = tmp_path / "c"
    save(path, {"w": np.zeros(2)})
    body = pointer_of(path)
    text = json.dumps({**body, "tree": "TREE"}).replace('"TREE"', "[" * 100_000 + "]" * 100_000)
    (path / "scopax_checkpoint.json").write_text(text)
    with pytest.raises(errors.CheckpointCorruptError, match="not JSON"):
        restore(path)


def test_declared_shapes_are_checked_before_allocating(tmp_path):
    path = tmp_path / "c"
    save(path, {"w": np.zeros((2, 3), np.float32)})
    rewrite_pointer(path, lambda b: (leaf_of(b).update(shape=[10**6, 10**6]), b)[1])
    # 4 TB if allocated: the target says (2, 3), and nothing is allocated before that.
    with pytest.raises(errors.CheckpointMismatchError, match=r"\(1000000, 1000000\) saved"):
        restore(path, {"w": np.zeros((2, 3), np.float32)})
    with pytest.raises(errors.CheckpointCorruptError) as e:
        restore(path)  # Without target: checked against what orbax stored.
    assert "declares float32[1000000, 1000000], the state holds float32[2, 3]" in str(e.value)
    assert e.value.name == "w"


def test_declared_dtypes_are_checked_against_the_state(tmp_path):
    path = tmp_path / "c"
    save(path, {"w": np.zeros((2, 3), np.float32)})
    rewrite_pointer(path, lambda b: (leaf_of(b).update(dtype="int8"), b)[1])
    with pytest.raises(errors.CheckpointCorruptError, match=r"declares int8.* holds float32"):
        restore(path)


def test_files_on_disk_must_be_those_listed(tmp_path):
    path = tmp_path / "c"
    save(path, {"w": np.zeros(2)})
    (path / pointer_of(path)["state"] / "extra").write_text("x")
    with pytest.raises(errors.CheckpointCorruptError, match="extra is not one of the files"):
        restore(path)


# Fuzzing: mutated pointers, rehashed, give a tree or a scopax error, nothing else.

HOSTILE = [
    None, True, -1, 0, 2**63, 10**40, 1e308, float("nan"), "", "..", "/", "../../etc",
    "state-00000001", "x" * 5000, [], [[]], [None] * 3, {}, {"node": "None"},
    {"leaf": "numpy", "shape": [2**31, 2**31], "dtype": "float64", "path": "", "name": ""},
    [0, "0", {"node": "None"}], ["0" * 64], [1, "0" * 64],
    # Plausible values, to get past the schema to the checks against the state.
    [3], [2, 2], [], "float32", "int8", "bfloat16", "complex64", "bool", "dict", "list",
    "Params", "opaque", "numpy", "jax", "int", "numpy-scalar", "~0", "~root", "a", 1,
]  # fmt: skip


def _locations(node: Any, trail: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield trail
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _locations(value, (*trail, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _locations(value, (*trail, i))


def _mutate(body: Any, rng: random.Random) -> Any:
    trail = rng.choice(list(_locations(body))[1:])
    parent = body
    for key in trail[:-1]:
        parent = parent[key]
    action = rng.random()
    if action < 0.1 and isinstance(parent, dict):
        del parent[trail[-1]]
    elif action < 0.2:
        parent[trail[-1]] = deep(rng.choice([50, 150]))
    elif action < 0.3 and isinstance(parent, dict):
        parent[rng.choice(["extra", "state", "files", "leaf", "node"])] = rng.choice(HOSTILE)
    elif action < 0.5:  # Another part of the pointer, moved here.
        value = body
        for key in rng.choice(list(_locations(body))):
            value = value[key]
        parent[trail[-1]] = copy.deepcopy(value)
    else:
        parent[trail[-1]] = copy.deepcopy(rng.choice(HOSTILE))
    return body


def test_fuzzed_pointers_raise_only_scopax_errors(tmp_path):
    source = tmp_path / "source"
    tree = {"p": sx.unflatten({"a/w": jnp.ones((2, 2))}), "n": [np.arange(3), 4, None], "s": 1.5}
    save(source, tree)
    original = pointer_of(source)
    rng = random.Random(1234)
    outcomes = {"restored": 0, "refused": 0}
    for i in range(200):
        path = tmp_path / f"f{i % 4}"
        if not path.exists():
            shutil.copytree(source, path)
        body = copy.deepcopy(original)
        body.pop("sha256")
        for _ in range(rng.randint(1, 3)):
            body = _mutate(body, rng)
        rewrite_pointer(path, lambda _, body=body: body)
        target = tree if i % 3 == 0 else None
        try:
            restore(path, target, verify=i % 2 == 0)
            outcomes["restored"] += 1
        except sx.errors.ScopaxError:
            outcomes["refused"] += 1
    assert outcomes["refused"] > 150, outcomes


def test_too_deep_trees_are_refused_on_save(tmp_path):
    with pytest.raises(errors.CheckpointTreeError, match="nests deeper than 100 levels"):
        save(tmp_path / "c", functools.reduce(lambda t, _: [t], range(2000), np.zeros(1)))
    assert not (tmp_path / "c").exists()


def test_a_target_sharding_that_cannot_hold_the_array_is_a_mismatch(tmp_path):
    save(tmp_path / "c", {"w": jnp.arange(3.0), "b": jnp.zeros(8)})
    data = NamedSharding(mesh(), P("data"))  # Four ways: 3 does not split.
    target = {"w": data, "b": jax.ShapeDtypeStruct((8,), jnp.float32, sharding=data)}
    with pytest.raises(errors.CheckpointMismatchError) as e:
        restore(tmp_path / "c", {**target, "b": NamedSharding(mesh(), P("data", "model"))})
    assert e.value.names == ["w", "b"]
    assert "w: sharding P('data',) cannot hold the saved shape (3,)" in str(e.value)
    assert "b: sharding P('data', 'model') has more axes than the saved shape (8,)" in str(e.value)
