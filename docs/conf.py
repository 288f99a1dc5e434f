"""Sphinx configuration: MyST pages and notebooks (myst-nb), the API reference from
docstrings (autodoc + napoleon), sphinx-book-theme. Built with warnings as errors:

    python -m sphinx -W -b html docs docs/_build/html

No intersphinx: CI has no network. Notebooks are never executed here (nbmake runs
them in the test suite); the ones in ``notebooks/`` are rendered as committed.

pytest imports this file too (``--doctest-modules`` over docs/), where Sphinx may not
be installed: Sphinx is imported only in the hooks that a build runs.
"""

import os
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
NOTEBOOKS = ROOT / "notebooks"
# Sphinx reads sources only under docs/, so the build copies notebooks/*.ipynb here.
NOTEBOOK_COPIES = DOCS / "notebooks"

# The docs describe the checkout they sit in, even where another scopax is installed.
sys.path.insert(0, str(ROOT / "src"))

import scopax  # noqa: E402  (after the path above)

project = "scopax"
author = "the scopax authors"
copyright = "the scopax authors"
release = version = scopax.__version__  # Written once, in src/scopax/__init__.py.
language = "en"

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]

exclude_patterns = [
    "_build",
    "**/README.md",
    "**/.ipynb_checkpoints",
    "Thumbs.db",
    ".DS_Store",
]

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

nb_execution_mode = "off"

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_preserve_defaults = True
napoleon_google_docstring = True
napoleon_numpy_docstring = False

html_theme = "sphinx_book_theme"
html_title = "scopax"
html_theme_options = {"show_toc_level": 2}
html_static_path = ["_static"] if (DOCS / "_static").is_dir() else []
# Sphinx would copy each page's Markdown into the output, where a build in docs/_build
# puts a second copy of every doctest in the way of pytest's --doctest-glob='*.md'.
html_copy_source = False


def _copy_notebooks() -> list[str]:
    """Copies ``notebooks/*.ipynb`` (the notebook side of each jupytext pair) into
    ``docs/notebooks/``; returns their docnames, sorted, or [] when there are none."""
    shutil.rmtree(NOTEBOOK_COPIES, ignore_errors=True)
    notebooks = sorted(NOTEBOOKS.glob("*.ipynb"))
    if not notebooks:
        return []
    NOTEBOOK_COPIES.mkdir()
    # Removed when the build ends; should one be interrupted, git and ruff ignore them.
    (NOTEBOOK_COPIES / ".gitignore").write_text("# Copied by docs/conf.py for a build.\n*\n")
    for notebook in notebooks:
        shutil.copyfile(notebook, NOTEBOOK_COPIES / notebook.name)
    return [f"notebooks/{notebook.stem}" for notebook in notebooks]


def _remove_notebook_copies(app, exception) -> None:
    shutil.rmtree(NOTEBOOK_COPIES, ignore_errors=True)


def _add_notebooks_to_index(app, docname: str, source: list[str]) -> None:
    """Adds a toctree of the notebooks to the landing page, if there are any: a toctree
    that names no document would fail the build under -W."""
    notebooks = "\n".join(app.config.scopax_notebooks)
    if docname == "index" and notebooks:
        source[0] += f"\n:::{{toctree}}\n:caption: Notebooks\n:hidden:\n\n{notebooks}\n:::\n"


def _link_files_outside_docs(app, doctree) -> None:
    """MyST turns a link to a Markdown file into a link to that page. A Markdown file
    outside docs/ (``../benchmarks/README.md``) is no page: link the file itself, as MyST
    does for every other file outside docs/ (``../examples/multihost.py``)."""
    from sphinx import addnodes

    doc_dir = (DOCS / app.env.docname).parent
    for node in list(doctree.findall(addnodes.pending_xref)):
        if node.get("reftype") != "myst" or node.get("refdomain") != "doc":
            continue
        target = Path(node["reftarget"])
        files = [Path(f"{target}{suffix}") for suffix in app.config.source_suffix]
        files = [file for file in files if file.is_absolute() and file.is_file()]
        if not files or DOCS in files[0].resolve().parents:
            continue
        link = addnodes.download_reference(
            refdomain=None,
            reftarget=os.path.relpath(files[0], doc_dir),
            refdoc=app.env.docname,
            reftype="myst",
            refexplicit=node.get("refexplicit", True),
        )
        link += node.children
        node.replace_self(link)


def _docstring_of_reexported_constant(app, what, name, obj, options, lines: list[str]) -> None:
    """autodoc looks for a constant's docstring in the module it documents it in
    (``scopax``), which only re-exports it; without one it shows the docstring of the
    constant's type. Takes the docstring from the module that defines the constant."""
    from sphinx.pycode import ModuleAnalyzer

    if what != "data":
        return
    attribute = name.rpartition(".")[2]
    docs = ModuleAnalyzer.for_module(type(obj).__module__).find_attr_docs()
    if ("", attribute) in docs:
        lines[:] = list(docs["", attribute])


def _find_notebooks(app, config) -> None:
    config.scopax_notebooks = _copy_notebooks()


def setup(app):
    app.add_config_value("scopax_notebooks", [], "env")
    app.connect("config-inited", _find_notebooks)
    app.connect("source-read", _add_notebooks_to_index)
    app.connect("build-finished", _remove_notebook_copies)
    # Before napoleon's handler (priority 500) reads the sections.
    # After it: napoleon would read "``reuse=AUTO_REUSE``: ..." as "type: description".
    app.connect("autodoc-process-docstring", _docstring_of_reexported_constant, priority=600)
    # Before Sphinx's collectors (priority 500) note the downloads of each page.
    app.connect("doctree-read", _link_files_outside_docs, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
