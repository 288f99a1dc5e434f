"""The documentation: the Sphinx site builds with warnings as errors, the API reference
documents every public name, and the Chinese guide keeps the English guide's examples.

The build needs the ``docs`` extra (``pip install -e '.[docs]'``); without it the build
test fails rather than skips, so a missing extra cannot hide a broken site.
"""

import doctest
import importlib
import importlib.util
import inspect
import pkgutil
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import scopax
import scopax.errors
import scopax.nn

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

# `.. autofunction:: scopax.x` in an {eval-rst} block, or MyST's ```{autofunction} scopax.x
_AUTODOC = re.compile(r"^(?:\.\. |```\{|:::\{)(auto\w+)(?:::|\})[ \t]+(\S+)", re.M)


def _documented() -> set[str]:
    """The targets of every autodoc directive in docs/api/."""
    return {
        target
        for page in sorted((DOCS / "api").glob("*.md"))
        for _, target in _AUTODOC.findall(page.read_text(encoding="utf-8"))
    }


def _public_names(module: ModuleType) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [name for name in dir(module) if not name.startswith("_")]
        names = [n for n in names if not inspect.ismodule(getattr(module, n))]
    return sorted(names)


def _nn_modules() -> list[ModuleType]:
    """scopax.nn and its public submodules (rnn_cell, seq2seq, and any added later)."""
    submodules = [
        importlib.import_module(f"scopax.nn.{info.name}")
        for info in pkgutil.iter_modules(scopax.nn.__path__)
        if not info.name.startswith("_")
    ]
    return [scopax.nn, *submodules]


def _error_classes() -> list[str]:
    return sorted(
        name
        for name, obj in vars(scopax.errors).items()
        if not name.startswith("_") and isinstance(obj, type) and issubclass(obj, BaseException)
    )


def test_the_api_reference_documents_every_public_name():
    public = [f"scopax.{name}" for name in scopax.__all__]
    public += [f"scopax.errors.{name}" for name in _error_classes()]
    for module in _nn_modules():
        public.append(module.__name__)
        public += [f"{module.__name__}.{name}" for name in _public_names(module)]
    missing = sorted(set(public) - _documented())
    assert not missing, (
        "public names without an autodoc directive in docs/api/*.md (add e.g. "
        f"```{{eval-rst}}\n.. autofunction:: {missing[0]}\n``` to the page it belongs "
        f"on): {missing}"
    )


def test_the_api_reference_documents_nothing_that_is_gone():
    """A directive for a name that no longer exists would fail the build with a less
    direct message; say which one."""
    gone = []
    for target in _documented():
        module, _, attribute = target.rpartition(".")
        try:
            found = hasattr(importlib.import_module(module), attribute)
        except ImportError:
            found = False
        if not found:  # A subpackage (scopax.port) is an attribute only once imported.
            try:
                found = importlib.util.find_spec(target) is not None
            except ImportError:
                found = False
        if not found:
            gone.append(target)
    assert not gone, f"docs/api/*.md documents names that do not exist: {sorted(gone)}"


def test_the_site_builds_without_warnings(tmp_path):
    missing = [
        package
        for package in ("sphinx", "myst_nb", "sphinx_book_theme")
        if importlib.util.find_spec(package) is None
    ]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not installed: the docs build needs the docs extra, "
            "`pip install -e '.[docs]'`",
            pytrace=False,
        )
    out = tmp_path / "html"
    build = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "-q", DOCS, out],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, f"sphinx-build -W failed:\n{build.stderr}{build.stdout}"
    assert (out / "index.html").is_file()
    assert (out / "zh" / "sharing_variables.html").is_file()


def _examples(path: Path) -> list[doctest.Example]:
    return doctest.DocTestParser().get_examples(path.read_text(encoding="utf-8"))


def test_the_chinese_guide_has_the_english_guides_examples():
    """docs/zh/sharing_variables.md translates docs/sharing_variables.md: the prose is
    its own, the ``>>>`` examples are the English page's, with the same outputs."""
    english = _examples(DOCS / "sharing_variables.md")
    chinese = _examples(DOCS / "zh" / "sharing_variables.md")
    assert len(chinese) == len(english), (
        f"docs/zh/sharing_variables.md has {len(chinese)} >>> examples, "
        f"docs/sharing_variables.md {len(english)}: carry the change over to the Chinese page"
    )
    for en, zh in zip(english, chinese, strict=True):
        assert zh.want == en.want, (
            f"docs/zh/sharing_variables.md line {zh.lineno + 1} expects {zh.want!r}, the "
            f"English page (line {en.lineno + 1}) {en.want!r}"
        )


@pytest.mark.parametrize(
    "path", sorted(p.relative_to(ROOT).as_posix() for p in DOCS.glob("zh/*.md"))
)
def test_every_code_block_in_the_chinese_guide_is_a_doctest(path):
    """As tests/test_examples.py checks for docs/*.md: a block is shell commands or
    ``>>>`` prompts, so every line of Python on the page runs."""
    text = (ROOT / path).read_text(encoding="utf-8")
    for language, block in re.findall(r"^```(\w*)\n(.*?)^```", text, re.M | re.S):
        assert language in ("python", "sh"), f"{path}: a ```{language} block is not tested"
        if language == "python":
            assert block.lstrip().startswith(">>>"), f"{path}: a python block is not a doctest"
