"""The TF checkpoint reader against hostile files: what an attack on it found, and more.

An ``.index`` whose prefix-compressed keys grow by a byte each (quadratic memory), string
tensors of a million empty strings (148 bytes an element), files that never end (a FIFO
or ``/dev/zero`` as the ``checkpoint`` file, the index or a shard), a ``checkpoint`` file
naming a prefix anywhere on disk, and arguments of the wrong type. A reader that could
hang or exhaust memory is run in a fresh interpreter under ``RLIMIT_AS`` and a timeout,
so that the old behaviour fails its test instead of taking pytest down.

The fuzzers here repair the checksums after mutating, so that the mutations reach the
parsers behind them: a table block's entries and restart points, the entries' protobufs,
and the lengths of a string tensor.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
import tracemalloc
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import scopax as sx
from scopax import errors
from scopax._src.io.crc32c import crc32c
from scopax._src.io.tf_bundle import _packed_lengths
from scopax._src.io.tf_table import KEY_EXPANSION, Corrupt, read_table
from scopax._src.io.tf_table import varint as read_varint
from test_tf_checkpoint import (
    FUZZ,
    MODEL,
    MOMENTUM,
    PARTITIONED,
    assert_same,
    block,
    entry,
    expected,
    header,
    load_or_error,
    mask,
    mutate,
    mutation,
    table,
    varint,
)

LINUX = sys.platform.startswith("linux")
MAGIC = (0xDB4775248B80FB57).to_bytes(8, "little")

# A fresh interpreter with scopax imported, then at most `budget` more bytes of address
# space: enough for the reader's linear needs, far from what a quadratic one asks.
PREAMBLE = """
import resource, sys
import scopax as sx
with open("/proc/self/status") as f:
    vm = int(f.read().split("VmSize:")[1].split()[0]) * 1024
