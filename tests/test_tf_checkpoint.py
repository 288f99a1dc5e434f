"""Reading TF1 checkpoints without TensorFlow: load_tf_checkpoint, list_tf_checkpoint,
restore_from_tf.

The fixtures in tests/fixtures/tf_checkpoints/ were written by real TensorFlow
(scripts/make_tf_checkpoints.py), with what TF's own reader returns beside them. A small
table writer here builds checkpoints that TF would never write, checksums and all, to test
the reader's validation; the hypothesis tests mutate real files and generate hostile ones:
every outcome is the right arrays or a scopax error, fast, within a bounded allocation.
"""

from __future__ import annotations

import json
import os
import shutil
import tracemalloc
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

import scopax as sx
from scopax import errors
from scopax._src.core.errors import ScopaxError
from scopax._src.io import tf_writer
from scopax._src.io.crc32c import _crc_bytewise, crc32c
from scopax._src.io.tf_bundle import _ordered_code_signed, slice_key
from scopax._src.io.tf_checkpoint import list_tf_checkpoint, load_tf_checkpoint, restore_from_tf
from scopax._src.io.tf_table import read_table
from scopax._src.io.tf_writer import _short_successor, _shortest_separator, save_tf_checkpoint

FIXTURES = Path(__file__).parent / "fixtures" / "tf_checkpoints"
MODEL = FIXTURES / "model" / "model.ckpt-1"
PARTITIONED = FIXTURES / "partitioned" / "model.ckpt-7"
MOMENTUM = FIXTURES / "momentum" / "model.ckpt-1"
FUZZ = settings(
    max_examples=300,
    derandomize=True,
    database=None,
    deadline=10_000,  # Milliseconds: an example takes about 10; a hang fails.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def expected(name: str) -> dict[str, Any]:
    """What TensorFlow's reader returned for the fixture ``name``, as the reader returns it."""
    meta = json.loads((FIXTURES / name / "expected.json").read_text())
    arrays = np.load(FIXTURES / name / "expected.npz", allow_pickle=False)
    out = {}
    for key, info in meta.items():
        if info["dtype"] == "string":
            values = [bytes.fromhex(h) for h in info["hex"]]
            value = np.empty(len(values), object)
            value[:] = values
            out[key] = value.reshape(info["shape"])
        else:
            out[key] = arrays[key].astype(jnp.dtype(info["dtype"]))
    return out


def assert_same(got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> None:
    assert list(got) == sorted(want)
    for key, value in want.items():
        assert got[key].dtype == value.dtype, key
        assert got[key].shape == value.shape, key
        np.testing.assert_array_equal(got[key], value, err_msg=key)


@pytest.mark.parametrize("name", ["model", "partitioned", "momentum"])
def test_reads_what_tensorflow_wrote(name):
    assert_same(load_tf_checkpoint(FIXTURES / name), expected(name))


def test_every_dtype_and_slot():
    ckpt = load_tf_checkpoint(MODEL)
    dtypes = {k: v.dtype.name for k, v in ckpt.items() if k.startswith("model/dtypes/")}
    assert dtypes == {
        "model/dtypes/bf16": "bfloat16",
        "model/dtypes/bool": "bool",
        "model/dtypes/complex64": "complex64",
        "model/dtypes/double": "float64",
        "model/dtypes/empty": "float32",
        "model/dtypes/half": "float16",
        "model/dtypes/int16": "int16",
        "model/dtypes/int32": "int32",
        "model/dtypes/int64": "int64",
        "model/dtypes/int8": "int8",
        "model/dtypes/scalar": "float32",
        "model/dtypes/string": "object",
        "model/dtypes/uint16": "uint16",
        "model/dtypes/uint32": "uint32",
        "model/dtypes/uint64": "uint64",
        "model/dtypes/uint8": "uint8",
    }
    assert list(ckpt["model/dtypes/string"]) == [b"hello", b"", b"\x00\xff\x01 bytes", b"x" * 200]
    assert ckpt["global_step"] == 1 and ckpt["global_step"].dtype == np.int64
    for slot in ("Adam", "Adam_1"):
        assert ckpt[f"model/conv1/weights/{slot}"].shape == (3, 3, 2, 4)
    assert ckpt["model/dtypes/int64"][2] == 2**62 + 5
    assert ckpt["model/dtypes/uint64"][1] == 2**64 - 1


def test_partitioned_and_sharded():
    ckpt = load_tf_checkpoint(PARTITIONED)
    assert ckpt["part/emb"].shape == (10, 4)  # Three row slices.
    assert ckpt["part/cols"].shape == (4, 9)  # Two column slices, float64.
    assert ckpt["other/bias"].tolist() == [3.0] * 5  # In the second .data shard.


def test_list():
    listing = list_tf_checkpoint(FIXTURES / "model")
    meta = json.loads((FIXTURES / "model" / "expected.json").read_text())
    assert listing == {k: (tuple(v["shape"]), v["dtype"]) for k, v in meta.items()}


@pytest.mark.parametrize(
    "path",
    [
        str(MODEL),
        MODEL,
        str(MODEL) + ".index",
        str(MODEL) + ".data-00000-of-00001",
        FIXTURES / "model",
        str(FIXTURES / "model") + "/",
    ],
)
def test_path_forms(path):
    assert set(load_tf_checkpoint(path)) == set(expected("model"))


def test_checkpoint_file_relative_and_escaped(tmp_path):
    directory = tmp_path / 'we"ird'
    directory.mkdir()
    for f in (FIXTURES / "momentum").glob("model.ckpt-1.*"):
        shutil.copy(f, directory / f.name.replace("model", "m\u00e9"))
    (directory / "checkpoint").write_text(
        'model_checkpoint_path: "m\\303\\251.ckpt-1"\nall_model_checkpoint_paths: "x"\n'
    )
    assert "net/dense/kernel" in load_tf_checkpoint(directory)


def test_not_found(tmp_path):
    with pytest.raises(errors.CheckpointNotFoundError) as e:
        load_tf_checkpoint(tmp_path / "model.ckpt-5")
    p = tmp_path / "model.ckpt-5"
    assert str(e.value) == (
        f"No checkpoint at {p}: there is no {p}.index; pass the prefix that TF prints "
        "('.../model.ckpt-1000') or the directory that holds TF's 'checkpoint' file."
    )
    assert isinstance(e.value, FileNotFoundError) and isinstance(e.value, ValueError)
    assert e.value.path == str(p)
    shutil.copy(str(MOMENTUM) + ".index", tmp_path / "a.ckpt-3.index")
    with pytest.raises(
        errors.CheckpointNotFoundError, match=r"pass one of the prefixes it holds: a\.ckpt-3"
    ):
        load_tf_checkpoint(tmp_path)
    with pytest.raises(
        errors.CheckpointNotFoundError, match=r"a.ckpt-3.data-00000-of-00001 is missing"
    ):
        load_tf_checkpoint(tmp_path / "a.ckpt-3")


# restore_from_tf


def conv_dense(x):
    with sx.variable_scope("model"):
        with sx.variable_scope("conv1"):
            w = sx.get_variable("weights", [3, 3, 2, 4])
            b = sx.get_variable("biases", [4])
        y = jax.lax.conv_general_dilated(
            x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
        )
        h = jax.nn.relu(y + b[None, None, None, :])
        with sx.variable_scope("dense"):
            return h.reshape(h.shape[0], -1) @ sx.get_variable("kernel", [144, 16])


def test_ported_model_reproduces_tensorflow():
    outputs = np.load(FIXTURES / "model" / "outputs.npz")
    model = sx.transform(conv_dense)
    params = model.init(jax.random.key(0), outputs["x"])
    restored = restore_from_tf(params, FIXTURES / "model")  # Slots and global_step skipped.
    assert isinstance(restored, sx.Params)
    ckpt = load_tf_checkpoint(MODEL)
    for name in ("model/conv1/weights", "model/conv1/biases", "model/dense/kernel"):
        np.testing.assert_array_equal(restored[name], ckpt[name])
    np.testing.assert_allclose(
        model.apply(restored, outputs["x"]), outputs["y"], rtol=1e-5, atol=1e-5
    )


def test_assignment_map_scopes_variables_and_slots():
    def net():
        with sx.variable_scope("net"):
            sx.get_variable("conv1/weights", [3, 3, 2, 4])
            sx.get_variable("conv1/biases", [4])
        sx.get_variable("head", [144, 16])
        sx.get_variable("adam_m", [144, 16])
        sx.get_variable("step", [], dtype=jnp.int32)
        sx.get_variable("fresh", [2])

    params = sx.transform(net).init(jax.random.key(0))
    restored = restore_from_tf(
        params,
        MODEL,
        {
            "model/": "net/",
            "model/dense/kernel": "head",
            "model/dense/kernel/Adam": "adam_m",
            "global_step": "step",
        },
    )
    ckpt = load_tf_checkpoint(MODEL)
    np.testing.assert_array_equal(restored["net/conv1/weights"], ckpt["model/conv1/weights"])
    np.testing.assert_array_equal(restored["head"], ckpt["model/dense/kernel"])
    np.testing.assert_array_equal(restored["adam_m"], ckpt["model/dense/kernel/Adam"])
    assert restored["step"] == 1 and restored["step"].dtype == jnp.int32  # int64, x64 off
    np.testing.assert_array_equal(restored["fresh"], params["fresh"])  # Not covered: kept.


def test_most_specific_entry_wins():
    params = sx.unflatten({"a/w": jnp.zeros(4), "a/biases": jnp.zeros(4)})
    restored = restore_from_tf(
        params, MODEL, {"model/conv1/": "a/", "model/conv1/biases/Adam": "a/w", "/": "/"}
    )
    ckpt = load_tf_checkpoint(MODEL)
    np.testing.assert_array_equal(restored["a/w"], ckpt["model/conv1/biases/Adam"])
    np.testing.assert_array_equal(restored["a/biases"], ckpt["model/conv1/biases"])


def test_partitioned_into_one_variable():
    params = sx.unflatten({"part/emb": jnp.zeros((10, 4)), "part/cols": jnp.zeros((4, 9))})
    restored = restore_from_tf(params, PARTITIONED)
    ckpt = load_tf_checkpoint(PARTITIONED)
    np.testing.assert_array_equal(restored["part/emb"], ckpt["part/emb"])
    np.testing.assert_allclose(restored["part/cols"], ckpt["part/cols"].astype(np.float32))


def test_every_mismatch_at_once():
    params = sx.unflatten(
        {
            "model/conv1/weights": jnp.zeros((3, 3, 2, 8)),
            "model/conv1/bias": jnp.zeros(4),
            "model/dtypes/bf16": jnp.zeros(5),
            "model/dtypes/string": jnp.zeros(4),
            "model/dtypes/half": jnp.zeros((3, 2), jnp.int8),
            "model/dense/kernel": jnp.zeros((144, 16)),
        }
    )
    with pytest.raises(errors.CheckpointMismatchError) as e:
        restore_from_tf(params, MODEL)
    assert str(e.value) == (
        f"Cannot restore 5 variables from checkpoint {MODEL}:\n"
        "  model/conv1/bias: not in the checkpoint; the closest name there is "
        "model/conv1/biases\n"
        "  model/conv1/weights: shape (3, 3, 2, 8) in params, (3, 3, 2, 4) in the checkpoint\n"
        "  model/dtypes/bf16: dtype float32 in params, bfloat16 in the checkpoint\n"
        "  model/dtypes/half: shape (3, 2) in params, (2, 3) in the checkpoint; dtype int8 in "
        "params, float16 in the checkpoint\n"
        "  model/dtypes/string: dtype float32 in params, string in the checkpoint\n"
        "Map checkpoint names to variables with assignment_map={'checkpoint_scope/': "
        "'params_scope/'} (sx.list_tf_checkpoint(path) lists the checkpoint's names), or "
        "build params with the checkpoint's shapes and dtypes."
    )
    assert e.value.names[0] == "model/conv1/bias" and isinstance(e.value, ValueError)


def test_values_out_of_range_are_reported():
    params = sx.unflatten({"i": jnp.zeros(3, jnp.int32), "d": jnp.zeros(4)})
    with pytest.raises(
        errors.CheckpointMismatchError, match="i: model/dtypes/int64 has values that int32"
    ):
        restore_from_tf(params, MODEL, {"model/dtypes/int64": "i", "model/dtypes/double": "d"})


def test_float64_into_float32():
    params = sx.unflatten({"d": jnp.zeros(4)})
    restored = restore_from_tf(params, MODEL, {"model/dtypes/double": "d"})
    assert restored["d"].dtype == jnp.float32
    np.testing.assert_allclose(restored["d"], np.linspace(-1, 1, 4))


def test_assignment_map_errors():
    params = sx.unflatten({"a/w": jnp.zeros(4), "b": jnp.zeros(4)})
    with pytest.raises(errors.CheckpointMismatchError) as e:
        restore_from_tf(
            params,
            MODEL,
            {"x/": "a", "y": "a/", "z/": "none/", "model/conv1/biases/": "b", "q": "missing"},
        )
    assert str(e.value).splitlines()[1:6] == [
        "  a: assignment_map names it, but params has no such variable; to map the scope, "
        "write 'a/'",
        "  a/: assignment_map maps this scope to 'y', which is not a scope; write 'y/'",
        "  none/: assignment_map names this scope, but params has none",
        "  b: assignment_map maps this variable to the scope 'model/conv1/biases/'; map it to "
        "a checkpoint variable, e.g. {'model/conv1/biases': 'b'}",
        "  missing: assignment_map names it, but params has no such variable",
    ]


def test_abstract_and_sharded_params():
    mesh = Mesh(np.array(jax.devices()).reshape(4, 2), ("a", "b"))
    sharding = NamedSharding(mesh, P("a", "b"))
    abstract = sx.unflatten(
        {"model/dense/kernel": jax.ShapeDtypeStruct((144, 16), jnp.float32, sharding=sharding)}
    )
    restored = restore_from_tf(abstract, MODEL)
    assert restored["model/dense/kernel"].sharding == sharding
    np.testing.assert_array_equal(
        restored["model/dense/kernel"], load_tf_checkpoint(MODEL)["model/dense/kernel"]
    )
    concrete = sx.unflatten(
        {"model/conv1/biases": jax.device_put(jnp.zeros(4), NamedSharding(mesh, P("a")))}
    )
    assert restore_from_tf(concrete, MODEL)["model/conv1/biases"].sharding.spec == P("a")
    partial = sx.unflatten({"x": jax.ShapeDtypeStruct((2,), jnp.float32)})
    with pytest.raises(
        errors.CheckpointMismatchError,
        match="x: params holds only its shape, and assignment_map skips it",
    ):
        restore_from_tf(partial, MODEL, {"global_step": "y"})


def test_restore_needs_a_mapping():
    with pytest.raises(
        errors.CheckpointTreeError, match="expects params to be the tree that init returned"
    ):
        restore_from_tf([jnp.zeros(2)], MODEL)  # type: ignore[arg-type]


# The reader's parts


def test_crc32c():
    assert crc32c(b"") == 0
    assert crc32c(b"123456789") == 0xE3069283  # The standard check value.
    assert crc32c(bytes(32)) == 0x8A9136AA  # RFC 3720, B.4.
    assert crc32c(bytes(range(32))) == 0x46DD794E
    rng = np.random.default_rng(0)
    for size in (8191, 8192, 8193, 10_000, 65_537, 1 << 20):
        data = rng.integers(0, 256, size, np.uint8).tobytes()
        assert crc32c(data) == _crc_bytewise(0xFFFFFFFF, data) ^ 0xFFFFFFFF, size
        assert crc32c(data[size // 3 :], crc32c(data[: size // 3])) == crc32c(data)


@pytest.mark.parametrize(
    "value, encoded",
    [(0, "80"), (-1, "7f"), (63, "bf"), (64, "c040"), (-64, "40"), (-65, "3fbf"),
     (0x424242, "f0424242"), (-0x800, "3800"), (2**62, "ffc04000000000000000")],
)  # fmt: skip
def test_ordered_code(value, encoded):
    assert _ordered_code_signed(value).hex() == encoded  # TF's ordered_code.cc examples


def test_slice_keys_are_tfs():
    keys = [key for key, _ in read_table((Path(str(PARTITIONED) + ".index")).read_bytes())]
    assert slice_key("part/emb", ((4, 3), (0, -1))) not in keys  # TF wrote the extent
    assert slice_key("part/emb", ((4, 3), (0, 4))) in keys
    assert slice_key("part/cols", ((0, 4), (5, 4))) in keys


# A writer of checkpoints TF would never write, checksums included.


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    return bytes([*out, n])


def field(number: int, value: int | bytes, wire: int | None = None) -> bytes:
    if isinstance(value, bytes):
        return varint(number << 3 | 2) + varint(len(value)) + value
    if wire == 5:
        return varint(number << 3 | 5) + value.to_bytes(4, "little")
    return varint(number << 3) + varint(value)


def mask(crc: int) -> int:
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def entry(dtype, shape, offset=0, size=0, crc=0, shard=0, slices=()) -> bytes:
    dims = b"".join(field(2, field(1, d)) for d in shape)
    out = field(1, dtype) + field(2, dims) + field(3, shard) + field(4, offset) + field(5, size)
    out += field(6, crc, wire=5)
    for extents in slices:
        ext = b"".join(
            field(1, field(1, s) + (field(2, n) if n != -1 else b"")) for s, n in extents
        )
        out += field(7, ext)
    return out


def header(num_shards=1, endianness=0, min_consumer=0) -> bytes:
    version = field(1, 1) + (field(2, min_consumer) if min_consumer else b"")
    return field(1, num_shards) + field(2, endianness) + field(3, version)


def block(items: list[tuple[bytes, bytes]], restart_interval: int = 4) -> bytes:
    out, restarts, last = bytearray(), [], b""
    for i, (key, value) in enumerate(items):
        shared = 0
        if i % restart_interval:
            while shared < min(len(key), len(last)) and key[shared] == last[shared]:
                shared += 1
        else:
            restarts.append(len(out))
        out += varint(shared) + varint(len(key) - shared) + varint(len(value))
        out += key[shared:] + value
        last = key
    restarts = restarts or [0]
    out += b"".join(r.to_bytes(4, "little") for r in restarts) + len(restarts).to_bytes(4, "little")
    return bytes(out)


def table(items: list[tuple[bytes, bytes]], compression: int = 0) -> bytes:
    def framed(contents: bytes, kind: int = 0) -> bytes:
        trailer = bytes([kind]) + mask(crc32c(contents + bytes([kind]))).to_bytes(4, "little")
        return contents + trailer

    data = framed(block(sorted(items)), compression)
    meta = framed(block([]))
    index = framed(block([(b"\xff", varint(0) + varint(len(data) - 5))]))
    handles = varint(len(data)) + varint(len(meta) - 5) + varint(len(data) + len(meta))
    handles += varint(len(index) - 5)
    footer = handles.ljust(40, b"\0") + (0xDB4775248B80FB57).to_bytes(8, "little")
    return data + meta + index + footer


def write(tmp_path: Path, items, data: bytes | list[bytes] = b"", **kwargs) -> Path:
    prefix = tmp_path / "t.ckpt"
    shards = data if isinstance(data, list) else [data]
    items = [(b"", header(num_shards=len(shards), **kwargs)), *items]
    Path(str(prefix) + ".index").write_bytes(table(items))
    for i, shard in enumerate(shards):
        Path(f"{prefix}.data-{i:05d}-of-{len(shards):05d}").write_bytes(shard)
    return prefix


def test_writer_round_trips_a_tf_checkpoint(tmp_path):
    items = read_table(Path(str(MODEL) + ".index").read_bytes())
    prefix = tmp_path / "copy"
    Path(str(prefix) + ".index").write_bytes(table(items))
    shutil.copy(str(MODEL) + ".data-00000-of-00001", str(prefix) + ".data-00000-of-00001")
    assert_same(load_tf_checkpoint(prefix), expected("model"))


def valid(values: np.ndarray, dtype: int = 1, **kwargs) -> tuple[bytes, bytes]:
    raw = values.tobytes()
    return entry(dtype, values.shape, 0, len(raw), mask(crc32c(raw)), **kwargs), raw


def test_big_endian(tmp_path):
    values = np.arange(6, dtype=">f4").reshape(2, 3)
    proto, raw = valid(values)
    prefix = write(tmp_path, [(b"x", proto)], raw, endianness=1)
    np.testing.assert_array_equal(load_tf_checkpoint(prefix)["x"], values.astype("<f4"))


@pytest.mark.parametrize(
    "items, data, why",
    [
        (
            [(b"x", entry(1, [2**20, 2**10], 0, 16, 0))],
            b"\0" * 16,
            "an entry's size does not match",
        ),
        ([(b"x", entry(1, [4], 8, 16, 0))], b"\0" * 16, "an entry points past the end of"),
        ([(b"x", entry(1, [2**62, 4], 0, 0, 0))], b"", "a tensor has the invalid shape"),
        ([(b"x", entry(1, [-1], 0, 0, 0))], b"", "a tensor has the invalid shape"),
        ([(b"x", entry(7, [2**40], 0, 16, 0))], b"\0" * 16, "a string tensor is smaller"),
        ([(b"x", entry(1, [4], 0, 16, 0, shard=3))], b"\0" * 16, "an entry names data shard 3"),
        (
            [(b"x", entry(1, [4], 0, 16, 0)), (b"y", entry(1, [4], 8, 16, 0))],
            b"\0" * 24,
            "two tensors claim the same bytes",
        ),
        ([(b"x", entry(1, [4], slices=[((0, 2),)]))], b"", "a slice of x is missing"),
        ([(b"x", entry(1, [4], slices=[((3, 2),)]))], b"", "a slice lies outside its tensor"),
        ([(b"\xff", entry(1, [0]))], b"", "is not UTF-8"),
    ],
)
def test_hostile_index(tmp_path, items, data, why):
    prefix = write(tmp_path, items, data)
    with pytest.raises(errors.CheckpointCorruptError, match=why):
        load_tf_checkpoint(prefix)


def test_duplicate_slices(tmp_path):
    values = np.arange(2, dtype=np.float32)
    part, raw = valid(values)
    key = slice_key("x", ((0, 2),))
    items = [(b"x", entry(1, [4], slices=[((0, 2),), ((0, 2),)])), (key, part)]
    with pytest.raises(errors.CheckpointCorruptError, match="two tensors claim the same bytes"):
        load_tf_checkpoint(write(tmp_path, items, raw))


def test_corrupt_data_names_the_tensor(tmp_path):
    proto, raw = valid(np.arange(4, dtype=np.float32))
    prefix = write(tmp_path, [(b"scope/x", proto)], raw[:-1] + b"\x01")
    with pytest.raises(errors.CheckpointCorruptError) as e:
        load_tf_checkpoint(prefix)
    assert str(e.value) == (
        f"Tensor scope/x of checkpoint {prefix} is corrupt or truncated: its bytes fail their "
        "crc32c check. Nothing was restored from it; copy the checkpoint again from where it "
        "was written, or use an earlier one."
    )
    assert e.value.name == "scope/x"


def test_unsupported(tmp_path):
    prefix = write(tmp_path, [(b"it", entry(21, [1], 0, 4, 0))], b"\0" * 4)
    assert list_tf_checkpoint(prefix) == {"it": ((1,), "variant")}
    with pytest.raises(
        errors.UnsupportedCheckpointError, match=r"Tensor it of checkpoint .* DT_VARIANT"
    ):
        load_tf_checkpoint(prefix)
    with pytest.raises(errors.UnsupportedCheckpointError, match="newer than this reader's"):
        load_tf_checkpoint(write(tmp_path, [], min_consumer=2))
    Path(str(prefix) + ".index").write_bytes(table([(b"", header())], compression=1))
    with pytest.raises(errors.UnsupportedCheckpointError, match="Snappy compression"):
        load_tf_checkpoint(prefix)


# Fuzzing: mutated real files and generated hostile ones.


def load_or_error(prefix: Path) -> dict[str, np.ndarray] | None:
    """The checkpoint, or None for a scopax error; asserts that the reader allocated no
    more than the files can back."""
    sizes = sum(f.stat().st_size for f in prefix.parent.glob(prefix.name + ".*"))
    tracemalloc.start()
    try:
        return load_tf_checkpoint(prefix)
    except ScopaxError:
        return None
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < 1_000_000 + 64 * sizes


def copy_fixture(tmp_path: Path, source: Path) -> Path:
    directory = tmp_path / "fuzz"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir()
    for f in source.parent.glob(source.name + ".*"):
        shutil.copy(f, directory / f.name)
    return directory / source.name


mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 1 << 20), st.integers(1, 255)),
    st.tuples(st.just("truncate"), st.integers(0, 1 << 20), st.just(0)),
    st.tuples(st.just("extend"), st.integers(1, 64), st.integers(0, 255)),
    st.tuples(st.just("huge"), st.integers(0, 1 << 20), st.sampled_from([0x7F, 0xFF])),
)


def mutate(data: bytes, kind: str, at: int, value: int) -> bytes:
    if not data:
        return bytes([value]) * 3
    at %= len(data)
    if kind == "flip":
        return data[:at] + bytes([data[at] ^ value]) + data[at + 1 :]
    if kind == "truncate":
        return data[:at]
    if kind == "extend":
        return data + bytes([value]) * at
    return data[:at] + bytes([value | 0x80] * 9) + data[at + 9 :]  # A huge varint.


@FUZZ
@given(source=st.sampled_from([MODEL, PARTITIONED]), file=st.sampled_from(["index", "data"]),
       mutations=st.lists(mutation, min_size=1, max_size=3))  # fmt: skip
def test_fuzz_mutated_files(tmp_path, source, file, mutations):
    prefix = copy_fixture(tmp_path, source)
    target = next(prefix.parent.glob(f"{prefix.name}.{file}*"))
    data = target.read_bytes()
    for kind, at, value in mutations:
        data = mutate(data, kind, at, value)
    target.write_bytes(data)
    got = load_or_error(prefix)
    if got is not None:  # Only bytes that no checksum covers changed (footer padding).
        assert_same(got, load_tf_checkpoint(source))


HUGE = st.sampled_from([2**31, 2**62, 2**63 - 1, 2**64 - 1])
ITEMSIZE = {1: 4, 2: 8, 7: 1, 10: 1, 14: 2, 19: 2, 21: 1}


@st.composite
def hostile(draw) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """Entries that are mostly plausible (right sizes and checksums), with hostile values
    mixed in: huge or negative dims, offsets and sizes, wrong dtypes, ranks and slices."""
    data = draw(st.binary(max_size=64))
    items = []
    for i in range(draw(st.integers(1, 3))):
        dtype = draw(st.one_of(st.sampled_from(sorted(ITEMSIZE)), st.integers(0, 2**64 - 1)))
        shape = draw(st.lists(st.one_of(st.integers(0, 3), HUGE), max_size=3))
        numel = int(np.prod(shape)) if shape else 1
        size = numel * ITEMSIZE.get(dtype, 1) if numel < 64 else draw(st.integers(0, 64))
        size = draw(st.one_of(st.just(size), st.integers(0, 64), HUGE))
        offset = draw(st.one_of(st.integers(0, 64), HUGE))
        chunk = data[offset : offset + size] if offset < len(data) else b""
        crc = draw(st.one_of(st.just(mask(crc32c(chunk))), st.integers(0, 2**32 - 1)))
        extent = st.tuples(st.integers(0, 4), st.integers(-1, 4))
        slices = draw(
            st.lists(st.lists(extent, min_size=len(shape), max_size=len(shape)), max_size=2)
            | st.lists(st.lists(extent, max_size=3), max_size=2)
        )
        name = f"v{i}"
        items.append((name.encode(), entry(dtype, shape, offset, size, crc, slices=slices)))
        for extents in slices:
            key = slice_key(name, tuple(extents))
            part = [n if n != -1 else d for (_, n), d in zip(extents, shape, strict=False)]
            part_size = int(np.prod(part)) * ITEMSIZE.get(dtype, 1) if part else size
            part_offset = draw(st.integers(0, 64))
            part_chunk = data[part_offset : part_offset + part_size]
            part_crc = mask(crc32c(part_chunk))
            items.append((key, entry(dtype, part, part_offset, part_size, part_crc)))
    return list(dict(items).items()), data


@FUZZ
@given(case=hostile())
def test_fuzz_hostile_entries(tmp_path, case):
    items, data = case
    for value in (load_or_error(write(tmp_path, items, data)) or {}).values():
        assert isinstance(value, np.ndarray)


# Writing: sx.save_tf_checkpoint


@pytest.mark.parametrize("source", [MODEL, MOMENTUM])
def test_writer_reproduces_tensorflows_files(tmp_path, source):
    # TF's own checkpoints, read and written back: the same bytes, index and data.
    prefix = tmp_path / "copy.ckpt"
    assert save_tf_checkpoint(prefix, load_tf_checkpoint(source)) == str(prefix)
    for suffix in (".index", ".data-00000-of-00001"):
        assert Path(f"{prefix}{suffix}").read_bytes() == Path(f"{source}{suffix}").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "copy.ckpt.data-00000-of-00001",
        "copy.ckpt.index",
    ]


