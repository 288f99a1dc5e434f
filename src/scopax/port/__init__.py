"""``scopax.port``: turn a TF1 model file into scopax code (``python -m scopax.port``).

The porter rewrites what no namespace can: TensorFlow's imports (to
``import scopax.compat.v1 as tf`` and friends), ``tf.compat.v1.`` prefixes, and TF's
static-shape idioms (``x.get_shape().as_list()`` -> ``list(x.shape)``). The graph code
around a model — placeholders, sessions, feeds, initializer ops, queues, savers,
summaries — it reports as ``path:line:col: what it is → what to write instead``.
It needs libcst, which keeps comments and formatting: ``pip install 'scopax[port]'``.

>>> from scopax.port import port_source
>>> result = port_source("import tensorflow as tf\\nn = x.get_shape()[-1].value\\n")
>>> print(result.ported, end="")
import scopax.compat.v1 as tf
n = x.shape[-1]

See ``docs/porting.md`` for a walkthrough, and ``python -m scopax.port --help``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scopax.port._port import PortResult

__all__ = ["main", "port_source"]


def port_source(source: str, path: str = "<string>") -> PortResult:
    """Port one TF1 source text: the rewritten text and the places that need a person.

    >>> from scopax.port import port_source
    >>> result = port_source(
    ...     "import tensorflow as tf\\n"
    ...     "x = tf.placeholder(tf.float32, [None, 3])  # the batch\\n"
    ...     "y = tf.reduce_sum(x, 1, keep_dims=True)\\n")
    >>> print(result.ported, end="")
    import scopax.compat.v1 as tf
    x = tf.placeholder(tf.float32, [None, 3])  # the batch
    y = tf.reduce_sum(x, 1, keepdims=True)
    >>> for finding in result.findings:
    ...     print(finding.format("model.py"))
    model.py:2:5: tf.placeholder: a graph input → an argument of the model function

    A source that imports no TensorFlow (and no ``scopax.compat``) is not TF1 code:
    ``result.tf1`` is False and ``result.ported`` is the source itself.

    Args:
      source: the text of a Python module.
      path: its file name, for syntax errors.

    Returns:
      A ``PortResult``: ``ported``, ``changed``, ``lines_rewritten``, ``tf1``,
      ``findings`` (positions in ``source``), ``findings_after`` (positions in
      ``ported``) and ``diff(path)``.

    Raises:
      SyntaxError: ``source`` is not valid Python.
      ImportError: libcst is not installed (``pip install 'scopax[port]'``).
    """
    _require_libcst()
    from scopax.port._port import port_source as port

    return port(source, path)


def main(argv: list[str] | None = None) -> int:
    """The command line, ``python -m scopax.port [--diff] [--write | --check] PATH...``.

    >>> from scopax.port import main
    >>> main(["--check", "README.md"])
    README.md: skipped: not a Python file
    scopax.port: 0 files would change, 0 lines would be rewritten, 0 places need a person
    0

    Args:
      argv: the arguments after the command; None reads ``sys.argv``.

    Returns:
      The exit status: 0 done, 1 with ``--check`` when something needs porting, 2 on an
      error (a syntax error, a missing or unreadable path, no libcst).
    """
    from scopax.port._cli import main as cli

    return cli(argv)


def _require_libcst() -> None:
    try:
        import libcst  # noqa: F401
    except ImportError as error:
        from scopax.port._cli import LIBCST_MISSING

        raise ImportError(LIBCST_MISSING) from error
