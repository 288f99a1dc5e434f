"""Property tests: random variable_scope / get_variable programs against a model of TF1.

A program is a tree of operations: open a variable scope (by name or by
``default_name``, with some ``reuse``), call ``get_variable``, call
``reuse_variables()`` on the current scope, re-enter a scope captured earlier, or
re-enter the current scope (``variable_scope(get_variable_scope())``).
:class:`TF1Model` computes, independently of scopax, what TensorFlow 1 does with
such a program: the full name every ``get_variable`` resolves to, the variables
created, or the error raised. Programs are limited to what the model covers
exactly: no custom getters, scope defaults or initializers, and every variable
uses the default initializer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st

import scopax as sx
from scopax import errors

AUTO = sx.AUTO_REUSE
KEY = jax.random.key(0)
OTHER_KEY = jax.random.key(1)
X = jnp.array([1.0, -2.0, 0.5], jnp.float32)

# The model maps 64-bit requests to their 32-bit types (API: dtypes follow JAX's x64 setting).
assert not jax.config.read("jax_enable_x64")
_STORED_DTYPE = {
    None: np.dtype("float32"),
    jnp.float32: np.dtype("float32"),
    jnp.float64: np.dtype("float32"),
    jnp.int32: np.dtype("int32"),
    jnp.bfloat16: np.dtype(jnp.bfloat16),
}


def _settings(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        # One failure, shrunk, is what a reader needs; shrinking several takes minutes.
        report_multiple_bugs=False,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@dataclasses.dataclass(frozen=True)
class Var:
    """``sx.get_variable(name, shape, dtype)`` in the current scope."""

    name: str
    shape: tuple[int, ...] | None
    dtype: Any


@dataclasses.dataclass(frozen=True)
class Scope:
    """``with sx.variable_scope(name, reuse=reuse)`` (or ``(None, default_name=name)``)."""

    name: str
    reuse: Any
    default: bool
    body: tuple[Any, ...]


@dataclasses.dataclass(frozen=True)
class Reenter:
    """``with sx.variable_scope(captured[index % len(captured)], reuse=reuse)``.

    ``captured`` is every scope object yielded so far in the trace; a no-op while empty.
    """

    index: int
    reuse: Any
    body: tuple[Any, ...]


@dataclasses.dataclass(frozen=True)
class ReenterCurrent:
    """``with sx.variable_scope(sx.get_variable_scope(), reuse=reuse)`` (TF1's tower idiom)."""

    reuse: Any
    body: tuple[Any, ...]


@dataclasses.dataclass(frozen=True)
class ReuseVariables:
    """``sx.get_variable_scope().reuse_variables()``."""


Program = tuple[Any, ...]


# The model of TF1 ----------------------------------------------------------------------------


class Predicted(Exception):
    """The model's verdict that TF1 raises ``cls`` with ``text`` in the message."""

    def __init__(self, cls: type[Exception], text: str):
        super().__init__(cls, text)
        self.cls = cls
        self.text = text


@dataclasses.dataclass(eq=False)
class ModelScope:
    name: str
    reuse: Any  # False, True or AUTO


class Prediction(NamedTuple):
    names: dict[str, str]  # op path ("0.2.1") -> full name, for each get_variable that ran
    specs: dict[str, tuple[tuple[int, ...], np.dtype]]  # created variables: shape, dtype
    error: Predicted | None


class TF1Model:
    """TF1's naming and reuse rules, written from its documentation and source.

    * ``reuse`` of a named scope is its own ``True``/``AUTO_REUSE`` if given, else the
      enclosing scope's (``False`` means inherit). A re-entered captured scope uses its
      own flag, not the enclosing one. ``reuse_variables()`` sets ``True``, also on an
      ``AUTO_REUSE`` scope (strict from then on).
    * get_variable: exists and not reusing -> exists error; exists and reusing -> shape,
      then dtype (only when given) must match; missing and ``reuse is True`` ->
      not-found error; missing otherwise -> create (name conflict, then shape required).
    * ``default_name``: every scope entry counts its full name; the first free of
      ``p``, ``p_1``, ``p_2`` ... is used. Leaving a scope opened by name forgets the
      counts below it; leaving a re-entered captured scope puts back all the counts as
      they were just after it was entered (TF1's ``_pure_variable_scope.__exit__``
      restores ``_old_subscopes``). ``default_name`` with ``reuse=True``/``AUTO_REUSE``
      is an argument error.
    * A name cannot be both a variable and a scope (``a`` next to ``a/v``).
    """

    def __init__(self, repair: bool = False):
        # With `repair`, an op that would raise is dropped instead, giving a valid program.
        self.repair = repair
        self.current = ModelScope("", False)
        self.counts: dict[str, int] = {}
        self.specs: dict[str, tuple[tuple[int, ...], np.dtype]] = {}
        self.names: dict[str, str] = {}
        self.captured: list[ModelScope] = []

    def block(self, ops: Program, path: str) -> Program:
        kept = []
        for i, op in enumerate(ops):
            if self.repair and isinstance(op, Reenter) and not self.captured:
                continue  # A no-op: nothing captured yet.
            try:
                kept.append(self.op(op, f"{path}{i}"))
            except Predicted:
                if not self.repair:
                    raise
        return tuple(kept)

    def op(self, op: Any, path: str) -> Any:
        if isinstance(op, Var):
            self.get_variable(op, path)
            return op
        if isinstance(op, ReuseVariables):
            self.current.reuse = True
            return op
        if isinstance(op, Scope):
            if op.default:
                if op.reuse is True or op.reuse is AUTO:
                    raise Predicted(errors.ScopeArgumentError, repr(op.name))
                name = self.unique(op.name)
            else:
                name = op.name
            full = f"{self.current.name}/{name}" if self.current.name else name
            reuse = op.reuse if op.reuse is True or op.reuse is AUTO else self.current.reuse
            body = self.enter(ModelScope(full, reuse), op.body, path, reentered=False)
            return dataclasses.replace(op, body=body)
        if isinstance(op, ReenterCurrent):
            target = self.current
            reuse = op.reuse if op.reuse is True or op.reuse is AUTO else target.reuse
            body = self.enter(ModelScope(target.name, reuse), op.body, path, reentered=True)
            return dataclasses.replace(op, body=body)
        assert isinstance(op, Reenter)
        if not self.captured:
            return op
        target = self.captured[op.index % len(self.captured)]
        reuse = op.reuse if op.reuse is True or op.reuse is AUTO else target.reuse
        body = self.enter(ModelScope(target.name, reuse), op.body, path, reentered=True)
        return dataclasses.replace(op, body=body)

    def unique(self, prefix: str) -> str:
        base = f"{self.current.name}/{prefix}" if self.current.name else prefix
        if not self.counts.get(base):
            return prefix
        index = 1
        while self.counts.get(f"{base}_{index}"):
            index += 1
        return f"{prefix}_{index}"

    def enter(self, scope: ModelScope, body: Program, path: str, reentered: bool) -> Program:
        outer = self.current
        self.counts[scope.name] = self.counts.get(scope.name, 0) + 1
        snapshot = dict(self.counts)
        self.captured.append(scope)
        self.current = scope
        kept = self.block(body, path + ".")
        if reentered:
            self.counts = snapshot
        else:
            for name in self.counts:
                if name.startswith(scope.name + "/"):
                    self.counts[name] = 0
        self.current = outer
        return kept

    def get_variable(self, op: Var, path: str) -> None:
        full = f"{self.current.name}/{op.name}" if self.current.name else op.name
        reuse = self.current.reuse
        dtype = _STORED_DTYPE[op.dtype]
        if full in self.specs:
            shape, stored = self.specs[full]
            if not reuse:
                raise Predicted(errors.VariableExistsError, full)
            if op.shape is not None and op.shape != shape:
                raise Predicted(errors.ShapeMismatchError, full)
            if op.dtype is not None and dtype != stored:
                raise Predicted(errors.DtypeMismatchError, full)
        elif reuse is True:
            raise Predicted(errors.VariableNotFoundError, full)
        else:
            parts = full.split("/")
            prefixes = {"/".join(parts[:i]) for i in range(1, len(parts))}
            if any(name.startswith(full + "/") for name in self.specs) or prefixes & set(
                self.specs
            ):
                raise Predicted(errors.NameConflictError, full)
            if op.shape is None:
                raise Predicted(errors.ShapeRequiredError, full)
            self.specs[full] = (op.shape, dtype)
        self.names[path] = full


def predict(program: Program) -> Prediction:
    model = TF1Model()
    try:
        model.block(program, "")
    except Predicted as e:
        return Prediction(model.names, model.specs, e)
    return Prediction(model.names, model.specs, None)


def repair(program: Program) -> Program:
    """The program without the ops that TF1 would reject (so it runs through)."""
    return TF1Model(repair=True).block(program, "")


# Running a program under scopax --------------------------------------------------------------


def run(program: Program) -> dict[str, jax.Array]:
    """Interpret ``program`` with scopax; the arrays ``get_variable`` returned, by op path."""
    got: dict[str, jax.Array] = {}
    captured: list[sx.VariableScope] = []

    def block(ops: Program, path: str) -> None:
        for i, op in enumerate(ops):
            here = f"{path}{i}"
            if isinstance(op, Var):
                got[here] = sx.get_variable(op.name, op.shape, op.dtype)
            elif isinstance(op, ReuseVariables):
                sx.get_variable_scope().reuse_variables()
            elif isinstance(op, Scope):
                if op.default:
                    cm = sx.variable_scope(None, default_name=op.name, reuse=op.reuse)
                else:
                    cm = sx.variable_scope(op.name, reuse=op.reuse)
                with cm as scope:
                    captured.append(scope)
                    block(op.body, here + ".")
            elif isinstance(op, ReenterCurrent):
                with sx.variable_scope(sx.get_variable_scope(), reuse=op.reuse) as scope:
                    captured.append(scope)
                    block(op.body, here + ".")
            elif captured:
                target = captured[op.index % len(captured)]
                with sx.variable_scope(target, reuse=op.reuse) as scope:
                    captured.append(scope)
                    block(op.body, here + ".")

    block(program, "")
    return got


def make_fn(
    program: Program,
    names: dict[str, str],
    record: list[dict[str, jax.Array]] | None = None,
    needs_values: bool = False,
) -> Callable[[jax.Array], tuple[dict[str, jax.Array], jax.Array]]:
    """``fn(x)`` for sx.transform: runs ``program``, returns its arrays and some arithmetic.

    Also checks that two gets of one variable in a trace return the identical array.
    With ``needs_values``, ``fn`` branches on a value of ``x`` first, as code that
    needs concrete values does: then init must run it instead of tracing it abstractly.
    """

    def fn(x: jax.Array) -> tuple[dict[str, jax.Array], jax.Array]:
        if needs_values and not bool(x[0] == x[0]):
            raise AssertionError("unreachable: x[0] is not NaN")
        got = run(program)
        first: dict[str, jax.Array] = {}
        for path, value in got.items():
            full = names.get(path, path)
            assert value is first.setdefault(full, value), f"op {path}: a second {full} array"
        if record is not None:
            record.append(got)
        total = jnp.zeros((), jnp.float32)
        for value in got.values():
            total = total + jnp.sum(value.astype(jnp.float32))
        return got, x * total

    return fn


def single_variable_init(full: str, shape: tuple[int, ...], dtype: np.dtype) -> jax.Array:
    """``full``'s value at init when it is the only variable of the function."""
    scope, _, name = full.rpartition("/")

    def fn() -> jax.Array:
        if not scope:
            return sx.get_variable(name, shape, dtype)
        with sx.variable_scope(scope):
            return sx.get_variable(name, shape, dtype)

    return sx.flatten(sx.transform(fn).init(KEY))[full]


# Strategies -------------------------------------------------------------------------------

_SCOPE_NAMES = st.sampled_from(["a", "b", "c"])
# An explicit name that default_name "a" also hands out.
_EXPLICIT_NAMES = st.sampled_from(["a", "b", "c", "a_1"])
# "a" is also a scope name: a variable `a` next to a scope `a` with variables is a conflict.
_VAR_NAMES = st.sampled_from(["v", "v", "v", "w", "w", "a"])
_SHAPES = st.sampled_from([(2,), (2,), (2,), (2, 3), (2, 3), (), None])
_DTYPES = st.sampled_from([None] * 5 + [jnp.float32, jnp.int32, jnp.float64, jnp.bfloat16])
_REUSE = st.sampled_from([None, None, None, False, True, AUTO, AUTO])
# default_name with reuse=True/AUTO_REUSE always raises; keep it rare.
_DEFAULT_REUSE = st.sampled_from([None] * 12 + [False, True, AUTO])

_VAR = st.builds(Var, _VAR_NAMES, _SHAPES, _DTYPES)


def _weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """``one_of`` with weights, as repeated branches (``one_of`` shrinks well, unlike
    ``flatmap``); the copies are distinct objects so that they are not merged."""
    return st.one_of(*[s.map(lambda x: x) for weight, s in choices for _ in range(weight)])


def _ops(depth: int) -> st.SearchStrategy[Any]:
    leaf = _weighted((6, _VAR), (1, st.just(ReuseVariables())))
    if depth == 0:
        return leaf
    body = st.lists(_ops(depth - 1), min_size=1, max_size=3).map(tuple)
    named = st.builds(Scope, _EXPLICIT_NAMES, _REUSE, st.just(False), body)
    default = st.builds(Scope, _SCOPE_NAMES, _DEFAULT_REUSE, st.just(True), body)
    reenter = st.builds(Reenter, st.integers(0, 7), _REUSE, body)
    reenter_current = st.builds(ReenterCurrent, _REUSE, body)
    # TF1's two sharing idioms, to make reuse that succeeds common:
    # `with variable_scope(n) as s: body; s.reuse_variables(); body`, and
    # `with variable_scope(n): body` then `with variable_scope(n, reuse=True): body`.
    reuse_variables = st.builds(
        lambda name, b: Scope(name, None, False, (*b, ReuseVariables(), *b)), _SCOPE_NAMES, body
    )
    reenter_reusing = st.builds(
        lambda outer, name, b: Scope(
            outer, None, False, (Scope(name, None, False, b), Scope(name, True, False, b))
        ),
        _SCOPE_NAMES,
        _SCOPE_NAMES,
        body,
    )
    # TF1's towers: re-enter the current scope, then again with reuse=True.
    towers = st.builds(
        lambda name, b: Scope(
            name, None, False, (ReenterCurrent(None, b), ReenterCurrent(True, b))
        ),
        _SCOPE_NAMES,
        body,
    )
    # And reuse=True inside AUTO_REUSE, which is strict.
    strict_in_auto = st.builds(
        lambda name, b, inner: Scope(name, AUTO, False, (*b, inner)),
        _SCOPE_NAMES,
        body,
        st.builds(Scope, _SCOPE_NAMES, st.just(True), st.just(False), body),
    )
    return _weighted(
        (5, leaf),
        (2, named),
        (2, default),
        (1, reenter),
        (1, reenter_current),
        (1, towers),
        (1, reuse_variables),
        (1, reenter_reusing),
        (1, strict_in_auto),
    )


_plain_programs = st.lists(_ops(3), min_size=1, max_size=5).map(tuple)
# The towers idiom at the root, where the re-entered scope is the root scope.
_root_towers = st.builds(
    lambda b, rest: (ReenterCurrent(None, b), ReenterCurrent(True, b), *rest),
    st.lists(_ops(2), min_size=1, max_size=3).map(tuple),
    _plain_programs,
)
programs = _weighted((5, _plain_programs), (1, _root_towers))
valid_programs = programs.map(repair)


def _assert_same(a: Any, b: Any, what: str) -> None:
    assert a.shape == b.shape and a.dtype == b.dtype, (
        f"{what}: {a.dtype}{a.shape} {b.dtype}{b.shape}"
    )
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=what)