def test_writer_joins_partitioned_variables(tmp_path):
    # The writer saves whole tensors: TF's slices come back as the variables they made.
    save_tf_checkpoint(tmp_path / "joined", load_tf_checkpoint(PARTITIONED))
    assert list_tf_checkpoint(tmp_path / "joined") == list_tf_checkpoint(PARTITIONED)
    assert_same(load_tf_checkpoint(tmp_path / "joined"), expected("partitioned"))


WRITABLE = [
    "float16", "bfloat16", "float32", "float64", "float8_e5m2", "float8_e4m3fn",
    "float8_e4m3fnuz", "float8_e4m3b11fnuz", "float8_e5m2fnuz", "int8", "int16", "int32",
    "int64", "uint8", "uint16", "uint32", "uint64", "bool", "complex64", "complex128",
]  # fmt: skip


def as_bytes(value: Any) -> Any:
    return value.encode() if isinstance(value, str) else value


def test_every_dtype_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    tree: dict[str, Any] = {}
    for name in WRITABLE:
        dtype = jnp.dtype(name)
        values = rng.normal(size=(2, 3)) * 10
        values = (values + 1j * values[::-1]) if dtype.kind == "c" else values
        tree[name] = {
            "matrix": values.astype(dtype),
            "scalar": values[0, 0].astype(dtype),
            "empty": np.zeros((0, 4), dtype),
        }
    strings = np.empty((2, 2), object)
    strings[:] = [[b"", b"\x00\xff bytes\x00"], [b"x" * 300, "caf\u00e9"]]
    tree["string"] = {"matrix": strings, "scalar": np.bytes_(b"one"), "empty": np.zeros(0, "S")}
    save_tf_checkpoint(tmp_path / "all", tree)
    listing = list_tf_checkpoint(tmp_path / "all")
    got = load_tf_checkpoint(tmp_path / "all")
    for name in [*WRITABLE, "string"]:
        for kind in ("matrix", "scalar", "empty"):
            want = np.asarray(tree[name][kind])
            if name == "string":  # str is written UTF-8 encoded; strings come back bytes.
                want = np.vectorize(as_bytes, otypes=[object])(want) if want.size else want
            key = f"{name}/{kind}"
            assert listing[key] == (want.shape, name), key
            assert got[key].dtype == (object if name == "string" else want.dtype), key
            np.testing.assert_array_equal(got[key], want, err_msg=key)


