"""docs/porting.md shows the porter's real output: its TF1 program, ported by its commands.

The page's ``python`` block after ``% file: train.py`` is written to a folder, and each
``$ python -m scopax.port ...`` line of its ``console`` blocks is run there in order; what
it prints must be the block's text. (The page's ``>>>`` examples run as doctests.)
"""

import re
import shlex
from pathlib import Path

import pytest

pytest.importorskip("libcst")

from scopax.port import main

PAGE = Path(__file__).parent.parent / "docs" / "porting.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def _page() -> tuple[str, list[tuple[str, str]]]:
    text = PAGE.read_text(encoding="utf-8")
    program = BLOCK.search(text, text.index("% file: train.py"))
    assert program is not None and program.group(1) == "python"
    commands = []
    for language, body in BLOCK.findall(text):
        if language != "console":
            continue
        command, _, output = body.partition("\n")
        assert command.startswith("$ python -m scopax.port ")
        commands.append((command.removeprefix("$ "), output))
    return program.group(2), commands


def test_page_shows_what_the_porter_prints(tmp_path, monkeypatch, capsys):
    program, commands = _page()
    assert len(commands) == 3
    (tmp_path / "train.py").write_text(program, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for command, shown in commands:
        argv = shlex.split(command)[3:]
        quiet = argv[-1] == "2>/dev/null"
        status = main(argv[:-1] if quiet else argv)
        captured = capsys.readouterr()
        assert status == 0
        assert captured.out + ("" if quiet else captured.err) == shown, command


def test_page_trains_the_model_function_that_the_porter_wrote(tmp_path, monkeypatch):
    program, _ = _page()
    (tmp_path / "train.py").write_text(program, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["--write", "train.py"]) == 0
    ported = (tmp_path / "train.py").read_text(encoding="utf-8")
    text = PAGE.read_text(encoding="utf-8")
    start = text.index(">>> def model_fn(features):")
    doctest_lines = text[start : text.index(">>> def loss_fn", start)].splitlines()
    model_fn = "\n".join(line[4:].split("  # As the porter")[0] for line in doctest_lines)
    assert model_fn.strip() in ported
