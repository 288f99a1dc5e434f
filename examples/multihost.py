"""Data- and model-parallel training of a scopax MLP across several processes.

Every process runs this same script (multi-controller JAX): it builds the same model,
creates every parameter directly in its shards over a 2-D ``("data", "model")`` mesh of
all the devices of all the processes, and runs a few steps of plain SGD. The kernels
carry logical axis names (``("embed", "mlp")``, ``("mlp", "embed")``) that
``sx.axis_rules`` maps to mesh axes; the batch is split over ``"data"``.

Two processes with four CPU devices each, on one machine (CPU collectives through gloo)::

    python examples/multihost.py --coordinator 127.0.0.1:12345 --num-processes 2 \\
        --process-id 0 --out multi.npz &
    python examples/multihost.py --coordinator 127.0.0.1:12345 --num-processes 2 \\
        --process-id 1

The reference: one process with all eight devices, no distributed runtime::

    python examples/multihost.py --single --out single.npz

On a GPU or TPU cluster, pass ``--local-devices 0`` (use the accelerators JAX finds) and
run one process per host; see docs/multihost.md.
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

import scopax as sx

FEATURES = 16  # The "embed" dimension: model input and output.
HIDDEN = 64  # The "mlp" dimension.

# Logical axis -> mesh axis. "embed" is replicated, "mlp" is split over "model"
# (Megatron-style: the first kernel by columns, the second by rows).
AXIS_RULES: tuple[tuple[str, str | None], ...] = (("embed", None), ("mlp", "model"))


def dense(x: jax.Array, units: int, axes: tuple[str, str]) -> jax.Array:
    """``x @ kernel + bias``; ``axes`` names the kernel's (input, output) dimensions."""
    kernel = sx.get_variable("kernel", [x.shape[-1], units], sharding=axes)
    bias = sx.get_variable("bias", [units], initializer=sx.zeros_initializer(), sharding=(axes[1],))
    return x @ kernel + bias[None, :]


def mlp(x: jax.Array) -> jax.Array:
    with sx.variable_scope("mlp"):
        with sx.variable_scope("hidden"):
            h = jax.nn.relu(dense(x, HIDDEN, ("embed", "mlp")))
        with sx.variable_scope("output"):
            return dense(h, FEATURES, ("mlp", "embed"))


model = sx.transform(mlp)


def loss_fn(params: sx.Params, x: jax.Array, y: jax.Array) -> jax.Array:
    return jnp.mean(jnp.square(model.apply(params, x) - y))


