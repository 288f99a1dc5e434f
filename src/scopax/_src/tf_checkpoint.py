"""TF1 checkpoints without TensorFlow: a reader of TF's V2 checkpoint format.

A checkpoint ``model.ckpt-1000`` is an ``.index`` file and ``.data-NNNNN-of-NNNNN`` shards.
The index is a LevelDB-style table (data blocks of prefix-compressed keys with restart
points, an index block of block handles, a footer with a magic number, masked crc32c
trailers) from each tensor's full name to a ``BundleEntryProto`` (dtype, shape, shard,
offset, size, crc32c, and the slices of a partitioned variable); the empty key holds the
``BundleHeaderProto``. This module decodes the protobuf wire format itself and checks
every length, offset and checksum against the files before it allocates anything: a
damaged or hostile file raises ``CheckpointCorruptError``, and what it allocates is
bounded by the size of the files.
"""

from __future__ import annotations

import difflib
import itertools
import math
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from scopax._src.errors import (
    CheckpointCorruptError,
    CheckpointMismatchError,
    CheckpointNotFoundError,
    CheckpointTreeError,
    UnsupportedCheckpointError,
)
from scopax._src.params import Params, as_flat, unflatten

_U32 = 0xFFFFFFFF
_TABLE_MAGIC = 0xDB4775248B80FB57
_FOOTER_SIZE = 48  # Two block handles padded to 40 bytes, then the magic number.
_BLOCK_TRAILER = 5  # Compression type byte and masked crc32c.
_BUNDLE_VERSION = 1  # The reader's version, as TF's kTensorBundleVersion.
_MAX_RANK = 64  # NumPy's limit; TF's is 254.

