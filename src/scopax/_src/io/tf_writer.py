"""Writing TF's V2 checkpoint format, without TensorFlow or protobuf.

The mirror of ``tf_bundle``: one ``.data-00000-of-00001`` shard holding every tensor's
bytes in name order, and an ``.index`` table from each name to its ``BundleEntryProto``,
built as TF's ``BundleWriter`` and ``table::TableBuilder`` build them (256 KiB blocks, a
restart point every 16 keys, the shortest separators as index keys, proto3 fields left
out when zero), so that a tree written here gives the index TF would write.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Mapping
from typing import Any

import numpy as np

from scopax._src.core.errors import CheckpointExistsError, CheckpointTreeError
from scopax._src.core.params import flatten
from scopax._src.io.crc32c import crc32c
from scopax._src.io.tf_bundle import DTYPES

_U32 = 0xFFFFFFFF
_BLOCK_SIZE = 262144  # TF's table::Options.block_size.
_RESTART_INTERVAL = 16  # TF's table::Options.block_restart_interval.
_TABLE_MAGIC = 0xDB4775248B80FB57
_BUNDLE_VERSION = 1  # TF's kTensorBundleVersion; its min consumer, 0, is left out.
_STRING = 7
_QUANTIZED = {11, 12, 13, 15, 16}  # Stored as plain integers; never chosen for one.
# NumPy dtype -> TF's DataType enum: every dtype the reader returns, strings aside.
_CODES = {
    np.dtype(dtype): code
    for code, (dtype, _) in DTYPES.items()
    if code not in _QUANTIZED and dtype is not object
}


def save_tf_checkpoint(
    prefix: str | bytes | os.PathLike[str] | os.PathLike[bytes],
    tree: Mapping[str, Any],
    *,
    overwrite: bool = False,
) -> str:
    """Writes ``tree`` as a TF V2 checkpoint that TF and :func:`load_tf_checkpoint` read.

    >>> import tempfile, numpy as np, scopax as sx
    >>> prefix = tempfile.mkdtemp() + "/model.ckpt-1"
    >>> sx.save_tf_checkpoint(prefix, {"dense": {"kernel": np.ones((3, 2), np.float32)},
    ...                                "global_step": np.int64(1)}) == prefix
    True
    >>> sx.list_tf_checkpoint(prefix)
    {'dense/kernel': ((3, 2), 'float32'), 'global_step': ((), 'int64')}

    Two files are written, ``prefix + ".index"`` and ``prefix + ".data-00000-of-00001"``,
    each to a temporary name first and then renamed into place, the index last: a save
    that is interrupted leaves the previous checkpoint or none, never a half-written
    index. Every dtype the reader returns is written: float16, bfloat16, float32,
    float64, the float8 types, int8 to int64, uint8 to uint64, bool, complex64/128, and
    strings (arrays of ``bytes`` or ``str``, written UTF-8 encoded).

    Args:
      prefix: the checkpoint prefix (``".../model.ckpt-1000"``); a str, bytes or
        ``os.PathLike``. Its directory is created if missing.
      tree: a :class:`Params`, a nested mapping (names joined with ``"/"`` as
        :func:`flatten` does), or a flat dict of full names such as
        :func:`load_tf_checkpoint` returns (``"w"`` beside ``"w/Adam"``). Leaves are
        arrays, NumPy scalars or Python numbers.
      overwrite: replace a checkpoint already at ``prefix``.

    Returns:
      ``prefix``, as a str.

    Raises:
      CheckpointTreeError: ``tree`` is not a mapping, or a leaf has no TF dtype or is
        not an array; ``prefix`` is not a path.
      CheckpointExistsError: a checkpoint is at ``prefix`` (and ``overwrite`` is False),
        or ``prefix`` names a directory.
      OSError: the files cannot be written (permissions, a full disk).
    """
    path = _prefix(prefix)
    if not isinstance(tree, Mapping):
        raise CheckpointTreeError(
            "",
            f"sx.save_tf_checkpoint expects tree to be a Mapping of arrays, got "
            f"{type(tree).__name__}; e.g. sx.save_tf_checkpoint(prefix, params)",
        )
    tensors = [(_key(name), _array(name, leaf)) for name, leaf in flatten(tree).items()]
    tensors.sort(key=lambda tensor: tensor[0])  # TF's order: the data, like the keys, sorted.
    _check_target(path, overwrite)
    _write_atomically(path, tensors)
    return path


def _prefix(prefix: Any) -> str:
    try:
        path = os.fsdecode(prefix)
    except TypeError:
        raise CheckpointTreeError(
            "prefix",
            f"expected a path (str, bytes or os.PathLike), got {type(prefix).__name__}; pass "
            "a checkpoint prefix such as '.../model.ckpt-1000'",
        ) from None
    if "\x00" in path or not os.path.basename(path):
        raise CheckpointTreeError(
            "prefix",
            f"{path!r} is not a checkpoint prefix (a file name without its suffix, and no NUL "
            "character); pass one such as '.../model.ckpt-1000'",
        )
    return path


def _key(name: str) -> bytes:
    """The table key of a tensor: its UTF-8 name, which the header and slices never use."""
    try:
        key = name.encode()
    except UnicodeEncodeError:
        raise CheckpointTreeError(name, "a TF checkpoint name must be valid UTF-8") from None
    if not key or key.startswith(b"\x00"):
        raise CheckpointTreeError(
            repr(name), "TF reserves the empty name and names starting with NUL; rename it"
        )
    return key


def _array(name: str, leaf: Any) -> np.ndarray:
    """``leaf`` as a C-contiguous native-order array of a dtype TF has."""
    scalar = isinstance(leaf, int | float | complex | str | bytes)
    if not (scalar or isinstance(leaf, np.ndarray | np.generic) or hasattr(leaf, "__array__")):
        raise CheckpointTreeError(name, f"expected an array or a number, got {type(leaf).__name__}")
    try:
        array = np.asarray(leaf)
    except Exception as error:  # A deleted jax.Array, one not addressable from here...
        raise CheckpointTreeError(name, f"cannot be read as an array ({error})") from None
    if array.dtype.kind in "OSU":
        return _strings(name, array)
    if not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))
    if array.dtype not in _CODES:
        raise CheckpointTreeError(
            name,
            f"dtype {array.dtype} has no TF checkpoint equivalent; cast it to one of "
            f"{', '.join(sorted(str(d) for d in _CODES))}",
        )
    # Not ascontiguousarray, which makes a scalar 1-d.
    return array if array.flags.c_contiguous else array.copy(order="C")


def _strings(name: str, array: np.ndarray) -> np.ndarray:
    out = np.empty(array.shape, object)
    for index, value in np.ndenumerate(array):
        if isinstance(value, str):
            value = value.encode()
        if not isinstance(value, bytes):
            raise CheckpointTreeError(
                name,
                f"a string tensor holds a {type(value).__name__}; TF strings are bytes or str",
            )
        out[index] = value
    return out


def _check_target(path: str, overwrite: bool) -> None:
    if os.path.isdir(path):
        raise CheckpointExistsError(
            path, "it is a directory; pass a prefix inside it, such as 'dir/model.ckpt-1000'"
        )
    existing = [p for p in (path + ".index", _data_path(path)) if os.path.lexists(p)]
    if existing and not overwrite:
        raise CheckpointExistsError(
            path, f"{existing[0]} exists; pass overwrite=True to replace the checkpoint"
        )


def _data_path(path: str) -> str:
    return path + ".data-00000-of-00001"


def _write_atomically(path: str, tensors: list[tuple[bytes, np.ndarray]]) -> None:
    """Writes both files under temporary names, then renames them, the index last."""
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    suffix = f".tmp-{os.getpid()}-{secrets.token_hex(4)}"
    data_tmp, index_tmp = _data_path(path) + suffix, path + ".index" + suffix
    try:
        with open(data_tmp, "wb") as f:
            entries = [(key, _write_tensor(f, array)) for key, array in tensors]
            _sync(f)
        with open(index_tmp, "wb") as f:
            f.write(_table([(b"", _header()), *entries]))
            _sync(f)
        os.replace(data_tmp, _data_path(path))
        os.replace(index_tmp, path + ".index")  # The commit: readers open the index first.
    finally:
        for leftover in (data_tmp, index_tmp):
            if os.path.lexists(leftover):
                os.remove(leftover)
    _sync_directory(directory)


def _header() -> bytes:
    """The BundleHeaderProto: one shard, this host's byte order, the format's version."""
    endianness = int(sys.byteorder == "big")  # TF's LITTLE is 0, BIG 1.
    return _uint(1, 1) + _uint(2, endianness) + _message(3, _uint(1, _BUNDLE_VERSION))


def _sync(f: Any) -> None:
    f.flush()
    os.fsync(f.fileno())


def _sync_directory(directory: str) -> None:
    # The renames are durable once the directory is; not every platform can open one.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_tensor(f: Any, array: np.ndarray) -> bytes:
    """Appends the tensor's bytes to the data file; its serialized BundleEntryProto."""
    offset = f.tell()
    if array.dtype.kind == "O":
        crc = _write_strings(f, array)
        code = _STRING
    else:
        raw = array.reshape(-1).view(np.uint8)  # No copy: the array is contiguous.
        f.write(raw)
        crc = crc32c(raw.data)
        code = _CODES[array.dtype]
    size = f.tell() - offset
    dims = b"".join(_message(2, _uint(1, d)) for d in array.shape)
    return (
        _uint(1, code)
        + _message(2, dims)
        + _uint(4, offset)
        + _uint(5, size)
        + _fixed32(6, _mask(crc))
    )


