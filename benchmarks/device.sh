#!/usr/bin/env bash
# The benchmarks on an accelerator: the HLO identity checks and step-time ratios there.
#
# For a machine whose python3 already has a CUDA (or TPU) build of JAX, such as the
# workplace's GPU image, which cannot install anything. From the repository root:
#
#     bash benchmarks/device.sh            # writes bench-device.log here, or under $OUT
#
# scopax runs from src/ (it is pure Python); Haiku is optional (its column is left out
# where it is not installed). PYTHON picks another interpreter. ALLOW_CPU=1 runs it on
# a CPU-only JAX, to check the script itself.
set -euo pipefail

py=${PYTHON:-python3}
log=${OUT:-.}/bench-device.log
export PYTHONPATH="src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1

backend=$("$py" -c 'import jax; print(jax.default_backend())')
if [ "$backend" = cpu ] && [ -z "${ALLOW_CPU:-}" ]; then
    echo "device.sh: JAX's backend here is cpu; run it where JAX sees the accelerator" \
        "(or set ALLOW_CPU=1 to check the script)." >&2
    exit 2
fi

{
    "$py" -c 'import jax, numpy; print("jax", jax.__version__, "numpy", numpy.__version__, jax.devices())'
    command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
    "$py" benchmarks/run.py --quick
    "$py" benchmarks/cifar10_step.py --quick
    "$py" benchmarks/seq2seq_step.py --quick
    "$py" benchmarks/init.py --quick
} 2>&1 | tee "$log"
