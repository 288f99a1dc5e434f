"""scopax against pure JAX, Haiku and flax.core, measured side by side in one process.

Every number printed is a ratio or a difference against a baseline measured in the
same run, interleaved round by round (these machines are noisy): absolute times
would mean nothing on another machine. Run ``python benchmarks/run.py --quick``
(under two minutes on two idle cores) or ``make bench``.

What is measured (the targets are issue 6's):

* trace: ``jax.make_jaxpr(apply)`` of an MLP of N dense layers (2N variables),
  extra microseconds per variable over pure JAX with an explicit params dict;
* lower: the same for ``jax.jit(apply).lower``;
* both also for *pure+names*, pure JAX with the ``jax.named_scope`` per layer that
  scopax's contract requires, to separate what JAX charges for op names from
  scopax's own bookkeeping (the "scopax over pure+names" column);
* init trace / eager init: over a pure-JAX init that derives every key from the
  variable's name (one jitted ``fold_in`` of the SHA-1 words, the cheapest way we
  know) and runs the forward pass; it makes the same values as scopax's init;
* shared read: each extra read of one reused variable (an RNN unrolled T steps);
* tiny apply: eager and jitted calls of a 2-layer MLP, ratio to pure JAX;
* scaling: scopax's trace time per variable at a larger N over the small N (and pure
  JAX's, for reference), both measured in one interleaved loop (the small model
  traced N_large / N_small times per sample), with scopax's extra over pure at each;
* HLO: the compiled, optimized HLO of scopax's jitted apply equals pure JAX's
  (metadata and names stripped), and the jitted step-time ratio;
* memory: peak host memory of an eager init over the parameter bytes (a fresh
  process per measurement, after a warm-up, with the kernel's peak counter reset);
  on an accelerator, the peak of its allocator instead.

On a GPU, ``benchmarks/device.sh`` runs the quick benchmarks with the machine's own
CUDA build of JAX (see ``benchmarks/README.md``).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

import scopax as sx

WIDTH = 8


# Models: the same MLP written four ways. Each builder returns (init, apply) closures that
# are new function objects on every call, so JAX's trace caches never hide work.


def scopax_mlp(n: int) -> tuple[Callable[..., Any], Callable[..., Any]]:
    def fn(x):
        for i in range(n):
            with sx.variable_scope(f"l{i}"):
                w = sx.get_variable("w", [WIDTH, WIDTH])
                b = sx.get_variable("b", [WIDTH], initializer=sx.zeros_initializer())
                x = jnp.tanh(x @ w + b)
        return x

    model = sx.transform(fn)
    return model.init, model.apply  # new functions on every call of transform


@jax.jit
def _fold_words(rng: Any, hi: Any, lo: Any) -> Any:
    hi = jax.lax.bitcast_convert_type(hi, jnp.uint32)
    lo = jax.lax.bitcast_convert_type(lo, jnp.uint32)
    return jax.random.fold_in(jax.random.fold_in(rng, hi), lo)


def _name_key(rng: Any, name: str) -> Any:
    # The cheapest way we know to derive a key from a name in pure JAX, so that the
    # baseline is the floor: one jitted fold (inlined from cache when traced), the two
    # 32-bit SHA-1 words passed as Python ints (jit abstracts numpy scalars slowly).
    digest = hashlib.sha1(name.encode()).digest()
    hi, lo = (int.from_bytes(digest[i : i + 4], "big", signed=True) for i in (0, 4))
    return _fold_words(rng, hi, lo)


def pure_mlp(n: int) -> tuple[Callable[..., Any], Callable[..., Any]]:
    glorot = sx.glorot_uniform_initializer()

    def apply(params, x):
        for i in range(n):
            layer = params[f"l{i}"]
            x = jnp.tanh(x @ layer["w"] + layer["b"])
        return x

    def init(rng, x):
        params = {}
        for i in range(n):
            w = glorot(_name_key(rng, f"l{i}/w"), (WIDTH, WIDTH), jnp.float32)
            b = jnp.zeros((WIDTH,), jnp.float32)
            params[f"l{i}"] = {"w": w, "b": b}
        apply(params, x)  # The floor: scopax's init also runs the forward pass.
        return params

    return init, apply


def named_mlp(n: int) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """Pure JAX plus the ``jax.named_scope`` per layer that scopax's contract asks for.

    Not a competitor: it isolates what JAX itself charges for op names (in tracing,
    and more in lowering, where every op gets a distinct MLIR name location), so the
    table can show how much of scopax's overhead is its own bookkeeping.
    """
    init, _ = pure_mlp(n)

    def apply(params, x):
        for i in range(n):
            with jax.named_scope(f"l{i}"):
                layer = params[f"l{i}"]
                x = jnp.tanh(x @ layer["w"] + layer["b"])
        return x

    return init, apply


def haiku_mlp(n: int) -> tuple[Callable[..., Any], Callable[..., Any]] | None:
    try:
        import haiku as hk  # pyright: ignore[reportMissingImports]
    except ImportError:
        return None

    def fn(x):
        for i in range(n):
            x = jnp.tanh(hk.Linear(WIDTH, name=f"l{i}")(x))
        return x

    model = hk.transform(fn)
    return (lambda *a: model.init(*a)), (lambda p, x: model.apply(p, None, x))


def flax_mlp(n: int) -> tuple[Callable[..., Any], Callable[..., Any]] | None:
    try:
        from flax import core as fcore  # pyright: ignore[reportMissingImports]
        from flax.linen import initializers  # pyright: ignore[reportMissingImports]
    except ImportError:
        return None

    def fn(scope, x):
        for i in range(n):
            layer = scope.push(f"l{i}")
            w = layer.param("w", initializers.glorot_uniform(), (WIDTH, WIDTH))
            b = layer.param("b", initializers.zeros_init(), (WIDTH,))
            x = jnp.tanh(x @ w + b)
        return x

    return (lambda rng, x: fcore.init(fn)(rng, x)[1]), (lambda p, x: fcore.apply(fn)(p, x))


LIBRARIES: dict[str, Callable[[int], Any]] = {
    "pure": pure_mlp,
    "pure+names": named_mlp,
    "scopax": scopax_mlp,
    "haiku": haiku_mlp,
    "flax.core": flax_mlp,
}


def interleaved(tasks: dict[str, Callable[[], Any]], rounds: int) -> dict[str, float]:
    """Median seconds of each task, running one of each per round."""
    times: dict[str, list[float]] = {name: [] for name in tasks}
    for _ in range(rounds):
        for name, task in tasks.items():
            # A collection triggered by one library's garbage must not bill the next one.
            gc.collect()
            gc.disable()
            try:
                start = time.perf_counter()
                task()
                times[name].append(time.perf_counter() - start)
            finally:
                gc.enable()
    return {name: statistics.median(ts) for name, ts in times.items()}


def _params_for(name: str, n: int, x: Any) -> Any:
    init, _ = LIBRARIES[name](n)
    return init(jax.random.key(0), x)


def trace_costs(n: int, rounds: int) -> dict[str, dict[str, float]]:
    """Seconds to make_jaxpr / lower apply, to make_jaxpr init, and to init eagerly."""
    x = jnp.ones((1, WIDTH))
    available = {k: v for k, v in LIBRARIES.items() if v(1) is not None}
    params = {name: _params_for(name, n, x) for name in available}
    key = jax.random.key(0)
    # pure+names initializes exactly as pure does: it only enters the init metrics as pure.
    inits = {k: v for k, v in available.items() if k != "pure+names"}
    return {
        "trace apply": interleaved(
            {k: lambda k=k: jax.make_jaxpr(available[k](n)[1])(params[k], x) for k in available},
            rounds,
        ),
        "lower apply": interleaved(
            {k: lambda k=k: jax.jit(available[k](n)[1]).lower(params[k], x) for k in available},
            rounds,
        ),
        "trace init": interleaved(
            {k: lambda k=k: jax.make_jaxpr(inits[k](n)[0])(key, x) for k in inits},
            rounds,
        ),
        "eager init": interleaved(
            {k: lambda k=k: jax.block_until_ready(inits[k](n)[0](key, x)) for k in inits},
            max(1, rounds // 2),
        ),
    }


def scaling(small: int, large: int, rounds: int) -> dict[str, float]:
    """Seconds per variable to trace apply at ``small`` and ``large`` sizes.

    For scopax and pure JAX, in one interleaved loop, so that the machine's drift
    between two separate measurements does not land on one side of a ratio; the small
    size's trace is repeated to take about as long as the large one's. Keys are
    ``"<lib> <size>"``.
    """
    x = jnp.ones((1, WIDTH))
    repeats = max(1, large // small)
    tasks: dict[str, Callable[[], Any]] = {}
    for size in (small, large):
        for lib in ("pure", "scopax"):
            params = _params_for(lib, size // 2, x)

            def task(lib: str = lib, size: int = size, params: Any = params) -> None:
                for _ in range(repeats if size == small else 1):
                    jax.make_jaxpr(LIBRARIES[lib](size // 2)[1])(params, x)

            tasks[f"{lib} {size}"] = task
    times = interleaved(tasks, rounds)
    return {
        name: seconds / (size * (repeats if size == small else 1))
        for name, seconds in times.items()
        for size in [int(name.split()[1])]
    }


def shared_read_cost(steps: int, rounds: int) -> float:
    """Extra seconds per additional read of one reused variable (scopax over pure)."""

    def scopax_rnn():
        def fn(h):
            with sx.variable_scope("rnn") as scope:
                for t in range(steps):
                    if t:
                        scope.reuse_variables()
                    h = jnp.tanh(h @ sx.get_variable("w", [WIDTH, WIDTH]))
            return h

        return sx.transform(fn)

    def pure_rnn(p, h):
        for _ in range(steps):
            h = jnp.tanh(h @ p["rnn"]["w"])
        return h

    h = jnp.ones((1, WIDTH))
    model = scopax_rnn()
    params = model.init(jax.random.key(0), h)
    times = interleaved(
        {
            "pure": lambda: jax.make_jaxpr(lambda p, h: pure_rnn(p, h))(params, h),
            "scopax": lambda: jax.make_jaxpr(lambda p, h: model.apply(p, h))(params, h),
        },
        rounds,
    )
    return (times["scopax"] - times["pure"]) / steps


def tiny_apply(rounds: int) -> dict[str, float]:
    """Eager and jitted per-call ratios of a 2-layer MLP, scopax over pure."""
    s_init, s_apply = scopax_mlp(2)
    p_init, p_apply = pure_mlp(2)
    _, n_apply = named_mlp(2)
    x = jnp.ones((4, WIDTH))
    sp = s_init(jax.random.key(0), x)
    pp = p_init(jax.random.key(0), x)
    s_jit, p_jit = jax.jit(s_apply), jax.jit(p_apply)
    jax.block_until_ready((s_jit(sp, x), p_jit(pp, x)))
    calls = 50

    def many(f: Callable[..., Any], p: Any) -> Callable[[], Any]:
        return lambda: jax.block_until_ready([f(p, x) for _ in range(calls)])

    # A sample takes milliseconds, so take many: the ratio is of medians of 6 x rounds.
    eager = interleaved(
        {"pure": many(p_apply, pp), "names": many(n_apply, pp), "scopax": many(s_apply, sp)},
        rounds * 6,
    )

    def dispatches(f: Callable[..., Any], p: Any) -> Callable[[], Any]:
        # Dispatch cost only: 200 calls without keeping their results, then one wait.
        def go() -> None:
            out = None
            for _ in range(200):
                out = f(p, x)
            jax.block_until_ready(out)

        return go

    jitted = interleaved(
        {"pure": dispatches(p_jit, pp), "scopax": dispatches(s_jit, sp)}, rounds * 12
    )
    return {
        "eager": eager["scopax"] / eager["pure"],
        "eager names": eager["names"] / eager["pure"],
        "eager us": eager["pure"] / calls * 1e6,
        "jit": jitted["scopax"] / jitted["pure"],
    }


def canonical_hlo(text: str) -> str:
    """Optimized HLO with metadata, module names and value names made canonical."""
    # The debug tables (source files, functions, stack frames) say where ops came from.
    text = re.sub(
        r"^(FileNames|FunctionNames|FileLocations|StackFrames)\n(?:.+\n)*", "", text, flags=re.M
    )
    text = re.sub(r",?\s*metadata=\{[^}]*\}", "", text)
    text = re.sub(r",?\s*stack_frame_id=\d+", "", text)
    # Parameter names of the entry and of every computation's signature come from the
    # Python signature (args_0 vs p) and from op names (reduce_sum.32).
    text = re.sub(
        r"^((?:ENTRY )?%\S+ \(.*\) -> .*)$",
        lambda m: re.sub(r"[\w.\-]+: ", "", m.group(1)),
        text,
        flags=re.M,
    )
    text = re.sub(r"^HloModule \S+", "HloModule m", text, flags=re.M)
    # XLA's GPU compiler stamps the module with a hash of its text before scheduling,
    # metadata included (seen with jax 0.11 on an H200): the one place two programs that
    # are otherwise identical still differ.
    text = re.sub(r'fingerprint_before_lhs="[0-9a-f]*"', 'fingerprint_before_lhs=""', text)
    return _merkle(text)


def optimized_hlo(steps: dict[str, Any], states: dict[str, Any], *batch: Any) -> dict[str, str]:
    """Canonical optimized HLO of each side's jitted training step.

    ``steps`` maps a side to ``(jitted step, params)``, ``states`` to the ``(params,
    optimizer state)`` the step takes before ``batch``.
    """
    return {
        name: canonical_hlo(step.lower(*states[name], *batch).compile().as_text() or "")
        for name, (step, _) in steps.items()
    }


_HEADER = re.compile(r"^(ENTRY )?(%[\w.\-]+) (.*)\{$")
_INSTRUCTION = re.compile(r"^\s*(ROOT )?(%[\w.\-]+) = (.*)$")


def _merkle(text: str) -> str:
    """Name every value and computation by a hash of what defines it, and sort.

    Two programs that differ only in the order XLA happened to emit independent
    instructions (or in value names) then read the same: the comparison is of the
    dataflow graphs, not of the text.
    """
    names: dict[str, str] = {}

    def canonical(line: str) -> str:
        return re.sub(r"%[\w.\-]+", lambda m: names.get(m.group(0), m.group(0)), line)

    def digest(line: str) -> str:
        return hashlib.sha1(line.encode()).hexdigest()[:16]

    out: list[str] = []
    header: re.Match[str] | None = None
    body: list[str] = []
    for line in text.splitlines():
        if header is None:
            header = _HEADER.match(line)
            if header is None and line.strip():
                out.append(line)  # HloModule line and the like
            body = []
            continue
        if line.strip() == "}":
            signature = canonical(header.group(3))
            block = "\n".join(sorted(body))
            names[header.group(2)] = "%c" + digest(signature + block)
            head = ("ENTRY " if header.group(1) else "") + names[header.group(2)]
            out.append(f"{head} {signature}{{\n{block}\n}}")
            header = None
            continue
        match = _INSTRUCTION.match(line)
        if match is None:
            body.append(canonical(line.strip()))
            continue
        rhs = canonical(match.group(3))
        names[match.group(2)] = "%v" + digest(rhs)
        body.append(f"{match.group(1) or ''}{names[match.group(2)]} = {rhs}")
    entry = [block for block in out if block.startswith("ENTRY ")]
    return "\n".join(sorted(b for b in out if not b.startswith("ENTRY ")) + entry)


def compare_jitted(
    scopax_apply: Callable[..., Any],
    params: Any,
    pure: Callable[..., Any],
    plain: Any,
    x: Any,
    rounds: int,
) -> tuple[bool, float]:
    """Whether the two jitted functions compile to the same optimized HLO; step ratio.

    ``rounds=0`` only compares the programs (the ratio is then nan): what the test
    suite checks, without timing anything.
    """
    s_jit, p_jit = jax.jit(scopax_apply), jax.jit(pure)
    s_hlo = canonical_hlo(s_jit.lower(params, x).compile().as_text() or "")
    p_hlo = canonical_hlo(p_jit.lower(plain, x).compile().as_text() or "")
    if rounds == 0:
        return s_hlo == p_hlo, float("nan")
    jax.block_until_ready((s_jit(params, x), p_jit(plain, x)))
    calls = 20  # per sample: one call is short enough for timer and scheduler noise to show

    def many(f: Callable[..., Any], p: Any) -> Callable[[], Any]:
        return lambda: jax.block_until_ready([f(p, x) for _ in range(calls)])

    times = interleaved({"pure": many(p_jit, plain), "scopax": many(s_jit, params)}, rounds * 8)
    return s_hlo == p_hlo, times["scopax"] / times["pure"]


def image_filter_hlo(rounds: int) -> tuple[bool, float]:
    """Is scopax's optimized HLO of the tutorial's image filter pure JAX's? Step ratio."""

    def conv_relu(x, w, b):
        y = jax.lax.conv_general_dilated(
            x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
        )
        return jax.nn.relu(y + b[None, None, None, :])

    def scopax_filter(images):
        with sx.variable_scope("image_filters"):
            for name in ("conv1", "conv2"):
                with sx.variable_scope(name):
                    w = sx.get_variable(
                        "weights",
                        [5, 5, 16, 16],
                        initializer=sx.random_normal_initializer(stddev=0.1),
                    )
                    b = sx.get_variable("biases", [16], initializer=sx.zeros_initializer())
                    images = conv_relu(images, w, b)
        return images

    def pure_filter(p, images):
        for name in ("conv1", "conv2"):
            layer = p["image_filters"][name]
            images = conv_relu(images, layer["weights"], layer["biases"])
        return images

    x = jax.random.normal(jax.random.key(1), (8, 32, 32, 16))
    model = sx.transform(scopax_filter)
    params = model.init(jax.random.key(0), x)
    plain = {"image_filters": {k: dict(v) for k, v in params["image_filters"].items()}}
    return compare_jitted(model.apply, params, pure_filter, plain, x, rounds)


