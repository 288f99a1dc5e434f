"""First-call init time: scopax's ``model.init`` against a hand-written pure-JAX init.

A user meets ``init`` first, usually eagerly and in a fresh process (a notebook, a
script), so that is what is measured: each sample is a new Python process that builds
the model and times its first ``init`` call, compilation included, to the last value
ready. The pure-JAX side creates the same variables with the same initializers and
does nothing else (a hand-written init needs no forward pass). Samples alternate
between the two, round by round, and every printed number is a ratio of medians
measured in the same run (these machines are noisy). Targets (issue 12): eager and
jitted, scopax / pure <= 1.1 for each model.

Models, each written as TF1 code is (scopes, ``get_variable``, a forward pass of many
small ops):

* ``bert``: BERT-base's variables and forward pass (``modeling.py``'s structure, 110 M
  parameters; ``--quick`` keeps 2 of its 12 layers);
* ``cifar10``: TF's CIFAR-10 tutorial network;
* ``dcgan``: a DCGAN generator and discriminator with batch norm (state).

Run ``python benchmarks/init.py --quick`` (part of ``make bench``) or without
``--quick`` for the full sizes and more rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

import scopax as sx

# Every variable: (full name, shape, initializer, trainable). The scopax models below
# create exactly these; the pure side builds them from this list.
Spec = tuple[str, tuple[int, ...], Any, bool]

TRUNC = sx.truncated_normal_initializer(stddev=0.02)
ZEROS = sx.zeros_initializer()
ONES = sx.ones_initializer()


def _dense(x: jax.Array, units: int, name: str) -> jax.Array:
    with sx.variable_scope(name):
        w = sx.get_variable("kernel", [x.shape[-1], units], initializer=TRUNC)
        b = sx.get_variable("bias", [units], initializer=ZEROS)
    return x @ w + b[None]


def _layer_norm(x: jax.Array, name: str = "LayerNorm") -> jax.Array:
    with sx.variable_scope(name):
        beta = sx.get_variable("beta", [x.shape[-1]], initializer=ZEROS)
        gamma = sx.get_variable("gamma", [x.shape[-1]], initializer=ONES)
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) * jax.lax.rsqrt(var + 1e-12) * gamma[None] + beta[None]


def bert(ids: jax.Array, layers: int = 12, hidden: int = 768, heads: int = 12) -> jax.Array:
    """BERT-base's ``modeling.py`` structure: embeddings, ``layers`` encoder layers, pooler."""
    batch, seq = ids.shape
    with sx.variable_scope("bert"):
        with sx.variable_scope("embeddings"):
            table = sx.get_variable("word_embeddings", [30522, hidden], initializer=TRUNC)
            types = sx.get_variable("token_type_embeddings", [2, hidden], initializer=TRUNC)
            position = sx.get_variable("position_embeddings", [512, hidden], initializer=TRUNC)
            x = table[ids] + types[0][None, None] + position[:seq][None]
            x = _layer_norm(x).reshape(batch * seq, hidden)
        size = hidden // heads
        with sx.variable_scope("encoder"):
            for i in range(layers):
                with sx.variable_scope(f"layer_{i}"):
                    with sx.variable_scope("attention"):
                        with sx.variable_scope("self"):
                            q, k, v = (
                                _dense(x, hidden, n).reshape(batch, seq, heads, size)
                                for n in ("query", "key", "value")
                            )
                        scores = jnp.einsum("bqhd,bkhd->bhqk", q, k) / size**0.5
                        context = jnp.einsum("bhqk,bkhd->bqhd", jax.nn.softmax(scores), v)
                        with sx.variable_scope("output"):
                            out = _dense(context.reshape(batch * seq, hidden), hidden, "dense")
                            x = _layer_norm(out + x)
                    with sx.variable_scope("intermediate"):
                        h = jax.nn.gelu(_dense(x, 4 * hidden, "dense"), approximate=False)
                    with sx.variable_scope("output"):
                        x = _layer_norm(_dense(h, hidden, "dense") + x)
        with sx.variable_scope("pooler"):
            first = x.reshape(batch, seq, hidden)[:, 0]
            return jnp.tanh(_dense(first, hidden, "dense"))


