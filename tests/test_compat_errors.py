"""Bad arguments to ``scopax.compat.v1`` ops raise ``OpArgumentError`` naming the op, the
argument and the fix, where TF1 raises too or ``jax.jit`` could not compile the op."""

import jax
import jax.numpy as jnp
import pytest

import scopax.compat.v1 as tf
from scopax import errors

X = jnp.zeros((2, 3))

CASES = [
    (lambda: tf.reshape(X, [4, -1]), "reshape got shape=[4, -1]", "6 elements"),
    (lambda: tf.reshape(X, [-1, -1]), "reshape got shape", "at most one -1"),
    (lambda: tf.reshape(X, [2.0, 3.0]), "reshape got shape=[2.0, 3.0]", "integers"),
    (lambda: tf.concat([X, X], 2), "concat got axis=2", "rank 2"),
    (lambda: tf.concat([], 0), "concat got values=[]", "list of arrays"),
    (lambda: tf.concat([X, jnp.ones((3, 3))], 1), "concat got values of shapes", "axis 1"),
    (lambda: tf.stack([X, X.T]), "stack got values of shapes [(2, 3), (3, 2)]", "same shape"),
    (lambda: tf.add(X, jnp.ones(2)), "add got x of shape (2, 3) and y of shape (2,)", "reshape"),
    (lambda: tf.where(X > 0, X, X.T), "where got condition of shape (2, 3) and x", "broadcast"),
    (lambda: tf.matmul(X, X), "matmul got a of shape (2, 3) and b of shape (2, 3)", "transpose_b"),
    (lambda: tf.split(X, 2, axis=1), "split got num_or_size_splits=2", "divisor"),
    (lambda: tf.split(X, [1, 1], axis=1), "split got num_or_size_splits=[1, 1]", "add up to 3"),
    (lambda: tf.split(X, 3, axis=1, num=2), "split got num=2", "3 parts"),
    (lambda: tf.unstack(X, num=3), "unstack got num=3", "size 2"),
    (lambda: tf.gather(X, [0], batch_dims=1), "gather got batch_dims=1", "share"),
    (lambda: tf.gather_nd(X, [[0, 0, 0]]), "gather_nd got indices of shape (1, 3)", "at most 2"),
    (lambda: tf.squeeze(X, [0]), "squeeze got axis=[0]", "size 1"),
    (lambda: tf.expand_dims(X), "expand_dims got axis=None", "new axis"),
    (lambda: tf.tile(X, [2]), "tile got multiples=[2]", "one non-negative int per dimension"),
    (lambda: tf.transpose(X, [0, 0]), "transpose got perm=[0, 0]", "permutation"),
    (lambda: tf.where(X > 0, X), "where got only one of x and y", "both"),
    (lambda: tf.pad(X, [[1, 1]]), "pad got paddings", "each of the 2 dimensions"),
    (lambda: tf.pad(X, [[0, 0], [3, 0]], "REFLECT"), "pad got paddings", "at most 2"),
    (lambda: tf.pad(X, [[0, 0], [0, 0]], "WRAP"), "pad got mode='WRAP'", "SYMMETRIC"),
    (lambda: tf.reverse_sequence(X, [1, 2]), "reverse_sequence got seq_axis=None", "time axis"),
    (lambda: tf.reverse_sequence(X, [1], 1), "reverse_sequence got seq_lengths", "one length"),
    (lambda: tf.constant([1, 2, 3], shape=[2]), "constant got shape=[2]", "at most 2"),
    (lambda: tf.constant([1, 2], shape=[4], verify_shape=True), "constant got shape", "shape"),
    (lambda: tf.range(3, 1, 0), "range got delta=0", "non-zero"),
    (lambda: tf.one_hot([1], [2, 3]), "one_hot got depth=[2, 3]", ""),
    (lambda: tf.matmul(jnp.ones(3), X), "matmul got a of shape (3,)", "rank 2"),
    (lambda: tf.matmul(X, X, True, False, True), "transpose_a=True and adjoint_a=True", "only one"),
    (lambda: tf.add_n([X, jnp.ones(3)]), "add_n got inputs of shapes", "same shape"),
    (lambda: tf.add_n([]), "add_n got inputs=[]", "non-empty"),
    (lambda: tf.einsum("ij->ji", X, optimize=True), "einsum got ['optimize']", "only name="),
    (lambda: tf.reduce_sum(X, 1, True, keep_dims=True), "both keepdims= and keep_dims=", ""),
    (lambda: tf.reduce_sum(X, axis=1, reduction_indices=1), "reduction_indices=", "only axis="),
    (lambda: tf.reduce_mean(X, 5), "reduce_mean got axis=5", "[-2, 2)"),
    (lambda: tf.argmax(X, [0, 1]), "argmax got axis=[0, 1]", "one int axis"),
    (lambda: tf.cumsum(X, 3), "cumsum got axis=3", "rank 2"),
    (lambda: tf.global_norm([None]), "global_norm got t_list of only None", "at least one"),
    (lambda: tf.clip_by_global_norm(X, 1.0), "clip_by_global_norm got t_list=", "list"),
    (lambda: tf.sequence_mask([1], [2, 3]), "sequence_mask got maxlen", ""),
    (lambda: tf.as_dtype("string"), "as_dtype got type_value='string'", "integer ids"),
]


@pytest.mark.parametrize(("call", "names", "fix"), CASES, ids=[c[1] for c in CASES])
def test_bad_arguments_name_the_argument_and_the_fix(call, names, fix):
    with pytest.raises(errors.OpArgumentError) as raised:
        call()
    message = str(raised.value)
    assert names in message and fix in message
    assert isinstance(raised.value, ValueError)


def test_what_jit_cannot_compile_says_how_to_write_it():
    cases = [
        (lambda x: tf.where(x > 0), "where got a traced condition", "pass x and y"),
        (lambda x: tf.sequence_mask(x), "maxlen=None with traced lengths", "maxlen="),
        (lambda x: tf.reshape(x, x.astype(jnp.int32)), "reshape got shape=<a traced", "static"),
        (lambda x: tf.range(x[0]), "range got start=", "known when the program is traced"),
    ]
    for fn, names, fix in cases:
        with pytest.raises(errors.OpArgumentError) as raised:
            jax.jit(fn)(jnp.array([2.0, 3.0]))
        assert names in str(raised.value) and fix in str(raised.value)


def test_random_ops_reject_bad_arguments():
    import scopax as sx

    cases = [
        (lambda: tf.random_uniform([2], 0, dtype=tf.int32), "without maxval", "maxval="),
        (lambda: tf.random_uniform([2], dtype=tf.bool), "dtype=bool", "float or an integer"),
        (lambda: tf.random_normal([2], dtype=tf.int32), "dtype=int32", "float dtype"),
        (lambda: tf.random_normal([2], seed=1.5), "seed=1.5", "an int"),  # pyright: ignore[reportArgumentType]
        (lambda: tf.multinomial(jnp.ones(3), 2), "logits of shape (3,)", "[batch, classes]"),
        (lambda: tf.random_shuffle(1.0), "a scalar value", "rank 1"),
    ]
    for fn, names, fix in cases:
        with pytest.raises(errors.OpArgumentError) as raised:
            sx.transform(fn).apply({}, rng=jax.random.key(0))
        assert names in str(raised.value) and fix in str(raised.value), str(raised.value)
