"""The table of a TF checkpoint's ``.index`` file, and the protobuf wire format of its values.

The table is LevelDB's: data blocks of prefix-compressed keys with restart points, an
index block of block handles, a footer with a magic number, and masked crc32c trailers.
Only what TF's bundle uses of the protobuf wire format is decoded. Every length and offset
is checked against its buffer; a damaged file raises ``Corrupt``. Entries are read one
at a time, and the keys that prefix compression expands are capped at a multiple of the
file's size, so that no file makes the reader quadratic in memory or time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from scopax._src.io.crc32c import crc32c, unmask

_TABLE_MAGIC = 0xDB4775248B80FB57
_FOOTER_SIZE = 48  # Two block handles padded to 40 bytes, then the magic number.
_BLOCK_TRAILER = 5  # Compression type byte and masked crc32c.
KEY_EXPANSION = 32  # Key bytes per byte of .index file that the reader builds at most.


class Corrupt(Exception):
    """Raised deep in the parsers; the reader turns it into CheckpointCorruptError."""


class Unsupported(Exception):
    """Raised in the parsers; the reader turns it into UnsupportedCheckpointError."""


def varint(buf: bytes | memoryview, pos: int, limit: int, max_bytes: int = 10) -> tuple[int, int]:
    """A base-128 varint: 10 bytes at most for 64 bits, 5 for LevelDB's 32-bit ones."""
    result = 0
    for i in range(max_bytes):
        if pos + i >= limit:
            raise Corrupt("a varint runs past the end of its buffer")
        byte = buf[pos + i]
        result |= (byte & 0x7F) << (7 * i)
        if byte < 0x80:
            if result >> (64 if max_bytes == 10 else 32):
                raise Corrupt("a varint overflows its type")
            return result, pos + i + 1
    raise Corrupt("a varint is longer than its type allows")


def fields(buf: bytes) -> dict[int, list[tuple[int, Any]]]:
    """The fields of a serialized message: number -> [(wire type, int or bytes)]."""
    out: dict[int, list[tuple[int, Any]]] = {}
    pos, n = 0, len(buf)
    while pos < n:
        key, pos = varint(buf, pos, n)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise Corrupt("a protobuf field has number 0")
        if wire == 0:
            value, pos = varint(buf, pos, n)
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            if pos + size > n:
                raise Corrupt("a fixed-width protobuf field is truncated")
            value, pos = int.from_bytes(buf[pos : pos + size], "little"), pos + size
        elif wire == 2:
            size, pos = varint(buf, pos, n)
            if size > n - pos:
                raise Corrupt("a length-delimited protobuf field runs past its message")
            value, pos = buf[pos : pos + size], pos + size
        else:
            raise Corrupt(f"unsupported protobuf wire type {wire}")
        out.setdefault(number, []).append((wire, value))
    return out


def scalar(fields: dict[int, list[tuple[int, Any]]], number: int, wire: int = 0) -> int:
    values = fields.get(number)
    if not values:
        return 0
    if values[-1][0] != wire:
        raise Corrupt(f"protobuf field {number} has wire type {values[-1][0]}")
    value = values[-1][1]
    return value - (1 << 64) if wire == 0 and value >> 63 else value  # int64 two's complement


def messages(fields: dict[int, list[tuple[int, Any]]], number: int) -> list[bytes]:
    out = []
    for wire, value in fields.get(number, ()):
        if wire != 2:
            raise Corrupt(f"protobuf field {number} should be a message")
        out.append(value)
    return out