# Properties -------------------------------------------------------------------------------

_DENSE = Scope("dense", None, True, (Var("w", (2,), None),))
# TF1's multi-tower idiom at the root: re-entering the root scope hands out `dense` again,
# so the second tower (reuse=True) shares `dense/w`.
ROOT_TOWERS = (ReenterCurrent(None, (_DENSE,)), ReenterCurrent(True, (_DENSE,)))
# Re-entering the current scope keeps the counts of the sub-scopes it already has:
# `conv`, then `conv_1`.
_CONV = Scope("conv", None, True, (Var("w", (2,), None),))
REENTER_INSIDE = (Scope("m", None, False, (_CONV, ReenterCurrent(None, ()), _CONV)),)


@_settings(250)
@given(programs)
@example(ROOT_TOWERS)
@example(REENTER_INSIDE)
def test_init_raises_what_tf1_raises_or_builds_what_tf1_builds(program: Program) -> None:
    """(a) errors are ScopaxErrors; (b) names follow TF1; (c) apply returns init's arrays."""
    note(f"program = {program!r}")
    expected = predict(program)
    record: list[dict[str, jax.Array]] = []
    # What fn sees at init is recorded by a side effect: init must run it for values.
    model = sx.transform(make_fn(program, expected.names, record, needs_values=True))
    try:
        params = model.init(KEY, X)
    except Exception as e:
        assert isinstance(e, errors.ScopaxError), f"not a ScopaxError: {e!r}"
        assert isinstance(e, ValueError | TypeError), f"neither ValueError nor TypeError: {e!r}"
        assert expected.error is not None, f"TF1 accepts this program, scopax raised {e!r}"
        assert type(e) is expected.error.cls, f"TF1 raises {expected.error.cls.__name__}: {e!r}"
        assert expected.error.text in str(e)
        if expected.error.cls is not errors.ScopeArgumentError:
            assert getattr(e, "name", None) == expected.error.text
        # The failed trace left nothing behind.
        with pytest.raises(errors.NotInTransformError):
            sx.get_variable_scope()
        return
    assert expected.error is None, (
        f"TF1 raises {expected.error.cls.__name__} naming {expected.error.text}; scopax accepted"
    )
    flat = sx.flatten(params)
    assert set(flat) == set(expected.specs)
    for name, (shape, dtype) in expected.specs.items():
        assert flat[name].shape == shape and flat[name].dtype == dtype, name

    (at_init,) = record
    assert set(at_init) == set(expected.names)
    got, out = model.apply(params, X)
    assert set(got) == set(expected.names)
    total = jnp.zeros((), jnp.float32)
    for path, full in expected.names.items():
        _assert_same(at_init[path], flat[full], f"op {path} at init vs params[{full!r}]")
        _assert_same(got[path], flat[full], f"op {path} in apply vs params[{full!r}]")
        total = total + jnp.sum(flat[full].astype(jnp.float32))
    np.testing.assert_allclose(out, X * total, rtol=1e-5, atol=1e-5)


