"""Regenerates tests/fixtures/tf_ops/ with real TensorFlow: TF1's outputs of each op case.

TensorFlow is never a dependency of scopax: only this script needs it, in a throwaway venv:

    python3.11 -m venv /tmp/tfenv && /tmp/tfenv/bin/pip install tensorflow-cpu tf-keras
    TF_USE_LEGACY_KERAS=1 /tmp/tfenv/bin/python scripts/make_tf_ops_fixtures.py

``CASES`` is the table: a case id, the ``tf.compat.v1`` op, its positional and keyword
arguments. Array arguments are seeded random NumPy arrays; everything else is plain
JSON. The script runs every op in one TF1 graph (v2 behaviour off) and writes

- ``cases.json``: each case with its arguments, arrays and dtypes replaced by
  ``{"$array": key}`` and ``{"$dtype": name}``, and its output's structure likewise;
- ``arrays.npz``: the input arrays and TF's outputs, by key.

tests/test_compat_ops.py runs each case through ``scopax.compat.v1`` and compares.
"""

# pyright: basic, reportMissingImports=false, reportMissingModuleSource=false

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "tf_ops"
_rng = np.random.default_rng(20260101)


class D:
    """A dtype argument, by TF name."""

    def __init__(self, name: str):
        self.name = name


def F(*shape: int, low: float = -2.0, high: float = 2.0) -> np.ndarray:
    return _rng.uniform(low, high, shape).astype(np.float32)


def P(*shape: int) -> np.ndarray:  # positive floats, for sqrt, log, ...
    return _rng.uniform(0.1, 3.0, shape).astype(np.float32)


def I(*shape: int, low: int = -5, high: int = 6) -> np.ndarray:  # noqa: E743
    return _rng.integers(low, high, shape).astype(np.int32)


def B(*shape: int) -> np.ndarray:
    return _rng.random(shape) < 0.5


X = F(2, 3, 4)
M = F(3, 4)
V = F(5)

