"""TF's tensor bundle: the V2 checkpoint format, read without TensorFlow or protobuf.

A checkpoint ``model.ckpt-1000`` is an ``.index`` file and ``.data-NNNNN-of-NNNNN`` shards.
The index is a table (``tf_table``) from each tensor's full name to a ``BundleEntryProto``
(dtype, shape, shard, offset, size, crc32c, and the slices of a partitioned variable); the
empty key holds the ``BundleHeaderProto``. This module checks every length, offset and
checksum against the files before it allocates anything: a damaged or hostile file raises
``CheckpointCorruptError``, and what it allocates is bounded by the size of the files. Only
regular files are read (never a FIFO or a device), each no further than its size.
"""

from __future__ import annotations

import io
import itertools
import math
import os
import re
import stat
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import jax.numpy as jnp
import numpy as np

from scopax._src.core.errors import (
    CheckpointCorruptError,
    CheckpointNotFoundError,
    CheckpointTreeError,
    UnsupportedCheckpointError,
)
from scopax._src.io.crc32c import crc32c, unmask
from scopax._src.io.tf_table import Corrupt, Unsupported, fields, iter_table, messages, scalar

_U32 = 0xFFFFFFFF
_BUNDLE_VERSION = 1  # The reader's version, as TF's kTensorBundleVersion.
_MAX_RANK = 64  # NumPy's limit; TF's is 254.
_STATE_FILE_LIMIT = 1 << 20  # TF's 'checkpoint' file is a few lines of text.
_STRING_CHUNK = 1 << 14  # String lengths decoded per step: temporaries of a few hundred KB.
# Opening a FIFO for reading waits for a writer unless it is non-blocking; regular files
# ignore the flag.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)

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
_Buffer = TypeVar("_Buffer", bytes, bytearray)
_UNSUPPORTED_DTYPES = {20: "resource", 21: "variant", 29: "int4", 30: "uint4", 31: "int2"}


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class _Tensor:
    """A saved name: its entry, and for a partitioned variable the entries of its slices."""

    entry: _Entry
    parts: tuple[tuple[tuple[slice, ...], _Entry], ...] = ()