resource.setrlimit(resource.RLIMIT_AS, (vm + {budget}, vm + {budget}))
"""


def run_limited(code: str, budget: int = 512 << 20, timeout: float = 60) -> list[str]:
    """The lines that ``code`` prints, run under a memory limit; fails on a timeout."""
    script = PREAMBLE.format(budget=budget) + textwrap.dedent(code)
    try:
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"the reader ran for more than {timeout} s")
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.splitlines()


def framed(contents: bytes, kind: int = 0) -> bytes:
    """A table block with its trailer: compression type and masked crc32c."""
    return contents + bytes([kind]) + mask(crc32c(contents + bytes([kind]))).to_bytes(4, "little")


def table_of_block(raw: bytes) -> bytes:
    """A whole table around one raw data block, whatever that block holds."""
    data = framed(raw)
    meta = framed(block([]))
    index = framed(block([(b"\xff", varint(0) + varint(len(data) - 5))]))
    handles = varint(len(data)) + varint(len(meta) - 5) + varint(len(data) + len(meta))
    handles += varint(len(index) - 5)
    return data + meta + index + handles.ljust(40, b"\0") + MAGIC


def write_index(tmp_path: Path, index: bytes, data: bytes = b"") -> Path:
    prefix = tmp_path / "t.ckpt"
    Path(f"{prefix}.index").write_bytes(index)
    Path(f"{prefix}.data-00000-of-00001").write_bytes(data)
    return prefix


def string_index(data: bytes, shape: list[int], crc: int | None = None) -> bytes:
    """An index whose one tensor, ``s``, is a string tensor of ``shape`` in ``data``."""
    crc = mask(crc32c(data)) if crc is None else crc
    return table([(b"", header()), (b"s", entry(7, shape, 0, len(data), crc))])


def chain_block(count: int, step: int) -> bytes:
    """A header, then ``count`` entries of four bytes whose keys each repeat the previous
    one plus a byte, restarting at a new three-letter key every ``step`` entries."""
    h = header()
    out = bytearray(varint(0) + varint(0) + varint(len(h)) + h)
    key_length, restarts = 0, 0
    for i in range(count):
        if i % step:
            out += varint(key_length) + varint(1) + varint(0) + b"a"
            key_length += 1
        else:
            key = bytes(65 + restarts // 26**k % 26 for k in (2, 1, 0))
            out += varint(0) + varint(3) + varint(0) + key
            key_length, restarts = 3, restarts + 1
    return bytes(out + (0).to_bytes(4, "little") + (1).to_bytes(4, "little"))


# 1. Prefix compression cannot make the index reader quadratic.


@pytest.mark.skipif(not LINUX, reason="RLIMIT_AS and /proc/self/status")
def test_prefix_compression_bomb_is_refused_in_bounded_memory(tmp_path):
    # 100,000 keys of 1 to 100,000 bytes from a 584 KB file: 5 GB if materialized; the
    # reader before asked for 4.6 GB of it and died of MemoryError.
    prefix = write_index(tmp_path, table_of_block(chain_block(100_000, 10**9)))
    assert os.path.getsize(f"{prefix}.index") == 583_600
    start = time.monotonic()
    lines = run_limited(
        f"""
        try:
            sx.list_tf_checkpoint({str(prefix)!r})
            print("read")
        except sx.errors.ScopaxError as e:
            print(type(e).__name__, e)
        """,
        budget=256 << 20,
    )
    assert lines[0].startswith("CheckpointCorruptError"), lines
    assert f"expand to more than {KEY_EXPANSION} times the .index file's size" in lines[0]
    assert time.monotonic() - start < 30


@pytest.mark.parametrize("step, fits", [(16, True), (64, True), (128, True), (5000, False)])
def test_index_memory_is_linear_in_its_size(tmp_path, step, fits):
    # Four-byte entries are the densest a table allows. Keys 128 bytes long at most take
    # 17 times the file; chains of 5,000 would take 1,250 and are refused early.
    prefix = write_index(tmp_path, table_of_block(chain_block(20_000, step)))
    size = os.path.getsize(f"{prefix}.index")
    tracemalloc.start()
    try:
        listing = sx.list_tf_checkpoint(prefix)
        assert fits and len(listing) == 20_000
    except errors.CheckpointCorruptError as e:
        assert not fits and "expand to more than" in str(e)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < 1_000_000 + 128 * size, (peak, size)


def test_key_cap_allows_what_tensorflow_writes():
    # TF restarts prefix compression every 16 keys, so its keys total at most 16 times the
    # file, half the cap. Long names sharing a long scope come close; the fixtures do not.
    for source in (MODEL, PARTITIONED, MOMENTUM):
        data = Path(f"{source}.index").read_bytes()
        assert sum(len(key) for key, _ in read_table(data)) < len(data)
    names = [(f"scope_{'x' * 200}/{i:05d}".encode(), b"v") for i in range(2000)]
    data = table_of_block(block([(b"", header()), *names], restart_interval=16))
    assert 8 * len(data) < sum(len(key) for key, _ in read_table(data)) < 16 * len(data)


# 2. String tensors cost a pointer an element, plus the file's bytes.


def string_tensor(values: list[bytes], lengths: list[int] | None = None) -> tuple[bytes, int]:
    """TF's encoding of a DT_STRING tensor, and its masked crc32c: varint64 lengths, their
    masked crc32c (each length checksummed as a uint32, or a uint64 if larger), the bytes.
    ``lengths`` may lie about the values; the checksums are right either way."""
    lengths = [len(v) for v in values] if lengths is None else lengths
    packed = b"".join(n.to_bytes(4 if n < 2**32 else 8, "little") for n in lengths)
    length_crc = mask(crc32c(packed)).to_bytes(4, "little")
    payload = b"".join(values)
    data = b"".join(varint(n) for n in lengths) + length_crc + payload
    return data, mask(crc32c(payload, crc32c(packed + length_crc)))


def test_a_million_empty_strings_cost_a_pointer_each(tmp_path):
    count = 1_000_000
    data, crc = string_tensor([b""] * count)
    prefix = write_index(tmp_path, string_index(data, [count], crc), data)
    tracemalloc.start()
    try:
        strings = sx.load_tf_checkpoint(prefix)["s"]
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert strings.shape == (count,) and strings.dtype == object
    assert strings[0] == b"" and strings[-1] == b""
    # Before: 148 MB. Now the result's pointers, the file's bytes and a few chunk buffers.
    assert peak < 16 * count + len(data), peak


def test_strings_across_chunks(tmp_path):
    rng = np.random.default_rng(0)
    values = [rng.bytes(n) for n in rng.integers(0, 300, 40_000)]  # 1- and 2-byte lengths
    values[7] = b"\x00ends with zeros\x00\x00"  # Kept whole: no fixed-width 'S' array.
    data, crc = string_tensor(values)
    prefix = write_index(tmp_path, string_index(data, [200, 200], crc), data)
    strings = sx.load_tf_checkpoint(prefix)["s"]
    assert strings.shape == (200, 200)
    assert strings.ravel().tolist() == values


def test_lengths_beyond_32_bits_are_checksummed_as_tf_does():
    lengths = np.array([0, 2**32 - 1, 2**32, 2**63], np.uint64)
    assert _packed_lengths(lengths, "little") == b"".join(
        [(0).to_bytes(4, "little"), (2**32 - 1).to_bytes(4, "little"),
         (2**32).to_bytes(8, "little"), (2**63).to_bytes(8, "little")]
    )  # fmt: skip
    assert _packed_lengths(lengths[:2], "big") == bytes(4) + b"\xff" * 4


@pytest.mark.parametrize(
    "lengths, payload, why",
    [
        ([2**63, 2**63], b"ab", "do not add up to its size"),
        ([2**64 - 1, 2], b"ab", "do not add up to its size"),
        ([1, 2], b"ab", "do not add up to its size"),
        ([3, 0], b"ab", "do not add up to its size"),
    ],
)
def test_string_lengths_that_lie(tmp_path, lengths, payload, why):
    data, crc = string_tensor([payload], lengths)
    prefix = write_index(tmp_path, string_index(data, [len(lengths)], crc), data)
    with pytest.raises(errors.CheckpointCorruptError, match=why):
        sx.load_tf_checkpoint(prefix)


@pytest.mark.parametrize(
    "data, why",
    [
        (b"\x80" * 10 + b"\x00" + bytes(4), "longer than a varint64"),
        (b"\xff" * 9 + b"\x02" + bytes(4), "overflows 64 bits"),
        (b"\x80" * 5, "run past its size"),
    ],
)
def test_string_length_varints_that_break(tmp_path, data, why):
    prefix = write_index(tmp_path, string_index(data, [1]), data)
    with pytest.raises(errors.CheckpointCorruptError, match=why):
        sx.load_tf_checkpoint(prefix)


# 3. Files that never end are refused, and every read is bounded by a file's size.


@pytest.mark.skipif(not LINUX, reason="FIFOs, /dev/zero and RLIMIT_AS")
def test_files_that_never_end(tmp_path):
    def state_dir(name: str, make) -> Path:
        directory = tmp_path / name
        directory.mkdir()
        make(directory / "checkpoint")
        return directory

    def with_index(name: str, part: str, make) -> Path:
        directory = tmp_path / name
        directory.mkdir()
        for f in MOMENTUM.parent.glob(f"{MOMENTUM.name}.*"):
            if not f.name.endswith(part):
                shutil.copy(f, directory / f.name)
        make(directory / f"{MOMENTUM.name}{part}")
        return directory / MOMENTUM.name

    def zero(path: Path) -> None:
        path.symlink_to("/dev/zero")

    cases = {
        "fifo state": state_dir("fifo_state", os.mkfifo),
        "zero state": state_dir("zero_state", zero),
        "directory state": state_dir("dir_state", Path.mkdir),
        "huge state": state_dir("big_state", lambda p: p.write_bytes(b"#" * (2 << 20))),
        "fifo index": with_index("fifo_index", ".index", os.mkfifo),
        "zero index": with_index("zero_index", ".index", zero),
        "fifo data": with_index("fifo_data", ".data-00000-of-00001", os.mkfifo),
        "zero data": with_index("zero_data", ".data-00000-of-00001", zero),
    }
    lines = run_limited(
        f"""
        for path in {[str(p) for p in cases.values()]!r}:
            try:
                sx.load_tf_checkpoint(path)
                print("read")
            except sx.errors.ScopaxError as e:
                print(type(e).__name__, e)
        """,
        budget=256 << 20,
        timeout=30,
    )
    got = dict(zip(cases, lines, strict=True))
    for case in ("fifo state", "zero state", "directory state"):
        kind = {"f": "a FIFO", "z": "a character device", "d": "a directory"}[case[0]]
        assert got[case].startswith("CheckpointNotFoundError"), got[case]
        assert f"its 'checkpoint' file is {kind}; scopax reads only regular files" in got[case]
    assert "'checkpoint' file has 2097152 bytes" in got["huge state"]
    for case in ("fifo index", "zero index", "fifo data", "zero data"):
        kind = "a FIFO" if case.startswith("fifo") else "a character device"
        assert got[case].startswith("UnsupportedCheckpointError"), got[case]
        assert f"is {kind}; scopax reads only regular files, which end" in got[case]


# 4. `within=`: where a checkpoint may be read from.


def moved_checkpoint(tmp_path: Path) -> tuple[Path, Path]:
    """A run directory whose 'checkpoint' file names a checkpoint in another directory."""
    elsewhere, run = tmp_path / "elsewhere", tmp_path / "run"
    elsewhere.mkdir()
    run.mkdir()
    for f in MOMENTUM.parent.glob(f"{MOMENTUM.name}.*"):
        shutil.copy(f, elsewhere / f.name)
    (run / "checkpoint").write_text(f'model_checkpoint_path: "{elsewhere / MOMENTUM.name}"\n')
    return run, elsewhere


def test_checkpoint_file_may_point_anywhere_without_within(tmp_path):
    run, _ = moved_checkpoint(tmp_path)
    assert "net/dense/kernel" in sx.load_tf_checkpoint(run)  # As TF does.
    (run / "checkpoint").write_text(f'model_checkpoint_path: "../elsewhere/{MOMENTUM.name}"\n')
    assert "net/dense/kernel" in sx.list_tf_checkpoint(run)


def test_within_refuses_a_prefix_outside(tmp_path):
    run, elsewhere = moved_checkpoint(tmp_path)
    params = sx.unflatten({"net/dense/bias": jnp.zeros(2)})
    calls = [
        lambda **kw: sx.load_tf_checkpoint(run, **kw),
        lambda **kw: sx.list_tf_checkpoint(run, **kw),
        lambda **kw: sx.restore_from_tf(params, run, **kw),
    ]
    for call in calls:
        with pytest.raises(errors.CheckpointNotFoundError) as e:
            call(within=run)
        real = os.path.realpath(elsewhere / f"{MOMENTUM.name}.index")
        assert f"resolves to {real}, outside within={run}" in str(e.value)
        assert "leave within= out if you trust where its 'checkpoint' file points" in str(e.value)
        call(within=tmp_path)  # Inside: read.
        call(within=str(tmp_path).encode())


def test_within_follows_symbolic_links(tmp_path):
    run, elsewhere = moved_checkpoint(tmp_path)
    (run / "checkpoint").unlink()
    (run / "m.index").symlink_to(elsewhere / f"{MOMENTUM.name}.index")
    shutil.copy(f"{MOMENTUM}.data-00000-of-00001", run / "m.data-00000-of-00001")
    with pytest.raises(errors.CheckpointNotFoundError, match="outside within="):
        sx.load_tf_checkpoint(run / "m", within=run)
    (run / "m.index").unlink()
    shutil.copy(f"{MOMENTUM}.index", run / "m.index")
    (run / "m.data-00000-of-00001").unlink()
    (run / "m.data-00000-of-00001").symlink_to(elsewhere / f"{MOMENTUM.name}.data-00000-of-00001")
    with pytest.raises(errors.CheckpointNotFoundError, match=r"m\.data-00000-of-00001 resolves"):
        sx.list_tf_checkpoint(run / "m", within=run)
    (run / "checkpoint").symlink_to(tmp_path / "elsewhere" / "state")
    with pytest.raises(errors.CheckpointNotFoundError, match="checkpoint resolves to"):
        sx.list_tf_checkpoint(run, within=run)


# 5. Arguments of the wrong type.


class BytesPath:
    def __init__(self, path: Path):
        self.path = path

    def __fspath__(self) -> bytes:
        return os.fsencode(self.path)


def test_paths_as_bytes_and_path_likes():
    want = expected("momentum")
    assert_same(sx.load_tf_checkpoint(os.fsencode(MOMENTUM)), want)
    assert_same(sx.load_tf_checkpoint(BytesPath(MOMENTUM.parent)), want)
    assert set(sx.list_tf_checkpoint(os.fsencode(MOMENTUM.parent))) == set(want)


@pytest.mark.parametrize("path", [None, 3, 2.5, [str(MOMENTUM)], {"path": 1}])
def test_paths_of_the_wrong_type(path):
    params = sx.unflatten({"a": jnp.zeros(2)})
    calls = [sx.load_tf_checkpoint, sx.list_tf_checkpoint, lambda p: sx.restore_from_tf(params, p)]
    for call in calls:
        with pytest.raises(errors.CheckpointTreeError) as e:
            call(path)
        assert isinstance(e.value, TypeError)
        assert str(e.value).startswith(
            f"path: expected a path (str, bytes or os.PathLike), got {type(path).__name__}; "
            "pass the prefix that TF prints"
        )
    if path is not None:  # within=None is the default: no guard.
        with pytest.raises(errors.CheckpointTreeError, match="within: expected a path"):
            sx.load_tf_checkpoint(MOMENTUM, within=path)  # type: ignore[arg-type]


def test_nul_characters(tmp_path):
    with pytest.raises(errors.CheckpointNotFoundError, match="path holds a NUL character"):
        sx.load_tf_checkpoint(f"{MOMENTUM}\0.index")
    (tmp_path / "checkpoint").write_text('model_checkpoint_path: "m\\000x"\n')
    with pytest.raises(errors.CheckpointNotFoundError, match="with a NUL character"):
        sx.load_tf_checkpoint(tmp_path)


@pytest.mark.parametrize("assignment_map", [["net/dense/"], "net/", 3, ("a", "b")])
def test_assignment_map_must_be_a_mapping(assignment_map):
    params = sx.unflatten({"a": jnp.zeros(2)})
    with pytest.raises(errors.CheckpointTreeError) as e:
        sx.restore_from_tf(params, MOMENTUM, assignment_map)  # type: ignore[arg-type]
    assert isinstance(e.value, TypeError)
    assert str(e.value) == (
        "sx.restore_from_tf expects assignment_map to be a Mapping {checkpoint name: params "
        f"name}} or None, got {type(assignment_map).__name__}; e.g. {{'old_scope/': "
        "'new_scope/'} or {'old/w': 'new/w'}"
    )


# 6. Fuzzing behind the checksums.


def entry_length_fields(raw: bytes) -> list[tuple[int, int]]:
    """(start, end) of the shared, unshared and value-size varints of a raw block's
    entries, as far as they can be found in a block that earlier mutations damaged."""
    limit = len(raw) - 4 - 4 * int.from_bytes(raw[-4:], "little")
    out, pos = [], 0
    try:
        while pos < limit:
            lengths = []
            for _ in range(3):
                value, end = read_varint(raw, pos, limit, 5)
                out.append((pos, end))
                lengths.append(value)
                pos = end
            pos += lengths[1] + lengths[2]
    except Corrupt:
        pass
    return out


def model_items() -> list[tuple[bytes, bytes]]:
    return read_table(Path(f"{MODEL}.index").read_bytes())


inflation = st.tuples(
    st.just("inflate"),
    st.integers(0, 1 << 20),
    st.sampled_from([1, 2, 7, 100, 2**16, 2**31 - 1, 2**32 - 1]),
)


def inflate(raw: bytes, at: int, delta: int) -> bytes:
    """Adds ``delta`` to one of the block's length fields, re-encoded as a varint."""
    fields = entry_length_fields(raw)
    if not fields:
        return raw
    start, end = fields[at % len(fields)]
    value = read_varint(raw, start, end, 5)[0]
    return raw[:start] + varint((value + delta) & 0xFFFFFFFF) + raw[end:]


