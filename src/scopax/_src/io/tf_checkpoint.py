"""TF1 checkpoints without TensorFlow: load, list, and restore with TF's ``assignment_map``.

The V2 checkpoint format itself is read in ``tf_bundle`` (on ``tf_table`` and ``crc32c``).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from scopax._src.core.errors import CheckpointMismatchError, CheckpointTreeError
from scopax._src.core.params import as_flat, unflatten
from scopax._src.io.tf_bundle import DTYPES, Bundle


def load_tf_checkpoint(
    path: str | bytes | os.PathLike[str] | os.PathLike[bytes],
    *,
    within: str | bytes | os.PathLike[str] | os.PathLike[bytes] | None = None,
) -> dict[str, np.ndarray]:
    """Every tensor of a TF1 checkpoint, as NumPy arrays keyed by TF's full names.

    >>> import scopax as sx
    >>> ckpt = sx.load_tf_checkpoint("tests/fixtures/tf_checkpoints/momentum")
    >>> sorted(ckpt)  # doctest: +NORMALIZE_WHITESPACE
    ['global_step', 'net/dense/bias', 'net/dense/bias/Momentum', 'net/dense/kernel',
     'net/dense/kernel/Momentum']
    >>> ckpt["net/dense/kernel"].shape, ckpt["global_step"]
    ((3, 2), array(1))

    Reads TF's V2 format (what ``tf.compat.v1.train.Saver`` and ``tf.train.Checkpoint``
    write) without TensorFlow or protobuf, checking every crc32c. The result is a flat
    ``dict``, not a :class:`Params` tree, because TF1 optimizer slots make a name both a
    variable and a scope (``w`` and ``w/Adam``). Partitioned variables come back whole.
    Strings (``DT_STRING``) come back as object arrays of ``bytes``, and ``bfloat16`` and
    ``float8`` as JAX's NumPy dtypes.

    Memory is bounded by the files: the result and the data files' bytes, plus a small
    multiple of the ``.index`` file; only regular files are read, each no further than its
    size. A directory's ``checkpoint`` file may name a checkpoint anywhere on disk, as in
    TF; pass ``within`` to refuse one outside a directory you trust.

    Args:
      path: the prefix that TF prints (``".../model.ckpt-1000"``), its ``.index`` file,
        or a directory with TF's ``checkpoint`` file (its latest checkpoint is read); a
        str, bytes or ``os.PathLike``.
      within: if given, a directory: every file read (symbolic links resolved) must lie
        in it, or ``CheckpointNotFoundError`` is raised before reading it.

    Returns:
      A dict from full names (``"model/conv1/weights"``, ``".../weights/Adam"``,
      ``"global_step"``) to arrays, in sorted order.

    Raises:
      CheckpointNotFoundError: no checkpoint at ``path``, one of its files is missing, or
        it lies outside ``within``.
      CheckpointCorruptError: a file is truncated, fails a checksum, or is not a checkpoint.
      UnsupportedCheckpointError: a tensor's dtype has no NumPy equivalent
        (``DT_VARIANT``, ``DT_RESOURCE``), the index is Snappy-compressed, or a file is
        not a regular file (a FIFO, a device).
      CheckpointTreeError: ``path`` or ``within`` is not a path.
    """
    bundle = Bundle(path, within)
    return {name: bundle.read(name) for name in bundle.tensors}


def list_tf_checkpoint(
    path: str | bytes | os.PathLike[str] | os.PathLike[bytes],
    *,
    within: str | bytes | os.PathLike[str] | os.PathLike[bytes] | None = None,
) -> dict[str, tuple[tuple[int, ...], str]]:
    """The names, shapes and dtypes in a TF1 checkpoint, without reading its tensors.

    >>> import scopax as sx
    >>> for name, (shape, dtype) in sx.list_tf_checkpoint(
    ...     "tests/fixtures/tf_checkpoints/partitioned"
    ... ).items():
    ...     print(name, shape, dtype)
    global_step () int64
    other/bias (5,) float32
    part/cols (4, 9) float64
    part/emb (10, 4) float32

    Like ``tf.train.list_variables``: use it to write an ``assignment_map``.

    Args:
      path: as for :func:`load_tf_checkpoint`.
      within: as for :func:`load_tf_checkpoint`.

    Returns:
      A dict from full names to ``(shape, dtype name)``, the dtype named as TF does
      (``"float32"``, ``"bfloat16"``, ``"string"``).

    Raises:
      CheckpointNotFoundError, CheckpointCorruptError, UnsupportedCheckpointError,
      CheckpointTreeError: as :func:`load_tf_checkpoint`.
    """
    bundle = Bundle(path, within)
    return {name: (t.entry.shape, bundle.dtype_name(name)) for name, t in bundle.tensors.items()}


_MISMATCH_FIX = (
    "Map checkpoint names to variables with assignment_map={'checkpoint_scope/': "
    "'params_scope/'} (sx.list_tf_checkpoint(path) lists the checkpoint's names), or build "
    "params with the checkpoint's shapes and dtypes."
)


def restore_from_tf(
    tree: Any,
    path: str | bytes | os.PathLike[str] | os.PathLike[bytes],
    assignment_map: Mapping[str, str] | None = None,
    *,
    strict: bool = True,
    within: str | bytes | os.PathLike[str] | os.PathLike[bytes] | None = None,
) -> Any:
    """``tree`` with values from a TF1 checkpoint, like ``tf.train.init_from_checkpoint``.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> def net(x):
    ...     with sx.variable_scope("dense"):
    ...         return x @ sx.get_variable("kernel", [3, 2]) + sx.get_variable("bias", [2])
    >>> params = sx.transform(net).init(jax.random.key(0), jnp.ones((1, 3)))
    >>> path = "tests/fixtures/tf_checkpoints/momentum"
    >>> params = sx.restore_from_tf(params, path, {"net/dense/": "dense/"})
    >>> ckpt = sx.load_tf_checkpoint(path)
    >>> bool((params["dense/kernel"] == ckpt["net/dense/kernel"]).all())
    True

    A model of :func:`~scopax.transform_with_state` restores both of its trees at once:
    ``params, state = sx.restore_from_tf((params, state), path)`` fills trainable
    variables and state (batch norm's moving statistics, ``global_step``) alike, each
    in the tree it belongs to.

    Every variable covered by ``assignment_map`` is checked against the checkpoint: a
    missing name, another shape or another dtype is reported, all of them at once, in one
    :class:`~scopax.errors.CheckpointMismatchError`; so is a map that covers nothing, such
    as ``{}``. ``strict=False`` restores what the checkpoint has and keeps the rest.
    Checkpoint tensors that nothing maps to, such as optimizer slots (``.../Adam``,
    ``.../Momentum``), are skipped; map them explicitly to read them, or see
    :func:`scopax.train.restore_slots`. Dtypes must match after JAX's canonicalization, as
    ``get_variable`` does: with x64 off, a float64 or int64 tensor restores into a float32
    or int32 variable, and an int64 value outside the int32 range (or a float64 beyond
    float32's) is reported instead of wrapped.

    Args:
      tree: the tree that ``init`` returned, or the ``(params, state)`` pair of
        :func:`~scopax.transform_with_state` (or ``jax.eval_shape`` of ``init``: then
        every variable must be covered). Each value keeps the sharding of the leaf it
        replaces.
      path: as for :func:`load_tf_checkpoint`.
      assignment_map: ``{checkpoint name: params name}`` as in TF: ``{"old_scope/":
        "new_scope/"}`` maps a scope (``"/"`` is the root), ``{"old/w": "new/w"}`` one
        variable; the most specific entry for a variable wins. Variables it does not
        cover keep their values. ``None`` (the default) is ``{"/": "/"}``: every
        variable, under its own name.
      strict: with ``False``, variables the checkpoint lacks (and map entries that
        cover nothing) keep their values instead of raising; shape and dtype
        mismatches still raise.
      within: as for :func:`load_tf_checkpoint`.

    Returns:
      A new :class:`Params` with the restored values, or a new ``(params, state)`` pair.

    Raises:
      CheckpointMismatchError: names missing in the checkpoint, shape or dtype
        mismatches, values out of range, or ``assignment_map`` entries that cover nothing.
      CheckpointTreeError: ``tree`` is not a tree (or pair of trees) of arrays, or
        ``assignment_map`` not a mapping.
      CheckpointNotFoundError, CheckpointCorruptError, UnsupportedCheckpointError: as
        :func:`load_tf_checkpoint`.
    """
    trees = tuple(tree) if _is_pair(tree) else (tree,)
    flats = [_flat_params(t) for t in trees]
    flat = _merge(flats)
    _check_assignment_map(assignment_map)
    bundle = Bundle(path, within)
    plan, problems = _plan(flat, assignment_map, strict)
    for name, leaf in flat.items():
        if name not in plan and isinstance(leaf, jax.ShapeDtypeStruct):
            problems.append((name, "params holds only its shape, and assignment_map skips it"))
    for name, source in list(plan.items()):
        why = _check(bundle, flat[name], source, name)
        if why and not strict and source not in bundle.tensors:
            del plan[name]  # Partial restore: the variable keeps its value.
        elif why:
            problems.append((name, why))
    if problems:
        raise CheckpointMismatchError(bundle.prefix, problems, _MISMATCH_FIX)
    out: dict[str, Any] = dict(flat)
    for name, source in plan.items():
        leaf = flat[name]
        value = bundle.read(source)
        target = np.dtype(leaf.dtype)
        converted = value.astype(target)
        if _lossy(value, converted):
            problems.append((name, f"{source} has values that {target} cannot hold"))
        out[name] = _place(converted, leaf)
    if problems:
        raise CheckpointMismatchError(bundle.prefix, problems, _MISMATCH_FIX)
    restored = tuple(unflatten({name: out[name] for name in f}) for f in flats)
    return restored if _is_pair(tree) else restored[0]


def _is_pair(tree: Any) -> bool:
    return isinstance(tree, tuple) and len(tree) == 2 and all(isinstance(t, Mapping) for t in tree)


def _merge(flats: list[dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for flat in flats:
        for name, leaf in flat.items():
            if name in merged:
                raise CheckpointTreeError(
                    name,
                    "is in both params and state; pass the (params, state) pair that init "
                    "returned, in which each variable is in one tree",
                )
            merged[name] = leaf
    return merged


def _flat_params(params: Any) -> dict[str, Any]:
    if not isinstance(params, Mapping):
        raise CheckpointTreeError(
            "",
            f"sx.restore_from_tf expects params to be the tree that init returned (a Mapping), "
            f"got {type(params).__name__}; e.g. sx.restore_from_tf(model.init(rng, x), path)",
        )
    flat = as_flat(params, "params")
    for name, leaf in flat.items():
        if not (hasattr(leaf, "shape") and hasattr(leaf, "dtype")):
            raise CheckpointTreeError(name, f"expected an array, got {type(leaf).__name__}")
    return flat


def _check_assignment_map(assignment_map: Any) -> None:
    # Its entries are checked one by one in _plan; here only what _plan iterates.
    if assignment_map is not None and not isinstance(assignment_map, Mapping):
        raise CheckpointTreeError(
            "",
            "sx.restore_from_tf expects assignment_map to be a Mapping {checkpoint name: "
            f"params name}} or None, got {type(assignment_map).__name__}; e.g. "
            "{'old_scope/': 'new_scope/'} or {'old/w': 'new/w'}",
        )


def _plan(
    flat: Mapping[str, Any], assignment_map: Mapping[str, str] | None, strict: bool
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """{params name: checkpoint name} per TF's assignment_map rules, and the problems
    (without entries that cover no variable, unless ``strict``)."""
    mapping = {"/": "/"} if assignment_map is None else assignment_map
    chosen: dict[str, tuple[int, str]] = {}
    problems: list[tuple[str, str]] = []
    uncovered: set[int] = set()  # Indices in problems of entries that cover nothing.
    for source, dest in mapping.items():
        if not isinstance(source, str) or not isinstance(dest, str):
            problems.append((repr(dest), "assignment_map keys and values must be strings"))
        elif dest in flat:
            if source.endswith("/"):
                problems.append(
                    (
                        dest,
                        f"assignment_map maps this variable to the scope {source!r}; map it "
                        f"to a checkpoint variable, e.g. {{{source.rstrip('/')!r}: {dest!r}}}",
                    )
                )
            else:
                chosen[dest] = (1 << 30, source)  # A variable beats every scope.
        elif dest != "/" and not dest.endswith("/"):
            hint = (
                f"; to map the scope, write {dest + '/'!r}" if _in_scope(flat, dest + "/") else ""
            )
            problems.append(
                (dest, f"assignment_map names it, but params has no such variable{hint}")
            )
            uncovered.add(len(problems) - 1)
        elif source != "/" and not source.endswith("/"):
            problems.append(
                (
                    dest,
                    f"assignment_map maps this scope to {source!r}, which is not a scope; "
                    f"write {source + '/'!r}",
                )
            )
        else:
            prefix = "" if dest == "/" else dest
            base = "" if source == "/" else source
            covered = [name for name in flat if name.startswith(prefix)]
            if not covered:
                problems.append((dest, "assignment_map names this scope, but params has none"))
                uncovered.add(len(problems) - 1)
            for name in covered:
                if chosen.get(name, (-1, ""))[0] < len(prefix):
                    chosen[name] = (len(prefix), base + name[len(prefix) :])
    if assignment_map is not None and not assignment_map:
        problems.append(
            (
                "{}",
                "assignment_map is empty, so nothing would be restored; pass None to restore "
                "every variable under its own name, or strict=False to allow it",
            )
        )
        uncovered.add(len(problems) - 1)
    if not strict:
        problems = [p for i, p in enumerate(problems) if i not in uncovered]
    return {name: source for name, (_, source) in sorted(chosen.items())}, problems


def _in_scope(flat: Mapping[str, Any], prefix: str) -> bool:
    return any(name.startswith(prefix) for name in flat)


def _check(bundle: Bundle, leaf: Any, source: str, name: str) -> str | None:
    """Why the checkpoint's ``source`` cannot restore variable ``name``, or None."""
    tensor = bundle.tensors.get(source)
    where = "" if source == name else f" (as {source})"
    if tensor is None:
        close = difflib.get_close_matches(source, list(bundle.tensors), n=1)
        hint = f"; the closest name there is {close[0]}" if close else ""
        return f"not in the checkpoint{where}{hint}"
    problems = []
    shape, want = tuple(tensor.entry.shape), tuple(leaf.shape)
    if shape != want:
        problems.append(f"shape {want} in params, {shape} in the checkpoint{where}")
    saved = DTYPES.get(tensor.entry.dtype, (None,))[0]
    canonical = jax.dtypes.canonicalize_dtype(saved) if saved not in (None, object) else None
    if canonical != jax.dtypes.canonicalize_dtype(leaf.dtype):
        have = bundle.dtype_name(source)
        problems.append(
            f"dtype {np.dtype(leaf.dtype).name} in params, {have} in the checkpoint{where}"
        )
    return "; ".join(problems) or None


def _lossy(value: np.ndarray, converted: np.ndarray) -> bool:
    if value.dtype == converted.dtype or not value.size:
        return False
    if value.dtype.kind in "iu":
        return not np.array_equal(converted.astype(value.dtype), value)
    if value.dtype.kind in "fc":
        return bool((np.isfinite(value) & ~np.isfinite(converted)).any())
    return False


def _place(value: np.ndarray, leaf: Any) -> jax.Array:
    sharding = getattr(leaf, "sharding", None)
    if sharding is None:
        return jnp.asarray(value)
    return jax.make_array_from_callback(value.shape, sharding, lambda index: value[index])