class Bundle:
    """An opened TF checkpoint: its parsed and checked index."""

    def __init__(self, path: Any, within: Any = None):
        self.within = None if within is None else _as_path(within, "within")
        self.prefix = _resolve_prefix(_as_path(path, "path"), self.within)
        self._sizes: dict[int, int] = {}
        self._check_within(self.prefix + ".index")
        try:
            data = _read_regular(self.prefix + ".index")
        except OSError as e:
            raise CheckpointNotFoundError(self.prefix, f"cannot read its .index file ({e})") from e
        except _NotRegular as e:
            raise UnsupportedCheckpointError(self.prefix, e.why(".index file")) from None
        try:
            self.tensors = self._open(data)
        except Corrupt as e:
            raise CheckpointCorruptError(self.prefix, str(e)) from None
        except Unsupported as e:
            raise UnsupportedCheckpointError(self.prefix, str(e)) from None

    def _check_within(self, path: str) -> None:
        """Refuses a file that, symbolic links resolved, lies outside ``within``."""
        real = _outside(path, self.within)
        if real is not None:
            raise CheckpointNotFoundError(
                self.prefix,
                f"{path} resolves to {real}, outside within={self.within}; move the checkpoint "
                "there, or leave within= out if you trust where its 'checkpoint' file points",
            )

    def _open(self, data: bytes) -> dict[str, _Tensor]:
        # The table streams: only the parsed entries are kept, never the raw ones.
        table = iter_table(data)
        first = next(table, None)
        if first is None or first[0] != b"":
            raise Corrupt("the .index file has no header entry")
        self._read_header(first[1])
        slices: dict[bytes, _Entry] = {}  # Slice keys start with 0, so they come first.
        tensors: dict[str, _Tensor] = {}
        used: list[tuple[int, int, int]] = []
        for key, value in table:
            entry = _parse_entry(value)
            if key.startswith(b"\x00"):  # A slice of a partitioned variable.
                slices[key] = entry
                continue
            try:
                name = key.decode()
            except UnicodeDecodeError:
                raise Corrupt(f"the tensor name {key!r} is not UTF-8") from None
            tensors[name] = self._tensor(name, entry, slices, used)
        # Distinct tensors never share bytes: this bounds what reading them all allocates.
        used.sort()
        for (shard, offset, size), (next_shard, next_offset, _) in itertools.pairwise(used):
            if shard == next_shard and offset + size > next_offset:
                raise Corrupt("two tensors claim the same bytes of a .data file")
        return tensors

    def _read_header(self, value: bytes) -> None:
        header = fields(value)
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
        self.order: Literal["little", "big"] = "big" if endianness == 1 else "little"
        self.swap = (endianness == 1) != (sys.byteorder == "big")

    def _tensor(
        self,
        name: str,
        entry: _Entry,
        slices: dict[bytes, _Entry],
        used: list[tuple[int, int, int]],
    ) -> _Tensor:
        """The saved tensor ``name``, its data extents checked and added to ``used``."""
        _check_shape(entry.shape)
        if not entry.slices:
            self._check_data(entry, used)
            return _Tensor(entry)
        parts = []
        for extents in entry.slices:
            index, part_shape = _slice_of(entry.shape, extents)
            part = slices.get(slice_key(name, extents))
            if part is None or part.slices:
                raise Corrupt(f"a slice of {name} is missing")
            if part.dtype != entry.dtype or part.shape != part_shape:
                raise Corrupt(f"a slice of {name} has another dtype or shape")
            self._check_data(part, used)
            parts.append((index, part))
        if sum(_numel(part.shape) for _, part in parts) != _numel(entry.shape):
            raise Corrupt(f"the slices of {name} do not add up to its shape")
        return _Tensor(entry, tuple(parts))

    def _check_data(self, entry: _Entry, used: list[tuple[int, int, int]]) -> None:
        """Checks the entry's extent against its shard, and appends it to ``used``."""
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
        if entry.size:  # Empty extents overlap nothing, and are not kept.
            used.append((entry.shard, entry.offset, entry.size))

    def _shard_path(self, shard: int) -> str:
        return f"{self.prefix}.data-{shard:05d}-of-{self.num_shards:05d}"

    def _shard_size(self, shard: int) -> int:
        if shard not in self._sizes:
            path = self._shard_path(shard)
            self._check_within(path)
            try:
                info = os.stat(path)
            except OSError as e:
                raise CheckpointNotFoundError(
                    self.prefix,
                    f"its data file {path} is missing ({e}); copy every file of the checkpoint: "
                    f"{os.path.basename(self.prefix)}.index and all its .data-* files",
                ) from e
            if not stat.S_ISREG(info.st_mode):
                raise UnsupportedCheckpointError(
                    self.prefix, _NotRegular(info.st_mode).why(f"data file {path}")
                )
            self._sizes[shard] = info.st_size
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
        if dtype.kind == "O":
            # Strings are sliced into bytes objects, which a bytes buffer gives uncopied.
            return _strings(self._read_extent(entry, _read_bytes), entry, self.order)
        buf = self._read_extent(entry, _read_into)  # A bytearray: the arrays stay writable.
        if unmask(entry.crc) != crc32c(buf):
            raise Corrupt("its bytes fail their crc32c check")
        if dtype == np.bool_:
            return (np.frombuffer(buf, np.uint8) != 0).reshape(entry.shape)
        width = dtype.itemsize // (2 if dtype.kind == "c" else 1)
        if self.swap and width > 1:
            return np.frombuffer(buf, f"u{width}").byteswap().view(dtype).reshape(entry.shape)
        return np.frombuffer(buf, dtype).reshape(entry.shape)

    def _read_extent(self, entry: _Entry, read: Callable[[io.FileIO, int], _Buffer]) -> _Buffer:
        """The entry's bytes of its data file, which must still be a regular file."""
        path = self._shard_path(entry.shard)
        self._check_within(path)
        try:
            with _open_regular(path) as f:
                f.seek(entry.offset)
                buf = read(f, entry.size)
        except OSError as e:
            raise Corrupt(f"its data file cannot be read ({e})") from None
        except _NotRegular as e:
            raise Corrupt(e.why(f"data file {path}")) from None
        if len(buf) != entry.size:
            raise Corrupt("its data file is shorter than the index says")
        return buf


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


