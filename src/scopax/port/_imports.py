"""Rewriting TensorFlow import statements to their scopax modules.

Each imported name is planned on its own (``Keep``, ``_Import`` or ``_From``), then the
plan is written back as few statements as it takes. A statement whose shape does not
change keeps its own nodes, so its parentheses, comments and spacing survive.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst
from libcst.helpers import get_full_name_for_node

from scopax.port._modules import _MODULES, _UNSUPPORTED, COMPAT, Unsupported, is_tf, translate


@dataclass(frozen=True)
class Keep:
    """A name left as it is; ``reason`` says why when it is TensorFlow's."""

    alias: cst.ImportAlias
    reason: Unsupported | None = None


@dataclass(frozen=True)
class _Import:
    module: str
    asname: str


@dataclass(frozen=True)
class _From:
    module: str
    name: str
    asname: str | None


_Plan = Keep | _Import | _From


def _bind(target: str, name: str) -> _Import | _From:
    """Bind the scopax module ``target`` to the local ``name``."""
    if target == COMPAT and name != "v1":
        return _Import(COMPAT, name)  # ``import scopax.compat.v1 as tf``, as TF1 code reads.
    parent, last = target.rsplit(".", 1)
    return _From(parent, last, None if name == last else name)


def _explicitly_unsupported(full: str, module: str) -> bool:
    """Whether a rule names ``full`` itself (contrib.slim), not only a package above it."""
    return any(
        (full == prefix or full.startswith(prefix + ".")) and len(prefix) > len(module)
        for prefix in _UNSUPPORTED
    )


def _is_package(module: str) -> bool:
    """TF packages whose names are modules, never ops (``tensorflow.python.ops``,
    ``tensorflow.models.rnn``)."""
    if module in ("tensorflow.compat", "tensorflow.contrib"):
        return True
    return module not in _MODULES and (
        module.startswith("tensorflow.python")
        or any(known.startswith(module + ".") for known in _MODULES)
    )


def _local(alias: cst.ImportAlias) -> str | None:
    if alias.asname is None:
        return None
    name = alias.asname.name
    return name.value if isinstance(name, cst.Name) else None


_UNNAMED_INTERNAL = Unsupported(
    "a TF-internal module used by its dotted name",
    "its public name from scopax.compat.v1 (import scopax.compat.v1 as tf)",
)


def plan_import(alias: cst.ImportAlias) -> _Plan:
    """What becomes of one name of ``import ...``."""
    path = get_full_name_for_node(alias.name) or ""
    if not is_tf(path):
        return Keep(alias)
    target = translate(path)
    if isinstance(target, Unsupported):
        return Keep(alias, target)
    asname = _local(alias)
    if asname is not None:
        return _bind(target, asname)
    if path.startswith("tensorflow.python"):
        return Keep(alias, _UNNAMED_INTERNAL)  # Code reads tensorflow.python.ops....
    # ``import tensorflow[.compat.v1]`` binds ``tensorflow``; code then reads tensorflow.X.
    return _Import(COMPAT, "tensorflow")


def plan_from(module: str, alias: cst.ImportAlias) -> _Plan:
    """What becomes of one name of ``from module import ...`` (``module`` is TF's)."""
    name = get_full_name_for_node(alias.name) or ""
    full = f"{module}.{name}"
    asname = _local(alias)
    if full in _MODULES or (_is_package(module) and not _explicitly_unsupported(full, module)):
        target = translate(full)
        if isinstance(target, Unsupported):
            return Keep(alias, target)
        return _bind(target, asname or name)
    target = translate(full if _explicitly_unsupported(full, module) else module)
    if isinstance(target, Unsupported):
        return Keep(alias, target)
    return _From(target, name, asname)


def _as(asname: str | None) -> cst.AsName | None:
    return None if asname is None else cst.AsName(name=cst.Name(asname))


