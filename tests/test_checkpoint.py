"""save / restore on orbax-checkpoint: round trips of every tree, dtype and sharding;
atomic saves (children killed mid-save); corrupted, truncated and missing files."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
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
from scopax._src.checkpoint import restore, save

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
    assert sorted(os.listdir(path)) == ["scopax_checkpoint.json", "state-00000002"]
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
    files = sorted(p for p in (source / "state-00000001").rglob("*") if p.is_file())
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
from scopax._src import checkpoint as ckpt

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
elif stage == "cleanup":  # Killed halfway through deleting the old state.
    remove = ckpt._remove_stale

    def partial(path, keep):
        if keep is None:
            return remove(path, keep)
        old = [n for n in os.listdir(path) if n.startswith("state-") and n != keep]
        shutil.rmtree(os.path.join(path, old[0], "d"))
        die()

    ckpt._remove_stale = partial
tree = {"w": np.full(SIZE, 2.0, np.float32), "b": np.full(1000, 2, np.int32)}
print("saving", flush=True)
ckpt.save(path, tree, overwrite=True)
print("saved", flush=True)
"""

# Killed at each step of the save, and after a few delays (wherever they land).
STAGES = ["orbax", "hashing", "replace", "committed", "cleanup", "0.2", "0.5", "0.8"]
SIZE = 4_000_000  # 16 MB: long enough to be killed inside orbax's write.


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
        save(tmp_path / stage, {"w": np.zeros(1)}, overwrite=True)  # Cleans up after it.
        assert sorted(os.listdir(tmp_path / stage))[0] == "scopax_checkpoint.json"
        assert len(os.listdir(tmp_path / stage)) == 2
    expected = {"orbax": 1.0, "hashing": 1.0, "replace": 1.0, "committed": 2.0, "cleanup": 2.0}
    assert {k: v for k, v in outcomes.items() if k in expected} == expected
