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
# # Sharing variables
#
# TensorFlow 1's "Sharing Variables" tutorial, run interactively with scopax: functions
# create their variables by name with `sx.get_variable`, `sx.variable_scope` names them
# and decides whether a call creates or reuses them, and `sx.transform` turns the whole
# thing into two pure functions, `init` and `apply`.
#
# The same material, as doctests, is in `docs/sharing_variables.md`. This notebook is
# small enough to run in a few seconds on a laptop CPU.

# %%
import re

import jax
import jax.numpy as jnp

import scopax as sx

key = jax.random.key(0)
image1 = jax.random.normal(jax.random.key(1), (2, 8, 8, 32))
image2 = jax.random.normal(jax.random.key(2), (2, 8, 8, 32))

# %% [markdown]
# ## A filter that creates its own variables
#
# `conv_relu` asks for a `weights` and a `biases` variable. It does not know, or care,
# which scope it runs in: the caller decides.


# %%
def conv2d(x, w):
    return jax.lax.conv_general_dilated(
        x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
    )


def conv_relu(inputs, kernel_shape, bias_shape):
    weights = sx.get_variable("weights", kernel_shape, initializer=sx.random_normal_initializer())
    biases = sx.get_variable("biases", bias_shape, initializer=sx.constant_initializer(0.0))
    return jax.nn.relu(conv2d(inputs, weights) + biases)


def my_image_filter(input_images):
    with sx.variable_scope("conv1"):
        relu1 = conv_relu(input_images, [5, 5, 32, 32], [32])
    with sx.variable_scope("conv2"):
        return conv_relu(relu1, [5, 5, 32, 32], [32])


model = sx.transform(my_image_filter)
params = model.init(key, image1)
{name: v.shape for name, v in sx.flatten(params).items()}

# %% [markdown]
# `params` is an immutable tree keyed by scope; `apply` reads every variable from it and
# is a pure function, so it can be jitted, differentiated or vmapped.

# %%
out = jax.jit(model.apply)(params, image1)
out.shape, params["conv1"]["weights"] is params["conv1/weights"]

# %% [markdown]
# ## Two batches, one filter: the error without reuse
#
# Calling the filter twice in one scope asks for `image_filters/conv1/weights` twice.
# scopax refuses rather than silently creating a second set or silently sharing the
# first, and its error says how to fix it.


# %%
def two_images_without_reuse(image1, image2):
    with sx.variable_scope("image_filters"):
        return my_image_filter(image1), my_image_filter(image2)


try:
    sx.transform(two_images_without_reuse).init(key, image1, image2)
except sx.errors.VariableExistsError as e:
    print(f"{type(e).__name__}: {e}")
    print("name:", e.name, "| a ValueError too:", isinstance(e, ValueError))

# %% [markdown]
# ## `reuse_variables()`
#
# Saying so with `scope.reuse_variables()` makes the second call share the first call's
# variables: one set of four, read twice.


# %%
def two_images(image1, image2):
    with sx.variable_scope("image_filters") as scope:
        result1 = my_image_filter(image1)
        scope.reuse_variables()
        result2 = my_image_filter(image2)
    return result1, result2


two = sx.transform(two_images)
params = two.init(key, image1, image2)
print(sorted(sx.flatten(params)))

apply = jax.jit(two.apply)
same1, same2 = apply(params, image1, image1)
print("one filter, equal outputs:", bool(jnp.allclose(same1, same2)))

# %% [markdown]
# ## Reading a variable that does not exist
#
# In a reusing scope, `get_variable` only reads. Asking for a variable nobody created is
# the other error.


# %%
def read_missing():
    with sx.variable_scope("foo", reuse=True):
        return sx.get_variable("v", [1])


try:
    sx.transform(read_missing).init(key)
except sx.errors.VariableNotFoundError as e:
    print(f"{type(e).__name__}: {e}")

# %% [markdown]
# `sx.AUTO_REUSE` creates a variable the first time and reuses it afterwards, whichever
# call comes first:


# %%
def shared_bias(x):
    with sx.variable_scope("shared", reuse=sx.AUTO_REUSE):
        return x + sx.get_variable("b", [1], initializer=sx.constant_initializer(1.0))


auto = sx.transform(lambda x: shared_bias(shared_bias(x)))
auto_params = auto.init(key, jnp.zeros(1))
list(sx.flatten(auto_params)), auto.apply(auto_params, jnp.zeros(1))

