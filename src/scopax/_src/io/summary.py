"""``summary``: a table of a parameter tree's variables, grouped by scope with subtotals."""

from __future__ import annotations

import html
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import jax
import numpy as np


@dataclass(frozen=True)
class Row:
    """One variable: its full name, shape, dtype, number of elements and bytes."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    count: int
    bytes: int


@dataclass
class _Scope:
    count: int = 0
    bytes: int = 0
    variables: int = 0
    leaf: Row | None = None
    children: dict[str, _Scope] = field(default_factory=dict)


class Summary:
    """The table that :func:`summary` returns: text for ``print``, HTML for notebooks."""

    def __init__(self, rows: list[Row], depth: int | None):
        self.rows = rows
        self.depth = depth
        self.count = sum(row.count for row in rows)
        self.bytes = sum(row.bytes for row in rows)
        self._root = _Scope()
        for row in rows:
            node = self._root
            for part in row.name.split("/"):
                node.count += row.count
                node.bytes += row.bytes
                node.variables += 1
                node = node.children.setdefault(part, _Scope())
            # A TF1 name can be a variable and a scope at once: ``w`` and ``w/Adam``.
            node.leaf = row
            node.count += row.count
            node.bytes += row.bytes
            node.variables += 1

    def _lines(self) -> Iterator[tuple[int, str, Row | None, _Scope]]:
        """(depth, label, row or None for a scope subtotal, node) in display order."""

        def walk(node: _Scope, level: int) -> Iterator[tuple[int, str, Row | None, _Scope]]:
            for part, child in sorted(node.children.items()):
                if child.leaf is not None:
                    yield level, part, child.leaf, child
                if child.children:
                    yield level, part + "/", None, child
                    if self.depth is None or level + 1 < self.depth:
                        yield from walk(child, level + 1)

        yield from walk(self._root, 0)

    def _table(self) -> list[list[str]]:
        table = [["name", "shape", "dtype", "parameters", "bytes"]]
        for level, label, row, node in self._lines():
            indent = "  " * level
            if row is not None:
                shape = str(row.shape)
                table.append([indent + label, shape, row.dtype, f"{row.count:,}", _size(row.bytes)])
            else:
                leaf = node.leaf
                count = node.count - (leaf.count if leaf else 0)
                size = node.bytes - (leaf.bytes if leaf else 0)
                table.append([indent + label, "", "", f"{count:,}", _size(size)])
        noun = "variable" if len(self.rows) == 1 else "variables"
        table.append(
            [f"total: {len(self.rows)} {noun}", "", "", f"{self.count:,}", _size(self.bytes)]
        )
        return table

    def __str__(self) -> str:
        table = self._table()
        # The total's label may run into the shape and dtype columns, empty in its row.
        widths = [max(len(r[i]) for r in table[: -1 if i == 0 else None]) for i in range(5)]
        widths[1] += max(0, len(table[-1][0]) - (widths[0] + widths[1] + widths[2] + 4))
        label = widths[0] + widths[1] + widths[2] + 4
        lines = []
        for r in table:
            if r is table[-1]:
                cells = [r[0].ljust(label)]
            else:
                cells = [r[0].ljust(widths[0]), r[1].ljust(widths[1]), r[2].ljust(widths[2])]
            cells += [r[3].rjust(widths[3]), r[4].rjust(widths[4])]
            lines.append("  ".join(cells).rstrip())
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        table = self._table()
        head = "".join(f"<th>{html.escape(c)}</th>" for c in table[0])
        body = []
        for r, (level, _, row, _) in zip(table[1:-1], self._lines(), strict=True):
            style = f' style="padding-left:{1.5 * level:g}em"'
            weight = "" if row is not None else ' style="font-weight:bold"'
            cells = [f"<td{style}>{html.escape(r[0].strip())}</td>"]
            cells += [f"<td>{html.escape(c)}</td>" for c in r[1:3]]
            cells += [f'<td style="text-align:right">{html.escape(c)}</td>' for c in r[3:]]
            body.append(f"<tr{weight}>{''.join(cells)}</tr>")
        total = "".join(f"<th>{html.escape(c)}</th>" for c in table[-1])
        return (
            f'<table class="scopax-summary"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody><tfoot><tr>{total}</tr></tfoot></table>"
        )


def summary(tree: Any, *, depth: int | None = None) -> Summary:
    """A table of the variables in ``tree``: names, shapes, dtypes, parameters and bytes.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> params = sx.unflatten({
    ...     "conv1/weights": jnp.zeros((5, 5, 3, 8)), "conv1/biases": jnp.zeros(8),
    ...     "logits/kernel": jnp.zeros((8, 10), jnp.bfloat16)})
    >>> print(sx.summary(params))
    name          shape         dtype     parameters    bytes
    conv1/                                       608  2.4 KiB
      biases      (8,)          float32            8     32 B
      weights     (5, 5, 3, 8)  float32          600  2.3 KiB
    logits/                                       80    160 B
      kernel      (8, 10)       bfloat16          80    160 B
    total: 3 variables                           688  2.5 KiB

    Scopes are rows with the subtotals of everything under them. In a notebook the
    summary renders as an HTML table (``_repr_html_``).

    Args:
      tree: a :class:`Params`, a nested or flat mapping (``sx.load_tf_checkpoint``'s
        dict, where ``w`` and ``w/Adam`` can both be variables), or any pytree. Leaves
        are arrays or ``jax.ShapeDtypeStruct`` (``jax.eval_shape(model.init, ...)``
        summarizes a model without allocating it).
      depth: show scopes this many levels deep; deeper ones fold into their subtotals.

    Returns:
      A :class:`Summary`: ``str()`` is the text table, ``.rows`` the variables, ``.count``
      and ``.bytes`` the totals.
    """
    rows = []
    for keys, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
        rows.append(_row("/".join(_label(k) for k in keys), leaf))
    return Summary(sorted(rows, key=lambda r: r.name), depth)


def _label(key: Any) -> str:
    for attr in ("key", "name", "idx"):
        if hasattr(key, attr):
            return str(getattr(key, attr))
    return str(key)


def _row(name: str, leaf: Any) -> Row:
    if not (hasattr(leaf, "shape") and hasattr(leaf, "dtype")):
        leaf = np.asarray(leaf)
    shape = tuple(int(d) for d in leaf.shape)
    dtype = np.dtype(leaf.dtype)
    count = math.prod(shape)
    if dtype.kind == "O":  # TF string tensors: count their bytes.
        size = sum(len(x) for x in np.asarray(leaf).reshape(-1) if isinstance(x, (bytes, str)))
        return Row(name, shape, "string", count, size)
    return Row(name, shape, dtype.name, count, count * dtype.itemsize)


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    value, units = n / 1024, ["KiB", "MiB", "GiB", "TiB"]
    while value >= 1024 and len(units) > 1:
        value, units = value / 1024, units[1:]
    return f"{value:.1f} {units[0]}"
