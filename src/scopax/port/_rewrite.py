"""The rewrites that no namespace can do: imports, ``tf.compat.v1.``, static shapes,
a parameter's ``.name``.

Each rule matches only what is provably TF: a ``.value`` is dropped where it follows a
shape subscript (``x.shape[1].value``), never on a bare name, and ``keep_dims=`` is
renamed only in calls that resolve to ``tf.reduce_*``. Rules match the tree after its
children were rewritten, so ``x.get_shape()[1].value`` becomes ``x.shape[1].value`` and
then ``x.shape[1]``; every rule's output matches no rule, which makes porting idempotent.
"""

from __future__ import annotations

import libcst as cst

from scopax.port._attrs import getattr_name
from scopax.port._imports import rewrite_import, rewrite_import_from
from scopax.port._names import Names, qualified

# Kept as they are when wrapped: ``tf.Dimension(n)`` -> ``n`` needs no parentheses.
_ATOMS = (
    cst.Name,
    cst.Integer,
    cst.Float,
    cst.Attribute,
    cst.Subscript,
    cst.Call,
    cst.SimpleString,
    cst.List,
    cst.Tuple,
)


def _is_shape(expr: cst.BaseExpression) -> bool:
    """``E.shape``: after ``get_shape()`` became ``.shape``, a static TF shape."""
    return isinstance(expr, cst.Attribute) and expr.attr.value == "shape"


def _method(call: cst.Call, name: str) -> cst.BaseExpression | None:
    """The receiver of ``receiver.name()`` called with no arguments, else None."""
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value == name and not call.args:
        return func.value
    return None


def _only_arg(call: cst.Call) -> cst.BaseExpression | None:
    if len(call.args) == 1 and call.args[0].keyword is None and not call.args[0].star:
        return call.args[0].value
    return None


def _parenthesized(expr: cst.BaseExpression) -> cst.BaseExpression:
    if isinstance(expr, _ATOMS) or expr.lpar:
        return expr
    return expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


class _Comments(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[cst.Comment] = []

    def visit_Comment(self, node: cst.Comment) -> None:
        self.found.append(node)


class Rewriter(cst.CSTTransformer):
    """Rewrites one module; ``names`` are its TF names (see :mod:`scopax.port._names`).

    ``name_reads`` are the ids of the module's ``param.name`` reads that become
    ``getattr(param, "name", "param")`` (see :mod:`scopax.port._attrs`).
    """

    def __init__(self, names: Names, name_reads: set[int] | frozenset[int] = frozenset()) -> None:
        super().__init__()
        self.names = names
        self.name_reads = name_reads

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine | cst.FlattenSentinel[cst.SimpleStatementLine]:
        body: list[cst.BaseSmallStatement] = []
        changed = False
        for statement in updated_node.body:
            new = None
            if isinstance(statement, cst.Import):
                new = rewrite_import(statement)
            elif isinstance(statement, cst.ImportFrom):
                new = rewrite_import_from(statement)
            if new is None:
                body.append(statement)
            else:
                changed = True
                body.extend(new)
        if not changed:
            return updated_node
        if len(updated_node.body) > 1 or len(body) == 1:
            return updated_node.with_changes(body=body)
        # One import became several: one line each. The first keeps the line's comment,
        # and comments from inside the old statement go on lines above it.
        comments = _Comments()
        updated_node.body[0].visit(comments)
        above = [cst.EmptyLine(comment=comment) for comment in comments.found]
        first = updated_node.with_changes(
            body=[body[0]], leading_lines=[*updated_node.leading_lines, *above]
        )
        rest = [cst.SimpleStatementLine(body=[statement]) for statement in body[1:]]
        return cst.FlattenSentinel([first, *rest])

    def leave_Attribute(
        self, original_node: cst.Attribute, updated_node: cst.Attribute
    ) -> cst.BaseExpression:
        if id(original_node) in self.name_reads:
            return getattr_name(updated_node)
        attr = updated_node.attr.value
        value = updated_node.value
        # ``tf.compat.v1`` -> ``tf``: scopax.compat.v1 is the whole namespace already.
        if attr == "v1" and isinstance(value, cst.Attribute) and value.attr.value == "compat":
            root = value.value
            if isinstance(root, cst.Name) and self.names.bound.get(root.value) == "":
                return root.with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)
        if attr in ("ndims", "rank") and _is_shape(value):
            assert isinstance(value, cst.Attribute)
            return updated_node.with_changes(value=value.value, attr=cst.Name("ndim"))
        if attr == "value":
            # ``E.shape[i].value`` -> ``E.shape[i]``: a TF Dimension, so provably an int.
            if isinstance(value, cst.Subscript) and _is_shape(value.value):
                return value
            # ``tf.Dimension(n).value`` -> ``n`` (the call itself is already ``n``).
            inner = original_node.value
            if isinstance(inner, cst.Call) and qualified(inner.func, self.names) == "Dimension":
                return value
        return updated_node

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        receiver = _method(updated_node, "get_shape")
        if receiver is not None:
            func = updated_node.func
            assert isinstance(func, cst.Attribute)
            return func.with_changes(attr=cst.Name("shape"))
        receiver = _method(updated_node, "as_list")
        if receiver is not None and _is_shape(receiver):
            return cst.Call(func=cst.Name("list"), args=[cst.Arg(receiver)])
        receiver = _method(updated_node, "num_elements")
        if receiver is not None and _is_shape(receiver):
            assert isinstance(receiver, cst.Attribute)
            return receiver.with_changes(attr=cst.Name("size"))
        name = qualified(updated_node.func, self.names)
        if name in ("Dimension", "dimension_value"):
            arg = _only_arg(updated_node)
            if arg is not None:
                return _parenthesized(arg)
        if name is not None and name.rsplit(".", 1)[-1].startswith("reduce_"):
            return _keepdims(updated_node)
        return updated_node


def _keepdims(call: cst.Call) -> cst.Call:
    """``keep_dims=`` -> ``keepdims=``, unless both are given (TF raises then; so do we)."""
    keywords = {arg.keyword.value for arg in call.args if arg.keyword is not None}
    if "keep_dims" not in keywords or "keepdims" in keywords:
        return call
    args = [
        arg.with_changes(keyword=cst.Name("keepdims"))
        if arg.keyword is not None and arg.keyword.value == "keep_dims"
        else arg
        for arg in call.args
    ]
    return call.with_changes(args=args)
