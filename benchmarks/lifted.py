"""Compile time and step time of scopax's lifted transforms against Python-unrolled code.

Run from the repository root::

    python benchmarks/lifted.py --quick   # about 1 minute on 2 idle CPU cores
    python benchmarks/lifted.py           # every depth and length, more repeats

Two benchmarks, each measured in this one process, with the configurations of a
benchmark interleaved round by round (so drift on a noisy machine hits every
configuration alike; each round in its own shuffled order) and the median over
the rounds reported:

* ``depth``: trace + lower + XLA compile of ``jax.jit(model.apply)`` for a
  residual MLP block repeated ``n`` times, Python-unrolled (one ``layer_<i>``
  scope per layer) against ``sx.layer_stack(n)`` (one ``lax.scan``);
* ``rnn``: a GRU cell over ``T`` steps, Python-unrolled with
  ``reuse_variables()`` after the first step against ``sx.scan``: compile time
  and the time of one jitted call (the whole sequence) of the compiled function.

Every model is built from a fresh function object, so no JAX cache (jit's trace
cache, scan's body-jaxpr cache, the lowering and executable caches) can hand a
later measurement the work of an earlier one. Only ratios of numbers from the
same run are meaningful; the absolute times describe this machine, at this
moment, only.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import scopax as sx

# ---------------------------------------------------------------------------
# Models.

WIDTH = 64  # Width of the depth benchmark's residual stream (its MLP is 4x wider).
BATCH = 8
HIDDEN = 32  # GRU state size.
INPUTS = 16  # GRU input size.
RNN_BATCH = 4
# sx.scan compiles in well under a second and is measured this many times per round, so
# its median rests on as many samples as the round count allows for the slow unrolled RNN.
SCAN_SAMPLES_PER_ROUND = 3
CALLS_PER_CHUNK = 10


def _dense(x: jax.Array, units: int, name: str) -> jax.Array:
    with sx.variable_scope(name):
        w = sx.get_variable("w", [x.shape[-1], units])
        b = sx.get_variable("b", [units], initializer=sx.zeros_initializer())
    return x @ w + b


def _layer_norm(x: jax.Array) -> jax.Array:
    with sx.variable_scope("layer_norm"):
        scale = sx.get_variable("scale", [x.shape[-1]], initializer=sx.ones_initializer())
        offset = sx.get_variable("offset", [x.shape[-1]], initializer=sx.zeros_initializer())
    mean = x.mean(-1, keepdims=True)
    var = jnp.square(x - mean).mean(-1, keepdims=True)
    return (x - mean) * jax.lax.rsqrt(var + 1e-6) * scale + offset


def residual_block(x: jax.Array) -> jax.Array:
    """Pre-norm residual MLP: x + down(gelu(up(layer_norm(x))))."""
    h = jax.nn.gelu(_dense(_layer_norm(x), 4 * x.shape[-1], "up"))
    return x + _dense(h, x.shape[-1], "down")


def make_deep_model(style: str, depth: int) -> Callable[[jax.Array], jax.Array]:
    """A fresh function applying ``residual_block`` ``depth`` times, in ``style``.

    Both styles name their variables as ``layer_stack`` documents, so
    ``sx.convert_layer_stack`` maps one tree onto the other.
    """
    if style == "unrolled":

        def unrolled(x: jax.Array) -> jax.Array:
            with sx.variable_scope("layer_stack"):
                for i in range(depth):
                    with sx.variable_scope(f"layer_{i}"):
                        x = residual_block(x)
            return x

        return unrolled
    if style == "stacked":

        def stacked(x: jax.Array) -> jax.Array:
            # A fresh closure as the layer too: scan caches its body's jaxpr by identity.
            return sx.layer_stack(depth)(lambda h: residual_block(h))(x)

        return stacked
    raise ValueError(f"unknown style {style!r}")


def gru_cell(h: jax.Array, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """One GRU step; returns ``(new state, output)`` as a scan body does."""
    with sx.variable_scope("gru"):
        gates = jax.nn.sigmoid(_dense(jnp.concatenate([x, h], -1), 2 * h.shape[-1], "gates"))
        reset, update = jnp.split(gates, 2, axis=-1)
        candidate = jnp.tanh(_dense(jnp.concatenate([x, reset * h], -1), h.shape[-1], "candidate"))
    h = update * h + (1.0 - update) * candidate
    return h, h


def make_rnn_model(style: str) -> Callable[[jax.Array], tuple[jax.Array, jax.Array]]:
    """A fresh function running ``gru_cell`` over the leading axis of ``xs``."""
    if style == "unrolled":

        def unrolled(xs: jax.Array) -> tuple[jax.Array, jax.Array]:
            h = jnp.zeros((xs.shape[1], HIDDEN))
            ys = []
            with sx.variable_scope("rnn") as scope:
                for t in range(xs.shape[0]):
                    if t:
                        scope.reuse_variables()
                    h, y = gru_cell(h, xs[t])
                    ys.append(y)
            return h, jnp.stack(ys)

        return unrolled
    if style == "scan":

        def scanned(xs: jax.Array) -> tuple[jax.Array, jax.Array]:
            with sx.variable_scope("rnn"):
                return sx.scan(lambda h, x: gru_cell(h, x), jnp.zeros((xs.shape[1], HIDDEN)), xs)

        return scanned
    raise ValueError(f"unknown style {style!r}")


# ---------------------------------------------------------------------------
# Measurement.


@dataclasses.dataclass
class CompileTime:
    """Seconds of one ``jax.jit(apply).lower(...).compile()``."""

    lower: float  # Python trace + jaxpr + StableHLO lowering.
    compile: float  # XLA compilation.

    @property
    def total(self) -> float:
        return self.lower + self.compile


def abstract_params(model: sx.Transformed, *args: Any) -> Any:
    """The parameter tree's shapes and dtypes, from an abstract (allocation-free) init."""
    return jax.eval_shape(model.init, jax.random.key(0), *args)


