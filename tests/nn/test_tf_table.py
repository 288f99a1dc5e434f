"""The table of TF cases (tests/fixtures/tf_layers/table.npz, written by
scripts/make_tf_fixtures.py): each case calls a scopax function with the arguments TF1's
function of the same path got, and must give TF's variable names, outputs and updated
moving statistics to 1e-5. Every public name of scopax.nn, scopax.layers,
scopax.contrib.* and scopax.losses needs a case (or a fixture of tests/fixtures/tf_rnn,
or a stated reason below)."""

from __future__ import annotations

import functools
import json
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from nn_testing import FIXTURES, Fixture, build_cell, fixtures

import scopax as sx

TABLE = Fixture(FIXTURES / "tf_layers" / "table.npz")
CASES = {case["name"]: case for case in TABLE.spec["cases"]}
MODULES = (
    "nn",
    "nn.rnn_cell",
    "layers",
    "contrib.layers",
    "contrib.rnn",
    "contrib.seq2seq",
    "contrib.legacy_seq2seq",
    "losses",
)
# Public names tested elsewhere, and why not here.
NOT_IN_TABLE = {
    "nn.rnn_cell.RNNCell": "the abstract base class; every cell of tf_rnn subclasses it",
    "contrib.rnn.RNNCell": "the same class as nn.rnn_cell.RNNCell",
    "losses.get_total_loss": "raises GraphOnlyError: scopax has no LOSSES collection",
}


def api(path: str) -> Any:
    return functools.reduce(getattr, path.split("."), sx)


def resolve(value: Any, inputs: dict[str, Any]) -> Any:
    """A case's argument as a scopax value (see the script for the ``$`` forms)."""
    if isinstance(value, list):
        return [resolve(v, inputs) for v in value]
    if not isinstance(value, dict):
        return value
    if "$in" in value:
        return inputs[value["$in"]]
    if "$fn" in value:
        return api(value["$fn"])
    if "$l2" in value:
        return lambda w, scale=value["$l2"]: scale * sx.nn.l2_loss(w)
    if "$cell" in value:
        return build_cell(value["$cell"])
    if "$dtype" in value:
        return jnp.dtype(value["$dtype"])
    if "$seq2seq" in value:  # seq2seq(encoder_inputs, decoder_inputs) for model_with_buckets
        fn = api(f"contrib.legacy_seq2seq.{value['$seq2seq']['fn']}")
        spec = value["$seq2seq"]["args"]
        return lambda enc, dec: fn(enc, dec, *resolve(spec, inputs))  # fresh cells, as TF
    raise ValueError(f"unknown argument form {value}")


def model(case: dict[str, Any]) -> sx.TransformedWithState:
    def call(spec: dict[str, Any], inputs: dict[str, Any]) -> Any:
        kwargs = {k: resolve(v, inputs) for k, v in spec["kwargs"].items()}
        return api(spec["api"])(*resolve(spec["args"], inputs), **kwargs)

    def run(inputs: dict[str, Any]) -> Any:
        for setup in case.get("setup", []):
            call(setup, inputs)
        return call(case, inputs)

    return sx.transform_with_state(run)


def close(ours: Any, theirs: np.ndarray, what: str) -> None:
    ours = np.asarray(ours)
    assert ours.shape == theirs.shape, what
    if np.issubdtype(theirs.dtype, np.floating):
        np.testing.assert_allclose(ours, theirs, atol=1e-5, rtol=1e-5, err_msg=what)
    else:
        np.testing.assert_array_equal(ours, theirs, err_msg=what)


