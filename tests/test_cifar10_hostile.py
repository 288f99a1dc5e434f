"""examples/cifar10/data.py against hostile batch files: crafted pickles that build object
arrays from file bytes, change a dtype after it was checked, declare huge shapes or call
other globals. Each must be refused with a clear error that names the file, and a real
batch must still load bit for bit.

A file that could crash the interpreter (the loader before this test segfaulted on some)
is loaded in a fresh one, under a memory limit, so that a crash fails its test instead of
killing pytest. The pickles are assembled opcode by opcode, as Python 2's cPickle wrote
the real batches (protocol 2).
"""

from __future__ import annotations

import os
import pickle
import pickletools
import re
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # The repository root.
from examples.cifar10 import data

ROOT = Path(__file__).resolve().parent.parent
PIXELS = 3 * data.IMAGE_SIZE * data.IMAGE_SIZE
NONE, FALSE, TRUE = b"N", b"\x89", b"\x88"


# Pickle opcodes, assembled by hand.
def text(s: str) -> bytes:
    """A Python 3 str (BINUNICODE)."""
    encoded = s.encode()
    return b"X" + struct.pack("<I", len(encoded)) + encoded


def string(b: bytes) -> bytes:
    """A Python 2 str (BINSTRING), which unpickles as bytes with encoding='bytes'."""
    return b"T" + struct.pack("<I", len(b)) + b


