"""Issue 6, item 1: scopax's jitted programs compile to pure JAX's optimized HLO.

The benchmarks under ``benchmarks/`` time these programs; this only compares the
compiled programs (metadata, module and value names made canonical by
``run.canonical_hlo``), so a change that adds an op to scopax's hot path fails here,
while nothing is timed.
"""

import importlib.util
import pathlib
import sys
from typing import Any

import jax.numpy as jnp
import pytest

BENCHMARKS = pathlib.Path(__file__).resolve().parents[1] / "benchmarks"


def _load(stem: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    name = f"_hlo_{stem}"
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{stem}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module


def test_the_tutorial_image_filter(monkeypatch):
    same, ratio = _load("run", monkeypatch).image_filter_hlo(0)
    assert same
    assert ratio != ratio  # nan: rounds=0 timed nothing


def test_an_lstm_under_dynamic_rnn(monkeypatch):
    same, _ = _load("run", monkeypatch).lstm_hlo(0)
    assert same


def test_the_cifar10_training_step(monkeypatch):
    cifar = _load("cifar10_step", monkeypatch)
    steps, states, images, labels = cifar.setup(8)
    hlo = cifar.optimized_hlo(steps, states, images, labels)
    assert hlo["scopax"] == hlo["pure"]


def test_the_attention_seq2seq_training_step(monkeypatch):
    seq2seq = _load("seq2seq_step", monkeypatch)
    _, steps, states, batch = seq2seq.setup()
    hlo = seq2seq.optimized_hlo(steps, states, batch)
    assert hlo["scopax"] == hlo["pure JAX"]


def test_the_comparison_tells_different_programs_apart(monkeypatch):
    run = _load("run", monkeypatch)
    x = jnp.ones((4, 4))
    assert run.compare_jitted(lambda p, x: x * 2, {}, lambda p, x: x * 2, {}, x, 0)[0]
    assert not run.compare_jitted(lambda p, x: x * 2, {}, lambda p, x: x * 3, {}, x, 0)[0]
    assert not run.compare_jitted(lambda p, x: x * 2, {}, lambda p, x: x + 2, {}, x, 0)[0]