# (id, op, args, kwargs)
CASES: list[tuple[str, str, list[Any], dict[str, Any]]] = [
    # shapes and indexing
    ("reshape", "reshape", [X, [4, -1]], {}),
    ("reshape_flat", "reshape", [X, [-1]], {}),
    ("concat", "concat", [[F(2, 3), F(2, 1)]], {"axis": 1}),
    ("concat_neg_axis", "concat", [[F(2, 3), F(4, 3)], -2], {}),
    ("concat_one_tensor", "concat", [M, 0], {}),
    ("split_int", "split", [F(6, 2), 3], {}),
    ("split_sizes_axis1", "split", [F(2, 7), [2, -1, 1]], {"axis": 1}),
    ("stack", "stack", [[V, F(5), F(5)]], {"axis": 1}),
    ("stack_neg", "stack", [[M, F(3, 4)]], {"axis": -1}),
    ("unstack", "unstack", [X], {"axis": 2}),
    ("unstack_num", "unstack", [M], {"num": 3}),
    ("gather", "gather", [M, I(2, 2, low=0, high=3)], {}),
    ("gather_axis", "gather", [X, [3, 0, 3]], {"axis": -1}),
    ("gather_batch", "gather", [X, I(2, 5, low=0, high=3)], {"axis": 1, "batch_dims": 1}),
    ("gather_nd", "gather_nd", [X, [[1, 2], [0, 0], [1, 1]]], {}),
    ("gather_nd_full", "gather_nd", [M, [[[2, 3]], [[0, 1]]]], {}),
    ("gather_nd_batch", "gather_nd", [X, [[[1], [0]], [[2], [2]]]], {"batch_dims": 1}),
    ("one_hot", "one_hot", [I(4, low=-1, high=5), 4], {}),
    (
        "one_hot_axis_values",
        "one_hot",
        [I(2, 3, low=0, high=3), 3],
        {"on_value": 5, "off_value": -1, "axis": 0},
    ),
    ("one_hot_dtype", "one_hot", [[0, 2], 3], {"dtype": D("int32"), "axis": 1}),
    ("cast_truncates", "cast", [F(6, low=-3, high=3), D("int32")], {}),
    ("cast_to_bool", "cast", [[0.0, 1.5, -2.0], D("bool")], {}),
    ("to_float", "to_float", [I(5)], {}),
    ("to_int32", "to_int32", [F(5, low=-3, high=3)], {}),
    ("squeeze_all", "squeeze", [F(1, 3, 1, 2)], {}),
    ("squeeze_axis", "squeeze", [F(1, 3, 1, 2)], {"axis": [2]}),
    ("squeeze_dims", "squeeze", [F(1, 3, 1)], {"squeeze_dims": [0]}),
    ("expand_dims", "expand_dims", [M, 1], {}),
    ("expand_dims_dim", "expand_dims", [M], {"dim": -1}),
    ("tile", "tile", [F(2, 3), [2, 3]], {}),
    ("transpose", "transpose", [X], {}),
    ("transpose_perm", "transpose", [X, [1, 0, 2]], {}),
    ("where_select", "where", [B(3, 4), M, F(3, 4)], {}),
    ("where_rows", "where", [B(3), M, F(3, 4)], {}),
    ("where_coordinates", "where", [B(3, 4)], {}),
    # creation, shapes, casts
    ("range_int", "range", [5], {}),
    ("range_start_delta", "range", [2, 11, 3], {}),
    ("range_float", "range", [1, 2.5, 0.5], {}),
    ("range_negative", "range", [5, 0, -2], {}),
    ("range_dtype", "range", [4], {"dtype": D("float32")}),
    ("fill", "fill", [[2, 3], 1.5], {}),
    ("fill_int", "fill", [[3], 7], {}),
    ("zeros", "zeros", [[2, 3]], {}),
    ("zeros_int", "zeros", [[4], D("int32")], {}),
    ("ones", "ones", [[3, 1]], {}),
    ("ones_bool", "ones", [[2], D("bool")], {}),
    ("zeros_like", "zeros_like", [I(2, 3)], {}),
    ("zeros_like_dtype", "zeros_like", [I(2, 3)], {"dtype": D("float32")}),
    ("ones_like", "ones_like", [M], {}),
    ("constant_float", "constant", [[[1.5, 2.0], [3.0, 4.0]]], {}),
    ("constant_int", "constant", [[1, 2, 3]], {}),
    ("constant_dtype", "constant", [[1, 2]], {"dtype": D("float32")}),
    ("constant_fill_shape", "constant", [3.0], {"shape": [2, 2]}),
    ("constant_pads_last", "constant", [[1, 2, 3]], {"shape": [2, 3]}),
    ("constant_reshape", "constant", [[1, 2, 3, 4, 5, 6]], {"shape": [3, 2]}),
    ("shape", "shape", [X], {}),
    ("shape_int64", "shape", [M], {"out_type": D("int64")}),
    ("rank", "rank", [X], {}),
    ("size", "size", [X], {}),
    ("identity", "identity", [M], {}),
    ("stop_gradient", "stop_gradient", [M], {}),
    # padding and sequences
    ("pad_constant", "pad", [M, [[1, 0], [2, 1]]], {}),
    ("pad_constant_value", "pad", [I(2, 2), [[1, 1], [0, 2]]], {"constant_values": 9}),
    ("pad_reflect", "pad", [M, [[2, 1], [3, 3]], "REFLECT"], {}),
    ("pad_symmetric", "pad", [M, [[3, 0], [1, 4]]], {"mode": "symmetric"}),
    ("reverse", "reverse", [X, [0, 2]], {}),
    ("reverse_neg", "reverse", [M, [-1]], {}),
    ("reverse_sequence", "reverse_sequence", [X, [2, 0]], {"seq_axis": 1, "batch_axis": 0}),
    (
        "reverse_sequence_time_major",
        "reverse_sequence",
        [F(4, 3, 2), [4, 1, 3]],
        {"seq_dim": 0, "batch_dim": 1},
    ),
    ("sequence_mask", "sequence_mask", [[1, 3, 0]], {}),
    ("sequence_mask_maxlen", "sequence_mask", [[[1, 3], [2, 4]], 5], {}),
    ("sequence_mask_dtype", "sequence_mask", [[2, 1], 3, D("float32")], {}),
    # math
    ("add", "add", [M, F(3, 4)], {}),
    ("add_broadcast", "add", [M, F(4)], {}),
    ("subtract", "subtract", [M, 1.5], {}),
    ("multiply", "multiply", [I(3, 4), I(3, 4)], {}),
    ("divide", "divide", [M, P(3, 4)], {}),
    ("divide_ints", "divide", [I(5), [1, 2, 3, 4, 5]], {}),
    ("truediv", "truediv", [V, P(5)], {}),
    ("floordiv_float", "floordiv", [F(6, low=-5, high=5), P(6)], {}),
    ("floordiv_int", "floordiv", [I(6), [2, 3, -2, -3, 4, 5]], {}),
    ("mod_int", "mod", [I(6), [2, 3, -2, -3, 4, 5]], {}),
    ("mod_float", "mod", [F(6, low=-5, high=5), [1.5, 2.0, -1.5, 0.7, 3.0, 1.0]], {}),
    ("pow", "pow", [P(5), F(5)], {}),
    ("pow_int", "pow", [I(4, low=-3, high=4), 3], {}),
    ("sqrt", "sqrt", [P(6)], {}),
    ("rsqrt", "rsqrt", [P(6)], {}),
    ("exp", "exp", [V], {}),
    ("log", "log", [P(6)], {}),
    ("log1p", "log1p", [P(6)], {}),
    ("square", "square", [I(5)], {}),
    ("abs", "abs", [V], {}),
    ("abs_int", "abs", [I(5)], {}),
    ("negative", "negative", [V], {}),
    ("sign", "sign", [[-2.0, 0.0, 3.5]], {}),
    ("sign_int", "sign", [I(6)], {}),
    ("tanh", "tanh", [V], {}),
    ("sigmoid", "sigmoid", [F(6, low=-8, high=8)], {}),
    ("maximum", "maximum", [M, F(3, 4)], {}),
    ("minimum", "minimum", [I(5), 0], {}),
    ("floor", "floor", [F(6, low=-3, high=3)], {}),
    ("ceil", "ceil", [F(6, low=-3, high=3)], {}),
    ("round_half_even", "round", [[-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.3, 1.7]], {}),
    ("erf", "erf", [V], {}),
    ("reciprocal", "reciprocal", [P(5)], {}),
    ("add_n", "add_n", [[M, F(3, 4), F(3, 4)]], {}),
    ("add_n_one", "add_n", [[V]], {}),
    ("squared_difference", "squared_difference", [M, F(3, 4)], {}),
    ("equal", "equal", [I(6, low=0, high=3), I(6, low=0, high=3)], {}),
    ("not_equal", "not_equal", [I(6, low=0, high=3), 1], {}),
    ("less", "less", [V, F(5)], {}),
    ("less_equal", "less_equal", [I(6, low=0, high=3), I(6, low=0, high=3)], {}),
    ("greater", "greater", [V, 0.0], {}),
    ("greater_equal", "greater_equal", [I(6, low=0, high=3), I(6, low=0, high=3)], {}),
    ("logical_and", "logical_and", [B(6), B(6)], {}),
    ("logical_or", "logical_or", [B(6), B(6)], {}),
    ("logical_not", "logical_not", [B(6)], {}),
    ("matmul", "matmul", [M, F(4, 2)], {}),
    ("matmul_transpose", "matmul", [F(4, 3), F(2, 4)], {"transpose_a": True, "transpose_b": True}),
    ("matmul_adjoint", "matmul", [M, F(5, 4)], {"adjoint_b": True}),
    ("matmul_batch", "matmul", [F(2, 3, 4), F(2, 4, 5)], {}),
    ("einsum", "einsum", ["bij,jk->bik", X, F(4, 2)], {}),
    ("einsum_trace", "einsum", ["ii", F(3, 3)], {}),
    # reductions
    ("reduce_sum", "reduce_sum", [X], {}),
    ("reduce_sum_axis", "reduce_sum", [X, [0, 2]], {}),
    ("reduce_sum_keepdims", "reduce_sum", [X, 1], {"keepdims": True}),
    ("reduce_sum_keep_dims", "reduce_sum", [X], {"axis": -1, "keep_dims": True}),
    ("reduce_sum_reduction_indices", "reduce_sum", [X], {"reduction_indices": [1]}),
    ("reduce_sum_int8", "reduce_sum", [I(4, 3).astype(np.int8)], {"axis": 0}),
    ("reduce_mean", "reduce_mean", [X, 1], {}),
    ("reduce_mean_int", "reduce_mean", [I(3, 4)], {"axis": 1}),
    ("reduce_max", "reduce_max", [X, [1, 2]], {}),
    ("reduce_min", "reduce_min", [I(3, 4)], {"axis": 0, "keepdims": True}),
    ("reduce_prod", "reduce_prod", [F(3, 4, low=0.5, high=1.5), -1], {}),
    ("reduce_prod_int", "reduce_prod", [I(2, 3, low=1, high=4)], {}),
    ("reduce_any", "reduce_any", [B(3, 4), 1], {}),
    ("reduce_all", "reduce_all", [B(3, 4)], {"axis": 0}),
    ("reduce_logsumexp", "reduce_logsumexp", [X, -1], {}),
    ("reduce_logsumexp_all", "reduce_logsumexp", [F(3, 4, low=50, high=90)], {"keepdims": True}),
    ("argmax", "argmax", [M], {}),
    ("argmax_axis", "argmax", [X, 2], {}),
    ("argmax_int32", "argmax", [M], {"axis": 1, "output_type": D("int32")}),
    ("argmin", "argmin", [M], {}),
    ("argmin_dimension", "argmin", [X], {"dimension": 1}),
    ("cumsum", "cumsum", [X], {}),
    ("cumsum_axis", "cumsum", [I(3, 4), 1], {}),
    ("cumsum_exclusive", "cumsum", [M], {"axis": 1, "exclusive": True}),
    ("cumsum_reverse", "cumsum", [M], {"reverse": True}),
    ("cumsum_exclusive_reverse", "cumsum", [V], {"exclusive": True, "reverse": True}),
    # clipping
    ("clip_by_value", "clip_by_value", [M, -0.5, 0.7], {}),
    (
        "clip_by_value_arrays",
        "clip_by_value",
        [M, F(3, 4, low=-1, high=0), F(3, 4, low=0, high=1)],
        {},
    ),
    ("clip_by_norm", "clip_by_norm", [M, 1.0], {}),
    ("clip_by_norm_not_clipped", "clip_by_norm", [M, 100.0], {}),
    ("clip_by_norm_axes", "clip_by_norm", [M, 1.0], {"axes": [1]}),
    ("clip_by_norm_zero", "clip_by_norm", [np.zeros((2, 2), np.float32), 1.0], {}),
    ("global_norm", "global_norm", [[M, V, F(2, 2)]], {}),
    ("clip_by_global_norm", "clip_by_global_norm", [[M, V], 2.0], {}),
    ("clip_by_global_norm_none", "clip_by_global_norm", [[M, None, V], 100.0], {}),
    (
        "clip_by_global_norm_use_norm",
        "clip_by_global_norm",
        [[M, V], 1.0],
        {"use_norm": np.float32(4.0)},
    ),
    (
        "clip_by_global_norm_inf",
        "clip_by_global_norm",
        [[M], 1.0],
        {"use_norm": np.float32(np.inf)},
    ),
    ("slice", "slice", [F(3, 4, 5), [1, 0, 2], [2, 3, 2]], {}),
    ("slice_size_minus1", "slice", [F(64, 6), [0, 0], [7, -1]], {}),
]