@pytest.mark.parametrize("name", sorted(CASES))
def test_case_equals_tf(name):
    case = CASES[name]
    data = TABLE.group(name)
    inputs = {k: jnp.asarray(data[f"inputs/{k}"]) for k in case["inputs"]}
    tf_vars = {k[len("variables/") :]: v for k, v in data.items() if k.startswith("variables/")}
    updated = {k[len("updated/") :]: v for k, v in data.items() if k.startswith("updated/")}
    transformed = model(case)
    params, state = jax.eval_shape(transformed.init, jax.random.key(0), inputs)
    trainable, moving = sx.flatten(params), sx.flatten(state)
    assert sorted([*trainable, *moving]) == sorted(tf_vars), "TF's variable names"
    params = sx.unflatten({k: tf_vars[k] for k in trainable})
    state = sx.unflatten({k: tf_vars[k] for k in moving})
    out, new_state = transformed.apply(params, state, inputs, rng=jax.random.key(1))
    expected = [data[f"outputs/{i}"] for i in range(len(TABLE.group(f"{name}/outputs")))]
    if case["kind"] == "stats":
        y = np.asarray(out)
        kept = y[y != 0]
        dropped, tf_dropped = float((y == 0).mean()), float(expected[0])
        # 20,000 draws: the two fractions differ by < 0.015 but for a 1-in-10^5 chance.
        assert abs(dropped - tf_dropped) < 0.015, (dropped, tf_dropped)
        np.testing.assert_allclose([kept.max(), kept.min()], expected[1:], rtol=1e-6)
        return
    leaves = jax.tree.leaves(out)
    assert len(leaves) == len(expected), "the outputs' structure"
    for i, (ours, theirs) in enumerate(zip(leaves, expected, strict=True)):
        close(ours, theirs, f"output {i}")
    for var, value in sx.flatten(new_state).items():
        close(value, updated.get(var, tf_vars[var]), f"moving statistic {var}")


def _rnn_fixture_names() -> set[str]:
    """The public names the tf_rnn fixtures exercise: their cells and drivers."""
    names = set()

    def cells(spec: dict[str, Any]) -> None:
        names.add(spec["type"])
        if spec["type"] in ("BasicLSTMCell", "LSTMCell") and spec.get("state_is_tuple", True):
            names.add("LSTMStateTuple")
        for inner in [spec.get("cell"), *spec.get("cells", [])]:
            if inner:
                cells(inner)

    for path in fixtures("tf_rnn"):
        with np.load(path) as data:
            spec = json.loads(str(data["spec"]))
        cells(spec["cell"])
        names.add(f"{spec['driver']}_rnn")
    found = {f"nn.rnn_cell.{n}" for n in names} | {f"contrib.rnn.{n}" for n in names}
    return found | {f"nn.{n}" for n in names if n.endswith("_rnn")}


def test_every_public_name_has_a_tf_case():
    public = set()
    for module in MODULES:
        for name in api(module).__all__:
            if not isinstance(getattr(api(module), name), type(sx)):  # not a submodule
                public.add(f"{module}.{name}")
    covered = {case["api"] for case in CASES.values()} | _rnn_fixture_names()
    covered |= {name for case in CASES.values() for name in case.get("covers", [])}
    missing = sorted(public - covered - set(NOT_IN_TABLE))
    assert not missing, (
        f"public names without a TF case: {missing}; add cases to _table() in "
        "scripts/make_tf_fixtures.py and rerun it"
    )
    stale = sorted(set(NOT_IN_TABLE) - public) + sorted(set(NOT_IN_TABLE) & covered)
    assert not stale, f"NOT_IN_TABLE lists names that are gone or covered: {stale}"


def test_the_traps_have_cases():
    """The names whose meaning differs between TF1 namespaces are in the table."""
    bn = CASES["contrib.layers.batch_norm:rank2_training"]
    assert bn["kwargs"] == {}  # contrib's defaults: decay 0.999, no gamma, training
    data = TABLE.group(bn["name"])
    x, old = data["inputs/x"], data["variables/BatchNorm/moving_variance"]
    n = x.shape[0]
    bessel = old - (old - x.var(0) * n / (n - 1)) * (1 - 0.999)
    np.testing.assert_allclose(data["updated/BatchNorm/moving_variance"], bessel, rtol=1e-5)
    assert CASES["nn.dropout:keep_prob"]["args"][1] == 0.9  # keep_prob, positionally
