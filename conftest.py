"""A strict test setup: rank promotion raises, warnings are errors (pyproject), and
eight fake CPU devices exist for the sharding tests. At the root so that it also
covers the doctests in src/ and docs/."""

import os

# Must be set before JAX creates its CPU backend.
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")

import jax
import pytest

jax.config.update("jax_numpy_rank_promotion", "raise")


@pytest.fixture(params=["nojit", "jit"])
def jit(request):
    """Runs a test twice: once with ``f`` as is, once with ``jax.jit(f)``."""
    if request.param == "jit":
        return jax.jit
    return lambda f: f