def _encode(value: Any, arrays: dict[str, np.ndarray], prefix: str) -> Any:
    """JSON for ``value``: arrays stored under fresh keys, dtypes by name."""
    if isinstance(value, np.ndarray | np.generic):
        key = f"{prefix}{len([k for k in arrays if k.startswith(prefix)])}"
        arrays[key] = np.asarray(value)
        return {"$array": key}
    if isinstance(value, D):
        return {"$dtype": value.name}
    if isinstance(value, list | tuple):
        return [_encode(v, arrays, prefix) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v, arrays, prefix) for k, v in value.items()}
    return value


def _tensors(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [t for v in value for t in _tensors(v)]
    return [value]


def _fill(value: Any, results: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return [_fill(v, results) for v in value]
    return next(results)


def main() -> None:
    import tensorflow as tf

    v1 = tf.compat.v1
    v1.disable_v2_behavior()

    def to_tf(value: Any) -> Any:
        if isinstance(value, np.ndarray | np.generic):
            return v1.constant(value)
        if isinstance(value, D):
            return tf.as_dtype(value.name)
        if isinstance(value, list):
            # Lists of arrays stay lists (concat's values); plain lists stay Python lists.
            return [to_tf(v) for v in value]
        if isinstance(value, dict):
            return {k: to_tf(v) for k, v in value.items()}
        return value

    arrays: dict[str, np.ndarray] = {}
    cases = []
    fetches = []
    for case_id, op, args, kwargs in CASES:
        out = getattr(v1, op)(*to_tf(args), **to_tf(kwargs))
        fetches.append(out)
        cases.append(
            {
                "id": case_id,
                "op": op,
                "args": _encode(args, arrays, f"{case_id}/in"),
                "kwargs": _encode(kwargs, arrays, f"{case_id}/in"),
            }
        )
    # Session.run fetches no None (clip_by_global_norm keeps None entries): fetch the rest.
    with v1.Session() as sess:
        results = _fill(fetches, iter(sess.run(_tensors(fetches))))
    for case, result in zip(cases, results, strict=True):
        case["output"] = _encode(result, arrays, f"{case['id']}/out")
    OUT.mkdir(parents=True, exist_ok=True)
    # One case per line: a regenerated table diffs case by case.
    lines = ",\n".join(f"  {json.dumps(case)}" for case in cases)
    text = f'{{"tensorflow": "{tf.__version__}", "cases": [\n{lines}\n]}}\n'
    (OUT / "cases.json").write_text(text)
    np.savez_compressed(OUT / "arrays.npz", **arrays)  # pyright: ignore[reportArgumentType]
    print(f"{len(cases)} cases, {len(arrays)} arrays -> {OUT}")


if __name__ == "__main__":
    main()
