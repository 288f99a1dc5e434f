"""The PTB example (examples/ptb/): it trains (perplexity falls), saves, exports a TF1
checkpoint under the tutorial's names, reads the real files as TF's reader does, and its
models give TF's numbers on the checkpoint TF saved for the same graph
(tests/fixtures/tf_reuse/, scripts/make_tf_reuse_fixtures.py)."""

from __future__ import annotations

import contextlib
import dataclasses
import doctest
import io
import json
import re
import sys
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scopax as sx
from scopax.train import GradientDescentOptimizer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # The repository root.
from examples.ptb import data, model, train

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "tf_reuse"
TF_META = json.loads((FIXTURES / "ptb.json").read_text())
# 1000 training words: 2 epochs of 49 chunks of [4, 5] words, the second at half the rate.
# Two layers with the tutorial's init scale of 0.1 need thousands of steps to leave the
# unigram plateau; 0.5 leaves it within the first epoch.
TINY = ["--quick", "--hidden-size", "16", "--num-steps", "5", "--batch-size", "4"]
TINY += ["--max-epoch", "1", "--max-max-epoch", "2", "--init-scale", "0.5"]
TINY += ["--learning-rate", "1", "--synthetic-vocab", "12", "--synthetic-words", "1000"]


@pytest.fixture(autouse=True)
def _default_rank_promotion():
    with jax.numpy_rank_promotion("allow"):  # JAX's default: the example is user code.
        yield


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[train.Result, str]:
    directory = tmp_path_factory.mktemp("ptb")
    args = train.parse_args([*TINY, "--checkpoint-dir", str(directory)])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = train.run(args)
    return result, out.getvalue()


def test_training_on_the_builtin_corpus_lowers_perplexity(run):
    result, out = run
    assert "data: built-in synthetic corpus" in out  # It says the data is not PTB.
    assert result.global_step == 2 * 49
    first, last = result.train_perplexities
    assert last < 0.7 * first, result.train_perplexities
    assert result.valid_perplexities[1] < result.valid_perplexities[0]
    # Uniform guessing scores the vocabulary's size; the corpus itself about 3.4.
    assert result.test_perplexity < 0.5 * result.config.vocab_size
    epochs = re.findall(r"^Epoch: (\d) Valid Perplexity: [\d.]+$", out, re.M)
    assert epochs == ["1", "2"]
    rates = re.findall(r"^Epoch: \d Learning rate: ([\d.]+)$", out, re.M)
    assert rates == ["1.000", "0.500"]  # lr_decay ** max(epoch + 1 - max_epoch, 0)
    assert re.search(r"^Test Perplexity: [\d.]+$", out, re.M)


def test_sx_save_checkpoint_restores_the_trained_tree(run):
    result, _ = run
    restored = sx.restore(result.checkpoint)
    assert int(restored["global_step"]) == result.global_step and restored["epoch"] == 2
    assert sx.flatten(restored["params"]).keys() == sx.flatten(result.params).keys()
    for name, value in sx.flatten(result.params).items():
        np.testing.assert_array_equal(sx.flatten(restored["params"])[name], value, name)


def test_tf_checkpoint_has_the_tutorials_names_and_the_params(run):
    result, _ = run
    listed = sx.list_tf_checkpoint(result.tf_checkpoint)
    tf_names = {v["name"] for v in TF_META["variables"] if v["trainable"]}
    assert set(listed) == tf_names | {"global_step"}
    assert listed["global_step"] == ((), "int64")
    flat = sx.load_tf_checkpoint(result.tf_checkpoint)
    assert int(flat["global_step"]) == result.global_step
    for name, value in sx.flatten(result.params).items():
        np.testing.assert_array_equal(flat[name], value, name)


def test_model_docstring_runs():
    failed, attempted = doctest.testmod(model, optionflags=doctest.ELLIPSIS)
    assert attempted and not failed


