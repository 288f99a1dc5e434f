"""TF's tensor bundle: the V2 checkpoint format, read without TensorFlow or protobuf.

A checkpoint ``model.ckpt-1000`` is an ``.index`` file and ``.data-NNNNN-of-NNNNN`` shards.
The index is a table (``tf_table``) from each tensor's full name to a ``BundleEntryProto``
(dtype, shape, shard, offset, size, crc32c, and the slices of a partitioned variable); the
empty key holds the ``BundleHeaderProto``. This module checks every length, offset and
checksum against the files before it allocates anything: a damaged or hostile file raises
``CheckpointCorruptError``, and what it allocates is bounded by the size of the files.
"""

from __future__ import annotations

import itertools
import math
import os
import re
import sys
from dataclasses import dataclass
from typing import Any

import jax.numpy as jnp
import numpy as np

from scopax._src.crc32c import crc32c, unmask
from scopax._src.errors import (
    CheckpointCorruptError,
    CheckpointNotFoundError,
    UnsupportedCheckpointError,
)
from scopax._src.tf_table import Corrupt, Unsupported, fields, messages, read_table, scalar, varint

_U32 = 0xFFFFFFFF
_BUNDLE_VERSION = 1  # The reader's version, as TF's kTensorBundleVersion.
_MAX_RANK = 64  # NumPy's limit; TF's is 254.

# TF's DataType enum -> (NumPy dtype, TF's name); the quantized types are their storage ints.
DTYPES: dict[int, tuple[Any, str]] = {
    1: (np.float32, "float32"),
    2: (np.float64, "float64"),
    3: (np.int32, "int32"),
    4: (np.uint8, "uint8"),
    5: (np.int16, "int16"),
    6: (np.int8, "int8"),
    7: (object, "string"),
    8: (np.complex64, "complex64"),
    9: (np.int64, "int64"),
    10: (np.bool_, "bool"),
    11: (np.int8, "qint8"),
    12: (np.uint8, "quint8"),
    13: (np.int32, "qint32"),
    14: (jnp.bfloat16, "bfloat16"),
    15: (np.int16, "qint16"),
    16: (np.uint16, "quint16"),
    17: (np.uint16, "uint16"),
    18: (np.complex128, "complex128"),
    19: (np.float16, "float16"),
    22: (np.uint32, "uint32"),
    23: (np.uint64, "uint64"),
    24: (jnp.float8_e5m2, "float8_e5m2"),
    25: (jnp.float8_e4m3fn, "float8_e4m3fn"),
    26: (jnp.float8_e4m3fnuz, "float8_e4m3fnuz"),
    27: (jnp.float8_e4m3b11fnuz, "float8_e4m3b11fnuz"),
    28: (jnp.float8_e5m2fnuz, "float8_e5m2fnuz"),
}
_UNSUPPORTED_DTYPES = {20: "resource", 21: "variant", 29: "int4", 30: "uint4", 31: "int2"}


@dataclass(frozen=True)
class _Entry:
    dtype: int
    shape: tuple[int, ...]
    shard: int
    offset: int
    size: int
    crc: int
    slices: tuple[tuple[tuple[int, int], ...], ...]  # Per slice, per dim: (start, length).


def _parse_entry(value: bytes) -> _Entry:
    f = fields(value)
    dims: list[int] = []
    for shape_msg in messages(f, 2):
        shape_fields = fields(shape_msg)
        if scalar(shape_fields, 3):
            raise Corrupt("a saved tensor has an unknown rank")
        for dim in messages(shape_fields, 2):
            dims.append(scalar(fields(dim), 1))
    slices = []
    for slice_msg in messages(f, 7):
        extents = []
        for extent_msg in messages(fields(slice_msg), 1):
            ef = fields(extent_msg)
            extents.append((scalar(ef, 1), scalar(ef, 2) if 2 in ef else -1))
        slices.append(tuple(extents))
    return _Entry(
        dtype=scalar(f, 1),
        shape=tuple(dims),
        shard=scalar(f, 3),
        offset=scalar(f, 4),
        size=scalar(f, 5),
        crc=scalar(f, 6, wire=5),
        slices=tuple(slices),
    )