class _KeyBudget:
    """The key bytes a table may still expand to.

    Prefix compression lets an entry of four bytes stand for the previous key plus one
    byte, so without a cap the keys of an n-byte file total n²/2 bytes: a 584 KB file
    asked for 4.6 GB. TF's writer restarts the compression every 16 keys, so each of its
    keys is at most the bytes stored since the last restart, and all of them together at
    most 16 times the file; twice that is the cap.
    """

    def __init__(self, file_size: int):
        self.left = KEY_EXPANSION * file_size

    def spend(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise Corrupt(
                f"its prefix-compressed keys expand to more than {KEY_EXPANSION} times the "
                ".index file's size, which TensorFlow's writer never produces"
            )


def _block_entries(block: memoryview, budget: _KeyBudget) -> Iterator[tuple[bytes, bytes]]:
    """The (key, value) pairs of one block, one at a time, as LevelDB's block iterator."""
    n = len(block)
    if n < 4:
        raise Corrupt("a table block is shorter than its restart count")
    num_restarts = int.from_bytes(block[n - 4 :], "little")
    if num_restarts > (n - 4) // 4:
        raise Corrupt("a table block claims more restart points than it can hold")
    limit = n - 4 - 4 * num_restarts
    restarts = np.frombuffer(block, "<u4", num_restarts, limit).astype(np.int64)
    if (np.diff(restarts) <= 0).any():
        raise Corrupt("the restart points of a table block are not in increasing order")
    # Restart points are sorted, so one pass checks that each is an entry with a full key.
    next_restart = 0
    pos, key = 0, b""
    while pos < limit:
        start = pos
        shared, pos = varint(block, pos, limit, 5)
        unshared, pos = varint(block, pos, limit, 5)
        value_size, pos = varint(block, pos, limit, 5)
        if shared > len(key) or unshared + value_size > limit - pos:
            raise Corrupt("a table entry runs past its block")
        if next_restart < num_restarts and restarts[next_restart] <= start:
            if restarts[next_restart] < start or shared:
                raise Corrupt("a restart point of a table block is not at a full key")
            next_restart += 1
        budget.spend(shared + unshared)
        key = key[:shared] + block[pos : pos + unshared]
        pos += unshared
        yield key, bytes(block[pos : pos + value_size])
        pos += value_size
    if limit and next_restart < num_restarts:
        raise Corrupt("a restart point of a table block is not at a full key")


def _read_block(data: memoryview, handle: memoryview, limit: int) -> tuple[memoryview, int, int]:
    offset, pos = varint(handle, 0, len(handle))
    size, _ = varint(handle, pos, len(handle))
    if offset > limit or size > limit - offset or limit - offset - size < _BLOCK_TRAILER:
        raise Corrupt("a block handle points outside the .index file")
    end = offset + size
    if unmask(int.from_bytes(data[end + 1 : end + 5], "little")) != crc32c(data[offset : end + 1]):
        raise Corrupt("a table block fails its crc32c check")
    if data[end] == 1:
        raise Unsupported(
            "its .index file uses Snappy compression, which TF itself has not written since "
            "1.2; re-save it with TF (tf.compat.v1.train.Saver)"
        )
    if data[end] != 0:
        raise Corrupt(f"a table block has unknown compression type {data[end]}")
    return data[offset:end], offset, end + _BLOCK_TRAILER


def iter_table(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """Every (key, value) of a TF table, in increasing key order, one at a time.

    Blocks are views into ``data``, and the keys built along the way total at most
    ``KEY_EXPANSION`` times ``len(data)``: memory and time are linear in the file, whatever
    it holds. Raises Corrupt or Unsupported, possibly after yielding some entries.
    """
    view = memoryview(data)
    n = len(view)
    if n < _FOOTER_SIZE:
        raise Corrupt(f"the .index file has {n} bytes, fewer than a table footer")
    footer = view[n - _FOOTER_SIZE :]
    if int.from_bytes(footer[40:], "little") != _TABLE_MAGIC:
        raise Corrupt("the .index file does not end with the table magic number")
    _, pos = varint(footer, 0, 40)  # The metaindex handle: TF leaves it empty.
    _, pos = varint(footer, pos, 40)
    index, index_start, _ = _read_block(view, footer[pos:40], n - _FOOTER_SIZE)
    budget = _KeyBudget(n)
    end = 0
    last: bytes | None = None
    for _, handle in _block_entries(index, budget):
        block, start, block_end = _read_block(view, memoryview(handle), index_start)
        if start < end:
            raise Corrupt("the data blocks of the .index file overlap")
        end = block_end
        for key, value in _block_entries(block, budget):
            if last is not None and key <= last:
                raise Corrupt("the keys of the .index file are not in increasing order")
            last = key
            yield key, value


def read_table(data: bytes) -> list[tuple[bytes, bytes]]:
    """Every (key, value) of a TF table, in order; raises Corrupt or Unsupported."""
    return list(iter_table(data))
