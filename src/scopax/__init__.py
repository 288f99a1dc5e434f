"""scopax: TensorFlow 1's variable sharing for JAX, as a purely functional library.

>>> import jax, jax.numpy as jnp, scopax as sx
>>> def f(x):
...     with sx.variable_scope("dense"):
...         return x @ sx.get_variable("w", [2, 3])
>>> model = sx.transform(f)
>>> params = model.init(jax.random.key(0), jnp.ones((1, 2)))
>>> model.apply(params, jnp.ones((1, 2))).shape
(1, 3)
"""

from scopax import errors as errors
from scopax._src.core.initializers import constant_initializer as constant_initializer
from scopax._src.core.initializers import glorot_normal_initializer as glorot_normal_initializer
from scopax._src.core.initializers import glorot_uniform_initializer as glorot_uniform_initializer
from scopax._src.core.initializers import ones_initializer as ones_initializer
from scopax._src.core.initializers import orthogonal_initializer as orthogonal_initializer
from scopax._src.core.initializers import random_normal_initializer as random_normal_initializer
from scopax._src.core.initializers import random_uniform_initializer as random_uniform_initializer
from scopax._src.core.initializers import (
    truncated_normal_initializer as truncated_normal_initializer,
)
from scopax._src.core.initializers import (
    variance_scaling_initializer as variance_scaling_initializer,
)
from scopax._src.core.initializers import zeros_initializer as zeros_initializer
from scopax._src.core.params import Params as Params
from scopax._src.core.params import flatten as flatten
from scopax._src.core.params import unflatten as unflatten
from scopax._src.core.regularizers import get_regularization_loss as get_regularization_loss
from scopax._src.core.regularizers import get_regularization_losses as get_regularization_losses
from scopax._src.core.scope import AUTO_REUSE as AUTO_REUSE
from scopax._src.core.scope import VariableScope as VariableScope
from scopax._src.core.scope import get_variable_scope as get_variable_scope
from scopax._src.core.scope import name_scope as name_scope
from scopax._src.core.scope import variable_scope as variable_scope
from scopax._src.core.state import assign as assign
from scopax._src.core.template import Template as Template
from scopax._src.core.template import make_template as make_template
from scopax._src.core.transform import Transformed as Transformed
from scopax._src.core.transform import TransformedWithState as TransformedWithState
from scopax._src.core.transform import next_rng_key as next_rng_key
from scopax._src.core.transform import transform as transform
from scopax._src.core.transform import transform_with_state as transform_with_state
from scopax._src.core.variables import get_variable as get_variable
from scopax._src.io.checkpoint import restore as restore
from scopax._src.io.checkpoint import save as save
from scopax._src.io.summary import summary as summary
from scopax._src.io.tf_checkpoint import list_tf_checkpoint as list_tf_checkpoint
from scopax._src.io.tf_checkpoint import load_tf_checkpoint as load_tf_checkpoint
from scopax._src.io.tf_checkpoint import restore_from_tf as restore_from_tf
from scopax._src.io.tf_writer import save_tf_checkpoint as save_tf_checkpoint
from scopax._src.lift.sharding import axis_rules as axis_rules
from scopax._src.lift.sharding import param_shardings as param_shardings
from scopax._src.lift.stack import convert_layer_stack as convert_layer_stack
from scopax._src.lift.stack import layer_stack as layer_stack
from scopax._src.lift.transforms import cond as cond
from scopax._src.lift.transforms import remat as remat
from scopax._src.lift.transforms import scan as scan
from scopax._src.lift.transforms import switch as switch
from scopax._src.lift.transforms import vmap as vmap

__version__ = "0.1.0"

__all__ = [
    "AUTO_REUSE",
    "Params",
    "Template",
    "Transformed",
    "TransformedWithState",
    "VariableScope",
    "assign",
    "axis_rules",
    "cond",
    "constant_initializer",
    "convert_layer_stack",
    "flatten",
    "get_regularization_loss",
    "get_regularization_losses",
    "get_variable",
    "get_variable_scope",
    "glorot_normal_initializer",
    "glorot_uniform_initializer",
    "layer_stack",
    "list_tf_checkpoint",
    "load_tf_checkpoint",
    "make_template",
    "name_scope",
    "next_rng_key",
    "ones_initializer",
    "orthogonal_initializer",
    "param_shardings",
    "random_normal_initializer",
    "random_uniform_initializer",
    "remat",
    "restore",
    "restore_from_tf",
    "save",
    "save_tf_checkpoint",
    "scan",
    "summary",
    "switch",
    "transform",
    "transform_with_state",
    "truncated_normal_initializer",
    "unflatten",
    "variable_scope",
    "variance_scaling_initializer",
    "vmap",
    "zeros_initializer",
]

# Last: these are written against the names above, as any user library would be.
from scopax import contrib as contrib
from scopax import layers as layers
from scopax import losses as losses
from scopax import nn as nn
from scopax import train as train
