"""Train TF's PTB word language model (``ptb_word_lm.py``) with scopax.

    python examples/ptb/train.py                              # built-in corpus, ~3 min on 2 cores
    python examples/ptb/train.py --data-dir simple-examples/data   # the real PTB
    python examples/ptb/train.py --quick                      # a tiny run, seconds

What the tutorial did, with its hyperparameters (``--model small``, the default: init
scale 0.1, learning rate 1.0, max grad norm 5, 2 layers of 200 units, 20 steps, batch 20,
4 epochs at the full rate of 13, keep probability 1.0, decay 0.5, 10,000 words):

* three models over one set of variables: training (``reuse=None``), validation
  (``reuse=True``) and test (``reuse=True``, ``batch_size=1``, ``num_steps=1``), each
  its own ``sx.transform``, all applied to the training model's tree (``model.py``);
* each chunk starts from the previous chunk's final state, as TF fed it back;
* ``tf.train.GradientDescentOptimizer`` (``scopax.train``) on gradients clipped by their
  global norm, at the rate ``learning_rate * lr_decay ** max(epoch + 1 - max_epoch, 0)``,
  written as a function of the global step (``train.exponential_decay`` in whole
  epochs, counted from the epoch the decay begins);
* perplexity, ``exp(cost / words)``, of each epoch's training and validation text, and of
  the test text at the end;
* ``sx.save`` of the parameters and the step after each epoch, and at the end a TF1
  checkpoint (``sx.save_tf_checkpoint``) of the variables under the tutorial's names and
  the optimizer's state under TF's (``train.slot_variables``: SGD has only
  ``global_step``), which ``tf.train.Saver`` restores.

Without ``--data-dir`` it trains on a built-in synthetic corpus and says so; its vocabulary
sets ``vocab_size``. The evaluation models run over all their chunks in one compiled
``jax.lax.scan``.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

import scopax as sx
import scopax.compat.v1 as tf
from scopax import train

if __package__:
    from . import data as data_lib
    from . import model
else:  # Run as a script: python examples/ptb/train.py
    import data as data_lib
    import model

DEFAULT_CHECKPOINT_DIR = Path(tempfile.gettempdir()) / "scopax_ptb"
# --quick: a model and corpus small enough to train in seconds on two CPU cores.
QUICK = {
    "hidden_size": 32,
    "num_steps": 10,
    "batch_size": 10,
    "max_epoch": 2,
    "max_max_epoch": 3,
    "synthetic_vocab": 100,
    "synthetic_words": 20_000,
}


def _number(kind: Callable[[str], Any], what: str, ok: Callable[[Any], bool]) -> Any:
    """An argparse ``type``: ``kind(text)`` if ``ok`` of it, else argparse's error, which
    names the flag ("argument --batch-size: must be a positive integer, got '0'")."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not ok(value):
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
        return value

    return parse


POSITIVE_INT = _number(int, "a positive integer", lambda n: n > 0)
VOCAB = _number(int, "an integer of 3 or more", lambda n: n >= 3)
SEED = _number(int, f"an integer in 0..{2**32 - 1}", lambda n: 0 <= n < 2**32)
POSITIVE_FLOAT = _number(float, "a positive finite number", lambda x: 0 < x < math.inf)
PROBABILITY = _number(float, "a number in (0, 1]", lambda x: 0 < x <= 1)

# The Config fields that a flag of the same name (with dashes) overrides.
OVERRIDES = {
    "init_scale": POSITIVE_FLOAT,
    "learning_rate": POSITIVE_FLOAT,
    "max_grad_norm": POSITIVE_FLOAT,
    "num_layers": POSITIVE_INT,
    "num_steps": POSITIVE_INT,
    "hidden_size": POSITIVE_INT,
    "max_epoch": POSITIVE_INT,
    "max_max_epoch": POSITIVE_INT,
    "keep_prob": PROBABILITY,
    "lr_decay": PROBABILITY,
    "batch_size": POSITIVE_INT,
}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data-dir", help="ptb.{train,valid,test}.txt (default: built-in)")
    parser.add_argument("--model", choices=sorted(model.CONFIGS), default="small")
    parser.add_argument("--quick", action="store_true", help=f"a tiny run: {QUICK}")
    for field, kind in OVERRIDES.items():
        parser.add_argument("--" + field.replace("_", "-"), type=kind, help="overrides --model")
    parser.add_argument(
        "--synthetic-vocab", type=VOCAB, help="words of the built-in corpus (default 1000)"
    )
    parser.add_argument(
        "--synthetic-words",
        type=POSITIVE_INT,
        help="training words of the built-in corpus (default 200000; valid and test a tenth)",
    )
    parser.add_argument("--checkpoint-dir", type=Path, default=DEFAULT_CHECKPOINT_DIR)
    parser.add_argument("--seed", type=SEED, default=0)
    args = parser.parse_args(argv)
    defaults = {"synthetic_vocab": 1000, "synthetic_words": 200_000}
    if args.quick:
        defaults |= QUICK
    for name, value in defaults.items():
        if getattr(args, name, None) is None:
            setattr(args, name, value)
    return args


