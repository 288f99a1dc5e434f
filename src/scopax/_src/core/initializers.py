"""TensorFlow 1.15's initializers, re-implemented in JAX.

Each factory keeps TF1's name, argument names and defaults, and returns a small frozen
dataclass called as ``init(key, shape, dtype=jnp.float32)``; it branches only on ``shape``
and ``dtype``, so it works under ``jax.jit`` and ``jax.eval_shape``. Every factory also
takes TF1's ``seed`` and ``dtype``: an int ``seed`` is folded into the key, so that ported
code with distinct seeds gets distinct values; ``dtype`` is ignored, because the dtype given
at call time (``get_variable`` always gives one) decides, as it does in TF1.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import operator
from collections.abc import Sequence
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import DTypeLike

from scopax._src.core.errors import InvalidInitializerArgumentError

# scipy.stats.truncnorm.std(a=-2, b=2): TF1 divides by it so that the *truncated* draw has
# the standard deviation that variance scaling asks for.
_TRUNCATED_STD = 0.87962566103423978


def _compute_fans(shape: Sequence[int]) -> tuple[int, int]:
    """TF1's ``(fan_in, fan_out)``; a conv kernel's leading dims are its receptive field."""
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return int(shape[0]), int(shape[0])
    receptive = math.prod(int(d) for d in shape[:-2])
    return int(shape[-2]) * receptive, int(shape[-1]) * receptive


def _real(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidInitializerArgumentError(
            f"{name} must be a real Python number, got {value!r}; pass e.g. {name}=1.0."
        )
    return value.item() if isinstance(value, np.generic) else value


def _stddev(what: str, stddev: Any) -> float:
    stddev = _real("stddev", stddev)
    if stddev < 0:
        raise InvalidInitializerArgumentError(
            f"{what} got stddev={stddev!r}; pass a standard deviation >= 0, e.g. stddev=0.02."
        )
    return stddev


def _seed(seed: Any) -> int | None:
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise InvalidInitializerArgumentError(
            f"seed must be None or a Python int, got {seed!r}; pass e.g. seed=42, or leave it "
            "out and let the key alone decide the values."
        )
    return None if seed is None else int(seed)


def _fold(key: jax.Array, seed: int | None) -> jax.Array:
    # TF seeds are int64 but fold_in takes a uint32, so wrap rather than fail on negatives.
    return key if seed is None else jax.random.fold_in(key, seed % 2**32)


def _require_float(what: str, dtype: np.dtype) -> None:
    if not jnp.issubdtype(dtype, jnp.floating):
        raise InvalidInitializerArgumentError(
            f"{what} only supports floating dtypes, got dtype {dtype}; pass a floating dtype "
            "such as jnp.float32, or use zeros_initializer/constant_initializer for it."
        )


class _Initializer:
    # Whether the values depend on the key. get_variable derives a per-name key (a
    # jitted fold_in, tens of microseconds when init is traced) only for those that do.
    uses_key: ClassVar[bool] = True

    def __call__(
        self, key: jax.Array, shape: Sequence[int], dtype: DTypeLike = jnp.float32
    ) -> jax.Array:
        shape = tuple(operator.index(d) for d in shape)
        dtype = jax.dtypes.canonicalize_dtype(dtype)
        if not self.uses_key:
            # A fill is one op already; compiling one program per fill value gains nothing.
            return _finish(self._generate(key, shape, dtype), dtype)
        return _generate_jitted(self, key, shape, dtype)

    def _generate(self, key: jax.Array, shape: tuple[int, ...], dtype: np.dtype) -> jax.Array:
        raise NotImplementedError


def _finish(value: jax.Array, dtype: np.dtype) -> jax.Array:
    # astype is a jitted call even when it changes nothing; init traces pay for each.
    return value if value.dtype == dtype else value.astype(dtype)


@functools.partial(jax.jit, static_argnums=(0, 2, 3))
def _generate_jitted(
    initializer: _Initializer, key: jax.Array, shape: tuple[int, ...], dtype: np.dtype
) -> jax.Array:
    """A random initializer as one compiled program per (initializer, shape, dtype).

    Eagerly, the draw and its scaling would each be a dispatch with a buffer of the
    variable's size: one program makes one output buffer and no temporaries of that size,
    which keeps an eager init's peak memory near the parameter bytes. In a trace, JAX
    inlines the cached jaxpr instead of tracing the draw again. (Initializers are frozen
    dataclasses, so equal ones share the compiled program.)
    """
    return _finish(initializer._generate(key, shape, dtype), dtype)


@dataclasses.dataclass(frozen=True)
class Constant(_Initializer):
    uses_key: ClassVar[bool] = False
    value: Any = 0  # a Python scalar, or a flat tuple of them so that the dataclass hashes
    # The value's own shape, set only by TF1's verify_shape=True, which demands it match.
    required_shape: tuple[int, ...] | None = dataclasses.field(default=None, repr=False)

    def _generate(self, key: jax.Array, shape: tuple[int, ...], dtype: np.dtype) -> jax.Array:
        if self.required_shape not in (None, shape):
            raise InvalidInitializerArgumentError(
                f"constant_initializer(verify_shape=True) got a value of shape "
                f"{self.required_shape} for shape {shape}; pass a value of shape {shape}, or "
                "verify_shape=False to fill or pad it."
            )
        if not isinstance(self.value, tuple):
            return jax.lax.full(shape, self.value, dtype)
        size, n = math.prod(shape), len(self.value)
        if n > size or (n == 0 and size > 0):
            raise InvalidInitializerArgumentError(
                f"constant_initializer's value has {n} elements, but shape {shape} has {size}; "
                f"pass between 1 and {size} values (a shorter value is padded with its last "
                "element, as in TF1)."
            )
        flat = np.asarray(self.value)
        flat = np.concatenate([flat, np.full(size - n, flat[-1] if n else 0, flat.dtype)])
        return jnp.asarray(flat.reshape(shape), dtype)


@dataclasses.dataclass(frozen=True)
class RandomUniform(_Initializer):
    minval: float = 0
    maxval: float | None = None
    seed: int | None = None

    def _generate(self, key: jax.Array, shape: tuple[int, ...], dtype: np.dtype) -> jax.Array:
        key, lo, hi = _fold(key, self.seed), self.minval, self.maxval
        if not jnp.issubdtype(dtype, jnp.integer):
            _require_float("random_uniform_initializer", dtype)
            return jax.random.uniform(key, shape, dtype, lo, 1.0 if hi is None else hi)
        if hi is None or not (float(lo).is_integer() and float(hi).is_integer() and lo < hi):
            raise InvalidInitializerArgumentError(
                f"random_uniform_initializer draws integers in [minval, maxval) for dtype "
                f"{dtype}, so it needs whole numbers minval < maxval (maxval has no default "
                f"here); got minval={lo!r}, maxval={hi!r}. Pass e.g. minval=0, maxval=10."
            )
        return jax.random.randint(key, shape, int(lo), int(hi), dtype)


@dataclasses.dataclass(frozen=True)
class RandomNormal(_Initializer):
    mean: float = 0.0
    stddev: float = 1.0
    seed: int | None = None

    def _generate(self, key: jax.Array, shape: tuple[int, ...], dtype: np.dtype) -> jax.Array:
        _require_float("random_normal_initializer", dtype)
        return jax.random.normal(_fold(key, self.seed), shape, dtype) * self.stddev + self.mean


@dataclasses.dataclass(frozen=True)
class TruncatedNormal(_Initializer):
    mean: float = 0.0
    stddev: float = 1.0
    seed: int | None = None

    def _generate(self, key: jax.Array, shape: tuple[int, ...], dtype: np.dtype) -> jax.Array:
        _require_float("truncated_normal_initializer", dtype)
        unit = jax.random.truncated_normal(_fold(key, self.seed), -2.0, 2.0, shape, dtype)
        return unit * self.stddev + self.mean


@dataclasses.dataclass(frozen=True)
class VarianceScaling(_Initializer):
    scale: float = 1.0
    mode: str = "fan_in"
    distribution: str = "truncated_normal"
    seed: int | None = None

    def _generate(self, key: jax.Array, shape: tuple[int, ...], dtype: np.dtype) -> jax.Array:
        _require_float("variance_scaling_initializer", dtype)
        fan_in, fan_out = _compute_fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}
        # At least 1, as in TF1, so that zero-size variables do not divide by zero.
        scale = self.scale / max(1.0, fan[self.mode])
        key = _fold(key, self.seed)
        if self.distribution == "truncated_normal":
            stddev = math.sqrt(scale) / _TRUNCATED_STD
            return jax.random.truncated_normal(key, -2.0, 2.0, shape, dtype) * stddev
        if self.distribution == "untruncated_normal":
            return jax.random.normal(key, shape, dtype) * math.sqrt(scale)
        limit = math.sqrt(3.0 * scale)
        return jax.random.uniform(key, shape, dtype, -limit, limit)


@dataclasses.dataclass(frozen=True)
class Orthogonal(_Initializer):
    gain: float = 1.0
    seed: int | None = None

    def _generate(self, key: jax.Array, shape: tuple[int, ...], dtype: np.dtype) -> jax.Array:
        _require_float("orthogonal_initializer", dtype)
        if len(shape) < 2:
            raise InvalidInitializerArgumentError(
                f"orthogonal_initializer needs a shape of rank at least 2, got {shape}; use "
                "it for matrices and conv kernels, and e.g. zeros_initializer for biases."
            )
        rows, cols = math.prod(shape[:-1]), shape[-1]
        # JAX's QR rejects half precision; work in float32 and let __call__ cast back.
        work = jnp.promote_types(dtype, jnp.float32)
        a = jax.random.normal(_fold(key, self.seed), (max(rows, cols), min(rows, cols)), work)
        q, r = jnp.linalg.qr(a)
        # Without this sign fix Q would be biased by the QR algorithm, not Haar-distributed.
        q = q * jnp.sign(jnp.diagonal(r))[None, :]
        return self.gain * (q.T if rows < cols else q).reshape(shape)


def constant_initializer(
    value: Any = 0,
    dtype: DTypeLike | None = None,
    verify_shape: bool = False,
    seed: int | None = None,
) -> Constant:
    """
    >>> import jax
    >>> init = constant_initializer([1.0, 2.0, 3.0])
    >>> init(jax.random.key(0), (2, 3))
    Array([[1., 2., 3.],
           [3., 3., 3.]], dtype=float32)

    Fills with ``value``: a scalar everywhere; a list or array of as many elements as the
    shape, reshaped (row-major); a shorter one padded with its last element, as in TF1. A
    longer one raises at call time.

    Args:
      value: A Python scalar, a (nested) list or tuple of numbers, or an array.
      verify_shape: If True, ``value``'s shape must equal the requested shape.

    Raises:
      InvalidInitializerArgumentError: If ``value`` is not numeric or is ragged.
    """
    del dtype, seed
    try:
        array = np.asarray(value)
    except ValueError:  # numpy's answer to ragged lists
        array = np.asarray(None)
    if array.dtype.kind not in "biufc":
        raise InvalidInitializerArgumentError(
            f"constant_initializer's value must be a number, a rectangular (nested) list of "
            f"numbers or an array, got {value!r}; pass e.g. value=[[1.0, 2.0], [3.0, 4.0]]."
        )
    flat = array.item() if array.ndim == 0 else tuple(array.ravel().tolist())
    return Constant(flat, tuple(array.shape) if verify_shape else None)


# Frozen, so one instance serves every call: models often call zeros_initializer() per
# layer on every apply, and building the dataclass was a third of a read's cost.
_ZEROS = Constant(0)
_ONES = Constant(1)


def zeros_initializer(dtype: DTypeLike | None = None, seed: int | None = None) -> Constant:
    """
    >>> import jax
    >>> zeros_initializer()(jax.random.key(0), (2,))
    Array([0., 0.], dtype=float32)

    Fills with zeros, in any dtype (``False`` for bool).
    """
    del dtype, seed
    return _ZEROS


def ones_initializer(dtype: DTypeLike | None = None, seed: int | None = None) -> Constant:
    """
    >>> import jax, jax.numpy as jnp
    >>> ones_initializer()(jax.random.key(0), (3,), jnp.int32)
    Array([1, 1, 1], dtype=int32)

    Fills with ones, in any dtype (``True`` for bool).
    """
    del dtype, seed
    return _ONES


def random_uniform_initializer(
    minval: float = 0,
    maxval: float | None = None,
    seed: int | None = None,
    dtype: DTypeLike | None = None,
) -> RandomUniform:
    """
    >>> import jax
    >>> x = random_uniform_initializer(-1.0, 1.0)(jax.random.key(0), (40, 100))
    >>> x.shape, bool(x.min() >= -1.0), bool(x.max() < 1.0)
    ((40, 100), True, True)

    Draws uniformly from ``[minval, maxval)``; integer dtypes draw integers.

    Args:
      minval: Lower bound (inclusive).
      maxval: Upper bound (exclusive); None means 1.0, and is an error for integer dtypes.

    Raises:
      InvalidInitializerArgumentError: If ``maxval < minval``, or at call time if an integer
        dtype is asked for without a whole-number ``maxval`` above ``minval``.
    """
    del dtype
    minval = _real("minval", minval)
    maxval = None if maxval is None else _real("maxval", maxval)
    if maxval is not None and maxval < minval:
        raise InvalidInitializerArgumentError(
            f"random_uniform_initializer got maxval={maxval!r} < minval={minval!r}; pass "
            "minval <= maxval."
        )
    return RandomUniform(minval, maxval, _seed(seed))


def random_normal_initializer(
    mean: float = 0.0, stddev: float = 1.0, seed: int | None = None, dtype: DTypeLike | None = None
) -> RandomNormal:
    """
    >>> import jax
    >>> x = random_normal_initializer(mean=1.0, stddev=0.5)(jax.random.key(0), (40, 100))
    >>> x.dtype, bool(abs(x.mean() - 1.0) < 0.05), bool(abs(x.std() - 0.5) < 0.05)
    (dtype('float32'), True, True)

    Draws from a normal distribution; floating dtypes only.

    Args:
      mean: Mean of the values.
      stddev: Standard deviation, >= 0.

    Raises:
      InvalidInitializerArgumentError: If ``stddev`` is negative.
    """
    del dtype
    stddev = _stddev("random_normal_initializer", stddev)
    return RandomNormal(_real("mean", mean), stddev, _seed(seed))


def truncated_normal_initializer(
    mean: float = 0.0, stddev: float = 1.0, seed: int | None = None, dtype: DTypeLike | None = None
) -> TruncatedNormal:
    """
    >>> import jax
    >>> x = truncated_normal_initializer(stddev=0.1)(jax.random.key(0), (40, 100))
    >>> bool(abs(x).max() <= 0.2)
    True

    Draws from a normal distribution, re-drawing values more than two standard deviations
    from the mean, as TF1 does: the result is cut off at 2σ, not rescaled, so its standard
    deviation is about ``0.88 * stddev``. Floating dtypes only.

    Args:
      mean: Mean of the normal before truncation.
      stddev: Standard deviation of the normal before truncation, >= 0.

    Raises:
      InvalidInitializerArgumentError: If ``stddev`` is negative.
    """
    del dtype
    stddev = _stddev("truncated_normal_initializer", stddev)
    return TruncatedNormal(_real("mean", mean), stddev, _seed(seed))


def variance_scaling_initializer(
    scale: float = 1.0,
    mode: str = "fan_in",
    distribution: str = "truncated_normal",
    seed: int | None = None,
    dtype: DTypeLike | None = None,
) -> VarianceScaling:
    """
    >>> import jax
    >>> init = variance_scaling_initializer(2.0, "fan_in", "uniform")
    >>> x = init(jax.random.key(0), (40, 100))
    >>> bool(abs(x).max() <= (3 * 2.0 / 40) ** 0.5)
    True

    Draws with variance ``scale / n``, ``n`` being fan_in, fan_out or their mean (see
    ``_compute_fans``), at least 1. ``"truncated_normal"`` draws a normal cut off at 2σ
    whose standard deviation *after* truncation is ``sqrt(scale / n)``;
    ``"untruncated_normal"`` a plain normal; ``"uniform"`` draws from ``[-limit, limit)``,
    ``limit = sqrt(3 * scale / n)``. As in TF 1.15, ``distribution`` is case-insensitive and
    ``"normal"`` is an alias of ``"truncated_normal"``. Floating dtypes only.

    Args:
      scale: Positive scaling factor.
      mode: ``"fan_in"``, ``"fan_out"`` or ``"fan_avg"``.
      distribution: ``"truncated_normal"``, ``"untruncated_normal"`` or ``"uniform"``.

    Raises:
      InvalidInitializerArgumentError: If ``scale <= 0``, or ``mode`` or ``distribution`` is
        not one of the above.
    """
    del dtype
    scale = _real("scale", scale)
    if scale <= 0:
        raise InvalidInitializerArgumentError(
            f"variance_scaling_initializer got scale={scale!r}; scale must be a positive float, "
            "e.g. scale=1.0 (or 2.0 for He initialization)."
        )
    if mode not in ("fan_in", "fan_out", "fan_avg"):
        raise InvalidInitializerArgumentError(
            f"variance_scaling_initializer got mode={mode!r}; pass mode='fan_in', 'fan_out' "
            "or 'fan_avg'."
        )
    dist = distribution.lower() if isinstance(distribution, str) else distribution
    dist = "truncated_normal" if dist == "normal" else dist
    if dist not in ("truncated_normal", "untruncated_normal", "uniform"):
        raise InvalidInitializerArgumentError(
            f"variance_scaling_initializer got distribution={distribution!r}; pass "
            "distribution='truncated_normal', 'untruncated_normal' or 'uniform'."
        )
    return VarianceScaling(scale, mode, dist, _seed(seed))


def glorot_uniform_initializer(
    seed: int | None = None, dtype: DTypeLike | None = None
) -> VarianceScaling:
    """
    >>> import jax
    >>> x = glorot_uniform_initializer()(jax.random.key(0), (40, 100))
    >>> bool(abs(x).max() <= (6 / (40 + 100)) ** 0.5)
    True

    Glorot (Xavier) uniform, ``variance_scaling_initializer(1.0, "fan_avg", "uniform")``:
    uniform in ``[-limit, limit)``, ``limit = sqrt(6 / (fan_in + fan_out))``.
    """
    del dtype
    return VarianceScaling(1.0, "fan_avg", "uniform", _seed(seed))


def glorot_normal_initializer(
    seed: int | None = None, dtype: DTypeLike | None = None
) -> VarianceScaling:
    """
    >>> import jax
    >>> x = glorot_normal_initializer()(jax.random.key(0), (40, 100))
    >>> round(float(x.std() / (2 / (40 + 100)) ** 0.5), 1)
    1.0

    Glorot (Xavier) normal, ``variance_scaling_initializer(1.0, "fan_avg",
    "truncated_normal")``: standard deviation ``sqrt(2 / (fan_in + fan_out))`` after
    truncation at 2σ.
    """
    del dtype
    return VarianceScaling(1.0, "fan_avg", "truncated_normal", _seed(seed))


def orthogonal_initializer(
    gain: float = 1.0, seed: int | None = None, dtype: DTypeLike | None = None
) -> Orthogonal:
    """
    >>> import jax, jax.numpy as jnp
    >>> w = orthogonal_initializer()(jax.random.key(0), (4, 3))
    >>> bool(jnp.allclose(w.T @ w, jnp.eye(3), atol=1e-5))
    True

    A random orthogonal matrix times ``gain``, built as in TF1: the shape is flattened to
    ``(prod(shape[:-1]), shape[-1])``, whose columns are orthonormal if it is tall and whose
    rows are if it is wide. Shapes of rank < 2 raise at call time. Floating dtypes only.

    Args:
      gain: Multiplicative factor.
    """
    del dtype
    return Orthogonal(_real("gain", gain), _seed(seed))


def default_initializer(dtype: DTypeLike) -> Constant | VarianceScaling:
    """
    >>> import jax.numpy as jnp
    >>> default_initializer(jnp.int32)
    Constant(value=0)

    What ``get_variable`` uses when given no initializer, as in TF1: Glorot uniform for
    floating dtypes, zeros for integer and bool dtypes.

    Raises:
      InvalidInitializerArgumentError: For any other dtype (e.g. complex).
    """
    dtype = jax.dtypes.canonicalize_dtype(dtype)
    if jnp.issubdtype(dtype, jnp.floating):
        return glorot_uniform_initializer()
    if jnp.issubdtype(dtype, jnp.integer) or jnp.issubdtype(dtype, jnp.bool_):
        return zeros_initializer()
    raise InvalidInitializerArgumentError(
        f"There is no default initializer for dtype {dtype}; pass initializer= explicitly, "
        "e.g. zeros_initializer() or a concrete array."
    )
