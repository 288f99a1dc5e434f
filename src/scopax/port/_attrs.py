"""Which ``.name`` reads are a function parameter's, so that a JAX array may be passed.

TF1 code reads ``tensor.name`` for its error messages and default names (BERT's
``get_shape_list``: ``if name is None: name = tensor.name``). TF tensors have a name;
JAX arrays do not. ``x.name`` becomes ``getattr(x, "name", "x")`` where ``x`` is a
parameter of the function that reads it: the same value wherever the attribute exists,
and the parameter's own name for a JAX array.

Only a read (not ``x.name = ...``, not ``del x.name``) of a bare parameter name is
rewritten, never ``self.name`` or ``cls.name`` (nor the first parameter of any method),
and never a parameter that the function binds again to something that is not a tensor:
``with tf.variable_scope(...) as scope``, ``scope = tf.get_variable_scope()``.
"""

from __future__ import annotations

import libcst as cst
from libcst.metadata import ExpressionContext, ExpressionContextProvider, MetadataWrapper

from scopax.port._names import Names, qualified

# TF names whose value is never a tensor: a name bound to one keeps its ``.name``.
NOT_TENSORS = frozenset(
    {
        "variable_scope",
        "name_scope",
        "variable_op_scope",
        "op_scope",
        "get_variable_scope",
        "VariableScope",
        "get_default_graph",
        "Graph",
        "Session",
        "InteractiveSession",
    }
)
_INSTANCE = ("self", "cls")


def _targets(target: cst.BaseExpression) -> list[str]:
    """The plain names that an assignment target binds (``a``, ``(a, b)``, ``[a, *b]``)."""
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [name for element in target.elements for name in _targets(element.value)]
    if isinstance(target, cst.StarredElement):
        return _targets(target.value)
    return []


class _NotTensors(cst.CSTVisitor):
    """Names that one function's body binds to something that is not a tensor."""

    def __init__(self, names: Names) -> None:
        super().__init__()
        self.names = names
        self.bound: set[str] = set()

    # A nested function or class binds names of its own.
    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_WithItem(self, node: cst.WithItem) -> None:
        # A context manager (a scope, a session, a graph, a file) is not a tensor.
        if node.asname is not None:
            self.bound.update(_targets(node.asname.name))

    def _assigned(self, target: cst.BaseExpression, value: cst.BaseExpression | None) -> None:
        if isinstance(value, cst.Call) and qualified(value.func, self.names) in NOT_TENSORS:
            self.bound.update(_targets(target))

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._assigned(target.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._assigned(node.target, node.value)


def _parameters(params: cst.Parameters) -> list[str]:
    every = [*params.posonly_params, *params.params, *params.kwonly_params]
    every += [p for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param)]
    return [p.name.value for p in every]


def _is_static(node: cst.FunctionDef) -> bool:
    return any(
        isinstance(d.decorator, cst.Name) and d.decorator.value == "staticmethod"
        for d in node.decorators
    )


class _Reads(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (ExpressionContextProvider,)

    def __init__(self, names: Names) -> None:
        super().__init__()
        self.names = names
        self.found: set[int] = set()  # ids of the Attribute nodes to rewrite
        self.scopes: list[frozenset[str]] = []  # per enclosing function: its parameters
        self.in_class: list[bool] = [False]  # whether the next function is a method

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.in_class.append(True)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.in_class.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        params = _parameters(node.params)
        if self.in_class[-1] and params and not _is_static(node):
            params = params[1:]  # The instance, whatever its name.
        body = _NotTensors(self.names)
        node.body.visit(body)
        self.scopes.append(frozenset(params) - body.bound - set(_INSTANCE))
        self.in_class.append(False)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.scopes.pop()
        self.in_class.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.scopes.append(frozenset(_parameters(node.params)) - set(_INSTANCE))

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.scopes.pop()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        receiver = node.value
        if (
            node.attr.value == "name"
            and self.scopes
            and isinstance(receiver, cst.Name)
            and not receiver.lpar
            and receiver.value in self.scopes[-1]
            and self.get_metadata(ExpressionContextProvider, node, None) is ExpressionContext.LOAD
        ):
            self.found.add(id(node))


def name_reads(module: cst.Module, names: Names) -> set[int]:
    """The ids of ``module``'s ``param.name`` reads to rewrite (nodes of ``module`` itself).

    >>> import libcst as cst
    >>> from scopax.port._names import collect
    >>> module = cst.parse_module("def f(x, self):\\n    return x.name, self.name\\n")
    >>> len(name_reads(module, collect(module)))
    1
    """
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    reads = _Reads(names)
    wrapper.visit(reads)
    return reads.found


def getattr_name(node: cst.Attribute) -> cst.Call:
    """``x.name`` -> ``getattr(x, "name", "x")``, in the attribute's parentheses."""
    receiver = node.value
    assert isinstance(receiver, cst.Name)
    return cst.Call(
        func=cst.Name("getattr"),
        args=[
            cst.Arg(receiver.with_changes(lpar=[], rpar=[])),
            cst.Arg(cst.SimpleString('"name"')),
            cst.Arg(cst.SimpleString(f'"{receiver.value}"')),
        ],
        lpar=node.lpar,
        rpar=node.rpar,
    )