def test_main_reports_missing_ptb_files(tmp_path, capsys):
    (tmp_path / "ptb.train.txt").write_text("a b\n")
    assert train.main(["--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "lacks ptb.valid.txt, ptb.test.txt" in err


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--batch-size", "0"),
        ("--num-steps", "-1"),
        ("--hidden-size", "two"),
        ("--keep-prob", "0"),
        ("--keep-prob", "1.5"),
        ("--learning-rate", "nan"),
        ("--lr-decay", "inf"),
        ("--max-max-epoch", "1.5"),
        ("--synthetic-vocab", "2"),
        ("--seed", "-1"),
    ],
)
def test_bad_numbers_are_argparse_errors_naming_the_flag(capsys, flag, value):
    with pytest.raises(SystemExit) as info:
        train.parse_args([flag, value])
    assert info.value.code == 2
    assert f"error: argument {flag}: must be " in capsys.readouterr().err


def test_flags_override_the_tutorials_small_config():
    args = train.parse_args(["--num-layers", "3", "--keep-prob", "0.5"])
    config = train.make_config(args, 77)
    small = model.CONFIGS["small"]
    assert (config.init_scale, config.learning_rate, config.max_grad_norm) == (0.1, 1.0, 5.0)
    assert (config.num_steps, config.hidden_size, config.batch_size) == (20, 200, 20)
    assert (config.max_epoch, config.max_max_epoch, config.lr_decay) == (4, 13, 0.5)
    assert (small.keep_prob, small.vocab_size) == (1.0, 10000)
    assert (config.num_layers, config.keep_prob, config.vocab_size) == (3, 0.5, 77)


def test_learning_rate_decays_per_epoch_after_max_epoch():
    config = dataclasses.replace(model.CONFIGS["small"], max_epoch=4, lr_decay=0.5)
    rate = train.learning_rate(config, epoch_size=10)
    steps = jnp.array([0, 39, 40, 49, 50, 60, 99])
    np.testing.assert_allclose(jax.vmap(rate)(steps), [1, 1, 0.5, 0.5, 0.25, 0.125, 1 / 64])


# --- The example's models against TF's graph ---------------------------------------------


@pytest.fixture(scope="module")
def tf_run() -> Any:
    return np.load(FIXTURES / "ptb.npz")


@pytest.fixture(scope="module")
def tf_config() -> model.Config:
    c = TF_META["config"]
    fields = {f.name: c[f.name] for f in dataclasses.fields(model.Config) if f.name in c}
    # TF's outputs were fetched with the dropout keep probability fed 1.0.
    fields["keep_prob"] = 1.0
    return model.Config(**fields, max_epoch=1, max_max_epoch=1, lr_decay=1.0)


