"""transform / transform_with_state: rng handling, per-name keys, purity, state."""

import hashlib
import subprocess
import sys

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scopax as sx


def mlp(x, names=("l0", "l1")):
    for name in names:
        with sx.variable_scope(name):
            w = sx.get_variable("w", [x.shape[-1], 4])
            b = sx.get_variable("b", [4], initializer=sx.random_normal_initializer())
            x = jnp.tanh(x @ w + b[None])
    return x


X = jnp.ones((2, 3))


def test_unpacks_and_applies(jit):
    init, apply = sx.transform(mlp)
    params = init(jax.random.key(0), X)
    out = jit(apply)(params, X)
    assert out.shape == (2, 4)
    expected = X
    for name in ("l0", "l1"):
        expected = jnp.tanh(expected @ params[name]["w"] + params[name]["b"][None])
    np.testing.assert_allclose(out, expected, rtol=1e-6)


def test_raw_and_typed_keys_both_work():
    model = sx.transform(mlp)
    typed = model.init(jax.random.key(0), X)
    raw = model.init(jax.random.PRNGKey(0), X)
    assert jax.tree_util.tree_structure(typed) == jax.tree_util.tree_structure(raw)
    # Same seed, same key bits: the same values.
    chex.assert_trees_all_equal(typed, raw)


@pytest.mark.parametrize("bad", [0, None, jnp.zeros(3), "key"])
def test_init_rejects_non_keys(bad):
    with pytest.raises(sx.errors.InvalidRngError, match=r"Expected a jax.random key as rng"):
        sx.transform(mlp).init(bad, X)


def test_adding_removing_reordering_variables_keeps_other_values():
    base = sx.transform(mlp).init(jax.random.key(0), X)
    more = sx.transform(lambda x: mlp(x, ("l0", "l1", "extra"))).init(jax.random.key(0), X)
    fewer = sx.transform(lambda x: mlp(x, ("l0",))).init(jax.random.key(0), X)
    assert np.array_equal(base["l0/w"], more["l0/w"])
    assert np.array_equal(base["l0/b"], fewer["l0/b"])
    assert np.array_equal(base["l1/w"], more["l1/w"])

    def reordered(x):
        with sx.variable_scope("l0"):
            b = sx.get_variable("b", [4], initializer=sx.random_normal_initializer())
            w = sx.get_variable("w", [3, 4])
        return x @ w + b[None]

    swapped = sx.transform(reordered).init(jax.random.key(0), X)
    assert np.array_equal(base["l0/w"], swapped["l0/w"])
    assert np.array_equal(base["l0/b"], swapped["l0/b"])
    # Different names and different rngs give different values.
    assert not np.array_equal(base["l0/b"], base["l1/b"])
    other = sx.transform(mlp).init(jax.random.key(1), X)
    assert not np.array_equal(base["l0/b"], other["l0/b"])


def test_keys_come_from_64_bits_of_sha1_of_the_full_name():
    params = sx.transform(mlp).init(jax.random.key(7), X)
    digest = hashlib.sha1(b"l1/b").digest()
    hi, lo = (int.from_bytes(digest[i : i + 4], "big") for i in (0, 4))
    key = jax.random.fold_in(jax.random.fold_in(jax.random.key(7), hi), lo)
    expected = jax.random.normal(key, (4,), jnp.float32)
    np.testing.assert_array_equal(params["l1/b"], expected)


# Names whose SHA-1 words cover both halves of the uint32 range (top bit clear and set).
_WORD_NAMES = ["a", "b", "c", "d", "conv1/weights", "rnn/basic_lstm_cell/kernel"]


def test_key_words_with_the_top_bit_set_fold_in_as_uint32():
    words = [
        int.from_bytes(hashlib.sha1(n.encode()).digest()[i : i + 4], "big")
        for n in _WORD_NAMES
        for i in (0, 4)
    ]
    assert any(w >= 2**31 for w in words) and any(w < 2**31 for w in words)

    def fn():
        init = sx.random_uniform_initializer()
        return [sx.get_variable(n, [2], initializer=init) for n in _WORD_NAMES]

    for rng in (jax.random.key(11), jax.random.PRNGKey(11)):
        params = sx.transform(fn).init(rng)
        for name in _WORD_NAMES:
            digest = hashlib.sha1(name.encode()).digest()
            hi, lo = (np.uint32(int.from_bytes(digest[i : i + 4], "big")) for i in (0, 4))
            key = jax.random.fold_in(jax.random.fold_in(rng, hi), lo)
            np.testing.assert_array_equal(params[name], jax.random.uniform(key, (2,)))


