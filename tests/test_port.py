"""scopax.port on the TF1-style files in tests/port_cases: golden outputs and reports.

Each case ``NAME.py`` has ``NAME.expected.py`` (the ported file) and ``NAME.report.txt``
(what ``python -m scopax.port NAME.py`` prints). To rewrite the goldens after a deliberate
change, run with SCOPAX_REGEN_PORT_GOLDEN=1 and read the diff before committing it.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("libcst")

from scopax.port import main, port_source

CASES = Path(__file__).parent / "port_cases"
NAMES = ["imports", "shapes", "graph", "formatting", "names"]
REGEN = bool(os.environ.get("SCOPAX_REGEN_PORT_GOLDEN"))


def _golden(path: Path, actual: str) -> str:
    if REGEN:
        path.write_text(actual, encoding="utf-8", newline="")
    return path.read_text(encoding="utf-8")


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _report(monkeypatch, capsys, *argv: str) -> tuple[int, str]:
    monkeypatch.chdir(CASES)
    status = main(list(argv))
    return status, capsys.readouterr().out


@pytest.mark.parametrize("name", NAMES)
def test_ported_file_matches_golden(name):
    result = port_source(_read(CASES / f"{name}.py"), f"{name}.py")
    assert result.tf1 and result.changed
    assert result.ported == _golden(CASES / f"{name}.expected.py", result.ported)


@pytest.mark.parametrize("name", NAMES)
def test_report_matches_golden(name, monkeypatch, capsys):
    status, out = _report(monkeypatch, capsys, f"{name}.py")
    assert status == 0
    assert out == _golden(CASES / f"{name}.report.txt", out)


@pytest.mark.parametrize("name", NAMES)
def test_porting_twice_changes_nothing(name):
    once = port_source(_read(CASES / f"{name}.py")).ported
    twice = port_source(once)
    assert twice.tf1  # A ported file still reads as TF1 code: its places are reported.
    assert not twice.changed and twice.ported == once
    # The places left for a person are the same places, before and after.
    before = port_source(_read(CASES / f"{name}.py"))
    assert [
        (f.code.replace("get_shape()", "shape").replace("compat.v1.", ""), f.what)
        for f in before.findings
    ] == [(f.code, f.what) for f in twice.findings]
    assert before.findings_after == twice.findings


def test_every_report_kind_is_covered():
    """Every kind of place the porter knows appears in some golden report."""
    from scopax.port import _imports, _kinds, _modules

    reports = "".join(_read(CASES / f"{name}.report.txt") for name in NAMES)
    kinds = {what for what, _ in _kinds.GRAPH_NAMES.values()}
    kinds |= {_kinds.RUN[0], _kinds.FEED[0], _kinds.TRAIN[0], "a static-shape check"}
    kinds |= {u.what for u in _modules._UNSUPPORTED.values()}
    kinds |= {_imports._UNNAMED_INTERNAL.what}
    missing = {kind for kind in kinds if f": {kind} → " not in reports}
    assert not missing
    assert reports.count("a static-shape check") == 6


@pytest.mark.parametrize(
    "code",
    [
        "tf.placeholder",
        "tf.Session",
        "tf.InteractiveSession",
        "self.sess.run",
        "feed_dict",
        "tf.global_variables_initializer",
        "tf.initialize_all_variables",
        "tf.local_variables_initializer",
        "tf.FIFOQueue",
        "tf.train.batch",
        "tf.train.string_input_producer",
        "tf.train.Saver",
        "tf.summary.scalar",
    ],
)
def test_the_graph_code_named_in_the_design_is_reported(code):
    report = _read(CASES / "graph.report.txt")
    assert f": {code}: " in report


def test_every_graph_name_is_in_a_case():
    """Each graph-only TF name in the report table is exercised by a case file."""
    from scopax.port import _kinds

    text = _read(CASES / "graph.py")
    covered = [n for n in _kinds.GRAPH_NAMES if n.removesuffix(".*").rsplit(".")[-1] in text]
    assert len(covered) >= 24  # The rest (readers, old summary names) share their kind.


def test_comments_and_formatting_survive():
    ported = _read(CASES / "formatting.expected.py")
    for kept in [
        "import scopax.compat.v1   as   tf    # aligned, as someone liked it",
        "# ops\nimport scopax.compat.v1 as array_ops\nfrom scopax import nn as nn_ops\n",
        "def   layer( x ,units ) :   # spacing kept",
        "    in_dim=list(x.shape)[ -1 ]",
        "        [in_dim, units],  # [in, out]",
        "        keepdims = True,  # kept for broadcasting",
        "    ) ; n = x.shape [0]  # two statements, one line",
    ]:
        assert kept in ported
    original = _read(CASES / "formatting.py").splitlines()
    assert len(ported.splitlines()) == len(original) + 1  # Only the split import adds one.


def test_bare_value_and_lookalikes_are_left_alone():
    ported = _read(CASES / "shapes.expected.py")
    assert "value = config.value" in ported
    assert "tf.reduce_min(scores, keep_dims=True, keepdims=True)" in ported
    assert "tf.nn.moments(scores, [0], keep_dims=True)" in ported
    assert "total = tf.to_float(length)" in ported
    assert "padded = (depth + 1) * 2" in ported  # Parenthesized where precedence needs it.


def test_a_parameters_name_reads_as_getattr_and_nothing_else_does():
    ported = _read(CASES / "names.expected.py")
    for rewritten in [
        'label = getattr(values, "name", "values")  # the tensor\'s name, for the message',
        'where = "in " + (getattr(values, "name", "values"))',
        'return getattr(values, "name", "values").split(":")[0], where',
        'self.width = getattr(config, "name", "config")',
        'return this.name, getattr(inputs, "name", "inputs")',
        'return cls.name, getattr(spec, "name", "spec")',
        'scale = lambda t: (getattr(t, "name", "t"), t * 2)',
        'return getattr(logits, "name", "logits"), labels.name',
        'return scope.name, getattr(values, "name", "values")',
    ]:
        assert rewritten in ported
    for kept in [
        "prefix = scope.name",
        "current = tf.get_variable_scope().name",
        'kernel.name = "kernel:0"',
        "prefix, current, outer.name, kernel.name",
        "del tensor.name",
        "tensor.name += label",
        "[t.name for t in [tensor]]",
        'return getattr(tensor, "name", "tensor"), first',
        "self.name = name",
        "return head(net), scale(net), net.name",
    ]:
        assert kept in ported
    assert ported.count("getattr(") == 10  # 9 rewritten, 1 written so already
    # A read that is not a parameter's, or is not a read, is never rewritten.
    for source in [
        "def f(x):\n    x.name = 1\n",
        "def f(x):\n    del x.name\n",
        "def f(x):\n    with tf.name_scope('a') as x:\n        return x.name\n",
        "def f(x):\n    x = tf.get_default_graph()\n    return x.name\n",
        "x = y.name\n",
        "class A:\n    name = B.name\n",
    ]:
        result = port_source("import tensorflow as tf\n" + source)
        assert "getattr" not in result.ported, source


def test_framework_ops_is_the_public_namespace():
    # DCGAN-tensorflow's ops.py: `from tensorflow.python.framework import ops`. Its names
    # (name_scope, control_dependencies, convert_to_tensor, Graph, ...) are public TF names.
    result = port_source(
        "import tensorflow as tf\n"
        "from tensorflow.python.framework import ops\n"
        "with ops.name_scope('x'):\n"
        "    y = tf.ones([2])\n"
    )
    assert "import scopax.compat.v1 as ops\n" in result.ported
    assert not result.findings
    assert port_source(result.ported).ported == result.ported


def test_not_tf1_code_is_left_unchanged(tmp_path, monkeypatch, capsys):
    source = "import numpy as np\n\nx = np.zeros(3).shape\n"
    (tmp_path / "plain.py").write_text(source)
    monkeypatch.chdir(tmp_path)
    assert main(["--write", "plain.py"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "plain.py: not TF1 code: no tensorflow import; left unchanged"
    assert (tmp_path / "plain.py").read_text() == source
    assert not port_source(source).tf1


def test_non_python_file_is_skipped(tmp_path, monkeypatch, capsys):
    (tmp_path / "notes.txt").write_text("import tensorflow as tf\n")
    monkeypatch.chdir(tmp_path)
    assert main(["--check", "notes.txt"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "notes.txt: skipped: not a Python file"
    assert (tmp_path / "notes.txt").read_text() == "import tensorflow as tf\n"


def test_syntax_error_names_file_and_line(tmp_path, monkeypatch, capsys):
    source = "import tensorflow as tf\n\ndef f(x):\n    return x.get_shape(\n"
    (tmp_path / "broken.py").write_text(source)
    monkeypatch.chdir(tmp_path)
    assert main(["--write", "broken.py"]) == 2
    first = capsys.readouterr().out.splitlines()[0]
    assert first == "broken.py:4:23: syntax error: '(' was never closed; left unchanged"
    assert (tmp_path / "broken.py").read_text() == source
    with pytest.raises(SyntaxError):
        port_source(source)


def test_encoding_and_line_endings_survive(tmp_path, monkeypatch, capsys):
    source = "# -*- coding: latin-1 -*-\r\nimport tensorflow as tf\r\nname = 'caf\xe9'\r\n"
    (tmp_path / "latin.py").write_bytes(source.encode("latin-1"))
    monkeypatch.chdir(tmp_path)
    assert main(["--write", "latin.py"]) == 0
    expected = source.replace("import tensorflow as tf", "import scopax.compat.v1 as tf")
    assert (tmp_path / "latin.py").read_bytes() == expected.encode("latin-1")
    assert "latin.py: rewrote 1 line" in capsys.readouterr().out


def test_scopax_never_imports_libcst_and_the_porter_says_how_to_get_it():
    # One subprocess for both (importing jax is the slow part): a fresh interpreter, so
    # nothing else has imported libcst, then one in which libcst cannot be imported.
    code = (
        "import sys, scopax, scopax.port\n"
        "assert 'libcst' not in sys.modules, 'import scopax imported libcst'\n"
        "sys.modules['libcst'] = None\n"  # As if it were not installed.
        "from scopax.port import main, port_source\n"
        "status = main(['x.py'])\n"
        "try:\n    port_source('')\nexcept ImportError as e:\n    print(e)\n"
        "sys.exit(status)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    message = "scopax.port needs libcst, which is not installed: pip install 'scopax[port]'"
    assert (done.returncode, done.stderr.strip()) == (2, message)
    assert done.stdout.strip() == message
