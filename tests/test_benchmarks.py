"""The Makefile's benchmark targets call the scripts with arguments they accept.

The benchmarks themselves take minutes and print ratios, never assert times, so
the test suite does not run them; it checks that ``make bench`` and ``make
bench-full`` would not stop at an argparse error.
"""

import importlib.util
import os
import pathlib
import re
import shlex
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _bench_commands() -> list[tuple[str, str, list[str]]]:
    makefile = (ROOT / "Makefile").read_text()
    commands = []
    for target in ("bench", "bench-full"):
        body = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", makefile, re.M)
        assert body, f"no {target} target in the Makefile"
        for line in body.group(1).splitlines():
            words = shlex.split(line.strip())
            scripts = [i for i, w in enumerate(words) if w.startswith("benchmarks/")]
            if scripts:
                i = scripts[0]
                commands.append((target, words[i], words[i + 1 :]))
    # The accelerator run's script calls them too.
    for line in (ROOT / "benchmarks" / "device.sh").read_text().splitlines():
        words = line.split()
        scripts = [i for i, w in enumerate(words) if re.fullmatch(r"benchmarks/\w+\.py", w)]
        if scripts:
            i = scripts[0]
            commands.append(("device.sh", words[i], words[i + 1 :]))
    return commands


COMMANDS = _bench_commands()


def test_make_bench_runs_every_benchmark_script():
    scripts = {script for _, script, _ in COMMANDS}
    on_disk = {f"benchmarks/{p.name}" for p in (ROOT / "benchmarks").glob("*.py")}
    assert on_disk <= scripts, f"not run by make bench or bench-full: {on_disk - scripts}"


@pytest.mark.parametrize(("target", "script", "args"), COMMANDS)
def test_bench_arguments_parse(target, script, args, monkeypatch):
    name = f"_bench_{pathlib.Path(script).stem}"
    spec = importlib.util.spec_from_file_location(name, ROOT / script)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    module.parser().parse_args(args)  # raises SystemExit on an unknown argument


def test_device_script_runs_the_quick_benchmarks_and_refuses_a_cpu_backend():
    # The accelerator run is `make bench` (the quick benchmarks), with the machine's python.
    quick = {(script, tuple(args)) for target, script, args in COMMANDS if target == "bench"}
    device = {(script, tuple(args)) for target, script, args in COMMANDS if target == "device.sh"}
    assert device == quick
    env = {k: v for k, v in os.environ.items() if k != "ALLOW_CPU"}
    out = subprocess.run(
        ["bash", str(ROOT / "benchmarks" / "device.sh")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**env, "PYTHON": sys.executable, "JAX_PLATFORMS": "cpu"},
    )
    assert out.returncode == 2, out.stderr
    assert "backend here is cpu" in out.stderr