def test_constant_initializers_derive_no_key():
    # A constant ignores its key, so init does not pay for a fold_in per bias.
    def fn():
        sx.get_variable("b", [3], initializer=sx.zeros_initializer())
        sx.get_variable("c", [3], initializer=sx.constant_initializer(2.0))
        sx.get_variable("n", [], dtype=jnp.int32)  # default: zeros for integers

    text = str(jax.make_jaxpr(sx.transform(fn).init)(jax.random.key(0)))
    assert "fold_in" not in text and "threefry" not in text, text
    with_key = str(
        jax.make_jaxpr(sx.transform(lambda: sx.get_variable("w", [3])).init)(jax.random.key(0))
    )
    assert "fold_in" in with_key or "threefry" in with_key, with_key


def test_same_values_in_a_fresh_process():
    code = (
        "import jax, jax.numpy as jnp, numpy as np, scopax as sx\n"
        "f = lambda: sx.get_variable('a/b', [3], initializer=sx.random_normal_initializer())\n"
        "print(np.asarray(sx.transform(f).init(jax.random.key(3))['a/b']).tobytes().hex())\n"
    )
    runs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": str(seed), "JAX_PLATFORMS": "cpu"},
        ).stdout
        for seed in (1, 2)
    }
    assert len(runs) == 1


def test_init_under_jit_and_eval_shape():
    model = sx.transform(mlp)
    eager = model.init(jax.random.key(0), X)
    jitted = jax.jit(model.init)(jax.random.key(0), X)
    chex.assert_trees_all_close(eager, jitted)
    shapes = jax.eval_shape(model.init, jax.random.key(0), X)
    assert type(shapes) is sx.Params
    assert shapes["l0/w"].shape == (3, 4)


def test_apply_grad_and_vmap():
    model = sx.transform(mlp)
    params = model.init(jax.random.key(0), X)
    grads = jax.grad(lambda p: model.apply(p, X).sum())(params)
    assert type(grads) is sx.Params
    assert grads["l0/w"].shape == (3, 4)
    batched = jax.vmap(model.apply, in_axes=(None, 0))(params, jnp.ones((5, 2, 3)))
    assert batched.shape == (5, 2, 4)
    stacked = jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), params, params)
    ensemble = jax.vmap(model.apply, in_axes=(0, None))(stacked, X)
    np.testing.assert_allclose(ensemble[1], model.apply(params, X), rtol=1e-6)


def test_apply_checks_params(jit):
    model = sx.transform(mlp)
    flat = sx.flatten(model.init(jax.random.key(0), X))
    missing = {k: v for k, v in flat.items() if k != "l1/b"}
    with pytest.raises(
        sx.errors.MissingParamError,
        match=r"^Variable l1/b is not in the params given to apply; pass the tree",
    ):
        jit(model.apply)(sx.unflatten(missing), X)
    with pytest.raises(
        sx.errors.ParamShapeError,
        match=r"^Variable l0/b has shape \(1,\) in the tree given to apply, but the function "
        r"asks for shape \(4,\)",
    ):
        jit(model.apply)(sx.unflatten({**flat, "l0/b": jnp.zeros(1)}), X)
    with pytest.raises(
        sx.errors.ParamDtypeError,
        match=r"^Variable l0/w has dtype int32 in the tree given to apply, but the function "
        r"asks for dtype float32",
    ):
        jit(model.apply)(sx.unflatten({**flat, "l0/w": jnp.zeros((3, 4), jnp.int32)}), X)


def test_apply_accepts_plain_nested_dicts():
    model = sx.transform(mlp)
    params = model.init(jax.random.key(0), X)
    as_dict = {scope: dict(sub) for scope, sub in params.items()}
    np.testing.assert_array_equal(model.apply(as_dict, X), model.apply(params, X))
    with pytest.raises(sx.errors.TreeArgumentError) as info:
        model.apply([1, 2], X)
    assert str(info.value) == (
        "apply's params must be a parameter tree (a Mapping, such as init returns), got list; "
        "pass the params that init returned, e.g. model.apply(params, x)."
    )


def test_apply_keeps_no_reference_to_params():
    import gc
    import weakref

    model = sx.transform(mlp)
    params = model.init(jax.random.key(0), X)
    model.apply(params, X)
    ref = weakref.ref(params)
    del params
    gc.collect()
    assert ref() is None


def test_already_jitted_function_rejected():
    with pytest.raises(
        sx.errors.JittedFunctionError, match=r"sx.transform got a jax.jit-compiled function"
    ):
        sx.transform(jax.jit(mlp))
    with pytest.raises(sx.errors.JittedFunctionError):
        sx.transform_with_state(jax.jit(mlp))