def integer(i: int) -> bytes:
    if -(2**31) <= i < 2**31:
        return b"J" + struct.pack("<i", i)
    encoded = i.to_bytes((i.bit_length() + 8) // 8, "little", signed=True)
    return b"\x8a" + bytes([len(encoded)]) + encoded  # LONG1


def glob(module: str, name: str) -> bytes:
    return b"c" + f"{module}\n{name}\n".encode()


def tup(*items: bytes) -> bytes:
    return b"(" + b"".join(items) + b"t"


def call(function: bytes, *args: bytes) -> bytes:
    return function + tup(*args) + b"R"


def put(index: int) -> bytes:
    return b"r" + struct.pack("<I", index)  # LONG_BINPUT


def get(index: int) -> bytes:
    return b"j" + struct.pack("<I", index)  # LONG_BINGET


def dtype_state(endian: str = "|", names=NONE, fields=NONE, elsize=-1, align=-1, flags=0) -> bytes:
    """numpy's BUILD state of a dtype: ``(3, byte order, subarray, names, fields, ...)``."""
    layout = map(integer, [elsize, align, flags])
    return tup(integer(3), text(endian), NONE, names, fields, *layout)


def dtype(code: str, endian="|", names=NONE, fields=NONE, **layout: int) -> bytes:
    """``numpy.dtype(code, False, True)`` and its BUILD, as numpy pickles a dtype."""
    return (
        call(glob("numpy", "dtype"), text(code), FALSE, TRUE)
        + dtype_state(endian, names, fields, **layout)
        + b"b"
    )


def reconstruct(shape: tuple[int, ...], dtype_ops: bytes, payload: bytes, typecode=b"b") -> bytes:
    """An array as numpy pickles one up to protocol 4: ``_reconstruct`` and a BUILD."""
    array = glob("numpy.core.multiarray", "_reconstruct")
    array += tup(glob("numpy", "ndarray"), tup(integer(0)), string(typecode)) + b"R"
    state = tup(integer(1), tup(*map(integer, shape)), dtype_ops, FALSE, string(payload))
    return array + state + b"b"


def batch_file(data_ops: bytes, labels_ops: bytes, extra: bytes = b"") -> bytes:
    """A batch dict: ``data``, ``labels`` and, after them, ``extra`` under ``filenames``."""
    items = string(b"data") + data_ops + string(b"labels") + labels_ops
    if extra:
        items += string(b"filenames") + extra
    return b"\x80\x02}(" + items + b"u."


def int_list(values: list[int]) -> bytes:
    return b"](" + b"".join(map(integer, values)) + b"e"


def pixels(n: int) -> np.ndarray:
    return (np.arange(n * PIXELS) % 251).astype(np.uint8).reshape(n, PIXELS)


VALID_DATA = reconstruct((2, PIXELS), dtype("u1"), pixels(2).tobytes())
VALID_LABELS = int_list([3, 7])
# Labels of a void dtype (memo 91): checked and used by the array, then changed by a BUILD
# that comes later in the file (rebuild_void). Old numpy arrays share the changed dtype.
VOID_LABELS = reconstruct((2,), dtype("V8", elsize=8, align=1) + put(91), b"\x01" * 16)
OBJECT_FLAGS = 0x3F  # NPY_ITEM_HASOBJECT and the other flags of an object dtype.


def rebuild_void(names: bytes = NONE, fields: bytes = NONE, flags: int = 0) -> bytes:
    return get(91) + dtype_state("|", names, fields, 8, 1, flags) + b"b"


def field_at(offset: int) -> tuple[bytes, bytes]:
    """The names and fields of a dtype's state: one uint8 field ``a`` at ``offset``."""
    return tup(text("a")), b"}(" + text("a") + tup(dtype("u1"), integer(offset)) + b"u"


HOSTILE = {  # name: (file, what the error must say)
    # (a) Object arrays: their elements would be pointers read from the file.
    "object array from file bytes": (
        batch_file(
            VALID_DATA,
            call(glob("numpy", "ndarray"), tup(integer(2)), text("O"), string(b"\x01" * 16)),
        ),
        "it calls numpy.ndarray",
    ),
    "object dtype": (
        batch_file(VALID_DATA, reconstruct((2,), dtype("O8", flags=OBJECT_FLAGS), b"\1" * 16)),
        "the dtype of 'labels' is not a plain number",
    ),
    "object typecode": (
        batch_file(VALID_DATA, reconstruct((2,), dtype("i8", "<"), b"\1" * 16, typecode=b"O")),
        "'labels' is a numpy array pickled otherwise than numpy does",
    ),
    # (b) A dtype changed by a BUILD after it was checked and used.
    "void dtype marked as holding objects later": (
        batch_file(VALID_DATA, VOID_LABELS, rebuild_void(flags=OBJECT_FLAGS)),
        "the dtype of 'labels' is given 2 states",
    ),
    "field offset 2**31 set later": (
        batch_file(VALID_DATA, VOID_LABELS, rebuild_void(*field_at(2**31))),
        "the dtype of 'labels' is given 2 states",
    ),
    "field offset 2**30 set later": (  # Segfaulted the loader before this test.
        batch_file(VALID_DATA, VOID_LABELS, rebuild_void(*field_at(2**30))),
        "the dtype of 'labels' is given 2 states",
    ),
    "object flags for the data's dtype later": (
        batch_file(
            reconstruct((2, PIXELS), dtype("u1") + put(92), pixels(2).tobytes()),
            VALID_LABELS,
            get(92) + dtype_state(flags=OBJECT_FLAGS) + b"b",
        ),
        "the dtype of 'data' is given 2 states",
    ),
    # (c) Structured dtypes.
    "structured data": (
        batch_file(
            reconstruct(
                (2, PIXELS // 8),
                dtype("V8", "|", *field_at(0), elsize=8, align=1),
                pixels(2).tobytes(),
            ),
            VALID_LABELS,
        ),
        "the dtype of 'data' is not a plain number",
    ),
    "void labels": (batch_file(VALID_DATA, VOID_LABELS), "the dtype of 'labels' is not a plain"),
    # (f) Huge declared shapes, and a memo index for which CPython would allocate 32 GiB.
    "huge shape": (
        batch_file(reconstruct((2**62, PIXELS), dtype("u1"), b"\0" * 64), VALID_LABELS),
        "'data' does not have 2 sizes of at most",
    ),
    "huge shape through _frombuffer": (
        batch_file(
            call(
                glob("numpy._core.numeric", "_frombuffer"),
                string(b"\0" * 64),
                dtype("u1"),
                tup(integer(2**40), integer(PIXELS)),
                text("C"),
            ),
            VALID_LABELS,
        ),
        "'data' does not have 2 sizes of at most",
    ),
    "huge memo index": (b"\x80\x02" + integer(1) + put(2**31 - 1) + b".", "memo index"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_files_are_well_formed_pickles(case):
    """Each case is refused for what it says, not for a typo in its opcodes."""
    assert [op.name for op, _, _ in pickletools.genops(HOSTILE[case][0])][-1] == "STOP"


# Limits its own memory to 2 GiB first, where it can. (A preexec_fn would make subprocess
# fork, which JAX, imported by the other tests of a session, warns against.)
_LOADER = """
import sys
try:
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
except (ImportError, OSError, ValueError):
    pass
sys.path.insert(0, sys.argv[1])
from examples.cifar10 import data
try:
    data.load_batch(sys.argv[2])
except Exception as e:
    print(f"{type(e).__name__}: {e}")
else:
    print("loaded")
"""


def load_in_subprocess(path: Path) -> str:
    """What ``load_batch(path)`` raised, as ``Type: message``, from a fresh interpreter
    limited to 2 GiB, so that a crash or a runaway allocation fails only the test."""
    result = subprocess.run(
        [sys.executable, "-c", _LOADER, str(ROOT), str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, (
        f"loading {path.name} killed the interpreter (exit {result.returncode}):\n"
        f"{result.stdout}{result.stderr[-2000:]}"
    )
    return result.stdout.strip()


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_file_is_refused_without_crashing(tmp_path, case):
    content, reason = HOSTILE[case]
    path = tmp_path / "data_batch_1"
    path.write_bytes(content)
    out = load_in_subprocess(path)
    assert out.startswith(f"BatchFormatError: {path} is not a CIFAR-10 batch: "), out
    assert reason in out and "cifar-10-python.tar.gz" in out, out


def refusal(tmp_path: Path, content: bytes) -> data.BatchFormatError:
    path = tmp_path / "data_batch_1"
    path.write_bytes(content)
    with pytest.raises(data.BatchFormatError) as info:
        data.load_batch(path)
    assert str(info.value).startswith(f"{path} is not a CIFAR-10 batch: ")
    return info.value


def array_file(shape: tuple[int, ...], code: str, endian: str, payload: bytes) -> bytes:
    return reconstruct(shape, dtype(code, endian), payload)


# (d) Shapes, sizes and labels that are not the documented ones: (data, labels, error).
OTHER_SHAPES = [
    (array_file((2, 5), "u1", "|", b"\0" * 10), VALID_LABELS, r"shape \(2, 5\); expected"),
    (array_file((2, 3, 1024), "u1", "|", b"\0" * 6144), VALID_LABELS, "2 sizes"),
    (array_file((0, PIXELS), "u1", "|", b""), int_list([]), "1 <= N <= 60000"),
    (array_file((2, PIXELS), "i8", "<", b"\0" * 8 * 6144), VALID_LABELS, "dtype '<i8'"),
    (array_file((2, PIXELS), "u1", "|", b"\0" * 100), VALID_LABELS, r"\(6144 bytes\) but 100"),
    (VALID_DATA, int_list([3]), "1 labels for 2 images"),
    (VALID_DATA, int_list([3, 10]), "outside 0..9"),
    (VALID_DATA, int_list([-1, 3]), "outside 0..9"),
    (VALID_DATA, int_list([3, 2**100]), "outside 0..9"),
    (VALID_DATA, b"](" + integer(3) + text("7") + b"e", "other than ints"),
    (VALID_DATA, b"](" + integer(3) + TRUE + b"e", "other than ints"),
    (VALID_DATA, array_file((2,), "i8", "<", struct.pack("<2q", 3, 12)), "outside 0..9"),
    (VALID_DATA, array_file((2,), "f8", "<", b"\0" * 16), "dtype '<f8'"),
    (VALID_DATA, array_file((2, 1), "u1", "|", b"\0\0"), "1 sizes"),
    (VALID_DATA, b"}", "'labels' is a dict, not a numpy array"),
    (string(b"pixels"), VALID_LABELS, "'data' is a bytes, not a numpy array"),
]


@pytest.mark.parametrize(
    ("data_ops", "labels_ops", "reason"), OTHER_SHAPES, ids=[c[2] for c in OTHER_SHAPES]
)
def test_refuses_batches_of_other_shapes_and_labels(tmp_path, data_ops, labels_ops, reason):
    error = refusal(tmp_path, batch_file(data_ops, labels_ops))
    assert re.search(reason, str(error)), error


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("os", "system"),
        ("posix", "system"),
        ("builtins", "eval"),
        ("__builtin__", "eval"),
        ("builtins", "getattr"),
        ("numpy", "frombuffer"),
        ("numpy.core.multiarray", "scalar"),
        ("copyreg", "_reconstructor"),
    ],
)
def test_refuses_every_other_global_and_runs_nothing(tmp_path, module, name):
    # (e) The call would create the marker file, were it run.
    marker = tmp_path / "pwned"
    payload = call(glob(module, name), text(f"__import__('os').system('touch {marker}')"))
    error = refusal(tmp_path, batch_file(VALID_DATA, payload))
    assert isinstance(error, data.UnsafePickleError)
    assert isinstance(error, pickle.UnpicklingError)  # As before: both kinds catch it.
    assert (error.module, error.name) == (module, name)
    assert f"references the global {module}.{name}" in str(error)
    assert not marker.exists()


# Files that are no pickle of a batch, or use what no batch does: (file, error).
OTHER_PICKLES = [
    (b"", "not a complete pickle"),
    (b"CIFAR-10 images\n", "not a complete pickle"),
    (batch_file(VALID_DATA, VALID_LABELS)[:-30], "not a complete pickle"),
    (pickle.dumps([1, 2], protocol=2), "it holds a list, not a dict"),
    (pickle.dumps({b"data": 1}, protocol=2), "it has no 'labels'"),
    (pickle.dumps({b"labels": 1.5}, protocol=2), "pickle opcode BINFLOAT"),
    (b"\x80\x02" + glob("numpy", "dtype") + b")\x81.", "pickle opcode NEWOBJ"),
    (b"\x80\x02(" + glob("numpy", "dtype") + b"o.", "pickle opcode OBJ"),
    (b"\x80\x02" + string(b"x") + b"Q.", "pickle opcode BINPERSID"),
    (b"\x80\x05\x97.", "pickle opcode NEXT_BUFFER"),
    (b"\x80\x02" + glob("numpy", "ndarray") + b"N\x85R.", "it calls numpy.ndarray"),
    (b"\x80\x02" + call(glob("_codecs", "encode"), text("x"), text("zlib")) + b".", "encode"),
    (b"\x80\x02" + b"]" + put(0) + b"(" + TRUE + b"b.", "unpickling failed"),
]


@pytest.mark.parametrize(("content", "reason"), OTHER_PICKLES, ids=[c[1] for c in OTHER_PICKLES])
def test_refuses_other_pickles_with_the_file_named(tmp_path, content, reason):
    assert reason in str(refusal(tmp_path, content))


def test_bounds_the_file_size_and_the_number_of_opcodes(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "MAX_PICKLE_OPS", 100)
    many_labels = batch_file(array_file((1, PIXELS), "u1", "|", bytes(PIXELS)), int_list([0] * 99))
    assert "over 100 pickle opcodes" in str(refusal(tmp_path, many_labels))
    monkeypatch.setattr(data, "MAX_FILE_BYTES", 1000)
    assert "larger than 1,000 bytes" in str(refusal(tmp_path, b"\0" * 1001))


def test_errors_survive_pickling(tmp_path):
    for error in [data.BatchFormatError("b", "why"), data.UnsafePickleError("b", "os", "system")]:
        again = pickle.loads(pickle.dumps(error))
        assert type(again) is type(error) and str(again) == str(error)


def expected_split(images: np.ndarray) -> np.ndarray:
    return images.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)


def test_loads_a_python2_batch_bit_for_bit(tmp_path):
    path = tmp_path / "data_batch_1"
    names = b"](" + string(b"a.png") + string(b"b.png") + b"e"
    path.write_bytes(batch_file(VALID_DATA, VALID_LABELS, extra=names))
    batch = data.load_batch(path)
    np.testing.assert_array_equal(batch.images, expected_split(pixels(2)))
    assert batch.images.dtype == np.uint8 and batch.images.flags.c_contiguous
    np.testing.assert_array_equal(batch.labels, [3, 7])
    assert batch.labels.dtype == np.int32


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
@pytest.mark.parametrize("labels", ["list", "<i8", ">i4", "u1", "fortran data"])
def test_loads_batches_saved_by_numpy_and_python3(tmp_path, protocol, labels):
    images = pixels(3)
    values = [9, 0, 4]
    content = {
        b"batch_label": b"",  # Protocol 2 pickles b"" as a call of bytes().
        b"data": np.asfortranarray(images) if labels == "fortran data" else images,
        b"labels": values if labels in ("list", "fortran data") else np.array(values, labels),
        b"filenames": [b"x.png"] * 3,
    }
    path = tmp_path / "batch"
    path.write_bytes(pickle.dumps(content, protocol=protocol))
    batch = data.load_batch(path)
    np.testing.assert_array_equal(batch.images, expected_split(images))
    np.testing.assert_array_equal(batch.labels, values)