def _strings(data: bytes, entry: _Entry, order: Literal["little", "big"]) -> np.ndarray:
    """A DT_STRING tensor: varint64 lengths, a masked crc32c of the lengths, the bytes.

    The lengths are decoded twice, a chunk at a time, rather than kept: the result's
    pointers (8 bytes an element) and the file's bytes are all that grows with the tensor.
    """
    numel = _numel(entry.shape)
    out = np.empty(numel, object)
    if not entry.size and not numel:
        return out.reshape(entry.shape)
    raw = np.frombuffer(data, np.uint8)
    crc, total, pos = 0, 0, 0
    for lengths, end in _varint_chunks(raw, numel):
        pos = end
        if lengths.max() > len(data):
            raise Corrupt("its string lengths do not add up to its size")
        # Exact in uint64: each half of a chunk's lengths sums below 2**46.
        total += (int((lengths >> np.uint64(32)).sum()) << 32) + int((lengths & _U32).sum())
        crc = crc32c(_packed_lengths(lengths, order), crc)
    if pos + 4 > len(data) or unmask(int.from_bytes(data[pos : pos + 4], order)) != crc:
        raise Corrupt("its string lengths fail their crc32c check")
    crc = crc32c(data[pos : pos + 4], crc)
    pos += 4
    if total != len(data) - pos:
        raise Corrupt("its string lengths do not add up to its size")
    if unmask(entry.crc) != crc32c(memoryview(data)[pos:], crc):
        raise Corrupt("its bytes fail their crc32c check")
    if not total:
        out.fill(b"")  # One shared empty bytes object.
        return out.reshape(entry.shape)
    done = 0
    for lengths, _ in _varint_chunks(raw, numel):
        stops = (pos + np.cumsum(lengths, dtype=np.uint64)).tolist()
        starts = [pos, *stops[:-1]]
        chunk = (data[a:b] for a, b in zip(starts, stops, strict=True))
        out[done : done + len(stops)] = np.fromiter(chunk, object, len(stops))
        done, pos = done + len(stops), stops[-1]
    return out.reshape(entry.shape)


def _varint_chunks(raw: np.ndarray, count: int) -> Iterator[tuple[np.ndarray, int]]:
    """The ``count`` varint64s at the start of ``raw``, as uint64 arrays of up to
    ``_STRING_CHUNK``, each with the offset just past it."""
    pos = 0
    for done in range(0, count, _STRING_CHUNK):
        k = min(_STRING_CHUNK, count - done)
        window = raw[pos : pos + 10 * k]  # A varint64 has 10 bytes at most.
        ends = np.flatnonzero(window < 0x80)[:k]
        if ends.size < k:  # Past the end of the data, or a varint of over 10 bytes.
            short = window.size < 10 * k
            raise Corrupt(
                "its string lengths run past its size"
                if short
                else "a string length is longer than a varint64"
            )
        starts = np.concatenate([[0], ends[:-1] + 1])
        widths = ends - starts + 1
        if widths.max() > 10:
            raise Corrupt("a string length is longer than a varint64")
        values = np.zeros(k, np.uint64)
        for j in range(int(widths.max())):
            rows = np.flatnonzero(widths > j)
            byte = window[starts[rows] + j]
            if j == 9 and (byte > 1).any():
                raise Corrupt("a string length overflows 64 bits")
            values[rows] |= (byte & 0x7F).astype(np.uint64) << np.uint64(7 * j)
        pos += int(ends[-1]) + 1
        yield values, pos


def _packed_lengths(lengths: np.ndarray, order: Literal["little", "big"]) -> bytes:
    """The lengths as TF checksums them: each a uint32, or a uint64 if it does not fit."""
    if lengths.max() <= _U32:
        return lengths.astype(f"{'>' if order == 'big' else '<'}u4").tobytes()
    return b"".join(n.to_bytes(4 if n <= _U32 else 8, order) for n in lengths.tolist())


class _NotRegular(Exception):
    """A path names a FIFO, a device, a directory or a socket rather than a regular file."""

    def __init__(self, mode: int):
        super().__init__(mode)
        self.mode = mode

    def why(self, what: str, fix: str = "copy the checkpoint into regular files") -> str:
        kinds = [
            (stat.S_ISFIFO, "a FIFO"),
            (stat.S_ISCHR, "a character device"),
            (stat.S_ISBLK, "a block device"),
            (stat.S_ISDIR, "a directory"),
            (stat.S_ISSOCK, "a socket"),
        ]
        kind = next((name for test, name in kinds if test(self.mode)), "not a regular file")
        return f"its {what} is {kind}; scopax reads only regular files, which end: {fix}"


def _open_regular(path: str) -> io.FileIO:
    """``path`` opened for reading, unbuffered; raises _NotRegular before reading a byte."""
    fd = os.open(path, _OPEN_FLAGS)
    try:
        mode = os.fstat(fd).st_mode  # The opened file itself: no race with a rename.
        if not stat.S_ISREG(mode):
            raise _NotRegular(mode)
        return io.FileIO(fd, "rb", closefd=True)
    except BaseException:
        os.close(fd)
        raise


def _read_into(f: io.FileIO, size: int) -> bytearray:
    """Up to ``size`` bytes from ``f``'s position, fewer only at its end, in one buffer."""
    buf = bytearray(size)
    with memoryview(buf) as view:
        got = 0
        while got < size:
            n = f.readinto(view[got:])
            if not n:
                break
            got += n
    del buf[got:]
    return buf