def lstm_hlo(rounds: int) -> tuple[bool, float]:
    """An LSTM under ``scopax.nn.dynamic_rnn`` against the same math in a ``lax.scan``."""
    from scopax import nn

    units, batch, steps, features = 32, 16, 20, 8

    def scopax_lstm(x):
        cell = nn.rnn_cell.BasicLSTMCell(units)
        outputs, _ = nn.dynamic_rnn(cell, x, dtype=jnp.float32)
        return outputs

    def pure_lstm(p, x):
        kernel, bias = p["rnn"]["basic_lstm_cell"]["kernel"], p["rnn"]["basic_lstm_cell"]["bias"]

        def step(carry, x_t):
            c, h = carry
            z = jnp.concatenate([x_t, h], axis=1) @ kernel + bias[None, :]
            i, j, f, o = jnp.split(z, 4, axis=1)
            c = c * jax.nn.sigmoid(f + 1.0) + jax.nn.sigmoid(i) * jnp.tanh(j)
            h = jnp.tanh(c) * jax.nn.sigmoid(o)
            return (c, h), h

        zeros = jnp.zeros((x.shape[0], units), jnp.float32)
        _, outputs = jax.lax.scan(step, (zeros, zeros), jnp.swapaxes(x, 0, 1))
        return jnp.swapaxes(outputs, 0, 1)

    x = jax.random.normal(jax.random.key(1), (batch, steps, features))
    model = sx.transform(scopax_lstm)
    params = model.init(jax.random.key(0), x)
    plain = {"rnn": {"basic_lstm_cell": dict(params["rnn"]["basic_lstm_cell"])}}
    return compare_jitted(model.apply, params, pure_lstm, plain, x, rounds)