def cifar10(images: jax.Array) -> jax.Array:
    """TF's CIFAR-10 tutorial network (conv, pool, lrn, two locally connected, softmax)."""

    def conv(x: jax.Array, name: str, depth: int) -> jax.Array:
        with sx.variable_scope(name):
            w = sx.get_variable(
                "weights",
                [5, 5, x.shape[-1], depth],
                initializer=sx.truncated_normal_initializer(stddev=5e-2),
            )
            b = sx.get_variable("biases", [depth], initializer=sx.constant_initializer(0.1))
        y = jax.lax.conv_general_dilated(
            x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
        )
        return jax.nn.relu(y + b[None, None, None])

    def pool(x: jax.Array) -> jax.Array:
        return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 3, 3, 1), (1, 2, 2, 1), "SAME")

    def local(x: jax.Array, name: str, units: int, stddev: float) -> jax.Array:
        with sx.variable_scope(name):
            w = sx.get_variable(
                "weights",
                [x.shape[-1], units],
                initializer=sx.truncated_normal_initializer(stddev=stddev),
            )
            b = sx.get_variable("biases", [units], initializer=sx.constant_initializer(0.1))
        return x @ w + b[None]

    x = pool(conv(images, "conv1", 64))
    x = pool(conv(x, "conv2", 64))
    x = x.reshape(x.shape[0], -1)
    x = jax.nn.relu(local(x, "local3", 384, 0.04))
    x = jax.nn.relu(local(x, "local4", 192, 0.04))
    return local(x, "softmax_linear", 10, 1 / 192.0)


def _batch_norm(x: jax.Array, name: str) -> jax.Array:
    with sx.variable_scope(name):
        depth = x.shape[-1]
        beta = sx.get_variable("beta", [depth], initializer=ZEROS)
        gamma = sx.get_variable(
            "gamma", [depth], initializer=sx.random_normal_initializer(1.0, 0.02)
        )
        mean_v = sx.get_variable("moving_mean", [depth], initializer=ZEROS, trainable=False)
        var_v = sx.get_variable("moving_variance", [depth], initializer=ONES, trainable=False)
    axes = tuple(range(x.ndim - 1))
    mean, var = x.mean(axes), x.var(axes)
    sx.assign(mean_v, 0.9 * mean_v + 0.1 * mean)
    sx.assign(var_v, 0.9 * var_v + 0.1 * var)
    return (x - mean) * jax.lax.rsqrt(var + 1e-5) * gamma + beta


def dcgan(z: jax.Array, size: int = 64, gf: int = 64, df: int = 64) -> jax.Array:
    """A DCGAN's generator (linear, 4 transposed convs) and discriminator (4 convs, linear),
    batch norm after every layer but the first of each."""
    normal = sx.random_normal_initializer(stddev=0.02)

    def linear(x: jax.Array, units: int, name: str) -> jax.Array:
        with sx.variable_scope(name):
            w = sx.get_variable("Matrix", [x.shape[-1], units], initializer=normal)
            b = sx.get_variable("bias", [units], initializer=ZEROS)
        return x @ w + b[None]

    def conv(x: jax.Array, depth: int, name: str, transpose: bool) -> jax.Array:
        with sx.variable_scope(name):
            shape = [5, 5, depth, x.shape[-1]] if transpose else [5, 5, x.shape[-1], depth]
            w = sx.get_variable("w", shape, initializer=normal)
            b = sx.get_variable("biases", [depth], initializer=ZEROS)
        if transpose:
            y = jax.lax.conv_transpose(
                x, w, (2, 2), "SAME", dimension_numbers=("NHWC", "HWOI", "NHWC")
            )
        else:
            y = jax.lax.conv_general_dilated(
                x, w, (2, 2), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
            )
        return y + b[None, None, None]

    s16 = size // 16
    with sx.variable_scope("generator"):
        h = linear(z, gf * 8 * s16 * s16, "g_h0_lin").reshape(-1, s16, s16, gf * 8)
        h = jax.nn.relu(_batch_norm(h, "g_bn0"))
        for i, depth in enumerate((gf * 4, gf * 2, gf)):
            h = jax.nn.relu(_batch_norm(conv(h, depth, f"g_h{i + 1}", True), f"g_bn{i + 1}"))
        image = jnp.tanh(conv(h, 3, "g_h4", True))
    with sx.variable_scope("discriminator"):
        h = jax.nn.leaky_relu(conv(image, df, "d_h0_conv", False), 0.2)
        for i, depth in enumerate((df * 2, df * 4, df * 8)):
            h = conv(h, depth, f"d_h{i + 1}_conv", False)
            h = jax.nn.leaky_relu(_batch_norm(h, f"d_bn{i + 1}"), 0.2)
        return linear(h.reshape(h.shape[0], -1), 1, "d_h4_lin")