def _insert(program: Program, where: list[int], op: Any) -> Program:
    """``program`` with ``op`` inserted at the block position ``where`` (a path)."""
    if len(where) == 1:
        return (*program[: where[0]], op, *program[where[0] :])
    i = where[0]
    inner = program[i]
    body = _insert(inner.body, where[1:], op)
    return (*program[:i], dataclasses.replace(inner, body=body), *program[i + 1 :])


def _insertion_points(program: Program, prefix: tuple[int, ...] = ()) -> list[list[int]]:
    points = [[*prefix, i] for i in range(len(program) + 1)]
    for i, op in enumerate(program):
        if isinstance(op, Scope | Reenter | ReenterCurrent):
            points += _insertion_points(op.body, (*prefix, i))
    return points


def _init_flat(program: Program, key: Any = KEY) -> dict[str, jax.Array]:
    return sx.flatten(sx.transform(make_fn(program, predict(program).names)).init(key, X))


@_settings(80)
@given(valid_programs, st.data())
def test_each_value_depends_only_on_the_rng_and_the_full_name(
    program: Program, data: st.DataObject
) -> None:
    """(d) init is deterministic; a variable's value is a function of (rng, full name)."""
    expected = predict(program)
    assert expected.error is None
    params = _init_flat(program)
    assert set(params) == set(expected.specs)
    again = _init_flat(program)
    for name in params:
        _assert_same(again[name], params[name], f"{name} in a second init")

    # Alone in its function, each variable gets the same value.
    for name, (shape, dtype) in expected.specs.items():
        _assert_same(single_variable_init(name, shape, dtype), params[name], f"{name} alone")

    # Another rng, or another name, gives other values (to glorot-initialized float32s;
    # a bfloat16 scalar has too few values to rule out a coincidence).
    other = _init_flat(program, OTHER_KEY)
    seen: dict[tuple[Any, ...], str] = {}
    for name, (shape, dtype) in expected.specs.items():
        if dtype == np.float32:
            assert not np.array_equal(other[name], params[name]), f"{name} ignores the rng"
            key = (shape, dtype, np.asarray(params[name], np.float32).tobytes())
            assert key not in seen, f"{name} and {seen.get(key)} have the same value"
            seen[key] = name

    # An extra, unrelated variable anywhere leaves the others unchanged.
    extra = Var("extra", (3,), None)
    where = data.draw(st.sampled_from(_insertion_points(program)), label="extra at")
    extended = _insert(program, where, extra)
    if predict(extended).error is not None:  # e.g. inside a reuse=True scope
        extended = (extra, *program)
    extended_params = _init_flat(extended)
    assert set(extended_params) - set(params) == {
        n for n in extended_params if n.rsplit("/", 1)[-1] == "extra"
    }
    for name in params:
        _assert_same(extended_params[name], params[name], f"{name} with an extra variable")

    # Reordered (and what the new order makes illegal dropped), the common variables
    # created with the same shape and dtype keep their values.
    reordered = repair(tuple(data.draw(st.permutations(program), label="reordered")))
    reordered_specs = predict(reordered).specs
    reordered_params = _init_flat(reordered)
    for name in set(params) & set(reordered_params):
        if reordered_specs[name] == expected.specs[name]:
            _assert_same(reordered_params[name], params[name], f"{name} reordered")


