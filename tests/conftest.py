"""The unit tests run strict: implicit rank promotion raises, so a silent broadcast of a
mis-shaped variable cannot pass. (Doctests keep JAX's default: they show user code.)"""

import jax
import pytest


@pytest.fixture(autouse=True)
def _strict_rank_promotion():
    with jax.numpy_rank_promotion("raise"):
        yield