def make_config(args: argparse.Namespace, vocab_size: int) -> model.Config:
    """``--model``'s hyperparameters with the flags' overrides and the data's vocabulary."""
    overrides = {f: getattr(args, f) for f in OVERRIDES if getattr(args, f) is not None}
    return dataclasses.replace(model.CONFIGS[args.model], **overrides, vocab_size=vocab_size)


def learning_rate(config: model.Config, epoch_size: int) -> Callable[[Any], jax.Array]:
    """The tutorial's ``lr * lr_decay ** max(epoch + 1 - max_epoch, 0)`` as a function of
    the global step, ``epoch = step // epoch_size``: whole periods of ``epoch_size`` steps
    counted from the start of epoch ``max_epoch - 1``."""
    decay_start = (config.max_epoch - 1) * epoch_size

    def rate(step: Any) -> jax.Array:
        steps_decayed = jnp.maximum(step - decay_start, 0)
        return train.exponential_decay(
            config.learning_rate, steps_decayed, epoch_size, config.lr_decay, staircase=True
        )

    return rate


def make_train_step(
    net: sx.Transformed, optimizer: optax.GradientTransformation, max_grad_norm: float
) -> Callable[..., Any]:
    """One ``sess.run(train_op)``: clipped gradients of the cost, one optimizer update."""

    def train_step(
        params: Any, opt_state: Any, x: Any, y: Any, state: Any, rng: jax.Array
    ) -> tuple[Any, Any, jax.Array, Any]:
        def cost_fn(params: Any) -> tuple[jax.Array, Any]:
            return net.apply(params, x, y, state, rng=rng)

        (cost, final_state), grads = jax.value_and_grad(cost_fn, has_aux=True)(params)
        leaves, treedef = jax.tree.flatten(grads)
        clipped, _ = tf.clip_by_global_norm(leaves, max_grad_norm)
        grads = jax.tree.unflatten(treedef, clipped)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, cost, final_state

    return jax.jit(train_step)


def make_evaluator(net: sx.Transformed) -> Callable[..., tuple[jax.Array, Any]]:
    """``(params, xs, ys, state) -> (summed cost, final state)`` over chunks
    ``xs, ys [n, batch, steps]`` in order, each from the previous one's state: TF's
    ``run_epoch`` for an eval model, as one compiled scan."""

    def evaluate(params: Any, xs: Any, ys: Any, state: Any) -> tuple[jax.Array, Any]:
        def body(carry: tuple[jax.Array, Any], chunk: tuple[Any, Any]) -> tuple[Any, None]:
            total, state = carry
            cost, state = net.apply(params, chunk[0], chunk[1], state)
            return (total + cost, state), None

        (total, state), _ = jax.lax.scan(body, (jnp.zeros([], jnp.float32), state), (xs, ys))
        return total, state

    return jax.jit(evaluate)


def perplexity(total_cost: Any, num_chunks: int, num_steps: int) -> float:
    """``exp(costs / iters)``: the cost is summed over steps and averaged over the batch."""
    return math.exp(float(total_cost) / (num_chunks * num_steps))


@dataclasses.dataclass
class Result:
    """What a run produced: the perplexity of each epoch and of the test text, the trained
    parameters and step, and where it saved them."""

    config: model.Config
    train_perplexities: list[float]
    valid_perplexities: list[float]
    test_perplexity: float
    params: sx.Params
    global_step: int
    checkpoint: Path
    tf_checkpoint: str