def test_example_models_give_tfs_costs_on_tfs_checkpoint(tf_run, tf_config):
    valid_net = model.build(tf_config, is_training=False)
    x, y = tf_run["valid_x"], tf_run["valid_y"]
    shapes = jax.eval_shape(
        model.build(tf_config, is_training=True).init,
        jax.random.key(0),
        x[0],
        y[0],
        model.zero_state(tf_config),
    )
    params = sx.restore_from_tf(shapes, FIXTURES / TF_META["checkpoint"])
    total, state = train.make_evaluator(valid_net)(params, x, y, model.zero_state(tf_config))
    want = tf_run["valid_cost0"] + tf_run["valid_cost1"]
    np.testing.assert_allclose(total, want, rtol=1e-5, atol=1e-5)
    for layer, s in enumerate(state):
        np.testing.assert_allclose(s.c, tf_run[f"valid1_c{layer}"], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(s.h, tf_run[f"valid1_h{layer}"], rtol=1e-5, atol=1e-5)

    # The tutorial's train op: one clipped SGD step at the rate TF's graph held.
    optimizer = GradientDescentOptimizer(TF_META["config"]["learning_rate"])
    step = train.make_train_step(
        model.build(tf_config, is_training=True), optimizer, tf_config.max_grad_norm
    )
    new_params, _, cost, _ = step(
        params,
        optimizer.init(params),
        tf_run["train_x"],
        tf_run["train_y"],
        model.zero_state(tf_config),
        jax.random.key(0),
    )
    np.testing.assert_allclose(cost, tf_run["train_cost"], rtol=1e-5, atol=1e-5)
    for name, value in sx.flatten(new_params).items():
        want = tf_run[f"after_step/{name}"]
        np.testing.assert_allclose(value, want, rtol=1e-5, atol=1e-5, err_msg=name)


def test_eval_models_cannot_create_variables(tf_run, tf_config):
    net = model.build(tf_config, is_training=False)
    x = tf_run["test_x"][0]
    with pytest.raises(sx.errors.VariableNotFoundError):
        net.init(jax.random.key(0), x, x, model.zero_state(tf_config, 1))


# --- Data ---------------------------------------------------------------------------------


def test_reader_builds_tfs_vocabulary_from_real_style_files(tmp_path):
    (tmp_path / "ptb.train.txt").write_text(" the cat sat \n the dog sat \n a cat \n")
    (tmp_path / "ptb.valid.txt").write_text(" the bird sat \n")  # "bird" is unknown
    (tmp_path / "ptb.test.txt").write_text(" a dog \n")
    corpus = data.load_ptb(tmp_path)
    # By frequency, ties alphabetical: <eos> 3, cat 2, sat 2, the 2, then a, dog.
    assert corpus.vocabulary == ("<eos>", "cat", "sat", "the", "a", "dog")
    ids = {w: i for i, w in enumerate(corpus.vocabulary)}
    words = ["the", "cat", "sat", "<eos>", "the", "dog", "sat", "<eos>", "a", "cat", "<eos>"]
    np.testing.assert_array_equal(corpus.train, [ids[w] for w in words])
    np.testing.assert_array_equal(corpus.valid, [ids[w] for w in ["the", "sat", "<eos>"]])
    np.testing.assert_array_equal(corpus.test, [ids[w] for w in ["a", "dog", "<eos>"]])
    assert corpus.train.dtype == np.int32 and "Penn Treebank" in corpus.description


def test_reader_refuses_files_without_known_words(tmp_path):
    for name, text in (("train", "a b\n"), ("valid", "c d"), ("test", "a\n")):
        (tmp_path / f"ptb.{name}.txt").write_text(text)
    with pytest.raises(data.DataError, match=r"ptb\.valid\.txt has no words"):
        data.load_ptb(tmp_path)


def test_chunks_cut_the_stream_into_rows_with_targets_one_word_ahead():
    ids = np.arange(23, dtype=np.int32)
    x, y = data.chunks(ids, batch_size=2, num_steps=3)  # rows of 11: 0..10 and 11..21
    assert x.shape == y.shape == (3, 2, 3) == (data.epoch_size(23, 2, 3), 2, 3)
    np.testing.assert_array_equal(x[0], [[0, 1, 2], [11, 12, 13]])
    np.testing.assert_array_equal(x[2], [[6, 7, 8], [17, 18, 19]])
    np.testing.assert_array_equal(y, x + 1)
    with pytest.raises(data.DataError, match="decrease batch_size or num_steps"):
        data.chunks(ids, batch_size=4, num_steps=6)


def test_synthetic_corpus_is_reproducible_and_learnable():
    a, b = data.synthetic(50, 3000, 300, seed=1), data.synthetic(50, 3000, 300, seed=1)
    np.testing.assert_array_equal(a.train, b.train)
    assert a.vocab_size == 50 and a.vocabulary[0] == "<eos>" and len(a.valid) == 300
    assert a.train.min() >= 0 and a.train.max() < 50
    # Within a sentence each word has at most 3 successors: far less than 50.
    pairs = {(p, n) for p, n in zip(a.train[:-1], a.train[1:], strict=True) if p and n}
    successors = [len({n for p, n in pairs if p == w}) for w in range(1, 50)]
    assert max(successors) <= 3
    assert "built-in synthetic corpus" in a.description