def _write_strings(f: Any, array: np.ndarray) -> int:
    """TF's DT_STRING encoding: varint64 lengths, a masked crc32c of the lengths (each
    checksummed as a uint32, or a uint64 if it does not fit), then the bytes; returns the
    crc32c of all three."""
    values = array.reshape(-1).tolist()
    lengths = [len(v) for v in values]
    order = sys.byteorder
    packed = b"".join(n.to_bytes(4 if n <= _U32 else 8, order) for n in lengths)
    crc = crc32c(packed)
    length_crc = _mask(crc).to_bytes(4, order)
    crc = crc32c(length_crc, crc)
    f.write(b"".join(_varint(n) for n in lengths) + length_crc)
    for value in values:
        f.write(value)
        crc = crc32c(value, crc)
    return crc


def _mask(crc: int) -> int:
    """TF's ``crc32c::Mask``: stored checksums are rotated and offset."""
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & _U32


# The protobuf wire format, proto3: zero scalars are left out, messages are not.


def _varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _uint(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value) if value else b""


def _fixed32(number: int, value: int) -> bytes:
    return _varint(number << 3 | 5) + value.to_bytes(4, "little") if value else b""


def _message(number: int, body: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(body)) + body


# The table, as LevelDB's (and TF's) TableBuilder writes it.