def test_trees_params_and_flat_dicts(tmp_path):
    params = sx.transform(conv_dense).init(jax.random.key(0), jnp.ones((1, 6, 6, 2)))
    save_tf_checkpoint(tmp_path / "params", params)
    assert_same(load_tf_checkpoint(tmp_path / "params"), sx.flatten(params))
    flat = {"w": np.ones(2, np.float32), "w/Adam": np.zeros(2, np.float32), "step": 7}
    save_tf_checkpoint(os.fsencode(tmp_path / "flat"), flat)
    got = load_tf_checkpoint(tmp_path / "flat")
    assert sorted(got) == ["step", "w", "w/Adam"] and got["step"] == 7
    restored = restore_from_tf(sx.unflatten({"w": jnp.zeros(2)}), tmp_path / "flat")
    np.testing.assert_array_equal(restored["w"], flat["w"])
    big_endian = {"x": np.arange(4, dtype=">i4")}
    save_tf_checkpoint(tmp_path / "order", big_endian)
    assert load_tf_checkpoint(tmp_path / "order")["x"].tolist() == [0, 1, 2, 3]


def test_indexes_larger_than_a_block(tmp_path):
    # TF cuts the table every 256 KiB; the index block then holds shortened separators.
    rng = np.random.default_rng(0)  # Random names: prefix compression cannot shrink them.
    tree = {f"v{i:05d}/{rng.bytes(60).hex()}": np.float32(i) for i in range(5000)}
    save_tf_checkpoint(tmp_path / "big", tree)
    assert Path(str(tmp_path / "big") + ".index").stat().st_size > 2 * 262144
    got = load_tf_checkpoint(tmp_path / "big")
    assert list(got) == sorted(tree) and all(got[k] == v for k, v in tree.items())


