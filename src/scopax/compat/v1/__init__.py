"""``import scopax.compat.v1 as tf``: TF1 model code, run as a scopax model in JAX.

TF1's variable API, its tensor ops (on ``jax.numpy``, with TF1's names, argument names
and conventions), its random ops (keyed by the transform) and lazily its ``nn``,
``layers``, ``contrib``, ``losses`` and ``train`` namespaces (``scopax.nn``, ...). What
only a graph and a session can do (``tf.placeholder``, ``tf.Session``,
``tf.global_variables_initializer``...) raises ``GraphOnlyError`` saying what replaces
it, and a TF1 name that scopax does not offer raises ``AttributeError`` naming the
closest one it does. docs/for_tf1_users.md lists every name.

>>> import jax, scopax as sx
>>> import scopax.compat.v1 as tf
>>> def model_fn(x):
...     with tf.variable_scope("layer1"):
...         w = tf.get_variable("weights", [3, 4])
...         b = tf.get_variable("biases", [4], initializer=tf.zeros_initializer())
...         return tf.reduce_sum(tf.matmul(x, w) + b, axis=1)
>>> model = sx.transform(model_fn)
>>> x = tf.ones([2, 3])
>>> params = model.init(jax.random.key(0), x)
>>> jax.jit(model.apply)(params, x).shape
(2,)
>>> tf.placeholder(tf.float32, [None, 3])
Traceback (most recent call last):
  ...
scopax.errors.GraphOnlyError: tf.placeholder needs a TF1 graph and session, ...
"""

import difflib as _difflib
import importlib as _importlib
from typing import Any as _Any