def make_batch(seed: int, batch: int) -> tuple[np.ndarray, np.ndarray]:
    """The whole global batch, identical in every process: inputs and a teacher's targets."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, FEATURES), dtype=np.float32)
    teacher = rng.standard_normal((FEATURES, FEATURES), dtype=np.float32) / np.sqrt(FEATURES)
    y = np.tanh(x @ teacher).astype(np.float32)
    return x, y


def make_mesh(devices: Sequence[Any], model_parallel: int) -> Mesh:
    """A ``("data", "model")`` mesh over ``devices`` (all devices of all processes).

    Devices are ordered by process, so ``"data"`` spans the processes and, when each
    process has a multiple of ``model_parallel`` devices, every ``"model"`` group stays
    within one process (one host): the frequent model-parallel collectives stay local.
    """
    devices = sorted(devices, key=lambda d: (d.process_index, d.id))
    if len(devices) % model_parallel:
        raise ValueError(
            f"{len(devices)} devices do not split into --model-parallel {model_parallel}"
        )
    grid = np.array(devices).reshape(len(devices) // model_parallel, model_parallel)
    return Mesh(grid, ("data", "model"))


def shard_batch(mesh: Mesh, global_array: np.ndarray) -> jax.Array:
    """The global batch as one ``jax.Array`` split over ``"data"``.

    Each process passes only the rows its own devices hold, as a real input pipeline
    would load only its part of the data.
    """
    sharding = NamedSharding(mesh, P("data"))
    index_map = sharding.addressable_devices_indices_map(global_array.shape)
    n = global_array.shape[0]
    spans = sorted({idx[0].indices(n)[:2] for idx in index_map.values() if idx is not None})
    if any(a[1] != b[0] for a, b in itertools.pairwise(spans)):
        raise ValueError(f"this process's rows of the batch are not contiguous: {spans}")
    local = global_array[spans[0][0] : spans[-1][1]]
    return jax.make_array_from_process_local_data(sharding, local, global_array.shape)


def train(
    mesh: Mesh, *, steps: int, batch: int, lr: float, seed: int, log: bool = True
) -> tuple[dict[str, np.ndarray], list[float]]:
    """Init sharded, run ``steps`` SGD steps; returns the final params (on host) and losses."""
    if batch % mesh.shape["data"]:
        raise ValueError(f"--batch {batch} does not split over {mesh.shape['data']} data shards")
    x_host, y_host = make_batch(seed, batch)
    x, y = shard_batch(mesh, x_host), shard_batch(mesh, y_host)
    rng = jax.random.key(seed)

    with sx.axis_rules(AXIS_RULES):
        shardings = sx.param_shardings(mesh, model.init, rng, x)
    params = jax.jit(model.init, out_shardings=shardings)(rng, x)

    def sgd_step(params: sx.Params, x: jax.Array, y: jax.Array) -> tuple[sx.Params, jax.Array]:
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
        params = jax.tree.map(lambda p, g: p - lr * g, params, grads)
        return params, loss

    data = NamedSharding(mesh, P("data"))
    step = jax.jit(
        sgd_step,
        in_shardings=(shardings, data, data),
        out_shardings=(shardings, NamedSharding(mesh, P())),
        donate_argnums=0,
    )
    losses = []
    for i in range(steps):
        start = time.perf_counter()
        params, loss = step(params, x, y)
        losses.append(float(loss))  # Replicated: every process can read it.
        if log and jax.process_index() == 0:
            took = time.perf_counter() - start
            print(f"step {i + 1}: loss {losses[-1]:.6f} ({took:.2f} s)", flush=True)

    # Every process must take part in the gather (a collective).
    gathered = multihost_utils.process_allgather(params, tiled=True)
    return {name: np.asarray(v) for name, v in sx.flatten(gathered).items()}, losses


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Data- and model-parallel training of a scopax MLP across processes."
    )
    parser.add_argument("--coordinator", help="HOST:PORT of process 0's coordinator service")
    parser.add_argument("--num-processes", type=int, help="processes in the job (--single: 2)")
    parser.add_argument("--process-id", type=int, help="this process's index, 0 to N-1")
    parser.add_argument(
        "--local-devices",
        type=int,
        default=4,
        help="CPU devices per process (default: 4); 0: use the GPUs/TPUs JAX finds",
    )
    parser.add_argument(
        "--single",
        action="store_true",
        help="one process, no distributed runtime, with num-processes x local-devices devices",
    )
    parser.add_argument("--model-parallel", type=int, default=2, help="size of the model axis")
    parser.add_argument("--steps", type=int, default=3, help="SGD steps (default: 3)")
    parser.add_argument("--batch", type=int, default=32, help="global batch size (default: 32)")
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate (default: 0.1)")
    parser.add_argument("--seed", type=int, default=0, help="data and init seed (default: 0)")
    parser.add_argument(
        "--init-timeout", type=int, default=300, help="seconds to wait for all processes"
    )
    parser.add_argument("--out", help="write the final params and losses here (.npz)")
    args = parser.parse_args(argv)

    # Configure the runtime before anything creates JAX's backend.
    if args.local_devices > 0:
        devices = args.local_devices
        if args.single:
            devices *= 2 if args.num_processes is None else args.num_processes
        jax.config.update("jax_platforms", "cpu")
        jax.config.update("jax_num_cpu_devices", devices)
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        if not args.single and None in (args.coordinator, args.num_processes, args.process_id):
            parser.error("CPU processes need --coordinator, --num-processes and --process-id")
    if not args.single:
        # With no arguments (None), JAX detects the cluster: TPU pods, SLURM, Open MPI, ...
        jax.distributed.initialize(
            coordinator_address=args.coordinator,
            num_processes=args.num_processes,
            process_id=args.process_id,
            initialization_timeout=args.init_timeout,
        )

    mesh = make_mesh(jax.devices(), args.model_parallel)
    if jax.process_index() == 0:
        print(
            f"{jax.process_count()} process(es), {jax.device_count()} devices "
            f"({jax.local_device_count()} local), mesh {dict(mesh.shape)}",
            flush=True,
        )
    params, losses = train(mesh, steps=args.steps, batch=args.batch, lr=args.lr, seed=args.seed)
    if args.out and jax.process_index() == 0:
        arrays: dict[str, Any] = {f"param/{name}": value for name, value in params.items()}
        arrays["losses"] = np.asarray(losses, np.float64)
        np.savez(args.out, **arrays)
        print(f"wrote {args.out}", flush=True)
    if not args.single:
        jax.distributed.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
