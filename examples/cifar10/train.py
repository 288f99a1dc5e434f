"""Train TF's CIFAR-10 tutorial network with scopax, optax and orbax.

    python examples/cifar10/train.py                       # built-in data, 2-3 min on 2 cores
    python examples/cifar10/train.py --data-dir ~/cifar-10-batches-py --steps 100000
    python examples/cifar10/train.py --resume              # continue from the last checkpoint

What ``cifar10_train.py`` and ``cifar10_eval.py`` did, in one jit-compiled loop:

* the loss is the mean cross entropy plus the weight decay terms, which the model's
  variables carry as ``regularizer``s (``sx.get_regularization_loss()``);
* plain SGD (``tf.train.GradientDescentOptimizer``) on TF's staircase exponential decay,
  ``0.1 * 0.1 ** floor(step / (350 epochs))``, as ``optax.sgd`` on
  ``optax.exponential_decay``; ``--momentum`` adds momentum (TF used none);
* ``tf.train.ExponentialMovingAverage(decay, num_updates=step)`` of every trainable
  variable, updated after each step with TF's rule
  ``decay_t = min(decay, (1 + step) / (10 + step))``;
* evaluation reads the moving averages through a ``custom_getter`` on the model's scope
  (``model.averaged_inference``), as ``cifar10_eval.py`` restored the shadow variables in
  place of the variables; the accuracy of the raw weights is printed beside it;
* orbax checkpoints of the step, parameters, optimizer state and averages at every
  evaluation and at the end; ``--resume`` continues from the latest one, on the same
  batches as an uninterrupted run (each batch is a function of ``--seed`` and the step).

Without ``--data-dir`` it trains on a small built-in synthetic data set and says so.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple, cast

import jax
import jax.numpy as jnp
import numpy as np
import optax
import orbax.checkpoint as ocp
from tqdm import tqdm

import scopax as sx

if __package__:
    from . import data as data_lib
    from . import model
else:  # Run as a script: python examples/cifar10/train.py
    import data as data_lib
    import model

DEFAULT_CHECKPOINT_DIR = Path(tempfile.gettempdir()) / "scopax_cifar10"


class TrainState(NamedTuple):
    step: jax.Array  # int32 scalar: the number of steps taken.
    params: Any  # sx.Params (typed Any, as optax's updates and orbax's restores are)
    opt_state: Any
    ema: Any  # The moving average of every variable: an sx.Params like params.


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
SEED = _number(int, f"an integer in 0..{2**32 - 1}", lambda n: 0 <= n < 2**32)
POSITIVE_FLOAT = _number(float, "a positive finite number", lambda x: 0 < x < math.inf)
FRACTION = _number(float, "a number in [0, 1]", lambda x: 0 <= x <= 1)
MOMENTUM = _number(float, "a number in [0, 1)", lambda x: 0 <= x < 1)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data-dir", help="extracted cifar-10-batches-py (default: built-in)")
    parser.add_argument("--steps", type=POSITIVE_INT, default=600, help="train until this step")
    parser.add_argument("--batch-size", type=POSITIVE_INT, default=64)
    parser.add_argument(
        "--eval-every", type=POSITIVE_INT, default=200, help="steps between evaluations"
    )
    parser.add_argument("--eval-batch-size", type=POSITIVE_INT, default=500)
    parser.add_argument("--learning-rate", type=POSITIVE_FLOAT, default=0.1, help="TF: 0.1")
    parser.add_argument("--epochs-per-decay", type=POSITIVE_FLOAT, default=350.0, help="TF: 350")
    parser.add_argument("--momentum", type=MOMENTUM, default=0.0, help="TF: 0 (plain SGD)")
    parser.add_argument(
        "--ema-decay",
        type=FRACTION,
        default=0.99,
        help="TF: 0.9999, which averages over ~10,000 steps of its 10^6-step runs; 0.99 "
        "averages over the last ~100 steps of this example's short runs",
    )
    parser.add_argument("--checkpoint-dir", type=Path, default=DEFAULT_CHECKPOINT_DIR)
    parser.add_argument("--resume", action="store_true", help="continue from the latest step")
    parser.add_argument("--seed", type=SEED, default=0)
    parser.add_argument(
        "--builtin-size",
        type=POSITIVE_INT,
        nargs=2,
        default=(5000, 1000),
        metavar=("TRAIN", "TEST"),
        help="images of the built-in data set",
    )
    parser.add_argument("--no-progress", action="store_true", help="no tqdm progress bar")
    return parser.parse_args(argv)


def make_optimizer(args: argparse.Namespace, train_size: int) -> optax.GradientTransformation:
    """TF's schedule: ``lr * 0.1 ** floor(step / decay_steps)``, decay every 350 epochs."""
    decay_steps = max(1, int(train_size / args.batch_size * args.epochs_per_decay))
    schedule = optax.exponential_decay(
        args.learning_rate, transition_steps=decay_steps, decay_rate=0.1, staircase=True
    )
    return optax.sgd(schedule, momentum=args.momentum or None)


