"""The runnable examples and the README's code: they run, and print what they promise.

Both are user code, so they run with JAX's default rank promotion, as the doctests do;
this directory's conftest makes implicit rank promotion raise for the unit tests.
"""

import doctest
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import jax
import jax.numpy as jnp
import pytest

import scopax as sx

ROOT = Path(__file__).resolve().parent.parent

# The tutorial's filter: two conv layers, one shared set of variables.
IMAGE_FILTER_PARAMS = {
    "image_filters/conv1/biases": "(32,)",
    "image_filters/conv1/weights": "(5, 5, 32, 32)",
    "image_filters/conv2/biases": "(32,)",
    "image_filters/conv2/weights": "(5, 5, 32, 32)",
}


def _load_example(name: str) -> ModuleType:
    path = ROOT / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"scopax_examples_{name}", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and pickling look modules up here.
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def _default_rank_promotion():
    with jax.numpy_rank_promotion("allow"):  # JAX's default, what users run with.
        yield


@pytest.fixture(scope="module")
def image_filter() -> ModuleType:
    return _load_example("image_filter")


def test_image_filter_prints_one_shared_set_of_variables(image_filter, capsys):
    assert image_filter.main(["--batch", "1", "--size", "8", "--seed", "1"]) == 0
    out = capsys.readouterr().out

    rows = re.findall(r"^(image_filters/\S+)\s+(\(.*?\))\s+float32\s+([\d,]+)$", out, re.M)
    assert {name: shape for name, shape, _ in rows} == IMAGE_FILTER_PARAMS
    assert len(rows) == len(IMAGE_FILTER_PARAMS)  # Each variable listed once.
    counts = {name: int(count.replace(",", "")) for name, _, count in rows}
    assert counts["image_filters/conv1/weights"] == 5 * 5 * 32 * 32
    assert re.search(r"^total \(4 variables\)\s+51,264$", out, re.M)

    assert "result1 (1, 8, 8, 32)" in out
    assert "result2 (1, 8, 8, 32)" in out
    assert "shared filter: True" in out


def test_image_filter_rejects_a_second_filter_without_reuse(image_filter):
    def two_filters(image1, image2):
        with sx.variable_scope("image_filters"):
            return image_filter.my_image_filter(image1), image_filter.my_image_filter(image2)

    images = jnp.zeros((1, 8, 8, image_filter.CHANNELS))
    with pytest.raises(sx.errors.VariableExistsError) as info:
        sx.transform(two_filters).init(jax.random.key(0), images, images)
    assert info.value.name == "image_filters/conv1/weights"


def test_readme_examples_run():
    failed, attempted = doctest.testfile(
        str(ROOT / "README.md"),
        module_relative=False,
        report=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert attempted > 0
    assert failed == 0


@pytest.mark.parametrize(
    "path", ["README.md", *sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("docs/*.md"))]
)
def test_every_python_block_in_the_docs_is_a_doctest(path):
    """Code that is not a doctest would never run, and could rot: every fenced block is
    either shell commands or a ```python block of ``>>>`` prompts, unless the page names
    the test that checks its other blocks (``% ... tests/test_x.py ...``) and that test
    reads the page (docs/porting.md shows a program and the porter's real output)."""
    text = (ROOT / path).read_text(encoding="utf-8")
    checkers = [
        ROOT / name
        for name in re.findall(r"^% .*?(tests/test_\w+\.py)", text, re.M)
        if Path(path).name in (ROOT / name).read_text(encoding="utf-8")
    ]
    blocks = re.findall(r"^```(\w*)\n(.*?)^```", text, re.M | re.S)
    for language, block in blocks:
        if checkers and language in ("python", "console"):
            continue
        assert language in ("python", "sh"), f"{path}: a ```{language} block is not tested"
        if language == "python":
            assert block.lstrip().startswith(">>>"), f"{path}: a python block is not a doctest"