@_settings(40)
@given(valid_programs)
def test_init_without_a_run_makes_a_runs_values(program: Program) -> None:
    """init traces fn abstractly and runs only the initializers: bit for bit a run's values."""
    expected = predict(program)
    traced = sx.transform(make_fn(program, expected.names))
    run_fn = sx.transform(make_fn(program, expected.names, needs_values=True))
    for init in (traced.init, jax.jit(traced.init)):
        params, ran = sx.flatten(init(KEY, X)), sx.flatten(run_fn.init(KEY, X))
        assert list(params) == list(ran)
        for name in params:
            assert params[name].dtype == ran[name].dtype, name
            np.testing.assert_array_equal(np.asarray(params[name]), np.asarray(ran[name]), name)


@_settings(25)
@given(valid_programs)
def test_jit_agrees_with_eager(program: Program) -> None:
    """(e) apply (and init) under jax.jit give eager's values."""
    expected = predict(program)
    model = sx.transform(make_fn(program, expected.names))
    params = model.init(KEY, X)
    jit_params = jax.jit(model.init)(KEY, X)
    assert isinstance(jit_params, sx.Params)
    flat, jit_flat = sx.flatten(params), sx.flatten(jit_params)
    assert set(flat) == set(jit_flat)
    for name in flat:
        np.testing.assert_allclose(
            np.asarray(jit_flat[name], np.float32), np.asarray(flat[name], np.float32), rtol=1e-6
        )
    eager_got, eager_out = model.apply(params, X)
    jit_got, jit_out = jax.jit(model.apply)(params, X)
    assert set(jit_got) == set(eager_got)
    for path in eager_got:
        _assert_same(jit_got[path], eager_got[path], f"op {path} under jit")
    np.testing.assert_allclose(jit_out, eager_out, rtol=1e-5, atol=1e-5)