from scopax import AUTO_REUSE as AUTO_REUSE
from scopax import constant_initializer as constant_initializer
from scopax import errors as _errors
from scopax import get_variable_scope as get_variable_scope
from scopax import glorot_normal_initializer as glorot_normal_initializer
from scopax import glorot_uniform_initializer as glorot_uniform_initializer
from scopax import make_template as make_template
from scopax import ones_initializer as ones_initializer
from scopax import orthogonal_initializer as orthogonal_initializer
from scopax import random_normal_initializer as random_normal_initializer
from scopax import random_uniform_initializer as random_uniform_initializer
from scopax import truncated_normal_initializer as truncated_normal_initializer
from scopax import variance_scaling_initializer as variance_scaling_initializer
from scopax import zeros_initializer as zeros_initializer
from scopax.compat.v1 import _graph_only
from scopax.compat.v1 import initializers as initializers
from scopax.compat.v1._array_ops import concat as concat
from scopax.compat.v1._array_ops import expand_dims as expand_dims
from scopax.compat.v1._array_ops import gather as gather
from scopax.compat.v1._array_ops import gather_nd as gather_nd
from scopax.compat.v1._array_ops import reshape as reshape
from scopax.compat.v1._array_ops import slice as slice
from scopax.compat.v1._array_ops import split as split
from scopax.compat.v1._array_ops import squeeze as squeeze
from scopax.compat.v1._array_ops import stack as stack
from scopax.compat.v1._array_ops import tile as tile
from scopax.compat.v1._array_ops import transpose as transpose
from scopax.compat.v1._array_ops import unstack as unstack
from scopax.compat.v1._array_ops import where as where
from scopax.compat.v1._creation_ops import cast as cast
from scopax.compat.v1._creation_ops import constant as constant
from scopax.compat.v1._creation_ops import fill as fill
from scopax.compat.v1._creation_ops import identity as identity
from scopax.compat.v1._creation_ops import one_hot as one_hot
from scopax.compat.v1._creation_ops import ones as ones
from scopax.compat.v1._creation_ops import ones_like as ones_like
from scopax.compat.v1._creation_ops import range as range
from scopax.compat.v1._creation_ops import rank as rank
from scopax.compat.v1._creation_ops import shape as shape
from scopax.compat.v1._creation_ops import size as size
from scopax.compat.v1._creation_ops import stop_gradient as stop_gradient
from scopax.compat.v1._creation_ops import to_float as to_float
from scopax.compat.v1._creation_ops import to_int32 as to_int32
from scopax.compat.v1._creation_ops import zeros as zeros
from scopax.compat.v1._creation_ops import zeros_like as zeros_like
from scopax.compat.v1._dtypes import as_dtype as as_dtype
from scopax.compat.v1._dtypes import bfloat16 as bfloat16
from scopax.compat.v1._dtypes import bool as bool
from scopax.compat.v1._dtypes import float16 as float16
from scopax.compat.v1._dtypes import float32 as float32
from scopax.compat.v1._dtypes import float64 as float64
from scopax.compat.v1._dtypes import int8 as int8
from scopax.compat.v1._dtypes import int32 as int32
from scopax.compat.v1._dtypes import int64 as int64
from scopax.compat.v1._dtypes import uint8 as uint8
from scopax.compat.v1._graph_only import assert_less_equal as assert_less_equal
from scopax.compat.v1._graph_only import control_dependencies as control_dependencies
from scopax.compat.v1._graph_only import device as device
from scopax.compat.v1._graph_only import group as group
from scopax.compat.v1._graph_only import no_op as no_op
from scopax.compat.v1._math_ops import abs as abs
from scopax.compat.v1._math_ops import add as add
from scopax.compat.v1._math_ops import add_n as add_n
from scopax.compat.v1._math_ops import ceil as ceil
from scopax.compat.v1._math_ops import divide as divide
from scopax.compat.v1._math_ops import einsum as einsum
from scopax.compat.v1._math_ops import equal as equal
from scopax.compat.v1._math_ops import erf as erf
from scopax.compat.v1._math_ops import exp as exp
from scopax.compat.v1._math_ops import floor as floor
from scopax.compat.v1._math_ops import floordiv as floordiv
from scopax.compat.v1._math_ops import greater as greater
from scopax.compat.v1._math_ops import greater_equal as greater_equal
from scopax.compat.v1._math_ops import less as less
from scopax.compat.v1._math_ops import less_equal as less_equal
from scopax.compat.v1._math_ops import log as log
from scopax.compat.v1._math_ops import log1p as log1p
from scopax.compat.v1._math_ops import logical_and as logical_and
from scopax.compat.v1._math_ops import logical_not as logical_not
from scopax.compat.v1._math_ops import logical_or as logical_or
from scopax.compat.v1._math_ops import matmul as matmul
from scopax.compat.v1._math_ops import maximum as maximum
from scopax.compat.v1._math_ops import minimum as minimum
from scopax.compat.v1._math_ops import mod as mod
from scopax.compat.v1._math_ops import multiply as multiply
from scopax.compat.v1._math_ops import negative as negative
from scopax.compat.v1._math_ops import not_equal as not_equal
from scopax.compat.v1._math_ops import pow as pow
from scopax.compat.v1._math_ops import reciprocal as reciprocal
from scopax.compat.v1._math_ops import round as round
from scopax.compat.v1._math_ops import rsqrt as rsqrt
from scopax.compat.v1._math_ops import sigmoid as sigmoid
from scopax.compat.v1._math_ops import sign as sign
from scopax.compat.v1._math_ops import sqrt as sqrt
from scopax.compat.v1._math_ops import square as square
from scopax.compat.v1._math_ops import squared_difference as squared_difference
from scopax.compat.v1._math_ops import subtract as subtract
from scopax.compat.v1._math_ops import tanh as tanh
from scopax.compat.v1._math_ops import truediv as truediv
from scopax.compat.v1._random_ops import multinomial as multinomial
from scopax.compat.v1._random_ops import random_normal as random_normal
from scopax.compat.v1._random_ops import random_shuffle as random_shuffle
from scopax.compat.v1._random_ops import random_uniform as random_uniform
from scopax.compat.v1._random_ops import truncated_normal as truncated_normal
from scopax.compat.v1._reduce_ops import argmax as argmax
from scopax.compat.v1._reduce_ops import argmin as argmin
from scopax.compat.v1._reduce_ops import clip_by_global_norm as clip_by_global_norm
from scopax.compat.v1._reduce_ops import clip_by_norm as clip_by_norm
from scopax.compat.v1._reduce_ops import clip_by_value as clip_by_value
from scopax.compat.v1._reduce_ops import cumsum as cumsum
from scopax.compat.v1._reduce_ops import global_norm as global_norm
from scopax.compat.v1._reduce_ops import reduce_all as reduce_all
from scopax.compat.v1._reduce_ops import reduce_any as reduce_any
from scopax.compat.v1._reduce_ops import reduce_logsumexp as reduce_logsumexp
from scopax.compat.v1._reduce_ops import reduce_max as reduce_max
from scopax.compat.v1._reduce_ops import reduce_mean as reduce_mean
from scopax.compat.v1._reduce_ops import reduce_min as reduce_min
from scopax.compat.v1._reduce_ops import reduce_prod as reduce_prod
from scopax.compat.v1._reduce_ops import reduce_sum as reduce_sum
from scopax.compat.v1._sequence_ops import pad as pad
from scopax.compat.v1._sequence_ops import reverse as reverse
from scopax.compat.v1._sequence_ops import reverse_sequence as reverse_sequence
from scopax.compat.v1._sequence_ops import sequence_mask as sequence_mask
from scopax.compat.v1._variables import Variable as Variable
from scopax.compat.v1._variables import assign as assign
from scopax.compat.v1._variables import assign_add as assign_add
from scopax.compat.v1._variables import assign_sub as assign_sub
from scopax.compat.v1._variables import get_variable as get_variable
from scopax.compat.v1._variables import name_scope as name_scope
from scopax.compat.v1._variables import variable_scope as variable_scope