@FUZZ
@given(
    restart_interval=st.sampled_from([1, 4, 16]),
    mutations=st.lists(st.one_of(mutation, inflation), min_size=1, max_size=3),
)
def test_fuzz_table_blocks_behind_their_checksums(tmp_path, restart_interval, mutations):
    raw = block(model_items(), restart_interval)
    for kind, at, value in mutations:
        raw = inflate(raw, at, value) if kind == "inflate" else mutate(raw, kind, at, value)
    prefix = tmp_path / "t.ckpt"
    Path(f"{prefix}.index").write_bytes(table_of_block(raw))
    shutil.copy(f"{MODEL}.data-00000-of-00001", f"{prefix}.data-00000-of-00001")
    # A mutated key or value behind a valid checksum can be another valid checkpoint.
    for name, array in (load_or_error(prefix) or {}).items():
        assert isinstance(array, np.ndarray), name


@FUZZ
@given(
    which=st.integers(0, 1 << 10),
    mutations=st.lists(mutation, min_size=1, max_size=3),
)
def test_fuzz_entry_protobufs(tmp_path, which, mutations):
    items = model_items()
    key, value = items[which % len(items)]
    for kind, at, byte in mutations:
        value = mutate(value, kind, at, byte)
    items[which % len(items)] = (key, value)
    prefix = tmp_path / "t.ckpt"
    Path(f"{prefix}.index").write_bytes(table(items))
    shutil.copy(f"{MODEL}.data-00000-of-00001", f"{prefix}.data-00000-of-00001")
    for name, array in (load_or_error(prefix) or {}).items():
        assert isinstance(array, np.ndarray), name


length = st.one_of(st.integers(0, 8), st.integers(0, 2**64 - 1), st.sampled_from([2**32, 2**63]))


@FUZZ
@given(
    values=st.lists(st.binary(max_size=8), max_size=20),
    lie=st.one_of(st.none(), st.lists(length, max_size=21)),
    numel=st.one_of(st.none(), st.integers(0, 40)),
)
def test_fuzz_string_lengths(tmp_path, values, lie, numel):
    # The checksums are right, so only the lengths' own checks stand between them and
    # the slicing: huge, lying, or more or fewer than the elements.
    data, crc = string_tensor(values, lie)
    numel = len(values) if numel is None else numel
    got = load_or_error(write_index(tmp_path, string_index(data, [numel], crc), data))
    if lie is None and numel == len(values):
        assert got is not None and got["s"].tolist() == values