def test_next_rng_key(jit):
    def f():
        return jax.random.normal(sx.next_rng_key(), (3,)), jax.random.normal(
            sx.next_rng_key(), (3,)
        )

    model = sx.transform(f)
    params = model.init(jax.random.key(0))
    a, b = jit(model.apply)(params, rng=jax.random.key(1))
    a2, _ = jit(model.apply)(params, rng=jax.random.key(1))
    c, _ = jit(model.apply)(params, rng=jax.random.key(2))
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(a, a2)
    assert not np.array_equal(a, c)
    with pytest.raises(
        sx.errors.MissingRngError,
        match=r"^sx.next_rng_key\(\) needs a random key, but apply was called without one",
    ):
        model.apply(params)
    with pytest.raises(sx.errors.NotInTransformError, match=r"sx.next_rng_key must be called"):
        sx.next_rng_key()


def batch_norm_like(x):
    mean = sx.get_variable("mean", [x.shape[-1]], trainable=False, initializer=0.0 * x[0])
    count = sx.get_variable("count", [], jnp.int32, trainable=False)
    scale = sx.get_variable("scale", [x.shape[-1]], initializer=sx.ones_initializer())
    new_mean = sx.assign(mean, 0.5 * mean + 0.5 * x.mean(0))
    sx.assign("count", count + 1)
    assert sx.get_variable_scope().reuse is False
    return (x - new_mean[None]) * scale[None]


def test_transform_with_state(jit):
    model = sx.transform_with_state(batch_norm_like)
    x = jnp.arange(6.0).reshape(3, 2)
    params, state = model.init(jax.random.key(0), x)
    assert list(sx.flatten(params)) == ["scale"]
    assert list(sx.flatten(state)) == ["count", "mean"]
    np.testing.assert_array_equal(state["mean"], [0.0, 0.0])  # init returns initial values
    out, state = jit(model.apply)(params, state, x)
    np.testing.assert_allclose(state["mean"], [1.0, 1.5])
    assert int(state["count"]) == 1
    np.testing.assert_allclose(out, x - jnp.array([[1.0, 1.5]]))
    _, state = jit(model.apply)(params, state, x)
    np.testing.assert_allclose(state["mean"], [1.5, 2.25])
    assert int(state["count"]) == 2


def test_read_after_assign_sees_new_value():
    def f():
        n = sx.get_variable("n", [], jnp.int32, trainable=False)
        sx.assign(n, n + 5)
        sx.get_variable_scope().reuse_variables()
        return sx.get_variable("n")

    model = sx.transform_with_state(f)
    params, state = model.init(jax.random.key(0))
    out, _ = model.apply(params, state)
    assert int(out) == 5


def test_assign_misuse():
    def trainable():
        w = sx.get_variable("w", [2])
        sx.assign(w, w)

    model = sx.transform_with_state(trainable)
    with pytest.raises(
        sx.errors.AssignError,
        match=r"^Cannot assign to w: it was got with trainable=True in this trace",
    ):
        model.init(jax.random.key(0))

    def unknown():
        sx.assign("nope", 1.0)

    with pytest.raises(sx.errors.AssignError, match=r"^Cannot assign to nope: no variable"):
        sx.transform_with_state(unknown).init(jax.random.key(0))

    def stranger():
        sx.get_variable("n", [2], trainable=False)
        sx.assign(jnp.zeros(2), 1.0)

    with pytest.raises(
        sx.errors.AssignError,
        match=r"^Cannot assign to an array of shape \(2,\) and dtype float32: it is not a var",
    ):
        sx.transform_with_state(stranger).init(jax.random.key(0))

    def wrong_shape():
        n = sx.get_variable("n", [2], trainable=False)
        sx.assign(n, jnp.zeros(3))

    with pytest.raises(sx.errors.AssignError, match=r"the value has shape \(3,\), but the var"):
        sx.transform_with_state(wrong_shape).init(jax.random.key(0))

    def wrong_kind():
        n = sx.get_variable("n", [2], jnp.int32, trainable=False)
        sx.assign(n, jnp.zeros(2, jnp.float32))

    with pytest.raises(sx.errors.AssignError, match=r"cast it with .astype\(jnp.int32\)"):
        sx.transform_with_state(wrong_kind).init(jax.random.key(0))


def test_non_trainable_needs_transform_with_state():
    with pytest.raises(
        sx.errors.NonTrainableInTransformError,
        match=r"^Variable n is not trainable \(trainable=False\), which makes it state; "
        r"sx.transform has no state. Use sx.transform_with_state",
    ):
        sx.transform(lambda: sx.get_variable("n", [1], trainable=False)).init(jax.random.key(0))


def test_nested_transforms_have_separate_frames():
    inner = sx.transform(lambda: sx.get_variable("inner", [1]))

    def outer():
        with sx.variable_scope("outer"):
            w = sx.get_variable("w", [1])
            inner_params = inner.init(jax.random.key(1))
            assert sx.get_variable_scope().name == "outer"
            return w, inner_params

    model = sx.transform(outer)
    params = model.init(jax.random.key(0))
    assert list(sx.flatten(params)) == ["outer/w"]
    _, inner_params = model.apply(params)
    assert list(sx.flatten(inner_params)) == ["inner"]
