"""examples/seq2seq/train.py: it trains, evaluates and decodes (a smoke run of a few
steps of a tiny model), and both of its models keep TF 1.15's variable names, pinned in
tests/nn/golden/seq2seq_example_*.txt (``SCOPAX_REGEN_GOLDEN=1`` rewrites them)."""

import importlib.util
import os
import re
import sys
from pathlib import Path
from types import ModuleType

import jax
import numpy as np
import pytest

import scopax as sx

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "nn" / "golden"
REGEN = os.environ.get("SCOPAX_REGEN_GOLDEN") == "1"
SMOKE = ["--steps", "2", "--batch", "4", "--hidden", "4", "--embedding", "3"]
SMOKE += ["--min-len", "1", "--max-len", "2", "--eval-every", "1", "--eval-size", "8"]


@pytest.fixture(scope="module")
def train() -> ModuleType:
    path = ROOT / "examples" / "seq2seq" / "train.py"
    spec = importlib.util.spec_from_file_location("scopax_examples_seq2seq_train", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def _default_rank_promotion():
    with jax.numpy_rank_promotion("allow"):  # JAX's default: the example is user code.
        yield


@pytest.mark.parametrize("kind", ["attention", "tied"])
def test_example_trains_evaluates_and_decodes_greedily(train, kind, capsys):
    assert train.main([*SMOKE, "--model", kind, "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert re.search(rf"^{kind} model: [\d,]+ parameters$", out, re.M)
    assert len(re.findall(r"^step +\d+ +loss [\d.]+ +greedy sequence accuracy [\d.]+%$", out, re.M))
    assert re.search(r"^final greedy sequence accuracy: [\d.]+% \(\d+ s\)$", out, re.M)
    demo = re.findall(r"^ +(\d+) -> (\S*) +\((ok|wrong)\)$", out, re.M)
    assert len(demo) == 5
    assert all((mark == "ok") == (answer == source[::-1]) for source, answer, mark in demo)


def test_batches_hold_reversals_ended_by_eos(train):
    source, decoder_inputs, targets, weights = train.make_batch(np.random.RandomState(0), 16, 5, 8)
    assert source.shape == (8, 16) and targets.shape == decoder_inputs.shape == (9, 16)
    for b in range(16):
        n = int(weights[:, b].sum()) - 1  # the string's length; EOS has weight 1 too
        assert 5 <= n <= 8
        np.testing.assert_array_equal(targets[:n, b], source[:n, b][::-1])
        assert targets[n, b] == train.EOS and (source[n:, b] == train.PAD).all()
        np.testing.assert_array_equal(decoder_inputs[1:, b], targets[:-1, b])
    assert (decoder_inputs[0] == train.GO).all()


@pytest.mark.parametrize("kind", ["attention", "tied"])
def test_example_models_golden_names(train, kind):
    args = train.parse_args(["--model", kind])
    model = train.build_model(kind, args.hidden, args.embedding)
    source, decoder_inputs, _, _ = train.make_batch(
        np.random.RandomState(0), args.batch, args.min_len, args.max_len
    )
    shapes = jax.eval_shape(model.init, jax.random.key(0), source, decoder_inputs, False)
    text = "".join(
        f"{name} [{','.join(map(str, x.shape))}] {np.dtype(x.dtype).name}\n"
        for name, x in sorted(sx.flatten(shapes).items())
    )
    path = GOLDEN / f"seq2seq_example_{kind}.txt"
    if REGEN:
        path.write_text(text)
    assert path.exists(), f"No golden file {path}; run with SCOPAX_REGEN_GOLDEN=1 to write it."
    assert text == path.read_text(), f"The variables of the {kind} example changed:\n{text}"


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--eval-every", "0"),  # Was a ZeroDivisionError after the first step.
        ("--steps", "-5"),
        ("--batch", "two"),
        ("--hidden", "0"),
        ("--min-len", "-1"),
        ("--lr", "nan"),
        ("--seed", "-1"),
        ("--seed", str(2**32)),
        ("--eval-size", "1.5"),
    ],
)
def test_bad_numbers_are_argparse_errors_naming_the_flag(train, capsys, flag, value):
    with pytest.raises(SystemExit) as info:
        train.parse_args([flag, value])
    assert info.value.code == 2
    assert f"error: argument {flag}: must be " in capsys.readouterr().err


def test_min_len_above_max_len_is_an_argparse_error(train, capsys):
    with pytest.raises(SystemExit):
        train.parse_args(["--min-len", "9", "--max-len", "8"])
    assert "error: --min-len 9 exceeds --max-len 8" in capsys.readouterr().err
