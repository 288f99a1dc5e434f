"""Every side-effecting scopax call against every JAX transform nested in the function.

Each call (get_variable creating or reading a variable, sx.assign, sx.next_rng_key,
sx.get_regularization_losses) runs inside the body of jax.jit, jax.vmap,
jax.lax.scan, jax.lax.cond, jax.grad and jax.checkpoint, in init and in apply, with
init/apply themselves eager or under jax.jit (the ``jit`` fixture). Each cell either
works, with the right result and without a leaked tracer (checked by
``jax.checking_leaks``), or raises the documented error; either way the next trace
works. Then: transforms of init/apply as a whole, calls outside any transform,
threads, and user code that raises inside a scope.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scopax as sx
from scopax import errors

KEY = jax.random.key(0)
X = jnp.array([1.0, 2.0, 3.0], jnp.float32)  # positive: lax.cond below takes its true branch

Jit = Callable[[Callable[..., Any]], Callable[..., Any]]


def l2(w: jax.Array) -> jax.Array:
    return 0.5 * jnp.sum(w**2)


def _in_jit(f: Callable[[jax.Array], Any], x: jax.Array) -> Any:
    return jax.jit(f)(x)


def _in_vmap(f: Callable[[jax.Array], Any], x: jax.Array) -> Any:
    return jax.vmap(f)(jnp.stack([x, x]))[0]


def _in_scan(f: Callable[[jax.Array], Any], x: jax.Array) -> Any:
    _, ys = jax.lax.scan(lambda carry, _: (carry, f(carry)), x, None, length=2)
    return ys[-1]


def _in_cond(f: Callable[[jax.Array], Any], x: jax.Array) -> Any:
    # Both branches make the call; lax.cond traces both.
    return jax.lax.cond(x[0] > 0, f, lambda y: f(y), x)


def _in_grad(f: Callable[[jax.Array], Any], x: jax.Array) -> Any:
    def loss(y: jax.Array) -> tuple[jax.Array, Any]:
        out = f(y)
        return jnp.sum(out.astype(jnp.float32)), out

    _, out = jax.grad(loss, has_aux=True)(x)
    return out


def _in_checkpoint(f: Callable[[jax.Array], Any], x: jax.Array) -> Any:
    return jax.checkpoint(f)(x)


def _no_transform(f: Callable[[jax.Array], Any], x: jax.Array) -> Any:
    """The reference: the call made directly in the transformed function."""
    return f(x)


def _in_jit_in_scan(f: Callable[[jax.Array], Any], x: jax.Array) -> Any:
    return _in_scan(lambda y: _in_jit(f, y), x)


INNER = {
    "jit": _in_jit,
    "vmap": _in_vmap,
    "scan": _in_scan,
    "cond": _in_cond,
    "grad": _in_grad,
    "checkpoint": _in_checkpoint,
}
Inner = Callable[[Callable[[jax.Array], Any], jax.Array], Any]
inner_transforms = pytest.mark.parametrize("inner", list(INNER.values()), ids=list(INNER))
# get_variable, where leaks would come from, also meets two transforms nested in each other.
NESTED = {**INNER, "jit-in-scan": _in_jit_in_scan}
nested_inner_transforms = pytest.mark.parametrize("inner", list(NESTED.values()), ids=list(NESTED))


def _observe(value: jax.Array) -> jax.Array:
    """Make ``value`` visible after init: a variable whose initializer is ``value``.

    In init, ``params["observed"]`` is what the function computed; in apply the
    function returns ``value`` itself.
    """
    sx.get_variable("observed", initializer=value)
    return value


def _assert_no_trace_left() -> None:
    with pytest.raises(errors.NotInTransformError):
        sx.get_variable("w", [1])
    with pytest.raises(errors.NotInTransformError):
        sx.get_variable_scope()


def _assert_close(a: Any, b: Any) -> None:
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-6)


# get_variable ---------------------------------------------------------------------------------


def _w() -> jax.Array:
    return sx.get_variable("w", [3], initializer=sx.random_normal_initializer(), regularizer=l2)


def _variable_model(inner: Inner, create_outside: bool) -> sx.Transformed:
    """``model/body/w`` read (and, without ``create_outside``, first got) in the body."""

    def fn(x: jax.Array) -> tuple[jax.Array, jax.Array]:
        with sx.variable_scope("model", reuse=sx.AUTO_REUSE):
            if create_outside:
                with sx.variable_scope("body"):
                    _w()

            def body(y: jax.Array) -> jax.Array:
                with sx.variable_scope("body"):
                    return y * _w()

            out = inner(body, x)
            # Got again after the body (the first get may have been inside it): the
            # trace's value, not one of the body's tracers.
            with sx.variable_scope("body"):
                out = out + 0 * _w()
        # The regularizer's loss, taken after the body, sees the variable got inside it.
        return _observe(out), sx.get_regularization_loss()

    return sx.transform(fn)


@nested_inner_transforms
def test_get_variable_creating_in_a_body_raises_in_init(inner: Inner, jit: Jit) -> None:
    model = _variable_model(inner, create_outside=False)
    for _ in range(2):  # The failed trace left nothing behind that changes the next one.
        with pytest.raises(errors.InnerTraceError) as info:
            jit(model.init)(KEY, X)
        assert info.value.name == "model/body/w"
        message = str(info.value)
        assert message.startswith("Variable model/body/w is created inside a jax.lax.scan")
        assert "sx.scan" in message
        _assert_no_trace_left()
    # The next trace works: the same function without the transform creates the variable.
    # (Created before the body, the read inside it works: see the test below.)
    with jax.checking_leaks():
        params = jit(_variable_model(_no_transform, create_outside=False).init)(KEY, X)
    assert sorted(sx.flatten(params)) == ["model/body/w", "observed"]


@nested_inner_transforms
@pytest.mark.parametrize("phase", ["init", "apply", "apply-first-read-in-body"])
def test_get_variable_reading_in_a_body_works(inner: Inner, phase: str, jit: Jit) -> None:
    reference = sx.flatten(_variable_model(_no_transform, create_outside=True).init(KEY, X))
    w = reference["model/body/w"]
    _assert_close(reference["observed"], X * w)
    model = _variable_model(inner, create_outside=phase != "apply-first-read-in-body")
    for _ in range(2):
        with jax.checking_leaks():
            if phase == "init":
                got = sx.flatten(jit(model.init)(KEY, X))
                assert sorted(got) == sorted(reference)
                for name in got:
                    _assert_close(got[name], reference[name])
            else:
                out, loss = jit(model.apply)(sx.unflatten(reference), X)
                _assert_close(out, X * w)
                _assert_close(loss, l2(w))
    _assert_no_trace_left()


# sx.assign ------------------------------------------------------------------------------------


def _state_model(inner: Inner | None, target: str) -> sx.TransformedWithState:
    """Increments ``model/counter`` in the body (or, with ``inner=None``, outside any)."""

    def fn(x: jax.Array) -> jax.Array:
        with sx.variable_scope("model"):
            n = sx.get_variable("counter", [], jnp.int32, trainable=False)

        def body(y: jax.Array) -> jax.Array:
            sx.assign(n if target == "array" else "model/counter", n + 1)
            return y

        return body(x) if inner is None else inner(body, x)

    return sx.transform_with_state(fn)


@inner_transforms
@pytest.mark.parametrize("phase", ["init", "apply"])
@pytest.mark.parametrize("target", ["array", "name"])
def test_assign_in_a_body_raises(inner: Inner, phase: str, target: str, jit: Jit) -> None:
    model = _state_model(inner, target)
    state = sx.unflatten({"model/counter": jnp.array(4, jnp.int32)})
    for _ in range(2):
        with pytest.raises(errors.InnerTraceError) as info:
            if phase == "init":
                jit(model.init)(KEY, X)
            else:
                jit(model.apply)({}, state, X)
        assert info.value.name == "model/counter"
        message = str(info.value)
        assert message.startswith("Variable model/counter is assigned inside a jax.lax.scan")
        assert "sx.scan" in message
        _assert_no_trace_left()
    # Outside the body the same assign works.
    working = _state_model(None, target)
    with jax.checking_leaks():
        params, init_state = jit(working.init)(KEY, X)
        out, new_state = jit(working.apply)(params, state, X)
    assert sx.flatten(params) == {}
    assert sx.flatten(init_state)["model/counter"] == 0
    _assert_close(out, X)
    assert new_state["model/counter"] == 5


# sx.next_rng_key ------------------------------------------------------------------------------


def _rng_model(inner: Inner) -> sx.Transformed:
    def fn(x: jax.Array) -> tuple[jax.Array, jax.Array]:
        def body(y: jax.Array) -> jax.Array:
            del y
            return jax.random.key_data(sx.next_rng_key())

        inside = _observe(inner(body, x))
        return inside, jax.random.key_data(sx.next_rng_key())

    return sx.transform(fn)


def _reference_keys(count: int) -> list[np.ndarray]:
    """The first ``count`` keys next_rng_key gives a trace run with ``rng=KEY``."""

    def fn() -> list[jax.Array]:
        return [jax.random.key_data(sx.next_rng_key()) for _ in range(count)]

    return [np.asarray(k) for k in sx.transform(fn).apply({}, rng=KEY)]


@inner_transforms
@pytest.mark.parametrize("phase", ["init", "apply"])
def test_next_rng_key_in_a_body_works(inner: Inner, phase: str, jit: Jit) -> None:
    first, second = _reference_keys(2)
    # lax.cond traces the call in both branches, so either of the first two keys is right.
    allowed = [first, second] if inner is _in_cond else [first]
    model = _rng_model(inner)
    params = sx.Params()
    for _ in range(2):
        with jax.checking_leaks():
            if phase == "init":
                params = jit(model.init)(KEY, X)
                inside = params["observed"]
                after = None
            else:
                params = sx.unflatten({"observed": jnp.zeros(2, jnp.uint32)})
                inside, after = jit(model.apply)(params, X, rng=KEY)
        inside = np.asarray(inside)
        assert any(np.array_equal(inside, key) for key in allowed), inside
        if after is not None:  # A fresh key, not the one the body got.
            assert not np.array_equal(np.asarray(after), inside)
    if phase == "apply":
        with pytest.raises(errors.MissingRngError):
            jit(model.apply)(params, X)
    _assert_no_trace_left()


# sx.get_regularization_losses -----------------------------------------------------------------


def _regularized_model(inner: Inner) -> sx.Transformed:
    def fn(x: jax.Array) -> jax.Array:
        with sx.variable_scope("model"):
            _w()
        sx.get_variable("free", [2])  # No regularizer, so no loss.

        def body(y: jax.Array) -> jax.Array:
            losses = sx.get_regularization_losses()
            scoped = sx.get_regularization_losses("model")
            assert len(losses) == len(scoped) == 1
            assert sx.get_regularization_losses("other") == []
            return y * (sx.get_regularization_loss() + scoped[0])

        return _observe(inner(body, x))

    return sx.transform(fn)


@inner_transforms
@pytest.mark.parametrize("phase", ["init", "apply"])
def test_get_regularization_losses_in_a_body_works(inner: Inner, phase: str, jit: Jit) -> None:
    model = _regularized_model(inner)
    reference = _regularized_model(_no_transform).init(KEY, X)
    w = reference["model/w"]
    _assert_close(reference["observed"], X * 2 * l2(w))
    for _ in range(2):
        with jax.checking_leaks():
            if phase == "init":
                out = jit(model.init)(KEY, X)["observed"]
            else:
                out = jit(model.apply)(reference, X)
        _assert_close(out, X * 2 * l2(w))
    _assert_no_trace_left()


# init and apply as a whole under transforms ---------------------------------------------------


def _linear(x: jax.Array) -> jax.Array:
    with sx.variable_scope("dense"):
        w = sx.get_variable("w", [3, 2])
        b = sx.get_variable("b", [2], initializer=sx.constant_initializer(0.5))
    return x @ w + jnp.broadcast_to(b, (*x.shape[:-1], 2))


XS = jnp.arange(12.0, dtype=jnp.float32).reshape(4, 3)


def test_init_and_apply_under_jit() -> None:
    model = sx.transform(_linear)
    params = model.init(KEY, XS)
    with jax.checking_leaks():
        jit_params = jax.jit(model.init)(KEY, XS)
        out = jax.jit(model.apply)(params, XS)
    assert isinstance(jit_params, sx.Params)
    assert sx.flatten(jit_params).keys() == sx.flatten(params).keys()
    for name, value in sx.flatten(params).items():
        _assert_close(jit_params[name], value)
    _assert_close(out, XS @ params["dense/w"] + 0.5)


def test_init_with_a_raw_key_under_jit() -> None:
    model = sx.transform(_linear)
    raw = jax.random.PRNGKey(0)
    params = model.init(raw, XS)
    with jax.checking_leaks():
        jit_params = jax.jit(model.init)(raw, XS)
    for name, value in sx.flatten(params).items():
        _assert_close(jit_params[name], value)


def test_vmap_of_init_over_keys(jit: Jit) -> None:
    model = sx.transform(_linear)
    keys = jax.random.split(KEY, 3)
    with jax.checking_leaks():
        stacked = jit(jax.vmap(model.init, in_axes=(0, None)))(keys, XS)
    assert isinstance(stacked, sx.Params)
    for i in range(3):
        single = model.init(keys[i], XS)
        for name, value in sx.flatten(single).items():
            _assert_close(stacked[name][i], value)


def test_vmap_of_apply_over_rngs(jit: Jit) -> None:
    def noisy(x: jax.Array) -> jax.Array:
        return x + jax.random.normal(sx.next_rng_key(), x.shape)

    model = sx.transform(noisy)
    keys = jax.random.split(KEY, 2)
    with jax.checking_leaks():
        out = jit(jax.vmap(lambda k: model.apply({}, X, rng=k)))(keys)
    _assert_close(out[0], model.apply({}, X, rng=keys[0]))
    _assert_close(out[1], model.apply({}, X, rng=keys[1]))
    assert not np.allclose(out[0], out[1])


def test_eval_shape_of_init_is_abstract() -> None:
    def embed(ids: jax.Array) -> jax.Array:
        with sx.variable_scope("embedding"):
            table = sx.get_variable("table", [20000, 20000])
        return table[ids]

    model = sx.transform(embed)
    ids = jnp.array([1, 2, 3])
    start = time.perf_counter()
    shapes = jax.eval_shape(model.init, KEY, ids)
    elapsed = time.perf_counter() - start
    assert isinstance(shapes, sx.Params)
    table = shapes["embedding/table"]
    assert isinstance(table, jax.ShapeDtypeStruct)
    assert (table.shape, table.dtype) == ((20000, 20000), jnp.float32)
    assert elapsed < 5.0, f"eval_shape(init) took {elapsed:.1f}s"
    assert not any(a.shape == (20000, 20000) for a in jax.live_arrays())
    out = jax.eval_shape(model.apply, shapes, ids)
    assert (out.shape, out.dtype) == ((3, 20000), jnp.float32)


def test_grad_of_apply(jit: Jit) -> None:
    model = sx.transform(_linear)
    params = model.init(KEY, XS)
    with jax.checking_leaks():
        grads = jit(jax.grad(lambda p, x: jnp.sum(model.apply(p, x))))(params, XS)
    assert isinstance(grads, sx.Params)
    assert sx.flatten(grads).keys() == sx.flatten(params).keys()
    _assert_close(grads["dense/w"], jnp.broadcast_to(XS.sum(0)[:, None], (3, 2)))
    _assert_close(grads["dense/b"], jnp.full(2, 4.0))


def test_vmap_of_apply_over_inputs(jit: Jit) -> None:
    model = sx.transform(_linear)
    params = model.init(KEY, XS)
    with jax.checking_leaks():
        out = jit(jax.vmap(model.apply, in_axes=(None, 0)))(params, XS)
    _assert_close(out, model.apply(params, XS))


def test_vmap_of_apply_over_stacked_params(jit: Jit) -> None:
    model = sx.transform(_linear)
    p0, p1 = model.init(KEY, XS), model.init(jax.random.key(1), XS)
    stacked = jax.tree_util.tree_map(lambda a, b: jnp.stack([a, b]), p0, p1)
    assert isinstance(stacked, sx.Params)
    assert stacked["dense/w"].shape == (2, 3, 2)
    with jax.checking_leaks():
        out = jit(jax.vmap(model.apply, in_axes=(0, None)))(stacked, XS)
    assert out.shape == (2, 4, 2)
    _assert_close(out[0], model.apply(p0, XS))
    _assert_close(out[1], model.apply(p1, XS))


def test_vmap_and_grad_of_stateful_apply(jit: Jit) -> None:
    def counter(x: jax.Array) -> jax.Array:
        n = sx.get_variable(
            "n", [], jnp.float32, initializer=sx.zeros_initializer(), trainable=False
        )
        sx.assign(n, n + jnp.sum(x))
        return x * sx.get_variable("w", [3])

    model = sx.transform_with_state(counter)
    params, state = model.init(KEY, X)
    with jax.checking_leaks():
        outs, states = jit(jax.vmap(model.apply, in_axes=(None, None, 0)))(
            params, state, jnp.stack([X, 2 * X])
        )
        grads = jit(jax.grad(lambda p: jnp.sum(model.apply(p, state, X)[0])))(params)
    _assert_close(outs[1], 2 * X * params["w"])
    _assert_close(states["n"], jnp.array([6.0, 12.0]))
    _assert_close(grads["w"], X)


def test_a_transformed_function_run_inside_another_keeps_its_own_frame() -> None:
    inner = sx.transform(_linear)

    def outer(x: jax.Array) -> jax.Array:
        with sx.variable_scope("outer"):
            before = sx.get_variable("before", [2])
            inner_params = inner.init(KEY, x)  # A trace of its own, inside this one.
            assert sx.get_variable_scope().name == "outer"
            after = sx.get_variable("after", [2])
            y = inner.apply(inner_params, x)
        return y + jnp.broadcast_to(before + after, y.shape)

    model = sx.transform(outer)
    with jax.checking_leaks():
        params = jax.jit(model.init)(KEY, XS)
        out = model.apply(params, XS)
    assert sorted(sx.flatten(params)) == ["outer/after", "outer/before"]
    expected_inner = inner.apply(inner.init(KEY, XS), XS)
    _assert_close(out, expected_inner + (params["outer/before"] + params["outer/after"])[None])


# Outside any transform ------------------------------------------------------------------------


def _enter_scope() -> None:
    with sx.variable_scope("s"):
        pass


OUTSIDE = {
    "get_variable": (lambda: sx.get_variable("w", [1]), "sx.get_variable"),
    "next_rng_key": (sx.next_rng_key, "sx.next_rng_key"),
    "variable_scope": (_enter_scope, "sx.variable_scope"),
    "get_variable_scope": (sx.get_variable_scope, "sx.get_variable_scope"),
    "assign": (lambda: sx.assign("w", 1.0), "sx.assign"),
    "get_regularization_losses": (sx.get_regularization_losses, "sx.get_regularization_losses"),
    "get_regularization_loss": (sx.get_regularization_loss, "sx.get_regularization_losses"),
    "template": (lambda: sx.make_template("t", lambda: sx.get_variable("w", [1]))(), "'t'"),
}


@pytest.mark.parametrize("call", list(OUTSIDE), ids=list(OUTSIDE))
@pytest.mark.parametrize("under_jit", [False, True], ids=["eager", "in-plain-jit"])
def test_calls_outside_a_transform_raise(call: str, under_jit: bool) -> None:
    fn, what = OUTSIDE[call]
    with pytest.raises(errors.NotInTransformError) as info:
        if under_jit:
            jax.jit(lambda x: (fn(), x)[1])(1.0)
        else:
            fn()
    assert isinstance(info.value, ValueError)
    assert what in str(info.value)
    assert "sx.transform" in str(info.value)


# Threads and exceptions -----------------------------------------------------------------------


def _threaded_model(tag: str, barrier: threading.Barrier) -> sx.Transformed:
    def fn(x: jax.Array) -> jax.Array:
        total = jnp.zeros(2)
        with sx.variable_scope(tag):
            barrier.wait()
            for expected in (f"{tag}/conv", f"{tag}/conv_1"):
                with sx.variable_scope(None, default_name="conv"):
                    barrier.wait()
                    total = total + sx.get_variable("w", [2])
                    barrier.wait()
                    assert sx.get_variable_scope().name == expected
        barrier.wait()
        # At the root each thread has opened no `conv` yet.
        with sx.variable_scope(None, default_name="conv"):
            barrier.wait()
            assert sx.get_variable_scope().name == "conv"
            total = total + sx.get_variable("w", [2])
        return x[:2] * total

    return sx.transform(fn)


def test_threads_tracing_at_once_never_see_each_others_scopes() -> None:
    barrier = threading.Barrier(2, timeout=60)
    results: dict[str, Any] = {}
    failures: list[BaseException] = []

    def work(tag: str) -> None:
        try:
            model = _threaded_model(tag, barrier)
            params = model.init(KEY, X)
            results[tag] = (params, model.apply(params, X))
        except BaseException as e:
            failures.append(e)
            barrier.abort()

    threads = [threading.Thread(target=work, args=(tag,)) for tag in ("A", "B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    solo = threading.Barrier(1)
    for tag in ("A", "B"):
        params, out = results[tag]
        assert set(sx.flatten(params)) == {"conv/w", f"{tag}/conv/w", f"{tag}/conv_1/w"}
        # The same values as the model traced alone.
        alone = _threaded_model(tag, solo)
        expected_params = alone.init(KEY, X)
        for name, value in sx.flatten(expected_params).items():
            _assert_close(params[name], value)
        _assert_close(out, alone.apply(expected_params, X))
    _assert_no_trace_left()


class Boom(Exception):
    pass


def test_a_raise_inside_a_scope_leaves_no_scope_behind(jit: Jit) -> None:
    def failing(x: jax.Array) -> jax.Array:
        with sx.variable_scope("outer"), sx.variable_scope("inner"):
            w = sx.get_variable("w", [2])
            raise Boom(w)

    with pytest.raises(Boom):
        jit(sx.transform(failing).init)(KEY, X)
    _assert_no_trace_left()

    def working(x: jax.Array) -> jax.Array:
        assert sx.get_variable_scope().name == ""
        return x[:2] * sx.get_variable("w", [2])

    with jax.checking_leaks():
        params = jit(sx.transform(working).init)(KEY, X)
    assert sorted(sx.flatten(params)) == ["w"]


def test_a_caught_raise_inside_a_scope_restores_the_enclosing_scope(jit: Jit) -> None:
    def fn(x: jax.Array) -> jax.Array:
        with sx.variable_scope("outer"):
            try:
                with sx.variable_scope("inner", reuse=True):
                    sx.get_variable("missing", [2])
            # init: TF1's reuse rule; apply: reuse reads params, which lack it.
            except (errors.VariableNotFoundError, errors.MissingParamError) as e:
                assert e.name == "outer/inner/missing"
            scope = sx.get_variable_scope()
            assert (scope.name, scope.reuse, scope.original_name_scope) == (
                "outer",
                False,
                "outer/",
            )
            w = sx.get_variable("w", [2])

            # In init, creating in a jit body raises; caught, the variable can then be
            # created outside (in apply the read inside the body just works).
            def body(y: jax.Array) -> jax.Array:
                with sx.variable_scope("body"):
                    return y * sx.get_variable("v", [3])

            try:
                y = jax.jit(body)(x)
            except errors.InnerTraceError as e:
                assert e.name == "outer/body/v"
                y = None
            assert sx.get_variable_scope().name == "outer"
            with sx.variable_scope("body", reuse=sx.AUTO_REUSE):
                v = sx.get_variable("v", [3])
            if y is None:
                y = x * v
        root = sx.get_variable_scope()
        assert (root.name, root.reuse) == ("", False)
        return y + jnp.sum(w)

    model = sx.transform(fn)
    with jax.checking_leaks():
        params = jit(model.init)(KEY, X)
        out = jit(model.apply)(params, X)
    assert sorted(sx.flatten(params)) == ["outer/body/v", "outer/w"]
    _assert_close(out, X * params["outer/body/v"] + jnp.sum(params["outer/w"]))