def time_compile(fn: Callable[..., Any], *args: Any) -> tuple[CompileTime, Any]:
    """Trace, lower and compile ``jax.jit(sx.transform(fn).apply)``; returns the times
    and the compiled executable."""
    model = sx.transform(fn)
    params = abstract_params(model, *args)
    gc.collect()
    start = time.perf_counter()
    lowered = jax.jit(model.apply).lower(params, *args)
    lowered_at = time.perf_counter()
    compiled = lowered.compile()
    done = time.perf_counter()
    return CompileTime(lowered_at - start, done - lowered_at), compiled


def time_calls(compiled: Any, args: Sequence[Any], calls: int) -> list[float]:
    """Seconds of each of ``calls`` calls of ``compiled``, each waited for."""
    jax.block_until_ready(compiled(*args))  # Warm: first-call allocations.
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        jax.block_until_ready(compiled(*args))
        times.append(time.perf_counter() - start)
    return times


def interleaved_order(configs: list[Any], round_index: int) -> list[Any]:
    """Every configuration once per round, in a fresh (seeded) order each round.

    Shuffling, rather than a fixed or alternating order, keeps a configuration from
    always following the same neighbour (say, a 20-second compile that leaves the
    allocator and caches in some state), which would bias its median.
    """
    order = list(configs)
    random.Random(round_index).shuffle(order)
    return order


def median_compile(samples: list[CompileTime]) -> CompileTime:
    return CompileTime(
        statistics.median(s.lower for s in samples),
        statistics.median(s.compile for s in samples),
    )


# ---------------------------------------------------------------------------
# Output.


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A Markdown table, right-aligned, so the output can be pasted into the README."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print(f"\n{title}\n")
    print("| " + " | ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) + " |")


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.0f} ms"


def us(seconds: float) -> str:
    return f"{seconds * 1e6:.0f} us"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x"


def describe_machine() -> str:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    device = jax.devices()[0]
    return (
        f"machine: {platform.platform()} ({platform.machine()}), {cores} usable CPU cores "
        f"(os.cpu_count()={os.cpu_count()})\n"
        f"python {platform.python_version()}, jax {jax.__version__}, "
        f"backend {jax.default_backend()} ({device.device_kind}, {jax.device_count()} device(s))"
    )


# ---------------------------------------------------------------------------
# Benchmarks.


def bench_depth(depths: Sequence[int], rounds: int) -> dict[tuple[str, int], CompileTime]:
    """Compile time of Python-unrolled layers against ``sx.layer_stack``, by depth."""
    styles = ("unrolled", "stacked")
    x = jnp.ones((BATCH, WIDTH))
    configs = [(style, depth) for depth in depths for style in styles]
    for style in styles:  # Warm-up: one-time costs (backend, lowering rules) are not measured.
        time_compile(make_deep_model(style, min(depths)), x)
    samples: dict[tuple[str, int], list[CompileTime]] = {c: [] for c in configs}
    for r in range(rounds):
        for style, depth in interleaved_order(configs, r):
            samples[style, depth].append(time_compile(make_deep_model(style, depth), x)[0])
    medians = {c: median_compile(s) for c, s in samples.items()}

    rows = []
    for depth in depths:
        u, s = medians["unrolled", depth], medians["stacked", depth]
        rows.append(
            [
                str(depth),
                ms(u.total),
                ms(s.total),
                ratio(u.total, s.total),
                f"{ms(u.lower)} + {ms(u.compile)}",
                f"{ms(s.lower)} + {ms(s.compile)}",
            ]
        )
    print_table(
        f"Compile time vs depth (residual MLP block, width {WIDTH}; median of {rounds} rounds)",
        [
            "depth",
            "unrolled",
            "layer_stack",
            "unrolled / layer_stack",
            "unrolled: lower + XLA",
            "layer_stack: lower + XLA",
        ],
        rows,
    )
    lo, hi = min(depths), max(depths)
    growth = medians["stacked", hi].total / medians["stacked", lo].total
    verdict = "meets" if growth <= 1.5 else "MISSES"
    print(
        f"\nlayer_stack({hi}) / layer_stack({lo}) compile time: {growth:.2f}x "
        f"({verdict} the <= 1.5x target); "
        f"unrolled({hi}) / unrolled({lo}): "
        f"{medians['unrolled', hi].total / medians['unrolled', lo].total:.2f}x"
    )
    return medians


