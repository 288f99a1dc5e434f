"""The package layout is the architecture: imports only go the documented ways.

``scopax._src.core`` is the contract and imports none of the rest; ``lift`` and ``io``
build on the core and not on each other; nothing in ``_src`` imports the public
namespaces, which are written against the public core as a user library would be.
"""

import ast
import pathlib

import pytest

SRC = pathlib.Path(__file__).resolve().parents[1] / "src" / "scopax"
PUBLIC = ("nn", "layers", "contrib", "losses", "train", "compat", "port")
ALLOWED = {"core": {"core"}, "lift": {"core", "lift"}, "io": {"core", "io"}}


def _imports(path: pathlib.Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name == "scopax" or name.startswith("scopax.")}


def _modules(package: str) -> list[pathlib.Path]:
    return sorted((SRC / "_src" / package).glob("*.py"))


def test_src_holds_only_the_three_packages():
    assert sorted(p.name for p in (SRC / "_src").iterdir() if p.suffix == ".py") == ["__init__.py"]
    packages = sorted(p.name for p in (SRC / "_src").iterdir() if p.is_dir())
    assert [p for p in packages if p != "__pycache__"] == ["core", "io", "lift"]


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_go_the_documented_ways(package):
    bad = []
    for path in _modules(package):
        for name in _imports(path):
            parts = name.split(".")
            if parts[:2] == ["scopax", "_src"] and len(parts) > 2:
                if parts[2] not in ALLOWED[package]:
                    bad.append(f"{path.name}: {name}")
            elif name == "scopax" or parts[1] in PUBLIC:
                bad.append(f"{path.name}: {name}")
    assert bad == []


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_package_says_what_it_owns_and_may_import(package):
    doc = ast.get_docstring(ast.parse((SRC / "_src" / package / "__init__.py").read_text()))
    assert doc and "Owns" in doc and "May import" in doc


def test_public_namespaces_use_only_the_public_core():
    bad = []
    for name in PUBLIC:
        root = SRC / name
        for path in sorted(root.rglob("*.py")) if root.is_dir() else []:
            bad += [f"{path.relative_to(SRC)}: {m}" for m in _imports(path) if "._src" in m]
    assert bad == []
