"""The notebooks are committed as jupytext pairs, in sync and without outputs.

Running them is nbmake's job (``pytest --nbmake notebooks``); these tests keep the
committed files reviewable: each ``notebooks/NN_name.py`` (the source to edit and diff)
has its ``.ipynb`` (what Jupyter opens), the two hold the same cells, and no output,
execution count or widget state is committed.
"""

from pathlib import Path

import jupytext
import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
REQUIRED = [
    "01_sharing_variables",
    "02_rnn_and_seq2seq",
    "03_cifar10_training",
    "04_porting_a_tf1_checkpoint",
]
SOURCES = sorted(NOTEBOOKS.glob("*.py"))
IPYNBS = sorted(NOTEBOOKS.glob("*.ipynb"))


def _cells(notebook: nbformat.NotebookNode) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source) for cell in notebook.cells]


def test_the_required_notebooks_exist():
    missing = [name for name in REQUIRED if not (NOTEBOOKS / f"{name}.py").is_file()]
    assert not missing, f"missing notebooks/{{{', '.join(missing)}}}.py"


def test_every_notebook_is_a_pair():
    assert {p.stem for p in SOURCES} == {p.stem for p in IPYNBS}, (
        "each notebooks/NAME.py needs notebooks/NAME.ipynb and vice versa: run "
        "`.venv/bin/jupytext --sync notebooks/NAME.py` (or --to ipynb for a new one)"
    )


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_pair_is_declared_and_in_sync(source: Path):
    text = jupytext.read(source)
    assert text.metadata["jupytext"]["formats"] == "ipynb,py:percent", (
        f"{source.name}: the header must declare `formats: ipynb,py:percent`"
    )
    ipynb = source.with_suffix(".ipynb")
    notebook = jupytext.read(ipynb)
    assert notebook.metadata["jupytext"]["formats"] == "ipynb,py:percent"
    assert _cells(notebook) == _cells(text), (
        f"{ipynb.name} and {source.name} differ: edit the .py and run "
        f"`.venv/bin/jupytext --sync notebooks/{source.name}`"
    )


@pytest.mark.parametrize("ipynb", IPYNBS, ids=lambda p: p.stem)
def test_no_outputs_are_committed(ipynb: Path):
    notebook = nbformat.read(ipynb, as_version=4)
    nbformat.validate(notebook)
    executed = [
        i
        for i, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not executed, (
        f"{ipynb.name}: cells {executed} have outputs or execution counts; clear them "
        f"(`.venv/bin/jupytext --to ipynb notebooks/{ipynb.stem}.py` rewrites it bare)"
    )
    assert "widgets" not in notebook.metadata, f"{ipynb.name}: saved widget state"
