"""Every tensor op of ``scopax.compat.v1`` against TensorFlow's own outputs.

tests/fixtures/tf_ops/ holds a table of cases that scripts/make_tf_ops_fixtures.py ran
through ``tf.compat.v1`` (TF 2.x, v2 behaviour off): the op, its arguments (seeded
random arrays and Python values) and TF's outputs. Each case runs here through
``scopax.compat.v1`` and must give TF's values (to 1e-5), shapes and dtypes (64-bit
dtypes as JAX stores them with x64 off), and every op must have a case.
"""

import json
import pathlib
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scopax.compat.v1 as tf
from scopax import errors

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "tf_ops"
TABLE = json.loads((FIXTURES / "cases.json").read_text())["cases"]
ARRAYS = dict(np.load(FIXTURES / "arrays.npz"))

# Public names with their own tests rather than a TF fixture case: the variable API and
# initializers (test_compat_variables.py), dtypes and namespaces (test_compat_module.py),
# the random ops (checked statistically, test_compat_random.py) and the graph ideas
# that are no-ops here (test_compat_module.py).
NOT_OPS = {
    "AUTO_REUSE", "Variable", "assign", "assign_add", "assign_sub", "get_variable",
    "get_variable_scope", "make_template", "name_scope", "variable_scope", "initializers",
    "constant_initializer", "glorot_normal_initializer", "glorot_uniform_initializer",
    "ones_initializer", "orthogonal_initializer", "random_normal_initializer",
    "random_uniform_initializer", "truncated_normal_initializer",
    "variance_scaling_initializer", "zeros_initializer",
    "as_dtype", "bfloat16", "bool", "float16", "float32", "float64", "int32", "int64",
    "int8", "uint8",
    "multinomial", "random_normal", "random_shuffle", "random_uniform", "truncated_normal",
    "assert_less_equal", "control_dependencies", "device", "group", "no_op",
}  # fmt: skip


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and "$array" in value:
        return jnp.asarray(ARRAYS[value["$array"]])
    if isinstance(value, dict) and "$dtype" in value:
        return tf.as_dtype(value["$dtype"])
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        return {k: _decode(v) for k, v in value.items()}
    return value


def _compare(case_id: str, got: Any, want: Any) -> None:
    if isinstance(want, list):
        assert isinstance(got, list | tuple) and len(got) == len(want), case_id
        for g, w in zip(got, want, strict=True):
            _compare(case_id, g, w)
        return
    if want is None:
        assert got is None, case_id
        return
    expected = ARRAYS[want["$array"]]
    actual = np.asarray(got)
    assert actual.shape == expected.shape, (case_id, actual.shape, expected.shape)
    assert jax.dtypes.canonicalize_dtype(actual.dtype) == jax.dtypes.canonicalize_dtype(
        expected.dtype
    ), (case_id, actual.dtype, expected.dtype)
    if expected.dtype.kind == "f":
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6, err_msg=case_id)
    else:
        np.testing.assert_array_equal(actual, expected, err_msg=case_id)


def _call(case: dict[str, Any], leaves: list[Any]) -> Any:
    args, kwargs = jax.tree.unflatten(case["tree"], leaves)
    return getattr(tf, case["op"])(*args, **kwargs)


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    """Every case's result, computed in one jitted program with the input arrays traced
    (compiling once is much faster than running hundreds of small ops eagerly). A case
    that cannot be traced (its output's shape depends on its values) runs eagerly."""
    prepared = []
    for case in TABLE:
        leaves, tree = jax.tree.flatten((_decode(case["args"]), _decode(case["kwargs"])))
        traced = [i for i, leaf in enumerate(leaves) if isinstance(leaf, jax.Array)]
        prepared.append(dict(case, tree=tree, leaves=leaves, traced=traced))
    eager: dict[str, Any] = {}

    def run_all(arrays: list[list[jax.Array]]) -> dict[str, Any]:
        out = {}
        for case, given in zip(prepared, arrays, strict=True):
            leaves = list(case["leaves"])
            for i, array in zip(case["traced"], given, strict=True):
                leaves[i] = array
            try:
                out[case["id"]] = _call(case, leaves)
            except errors.OpArgumentError:
                eager[case["id"]] = case
        return out

    out = jax.jit(run_all)([[c["leaves"][i] for i in c["traced"]] for c in prepared])
    for case_id, case in eager.items():
        out[case_id] = _call(case, case["leaves"])
    return {"values": out, "eager": set(eager)}


def test_only_value_dependent_shapes_need_eager_runs(results):
    # tf.where(condition) and sequence_mask without maxlen: the values decide the shape.
    assert results["eager"] == {"where_coordinates", "sequence_mask"}


@pytest.mark.parametrize("case", TABLE, ids=[c["id"] for c in TABLE])
def test_op_matches_tensorflow(case, results):
    _compare(case["id"], results["values"][case["id"]], case["output"])


def test_every_op_has_a_tensorflow_case():
    covered = {case["op"] for case in TABLE}
    assert set(tf.__all__) >= NOT_OPS, NOT_OPS - set(tf.__all__)
    missing = set(tf.__all__) - NOT_OPS - covered
    assert not missing, f"ops without a case in scripts/make_tf_ops_fixtures.py: {missing}"


def test_ops_run_eagerly():
    """A sample of cases run op by op, outside jax.jit, as in a notebook."""
    ids = {"gather_batch", "split_sizes_axis1", "reduce_mean_int", "where_rows", "shape"}
    for case in (c for c in TABLE if c["id"] in ids):
        got = getattr(tf, case["op"])(*_decode(case["args"]), **_decode(case["kwargs"]))
        _compare(case["id"], got, case["output"])
