"""The graph code that the porter reports instead of rewriting.

What a session runs has no one translation: a placeholder becomes an argument, a
``sess.run`` an ``apply`` call, a queue a Python iterator, and the program around them
changes shape. So the porter points at each place and says what to write instead. The
same visitor reads a ported file (``import scopax.compat.v1 as tf``) and finds the same
places, so running the report again after ``--write`` shows what is left.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from scopax.port._imports import Keep, plan_from, plan_import
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


_PLACEHOLDER = ("a graph input", "an argument of the model function")
_SESSION = ("a session", "no session: model = sx.transform(fn), then model.init and model.apply")
_INIT = ("an initializer op", "params = model.init(key, *args)")
_LOCAL_INIT = (
    "an initializer op",
    "params, state = model.init(key, *args), with sx.transform_with_state",
)
_SEED = ("a graph-level seed", "a key: model.init(key, *args), model.apply(..., rng=key)")
_QUEUE = ("an input queue", "a Python iterator of NumPy batches, passed to model.apply")
_SAVER = (
    "a Saver",
    "sx.save(path, params) and sx.restore(path); "
    "sx.restore_from_tf(params, path) for TF checkpoints",
)
_SUMMARY = (
    "a summary op",
    "return the value from the step function and log it outside jit "
    "(sx.summary(params) tabulates the variables)",
)
_GRAPH = ("the graph", "nothing: scopax builds no graph; delete it")
_COLLECTION = ("a variable collection", "sx.flatten(params)")
_GRADIENTS = ("graph gradients", "jax.grad of a function of params")
_INIT_FROM = (
    "an init-from-checkpoint op",
    "params = sx.restore_from_tf(params, path, assignment_map)",
)
_RUN = ("running the graph", "model.apply(params, *args), under jax.jit")
_SWITCH = ("a TF2 behaviour switch", "nothing: scopax.compat.v1 is TF1 already; delete it")
_TRAIN = ("a graph training op", "jax.grad of the loss and an optax update step")
_FEED = ("a feed", "pass the values as arguments of model.apply")

# TF name -> (what it is, what to write instead). A name ending in ".*" covers the
# namespace and everything under it.
_GRAPH_NAMES: dict[str, tuple[str, str]] = {
    **dict.fromkeys(["placeholder", "sparse_placeholder"], _PLACEHOLDER),
    "placeholder_with_default": (_PLACEHOLDER[0], _PLACEHOLDER[1] + ", with a default value"),
    **dict.fromkeys(
        [
            "Session",
            "InteractiveSession",
            "get_default_session",
            "train.MonitoredSession",
            "train.MonitoredTrainingSession",
            "train.SingularMonitoredSession",
        ],
        _SESSION,
    ),
    **dict.fromkeys(
        [
            "global_variables_initializer",
            "initialize_all_variables",
            "variables_initializer",
            "initialize_variables",
            "tables_initializer",
        ],
        _INIT,
    ),
    **dict.fromkeys(
        [
            "FIFOQueue",
            "RandomShuffleQueue",
            "PaddingFIFOQueue",
            "PriorityQueue",
            "QueueBase",
            "TFRecordReader",
            "TextLineReader",
            "WholeFileReader",
            "FixedLengthRecordReader",
            "train.batch",
            "train.batch_join",
            "train.shuffle_batch",
            "train.shuffle_batch_join",
            "train.string_input_producer",
            "train.slice_input_producer",
            "train.input_producer",
            "train.range_input_producer",
            "train.start_queue_runners",
            "train.QueueRunner",
            "train.add_queue_runner",
            "train.Coordinator",
        ],
        _QUEUE,
    ),
    "train.Saver": _SAVER,
    "train.init_from_checkpoint": _INIT_FROM,
    **dict.fromkeys(
        [
            "summary.*",
            "scalar_summary",
            "histogram_summary",
            "image_summary",
            "merge_summary",
            "merge_all_summaries",
            "train.SummaryWriter",
        ],
        _SUMMARY,
    ),
    **dict.fromkeys(["local_variables_initializer", "initialize_local_variables"], _LOCAL_INIT),
    **dict.fromkeys(["Graph", "get_default_graph", "reset_default_graph"], _GRAPH),
    "set_random_seed": _SEED,
    **dict.fromkeys(
        [
            "disable_v2_behavior",
            "enable_v2_behavior",
            "disable_eager_execution",
            "enable_eager_execution",
            "disable_resource_variables",
            "enable_resource_variables",
            "disable_v2_tensorshape",
            "enable_v2_tensorshape",
        ],
        _SWITCH,
    ),
    **dict.fromkeys(
        [
            "global_variables",
            "all_variables",
            "trainable_variables",
            "local_variables",
            "get_collection",
        ],
        _COLLECTION,
    ),
    "gradients": _GRADIENTS,
}

# Optimizer methods that build graph ops from a loss tensor and the graph's variables.
_TRAINING = ("minimize", "compute_gradients", "apply_gradients")
_SESSION_NAMES = {name for name, kind in _GRAPH_NAMES.items() if kind is _SESSION}
# ``sess``, ``self.session``, ``train_sess``: what TF1 code calls its sessions.
_SESSION_SPELLING = re.compile(r"^_?(sess|session)$|_(sess|session)$")
_SHAPE_CHECKS = {
    "with_rank": "assert {x}.ndim == {n}",
    "assert_has_rank": "assert {x}.ndim == {n}",
    "with_rank_at_least": "assert {x}.ndim >= {n}",
    "with_rank_at_most": "assert {x}.ndim <= {n}",
    "assert_is_compatible_with": "an assert on {x}.shape",
    "is_compatible_with": "a comparison of {x}.shape",
    "assert_same_rank": "an assert on {x}.ndim",
    "merge_with": "{x}.shape (JAX shapes are always fully known)",
    "is_fully_defined": "True (JAX shapes are always fully known)",
}


def _graph_kind(name: str) -> tuple[str, str] | None:
    if name in _GRAPH_NAMES:
        return _GRAPH_NAMES[name]
    for pattern, kind in _GRAPH_NAMES.items():
        stem = pattern.removesuffix(".*")
        if pattern.endswith(".*") and (name == stem or name.startswith(stem + ".")):
            return kind
    return None


def _unsupported_namespace(name: str) -> tuple[str, str] | None:
    """``tf.contrib.slim.conv2d``, ``tf.keras.layers``: a namespace scopax does not have."""
    parts = name.split(".")
    if parts[0] not in ("contrib", "keras") or (parts[0] == "contrib" and len(parts) < 2):
        return None
    target = translate("tensorflow." + ".".join(parts[: 2 if parts[0] == "contrib" else 1]))
    return (target.what, target.instead) if isinstance(target, Unsupported) else None


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

    def _add(self, node: cst.CSTNode, code: str, kind: tuple[str, str]) -> None:
        position = self.get_metadata(PositionProvider, node)
        assert isinstance(position, CodeRange)
        start = position.start
        self.found.append(Finding(start.line, start.column + 1, code, *kind))

    def _code(self, node: cst.CSTNode) -> str:
        return " ".join(self.module.code_for_node(node).split())

    def _is_session(self, expr: cst.BaseExpression) -> bool:
        if isinstance(expr, cst.Call):
            return qualified(expr.func, self.names) in _SESSION_NAMES
        spelled = get_full_name_for_node(expr)
        if spelled is None:
            return False
        last = spelled.rsplit(".", 1)[-1]
        return spelled in self.sessions or bool(_SESSION_SPELLING.search(last))

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

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        return self._graph_name(node)

    def visit_Name(self, node: cst.Name) -> bool:
        return self._graph_name(node)

    def _graph_name(self, node: cst.Name | cst.Attribute) -> bool:
        name = qualified(node, self.names)
        kind = None if name is None else _graph_kind(name)
        if kind is None and name and isinstance(node, cst.Attribute) and self._via_root(node):
            kind = _unsupported_namespace(name)
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
            self._add(node, self._code(func), _RUN)
        elif method in _TRAINING and self._is_optimizer(func.value):
            self._add(node, self._code(func), _TRAIN)
        elif method in _SHAPE_CHECKS:
            owner = _shape_owner(func.value)
            if owner is not None:
                n = self._code(node.args[0].value) if node.args else "n"
                instead = _SHAPE_CHECKS[method].format(x=self._code(owner), n=n)
                self._add(node, self._code(node), ("a static-shape check", instead))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None and node.keyword.value == "feed_dict":
            self._add(node, "feed_dict", _FEED)


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