def _ordered_code_signed(value: int) -> bytes:
    """TF's ``OrderedCode::WriteSignedNumIncreasing`` of an int64."""
    x = ~value if value < 0 else value
    if x < 64:
        return bytes([(0x80 ^ value) & 0xFF])
    length = x.bit_length() // 7 + 1  # A sign bit, then one length bit per extra byte.
    raw = bytearray((value & ((1 << (8 * length)) - 1)).to_bytes(length, "big"))
    header = (0xFF << (8 - length)) & 0xFF if length <= 8 else 0xFF
    raw[0] ^= header
    if length > 8:
        raw[1] ^= (0xFF << (16 - length)) & 0xFF
    return bytes(raw)


_ESCAPES = {b"\x00": b"\x00\xff", b"\xff": b"\xff\x00"}


def slice_key(name: str, extents: tuple[tuple[int, int], ...]) -> bytes:
    """TF's ``checkpoint::EncodeTensorNameSlice``: the table key of one saved slice."""
    escaped = re.sub(rb"[\x00\xff]", lambda m: _ESCAPES[m.group()], name.encode())
    rank = len(extents)
    out = [b"\x00", escaped, b"\x00\x01", bytes([(rank.bit_length() + 7) // 8])]
    out.append(rank.to_bytes((rank.bit_length() + 7) // 8, "big"))
    for start, length in extents:
        out.append(_ordered_code_signed(start) + _ordered_code_signed(length))
    return b"".join(out)


def _numel(shape: tuple[int, ...]) -> int:
    return math.prod(shape)


def _check_shape(shape: tuple[int, ...]) -> None:
    if len(shape) > _MAX_RANK:
        raise Unsupported(f"a tensor has rank {len(shape)}, above NumPy's limit of {_MAX_RANK}")
    if any(d < 0 for d in shape) or _numel(shape) >> 63:
        raise Corrupt(f"a tensor has the invalid shape {list(shape)}")
    if _numel(tuple(d for d in shape if d)) * 16 >> 63:  # NumPy's limit, even for 0 elements
        raise Unsupported(f"a tensor's shape {list(shape)} is too large for NumPy")


@dataclass(frozen=True)
class _Tensor:
    """A saved name: its entry, and for a partitioned variable the entries of its slices."""

    entry: _Entry
    parts: tuple[tuple[tuple[slice, ...], _Entry], ...] = ()


class Bundle:
    """An opened TF checkpoint: its parsed and checked index."""

    def __init__(self, path: str | os.PathLike[str]):
        self.prefix = _resolve_prefix(path)
        try:
            with open(self.prefix + ".index", "rb") as f:
                data = f.read()
        except OSError as e:
            raise CheckpointNotFoundError(self.prefix, f"cannot read its .index file ({e})") from e
        self._sizes: dict[int, int] = {}
        try:
            self.tensors = self._open(data)
        except Corrupt as e:
            raise CheckpointCorruptError(self.prefix, str(e)) from None
        except Unsupported as e:
            raise UnsupportedCheckpointError(self.prefix, str(e)) from None

    def _open(self, data: bytes) -> dict[str, _Tensor]:
        table = read_table(data)
        if not table or table[0][0] != b"":
            raise Corrupt("the .index file has no header entry")
        header = fields(table[0][1])
        self.num_shards = scalar(header, 1)
        endianness = scalar(header, 2)
        version = fields(b"".join(messages(header, 3)))
        bad = [v for wire, v in version.get(3, ()) if wire == 0]
        if scalar(version, 2) > _BUNDLE_VERSION or _BUNDLE_VERSION in bad:
            raise Unsupported(
                "it was written by a TensorFlow whose checkpoint format is newer than this "
                "reader's; re-save it with tf.compat.v1.train.Saver from TF 1.x or 2.x"
            )
        if endianness not in (0, 1) or not 1 <= self.num_shards <= 99999:
            raise Corrupt("the header entry is invalid")
        self.swap = (endianness == 1) != (sys.byteorder == "big")
        entries: dict[bytes, _Entry] = {key: _parse_entry(value) for key, value in table[1:]}
        tensors: dict[str, _Tensor] = {}
        used: list[tuple[int, int, int]] = []
        for key, entry in entries.items():
            if key.startswith(b"\x00"):  # A slice of a partitioned variable.
                continue
            try:
                name = key.decode()
            except UnicodeDecodeError:
                raise Corrupt(f"the tensor name {key!r} is not UTF-8") from None
            _check_shape(entry.shape)
            if not entry.slices:
                used.append(self._check_data(entry))
                tensors[name] = _Tensor(entry)
                continue
            parts = []
            for extents in entry.slices:
                index, part_shape = _slice_of(entry.shape, extents)
                part = entries.get(slice_key(name, extents))
                if part is None or part.slices:
                    raise Corrupt(f"a slice of {name} is missing")
                if part.dtype != entry.dtype or part.shape != part_shape:
                    raise Corrupt(f"a slice of {name} has another dtype or shape")
                used.append(self._check_data(part))
                parts.append((index, part))
            if sum(_numel(part.shape) for _, part in parts) != _numel(entry.shape):
                raise Corrupt(f"the slices of {name} do not add up to its shape")
            tensors[name] = _Tensor(entry, tuple(parts))
        # Distinct tensors never share bytes: this bounds what reading them all allocates.
        used = sorted(u for u in used if u[2])
        for (shard, offset, size), (next_shard, next_offset, _) in itertools.pairwise(used):
            if shard == next_shard and offset + size > next_offset:
                raise Corrupt("two tensors claim the same bytes of a .data file")
        return tensors

    def _check_data(self, entry: _Entry) -> tuple[int, int, int]:
        if not 0 <= entry.shard < self.num_shards:
            raise Corrupt(f"an entry names data shard {entry.shard} of {self.num_shards}")
        size = self._shard_size(entry.shard)
        if entry.offset < 0 or entry.size < 0 or entry.offset + entry.size > size:
            raise Corrupt(f"an entry points past the end of {self._shard_path(entry.shard)}")
        numel = _numel(entry.shape)
        dtype = DTYPES.get(entry.dtype, (None,))[0]
        if dtype is object:
            if numel and entry.size < numel + 4:
                raise Corrupt("a string tensor is smaller than its lengths")
        elif dtype is not None and entry.size != numel * np.dtype(dtype).itemsize:
            raise Corrupt("an entry's size does not match its shape and dtype")
        return entry.shard, entry.offset, entry.size

    def _shard_path(self, shard: int) -> str:
        return f"{self.prefix}.data-{shard:05d}-of-{self.num_shards:05d}"

    def _shard_size(self, shard: int) -> int:
        if shard not in self._sizes:
            path = self._shard_path(shard)
            try:
                self._sizes[shard] = os.path.getsize(path)
            except OSError as e:
                raise CheckpointNotFoundError(
                    self.prefix,
                    f"its data file {path} is missing ({e}); copy every file of the checkpoint: "
                    f"{os.path.basename(self.prefix)}.index and all its .data-* files",
                ) from e
        return self._sizes[shard]

    def dtype_name(self, name: str) -> str:
        code = self.tensors[name].entry.dtype
        return DTYPES[code][1] if code in DTYPES else _UNSUPPORTED_DTYPES.get(code, str(code))

    def read(self, name: str) -> np.ndarray:
        """The value of a saved tensor; raises CheckpointCorruptError naming it."""
        tensor = self.tensors[name]
        code = tensor.entry.dtype
        if code not in DTYPES:
            raise UnsupportedCheckpointError(
                self.prefix,
                f"its dtype is DT_{self.dtype_name(name).upper()}, which has no NumPy "
                "equivalent; leave it out (sx.restore_from_tf reads only the tensors it maps)",
                name,
            )
        dtype = np.dtype(DTYPES[code][0])
        try:
            if not tensor.parts:
                return self._read_data(tensor.entry, dtype)
            out = np.empty(tensor.entry.shape, dtype)
            filled = np.zeros(tensor.entry.shape, bool)
            for index, part in tensor.parts:
                if filled[index].any():
                    raise Corrupt("two of its slices overlap")
                out[index] = self._read_data(part, dtype)
                filled[index] = True
            return out
        except Corrupt as e:
            raise CheckpointCorruptError(self.prefix, str(e), name) from None

    def _read_data(self, entry: _Entry, dtype: np.dtype) -> np.ndarray:
        buf = bytearray(entry.size)
        try:
            with open(self._shard_path(entry.shard), "rb") as f:
                f.seek(entry.offset)
                got = f.readinto(buf)
        except OSError as e:
            raise Corrupt(f"its data file cannot be read ({e})") from None
        if got != entry.size:
            raise Corrupt("its data file is shorter than the index says")
        if dtype.kind == "O":
            return _strings(buf, entry, self.swap)
        if unmask(entry.crc) != crc32c(buf):
            raise Corrupt("its bytes fail their crc32c check")
        if dtype == np.bool_:
            return (np.frombuffer(buf, np.uint8) != 0).reshape(entry.shape)
        width = dtype.itemsize // (2 if dtype.kind == "c" else 1)
        if self.swap and width > 1:
            return np.frombuffer(buf, f"u{width}").byteswap().view(dtype).reshape(entry.shape)
        return np.frombuffer(buf, dtype).reshape(entry.shape)


def _slice_of(
    shape: tuple[int, ...], extents: tuple[tuple[int, int], ...]
) -> tuple[tuple[slice, ...], tuple[int, ...]]:
    if len(extents) != len(shape):
        raise Corrupt("a slice has another rank than its tensor")
    index, part_shape = [], []
    for dim, (start, length) in zip(shape, extents, strict=True):
        if length == -1 and start == 0:
            length = dim
        if start < 0 or length < 0 or start + length > dim:
            raise Corrupt("a slice lies outside its tensor")
        index.append(slice(start, start + length))
        part_shape.append(length)
    return tuple(index), tuple(part_shape)


def _strings(buf: bytearray, entry: _Entry, swap: bool) -> np.ndarray:
    """A DT_STRING tensor: varint64 lengths, a masked crc32c of the lengths, the bytes."""
    numel = _numel(entry.shape)
    out = np.empty(numel, object)
    if not entry.size and not numel:
        return out.reshape(entry.shape)
    data = bytes(buf)
    lengths, pos = [], 0
    for _ in range(numel):
        length, pos = varint(data, pos, len(data))
        lengths.append(length)
    order = "big" if swap else "little"
    # TF checksums each length as a uint32, or as a uint64 if it does not fit.
    packed = b"".join(n.to_bytes(4 if n <= _U32 else 8, order) for n in lengths)
    crc = crc32c(packed)
    if pos + 4 > len(data) or unmask(int.from_bytes(data[pos : pos + 4], order)) != crc:
        raise Corrupt("its string lengths fail their crc32c check")
    crc = crc32c(data[pos : pos + 4], crc)
    pos += 4
    if sum(lengths) != len(data) - pos:
        raise Corrupt("its string lengths do not add up to its size")
    if unmask(entry.crc) != crc32c(data[pos:], crc):
        raise Corrupt("its bytes fail their crc32c check")
    for i, length in enumerate(lengths):
        out[i] = data[pos : pos + length]
        pos += length
    return out.reshape(entry.shape)


def _resolve_prefix(path: str | os.PathLike[str]) -> str:
    """The checkpoint prefix of ``path``: a prefix, its ``.index`` file, or a directory."""
    path = os.fspath(path)
    if os.path.isdir(path):
        state = os.path.join(path, "checkpoint")
        try:
            with open(state, encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError) as e:
            found = sorted(n[: -len(".index")] for n in os.listdir(path) if n.endswith(".index"))
            hint = f"; pass one of the prefixes it holds: {', '.join(found)}" if found else ""
            raise CheckpointNotFoundError(
                path, f"the directory has no readable 'checkpoint' file ({e}){hint}"
            ) from None
        match = re.search(r'^model_checkpoint_path:\s*"((?:[^"\\]|\\.)*)"', text, re.M)
        if match is None:
            raise CheckpointNotFoundError(path, f"{state} names no model_checkpoint_path")
        prefix = os.path.join(path, _unescape(match.group(1)))
        if not os.path.isfile(prefix + ".index"):
            # TF1 records absolute paths: find the checkpoint where the directory is now.
            moved = os.path.join(path, os.path.basename(prefix))
            prefix = moved if os.path.isfile(moved + ".index") else prefix
    else:
        prefix = re.sub(r"\.(index|data-\d{5}-of-\d{5})$", "", path)
    if not os.path.isfile(prefix + ".index"):
        raise CheckpointNotFoundError(
            prefix,
            f"there is no {prefix}.index; pass the prefix that TF prints "
            "('.../model.ckpt-1000') or the directory that holds TF's 'checkpoint' file",
        )
    return prefix


_ESCAPED = {"n": b"\n", "t": b"\t", "r": b"\r", '"': b'"', "'": b"'", "\\": b"\\"}


def _unescape(text: str) -> str:
    """Undoes the C escapes of a protobuf text-format string."""
    out = bytearray()
    for i, part in enumerate(re.split(r"\\([0-7]{1,3}|x[0-9a-fA-F]{1,2}|.)", text, flags=re.S)):
        if i % 2 == 0:
            out += part.encode()
        elif part[0] in "01234567":
            out.append(int(part, 8) & 0xFF)
        elif part[0] == "x" and len(part) > 1:
            out.append(int(part[1:], 16))
        else:
            out += _ESCAPED.get(part, part.encode())
    return out.decode("utf-8", "replace")
