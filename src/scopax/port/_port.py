"""Porting one source text: the rewrite, the places left for a person, the diff."""

from __future__ import annotations

import ast
import difflib
import functools
from dataclasses import dataclass

import libcst as cst

from scopax.port._attrs import name_reads
from scopax.port._findings import Finding, find
from scopax.port._names import collect
from scopax.port._rewrite import Rewriter


@dataclass(frozen=True)
class PortResult:
    """What porting one source text gives.

    Attributes:
      original: the source as given.
      ported: the rewritten source (``original`` itself when nothing applies).
      tf1: whether the source is TF1 code: it imports TensorFlow, or scopax's TF namespaces
        (a file ported before). Other files are left as they are.
      findings: the places that need a person, at their positions in ``original``.
    """

    original: str
    ported: str
    tf1: bool
    findings: tuple[Finding, ...]

    @functools.cached_property
    def findings_after(self) -> tuple[Finding, ...]:
        """The same places, at their positions in ``ported`` (found again, on demand:
        finding them is most of a port's time, and only ``--write`` needs both)."""
        if not self.changed:
            return self.findings
        return tuple(find(cst.parse_module(self.ported)))

    @property
    def changed(self) -> bool:
        """Whether the rewrite changes the source."""
        return self.ported != self.original

    @property
    def lines_rewritten(self) -> int:
        """Lines of the source that the rewrite replaces (or adds, where it splits one)."""
        old, new = self.original.splitlines(), self.ported.splitlines()
        matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
        return sum(
            max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"
        )

    def diff(self, path: str) -> str:
        """A unified diff from ``original`` to ``ported``, both named ``path``."""
        lines = difflib.unified_diff(
            self.original.splitlines(keepends=True),
            self.ported.splitlines(keepends=True),
            fromfile=path,
            tofile=path,
        )
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _parse(source: str, path: str) -> cst.Module:
    # Python's own parser first: its messages are the ones users know.
    ast.parse(source, filename=path)
    try:
        return cst.parse_module(source)
    except cst.ParserSyntaxError as error:
        raise SyntaxError(
            error.message, (path, error.raw_line, error.raw_column + 1, None)
        ) from error


def port_source(source: str, path: str = "<string>") -> PortResult:
    """Port one TF1 source text; see :func:`scopax.port.port_source`.

    Raises:
      SyntaxError: ``source`` is not Python; its ``filename`` is ``path``.
    """
    module = _parse(source, path)
    names = collect(module)
    if not (names.tf_import or names.ported):
        return PortResult(source, source, False, ())
    findings = tuple(find(module, names))
    rewriter = Rewriter(names, name_reads(module, names))
    return PortResult(source, module.visit(rewriter).code, True, findings)
