"""The seq2seq example's training step: scopax against the same math in pure JAX.

Both sides run one jitted step (loss, gradients, Adam update) of TF 1.15's
``embedding_attention_seq2seq`` (GRU cell, one attention head, output projection
wrapper, ``sequence_loss``) on the same batch and the same parameter values. The
scopax side is ``examples/seq2seq/train.py``'s model built with
``scopax.contrib.legacy_seq2seq``; the pure side is written below by hand over a dict
keyed by the same TF names. The rounds alternate between the two and the medians are
compared: only the ratio means anything on a shared machine.

    .venv/bin/python benchmarks/seq2seq_step.py            # about 30 s on 2 cores
    .venv/bin/python benchmarks/seq2seq_step.py --rounds 15 --steps 50
"""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

import scopax as sx
from scopax.contrib import legacy_seq2seq as seq2seq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import optimized_hlo

ROOT = Path(__file__).resolve().parent.parent
TOP = "embedding_attention_seq2seq"
ENCODER = f"{TOP}/rnn/embedding_wrapper"
DECODER = f"{TOP}/embedding_attention_decoder"
ATTENTION = f"{DECODER}/attention_decoder"


def load_example() -> Any:
    spec = importlib.util.spec_from_file_location(
        "scopax_examples_seq2seq_train", ROOT / "examples" / "seq2seq" / "train.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _dense(p: dict[str, jax.Array], scope: str, x: jax.Array) -> jax.Array:
    return x @ p[f"{scope}/kernel"] + p[f"{scope}/bias"][None, :]


def _gru(p: dict[str, jax.Array], scope: str, x: jax.Array, h: jax.Array) -> jax.Array:
    xh = jnp.concatenate([x, h], axis=1)
    r, u = jnp.split(jax.nn.sigmoid(_dense(p, f"{scope}/gates", xh)), 2, axis=1)
    c = jnp.tanh(_dense(p, f"{scope}/candidate", jnp.concatenate([x, r * h], axis=1)))
    return u * h + (1 - u) * c


def _full_names(tree: dict[str, Any], prefix: str = "") -> dict[str, jax.Array]:
    """A nested dict's leaves keyed by their TF name (work done while tracing only)."""
    out: dict[str, jax.Array] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(_full_names(value, f"{prefix}{key}/"))
        else:
            out[prefix + key] = value
    return out


def pure_logits(tree: dict[str, Any], source: jax.Array, decoder_inputs: jax.Array) -> Any:
    """The model's math over ``tree``, plain nested dicts as TF names nest: a list of logits.

    The tree has the same structure as scopax's, so the two jitted steps take their
    parameters in the same order and their optimized HLO can be compared as is.
    """
    p = _full_names(tree)
    batch, hidden = source.shape[1], p[f"{ENCODER}/gru_cell/candidate/bias"].shape[0]
    h = jnp.zeros((batch, hidden))
    memory = []
    for ids in source:
        h = _gru(p, f"{ENCODER}/gru_cell", jnp.take(p[f"{ENCODER}/embedding"], ids, axis=0), h)
        memory.append(h)
    memory = jnp.stack(memory, axis=1)  # [batch, length, hidden]
    keys = jnp.einsum("bls,sv->blv", memory, p[f"{ATTENTION}/AttnW_0"][0, 0])
    v = p[f"{ATTENTION}/AttnV_0"]
    read = jnp.zeros((batch, hidden))
    logits = []
    for ids in decoder_inputs:
        x = _dense(
            p,
            ATTENTION,
            jnp.concatenate([jnp.take(p[f"{DECODER}/embedding"], ids, axis=0), read], 1),
        )
        h = _gru(p, f"{ATTENTION}/output_projection_wrapper/gru_cell", x, h)
        out = _dense(p, f"{ATTENTION}/output_projection_wrapper", h)
        query = _dense(p, f"{ATTENTION}/Attention_0", h)
        scores = jnp.sum(v[None, None, :] * jnp.tanh(keys + query[:, None, :]), axis=2)
        read = jnp.sum(jax.nn.softmax(scores, axis=1)[:, :, None] * memory, axis=1)
        logits.append(
            _dense(p, f"{ATTENTION}/AttnOutputProjection", jnp.concatenate([out, read], 1))
        )
    return logits


def _plain_dicts(tree: Any) -> Any:
    if isinstance(tree, sx.Params | dict):
        return {key: _plain_dicts(value) for key, value in tree.items()}
    return tree


def make_step(logits_fn: Callable[..., Any], optimizer: Any) -> Callable[..., Any]:
    def loss_fn(params: Any, batch: Any) -> jax.Array:
        source, decoder_inputs, targets, weights = batch
        logits = logits_fn(params, source, decoder_inputs)
        return seq2seq.sequence_loss(logits, list(targets), list(weights))

    @jax.jit
    def step(params: Any, opt_state: Any, batch: Any) -> tuple[Any, Any, jax.Array]:
        loss, grads = jax.value_and_grad(loss_fn)(params, batch)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    return step


def setup() -> tuple[Any, dict[str, Any], dict[str, Any], tuple[jax.Array, ...]]:
    """The example's config, both steps ``{side: (jitted step, params)}``, states, a batch."""
    train = load_example()
    config = train.parse_args([])  # the example's defaults
    model = train.build_model("attention", config.hidden, config.embedding)
    batch = tuple(
        jnp.asarray(x)
        for x in train.make_batch(
            np.random.RandomState(0), config.batch, config.min_len, config.max_len
        )
    )
    params = model.init(jax.random.key(0), batch[0], batch[1], False)
    plain = _plain_dicts(params)
    optimizer = optax.chain(optax.clip_by_global_norm(5.0), optax.adam(config.lr))
    steps = {
        "scopax": (make_step(lambda p, s, d: model.apply(p, s, d, False), optimizer), params),
        "pure JAX": (make_step(pure_logits, optimizer), plain),
    }
    states = {name: (p, optimizer.init(p)) for name, (_, p) in steps.items()}
    return config, steps, states, batch


def parser() -> argparse.ArgumentParser:
    """The command line (a function, so tests can check what the Makefile passes)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="15 rounds of 10 steps (~20 s)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 25, quick 15)")
    parser.add_argument("--steps", type=int, help="steps timed per round (default 20, quick 10)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    # Many short rounds rather than a few long ones: a shared machine's load changes by
    # the second, and interleaving more often spreads it over both sides.
    args.rounds = args.rounds or (15 if args.quick else 25)
    args.steps = args.steps or (10 if args.quick else 20)
    config, steps, states, batch = setup()
    hlo = optimized_hlo(steps, states, batch)
    losses = {}
    for name, (step, _) in steps.items():  # compile, and check the two agree
        p, s = states[name]
        losses[name] = float(step(p, s, batch)[2])
    if not np.isclose(losses["scopax"], losses["pure JAX"], rtol=1e-5):
        raise AssertionError(f"the two models disagree: losses {losses}")

    times: dict[str, list[float]] = {name: [] for name in steps}
    for round_ in range(args.rounds):
        # Alternate which side goes first, so that neither always runs on a warmer cache.
        order = list(steps.items()) if round_ % 2 == 0 else list(steps.items())[::-1]
        for name, (step, _) in order:
            p, s = states[name]
            jax.block_until_ready(step(p, s, batch))
            start = time.perf_counter()
            loss = None
            for _ in range(args.steps):
                p, s, loss = step(p, s, batch)
            jax.block_until_ready(loss)
            times[name].append((time.perf_counter() - start) / args.steps)
            states[name] = (p, s)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"machine: {platform.machine()}, {cores} usable CPU cores, {jax.devices()[0].device_kind}; "
        f"jax {jax.__version__}"
    )
    print(
        f"embedding_attention_seq2seq training step: batch {config.batch}, GRU {config.hidden}, "
        f"{config.max_len} encoder and {config.max_len + 1} decoder steps; "
        f"{args.rounds} interleaved rounds of {args.steps} steps"
    )
    medians = {name: statistics.median(ts) for name, ts in times.items()}
    for name, median in medians.items():
        print(f"  {name:9s} median {median * 1e3:7.3f} ms/step")
    print(
        f"ratio scopax / pure JAX: {medians['scopax'] / medians['pure JAX']:.3f} (target <= 1.02)"
    )
    same = hlo["scopax"] == hlo["pure JAX"]
    print(f"optimized HLO identical to pure JAX's: {same}")
    if not same:
        diff = difflib.unified_diff(
            hlo["pure JAX"].splitlines(), hlo["scopax"].splitlines(), "pure", "scopax", n=1
        )
        print("\n".join(list(diff)[:40]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