def bench_rnn(
    lengths: Sequence[int], rounds: int, calls: int
) -> dict[tuple[str, int], tuple[CompileTime, float]]:
    """Compile time and step time of a Python-unrolled GRU against ``sx.scan``, by length."""
    styles = ("unrolled", "scan")
    configs = [(style, length) for length in lengths for style in styles]
    inputs = {
        t: jax.random.normal(jax.random.key(t), (t, RNN_BATCH, INPUTS), jnp.float32)
        for t in lengths
    }
    # Both styles name the variables alike and their shapes do not depend on T, so one
    # tree serves every configuration, and the two styles' outputs must agree.
    params = sx.transform(make_rnn_model("scan")).init(jax.random.key(0), inputs[min(lengths)])
    for style in styles:
        time_compile(make_rnn_model(style), inputs[min(lengths)])

    compile_samples: dict[tuple[str, int], list[CompileTime]] = {c: [] for c in configs}
    call_samples: dict[tuple[str, int], list[float]] = {c: [] for c in configs}
    outputs: dict[tuple[str, int], Any] = {}
    for r in range(rounds):
        compiled: dict[tuple[str, int], Any] = {}
        for style, length in interleaved_order(configs, r):
            for _ in range(SCAN_SAMPLES_PER_ROUND if style == "scan" else 1):
                elapsed, compiled[style, length] = time_compile(
                    make_rnn_model(style), inputs[length]
                )
                compile_samples[style, length].append(elapsed)
        # Calls are interleaved too, a few at a time, so a burst of load on the machine
        # lands on every configuration rather than on one configuration's calls.
        for chunk in range(calls // CALLS_PER_CHUNK):
            for config in interleaved_order(configs, r * calls + chunk):
                args = (params, inputs[config[1]])
                call_samples[config].extend(time_calls(compiled[config], args, CALLS_PER_CHUNK))
        for config in configs:
            outputs[config] = compiled[config](params, inputs[config[1]])
    for length in lengths:
        np.testing.assert_allclose(
            outputs["unrolled", length][1], outputs["scan", length][1], rtol=1e-4, atol=1e-5
        )

    medians = {
        c: (median_compile(compile_samples[c]), statistics.median(call_samples[c])) for c in configs
    }
    rows = []
    for length in lengths:
        (uc, ut), (sc, st) = medians["unrolled", length], medians["scan", length]
        rows.append(
            [
                str(length),
                ms(uc.total),
                ms(sc.total),
                ratio(uc.total, sc.total),
                us(ut),
                us(st),
                ratio(ut, st),
            ]
        )
    print_table(
        f"GRU over T steps (hidden {HIDDEN}, batch {RNN_BATCH}; compile: median of {rounds} "
        f"rounds, {rounds} x {SCAN_SAMPLES_PER_ROUND} samples for sx.scan; call: median of "
        f"{rounds} x {calls} jitted calls)",
        [
            "T",
            "compile unrolled",
            "compile sx.scan",
            "unrolled / scan",
            "call unrolled",
            "call sx.scan",
            "unrolled / scan",
        ],
        rows,
    )
    lo, hi = min(lengths), max(lengths)
    print(
        f"\nsx.scan compile time T={hi} / T={lo}: "
        f"{medians['scan', hi][0].total / medians['scan', lo][0].total:.2f}x; "
        f"unrolled T={hi} / T={lo}: "
        f"{medians['unrolled', hi][0].total / medians['unrolled', lo][0].total:.2f}x "
        "(outputs of both styles agree)"
    )
    return medians


# ---------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    """The command line (a function, so tests can check what the Makefile passes)."""
    parser = argparse.ArgumentParser(
        description="Compile time and step time of scopax's lifted transforms."
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer depths and rounds (about 1 minute on 2 idle cores)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        help="rounds per configuration (quick: depth 5, RNN 3; full: depth 7, RNN 5)",
    )
    parser.add_argument(
        "--only", choices=("depth", "rnn"), help="run one benchmark instead of both"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)

    depths = (4, 32) if args.quick else (4, 16, 64, 128)
    lengths = (10, 50, 200)
    depth_rounds = args.rounds or (5 if args.quick else 7)
    rnn_rounds = args.rounds or (3 if args.quick else 5)
    calls = 100 if args.quick else 300

    print(describe_machine())
    print(
        f"mode: {'quick' if args.quick else 'full'}; configurations interleaved, medians over "
        "rounds; ratios compare numbers from this run only"
    )
    start = time.perf_counter()
    if args.only in (None, "depth"):
        bench_depth(depths, depth_rounds)
    if args.only in (None, "rnn"):
        bench_rnn(lengths, rnn_rounds, calls)
    print(f"\ntotal wall time: {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
