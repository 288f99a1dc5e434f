"""Test setup shared by tests/, the doctests in src/ and the docs: eight fake CPU devices
for the sharding tests, and the jit/nojit fixture. Warnings are errors (pyproject)."""

import os

# Must be set before JAX creates its CPU backend.
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")

import jax
import pytest

# notebooks/*.py are the jupytext pairs of the notebooks that nbmake runs, not modules to
# import (--doctest-modules would run each notebook at collection).
collect_ignore_glob = ["notebooks/*.py"]
# The notebooks train only a few steps in smoke mode; the nbmake kernels inherit this.
# SCOPAX_SMOKE=0 runs them in full.
os.environ.setdefault("SCOPAX_SMOKE", "1")


@pytest.fixture(params=["nojit", "jit"])
def jit(request):
    """Runs a test twice: once with ``f`` as is, once with ``jax.jit(f)``."""
    if request.param == "jit":
        return jax.jit
    return lambda f: f