_MEMORY_CHILD = """
import gc, sys, jax, jax.numpy as jnp, scopax as sx
mode, n, width = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
init = sx.random_normal_initializer()

def status(field):
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) * 1024 for l in f if l.startswith(field + ":"))

def fn(count):
    def body():
        for i in range(count):
            sx.get_variable(f"w{i}", [width, width], initializer=init)
    return body

def make(count):
    if mode == "scopax":
        return sx.transform(fn(count)).init(jax.random.key(0))
    key = jax.random.key(0)
    return [init(jax.random.fold_in(key, i), (width, width), jnp.float32) for i in range(count)]

# Warm up: compile and allocate once the same way, then forget it, so that the peak
# below is what init itself holds, not XLA's one-off compile and allocator set-up.
jax.block_until_ready(make(1))
gc.collect()
size = n * width * width * 4
if jax.default_backend() == "cpu":
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets the peak (VmHWM) to the current resident size
    before = status("VmRSS")
    params = jax.block_until_ready(make(n))
    print((status("VmHWM") - before) / size)
else:
    # On an accelerator the parameters live in its memory: its allocator's peak counts.
    # A backend without allocator statistics prints nan rather than stopping the run.
    device = jax.devices()[0]
    stats = device.memory_stats() or {}
    before = stats.get("bytes_in_use")
    params = jax.block_until_ready(make(n))
    peak = (device.memory_stats() or {}).get("peak_bytes_in_use")
    print(float("nan") if before is None or peak is None else (peak - before) / size)
"""