# %% [markdown]
# ## Scopes nest, and `reuse=True` is inherited
#
# A scope's name prefixes its variables; `reuse=True` passes down to every sub-scope and
# cannot be switched off inside it, so a caller that asks for sharing gets sharing all
# the way down. Leaving the reusing scope brings the outer flag back.


# %%
def show_reuse_flags():
    def report(where):
        scope = sx.get_variable_scope()
        print(f"{where:<34} name={scope.name!r:<14} reuse={scope.reuse}")

    with sx.variable_scope("root"):
        report("root")
        with sx.variable_scope("foo"):
            report("root/foo")
        with sx.variable_scope("foo", reuse=True):
            report("root/foo, reuse=True")
            with sx.variable_scope("bar"):
                report("  sub-scope bar (inherits)")
            with sx.variable_scope("baz", reuse=False):
                report("  sub-scope baz, reuse=False")
        report("root again")


sx.transform(show_reuse_flags).apply({})

# %% [markdown]
# ## Captured scopes
#
# The object that `with sx.variable_scope(...) as scope` yields can be entered again. It
# names an absolute scope: entering it from anywhere jumps back to it.


# %%
def captured():
    with sx.variable_scope("foo") as foo_scope:
        v = sx.get_variable("v", [1])
    with sx.variable_scope("bar"):
        with sx.variable_scope("baz") as other_scope:
            print("inside bar/baz:", other_scope.name)
            with sx.variable_scope(foo_scope, reuse=True) as again:
                print("entered the captured scope:", again.name)
                v1 = sx.get_variable("v", [1])
    return v1 is v


captured_model = sx.transform(captured)
captured_params = captured_model.init(key)
print(list(sx.flatten(captured_params)), "| same array:", captured_model.apply(captured_params))

# %% [markdown]
# The lines print twice: `init` and `apply` each run the function once. There is no
# graph that is built once and kept; each run starts from an empty scope stack.

# %% [markdown]
# ## Initializers in scopes
#
# A scope can carry a default initializer. Sub-scopes inherit it; an initializer given to
# a sub-scope or to `get_variable` overrides it. Any `jax.nn.initializers` function works
# as well, since they share the signature `initializer(key, shape, dtype)`.


# %%
def initialized():
    with sx.variable_scope("foo", initializer=sx.constant_initializer(0.4)):
        sx.get_variable("v", [1])
        sx.get_variable("w", [1], initializer=sx.constant_initializer(0.3))
        with sx.variable_scope("bar"):
            sx.get_variable("v", [1])
        with sx.variable_scope("baz", initializer=sx.constant_initializer(0.2)):
            sx.get_variable("v", [1])
            sx.get_variable("he", [2, 2], initializer=jax.nn.initializers.he_normal())


for name, value in sx.flatten(sx.transform(initialized).init(key)).items():
    print(f"{name:<10}", value)

# %% [markdown]
# ## Names of operations: `variable_scope` and `name_scope`
#
# `variable_scope` also opens a JAX name scope, so the operations computed inside carry
# the scope's name in jaxprs, compiled HLO and profiler traces. `sx.name_scope` names
# operations only and never changes variable names. This helper lists the scoped op
# names in the HLO that `jax.jit` lowers a function to.


# %%
def op_names(fn, *args):
    hlo = jax.jit(fn).lower(*args).as_text(debug_info=True)
    return sorted(set(re.findall(r'loc\("jit\([^)]*\)/([^"]+)"', hlo)))


def named(x):
    with sx.variable_scope("foo") as foo_scope:
        with sx.name_scope("bar"):
            x = x + sx.get_variable("v", [1])
    with sx.variable_scope("other"):
        with sx.variable_scope(foo_scope, reuse=True):
            # The variable jumps back to foo/v; the op stays under other/.
            return x * sx.get_variable("v", [1])


named_model = sx.transform(named)
named_params = named_model.init(key, jnp.ones(1))
print("variables:", list(sx.flatten(named_params)))
print("ops:      ", op_names(named_model.apply, named_params, jnp.ones(1)))

# %% [markdown]
# The filter from the beginning, scopes and all:

# %%
op_names(two.apply, params, image1, image2)

# %% [markdown]
# ## What is in the tree: `sx.summary`
#
# `sx.summary` groups a tree by scope with subtotals. `print` it for text; as the last
# expression of a cell it renders as an HTML table. With `jax.eval_shape` it summarizes
# a model without allocating it.

# %%
print(sx.summary(params))

# %%
sx.summary(jax.eval_shape(two.init, key, image1, image2))

# %% [markdown]
# `depth=` folds deeper scopes into their subtotals:

# %%
sx.summary(params, depth=2)