# Other engineers' namespaces, imported on first use: `tf.nn` is `scopax.nn`, and so on.
NAMESPACES = ("contrib", "layers", "losses", "nn", "train")
_INSTEAD = {
    "contrib": "write the layer with jax.numpy and tf.get_variable.",
    "layers": "write the layer with jax.numpy and tf.get_variable.",
    "losses": "compute the loss with jax.numpy (optax has the common ones).",
    "nn": "use jax.nn and jax.lax (conv_general_dilated, reduce_window).",
    "train": "use optax for optimizers and sx.save / sx.restore_from_tf for checkpoints.",
}

__all__ = [
    "AUTO_REUSE",
    "Variable",
    "abs",
    "add",
    "add_n",
    "argmax",
    "argmin",
    "as_dtype",
    "assert_less_equal",
    "assign",
    "assign_add",
    "assign_sub",
    "bfloat16",
    "bool",
    "cast",
    "ceil",
    "clip_by_global_norm",
    "clip_by_norm",
    "clip_by_value",
    "concat",
    "constant",
    "constant_initializer",
    "control_dependencies",
    "cumsum",
    "device",
    "divide",
    "einsum",
    "equal",
    "erf",
    "exp",
    "expand_dims",
    "fill",
    "float16",
    "float32",
    "float64",
    "floor",
    "floordiv",
    "gather",
    "gather_nd",
    "get_variable",
    "get_variable_scope",
    "global_norm",
    "glorot_normal_initializer",
    "glorot_uniform_initializer",
    "greater",
    "greater_equal",
    "group",
    "identity",
    "initializers",
    "int8",
    "int32",
    "int64",
    "less",
    "less_equal",
    "log",
    "log1p",
    "logical_and",
    "logical_not",
    "logical_or",
    "make_template",
    "matmul",
    "maximum",
    "minimum",
    "mod",
    "multinomial",
    "multiply",
    "name_scope",
    "negative",
    "no_op",
    "not_equal",
    "one_hot",
    "ones",
    "ones_initializer",
    "ones_like",
    "orthogonal_initializer",
    "pad",
    "pow",
    "random_normal",
    "random_normal_initializer",
    "random_shuffle",
    "random_uniform",
    "random_uniform_initializer",
    "range",
    "rank",
    "reciprocal",
    "reduce_all",
    "reduce_any",
    "reduce_logsumexp",
    "reduce_max",
    "reduce_mean",
    "reduce_min",
    "reduce_prod",
    "reduce_sum",
    "reshape",
    "reverse",
    "reverse_sequence",
    "round",
    "rsqrt",
    "sequence_mask",
    "shape",
    "sigmoid",
    "sign",
    "size",
    "slice",
    "split",
    "sqrt",
    "square",
    "squared_difference",
    "squeeze",
    "stack",
    "stop_gradient",
    "subtract",
    "tanh",
    "tile",
    "to_float",
    "to_int32",
    "transpose",
    "truediv",
    "truncated_normal",
    "truncated_normal_initializer",
    "uint8",
    "unstack",
    "variable_scope",
    "variance_scaling_initializer",
    "where",
    "zeros",
    "zeros_initializer",
    "zeros_like",
]


def __getattr__(name: str) -> _Any:
    if name in NAMESPACES:
        target = f"scopax.{name}"
        try:
            module = _importlib.import_module(target)
        except ModuleNotFoundError as e:
            if e.name != target:
                raise
            raise AttributeError(
                f"scopax.compat.v1 has no {name!r} yet: tf.{name} is {target}, which this "
                f"scopax does not have; {_INSTEAD[name]}"
            ) from None
        if name == "train":  # scopax.train's names, and GraphOnlyError for tf.train.Saver...
            module = _graph_only.GraphAwareNamespace(name, module, _graph_only.TRAIN_GRAPH_ONLY)
        globals()[name] = module  # Later lookups skip this function.
        return module
    if name in _graph_only.GRAPH_ONLY:
        raise _graph_only.graph_only(name)
    if name in _graph_only.ELSEWHERE:
        raise AttributeError(f"scopax.compat.v1 has no {name!r}: {_graph_only.ELSEWHERE[name]}")
    if name.startswith("__"):
        raise AttributeError(f"module 'scopax.compat.v1' has no attribute {name!r}")
    close = _difflib.get_close_matches(name, [*__all__, *NAMESPACES], n=1)
    hint = f"; the closest name it has is tf.{close[0]}" if close else ""
    raise AttributeError(
        f"scopax.compat.v1 has no {name!r}{hint}. docs/for_tf1_users.md lists what it "
        "offers; write the rest with jax.numpy."
    )


def __dir__() -> list[str]:
    return sorted([*__all__, *NAMESPACES])


del _errors