@pytest.mark.parametrize(
    "start, limit, separator",
    [(b"abcd", b"abzz", b"abd"), (b"abc", b"abd", b"abc"), (b"ab", b"abc", b"ab"),
     (b"a\xff", b"b", b"a\xff"), (b"", b"a", b"")],
)  # fmt: skip
def test_shortest_separator_is_leveldbs(start, limit, separator):
    assert _shortest_separator(start, limit) == separator
    assert start <= separator < limit or start == separator


def test_short_successor_is_leveldbs():
    assert _short_successor(b"abc") == b"b"
    assert _short_successor(b"\xff\xffa") == b"\xff\xffb"
    assert _short_successor(b"\xff\xff") == b"\xff\xff"


def test_writes_atomically(tmp_path, monkeypatch):
    prefix = tmp_path / "run" / "model.ckpt-1"  # The directory is created.
    save_tf_checkpoint(prefix, {"v": np.ones(3, np.float32)})
    with pytest.raises(errors.CheckpointExistsError, match="pass overwrite=True"):
        save_tf_checkpoint(prefix, {"v": np.zeros(3, np.float32)})

    def fail(f, array):
        raise OSError("disk full")

    monkeypatch.setattr(tf_writer, "_write_tensor", fail)
    with pytest.raises(OSError, match="disk full"):
        save_tf_checkpoint(prefix, {"v": np.zeros(3, np.float32)}, overwrite=True)
    monkeypatch.undo()
    assert load_tf_checkpoint(prefix)["v"].tolist() == [1, 1, 1]  # The old one, whole.
    assert len(list(prefix.parent.iterdir())) == 2  # No temporary files left.
    save_tf_checkpoint(prefix, {"v": np.zeros(3, np.float32)}, overwrite=True)
    assert load_tf_checkpoint(prefix)["v"].tolist() == [0, 0, 0]


