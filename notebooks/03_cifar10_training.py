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
# # Training TF's CIFAR-10 tutorial network
#
# `examples/cifar10` ports TensorFlow's CIFAR-10 tutorial to scopax: the same layers
# under the same variable scopes (`conv1/weights`, ..., `softmax_linear/biases`), weight
# decay as variable regularizers, plain SGD on TF's schedule, and evaluation with the
# moving averages of the weights, read through a custom getter.
#
# This notebook reuses its model, data and training step, and adds a live progress bar
# and plots. It trains on the example's small built-in data set (synthetic
# pattern-and-colour classes, *not* CIFAR-10) so that it runs offline in a few minutes
# on a laptop CPU; `examples/cifar10/train.py --data-dir` trains on the real data.
#
# With `SCOPAX_SMOKE=1` in the environment (the test run sets it) it trains only a few
# dozen steps on less data: expect accuracies not far above chance then.

# %%
import os
import pathlib
import sys
import time

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from tqdm.auto import tqdm

import scopax as sx

SMOKE = os.environ.get("SCOPAX_SMOKE", "0") not in ("", "0")

# The repository root, wherever Jupyter (or nbmake) starts this notebook.
ROOT = pathlib.Path.cwd().resolve()
while not (ROOT / "pyproject.toml").is_file() or not (ROOT / "src" / "scopax").is_dir():
    if ROOT.parent == ROOT:
        raise FileNotFoundError("run this notebook from inside the scopax repository")
    ROOT = ROOT.parent
sys.path.insert(0, str(ROOT))

from examples.cifar10 import data as data_lib  # noqa: E402
from examples.cifar10 import model, train  # noqa: E402

# %% [markdown]
# ## Settings
#
# `train.parse_args` gives the example's defaults (TF's learning rate and schedule, an
# EMA decay for short runs); we only shorten the run.

# %%
if SMOKE:
    STEPS, EVAL_EVERY, BUILTIN_SIZE = 60, 20, (1000, 250)
else:
    STEPS, EVAL_EVERY, BUILTIN_SIZE = 600, 100, (5000, 1000)

args = train.parse_args(
    [
        f"--steps={STEPS}",
        f"--eval-every={EVAL_EVERY}",
        f"--eval-batch-size={BUILTIN_SIZE[1] // 2}",
        "--builtin-size",
        *map(str, BUILTIN_SIZE),
    ]
)
dataset = data_lib.builtin(*args.builtin_size, seed=0)
print(dataset.description)
unused = ("data_dir", "checkpoint_dir", "resume", "no_progress")  # train.py's own loop only
{name: value for name, value in vars(args).items() if name not in unused}

# %% [markdown]
# A few training images, as the network sees them: random 24×24 crops, flipped half the
# time, standardized per image (shown rescaled to [0, 1]).

# %%
images, labels = data_lib.train_batch(dataset.train, 16, step=0, seed=0)
fig, axes = plt.subplots(2, 8, figsize=(12, 3.4))
for image, label, ax in zip(images, labels, axes.flat, strict=True):
    ax.imshow((image - image.min()) / (image.max() - image.min()))
    ax.set_title(f"class {label}")
    ax.axis("off")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## The model
#
# `model.inference` is the tutorial's network, written with `sx.variable_scope` and
# `sx.get_variable`; `model.training` is `sx.transform` of the loss, so `init` returns
# TF's variables under TF's names. `train.init_state` builds the parameters with one
# jitted `init`, the optimizer state, and the moving averages (a copy of the
# parameters, as TF's shadow variables start).

# %%
optimizer = train.make_optimizer(args, len(dataset.train))
train_step = train.make_train_step(optimizer, args.ema_decay)
state = train.init_state(optimizer, args.seed, args.batch_size)
sx.summary(state.params)

# %% [markdown]
# Weight decay is each variable's `regularizer`; the loss collects the terms with
# `sx.get_regularization_loss()`, once per variable. At initialization it is already
# a large part of the total:


# %%
def loss_terms(images, labels):
    logits = model.inference(images)
    return model.loss(logits, labels), sx.get_regularization_loss()


total, decay = sx.transform(loss_terms).apply(state.params, images, labels)
print(f"total loss {float(total):.3f}, of which weight decay {float(decay):.3f}")

