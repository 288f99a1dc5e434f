"""crc32c (Castagnoli), as TF's tensorflow/core/lib/hash/crc32c.h, and its masking.

Table-driven, with a vectorised path for large buffers: the CRC register is linear over
GF(2), so equal chunks are checksummed side by side from a zero state and chained
afterwards.
"""

from __future__ import annotations

import math

import numpy as np

_U32 = 0xFFFFFFFF


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


def unmask(masked: int) -> int:
    """The crc32c that ``masked`` holds (TF's ``crc32c::Unmask``)."""
    rot = (masked - 0xA282EAD8) & _U32
    return ((rot >> 17) | (rot << 15)) & _U32