@pytest.mark.parametrize(
    "prefix, tree, error, why",
    [
        (None, {}, errors.CheckpointTreeError, "prefix: expected a path"),
        (3, {}, errors.CheckpointTreeError, "prefix: expected a path"),
        ("dir/", {}, errors.CheckpointTreeError, "is not a checkpoint prefix"),
        ("a\0b", {}, errors.CheckpointTreeError, "is not a checkpoint prefix"),
        ("p", [np.ones(2)], errors.CheckpointTreeError, "expects tree to be a Mapping"),
        ("p", {"x": [1, 2]}, errors.CheckpointTreeError, "x: expected an array or a number"),
        ("p", {"x": jax.ShapeDtypeStruct((2,), jnp.float32)}, errors.CheckpointTreeError,
         "x: expected an array or a number, got ShapeDtypeStruct"),
        ("p", {"x": np.zeros(2, "M8[s]")}, errors.CheckpointTreeError,
         "dtype datetime64.s. has no TF checkpoint equivalent"),
        ("p", {"x": jnp.zeros(2, jnp.int4)}, errors.CheckpointTreeError,
         "dtype int4 has no TF checkpoint equivalent"),
        ("p", {"x": np.array([b"a", 3], object)}, errors.CheckpointTreeError,
         "x: a string tensor holds a int"),
        ("p", {"": np.ones(2)}, errors.CheckpointTreeError, "reserves the empty name"),
        ("p", {"\ud800": np.ones(2)}, errors.CheckpointTreeError, "must be valid UTF-8"),
    ],
)  # fmt: skip
def test_writer_arguments(tmp_path, prefix, tree, error, why):
    if isinstance(prefix, str):
        prefix = str(tmp_path / prefix) + ("/" if prefix.endswith("/") else "")
    with pytest.raises(error, match=why):
        save_tf_checkpoint(prefix, tree)
    assert not list(tmp_path.iterdir())  # Nothing written.


def test_writer_refuses_a_directory(tmp_path):
    with pytest.raises(errors.CheckpointExistsError, match="it is a directory"):
        save_tf_checkpoint(tmp_path, {"v": np.ones(1)})