def init_memory(total_bytes: int) -> dict[str, float]:
    """Peak memory growth during an eager init, over the parameter bytes.

    On CPU that is the host's resident memory; on an accelerator, the device
    allocator's peak (the glibc setting below then changes nothing that is measured).

    Variables of 16 MiB each; pure JAX creating the same arrays in a loop is the
    baseline. Each runs in a fresh process, after one warm-up variable made the same
    way (compilation and allocator set-up are one-off costs, not a multiple of the
    parameters), with the kernel's peak counter reset just before (Linux only).

    Twice: with glibc's defaults, which is what the host sees, and with
    ``MALLOC_MMAP_THRESHOLD_`` fixed at 1 MiB, so that freed XLA temporaries go back
    to the system instead of staying in the heap: what the library itself holds.
    """
    width = 2048
    n = max(1, total_bytes // (width * width * 4))
    ratios = {}
    for allocator, env in (("", {}), (" mmap", {"MALLOC_MMAP_THRESHOLD_": str(2**20)})):
        for mode in ("pure", "scopax"):
            out = subprocess.run(
                [sys.executable, "-c", _MEMORY_CHILD, mode, str(n), str(width)],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, **env},
            )
            ratios[mode + allocator] = float(out.stdout.strip().splitlines()[-1])
    return ratios


