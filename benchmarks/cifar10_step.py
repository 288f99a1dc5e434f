"""One training step of the CIFAR-10 example model: scopax against the same math in pure JAX.

The step is ``jax.value_and_grad`` of the loss (cross entropy plus weight decay) and an
optax SGD-with-momentum update, jit-compiled. The scopax side is
``examples/cifar10/model.py`` as the example trains it (variables from ``sx.get_variable``,
weight decay from ``regularizer`` and ``sx.get_regularization_loss()``); the pure side is
the same network written by hand over a plain dict of the same arrays. Both run in this
process, alternating step by step; the printed ratio is the median scopax step time over
the median pure-JAX step time (the target is <= 1.02). The optimized HLO of the two compiled
steps is compared too, with metadata and names stripped (``run.canonical_hlo``): identical
HLO means scopax costs nothing once compiled.

    .venv/bin/python benchmarks/cifar10_step.py --quick   # ~30 s on 2 cores
    .venv/bin/python benchmarks/cifar10_step.py           # batch 128, more rounds (~1.5 min)
"""

from __future__ import annotations

import argparse
import difflib
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from examples.cifar10 import model
from run import optimized_hlo

# wd of each scope's weights, in the order the model creates them (the sum's order).
WEIGHT_DECAY = {
    "conv1": 0.0,
    "conv2": 0.0,
    "local3": 0.004,
    "local4": 0.004,
    "softmax_linear": 0.0,
}


def pure_loss(params: dict[str, dict[str, jax.Array]], images: jax.Array, labels: jax.Array):
    """The tutorial's loss over a plain dict ``params[scope][name]``, written directly."""

    def conv_relu(x, layer):
        y = jax.lax.conv_general_dilated(
            x, layer["weights"], (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
        )
        return jax.nn.relu(y + jnp.reshape(layer["biases"], (1, 1, 1, -1)))

    def max_pool(x):
        return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 3, 3, 1), (1, 2, 2, 1), "SAME")

    def lrn(x):
        pad = ((0, 0), (0, 0), (0, 0), (4, 4))
        sqr_sum = jax.lax.reduce_window(
            jnp.square(x), 0.0, jax.lax.add, (1, 1, 1, 9), (1,) * 4, pad
        )
        return x / (1.0 + (0.001 / 9.0) * sqr_sum) ** 0.75

    def local(x, layer):
        return x @ layer["weights"] + jnp.reshape(layer["biases"], (1, -1))

    x = lrn(max_pool(conv_relu(images, params["conv1"])))
    x = max_pool(lrn(conv_relu(x, params["conv2"])))
    x = jax.nn.relu(local(jnp.reshape(x, (x.shape[0], -1)), params["local3"]))
    x = jax.nn.relu(local(x, params["local4"]))
    logits = local(x, params["softmax_linear"])

    log_probs = jax.nn.log_softmax(logits, axis=-1)
    valid = (labels >= 0) & (labels < logits.shape[-1])
    picked = jnp.take_along_axis(log_probs, jnp.clip(labels, 0, logits.shape[-1] - 1)[:, None], -1)
    cross_entropy = jnp.where(valid, -picked[:, 0], jnp.nan)
    decay = [
        wd * (0.5 * jnp.sum(jnp.square(params[s]["weights"]))) for s, wd in WEIGHT_DECAY.items()
    ]
    total_decay = decay[0]
    for term in decay[1:]:
        total_decay = total_decay + term
    return jnp.mean(cross_entropy) + total_decay, logits


def alternating(tasks: dict[str, Callable[[], Any]], rounds: int) -> dict[str, float]:
    """Median seconds of each task; one of each per round, in reversed order every other
    round (ABBA), so neither side always runs first after the other has warmed the caches."""
    times: dict[str, list[float]] = {name: [] for name in tasks}
    for r in range(rounds):
        for name in list(tasks)[:: -1 if r % 2 else 1]:
            start = time.perf_counter()
            tasks[name]()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


def make_step(loss_fn: Callable[..., Any], optimizer: optax.GradientTransformation):
    def step(params, opt_state, images, labels):
        (loss, _), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, images, labels)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    return jax.jit(step)


def setup(batch: int) -> tuple[dict[str, Any], dict[str, Any], jax.Array, jax.Array]:
    """Both training steps, ``{side: (jitted step, params)}``, their states and a batch."""
    rng = np.random.default_rng(0)
    images = jnp.asarray(rng.standard_normal((batch, 24, 24, 3), np.float32))
    labels = jnp.asarray(rng.integers(0, 10, batch).astype(np.int32))
    params = model.training.init(jax.random.key(0), images, labels)
    plain = {scope: dict(layer) for scope, layer in params.items()}
    optimizer = optax.sgd(0.1, momentum=0.9)
    steps = {
        "pure": (make_step(pure_loss, optimizer), plain),
        "scopax": (make_step(model.training.apply, optimizer), params),
    }
    states = {name: (p, optimizer.init(p)) for name, (_, p) in steps.items()}
    return steps, states, images, labels


def parser() -> argparse.ArgumentParser:
    """The command line (a function, so tests can check what the Makefile passes)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="batch 64, fewer rounds (~30 s)")
    parser.add_argument("--rounds", type=int, help="rounds of interleaved measurement")
    parser.add_argument("--batch-size", type=int)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    batch = args.batch_size or (64 if args.quick else 128)
    # Many short rounds of one step each: a shared machine's load changes by the second.
    rounds = args.rounds or (30 if args.quick else 60)

    print(
        f"machine: {platform.machine()} {os.cpu_count()} cores, "
        f"{jax.devices()[0].device_kind}; python {platform.python_version()}; "
        f"jax {jax.__version__}; batch {batch}, {rounds} rounds"
    )
    steps, states, images, labels = setup(batch)
    hlo = optimized_hlo(steps, states, images, labels)
    losses = {
        name: float(step(*states[name], images, labels)[2]) for name, (step, _) in steps.items()
    }

    def task(name: str) -> Callable[[], Any]:
        step, _ = steps[name]
        return lambda: jax.block_until_ready(step(*states[name], images, labels))

    times = alternating({name: task(name) for name in steps}, rounds)
    same = hlo["scopax"] == hlo["pure"]
    print(f"loss at step 0: scopax {losses['scopax']:.6f}, pure JAX {losses['pure']:.6f}")
    for name in steps:
        print(f"{name:>7}: {times[name] * 1e3:8.1f} ms per step (median)")
    print(
        f"training step, scopax / pure JAX: {times['scopax'] / times['pure']:.3f} (target <= 1.02)"
    )
    print(f"optimized HLO identical to pure JAX's: {same}")
    if not same:
        diff = difflib.unified_diff(
            hlo["pure"].splitlines(), hlo["scopax"].splitlines(), "pure", "scopax", lineterm="", n=1
        )
        print("\n".join(list(diff)[:40]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