def _model(name: str, quick: bool) -> tuple[Callable[..., Any], tuple[Any, ...]]:
    if name == "bert":
        layers = 2 if quick else 12
        return (lambda ids: bert(ids, layers)), (jnp.zeros((2, 128), jnp.int32),)
    if name == "cifar10":
        return cifar10, (jnp.zeros((8, 24, 24, 3)),)
    return dcgan, (jnp.zeros((8, 100)),)


def _specs(fn: Callable[..., Any], args: tuple[Any, ...]) -> list[Spec]:
    """Every variable of ``fn``, with its initializer: recorded by a custom getter, abstractly."""
    found: list[Spec] = []

    def record(getter: Callable[..., Any], name: str, *a: Any, **kw: Any) -> Any:
        found.append((name, tuple(kw["shape"]), kw["initializer"], kw["trainable"]))
        return getter(name, *a, **kw)

    def wrapped(*a: Any) -> Any:
        # The root scope, re-entered with the getter: every variable passes through it.
        with sx.variable_scope(sx.get_variable_scope(), custom_getter=record):
            return fn(*a)

    jax.eval_shape(sx.transform_with_state(wrapped).init, jax.random.key(0), *args)
    return found


def _pure_init(specs: list[Spec]) -> Callable[[jax.Array], dict[str, jax.Array]]:
    def init(key: jax.Array) -> dict[str, jax.Array]:
        return {
            name: initializer(jax.random.fold_in(key, i), shape, jnp.float32)
            for i, (name, shape, initializer, _) in enumerate(specs)
        }

    return init


def child(model: str, impl: str, mode: str, quick: bool, specs_file: str | None) -> float:
    """One sample: the first init call of a fresh process, in seconds."""
    key = jax.random.key(0)
    if impl == "pure":
        # The variables were found by the parent: finding them here would warm JAX's
        # trace caches (the initializers' jaxprs) that the timed call then reuses.
        with open(specs_file or "", "rb") as f:
            init = _pure_init(pickle.load(f))
        call = (lambda: init(key)) if mode == "eager" else (lambda: jax.jit(init)(key))
    else:
        fn, args = _model(model, quick)
        model_init = sx.transform_with_state(fn).init
        call = (
            (lambda: model_init(key, *args))
            if mode == "eager"
            else (lambda: jax.jit(model_init)(key, *args))
        )
    start = time.perf_counter()
    jax.block_until_ready(call())
    return time.perf_counter() - start


def parser() -> argparse.ArgumentParser:
    """The command line, also read by tests/test_benchmarks.py."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 BERT layers, 2 rounds")
    parser.add_argument("--rounds", type=int, default=None, help="samples of each side")
    parser.add_argument("--models", default="bert,cifar10,dcgan")
    parser.add_argument(
        "--child", nargs=3, metavar=("MODEL", "IMPL", "MODE"), help=argparse.SUPPRESS
    )
    parser.add_argument("--specs", help=argparse.SUPPRESS)
    return parser


def _sample(model: str, impl: str, mode: str, quick: bool, specs_file: str) -> float:
    command = [sys.executable, __file__, "--child", model, impl, mode, "--specs", specs_file]
    if quick:
        command.append("--quick")
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds"]


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.child:
        model, impl, mode = args.child
        print(json.dumps({"seconds": child(model, impl, mode, args.quick, args.specs)}))
        return 0
    rounds = args.rounds or (2 if args.quick else 5)
    print(f"first-call init, fresh process per sample, {rounds} rounds, median seconds")
    for model in args.models.split(","):
        specs_file = os.path.join(tempfile.mkdtemp(), f"{model}.pickle")
        with open(specs_file, "wb") as f:
            pickle.dump(_specs(*_model(model, args.quick)), f)
        for mode in ("eager", "jit"):
            times: dict[str, list[float]] = {"pure": [], "scopax": []}
            for _ in range(rounds):
                for impl in ("pure", "scopax"):
                    times[impl].append(_sample(model, impl, mode, args.quick, specs_file))
            pure, ours = statistics.median(times["pure"]), statistics.median(times["scopax"])
            verdict = "met" if ours / pure <= 1.1 else "MISSED"
            print(
                f"init {model:<8} {mode:<5}: pure {pure:6.2f} s, scopax {ours:6.2f} s, "
                f"ratio {ours / pure:.2f}x (target <= 1.10x: {verdict})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
