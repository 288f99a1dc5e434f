"""Which local names stand for TensorFlow, read from a module's imports.

Both the rewriter and the report ask one question of an expression: which TF name is
it? ``tf.compat.v1.train.Saver``, ``tf.train.Saver`` after ``import tensorflow as tf``
and ``train.Saver`` after ``from tensorflow import train`` are all ``train.Saver``. A
ported file (``import scopax.compat.v1 as tf``) reads the same, so the report finds the
same places before and after ``--write``.
"""

from __future__ import annotations

import libcst as cst
from libcst.helpers import get_full_name_for_node

from scopax.port._modules import _MODULES, is_tf, tf_path


def join(base: str, name: str) -> str:
    """``base.name`` as a TF name, with ``compat.v1`` (an alias of the root) dropped."""
    path = f"{base}.{name}" if base else name
    if path == "compat.v1":
        return ""
    return path.removeprefix("compat.v1.")


def _from_binding(module: str, name: str) -> str | None:
    """The TF name that ``from module import name`` binds, or None if not TF."""
    full = f"{module}.{name}"
    if is_tf(module):
        if full in _MODULES:
            return tf_path(full)
    else:
        path = tf_path(full)  # ``from scopax import nn``: a module of its own.
        if path is not None:
            return path
    base = tf_path(module)
    return None if base is None else join(base, name)


class Names(cst.CSTVisitor):
    """The TF names that a module's imports bind, anywhere in it (``try``, functions).

    Attributes:
      bound: local name -> TF name (``""`` for the ``tf`` namespace itself).
      tf_import: whether the module imports TensorFlow.
      ported: whether it imports scopax's TF namespaces (a file ported before).
    """

    def __init__(self) -> None:
        super().__init__()
        self.bound: dict[str, str] = {}
        self.tf_import = False
        self.ported = False

    def _note(self, module: str) -> None:
        if is_tf(module):
            self.tf_import = True
        elif tf_path(module) is not None:
            self.ported = True

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            module = get_full_name_for_node(alias.name) or ""
            self._note(module)
            if alias.asname is None:
                # ``import tensorflow.compat.v1`` binds ``tensorflow`` itself.
                if is_tf(module):
                    self.bound["tensorflow"] = ""
                continue
            path = tf_path(module)
            if path is not None and isinstance(alias.asname.name, cst.Name):
                self.bound[alias.asname.name.value] = path

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative or node.module is None:
            return
        module = get_full_name_for_node(node.module) or ""
        self._note(module)
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            name = get_full_name_for_node(alias.name) or ""
            path = _from_binding(module, name)
            if path is None:
                continue
            local = alias.asname.name if alias.asname is not None else alias.name
            if isinstance(local, cst.Name):
                self.bound[local.value] = path


def collect(module: cst.Module) -> Names:
    """The TF names bound in ``module``.

    >>> import libcst as cst
    >>> names = collect(cst.parse_module("import tensorflow.compat.v1 as tf\\n"))
    >>> names.bound, names.tf_import
    ({'tf': ''}, True)
    """
    names = Names()
    module.visit(names)
    return names


def qualified(expr: cst.BaseExpression, names: Names) -> str | None:
    """The TF name of a name or attribute chain (``tf.train.Saver`` -> ``train.Saver``)."""
    if isinstance(expr, cst.Name):
        return names.bound.get(expr.value)
    if isinstance(expr, cst.Attribute):
        base = qualified(expr.value, names)
        return None if base is None else join(base, expr.attr.value)
    return None
