"""Train TF 1's ``embedding_attention_seq2seq`` (or the tied model) to reverse digit strings.

The model is TF 1.15's ``tf.contrib.legacy_seq2seq`` one, ported by
``scopax.contrib.legacy_seq2seq`` with its variable names: lists of time steps in, a list
of logits out. Training feeds the true previous symbol (``feed_previous=False``);
evaluation and the demo decode greedily (``feed_previous=True``), feeding back each
step's most likely symbol. The printed sequence accuracy counts a string right only if
every symbol up to and including EOS is.

    .venv/bin/python examples/seq2seq/train.py                 # attention, <30 s on 2 cores
    .venv/bin/python examples/seq2seq/train.py --model tied    # tied, under a minute
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from tqdm import tqdm

import scopax as sx
from scopax.contrib import legacy_seq2seq as seq2seq
from scopax.nn import rnn_cell

PAD, GO, EOS = 0, 1, 2
FIRST_DIGIT = 3  # digit d is symbol d + 3
VOCAB = FIRST_DIGIT + 10

Batch = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def make_batch(rng: np.random.RandomState, batch: int, min_len: int, max_len: int) -> Batch:
    """Random digit strings and their reversals, time-major: ``(source [max_len, batch],
    decoder_inputs, targets, weights [max_len + 1, batch])``. Targets end with EOS, then
    PAD of weight 0; the decoder reads GO and then the targets, shifted by one."""
    lengths = rng.randint(min_len, max_len + 1, size=batch)
    digits = rng.randint(0, 10, size=(batch, max_len)) + FIRST_DIGIT
    steps = np.arange(max_len)[None, :]
    source = np.where(steps < lengths[:, None], digits, PAD)
    # Position t of the reversal holds digit n - 1 - t of the string (n: its length).
    index = np.clip(lengths[:, None] - 1 - steps, 0, max_len - 1)
    reversed_ = np.where(steps < lengths[:, None], np.take_along_axis(digits, index, 1), PAD)
    targets = np.concatenate([reversed_, np.full((batch, 1), PAD)], axis=1)
    targets[np.arange(batch), lengths] = EOS
    decoder_inputs = np.concatenate([np.full((batch, 1), GO), targets[:, :-1]], axis=1)
    weights = (np.arange(max_len + 1)[None, :] <= lengths[:, None]).astype(np.float32)
    return (
        source.T.astype(np.int32),
        decoder_inputs.T.astype(np.int32),
        targets.T.astype(np.int32),
        weights.T,
    )


def build_model(kind: str, hidden: int, embedding_size: int) -> sx.Transformed:
    """``logits(source, decoder_inputs, feed_previous)``: a list of ``[batch, VOCAB]``
    logits, one per decoder step, from ``[time, batch]`` arrays of symbol ids."""
    cell = rnn_cell.GRUCell(hidden)

    def logits(source: Any, decoder_inputs: Any, feed_previous: bool) -> list[jax.Array]:
        encoder_inputs, decoder_inputs = list(source), list(decoder_inputs)
        if kind == "attention":
            outputs, _ = seq2seq.embedding_attention_seq2seq(
                encoder_inputs,
                decoder_inputs,
                cell,
                num_encoder_symbols=VOCAB,
                num_decoder_symbols=VOCAB,
                embedding_size=embedding_size,
                feed_previous=feed_previous,
            )
        else:  # One embedding and one GRU for encoder and decoder.
            outputs, _ = seq2seq.embedding_tied_rnn_seq2seq(
                encoder_inputs,
                decoder_inputs,
                cell,
                num_symbols=VOCAB,
                embedding_size=embedding_size,
                feed_previous=feed_previous,
            )
        return outputs

    return sx.transform(logits)


def sequence_accuracy(logits: jax.Array, targets: Any, weights: Any) -> jax.Array:
    """The fraction of strings whose every weighted symbol is predicted right."""
    wrong = (jnp.argmax(logits, axis=-1) != targets) & (weights > 0)
    return jnp.mean(~jnp.any(wrong, axis=0))


def _number(kind: Callable[[str], Any], what: str, ok: Callable[[Any], bool]) -> Any:
    """An argparse ``type``: ``kind(text)`` if ``ok`` of it, else argparse's error, which
    names the flag ("argument --eval-every: must be a positive integer, got '0'")."""

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
NONNEGATIVE_INT = _number(int, "an integer of 0 or more", lambda n: n >= 0)
# numpy's RandomState takes seeds below 2**32, and the run also seeds with seed + 2.
SEED = _number(int, f"an integer in 0..{2**32 - 3}", lambda n: 0 <= n <= 2**32 - 3)
POSITIVE_FLOAT = _number(float, "a positive finite number", lambda x: 0 < x < math.inf)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--model", choices=["attention", "tied"], default="attention")
    parser.add_argument("--steps", type=POSITIVE_INT, help="default: 800 (tied: 3000)")
    parser.add_argument("--batch", type=POSITIVE_INT, default=64)
    parser.add_argument("--seed", type=SEED, default=0)
    parser.add_argument("--hidden", type=POSITIVE_INT, help="default: 64 (tied: 128)")
    parser.add_argument("--embedding", type=POSITIVE_INT, default=16)
    parser.add_argument("--min-len", type=NONNEGATIVE_INT, default=5)
    parser.add_argument("--max-len", type=POSITIVE_INT, default=8)
    parser.add_argument("--lr", type=POSITIVE_FLOAT, default=3e-3)
    parser.add_argument("--eval-every", type=POSITIVE_INT, default=250)
    parser.add_argument("--eval-size", type=POSITIVE_INT, default=500)
    args = parser.parse_args(argv)
    if args.min_len > args.max_len:
        parser.error(
            f"--min-len {args.min_len} exceeds --max-len {args.max_len}; pass a --min-len of "
            "at most --max-len"
        )
    if args.steps is None:
        args.steps = 800 if args.model == "attention" else 3000
    if args.hidden is None:
        args.hidden = 64 if args.model == "attention" else 128
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    rng = np.random.RandomState(args.seed)
    model = build_model(args.model, args.hidden, args.embedding)
    source, decoder_inputs, _, _ = make_batch(rng, args.batch, args.min_len, args.max_len)
    # One compiled init rather than one small program per initializer and shape.
    init = jax.jit(
        lambda key, source, decoder_inputs: model.init(key, source, decoder_inputs, False)
    )
    params = init(jax.random.key(args.seed), source, decoder_inputs)
    optimizer = optax.chain(optax.clip_by_global_norm(5.0), optax.adam(args.lr))
    opt_state = optimizer.init(params)
    print(f"{args.model} model: {sum(x.size for x in jax.tree.leaves(params)):,} parameters")

    def loss_fn(params: Any, batch: Batch) -> jax.Array:
        source, decoder_inputs, targets, weights = batch
        logits = model.apply(params, source, decoder_inputs, False)
        return seq2seq.sequence_loss(logits, list(targets), list(weights))

    @jax.jit
    def train_step(params: Any, opt_state: Any, batch: Batch) -> tuple[Any, Any, jax.Array]:
        loss, grads = jax.value_and_grad(loss_fn)(params, batch)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    @jax.jit
    def greedy(params: Any, source: Any, decoder_inputs: Any) -> jax.Array:
        return jnp.stack(model.apply(params, source, decoder_inputs, True))  # feed_previous=True

    eval_rng = np.random.RandomState(args.seed + 1)
    eval_set = make_batch(eval_rng, args.eval_size, args.min_len, args.max_len)

    def evaluate() -> float:
        source, decoder_inputs, targets, weights = eval_set
        logits = greedy(params, source, decoder_inputs)
        return float(sequence_accuracy(logits, targets, weights))

    accuracy = 0.0
    progress = tqdm(range(1, args.steps + 1), desc="train", mininterval=2.0, file=sys.stderr)
    for step in progress:
        batch = make_batch(rng, args.batch, args.min_len, args.max_len)
        params, opt_state, loss = train_step(params, opt_state, batch)
        if step % args.eval_every == 0 or step == args.steps:
            accuracy = evaluate()
            tqdm.write(
                f"step {step:5d}  loss {float(loss):.4f}  greedy sequence accuracy {accuracy:.1%}"
            )
    print(f"final greedy sequence accuracy: {accuracy:.1%} ({time.perf_counter() - start:.0f} s)")

    print("greedy decoding (feed_previous=True):")
    demo = make_batch(np.random.RandomState(args.seed + 2), 5, args.min_len, args.max_len)
    predicted = np.asarray(jnp.argmax(greedy(params, demo[0], demo[1]), axis=-1))
    for b in range(5):
        string = "".join(str(s - FIRST_DIGIT) for s in demo[0][:, b] if s >= FIRST_DIGIT)
        decoded = []
        for s in predicted[:, b]:
            if s == EOS:
                break
            decoded.append(str(s - FIRST_DIGIT) if s >= FIRST_DIGIT else "?")
        answer = "".join(decoded)
        mark = "ok" if answer == string[::-1] else "wrong"
        print(f"  {string:>{args.max_len}} -> {answer:<{args.max_len}}  ({mark})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
