"""The porter's command line: --diff, --write, --check and their exit codes, folders."""

import importlib
import io
import runpy
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

pytest.importorskip("libcst")

from scopax.port import main

CASES = Path(__file__).parent / "port_cases"
TF1 = "import tensorflow as tf\n\n\ndef width(x):\n    return x.get_shape()[-1].value\n"
PORTED = "import scopax.compat.v1 as tf\n\n\ndef width(x):\n    return x.shape[-1]\n"
GRAPH = "import scopax.compat.v1 as tf\n\nx = tf.placeholder(tf.float32, [None])\n"


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_default_reports_and_writes_nothing(work, capsys):
    (work / "model.py").write_text(TF1)
    status, out, _ = _run(capsys, "model.py")
    assert status == 0
    assert out == (
        "model.py: would rewrite 2 lines\n"
        "scopax.port: 1 file would change, 2 lines would be rewritten, 0 places need a "
        "person (nothing written; --diff shows the changes, --write makes them)\n"
    )
    assert (work / "model.py").read_text() == TF1


def test_write_rewrites_in_place_and_reports_positions_in_the_new_file(work, capsys):
    source = "import tensorflow.compat.v1 as tf\nx = tf.compat.v1.placeholder(tf.float32)\n"
    (work / "model.py").write_text(source)
    status, out, _ = _run(capsys, "--write", "model.py")
    assert status == 0
    assert (work / "model.py").read_text() == (
        "import scopax.compat.v1 as tf\nx = tf.placeholder(tf.float32)\n"
    )
    assert out.splitlines() == [
        "model.py: rewrote 2 lines",
        "model.py:2:5: tf.placeholder: a graph input → an argument of the model function",
        "scopax.port: 1 file changed, 2 lines rewritten, 1 place needs a person",
    ]
    # The dry run names the place where it is now: tf.compat.v1.placeholder, same spot.
    assert _run(capsys, "model.py")[1].splitlines()[0].startswith("model.py:2:5: tf.placeholder")


@pytest.mark.parametrize(
    ("source", "status"),
    [(PORTED, 0), (TF1, 1), (GRAPH, 1), ("import numpy\n", 0), ("x = (\n", 2)],
    ids=["clean", "needs-rewrite", "needs-a-person", "not-tf1", "syntax-error"],
)
def test_check_exit_codes(work, capsys, source, status):
    (work / "model.py").write_text(source)
    assert _run(capsys, "--check", "model.py")[0] == status
    assert (work / "model.py").read_text() == source


def test_errors_win_over_needing_porting(work, capsys):
    (work / "model.py").write_text(TF1)
    status, out, _ = _run(capsys, "--check", "model.py", "missing.py")
    assert status == 2
    assert "missing.py: error: no such file or folder" in out.splitlines()
    assert out.splitlines()[-1].endswith(
        ", 1 error (nothing written; --diff shows the changes, --write makes them)"
    )


def test_a_file_that_cannot_be_written_is_an_error(work, capsys, monkeypatch):
    (work / "model.py").write_text(TF1)

    def refuse(self, data):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "write_bytes", refuse)
    status, out, _ = _run(capsys, "--write", "model.py")
    assert status == 2
    assert out.splitlines() == [
        "model.py: error: cannot write it ([Errno 13] Permission denied: 'model.py'); "
        "left unchanged",
        "scopax.port: 0 files changed, 0 lines rewritten, 0 places need a person, 1 error",
    ]
    assert (work / "model.py").read_text() == TF1


def test_write_and_check_together_is_a_usage_error(work, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--write", "--check", "model.py"])
    assert exit_info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_diff_prints_a_patch_and_the_report_goes_to_stderr(work, capsys, monkeypatch):
    monkeypatch.chdir(CASES)
    status, out, err = _run(capsys, "--diff", "formatting.py")
    assert status == 0
    assert out == (CASES / "formatting.diff").read_text(encoding="utf-8")
    assert err == (CASES / "formatting.report.txt").read_text(encoding="utf-8")


def test_diff_applies_with_patch(work, capsys):
    if shutil.which("patch") is None:
        pytest.skip("no patch program")
    (work / "model.py").write_text(TF1)
    _, out, _ = _run(capsys, "--diff", "model.py")
    subprocess.run(["patch", "-s", "-p0"], input=out, text=True, check=True, cwd=work)
    assert (work / "model.py").read_text() == PORTED


def test_folders_recurse_into_python_files_only(work, capsys):
    (work / "pkg" / "sub").mkdir(parents=True)
    (work / "pkg" / ".hidden").mkdir()
    (work / "pkg" / "a.py").write_text(TF1)
    (work / "pkg" / "sub" / "b.py").write_text(GRAPH)
    (work / "pkg" / "sub" / "c.py").write_text("import numpy\n")
    (work / "pkg" / "sub" / "notes.txt").write_text(TF1)
    (work / "pkg" / ".hidden" / "d.py").write_text(TF1)
    (work / "pkg" / "venv" / "site-packages").mkdir(parents=True)
    (work / "pkg" / "venv" / "site-packages" / "e.py").write_text(TF1)
    status, out, _ = _run(capsys, "--write", "pkg")
    assert status == 0
    a, b, c = Path("pkg/a.py"), Path("pkg/sub/b.py"), Path("pkg/sub/c.py")
    assert out.splitlines() == [
        f"{a}: rewrote 2 lines",
        f"{b}:3:5: tf.placeholder: a graph input → an argument of the model function",
        f"{c}: not TF1 code: no tensorflow import; left unchanged",
        "scopax.port: 1 file changed, 2 lines rewritten, 1 place needs a person",
    ]
    assert (work / "pkg" / "a.py").read_text() == PORTED
    assert (work / "pkg" / ".hidden" / "d.py").read_text() == TF1
    assert _run(capsys, "--write", "pkg")[1].splitlines()[-1] == (
        "scopax.port: 0 files changed, 0 lines rewritten, 1 place needs a person"
    )


def test_a_console_that_cannot_show_the_arrow_gets_an_escape(work, monkeypatch):
    (work / "model.py").write_text(GRAPH)
    raw = io.BytesIO()
    ascii_out = io.TextIOWrapper(raw, encoding="ascii")
    monkeypatch.setattr(sys, "stdout", ascii_out)
    assert main(["model.py"]) == 0
    ascii_out.flush()
    first = raw.getvalue().decode("ascii").splitlines()[0]
    assert first == (
        "model.py:3:5: tf.placeholder: a graph input \\u2192 an argument of the model function"
    )


def test_python_dash_m_runs_the_porter(work, monkeypatch, capsys):
    (work / "model.py").write_text(TF1)
    monkeypatch.setattr(sys, "argv", ["scopax.port", "--check", "model.py"])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_module("scopax.port", run_name="__main__")
    assert exit_info.value.code == 1
    assert capsys.readouterr().out.splitlines()[0] == "model.py: would rewrite 2 lines"


def test_the_console_script_and_the_port_extra():
    from scopax.port import _cli

    project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())[
        "project"
    ]
    module, _, name = project["scripts"]["scopax-port"].partition(":")
    assert getattr(importlib.import_module(module), name) is _cli.main
    assert "libcst>=1.1" in project["optional-dependencies"]["port"]
