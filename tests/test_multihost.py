"""examples/multihost.py: sharded init and data- and model-parallel training.

The slow test starts the example as two JAX processes (four CPU devices each, gloo
collectives, coordinator on 127.0.0.1) and as one reference process with all eight
devices, and checks that both runs train to the same losses and parameters. The children
run in their own sessions and are killed, whole process groups, whatever happens.

The fast tests run in this process, on the eight fake CPU devices of the root conftest.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import IO, Any

import jax
import numpy as np
import pytest
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

import scopax as sx

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "multihost.py"
TIMEOUT_S = 240  # For all three children together; a run takes a few seconds.
TAIL_CHARS = 3000
TRACEBACK = b"Traceback (most recent call last)"

PARAM_NAMES = ["mlp/hidden/bias", "mlp/hidden/kernel", "mlp/output/bias", "mlp/output/kernel"]


def _load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("scopax_examples_multihost", EXAMPLE)
    assert spec is not None and spec.loader is not None, EXAMPLE
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def example() -> ModuleType:
    return _load_example()


# --- Two processes against one ----------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _child_env(coordinator: str) -> dict[str, str]:
    """This environment without the conftest's XLA_FLAGS (and any other JAX settings):
    the example sets its own device count. The coordinator listens on loopback only."""
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS" and not k.startswith("JAX_")}
    env["JAX_PLATFORMS"] = "cpu"
    env["JAX_COORDINATOR_BIND_ADDRESS"] = coordinator  # Default: all interfaces.
    return env


def _tail(path: Path) -> str:
    text = path.read_text(encoding="utf-8", errors="replace")
    return text if len(text) <= TAIL_CHARS else "..." + text[-TAIL_CHARS:]


def _run_children(
    commands: Mapping[str, list[str]], env: Mapping[str, str], logs: Path, script: Path = EXAMPLE
) -> dict[str, str]:
    """Runs ``script`` once per command, all at once; returns each child's output.

    Fails, with every child's output tail, as soon as one child fails (exits non-zero or
    prints a Python traceback) or the time is up.
    In every case, every child's process group is killed and reaped before returning.
    """
    procs: dict[str, subprocess.Popen[bytes]] = {}
    files: list[IO[bytes]] = []
    try:
        for name, args in commands.items():
            log = (logs / f"{name}.log").open("wb")
            files.append(log)
            procs[name] = subprocess.Popen(
                [sys.executable, str(script), *args],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=ROOT,
                start_new_session=True,  # Its own process group, for os.killpg.
            )
        deadline = time.monotonic() + TIMEOUT_S
        problem = None
        while problem is None:
            codes = {name: proc.poll() for name, proc in procs.items()}
            failed = {name: code for name, code in codes.items() if code not in (None, 0)}
            # A child that raised may hang at exit in jax.distributed.shutdown, waiting
            # for peers that wait for it in a collective: fail now, not at the timeout.
            raised = [name for name in procs if TRACEBACK in (logs / f"{name}.log").read_bytes()]
            if failed or raised:
                problem = f"child process failed: exit codes {failed}, raised in {raised}"
            elif all(code == 0 for code in codes.values()):
                break
            elif time.monotonic() > deadline:
                running = [name for name, code in codes.items() if code is None]
                problem = f"timed out after {TIMEOUT_S} s; still running: {running}"
            else:
                time.sleep(0.05)
    finally:
        for proc in procs.values():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        for proc in procs.values():
            proc.wait()
        for log in files:
            log.close()
    outputs = {name: (logs / f"{name}.log").read_text(errors="replace") for name in commands}
    if problem is not None:
        tails = "\n".join(f"--- {name} ---\n{_tail(logs / f'{name}.log')}" for name in commands)
        pytest.fail(f"{problem}\n{tails}", pytrace=False)
    return outputs


def _load_run(path: Path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    with np.load(path) as data:
        losses = data["losses"]
        params = {k.removeprefix("param/"): data[k] for k in data.files if k != "losses"}
    return losses, params


def test_two_processes_train_like_one(tmp_path):
    coordinator = f"127.0.0.1:{_free_port()}"
    multi, single, stray = tmp_path / "multi.npz", tmp_path / "single.npz", tmp_path / "p1.npz"
    worker = ["--coordinator", coordinator, "--num-processes", "2", "--local-devices", "4"]
    worker += ["--steps", "3", "--init-timeout", "120"]
    outputs = _run_children(
        {
            "process0": [*worker, "--process-id", "0", "--out", str(multi)],
            # Only process 0 writes, whatever --out says.
            "process1": [*worker, "--process-id", "1", "--out", str(stray)],
            "single": ["--single", "--local-devices", "4", "--steps", "3", "--out", str(single)],
        },
        _child_env(coordinator),
        tmp_path,
    )

    # The two processes really formed one job of eight devices; the reference is one.
    assert "2 process(es), 8 devices (4 local), mesh {'data': 4, 'model': 2}" in outputs["process0"]
    assert "1 process(es), 8 devices (8 local), mesh {'data': 4, 'model': 2}" in outputs["single"]
    assert "step 3: loss" in outputs["process0"]
    assert "step" not in outputs["process1"]  # Only process 0 logs.
    assert not stray.exists()

    multi_losses, multi_params = _load_run(multi)
    single_losses, single_params = _load_run(single)
    assert multi_losses.shape == (3,)
    np.testing.assert_allclose(multi_losses, single_losses, rtol=0, atol=1e-5)
    assert np.all(np.diff(multi_losses) < 0), multi_losses
    assert sorted(multi_params) == sorted(single_params) == PARAM_NAMES
    for name in PARAM_NAMES:
        assert multi_params[name].shape == single_params[name].shape, name
        np.testing.assert_allclose(
            multi_params[name], single_params[name], rtol=0, atol=1e-5, err_msg=name
        )


# sx.save and sx.restore of a tree sharded over both processes: every process writes its
# shards, process 0 alone commits, and both restore the same tree.
CHECKPOINT_CHILD = """
import json, sys