def load_corpus(args: argparse.Namespace) -> data_lib.Corpus:
    if args.data_dir:
        return data_lib.load_ptb(args.data_dir)
    words = args.synthetic_words
    return data_lib.synthetic(args.synthetic_vocab, words, max(words // 10, 1), seed=0)


def run(args: argparse.Namespace) -> Result:
    """Trains and evaluates as the tutorial's ``main``; prints as it goes."""
    corpus = load_corpus(args)
    print(f"data: {corpus.description}")
    print(
        f"      {corpus.vocab_size} words; {len(corpus.train)} training, {len(corpus.valid)} "
        f"validation, {len(corpus.test)} test words"
    )
    config = make_config(args, corpus.vocab_size)
    eval_config = dataclasses.replace(config, batch_size=1, num_steps=1)
    train_x, train_y = data_lib.chunks(corpus.train, config.batch_size, config.num_steps)
    valid_x, valid_y = data_lib.chunks(corpus.valid, config.batch_size, config.num_steps)
    test_x, test_y = data_lib.chunks(corpus.test, 1, 1)
    epoch_size = len(train_x)

    train_net = model.build(config, is_training=True)
    valid_net = model.build(config, is_training=False)
    test_net = model.build(eval_config, is_training=False)
    key = jax.random.key(args.seed)
    init_key, dropout_key = jax.random.split(key)
    params = jax.jit(train_net.init)(init_key, train_x[0], train_y[0], model.zero_state(config))
    count = sum(v.size for v in sx.flatten(params).values())
    print(f"model: {len(sx.flatten(params))} variables, {count:,} parameters; {config}")

    optimizer = train.GradientDescentOptimizer(learning_rate(config, epoch_size))
    opt_state: Any = optimizer.init(params)  # a train.CountState: the step count
    train_step = make_train_step(train_net, optimizer, config.max_grad_norm)
    run_valid, run_test = make_evaluator(valid_net), make_evaluator(test_net)
    checkpoint = args.checkpoint_dir / "scopax"
    history: dict[str, list[float]] = {"train": [], "valid": []}
    report_every = max(epoch_size // 10, 1)
    began = time.perf_counter()

    for epoch in range(config.max_max_epoch):
        step = int(opt_state.step)
        print(f"Epoch: {epoch + 1} Learning rate: {float(optimizer.learning_rate(step)):.3f}")
        state = model.zero_state(config)
        total = jnp.zeros([], jnp.float32)
        start = time.perf_counter()
        for i in range(epoch_size):
            rng = jax.random.fold_in(dropout_key, step + i)
            params, opt_state, cost, state = train_step(
                params, opt_state, train_x[i], train_y[i], state, rng
            )
            total = total + cost
            if (i + 1) % report_every == 0 and i + 1 < epoch_size:
                words = (i + 1) * config.batch_size * config.num_steps
                print(
                    f"{(i + 1) / epoch_size:.3f} perplexity: "
                    f"{perplexity(total, i + 1, config.num_steps):.3f} "
                    f"speed: {words / (time.perf_counter() - start):.0f} wps"
                )
        history["train"].append(perplexity(total, epoch_size, config.num_steps))
        print(f"Epoch: {epoch + 1} Train Perplexity: {history['train'][-1]:.3f}")
        valid_cost, _ = run_valid(params, valid_x, valid_y, model.zero_state(config))
        history["valid"].append(perplexity(valid_cost, len(valid_x), config.num_steps))
        print(f"Epoch: {epoch + 1} Valid Perplexity: {history['valid'][-1]:.3f}")
        global_step = int(opt_state.step)
        sx.save(
            checkpoint,
            {"params": params, "global_step": np.int64(global_step), "epoch": epoch + 1},
            overwrite=True,
        )

    test_cost, _ = run_test(params, test_x, test_y, model.zero_state(eval_config))
    test_perplexity = perplexity(test_cost, len(test_x), 1)
    print(f"Test Perplexity: {test_perplexity:.3f}")
    global_step = int(opt_state.step)
    print(f"trained {global_step} steps in {time.perf_counter() - began:.0f} s")
    print(f"checkpoint (sx.save, after each epoch): {checkpoint}")

    # A TF1 checkpoint: tf.train.Saver restores it into the tutorial's graph.
    variables = {**sx.flatten(params), **train.slot_variables(optimizer, opt_state, params)}
    prefix = sx.save_tf_checkpoint(
        args.checkpoint_dir / "tf" / f"model.ckpt-{global_step}", variables, overwrite=True
    )
    print(f"TF1 checkpoint: {prefix}")
    for name, (shape, dtype) in sx.list_tf_checkpoint(prefix).items():
        print(f"  {name} {list(shape)} {dtype}")
    return Result(
        config,
        history["train"],
        history["valid"],
        test_perplexity,
        params,
        global_step,
        checkpoint,
        prefix,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        run(args)
    except data_lib.DataError as e:
        # A missing PTB file, or text too short for one chunk: say which, without a trace.
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
