"""Helpers shared by the scopax.nn tests: the TF fixtures and the cells they describe."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import scopax as sx
from scopax import nn
from scopax.contrib import rnn as contrib_rnn

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


class Fixture:
    """One ``.npz`` written by scripts/make_tf_fixtures.py."""

    def __init__(self, path: Path):
        with np.load(path) as data:
            self.arrays = {k: data[k] for k in data.files}
        self.name = path.stem
        self.spec: dict[str, Any] = json.loads(str(self.arrays.pop("spec")))

    def __getitem__(self, key: str) -> np.ndarray:
        return self.arrays[key]

    def group(self, prefix: str) -> dict[str, np.ndarray]:
        """The arrays named ``<prefix>/...``, keyed by the rest of the name."""
        start = len(prefix) + 1
        return {k[start:]: v for k, v in self.arrays.items() if k.startswith(prefix + "/")}

    def leaves(self, prefix: str) -> list[np.ndarray]:
        group = self.group(prefix)
        return [group[str(i)] for i in range(len(group))]

    @property
    def variables(self) -> dict[str, np.ndarray]:
        return self.group("variables")


def fixtures(kind: str) -> list[Path]:
    return sorted((FIXTURES / kind).glob("*.npz"))


def build_cell(spec: dict[str, Any]) -> Any:
    """The scopax cell for a fixture's cell spec, the way the script builds TF's."""
    kwargs = dict(spec)
    kind = kwargs.pop("type")
    if "cell" in kwargs:
        kwargs["cell"] = build_cell(kwargs["cell"])
    if "cells" in kwargs:
        kwargs["cells"] = [build_cell(c) for c in kwargs["cells"]]
    # contrib.rnn has every cell: tf.nn.rnn_cell's and contrib's own wrappers.
    return getattr(contrib_rnn, kind)(**kwargs)


def rnn_model(spec: dict[str, Any], driver: str | None = None) -> sx.Transformed:
    """``f(inputs, sequence_length, initial_state) -> (outputs, state)`` for a spec; the
    outputs time-major when the inputs are. ``driver`` overrides the spec's driver."""
    driver = driver or spec["driver"]
    time_major = spec["driver"] == "static" or spec["time_major"]

    def run(inputs: Any, sequence_length: Any, initial_state: Any) -> Any:
        cell = build_cell(spec["cell"])
        common = {"initial_state": initial_state, "dtype": jnp.float32, "scope": spec.get("scope")}
        if driver == "static":
            steps = inputs if time_major else jnp.swapaxes(inputs, 0, 1)
            outputs, state = nn.static_rnn(
                cell, list(steps), sequence_length=sequence_length, **common
            )
            outputs = jnp.stack(outputs)
            return (outputs if time_major else jnp.swapaxes(outputs, 0, 1)), state
        return nn.dynamic_rnn(
            cell, inputs, sequence_length=sequence_length, time_major=time_major, **common
        )

    return sx.transform(run)


def rnn_args(fixture: Fixture) -> tuple[Any, Any, Any]:
    """The inputs, sequence_length and initial_state of an RNN fixture."""
    initial = None
    leaves = fixture.leaves("initial_state")
    if leaves:
        zero = build_cell(fixture.spec["cell"]).zero_state(fixture.spec["batch"], jnp.float32)
        initial = jax.tree.unflatten(jax.tree.structure(zero), [jnp.asarray(x) for x in leaves])
    return fixture["inputs"], fixture.arrays.get("sequence_length"), initial


def describe(tree: Any) -> list[str]:
    """``name [shape] dtype`` for every variable of a parameter (or state) tree."""
    return [
        f"{name} [{','.join(map(str, value.shape))}] {np.dtype(value.dtype).name}"
        for name, value in sorted(sx.flatten(tree).items())
    ]


def random_params(init: Any, *args: Any, seed: int = 0) -> Any:
    """Random values for the tree(s) ``init(rng, *args)`` returns, made with NumPy from
    ``jax.eval_shape``: no initializer runs, so a test compiles only what it applies."""
    rng = np.random.RandomState(seed)
    shapes = jax.eval_shape(init, jax.random.key(0), *args)
    return jax.tree.map(lambda s: jnp.asarray((0.5 * rng.randn(*s.shape)).astype(s.dtype)), shapes)
