"""sx.save and sx.restore raced by other processes: two writers and two readers on one
checkpoint, and writers killed with SIGKILL at random moments.

Every worker is a fresh interpreter (subprocess), started together behind a go-file so
that the import time is not raced; each loop runs for a fixed time, and every child is
killed and reaped whatever happens. Every value a writer saves encodes (writer,
iteration) in every leaf, so a tree mixing two saves is seen at once.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from scopax._src.io.checkpoint import ABANDONED_AFTER_S, restore, save

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 120  # To import JAX and orbax in every child, on a loaded machine.
SEED = 20240607

WORKER = """
import json, os, sys, time, traceback
import numpy as np
import scopax as sx
from scopax.errors import ScopaxError

role, path, ident, seconds, go = sys.argv[1:6]
ident, seconds = int(ident), float(seconds)

def tree(v):
    return {"a": np.full(64, v), "b": {"c": np.full((2, 3), v), "d": [np.float64(v), v]}}

def whole(t):
    leaves = [t["a"], t["b"]["c"], t["b"]["d"][0], t["b"]["d"][1]]
    values = {float(x) for leaf in leaves for x in np.ravel(leaf)}
    return values.pop() if len(values) == 1 else None

deadline = time.monotonic() + 120
while not os.path.exists(go) and time.monotonic() < deadline:
    time.sleep(0.005)
stats = {"ok": 0, "mixed": 0, "scopax": [], "raw": [], "last": None}
end, i = time.monotonic() + seconds, 0
while time.monotonic() < end:
    i += 1
    try:
        if role == "writer":
            value = ident * 100000 + i
            sx.save(path, tree(value), overwrite=True)
            print(f"saved {value}", flush=True)
        else:
            value = whole(sx.restore(path))
            if value is None:
                stats["mixed"] += 1
                continue
        stats["ok"] += 1
        stats["last"] = value
    except ScopaxError as e:
        stats["scopax"].append(f"{type(e).__name__}: {e}")
    except Exception:
        stats["raw"].append(traceback.format_exc())
print("stats " + json.dumps(stats), flush=True)
"""


def tree(value: float) -> dict:
    return {
        "a": np.full(64, value),
        "b": {"c": np.full((2, 3), value), "d": [np.float64(value), value]},
    }


def whole_value(restored: dict) -> float:
    """The one value every leaf holds; fails if the tree mixes two saves."""
    leaves = [restored["a"], restored["b"]["c"], restored["b"]["d"][0], restored["b"]["d"][1]]
    values = {float(x) for leaf in leaves for x in np.ravel(leaf)}
    assert len(values) == 1, f"a tree mixing saves: {sorted(values)}"
    return values.pop()


class Workers:
    """Child processes running WORKER, their output in files; all killed on exit."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.go = directory / "go"
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, role: str, path: Path, ident: int, seconds: float) -> None:
        out, err = (self.directory / f"{name}.out"), (self.directory / f"{name}.err")
        with out.open("wb") as stdout, err.open("wb") as stderr:  # Pipes could fill, and block.
            args = [role, str(path), str(ident), str(seconds), str(self.go)]
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-c", WORKER, *args],
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                cwd=ROOT,
                env={**os.environ, "JAX_PLATFORMS": "cpu"},
                start_new_session=True,
            )

    def output(self, name: str) -> str:
        return (self.directory / f"{name}.out").read_text()

    def errors(self, name: str) -> str:
        return (self.directory / f"{name}.err").read_text(errors="replace")

    def wait_for(self, name: str, text: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while text not in self.output(name):
            proc = self.procs[name]
            assert proc.poll() is None, f"{name} exited {proc.returncode}:\n{self.errors(name)}"
            assert time.monotonic() < deadline, f"{name} never printed {text!r}"
            time.sleep(0.005)

    def kill(self, name: str) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.procs[name].pid, signal.SIGKILL)
        self.procs[name].wait()

    def stats(self, name: str) -> dict:
        code = self.procs[name].wait(timeout=START_TIMEOUT_S)
        assert code == 0, f"{name} exited {code}:\n{self.errors(name)}"
        line = [x for x in self.output(name).splitlines() if x.startswith("stats ")][-1]
        return json.loads(line.removeprefix("stats "))

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        for name in self.procs:
            self.kill(name)


def test_concurrent_writers_and_readers_see_whole_trees(tmp_path):
    """Two writers save in a loop while two readers restore in a loop."""
    path = tmp_path / "ckpt"
    save(path, tree(0.0))
    with Workers(tmp_path) as workers:
        for ident, (name, role) in enumerate(
            [("w1", "writer"), ("w2", "writer"), ("r1", "reader"), ("r2", "reader")], 1
        ):
            workers.start(name, role, path, ident, seconds=1.5)
        workers.go.touch()
        stats = {name: workers.stats(name) for name in ("w1", "w2", "r1", "r2")}
    for name, s in stats.items():
        assert s["raw"] == [], f"{name} got raw errors:\n" + "\n".join(s["raw"][:3])
        assert s["scopax"] == [], f"{name} failed: {s['scopax'][:3]}"
        assert s["mixed"] == 0, f"{name} restored {s['mixed']} trees mixing saves"
        assert s["ok"] > 0, name
    # The last commit wins: the last save of one of the writers.
    assert whole_value(restore(path)) in (stats["w1"]["last"], stats["w2"]["last"])


def test_writers_killed_at_random_moments_leave_a_whole_tree(tmp_path):
    """Rounds of two writers each SIGKILLed at a random moment of their save loops."""
    path = tmp_path / "ckpt"
    save(path, tree(0.0))
    rng = random.Random(SEED)
    saved = {0.0}  # Every value a writer may have committed.
    for round_ in range(2):
        directory = tmp_path / f"round{round_}"
        directory.mkdir()
        with Workers(directory) as workers:
            names = {f"w{round_}{k}": 10 * round_ + k for k in (1, 2)}
            for name, ident in names.items():
                workers.start(name, "writer", path, ident, seconds=60)
            workers.go.touch()
            for name in names:
                workers.wait_for(name, "saved")
            for name in names:
                time.sleep(rng.uniform(0.0, 0.3))
                workers.kill(name)
            for name, ident in names.items():
                assert "Traceback" not in workers.errors(name), workers.errors(name)
                count = workers.output(name).count("saved")
                # Acknowledged saves, and the one in flight when it was killed.
                saved |= {float(ident * 100000 + i) for i in range(1, count + 2)}
        assert whole_value(restore(path)) in saved
    save(path, tree(1.0), overwrite=True)
    assert whole_value(restore(path)) == 1.0
    _age(path)  # What the killed saves left now looks abandoned, and is deleted.
    save(path, tree(2.0), overwrite=True)
    pointer = json.loads((path / "scopax_checkpoint.json").read_text())
    assert set(os.listdir(path)) == {
        "scopax_checkpoint.json",
        *(n for n in [pointer["state"], *pointer["previous"]] if (path / n).exists()),
    }
    assert whole_value(restore(path)) == 2.0


def _age(directory: Path) -> None:
    when = time.time() - 2 * ABANDONED_AFTER_S
    for item in [directory, *directory.rglob("*")]:
        os.utime(item, (when, when), follow_symlinks=False)