def _read_bytes(f: io.FileIO, size: int) -> bytes:
    """As _read_into, as bytes: one read, so no copy, unless the system splits it."""
    chunks, got = [], 0
    while got < size:
        chunk = f.read(size - got)
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)  # A single chunk is returned as is.


def _read_regular(path: str) -> bytes:
    """A regular file's bytes, no more than its size when opened, however it changes."""
    with _open_regular(path) as f:
        return _read_bytes(f, os.fstat(f.fileno()).st_size)


def _as_path(value: Any, argument: str) -> str:
    """``value`` as a str path (from str, bytes or os.PathLike), or a scopax error."""
    fix = (
        "the directory that checkpoints must lie in"
        if argument == "within"
        else "the prefix that TF prints ('.../model.ckpt-1000') or the directory that holds "
        "TF's 'checkpoint' file"
    )
    try:
        path = os.fsdecode(value)
    except TypeError:
        raise CheckpointTreeError(
            argument,
            f"expected a path (str, bytes or os.PathLike), got {type(value).__name__}; pass {fix}",
        ) from None
    if "\x00" in path:
        raise CheckpointNotFoundError(
            repr(path), f"{argument} holds a NUL character, which no file name can; pass {fix}"
        )
    return path


def _outside(path: str, within: str | None) -> str | None:
    """Where ``path`` really is (links resolved) if that is outside ``within``, else None."""
    if within is None:
        return None
    real, root = os.path.realpath(path), os.path.realpath(within)
    return None if os.path.commonpath([real, root]) == root else real


def _resolve_prefix(path: str, within: str | None = None) -> str:
    """The checkpoint prefix of ``path``: a prefix, its ``.index`` file, or a directory."""
    if os.path.isdir(path):
        prefix = _latest(path, within)
    else:
        prefix = re.sub(r"\.(index|data-\d{5}-of-\d{5})$", "", path)
    # exists, not isfile: a FIFO or device is refused by name when it is opened.
    if not os.path.exists(prefix + ".index"):
        raise CheckpointNotFoundError(
            prefix,
            f"there is no {prefix}.index; pass the prefix that TF prints "
            "('.../model.ckpt-1000') or the directory that holds TF's 'checkpoint' file",
        )
    return prefix


def _latest(directory: str, within: str | None) -> str:
    """The prefix that the TF ``checkpoint`` file of ``directory`` names.

    Like TF, it may name a checkpoint anywhere on disk; ``within`` is checked by the caller
    on the files it then reads.
    """
    state = os.path.join(directory, "checkpoint")
    real = _outside(state, within)
    if real is not None:
        raise CheckpointNotFoundError(
            directory,
            f"{state} resolves to {real}, outside within={within}; pass a checkpoint inside it",
        )
    text = _read_state(directory, state)
    match = re.search(r'^model_checkpoint_path:\s*"((?:[^"\\]|\\.)*)"', text, re.M)
    if match is None:
        raise CheckpointNotFoundError(directory, f"{state} names no model_checkpoint_path")
    named = _unescape(match.group(1))
    if "\x00" in named:
        raise CheckpointNotFoundError(
            directory, f"{state} names a model_checkpoint_path with a NUL character"
        )
    prefix = os.path.join(directory, named)
    if not os.path.isfile(prefix + ".index"):
        # TF1 records absolute paths: find the checkpoint where the directory is now.
        moved = os.path.join(directory, os.path.basename(prefix))
        prefix = moved if os.path.isfile(moved + ".index") else prefix
    return prefix


def _read_state(directory: str, state: str) -> str:
    """The text of TF's ``checkpoint`` file: a regular file of at most a MiB."""
    try:
        with _open_regular(state) as f:
            size = os.fstat(f.fileno()).st_size
            if size <= _STATE_FILE_LIMIT:
                return _read_bytes(f, size).decode("utf-8")
        why = (
            f"its 'checkpoint' file has {size} bytes; TF writes a few lines there, and scopax "
            f"reads at most {_STATE_FILE_LIMIT}"
        )
    except (OSError, UnicodeDecodeError) as e:
        why = f"the directory has no readable 'checkpoint' file ({e})"
    except _NotRegular as e:
        why = e.why("'checkpoint' file", "pass the checkpoint's prefix instead")
    raise CheckpointNotFoundError(directory, why + _prefixes_hint(directory))


def _prefixes_hint(directory: str) -> str:
    """A hint naming a few of the checkpoint prefixes in ``directory``, if it has any."""
    try:
        found = sorted(n[: -len(".index")] for n in os.listdir(directory) if n.endswith(".index"))
    except OSError:
        return ""
    if not found:
        return ""
    shown = ", ".join(found[:5]) + (f" (and {len(found) - 5} more)" if len(found) > 5 else "")
    return f"; pass one of the prefixes it holds: {shown}"


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