@_settings(80)
@given(valid_programs, st.data())
def test_apply_rejects_a_missing_or_misshapen_variable(
    program: Program, data: st.DataObject
) -> None:
    """(f) apply names the variable that is missing, or has another shape or dtype."""
    expected = predict(program)
    if not expected.specs:
        program = (Var("v", (2,), None), *program)
        expected = predict(program)
    model = sx.transform(make_fn(program, expected.names))
    flat = sx.flatten(model.init(KEY, X))
    name = data.draw(st.sampled_from(sorted(flat)), label="variable")

    missing = {k: v for k, v in flat.items() if k != name}
    with pytest.raises(errors.MissingParamError) as info:
        model.apply(sx.unflatten(missing), X)
    assert info.value.name == name
    assert f"Variable {name} " in str(info.value)

    value = flat[name]
    reshaped = {**flat, name: jnp.zeros((*value.shape, 2), value.dtype)}
    with pytest.raises(errors.ParamShapeError) as info:
        model.apply(sx.unflatten(reshaped), X)
    assert info.value.name == name
    assert f"Variable {name} " in str(info.value)

    other_dtype = jnp.int32 if value.dtype != jnp.int32 else jnp.float32
    recast = {**flat, name: value.astype(other_dtype)}
    with pytest.raises(errors.ParamDtypeError) as info:
        model.apply(sx.unflatten(recast), X)
    assert info.value.name == name
    assert f"Variable {name} " in str(info.value)


