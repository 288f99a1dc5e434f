"""The graph code that the porter reports instead of rewriting.

What a session runs has no one translation: a placeholder becomes an argument, a
``sess.run`` an ``apply`` call, a queue a Python iterator, and the program around them
changes shape. So the porter points at each place and says what to write instead. The
same visitor reads a ported file (``import scopax.compat.v1 as tf``) and finds the same
places, so running the report again after ``--write`` shows what is left.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from scopax.port._imports import Keep, plan_from, plan_import
from scopax.port._kinds import (
    FEED,
    RUN,
    SESSION_NAMES,
    SESSION_SPELLING,
    SHAPE_CHECKS,
    TRAIN,
    TRAINING_METHODS,
    graph_kind,
    unsupported_namespace,
)
from scopax.port._modules import Unsupported, is_tf, translate
from scopax.port._names import Names, collect, qualified


@dataclass(frozen=True, order=True)
class Finding:
    """A place that needs a person: where, what it is, and what to write instead.

    >>> Finding(3, 5, "tf.placeholder", "a graph input", "an argument").format("m.py")
    'm.py:3:5: tf.placeholder: a graph input → an argument'
    """

    line: int
    column: int  # 1-based, as editors and compilers count.
    code: str
    what: str
    instead: str

    def format(self, path: str) -> str:
        """``path:line:col: code: what it is → what to write instead``."""
        return f"{path}:{self.line}:{self.column}: {self.code}: {self.what} → {self.instead}"


def _shape_owner(expr: cst.BaseExpression) -> cst.BaseExpression | None:
    """``E`` of ``E.shape`` or ``E.get_shape()``; None for anything else."""
    if isinstance(expr, cst.Call) and not expr.args:
        expr = expr.func
        if isinstance(expr, cst.Attribute) and expr.attr.value == "get_shape":
            return expr.value
        return None
    if isinstance(expr, cst.Attribute) and expr.attr.value == "shape":
        return expr.value
    return None


class _Finder(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, module: cst.Module, names: Names) -> None:
        super().__init__()
        self.module = module
        self.names = names
        self.found: list[Finding] = []
        self.sessions: set[str] = set()  # Names and attributes bound to a session.
        self.optimizers: set[str] = set()  # ... and to a tf.train optimizer.
        self.not_references: set[int] = set()  # ids of Name nodes (see _not_a_reference)
        self.shadowed: list[set[str]] = [set()]  # Parameter names, per enclosing function.

    def _add(self, node: cst.CSTNode, code: str, kind: tuple[str, str]) -> None:
        position = self.get_metadata(PositionProvider, node)
        assert isinstance(position, CodeRange)
        start = position.start
        self.found.append(Finding(start.line, start.column + 1, code, *kind))

    def _code(self, node: cst.CSTNode) -> str:
        return " ".join(self.module.code_for_node(node).split())

    def _is_session(self, expr: cst.BaseExpression) -> bool:
        if isinstance(expr, cst.Call):
            return qualified(expr.func, self.names) in SESSION_NAMES
        spelled = get_full_name_for_node(expr)
        if spelled is None:
            return False
        last = spelled.rsplit(".", 1)[-1]
        return spelled in self.sessions or bool(SESSION_SPELLING.search(last))

    def _is_optimizer(self, expr: cst.BaseExpression) -> bool:
        if isinstance(expr, cst.Call):
            name = qualified(expr.func, self.names) or ""
            return name.startswith("train.") and name.endswith("Optimizer")
        return get_full_name_for_node(expr) in self.optimizers

    def _bind_session(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        spelled = get_full_name_for_node(target)
        if spelled is None or not isinstance(value, cst.Call):
            return
        if self._is_session(value):
            self.sessions.add(spelled)
        elif self._is_optimizer(value):
            self.optimizers.add(spelled)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind_session(node.asname.name, node.item)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bind_session(target.target, node.value)

    # Imports are reported only when scopax has no module for them; the names they bind
    # are reported where they are used, so the visitors do not look inside (False).
    def visit_Import(self, node: cst.Import) -> bool:
        for alias in node.names:
            self._unsupported(alias, plan_import(alias))
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        if node.relative or node.module is None:
            return False
        module = get_full_name_for_node(node.module) or ""
        if not is_tf(module):
            return False
        if isinstance(node.names, cst.ImportStar):
            target = translate(module)
            if isinstance(target, Unsupported):
                self._add(node, self._code(node), (target.what, target.instead))
            return False
        for alias in node.names:
            self._unsupported(alias, plan_from(module, alias), module)
        return False

    def _unsupported(self, alias: cst.ImportAlias, plan: object, module: str = "") -> None:
        if isinstance(plan, Keep) and plan.reason is not None:
            name = get_full_name_for_node(alias.name)
            code = f"from {module} import {name}" if module else f"import {name}"
            self._add(alias, code, (plan.reason.what, plan.reason.instead))

    # Names that are not references: ``x.summary``'s attribute, ``f(summary=...)``'s
    # keyword, ``def summary(...)``. They read as TF names after ``from tensorflow import
    # summary`` but are not uses of it.
    def _not_a_reference(self, name: cst.CSTNode | None) -> None:
        if name is not None:
            self.not_references.add(id(name))

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        self._not_a_reference(node.attr)
        return self._graph_name(node)

    def visit_Name(self, node: cst.Name) -> bool:
        return id(node) in self.not_references or self._graph_name(node)

    def visit_Param(self, node: cst.Param) -> None:
        self._not_a_reference(node.name)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._not_a_reference(node.name)
        self._enter(node.params)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.shadowed.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._enter(node.params)

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.shadowed.pop()

    def _enter(self, params: cst.Parameters) -> None:
        """A function's parameters hide the imports of the same names in its body."""
        every = [*params.posonly_params, *params.params, *params.kwonly_params]
        every += [p for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param)]
        self.shadowed.append(self.shadowed[-1] | {p.name.value for p in every})

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._not_a_reference(node.name)

    def _graph_name(self, node: cst.Name | cst.Attribute) -> bool:
        root: cst.BaseExpression = node
        while isinstance(root, cst.Attribute):
            root = root.value
        if isinstance(root, cst.Name) and root.value in self.shadowed[-1]:
            return True
        name = qualified(node, self.names)
        kind = None if name is None else graph_kind(name)
        if kind is None and name and isinstance(node, cst.Attribute) and self._via_root(node):
            kind = unsupported_namespace(name)
        if kind is None:
            return True
        self._add(node, self._code(node), kind)
        return False  # ``tf.summary.scalar`` is one place, not also ``tf.summary``.

    def _via_root(self, node: cst.BaseExpression) -> bool:
        """Whether an attribute chain starts at ``tf`` itself (not at a reported import)."""
        while isinstance(node, cst.Attribute):
            node = node.value
        return isinstance(node, cst.Name) and self.names.bound.get(node.value) == ""

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute):
            return
        method = func.attr.value
        # ``t.eval(feed_dict=...)`` runs a session too, the default one.
        evaluated = method == "eval" and any(
            arg.keyword is not None and arg.keyword.value in ("feed_dict", "session")
            for arg in node.args
        )
        if evaluated or (method == "run" and self._is_session(func.value)):
            self._add(node, self._code(func), RUN)
        elif method in TRAINING_METHODS and self._is_optimizer(func.value):
            self._add(node, self._code(func), TRAIN)
        elif method in SHAPE_CHECKS:
            owner = _shape_owner(func.value)
            if owner is not None:
                n = self._code(node.args[0].value) if node.args else "n"
                instead = SHAPE_CHECKS[method].format(x=self._code(owner), n=n)
                self._add(node, self._code(node), ("a static-shape check", instead))

    def visit_Arg(self, node: cst.Arg) -> None:
        self._not_a_reference(node.keyword)
        if node.keyword is not None and node.keyword.value == "feed_dict":
            self._add(node, "feed_dict", FEED)


def find(module: cst.Module, names: Names | None = None) -> list[Finding]:
    """Every place in ``module`` that needs a person, in source order.

    >>> import libcst as cst
    >>> module = cst.parse_module("import tensorflow as tf\\nx = tf.placeholder(tf.float32)\\n")
    >>> [f.format("m.py") for f in find(module)]
    ['m.py:2:5: tf.placeholder: a graph input → an argument of the model function']
    """
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    finder = _Finder(wrapper.module, names if names is not None else collect(module))
    wrapper.visit(finder)
    return sorted(set(finder.found))