def ema_update(ema: Any, params: Any, step: jax.Array, decay: float) -> Any:
    """``ExponentialMovingAverage.apply`` with ``num_updates=step``:
    ``shadow -= (1 - decay_t) * (shadow - variable)``."""
    step = step.astype(jnp.float32)
    decay_t = jnp.minimum(decay, (1.0 + step) / (10.0 + step))
    return jax.tree.map(lambda s, v: s - (1.0 - decay_t) * (s - v), ema, params)


def make_train_step(optimizer: optax.GradientTransformation, ema_decay: float) -> Any:
    def train_step(
        state: TrainState, images: jax.Array, labels: jax.Array
    ) -> tuple[TrainState, jax.Array]:
        grad_fn = jax.value_and_grad(model.training.apply, has_aux=True)
        (loss, _), grads = grad_fn(state.params, images, labels)
        updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        step = state.step + 1
        ema = ema_update(state.ema, params, step, ema_decay)
        return TrainState(step, params, opt_state, ema), loss

    return jax.jit(train_step, donate_argnums=0)


@jax.jit
def _eval_step(
    params: sx.Params, ema: sx.Params, images: jax.Array, labels: jax.Array, valid: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """The number of correct predictions of the raw and of the averaged weights."""

    def correct(logits: jax.Array) -> jax.Array:
        return jnp.sum((jnp.argmax(logits, axis=-1) == labels) & valid)

    raw = model.network.apply(params, images)
    averaged = model.averaged.apply(params, images, ema)
    return correct(raw), correct(averaged)


def evaluate(
    state: TrainState, images: np.ndarray, labels: np.ndarray, batch_size: int
) -> tuple[float, float]:
    """Test accuracy ``(raw, averaged)``; the last batch is padded so one shape compiles."""
    counts = np.zeros(2, np.int64)
    for start in range(0, len(labels), batch_size):
        x, y = images[start : start + batch_size], labels[start : start + batch_size]
        pad = batch_size - len(y)
        valid = np.arange(batch_size) < len(y)
        x = np.pad(x, ((0, pad), (0, 0), (0, 0), (0, 0)))
        y = np.pad(y, (0, pad))
        counts += np.asarray(_eval_step(state.params, state.ema, x, y, valid))
    raw, averaged = counts / len(labels)
    return float(raw), float(averaged)


def init_state(optimizer: optax.GradientTransformation, seed: int, batch_size: int) -> TrainState:
    images = jnp.zeros((batch_size, model.IMAGE_SIZE, model.IMAGE_SIZE, 3), jnp.float32)
    labels = jnp.zeros((batch_size,), jnp.int32)
    params = jax.jit(model.training.init)(jax.random.key(seed), images, labels)
    # TF's shadow variables start at the variables' initial values.
    ema = jax.tree.map(jnp.copy, params)
    return TrainState(jnp.zeros((), jnp.int32), params, optimizer.init(params), ema)


def checkpoint_manager(directory: Path) -> ocp.CheckpointManager:
    # Synchronous saves: the next train step donates (reuses) the buffers of the state.
    options = ocp.CheckpointManagerOptions(
        max_to_keep=2, create=True, enable_async_checkpointing=False
    )
    return ocp.CheckpointManager(directory.resolve(), options=options)


def restore_or_start(manager: ocp.CheckpointManager, fresh: TrainState, resume: bool) -> TrainState:
    """The latest checkpoint with ``resume``; else ``fresh``, after deleting the old
    checkpoints of the directory (as ``cifar10_train.py`` emptied its train_dir)."""
    latest = manager.latest_step()
    if latest is None:
        if resume:
            print(f"--resume: no checkpoint in {manager.directory}; starting at step 0")
        return fresh
    if not resume:
        for step in manager.all_steps():
            manager.delete(step)
        print(f"deleted the old checkpoints in {manager.directory} (--resume keeps them)")
        return fresh
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, fresh)
    restored = manager.restore(latest, args=ocp.args.StandardRestore(abstract))
    print(f"resumed from {manager.directory} at step {latest}")
    return cast(TrainState, restored)  # Orbax rebuilds the target's tree types.


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.data_dir:
        dataset = data_lib.load_cifar10(args.data_dir)
    else:
        dataset = data_lib.builtin(*args.builtin_size, seed=0)
    print(f"data: {dataset.description}")
    print(f"      {len(dataset.train)} training, {len(dataset.test)} test images")

    optimizer = make_optimizer(args, len(dataset.train))
    train_step = make_train_step(optimizer, args.ema_decay)
    fresh = init_state(optimizer, args.seed, args.batch_size)
    count = sum(v.size for v in sx.flatten(fresh.params).values())
    print(f"model: {len(sx.flatten(fresh.params))} variables, {count:,} parameters")

    manager = checkpoint_manager(args.checkpoint_dir)
    state = restore_or_start(manager, fresh, args.resume)
    start = int(state.step)
    test_images = data_lib.eval_inputs(dataset.test)
    test_labels = dataset.test.labels

    def evaluate_and_save(state: TrainState, loss: float) -> tuple[float, float]:
        raw, averaged = evaluate(state, test_images, test_labels, args.eval_batch_size)
        step = int(state.step)
        tqdm.write(
            f"step {step:6d}: loss {loss:.3f}, test accuracy {raw:.1%} (raw weights), "
            f"{averaged:.1%} (moving average)"
        )
        if manager.latest_step() != step:
            manager.save(step, args=ocp.args.StandardSave(state))
        return raw, averaged

    began = time.perf_counter()
    loss = math.nan
    with tqdm(
        total=args.steps, initial=start, desc="train", unit="step", disable=args.no_progress
    ) as bar:
        for step in range(start, args.steps):
            images, labels = data_lib.train_batch(dataset.train, args.batch_size, step, args.seed)
            state, loss_value = train_step(state, images, labels)
            done, evaluating = step + 1 == args.steps, (step + 1) % args.eval_every == 0
            if (step + 1) % 10 == 0 or done or evaluating:  # Fetching the loss syncs.
                loss = float(loss_value)
                bar.set_postfix(loss=f"{loss:.3f}")
            bar.update()
            if evaluating and not done:
                evaluate_and_save(state, loss)
    raw, averaged = evaluate_and_save(state, loss)
    manager.wait_until_finished()
    manager.close()
    print(
        f"trained {args.steps - start} steps in {time.perf_counter() - began:.0f} s; final test "
        f"accuracy at step {int(state.step)}: {raw:.1%} raw, {averaged:.1%} moving average "
        f"(chance: {1 / model.NUM_CLASSES:.0%})"
    )
    print(f"checkpoints: {manager.directory}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