class _Block:
    """A block of prefix-compressed keys with a restart point every ``interval`` keys."""

    def __init__(self, interval: int):
        self.interval = interval
        self.buffer = bytearray()
        self.restarts = [0]
        self.count = 0
        self.last = b""

    def add(self, key: bytes, value: bytes) -> None:
        shared = 0
        if self.count < self.interval:
            limit = min(len(key), len(self.last))
            while shared < limit and key[shared] == self.last[shared]:
                shared += 1
        else:
            self.restarts.append(len(self.buffer))
            self.count = 0
        self.buffer += _varint(shared) + _varint(len(key) - shared) + _varint(len(value))
        self.buffer += key[shared:] + value
        self.last, self.count = key, self.count + 1

    def size(self) -> int:
        return len(self.buffer) + 4 * len(self.restarts) + 4

    def finish(self) -> bytes:
        restarts = b"".join(r.to_bytes(4, "little") for r in self.restarts)
        return bytes(self.buffer) + restarts + len(self.restarts).to_bytes(4, "little")


def _shortest_separator(start: bytes, limit: bytes) -> bytes:
    """LevelDB's BytewiseComparator::FindShortestSeparator: a short key in [start, limit)."""
    common = 0
    while common < min(len(start), len(limit)) and start[common] == limit[common]:
        common += 1
    if common < min(len(start), len(limit)):
        byte = start[common]
        if byte < 0xFF and byte + 1 < limit[common]:
            return start[:common] + bytes([byte + 1])
    return start


def _short_successor(key: bytes) -> bytes:
    """LevelDB's BytewiseComparator::FindShortSuccessor: a short key >= ``key``."""
    for i, byte in enumerate(key):
        if byte != 0xFF:
            return key[:i] + bytes([byte + 1])
    return key


def _table(items: list[tuple[bytes, bytes]]) -> bytes:
    """The bytes of a table of ``items`` (sorted by key), uncompressed."""
    out = bytearray()
    index = _Block(1)
    block = _Block(_RESTART_INTERVAL)
    # A written block's last key and handle: its index key waits for the next key.
    pending: tuple[bytes, bytes] | None = None
    for key, value in items:
        if pending is not None:
            index.add(_shortest_separator(pending[0], key), pending[1])
            pending = None
        block.add(key, value)
        if block.size() >= _BLOCK_SIZE:
            pending = block.last, _write_block(out, block.finish())
            block = _Block(_RESTART_INTERVAL)
    if block.buffer:
        pending = block.last, _write_block(out, block.finish())
    if pending is not None:
        index.add(_short_successor(pending[0]), pending[1])
    metaindex = _write_block(out, _Block(_RESTART_INTERVAL).finish())
    handles = metaindex + _write_block(out, index.finish())
    return bytes(out + handles.ljust(40, b"\0") + _TABLE_MAGIC.to_bytes(8, "little"))


def _write_block(out: bytearray, contents: bytes) -> bytes:
    """Appends a block and its trailer to ``out``; its handle (offset, size)."""
    handle = _varint(len(out)) + _varint(len(contents))
    trailer = b"\0" + _mask(crc32c(contents + b"\0")).to_bytes(4, "little")
    out += contents + trailer
    return handle
