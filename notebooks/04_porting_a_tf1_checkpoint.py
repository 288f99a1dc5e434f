# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Porting a TensorFlow 1 checkpoint
#
# A TF1 model ported to scopax keeps its variable names, so it can keep its trained
# weights too. scopax reads TF's checkpoint format itself, with neither TensorFlow nor
# protobuf installed. This notebook
#
# 1. lists and loads a real TF1 checkpoint (`sx.list_tf_checkpoint`,
#    `sx.load_tf_checkpoint`, `sx.summary`);
# 2. ports the model that wrote it, restores its weights with `sx.restore_from_tf`
#    (after two failed tries, to show the mismatch report), and checks that the port
#    computes TF's outputs;
# 3. saves and restores the result with scopax's own `sx.save` / `sx.restore`.
#
# The checkpoints are the test fixtures in `tests/fixtures/tf_checkpoints/`, written by
# real TensorFlow with `scripts/make_tf_checkpoints.py`.

# %%
import os
import pathlib
import tempfile

import jax
import jax.numpy as jnp
import numpy as np

import scopax as sx

# The repository root, wherever Jupyter (or nbmake) starts this notebook.
ROOT = pathlib.Path.cwd().resolve()
while not (ROOT / "pyproject.toml").is_file() or not (ROOT / "src" / "scopax").is_dir():
    if ROOT.parent == ROOT:
        raise FileNotFoundError("run this notebook from inside the scopax repository")
    ROOT = ROOT.parent
FIXTURES = ROOT / "tests" / "fixtures" / "tf_checkpoints"
sorted(os.listdir(FIXTURES / "model"))

# %% [markdown]
# ## What the checkpoint holds
#
# `model.ckpt-1.index` and `model.ckpt-1.data-00000-of-00001` are what
# `tf.compat.v1.train.Saver` wrote after one Adam step; `checkpoint` is TF's pointer to
# the latest save. Pass the prefix TF prints, or just the directory.
# `sx.list_tf_checkpoint` lists names, shapes and dtypes without reading any tensor,
# like `tf.train.list_variables`:

# %%
path = FIXTURES / "model"
for name, (shape, dtype) in sx.list_tf_checkpoint(path).items():
    print(f"{name:<28} {shape!s:<14} {dtype}")

# %% [markdown]
# Besides the model's three variables, the checkpoint holds Adam's slots (`.../Adam`,
# `.../Adam_1`), its `beta1_power` and `beta2_power`, the `global_step`, and a
# variable of every dtype TF1 saves (`model/dtypes/...`). `sx.load_tf_checkpoint` reads
# them all into a flat dict of NumPy arrays (flat, because `w` and `w/Adam` make a name
# both a variable and a scope), and `sx.summary` groups it by scope:

# %%
ckpt = sx.load_tf_checkpoint(path)
print(ckpt["model/dtypes/bf16"].dtype, ckpt["model/dtypes/string"][:2], ckpt["global_step"])
sx.summary(ckpt, depth=2)

# %% [markdown]
# Partitioned variables (saved as slices) come back whole, and a sharded save (several
# `.data-0000N-of-0000M` files) is joined:

# %%
sorted(os.listdir(FIXTURES / "partitioned")), sx.list_tf_checkpoint(FIXTURES / "partitioned")

# %% [markdown]
# ## The TF1 model
#
# This is the model that wrote the checkpoint, from `scripts/make_tf_checkpoints.py`
# (TF 1's `tf.compat.v1` API):
#
# ```python
# with tf.variable_scope("model"):
#     with tf.variable_scope("conv1"):
#         w = tf.get_variable("weights", [3, 3, 2, 4])
#         b = tf.get_variable("biases", [4], initializer=tf.constant_initializer(0.1))
#     h = tf.nn.relu(tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME") + b)
#     with tf.variable_scope("dense"):
#         k = tf.get_variable("kernel", [144, 16])
#     y = tf.matmul(tf.reshape(h, [2, 144]), k)
# ```
#
# The port is the same code with `sx.` in place of `tf.`. In the new code base the model
# lives in a scope called `classifier`, not `model`, and, a first mistake, we remember
# the dense layer as having 10 outputs:


# %%
def make_classifier(units):
    def classifier(x):
        with sx.variable_scope("classifier"):
            with sx.variable_scope("conv1"):
                w = sx.get_variable("weights", [3, 3, 2, 4])
                b = sx.get_variable("biases", [4], initializer=sx.constant_initializer(0.1))
            h = jax.lax.conv_general_dilated(
                x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
            )
            h = jax.nn.relu(h + b)
            with sx.variable_scope("dense"):
                k = sx.get_variable("kernel", [h[0].size, units])
            return jnp.reshape(h, (h.shape[0], -1)) @ k

    return sx.transform(classifier)


outputs = np.load(FIXTURES / "model" / "outputs.npz")  # TF's input and output
x_tf, y_tf = outputs["x"], outputs["y"]
wrong = make_classifier(10)
params = wrong.init(jax.random.key(0), x_tf)
sx.summary(params)

# %% [markdown]
# ## Restoring: the mismatch report
#
# `sx.restore_from_tf(params, path, assignment_map)` works like TF's
# `tf.train.init_from_checkpoint`: it returns `params` with the checkpoint's values for
# the variables the map covers. Without a map, every variable is looked up under its own
# name, and ours live under `classifier/`. Every problem is reported at once, each with
# the closest name the checkpoint has:

# %%
try:
    sx.restore_from_tf(params, path)
except sx.errors.CheckpointMismatchError as e:
    print(e)

# %% [markdown]
# `{"model/": "classifier/"}` maps the checkpoint's scope onto ours. That leaves the
# second mistake, which the report names with both shapes:

# %%
try:
    sx.restore_from_tf(params, path, assignment_map={"model/": "classifier/"})
except sx.errors.CheckpointMismatchError as e:
    print(e)

# %% [markdown]
# ## A successful restore
#
# With 16 outputs, everything fits. The map covers the model's three variables; the
# checkpoint's optimizer slots, `global_step` and the `dtypes` variables are simply not
# mapped to anything. Variables a map does not cover keep their initial values, which
# is how a model can take only part of its weights from a checkpoint.

# %%
model = make_classifier(16)
params = model.init(jax.random.key(0), x_tf)
params = sx.restore_from_tf(params, path, assignment_map={"model/": "classifier/"})
for name, value in sx.flatten(params).items():
    source = name.replace("classifier/", "model/", 1)
    print(f"{name:<28} equal to the checkpoint's {source}:", np.array_equal(value, ckpt[source]))

# %% [markdown]
# The ported model with TF's weights computes TF's outputs (saved by the script next to
# the checkpoint), up to float32 rounding:

# %%
y = jax.jit(model.apply)(params, x_tf)
print("output shape:", y.shape, "| max |scopax - TF|:", float(np.max(np.abs(y - y_tf))))
assert np.allclose(y, y_tf, atol=1e-5)

# %% [markdown]
# Entries map scopes (`"old/": "new/"`, `"/"` for the root) or single variables
# (`"old/w": "new/w"`); the most specific one wins. A single variable can come from
# anywhere, an optimizer slot included:

# %%
adam = sx.unflatten({"slot": jnp.zeros((3, 3, 2, 4))})
adam = sx.restore_from_tf(adam, path, {"model/conv1/weights/Adam": "slot"})
float(jnp.abs(adam["slot"]).max())

# %% [markdown]
# ## Saving and restoring with scopax: `sx.save` / `sx.restore`
#
# From here on the model is a scopax model; its checkpoints are scopax's own, on
# orbax-checkpoint. `sx.save` writes a tree of arrays (a `Params`, NumPy arrays, Python
# numbers) and commits it atomically; `sx.restore` gives it back with its types.

# %%
workdir = tempfile.TemporaryDirectory()
target = pathlib.Path(workdir.name) / "ported"
sx.save(target, {"params": params, "step": 1})
print(sorted(os.listdir(target)))

restored = sx.restore(target)
print(type(restored["params"]).__name__, restored["step"])
print("round trip exact:", jax.tree.all(jax.tree.map(np.array_equal, restored["params"], params)))
print("restored model, same outputs:", bool(jnp.all(model.apply(restored["params"], x_tf) == y)))

# %% [markdown]
# `scopax_checkpoint.json` records the size and SHA-256 of every file, and `sx.restore`
# checks them before reading: a damaged file is an error, never wrong weights. Flipping
# one byte of the largest array file:

# %%
largest = max((p for p in target.rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
data = bytearray(largest.read_bytes())
data[len(data) // 2] ^= 0xFF
largest.write_bytes(bytes(data))
try:
    sx.restore(target)
except sx.errors.CheckpointCorruptError as e:
    print(f"{type(e).__name__}: {e}")

# %%
workdir.cleanup()