import jax

coordinator, process_id, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
jax.config.update("jax_platforms", "cpu")
jax.config.update("jax_num_cpu_devices", 4)
jax.config.update("jax_cpu_collectives_implementation", "gloo")
jax.distributed.initialize(coordinator, 2, process_id, initialization_timeout=120)

import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

import scopax as sx
from scopax._src.io import checkpoint

commits = []
commit = checkpoint._commit
checkpoint._commit = lambda *args: (commits.append(args[0]), commit(*args))[1]

mesh = Mesh(np.array(jax.devices()).reshape(4, 2), ("data", "model"))
values = np.arange(32.0, dtype=np.float32).reshape(8, 4)
w = jax.make_array_from_callback(
    (8, 4), NamedSharding(mesh, P("data", "model")), lambda index: values[index]
)
sx.save(path, {"params": sx.unflatten({"dense/w": w}), "step": 7, "host": np.arange(3)})

def report(restored):
    w = restored["params"]["dense/w"]
    return {
        "w": np.asarray(multihost_utils.process_allgather(w, tiled=True)).tolist(),
        "spec": str(w.sharding.spec),
        "params": type(restored["params"]).__name__,
        "step": restored["step"],
        "host": restored["host"].tolist(),
    }

as_saved = report(sx.restore(path))
onto = {"params": sx.unflatten({"dense/w": NamedSharding(mesh, P(None, "data"))})}
target = report(sx.restore(path, {**onto, "step": 0, "host": np.zeros(3, np.int64)}))
print("result " + json.dumps({"commits": len(commits), "as_saved": as_saved, "target": target}))
jax.distributed.shutdown()
"""


def test_two_processes_save_and_restore_one_checkpoint(tmp_path):
    coordinator = f"127.0.0.1:{_free_port()}"
    script, path = tmp_path / "child.py", tmp_path / "ckpt"
    script.write_text(CHECKPOINT_CHILD)
    outputs = _run_children(
        {f"process{i}": [coordinator, str(i), str(path)] for i in range(2)},
        _child_env(coordinator),
        tmp_path,
        script,
    )
    results = {}
    for name, output in outputs.items():
        lines = [line for line in output.splitlines() if line.startswith("result ")]
        assert lines, output
        results[name] = json.loads(lines[-1].removeprefix("result "))
    assert results["process0"]["commits"] == 1  # Only process 0 writes the pointer.
    assert results["process1"]["commits"] == 0
    expected = np.arange(32.0).reshape(8, 4).tolist()
    for result in results.values():
        assert result["as_saved"] == {
            "w": expected, "spec": "P('data', 'model')", "params": "Params",
            "step": 7, "host": [0, 1, 2],
        }  # fmt: skip
        assert result["target"] == {**result["as_saved"], "spec": "P(None, 'data')"}
    pointer = json.loads((path / "scopax_checkpoint.json").read_text())
    assert any(f.startswith("ocdbt.process_1/") for f in pointer["files"])  # Both wrote shards.
    assert sorted(os.listdir(path)) == ["scopax_checkpoint.json", pointer["state"]]


# --- In this process, on eight fake devices ---------------------------------------------

# Logical rules, and how many ways each parameter is then split over the (4, 2) mesh.
RULES_AND_SPLITS = {
    "megatron": (
        (("embed", None), ("mlp", "model")),
        {
            "mlp/hidden/kernel": 2,
            "mlp/hidden/bias": 2,
            "mlp/output/kernel": 2,
            "mlp/output/bias": 1,
        },
    ),
    "fsdp+megatron": (
        (("embed", "data"), ("mlp", "model")),
        {
            "mlp/hidden/kernel": 8,
            "mlp/hidden/bias": 2,
            "mlp/output/kernel": 8,
            "mlp/output/bias": 4,
        },
    ),
}


def _sharded_init(example: ModuleType, rules: Any, x: Any) -> tuple[Any, sx.Params]:
    mesh = example.make_mesh(jax.devices(), 2)
    rng = jax.random.key(0)
    with sx.axis_rules(rules):
        shardings = sx.param_shardings(mesh, example.model.init, rng, x)
    return mesh, jax.jit(example.model.init, out_shardings=shardings)(rng, x)


@pytest.mark.parametrize("rules_name", sorted(RULES_AND_SPLITS))
def test_each_device_holds_its_share_of_each_parameter(example, rules_name):
    assert jax.device_count() == 8, "the root conftest provides eight CPU devices"
    rules, splits = RULES_AND_SPLITS[rules_name]
    x = np.zeros((8, example.FEATURES), np.float32)
    _, params = _sharded_init(example, rules, x)

    flat = sx.flatten(params)
    assert sorted(flat) == PARAM_NAMES
    for name, k in splits.items():
        arr = flat[name]
        shards = arr.addressable_shards
        assert len(shards) == 8, name  # One shard on every device...
        assert {shard.device for shard in shards} == set(jax.devices()), name
        for shard in shards:  # ...each with exactly 1/k of the elements,
            assert math.prod(shard.data.shape) * k == arr.size, (name, shard.data.shape)
        distinct = {tuple((s.start, s.stop) for s in shard.index) for shard in shards}
        assert len(distinct) == k, name  # ...and k different pieces: the whole array.


@pytest.mark.parametrize("rules_name", sorted(RULES_AND_SPLITS))
def test_sharded_init_and_apply_equal_unsharded(example, rules_name):
    rules, _ = RULES_AND_SPLITS[rules_name]
    x_host, _ = example.make_batch(0, 16)
    mesh, params = _sharded_init(example, rules, x_host)
    plain = example.model.init(jax.random.key(0), x_host)

    flat, plain_flat = sx.flatten(params), sx.flatten(plain)
    for name in PARAM_NAMES:  # Same values: each variable's key depends on its name only.
        np.testing.assert_array_equal(np.asarray(flat[name]), np.asarray(plain_flat[name]))

    x = example.shard_batch(mesh, x_host)
    assert x.sharding.is_equivalent_to(NamedSharding(mesh, P("data")), x.ndim)
    sharded = jax.jit(example.model.apply)(params, x)
    expected = example.model.apply(plain, x_host)
    np.testing.assert_allclose(np.asarray(sharded), np.asarray(expected), rtol=1e-5, atol=1e-6)


def test_sharded_training_equals_unsharded_sgd(example):
    mesh = example.make_mesh(jax.devices(), 2)
    params, losses = example.train(mesh, steps=3, batch=32, lr=0.1, seed=0, log=False)

    x, y = example.make_batch(0, 32)
    ref = example.model.init(jax.random.key(0), x)
    ref_losses = []
    for _ in range(3):
        loss, grads = jax.value_and_grad(example.loss_fn)(ref, x, y)
        ref = jax.tree.map(lambda p, g: p - 0.1 * g, ref, grads)
        ref_losses.append(float(loss))

    np.testing.assert_allclose(losses, ref_losses, rtol=0, atol=1e-5)
    ref_flat = sx.flatten(ref)
    assert sorted(params) == PARAM_NAMES
    for name in PARAM_NAMES:
        np.testing.assert_allclose(params[name], np.asarray(ref_flat[name]), rtol=0, atol=1e-5)