def parser() -> argparse.ArgumentParser:
    """The command line (a function, so tests can check what the Makefile passes)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and sizes (< 2 min)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    quick = args.quick
    rounds = 5 if quick else 9
    small, large = (2000, 20000) if quick else (2000, 100000)

    print(
        f"machine: {platform.machine()} {platform.processor() or ''} {os.cpu_count()} cores, "
        f"{jax.devices()[0].device_kind}; python {platform.python_version()}; "
        f"jax {jax.__version__}; mode {'quick' if quick else 'full'}"
    )
    began = time.perf_counter()
    section = [began]

    def took() -> str:
        now = time.perf_counter()
        text = f"  [{now - section[0]:.0f} s]"
        section[0] = now
        return text

    n_layers = small // 2
    costs = trace_costs(n_layers, rounds)
    n_vars = 2 * n_layers
    libs = [k for k in costs["trace apply"] if k != "pure"]
    print(f"\nper variable, MLP of {n_layers} dense layers ({n_vars} variables): µs over pure JAX")
    print(
        f"{'':18}" + "".join(f"{lib:>12}" for lib in libs) + f"{'scopax over':>14}{'scopax /':>10}"
    )
    print(f"{'':18}" + " " * 12 * len(libs) + f"{'pure+names':>14}{'haiku':>10}")
    for metric, times in costs.items():
        extra = {
            lib: (times[lib] - times["pure"]) / n_vars * 1e6 if lib in times else None
            for lib in libs
        }
        cells = "".join(f"{'—':>12}" if e is None else f"{e:>+12.1f}" for e in extra.values())
        over_names = (
            f"{extra['scopax'] - extra['pure+names']:>+14.1f}"  # type: ignore[operator]
            if extra.get("pure+names") is not None
            else f"{'—':>14}"
        )
        haiku = extra.get("haiku")
        ratio = extra["scopax"] / haiku if haiku and haiku > 0 else float("nan")  # type: ignore[operator]
        print(f"{metric:18}{cells}{over_names}{ratio:>10.2f}")
    print(took())

    read = shared_read_cost(200, rounds)
    print(f"each extra read of a shared variable (RNN unrolled 200 steps): {read * 1e6:+.2f} µs")

    tiny = tiny_apply(rounds)
    print(
        f"tiny 2-layer MLP apply per call (pure JAX eager: {tiny['eager us']:.0f} µs): "
        f"eager scopax/pure {tiny['eager']:.2f}x (pure+names/pure {tiny['eager names']:.2f}x), "
        f"jitted dispatch scopax/pure {tiny['jit']:.2f}x"
    )

    per_var = scaling(small, large, 3)
    s_small, s_large = per_var[f"scopax {small}"], per_var[f"scopax {large}"]
    p_small, p_large = per_var[f"pure {small}"], per_var[f"pure {large}"]
    # The growth of scopax's whole per-variable cost is the target; the growth of its
    # extra over pure JAX divides two small differences and is only shown in µs.
    print(
        f"scaling: trace-apply time per variable at {large} vs {small} variables: scopax "
        f"{s_large * 1e6:.1f} vs {s_small * 1e6:.1f} µs (growth {s_large / s_small:.2f}x), "
        f"pure JAX growth {p_large / p_small:.2f}x; scopax's extra over pure "
        f"{(s_large - p_large) * 1e6:+.2f} vs {(s_small - p_small) * 1e6:+.2f} µs" + took()
    )

    same, step = image_filter_hlo(rounds)
    print(
        f"image filter: optimized HLO identical to pure JAX: {same}; jitted step ratio {step:.3f}"
    )

    same, step = lstm_hlo(rounds)
    print(
        f"LSTM under dynamic_rnn: optimized HLO identical: {same}; jitted step ratio {step:.3f}"
        + took()
    )

    mem_bytes = (512 if quick else 2048) * 2**20
    memory = init_memory(mem_bytes)
    print(
        f"eager init of {mem_bytes / 2**30:.2f} GiB: peak "
        f"{'host' if jax.default_backend() == 'cpu' else 'device'} memory / parameter bytes: "
        f"scopax {memory['scopax']:.2f}, pure JAX {memory['pure']:.2f} (glibc defaults); "
        f"scopax {memory['scopax mmap']:.2f}, pure JAX {memory['pure mmap']:.2f} "
        "(freed buffers returned to the system)" + took()
    )
    print(f"total {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