# %% [markdown]
# ## Training, with a live progress bar
#
# `train_step` is the example's jitted step: SGD on the loss, then TF's
# `ExponentialMovingAverage` update of every variable. `train.evaluate` reports the test
# accuracy of the raw weights and of their moving averages.

# %%
test_images = data_lib.eval_inputs(dataset.test)
test_labels = dataset.test.labels

history = {"step": [], "loss": []}
evals = {"step": [], "raw": [], "averaged": []}
began = time.perf_counter()
with tqdm(total=args.steps, desc="train", unit="step") as bar:
    for step in range(args.steps):
        images, labels = data_lib.train_batch(dataset.train, args.batch_size, step, args.seed)
        state, loss = train_step(state, images, labels)
        history["step"].append(step + 1)
        history["loss"].append(float(loss))
        bar.set_postfix(loss=f"{history['loss'][-1]:.3f}", refresh=False)
        bar.update()
        if (step + 1) % args.eval_every == 0 or step + 1 == args.steps:
            raw, averaged = train.evaluate(state, test_images, test_labels, args.eval_batch_size)
            evals["step"].append(step + 1)
            evals["raw"].append(raw)
            evals["averaged"].append(averaged)
            bar.write(f"step {step + 1:4d}: test accuracy {raw:.1%} raw, {averaged:.1%} averaged")
print(f"{args.steps} steps in {time.perf_counter() - began:.0f} s")

# %% [markdown]
# ## Loss and accuracy

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.5))
ax1.plot(history["step"], history["loss"], alpha=0.4, label="per step")
window = min(20, len(history["loss"]))
smooth = np.convolve(history["loss"], np.ones(window) / window, mode="valid")
ax1.plot(history["step"][window - 1 :], smooth, label=f"mean of {window}")
ax1.set(xlabel="step", ylabel="total loss (with weight decay)", title="training loss")
ax1.legend()
ax2.plot(evals["step"], evals["raw"], marker="o", label="raw weights")
ax2.plot(evals["step"], evals["averaged"], marker="o", label="moving average")
ax2.axhline(1 / model.NUM_CLASSES, color="gray", linestyle=":", label="chance")
ax2.set(xlabel="step", ylabel="test accuracy", ylim=(0, 1), title="test accuracy")
ax2.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Evaluating the moving averages with a custom getter
#
# TF's `cifar10_eval.py` restored the `ExponentialMovingAverage` shadow variables in
# place of the variables. Here the model runs unchanged: `model.averaged_inference`
# re-enters the current scope with a `custom_getter` that hands back each variable's
# average instead of its value. A getter sees every `get_variable` call by full name,
# so one that only logs shows what the network reads:


# %%
def logging_getter(next_getter, name, *args, **kwargs):
    value = next_getter(name, *args, **kwargs)
    print(f"  {name:<24} {value.shape}")
    return value


def logged_inference(images):
    with sx.variable_scope(sx.get_variable_scope(), custom_getter=logging_getter):
        return model.inference(images)


_ = sx.transform(logged_inference).apply(state.params, test_images[:2])

# %% [markdown]
# With `model.ema_getter` in that place, the same network computes with the averages.
# Raw and averaged weights give different predictions; the averages are the ones TF's
# tutorial evaluated:

# %%
x, y = test_images[:500], test_labels[:500]
raw_logits = jax.jit(model.network.apply)(state.params, x)
ema_logits = jax.jit(model.averaged.apply)(state.params, x, state.ema)
for name, logits in [("raw weights", raw_logits), ("moving average", ema_logits)]:
    print(f"{name:<15} accuracy {float(jnp.mean(jnp.argmax(logits, -1) == y)):.1%}")
differ = jnp.argmax(raw_logits, -1) != jnp.argmax(ema_logits, -1)
print(f"they disagree on {int(differ.sum())} of {len(y)} images")

# %% [markdown]
# The averages are an ordinary parameter tree with the model's names, so they can also
# be passed straight to the plain network: the getter is the TF1 way of doing what
# `model.network.apply(state.ema, x)` does directly.

# %%
bool(jnp.allclose(jax.jit(model.network.apply)(state.ema, x), ema_logits, atol=1e-5))
