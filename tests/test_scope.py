"""variable_scope / name_scope / make_template: TF1's rules, one by one."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scopax as sx


def run(fn, *args):
    """init then apply ``fn``; returns (params, apply's output)."""
    model = sx.transform(fn)
    params = model.init(jax.random.key(0), *args)
    return params, model.apply(params, *args)


def names(params):
    return list(sx.flatten(params))


def test_root_scope_defaults():
    def f():
        scope = sx.get_variable_scope()
        return scope.name, scope.reuse, scope.dtype, scope.initializer, scope.original_name_scope

    _, out = run(f)
    assert out == ("", False, jnp.float32, None, "")


def test_nested_names_and_original_name_scope():
    def f():
        with sx.variable_scope("foo"):
            with sx.variable_scope("bar") as bar:
                sx.get_variable("v", [1])
                return bar.name, bar.original_name_scope

    params, out = run(f)
    assert names(params) == ["foo/bar/v"]
    assert out == ("foo/bar", "foo/bar/")


def test_path_names_nest():
    def f():
        with sx.variable_scope("a/b"):
            sx.get_variable("v", [1])
        with sx.variable_scope("a"), sx.variable_scope("b", reuse=True):
            sx.get_variable("v", [1])

    params, _ = run(f)
    assert names(params) == ["a/b/v"]


def test_reuse_inherited_cannot_be_switched_off_and_restored():
    seen = []

    def f():
        with sx.variable_scope("root"):
            seen.append(sx.get_variable_scope().reuse)
            with sx.variable_scope("foo"):
                seen.append(sx.get_variable_scope().reuse)
            with sx.variable_scope("foo", reuse=True):
                seen.append(sx.get_variable_scope().reuse)
                with sx.variable_scope("bar"):
                    seen.append(sx.get_variable_scope().reuse)
                with sx.variable_scope("bar", reuse=False):
                    seen.append(sx.get_variable_scope().reuse)
            seen.append(sx.get_variable_scope().reuse)

    run(f)
    assert seen == [False, False, True, True, True, False] * 2


def test_auto_reuse_is_inherited_and_true_inside_is_strict():
    def f():
        with sx.variable_scope("s", reuse=sx.AUTO_REUSE):
            a = sx.get_variable("a", [1])
            with sx.variable_scope("inner"):
                assert sx.get_variable_scope().reuse is sx.AUTO_REUSE
                b = sx.get_variable("b", [1])
                assert sx.get_variable("b", [1]) is b
            with sx.variable_scope("inner", reuse=True):
                assert sx.get_variable_scope().reuse is True
                # init: TF1's rule; apply: reuse is a lookup, and params lack it.
                with pytest.raises(next(expected), match="s/inner/c"):
                    sx.get_variable("c", [1])
            return a

    expected = iter([sx.errors.VariableNotFoundError, sx.errors.MissingParamError])

    params, _ = run(f)
    assert names(params) == ["s/a", "s/inner/b"]


def test_reuse_variables_on_current_scope():
    def f():
        with sx.variable_scope("foo"):
            v = sx.get_variable("v", [1])
            sx.get_variable_scope().reuse_variables()
            v1 = sx.get_variable("v", [1])
        assert v1 is v
        with sx.variable_scope("foo"):
            # A fresh entry of "foo" does not inherit the flag set on the old scope object.
            assert sx.get_variable_scope().reuse is False

    run(f)


def test_captured_scope_jumps_to_absolute_name():
    def f():
        with sx.variable_scope("foo") as foo_scope:
            v = sx.get_variable("v", [1])
        assert foo_scope.name == "foo"
        with sx.variable_scope(foo_scope):
            w = sx.get_variable("w", [1])
        with sx.variable_scope("bar"):
            with sx.variable_scope("baz") as other:
                assert other.name == "bar/baz"
                with sx.variable_scope(foo_scope) as foo2:
                    assert foo2.name == "foo"
                    assert foo2.original_name_scope == "foo/"
                    z = sx.get_variable("z", [1])
        with sx.variable_scope(foo_scope, reuse=True):
            assert sx.get_variable("v", [1]) is v
            assert sx.get_variable("w", [1]) is w
            assert sx.get_variable("z", [1]) is z

    params, _ = run(f)
    assert names(params) == ["foo/v", "foo/w", "foo/z"]


def test_captured_scope_uses_its_own_reuse_flag():
    def f():
        with sx.variable_scope("foo") as foo:
            v = sx.get_variable("v", [1])
            foo.reuse_variables()
        with sx.variable_scope("other", reuse=True), sx.variable_scope(foo) as again:
            assert again.reuse is True
            assert sx.get_variable("v") is v
        with sx.variable_scope("plain") as plain:
            pass
        with sx.variable_scope("outer", reuse=True), sx.variable_scope(plain) as again:
            # TF1: re-entering a captured scope takes its flag, not the enclosing one's.
            assert again.reuse is False

    run(f)


def test_captured_scope_does_not_change_op_names():
    def f(x):
        with sx.variable_scope("foo") as foo:
            pass
        with sx.variable_scope("bar"):
            with sx.variable_scope(foo):
                v = sx.get_variable("v", [1], initializer=sx.ones_initializer())
                return jnp.sin(x * v)

    model = sx.transform(f)
    x = jnp.ones(1)
    params = model.init(jax.random.key(0), x)
    assert names(params) == ["foo/v"]
    text = jax.jit(model.apply).lower(params, x).as_text(debug_info=True)
    # TF 1.15: ops go under the current name scope, named by the scope's last part.
    assert "/bar/foo/sin" in text
    assert ")/foo/sin" not in text


def test_scope_initializer_inheritance():
    def f():
        with sx.variable_scope("foo", initializer=sx.constant_initializer(0.4)):
            v = sx.get_variable("v", [1])
            w = sx.get_variable("w", [1], initializer=sx.constant_initializer(0.3))
            with sx.variable_scope("bar"):
                v2 = sx.get_variable("v", [1])
            with sx.variable_scope("baz", initializer=sx.constant_initializer(0.2)):
                v3 = sx.get_variable("v", [1])
        return v, w, v2, v3

    _, out = run(f)
    np.testing.assert_allclose(np.concatenate(out), [0.4, 0.3, 0.4, 0.2])


def test_scope_dtype_default_and_override():
    def f():
        with sx.variable_scope("half", dtype=jnp.bfloat16):
            a = sx.get_variable("a", [2])
            b = sx.get_variable("b", [2], dtype=jnp.float32)
            with sx.variable_scope("inner"):
                c = sx.get_variable("c", [2])
        return a.dtype, b.dtype, c.dtype

    _, out = run(f)
    assert out == (jnp.bfloat16, jnp.float32, jnp.bfloat16)


def test_op_names_follow_variable_and_name_scopes():
    def f(x):
        with sx.variable_scope("foo"):
            y = jnp.cos(x + sx.get_variable("v", [1]))
            with sx.name_scope("bar"):
                v = sx.get_variable("w", [1])
                z = jnp.tanh(y * v)
        return z

    model = sx.transform(f)
    x = jnp.ones(1)
    params = model.init(jax.random.key(0), x)
    assert names(params) == ["foo/v", "foo/w"]
    text = jax.jit(model.apply).lower(params, x).as_text(debug_info=True)
    assert "foo/cos" in text
    assert "foo/bar/tanh" in text
    jaxpr = jax.make_jaxpr(model.apply)(params, x)
    assert "foo/bar" in str(jaxpr.jaxpr.eqns[-1].source_info.name_stack)


def test_name_scope_outside_transform_just_names_ops():
    with sx.name_scope("outside") as name:
        assert name == "outside/"

    def f(x):
        with sx.name_scope("outside"):
            return jnp.sin(x)

    jaxpr = jax.make_jaxpr(f)(1.0)
    assert "outside" in str(jaxpr.jaxpr.eqns[-1].source_info.name_stack)


@pytest.mark.parametrize("prefix", ["conv", "dense"])
def test_default_name_uniquifies(prefix):
    def f():
        for _ in range(3):
            with sx.variable_scope(None, default_name=prefix):
                sx.get_variable("w", [1])
        with sx.variable_scope("block"):
            with sx.variable_scope(None, default_name=prefix):
                sx.get_variable("w", [1])

    params, _ = run(f)
    assert names(params) == [
        f"block/{prefix}/w",
        f"{prefix}/w",
        f"{prefix}_1/w",
        f"{prefix}_2/w",
    ]


def test_default_name_counts_reset_when_parent_is_reentered():
    def f():
        with sx.variable_scope("model"):
            with sx.variable_scope(None, default_name="conv"):
                a = sx.get_variable("w", [1])
            with sx.variable_scope(None, default_name="conv"):
                sx.get_variable("w", [1])
        with sx.variable_scope("model", reuse=True):
            with sx.variable_scope(None, default_name="conv"):
                assert sx.get_variable("w", [1]) is a

    params, _ = run(f)
    assert names(params) == ["model/conv/w", "model/conv_1/w"]


def test_default_name_skips_explicitly_opened_names():
    def f():
        with sx.variable_scope("conv"):
            sx.get_variable("w", [1])
        with sx.variable_scope(None, default_name="conv"):
            sx.get_variable("w", [1])

    params, _ = run(f)
    assert names(params) == ["conv/w", "conv_1/w"]


def test_values_argument_is_accepted_and_ignored():
    def f(x):
        with sx.variable_scope(None, "rnn", [x]):
            return sx.get_variable("w", [1])

    params, _ = run(f, jnp.ones(1))
    assert names(params) == ["rnn/w"]


def test_make_template_shares_and_uniquifies():
    def body(x):
        return x * sx.get_variable("w", [], initializer=sx.constant_initializer(3.0))

    first = sx.make_template("scale", body)
    second = sx.make_template("scale", body)

    def f(x):
        return first(first(x)), second(x)

    params, out = run(f, 1.0)
    assert names(params) == ["scale/w", "scale_1/w"]
    assert float(out[0]) == 9.0
    assert float(out[1]) == 3.0


def test_make_template_kwargs_and_unique_name():
    def body(x, size):
        return sx.get_variable("w", [size]) + x

    tmpl = sx.make_template("t", body, unique_name_="fixed", size=3)
    params, out = run(lambda x: tmpl(x) + tmpl(x), jnp.zeros(3))
    assert names(params) == ["fixed/w"]
    assert out.shape == (3,)


def test_make_template_created_outside_works_in_many_traces():
    tmpl = sx.make_template("lin", lambda x: x @ sx.get_variable("w", [2, 2]))
    model = sx.transform(lambda x: tmpl(tmpl(x)))
    x = jnp.ones((1, 2))
    p1 = model.init(jax.random.key(0), x)
    p2 = model.init(jax.random.key(1), x)
    assert names(p1) == names(p2) == ["lin/w"]
    out = jax.jit(model.apply)(p1, x)
    w = p1["lin/w"]
    np.testing.assert_allclose(out, x @ w @ w, rtol=1e-6)


def test_make_template_later_call_cannot_create():
    calls = []

    def body():
        calls.append(None)
        return sx.get_variable(f"w{len(calls)}", [1])

    tmpl = sx.make_template("t", body)
    with pytest.raises(sx.errors.VariableNotFoundError, match="t/w2"):
        run(lambda: (tmpl(), tmpl()))


def test_scope_and_frame_restored_when_user_code_raises():
    def f():
        with sx.variable_scope("outer"):
            try:
                with sx.variable_scope("inner"), sx.name_scope("ops"):
                    raise RuntimeError("boom")
            except RuntimeError:
                pass
            assert sx.get_variable_scope().name == "outer"
            assert sx.get_variable_scope().original_name_scope == "outer/"
        return sx.get_variable_scope().name

    assert run(f)[1] == ""

    def g():
        with sx.variable_scope("x"):
            raise KeyError("inside")

    with pytest.raises(KeyError):
        sx.transform(g).init(jax.random.key(0))
    with pytest.raises(sx.errors.NotInTransformError):
        sx.get_variable_scope()