# TF's DataType enum -> (NumPy dtype, TF's name); the quantized types are their storage ints.
_DTYPES: dict[int, tuple[Any, str]] = {
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


# crc32c (Castagnoli), as TF's tensorflow/core/lib/hash/crc32c.h: table-driven, with a
# vectorised path for large buffers (the CRC register is linear over GF(2), so equal
# chunks are checksummed side by side from a zero state and chained afterwards).


def _crc_tables() -> list[np.ndarray]:
    c = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        c = (c >> 1) ^ np.where(c & 1, np.uint32(0x82F63B78), np.uint32(0))
    tables = [c]
    for _ in range(3):  # Slicing-by-4: table k is a byte followed by k zero bytes.
        tables.append((tables[-1] >> 8) ^ c[tables[-1] & 0xFF])
    return tables


_T = _crc_tables()
_T0 = _T[0].tolist()
_BITS = ((np.arange(256)[:, None] >> np.arange(8)) & 1).astype(bool)


def _crc_bytewise(state: int, data: bytes | memoryview) -> int:
    table = _T0
    for byte in bytes(data):
        state = table[(state ^ byte) & 0xFF] ^ (state >> 8)
    return state


def _crc_update(state: int, data: bytes | bytearray | memoryview) -> int:
    buf = np.frombuffer(data, dtype=np.uint8)
    n = buf.size
    if n < 8192:
        return _crc_bytewise(state, buf.data)
    words = max(16, min(1024, math.isqrt(n // 64)))  # 4-byte words per chunk
    width = 4 * words
    rows = n // width
    cols = np.zeros((words, rows + 32), np.uint32)
    cols[:, :rows] = buf[: rows * width].view("<u4").reshape(rows, words).T
    r = np.zeros(rows + 32, np.uint32)
    r[rows:] = np.uint32(1) << np.arange(32, dtype=np.uint32)  # Basis states: the shift map.
    t0, t1, t2, t3 = _T
    for j in range(words):
        s = r ^ cols[j]
        r = t3[s & 0xFF] ^ t2[(s >> 8) & 0xFF] ^ t1[(s >> 16) & 0xFF] ^ t0[s >> 24]
    basis = r[rows:]
    z0, z1, z2, z3 = (
        np.bitwise_xor.reduce(np.where(_BITS, basis[8 * k : 8 * k + 8], 0), axis=1).tolist()
        for k in range(4)
    )
    for chunk in r[:rows].tolist():
        state = (
            z0[state & 0xFF]
            ^ z1[(state >> 8) & 0xFF]
            ^ z2[(state >> 16) & 0xFF]
            ^ z3[state >> 24]
            ^ chunk
        )
    return _crc_bytewise(state, buf[rows * width :].data)


def crc32c(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """The crc32c of ``data``, extending ``crc`` (TF's ``crc32c::Extend``)."""
    return _crc_update(crc ^ _U32, data) ^ _U32


def _unmask(masked: int) -> int:
    rot = (masked - 0xA282EAD8) & _U32
    return ((rot >> 17) | (rot << 15)) & _U32


# The protobuf wire format: just what the bundle's messages use.


class _Corrupt(Exception):
    """Raised deep in the parsers; the reader turns it into CheckpointCorruptError."""


class _Unsupported(Exception):
    """Raised in the parsers; the reader turns it into UnsupportedCheckpointError."""


def _varint(buf: bytes, pos: int, limit: int, max_bytes: int = 10) -> tuple[int, int]:
    """A base-128 varint: 10 bytes at most for 64 bits, 5 for LevelDB's 32-bit ones."""
    result = 0
    for i in range(max_bytes):
        if pos + i >= limit:
            raise _Corrupt("a varint runs past the end of its buffer")
        byte = buf[pos + i]
        result |= (byte & 0x7F) << (7 * i)
        if byte < 0x80:
            if result >> (64 if max_bytes == 10 else 32):
                raise _Corrupt("a varint overflows its type")
            return result, pos + i + 1
    raise _Corrupt("a varint is longer than its type allows")


def _fields(buf: bytes) -> dict[int, list[tuple[int, Any]]]:
    """The fields of a serialized message: number -> [(wire type, int or bytes)]."""
    out: dict[int, list[tuple[int, Any]]] = {}
    pos, n = 0, len(buf)
    while pos < n:
        key, pos = _varint(buf, pos, n)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise _Corrupt("a protobuf field has number 0")
        if wire == 0:
            value, pos = _varint(buf, pos, n)
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            if pos + size > n:
                raise _Corrupt("a fixed-width protobuf field is truncated")
            value, pos = int.from_bytes(buf[pos : pos + size], "little"), pos + size
        elif wire == 2:
            size, pos = _varint(buf, pos, n)
            if size > n - pos:
                raise _Corrupt("a length-delimited protobuf field runs past its message")
            value, pos = buf[pos : pos + size], pos + size
        else:
            raise _Corrupt(f"unsupported protobuf wire type {wire}")
        out.setdefault(number, []).append((wire, value))
    return out


def _scalar(fields: dict[int, list[tuple[int, Any]]], number: int, wire: int = 0) -> int:
    values = fields.get(number)
    if not values:
        return 0
    if values[-1][0] != wire:
        raise _Corrupt(f"protobuf field {number} has wire type {values[-1][0]}")
    value = values[-1][1]
    return value - (1 << 64) if wire == 0 and value >> 63 else value  # int64 two's complement


def _messages(fields: dict[int, list[tuple[int, Any]]], number: int) -> list[bytes]:
    out = []
    for wire, value in fields.get(number, ()):
        if wire != 2:
            raise _Corrupt(f"protobuf field {number} should be a message")
        out.append(value)
    return out


# The table (.index file).


def _block_entries(block: bytes) -> list[tuple[bytes, bytes]]:
    n = len(block)
    if n < 4:
        raise _Corrupt("a table block is shorter than its restart count")
    num_restarts = int.from_bytes(block[n - 4 :], "little")
    if num_restarts > (n - 4) // 4:
        raise _Corrupt("a table block claims more restart points than it can hold")
    limit = n - 4 - 4 * num_restarts
    restarts = np.frombuffer(block, "<u4", num_restarts, limit).tolist()
    entries: list[tuple[bytes, bytes]] = []
    starts: dict[int, int] = {}
    pos, key = 0, b""
    while pos < limit:
        start = pos
        shared, pos = _varint(block, pos, limit, 5)
        unshared, pos = _varint(block, pos, limit, 5)
        value_size, pos = _varint(block, pos, limit, 5)
        if shared > len(key) or unshared + value_size > limit - pos:
            raise _Corrupt("a table entry runs past its block")
        key = key[:shared] + block[pos : pos + unshared]
        pos += unshared
        entries.append((key, block[pos : pos + value_size]))
        pos += value_size
        starts[start] = shared
    if entries and any(starts.get(r) != 0 for r in restarts):
        raise _Corrupt("a restart point of a table block is not at a full key")
    return entries


def _read_block(data: bytes, handle: bytes, limit: int) -> tuple[bytes, int, int]:
    offset, pos = _varint(handle, 0, len(handle))
    size, _ = _varint(handle, pos, len(handle))
    if offset > limit or size > limit - offset or limit - offset - size < _BLOCK_TRAILER:
        raise _Corrupt("a block handle points outside the .index file")
    end = offset + size
    if _unmask(int.from_bytes(data[end + 1 : end + 5], "little")) != crc32c(data[offset : end + 1]):
        raise _Corrupt("a table block fails its crc32c check")
    if data[end] == 1:
        raise _Unsupported(
            "its .index file uses Snappy compression, which TF itself has not written since "
            "1.2; re-save it with TF (tf.compat.v1.train.Saver)"
        )
    if data[end] != 0:
        raise _Corrupt(f"a table block has unknown compression type {data[end]}")
    return data[offset:end], offset, end + _BLOCK_TRAILER


def read_table(data: bytes) -> list[tuple[bytes, bytes]]:
    """Every (key, value) of a TF table, in order; raises _Corrupt or _Unsupported."""
    n = len(data)
    if n < _FOOTER_SIZE:
        raise _Corrupt(f"the .index file has {n} bytes, fewer than a table footer")
    footer = data[n - _FOOTER_SIZE :]
    if int.from_bytes(footer[40:], "little") != _TABLE_MAGIC:
        raise _Corrupt("the .index file does not end with the table magic number")
    _, pos = _varint(footer, 0, 40)  # The metaindex handle: TF leaves it empty.
    _, pos = _varint(footer, pos, 40)
    index, index_start, _ = _read_block(data, footer[pos:40], n - _FOOTER_SIZE)
    entries: list[tuple[bytes, bytes]] = []
    end = 0
    for _, handle in _block_entries(index):
        block, start, block_end = _read_block(data, handle, index_start)
        if start < end:
            raise _Corrupt("the data blocks of the .index file overlap")
        end = block_end
        entries.extend(_block_entries(block))
    for (a, _), (b, _) in itertools.pairwise(entries):
        if a >= b:
            raise _Corrupt("the keys of the .index file are not in increasing order")
    return entries


# The bundle.


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
    f = _fields(value)
    dims: list[int] = []
    for shape_msg in _messages(f, 2):
        shape_fields = _fields(shape_msg)
        if _scalar(shape_fields, 3):
            raise _Corrupt("a saved tensor has an unknown rank")
        for dim in _messages(shape_fields, 2):
            dims.append(_scalar(_fields(dim), 1))
    slices = []
    for slice_msg in _messages(f, 7):
        extents = []
        for extent_msg in _messages(_fields(slice_msg), 1):
            ef = _fields(extent_msg)
            extents.append((_scalar(ef, 1), _scalar(ef, 2) if 2 in ef else -1))
        slices.append(tuple(extents))
    return _Entry(
        dtype=_scalar(f, 1),
        shape=tuple(dims),
        shard=_scalar(f, 3),
        offset=_scalar(f, 4),
        size=_scalar(f, 5),
        crc=_scalar(f, 6, wire=5),
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
        raise _Unsupported(f"a tensor has rank {len(shape)}, above NumPy's limit of {_MAX_RANK}")
    if any(d < 0 for d in shape) or _numel(shape) >> 63:
        raise _Corrupt(f"a tensor has the invalid shape {list(shape)}")
    if _numel(tuple(d for d in shape if d)) * 16 >> 63:  # NumPy's limit, even for 0 elements
        raise _Unsupported(f"a tensor's shape {list(shape)} is too large for NumPy")


@dataclass(frozen=True)
class _Tensor:
    """A saved name: its entry, and for a partitioned variable the entries of its slices."""

    entry: _Entry
    parts: tuple[tuple[tuple[slice, ...], _Entry], ...] = ()


class _Bundle:
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
        except _Corrupt as e:
            raise CheckpointCorruptError(self.prefix, str(e)) from None
        except _Unsupported as e:
            raise UnsupportedCheckpointError(self.prefix, str(e)) from None

    def _open(self, data: bytes) -> dict[str, _Tensor]:
        table = read_table(data)
        if not table or table[0][0] != b"":
            raise _Corrupt("the .index file has no header entry")
        header = _fields(table[0][1])
        self.num_shards = _scalar(header, 1)
        endianness = _scalar(header, 2)
        version = _fields(b"".join(_messages(header, 3)))
        bad = [v for wire, v in version.get(3, ()) if wire == 0]
        if _scalar(version, 2) > _BUNDLE_VERSION or _BUNDLE_VERSION in bad:
            raise _Unsupported(
                "it was written by a TensorFlow whose checkpoint format is newer than this "
                "reader's; re-save it with tf.compat.v1.train.Saver from TF 1.x or 2.x"
            )
        if endianness not in (0, 1) or not 1 <= self.num_shards <= 99999:
            raise _Corrupt("the header entry is invalid")
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
                raise _Corrupt(f"the tensor name {key!r} is not UTF-8") from None
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
                    raise _Corrupt(f"a slice of {name} is missing")
                if part.dtype != entry.dtype or part.shape != part_shape:
                    raise _Corrupt(f"a slice of {name} has another dtype or shape")
                used.append(self._check_data(part))
                parts.append((index, part))
            if sum(_numel(part.shape) for _, part in parts) != _numel(entry.shape):
                raise _Corrupt(f"the slices of {name} do not add up to its shape")
            tensors[name] = _Tensor(entry, tuple(parts))
        # Distinct tensors never share bytes: this bounds what reading them all allocates.
        used = sorted(u for u in used if u[2])
        for (shard, offset, size), (next_shard, next_offset, _) in itertools.pairwise(used):
            if shard == next_shard and offset + size > next_offset:
                raise _Corrupt("two tensors claim the same bytes of a .data file")
        return tensors

    def _check_data(self, entry: _Entry) -> tuple[int, int, int]:
        if not 0 <= entry.shard < self.num_shards:
            raise _Corrupt(f"an entry names data shard {entry.shard} of {self.num_shards}")
        size = self._shard_size(entry.shard)
        if entry.offset < 0 or entry.size < 0 or entry.offset + entry.size > size:
            raise _Corrupt(f"an entry points past the end of {self._shard_path(entry.shard)}")
        numel = _numel(entry.shape)
        dtype = _DTYPES.get(entry.dtype, (None,))[0]
        if dtype is object:
            if numel and entry.size < numel + 4:
                raise _Corrupt("a string tensor is smaller than its lengths")
        elif dtype is not None and entry.size != numel * np.dtype(dtype).itemsize:
            raise _Corrupt("an entry's size does not match its shape and dtype")
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
        return _DTYPES[code][1] if code in _DTYPES else _UNSUPPORTED_DTYPES.get(code, str(code))

    def read(self, name: str) -> np.ndarray:
        """The value of a saved tensor; raises CheckpointCorruptError naming it."""
        tensor = self.tensors[name]
        code = tensor.entry.dtype
        if code not in _DTYPES:
            raise UnsupportedCheckpointError(
                self.prefix,
                f"its dtype is DT_{self.dtype_name(name).upper()}, which has no NumPy "
                "equivalent; leave it out (sx.restore_from_tf reads only the tensors it maps)",
                name,
            )
        dtype = np.dtype(_DTYPES[code][0])
        try:
            if not tensor.parts:
                return self._read_data(tensor.entry, dtype)
            out = np.empty(tensor.entry.shape, dtype)
            filled = np.zeros(tensor.entry.shape, bool)
            for index, part in tensor.parts:
                if filled[index].any():
                    raise _Corrupt("two of its slices overlap")
                out[index] = self._read_data(part, dtype)
                filled[index] = True
            return out
        except _Corrupt as e:
            raise CheckpointCorruptError(self.prefix, str(e), name) from None

    def _read_data(self, entry: _Entry, dtype: np.dtype) -> np.ndarray:
        buf = bytearray(entry.size)
        try:
            with open(self._shard_path(entry.shard), "rb") as f:
                f.seek(entry.offset)
                got = f.readinto(buf)
        except OSError as e:
            raise _Corrupt(f"its data file cannot be read ({e})") from None
        if got != entry.size:
            raise _Corrupt("its data file is shorter than the index says")
        if dtype.kind == "O":
            return _strings(buf, entry, self.swap)
        if _unmask(entry.crc) != crc32c(buf):
            raise _Corrupt("its bytes fail their crc32c check")
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
        raise _Corrupt("a slice has another rank than its tensor")
    index, part_shape = [], []
    for dim, (start, length) in zip(shape, extents, strict=True):
        if length == -1 and start == 0:
            length = dim
        if start < 0 or length < 0 or start + length > dim:
            raise _Corrupt("a slice lies outside its tensor")
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
        length, pos = _varint(data, pos, len(data))
        lengths.append(length)
    order = "big" if swap else "little"
    # TF checksums each length as a uint32, or as a uint64 if it does not fit.
    packed = b"".join(n.to_bytes(4 if n <= _U32 else 8, order) for n in lengths)
    crc = crc32c(packed)
    if pos + 4 > len(data) or _unmask(int.from_bytes(data[pos : pos + 4], order)) != crc:
        raise _Corrupt("its string lengths fail their crc32c check")
    crc = crc32c(data[pos : pos + 4], crc)
    pos += 4
    if sum(lengths) != len(data) - pos:
        raise _Corrupt("its string lengths do not add up to its size")
    if _unmask(entry.crc) != crc32c(data[pos:], crc):
        raise _Corrupt("its bytes fail their crc32c check")
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


def load_tf_checkpoint(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
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

    Args:
      path: the prefix that TF prints (``".../model.ckpt-1000"``), its ``.index`` file,
        or a directory with TF's ``checkpoint`` file (its latest checkpoint is read).

    Returns:
      A dict from full names (``"model/conv1/weights"``, ``".../weights/Adam"``,
      ``"global_step"``) to arrays, in sorted order.

    Raises:
      CheckpointNotFoundError: no checkpoint at ``path``, or one of its files is missing.
      CheckpointCorruptError: a file is truncated, fails a checksum, or is not a checkpoint.
      UnsupportedCheckpointError: a tensor's dtype has no NumPy equivalent
        (``DT_VARIANT``, ``DT_RESOURCE``), or the index is Snappy-compressed.
    """
    bundle = _Bundle(path)
    return {name: bundle.read(name) for name in bundle.tensors}


def list_tf_checkpoint(path: str | os.PathLike[str]) -> dict[str, tuple[tuple[int, ...], str]]:
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

    Returns:
      A dict from full names to ``(shape, dtype name)``, the dtype named as TF does
      (``"float32"``, ``"bfloat16"``, ``"string"``).

    Raises:
      CheckpointNotFoundError, CheckpointCorruptError: as :func:`load_tf_checkpoint`.
    """
    bundle = _Bundle(path)
    return {name: (t.entry.shape, bundle.dtype_name(name)) for name, t in bundle.tensors.items()}


_MISMATCH_FIX = (
    "Map checkpoint names to variables with assignment_map={'checkpoint_scope/': "
    "'params_scope/'} (sx.list_tf_checkpoint(path) lists the checkpoint's names), or build "
    "params with the checkpoint's shapes and dtypes."
)


def restore_from_tf(
    params: Mapping[str, Any],
    path: str | os.PathLike[str],
    assignment_map: Mapping[str, str] | None = None,
) -> Params:
    """``params`` with values from a TF1 checkpoint, like ``tf.train.init_from_checkpoint``.

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

    Every variable covered by ``assignment_map`` is checked against the checkpoint: a
    missing name, another shape or another dtype is reported, all of them at once, in one
    :class:`~scopax.errors.CheckpointMismatchError`. Checkpoint tensors that nothing maps
    to, such as ``global_step`` and optimizer slots (``.../Adam``, ``.../Momentum``), are
    skipped; map them explicitly to read them. Dtypes must match after JAX's
    canonicalization, as ``get_variable`` does: with x64 off, a float64 or int64 tensor
    restores into a float32 or int32 variable, and an int64 value outside the int32 range
    (or a float64 beyond float32's) is reported instead of wrapped.

    Args:
      params: the tree that ``init`` returned (or ``jax.eval_shape`` of ``init``: then
        every variable must be covered). Each value keeps the sharding of the leaf it
        replaces.
      path: as for :func:`load_tf_checkpoint`.
      assignment_map: ``{checkpoint name: params name}`` as in TF: ``{"old_scope/":
        "new_scope/"}`` maps a scope (``"/"`` is the root), ``{"old/w": "new/w"}`` one
        variable; the most specific entry for a variable wins. Variables it does not
        cover keep their values. ``None`` (the default) is ``{"/": "/"}``: every
        variable, under its own name.

    Returns:
      A new :class:`Params` with the restored values.

    Raises:
      CheckpointMismatchError: names missing in the checkpoint, shape or dtype
        mismatches, values out of range, or ``assignment_map`` entries that cover nothing.
      CheckpointNotFoundError, CheckpointCorruptError: as :func:`load_tf_checkpoint`.
    """
    flat = _flat_params(params)
    bundle = _Bundle(path)
    plan, problems = _plan(flat, assignment_map)
    for name, leaf in flat.items():
        if name not in plan and isinstance(leaf, jax.ShapeDtypeStruct):
            problems.append((name, "params holds only its shape, and assignment_map skips it"))
    for name, source in plan.items():
        why = _check(bundle, flat[name], source, name)
        if why:
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
    return unflatten(out)


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


def _plan(
    flat: Mapping[str, Any], assignment_map: Mapping[str, str] | None
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """{params name: checkpoint name} per TF's assignment_map rules, and the problems."""
    mapping = {"/": "/"} if assignment_map is None else assignment_map
    chosen: dict[str, tuple[int, str]] = {}
    problems: list[tuple[str, str]] = []
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
            for name in covered:
                if chosen.get(name, (-1, ""))[0] < len(prefix):
                    chosen[name] = (len(prefix), base + name[len(prefix) :])
    return {name: source for name, (_, source) in sorted(chosen.items())}, problems


def _in_scope(flat: Mapping[str, Any], prefix: str) -> bool:
    return any(name.startswith(prefix) for name in flat)


def _check(bundle: _Bundle, leaf: Any, source: str, name: str) -> str | None:
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
    saved = _DTYPES.get(tensor.entry.dtype, (None,))[0]
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
