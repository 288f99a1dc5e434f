"""Lifted transforms: sx.scan, sx.layer_stack, sx.remat, sx.vmap, sx.cond / sx.switch."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scopax as sx


def cell(h, x):
    with sx.variable_scope("cell"):
        w = sx.get_variable("w", [x.shape[-1] + h.shape[-1], h.shape[-1]])
        b = sx.get_variable("b", [h.shape[-1]], initializer=sx.random_normal_initializer())
        h = jnp.tanh(jnp.concatenate([x, h], -1) @ w + b[None])
    return h, 2 * h


def unrolled(xs):
    h = jnp.zeros((xs.shape[1], 4))
    ys = []
    with sx.variable_scope("rnn") as scope:
        for t in range(xs.shape[0]):
            if t:
                scope.reuse_variables()
            h, y = cell(h, xs[t])
            ys.append(y)
    return h, jnp.stack(ys)


def scanned(xs):
    with sx.variable_scope("rnn"):
        return sx.scan(cell, jnp.zeros((xs.shape[1], 4)), xs)


XS = jax.random.normal(jax.random.key(1), (6, 2, 3))


def test_scan_names_and_outputs_match_the_unrolled_loop(jit):
    p_unrolled = sx.transform(unrolled).init(jax.random.key(0), XS)
    p_scanned = sx.transform(scanned).init(jax.random.key(0), XS)
    assert (
        list(sx.flatten(p_scanned)) == list(sx.flatten(p_unrolled)) == ["rnn/cell/b", "rnn/cell/w"]
    )
    chex.assert_trees_all_equal(p_scanned, p_unrolled)
    # Either style runs on either tree.
    for params in (p_unrolled, p_scanned):
        h1, y1 = jit(sx.transform(unrolled).apply)(params, XS)
        h2, y2 = jit(sx.transform(scanned).apply)(params, XS)
        np.testing.assert_allclose(h1, h2, atol=1e-6)
        np.testing.assert_allclose(y1, y2, atol=1e-6)


def test_scan_reverse_length_and_grad():
    def f(xs):
        return sx.scan(cell, jnp.zeros((2, 4)), xs, reverse=True)[0].sum()

    model = sx.transform(f)
    params = model.init(jax.random.key(0), XS)
    grads = jax.jit(jax.grad(model.apply))(params, XS)
    assert grads["cell/w"].shape == (7, 4)

    def counter(_):
        def step(c, _x):
            return c + sx.get_variable("inc", [], initializer=1.0), None

        return sx.scan(step, jnp.zeros(()), None, length=5)[0]

    model = sx.transform(counter)
    assert float(model.apply(model.init(jax.random.key(0), 0), 0)) == 5.0


def test_scan_gives_each_iteration_its_own_rng_key():
    def f(xs):
        def step(c, x):
            return c, jax.random.uniform(sx.next_rng_key(), ()) + 0 * x

        return sx.scan(step, 0.0, xs)[1]

    model = sx.transform(f)
    out = model.apply({}, jnp.zeros(5), rng=jax.random.key(0))
    assert len(set(np.asarray(out).tolist())) == 5


def test_scan_misuse():
    def again(xs):
        out = sx.scan(cell, jnp.zeros((2, 4)), xs)
        cell(jnp.zeros((2, 4)), xs[0])  # a second, non-reusing creation
        return out

    with pytest.raises(sx.errors.VariableExistsError, match="Variable cell/w already exists"):
        sx.transform(again).init(jax.random.key(0), XS)

    def raw(xs):
        return jax.lax.scan(cell, jnp.zeros((2, 4)), xs)

    with pytest.raises(
        sx.errors.InnerTraceError, match=r"Variable cell/w is created inside.*sx\.scan"
    ):
        sx.transform(raw).init(jax.random.key(0), XS)


def test_scan_body_with_default_name_scopes():
    def step(h, x):
        with sx.variable_scope(None, default_name="dense"):
            return jnp.tanh(x @ sx.get_variable("w", [3, 3]) + h), None

    model = sx.transform(lambda xs: sx.scan(step, jnp.zeros((2, 3)), xs)[0])
    params = model.init(jax.random.key(0), XS)
    assert list(sx.flatten(params)) == ["dense/w"]
    assert model.apply(params, XS).shape == (2, 3)


def block(x):
    with sx.variable_scope("dense"):
        w = sx.get_variable("w", [4, 4])
        b = sx.get_variable("b", [4], initializer=sx.random_normal_initializer())
    return jnp.tanh(x @ w + b[None])


def stacked_model(x):
    return sx.layer_stack(5)(block)(x)


def unrolled_model(x):
    with sx.variable_scope("layer_stack"):
        for i in range(5):
            with sx.variable_scope(f"layer_{i}"):
                x = block(x)
    return x


def test_layer_stack_matches_unrolled_after_conversion(jit):
    x = jax.random.normal(jax.random.key(1), (3, 4))
    params = sx.transform(stacked_model).init(jax.random.key(0), x)
    assert {k: v.shape for k, v in sx.flatten(params).items()} == {
        "layer_stack/dense/b": (5, 4),
        "layer_stack/dense/w": (5, 4, 4),
    }
    # Each layer got its own initial values.
    assert not np.allclose(params["layer_stack/dense/w"][0], params["layer_stack/dense/w"][1])
    unrolled = sx.convert_layer_stack(params, "layer_stack", to="unrolled")
    assert sorted(sx.flatten(unrolled))[:2] == [
        "layer_stack/layer_0/dense/b",
        "layer_stack/layer_0/dense/w",
    ]
    out_stacked = jit(sx.transform(stacked_model).apply)(params, x)
    out_unrolled = jit(sx.transform(unrolled_model).apply)(unrolled, x)
    np.testing.assert_allclose(out_stacked, out_unrolled, atol=1e-6)
    back = sx.convert_layer_stack(unrolled, "layer_stack", to="stacked")
    chex.assert_trees_all_equal(back, params)


def test_layer_stack_is_one_scan_and_differentiable():
    x = jnp.ones((3, 4))
    model = sx.transform(stacked_model)
    params = model.init(jax.random.key(0), x)
    jaxpr = jax.make_jaxpr(model.apply)(params, x)
    assert [e.primitive.name for e in jaxpr.jaxpr.eqns].count("scan") == 1
    grads = jax.grad(lambda p: model.apply(p, x).sum())(params)
    assert grads["layer_stack/dense/w"].shape == (5, 4, 4)


def test_layer_stack_regularizers_and_misuse():
    def f(x):
        with sx.variable_scope("m", regularizer=lambda w: jnp.sum(w**2)):
            y = sx.layer_stack(3)(block)(x)
        return y, sx.get_regularization_loss()

    model = sx.transform(f)
    x = jnp.ones((2, 4))
    params = model.init(jax.random.key(0), x)
    _, loss = model.apply(params, x)
    expected = sum(float(jnp.sum(v**2)) for v in sx.flatten(params).values())
    np.testing.assert_allclose(loss, expected, rtol=1e-5)

    def outside(x):
        with sx.variable_scope("elsewhere") as elsewhere:
            pass

        @sx.layer_stack(2)
        def bad(x):
            with sx.variable_scope(elsewhere):
                return x * sx.get_variable("w", [])

        return bad(x)

    with pytest.raises(
        sx.errors.LiftedTransformError,
        match=r"^Variable elsewhere/w: it is created inside the stacked scope 'layer_stack' but "
        r"lies outside it",
    ):
        sx.transform(outside).init(jax.random.key(0), x)
    with pytest.raises(sx.errors.LiftedTransformError, match="num_layers=0"):
        sx.layer_stack(0)
    with pytest.raises(sx.errors.UnflattenError, match="needs every layer_0"):
        sx.convert_layer_stack({"s/layer_1/w": jnp.ones(2)}, "s", to="stacked")


def test_remat_gives_the_same_gradients():
    def deep(x, checkpointed):
        layer = sx.remat(block) if checkpointed else block
        for i in range(3):
            with sx.variable_scope(f"l{i}"):
                x = layer(x)
        return x.sum()

    x = jnp.ones((2, 4))
    plain = sx.transform(lambda x: deep(x, False))
    remat = sx.transform(lambda x: deep(x, True))
    params = plain.init(jax.random.key(0), x)
    chex.assert_trees_all_equal(params, remat.init(jax.random.key(0), x))
    g1 = jax.grad(plain.apply)(params, x)
    g2 = jax.jit(jax.grad(remat.apply))(params, x)
    chex.assert_trees_all_close(g1, g2, rtol=1e-6)
    text = str(jax.make_jaxpr(jax.grad(remat.apply))(params, x))
    assert "remat" in text or "checkpoint" in text

    policy = sx.remat(block, policy=jax.checkpoint_policies.nothing_saveable)
    model = sx.transform(lambda x: policy(x).sum())
    assert jax.grad(model.apply)(model.init(jax.random.key(0), x), x)["dense/w"].shape == (4, 4)


def test_vmap_shared_variables(jit):
    model = sx.transform(lambda xs: sx.vmap(block)(xs))
    xs = jax.random.normal(jax.random.key(1), (6, 1, 4))
    params = model.init(jax.random.key(0), xs)
    assert {k: v.shape for k, v in sx.flatten(params).items()} == {
        "dense/b": (4,),
        "dense/w": (4, 4),
    }
    single = sx.transform(block)
    expected = jnp.stack([single.apply(params, x) for x in xs])
    np.testing.assert_allclose(jit(model.apply)(params, xs), expected, atol=1e-6)


def test_vmap_per_member_ensemble(jit):
    ensemble = sx.vmap(block, in_axes=(None,), variables="per_member", name="ens", axis_size=3)
    model = sx.transform(lambda x: ensemble(x))
    x = jax.random.normal(jax.random.key(1), (2, 4))
    params = model.init(jax.random.key(0), x)
    assert params["ens/dense/w"].shape == (3, 4, 4)
    assert not np.allclose(params["ens/dense/w"][0], params["ens/dense/w"][2])
    out = jit(model.apply)(params, x)
    single = sx.transform(block)
    for m in range(3):
        member = {"dense": {k: v[m] for k, v in params["ens/dense"].items()}}
        np.testing.assert_allclose(out[m], single.apply(member, x), atol=1e-6)


def test_vmap_split_rng():
    def noisy(x):
        return x + jax.random.normal(sx.next_rng_key(), ())

    shared = sx.transform(lambda xs: sx.vmap(noisy)(xs))
    split = sx.transform(lambda xs: sx.vmap(noisy, split_rng=True)(xs))
    xs = jnp.zeros(4)
    a = shared.apply({}, xs, rng=jax.random.key(0))
    b = split.apply({}, xs, rng=jax.random.key(0))
    assert len(set(np.asarray(a).tolist())) == 1
    assert len(set(np.asarray(b).tolist())) == 4


def test_cond_and_switch_create_every_branch(jit):
    def f(i, x):
        branches = [
            lambda x: x * sx.get_variable("a", [], initializer=2.0),
            lambda x: x + sx.get_variable("b", [], initializer=3.0),
            lambda x: block(x[None])[0],
        ]
        y = sx.switch(i, branches, x)
        z = sx.cond(i > 0, lambda y: y - sx.get_variable("c", [], initializer=1.0), lambda y: y, y)
        return z

    model = sx.transform(f)
    x = jnp.ones(4)
    params = model.init(jax.random.key(0), 0, x)
    assert sorted(sx.flatten(params)) == ["a", "b", "c", "dense/b", "dense/w"]
    apply = jit(model.apply)
    np.testing.assert_allclose(apply(params, 0, x), 2 * x)
    np.testing.assert_allclose(apply(params, 1, x), x + 3 - 1)
    w, b = params["dense/w"], params["dense/b"]
    np.testing.assert_allclose(apply(params, 2, x), jnp.tanh(x @ w + b) - 1, rtol=1e-6)


def test_variable_from_one_branch_is_readable_after_the_cond():
    def f(flag, x):
        y = sx.cond(
            flag, lambda x: x * sx.get_variable("only", [], initializer=5.0), lambda x: x, x
        )
        sx.get_variable_scope().reuse_variables()
        return y + sx.get_variable("only")

    model = sx.transform(f)
    params = model.init(jax.random.key(0), False, 1.0)
    assert float(model.apply(params, False, 1.0)) == 6.0
    assert float(jax.jit(model.apply)(params, True, 1.0)) == 10.0


def test_raw_cond_creation_points_to_lifted_transforms():
    def f(flag, x):
        return jax.lax.cond(flag, lambda x: x * sx.get_variable("v", []), lambda x: x, x)

    with pytest.raises(sx.errors.InnerTraceError, match="Variable v is created inside"):
        sx.transform(f).init(jax.random.key(0), True, 1.0)


def uniform():
    return jax.random.uniform(sx.next_rng_key(), ())


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: sx.remat(lambda x: uniform())(x) - uniform(),
        lambda x: sx.remat(lambda x: uniform())(x) - sx.remat(lambda x: uniform())(x),
        lambda x: sx.vmap(lambda x: uniform())(jnp.zeros(2) + x) - uniform(),
        lambda x: sx.scan(lambda c, _: (c, uniform()), 0.0, None, length=2)[1] - uniform(),
        lambda x: sx.cond(x > 0, lambda x: uniform(), lambda x: uniform(), x) - uniform(),
        lambda x: (
            sx.vmap(
                lambda x: x * sx.get_variable("w", [], initializer=1.0) + uniform(),
                variables="per_member",
                name="e",
            )(jnp.zeros(2) + x)
            - uniform()
        ),
    ],
    ids=["remat-outer", "remat-remat", "vmap-outer", "scan-outer", "cond-outer", "member-outer"],
)
def test_lifted_bodies_never_reuse_an_outer_key(fn):
    model = sx.transform(fn)
    params = model.init(jax.random.key(0), 1.0)
    out = model.apply(params, 1.0, rng=jax.random.key(3))
    assert bool(jnp.all(out != 0)), "a lifted body drew the same key as the code around it"
    again = jax.jit(model.apply)(params, 1.0, rng=jax.random.key(3))
    np.testing.assert_array_equal(out, again)


def test_state_in_stacked_members_and_assign_in_scan_explain_themselves():
    def stacked(x):
        return sx.layer_stack(2)(lambda x: x + sx.get_variable("n", [], trainable=False))(x)

    with pytest.raises(
        sx.errors.LiftedTransformError,
        match=r"^Variable layer_stack/n: it is not trainable \(trainable=False\), and the "
        r"stacked members of 'layer_stack'",
    ):
        sx.transform_with_state(stacked).init(jax.random.key(0), 1.0)

    def assigning(xs):
        n = sx.get_variable("n", [], trainable=False)
        return sx.scan(lambda c, x: (sx.assign(n, c + x), None), 0.0, xs)[0]

    with pytest.raises(sx.errors.InnerTraceError, match=r"call sx\.assign after it") as info:
        sx.transform_with_state(assigning).init(jax.random.key(0), jnp.ones(3))
    assert "use scopax's lifted" not in str(info.value)


def test_template_and_reuse_across_cond_branches_work_in_apply():
    layer = sx.make_template("layer", lambda x: x @ sx.get_variable("w", [2, 2]))

    def f(flag, x):
        return sx.cond(flag, layer, lambda x: 2 * layer(x), x)

    model = sx.transform(f)
    x = jnp.ones((1, 2))
    params = model.init(jax.random.key(0), True, x)
    assert list(sx.flatten(params)) == ["layer/w"]
    w = params["layer/w"]
    np.testing.assert_allclose(model.apply(params, True, x), x @ w, rtol=1e-6)
    np.testing.assert_allclose(jax.jit(model.apply)(params, False, x), 2 * (x @ w), rtol=1e-6)

    def reusing(i, x):
        def second(x):
            with sx.variable_scope(sx.get_variable_scope(), reuse=True):
                return x + sx.get_variable("b", [2])

        return sx.switch(i, [lambda x: x * sx.get_variable("b", [2]), second], x)

    model = sx.transform(reusing)
    params = model.init(jax.random.key(0), 0, jnp.ones(2))
    b = params["b"]
    np.testing.assert_allclose(model.apply(params, 1, jnp.ones(2)), 1 + b, rtol=1e-6)


def test_template_first_called_inside_a_remat_body_survives_retracing():
    layer = sx.make_template("layer", lambda x: jnp.tanh(x @ sx.get_variable("w", [2, 2])))
    model = sx.transform(lambda x: sx.remat(layer)(x).sum())
    x = jnp.ones((1, 2))
    params = model.init(jax.random.key(0), x)
    grads = jax.jit(jax.grad(model.apply))(params, x)
    assert grads["layer/w"].shape == (2, 2)