def test_the_model_knows_tf1() -> None:
    """The model itself, on cases whose TF1 answer is documented."""
    a = Scope("a", None, False, (Var("v", (2,), None),))
    conv = Scope("conv", None, True, (Var("v", (2,), None),))
    # conv, conv_1; counts forgotten when leaving `m`, so m (reused) hands out conv again.
    model_scope = Scope("m", None, False, (conv, conv))
    reused = Scope("m", True, False, (conv, conv))
    assert set(predict((model_scope, reused)).specs) == {"m/conv/v", "m/conv_1/v"}
    assert predict((model_scope, reused)).error is None
    # Leaving a re-entered scope restores the counts as they were on entering it.
    assert predict(ROOT_TOWERS) == Prediction(
        {"0.0.0": "dense/w", "1.0.0": "dense/w"}, {"dense/w": ((2,), np.dtype("float32"))}, None
    )
    assert set(predict(REENTER_INSIDE).specs) == {"m/conv/w", "m/conv_1/w"}
    # reuse=True inside AUTO_REUSE is strict.
    strict = Scope("s", AUTO, False, (Scope("t", True, False, (Var("v", (2,), None),)),))
    error = predict((strict,)).error
    assert error is not None and (error.cls, error.text) == (errors.VariableNotFoundError, "s/t/v")
    # A re-entered captured scope uses its own flag, not the enclosing reuse=True.
    reenter = Scope("r", True, False, (Reenter(0, None, (Var("w", (2,), None),)),))
    assert set(predict((a, reenter)).specs) == {"a/v", "a/w"}
    # The variable `a` next to the scope `a`.
    error = predict((a, Var("a", (2,), None))).error
    assert error is not None and (error.cls, error.text) == (errors.NameConflictError, "a")
    # Reuse checks the dtype only when given.
    ok = (Var("v", (2,), jnp.int32), ReuseVariables(), Var("v", None, None))
    assert predict(ok).error is None
    error = predict((*ok, Var("v", None, jnp.float32))).error
    assert error is not None and error.cls is errors.DtypeMismatchError