def _dotted(path: str) -> cst.Attribute | cst.Name:
    expr = cst.parse_expression(path)
    assert isinstance(expr, cst.Attribute | cst.Name)
    return expr


def _bare(alias: cst.ImportAlias) -> cst.ImportAlias:
    return alias.with_changes(comma=cst.MaybeSentinel.DEFAULT)


def _emit_import(plans: list[_Plan]) -> list[cst.BaseSmallStatement]:
    """Statements for a plan of ``import a.b as c`` names, in order, merging neighbours."""
    out: list[cst.BaseSmallStatement] = []
    group: list[cst.ImportAlias] = []
    for plan in plans:
        if isinstance(plan, _From):
            if group:
                out.append(cst.Import(names=group))
                group = []
            out.append(_from_statement(plan.module, [plan]))
        elif isinstance(plan, _Import):
            group.append(cst.ImportAlias(name=_dotted(plan.module), asname=_as(plan.asname)))
        else:
            group.append(_bare(plan.alias))
    if group:
        out.append(cst.Import(names=group))
    return out


def _from_statement(module: str, plans: list[_From]) -> cst.ImportFrom:
    names = [cst.ImportAlias(name=cst.Name(p.name), asname=_as(p.asname)) for p in plans]
    return cst.ImportFrom(module=_dotted(module), names=names)


def rewrite_import(node: cst.Import) -> list[cst.BaseSmallStatement] | None:
    """The statements that replace ``node``, or None when it stays as it is."""
    plans = [plan_import(alias) for alias in node.names]
    if all(isinstance(p, Keep) for p in plans):
        return None
    if all(isinstance(p, Keep | _Import) for p in plans):
        names = [
            a
            if isinstance(p, Keep)
            else a.with_changes(
                name=_dotted(p.module),
                asname=a.asname if _local(a) == p.asname else _as(p.asname),
            )
            for a, p in zip(node.names, plans, strict=True)
        ]
        return [node.with_changes(names=names)]
    return _emit_import(plans)


def rewrite_import_from(node: cst.ImportFrom) -> list[cst.BaseSmallStatement] | None:
    """The statements that replace ``node``, or None when it stays as it is."""
    if node.relative or node.module is None:
        return None
    module = get_full_name_for_node(node.module) or ""
    if not is_tf(module):
        return None
    if isinstance(node.names, cst.ImportStar):
        target = translate(module)
        if isinstance(target, Unsupported) or _is_package(module):
            return None
        return [node.with_changes(module=_dotted(target))]
    plans = [plan_from(module, alias) for alias in node.names]
    if all(isinstance(p, Keep) for p in plans):
        return None
    froms = [p for p in plans if isinstance(p, _From)]
    same_names = all(
        isinstance(p, _From) and p.name == get_full_name_for_node(a.name) and p.asname == _local(a)
        for a, p in zip(node.names, plans, strict=True)
    )
    if same_names and len({p.module for p in froms}) == 1:
        return [node.with_changes(module=_dotted(froms[0].module))]
    out: list[cst.BaseSmallStatement] = []
    kept: list[cst.ImportAlias] = []
    for plan in plans:
        if isinstance(plan, Keep):
            kept.append(_bare(plan.alias))
        elif isinstance(plan, _From) and out and _merges(out[-1], plan.module):
            last = out[-1]
            assert isinstance(last, cst.ImportFrom) and not isinstance(last.names, cst.ImportStar)
            alias = cst.ImportAlias(name=cst.Name(plan.name), asname=_as(plan.asname))
            out[-1] = last.with_changes(names=[*last.names, alias])
        else:
            out.extend(_emit_import([plan]))
    if kept:  # What scopax has no module for stays, for the report to point at.
        out.append(cst.ImportFrom(module=node.module, names=kept))
    return out


def _merges(statement: cst.BaseSmallStatement, module: str) -> bool:
    return (
        isinstance(statement, cst.ImportFrom)
        and statement.module is not None
        and get_full_name_for_node(statement.module) == module
    )
