"""``tf.initializers``: TF1's initializers under their short names (``glorot_uniform``, ...).

Each is the scopax initializer of the same meaning; call it to get the initializer, as in
TF1: ``tf.get_variable("w", [3, 4], initializer=tf.initializers.he_normal())``.

>>> import jax, scopax as sx, scopax.compat.v1 as tf
>>> def f():
...     return tf.get_variable("w", [3, 4], initializer=tf.initializers.truncated_normal(0.0, 0.1))
>>> bool((abs(sx.transform(f).init(jax.random.key(0))["w"]) <= 0.2).all())
True
"""

from __future__ import annotations

import difflib
from typing import Any

import scopax as sx
from scopax import errors

constant = sx.constant_initializer
zeros = sx.zeros_initializer
ones = sx.ones_initializer
random_normal = sx.random_normal_initializer
random_uniform = sx.random_uniform_initializer
truncated_normal = sx.truncated_normal_initializer
glorot_uniform = sx.glorot_uniform_initializer
glorot_normal = sx.glorot_normal_initializer
variance_scaling = sx.variance_scaling_initializer
orthogonal = sx.orthogonal_initializer


def he_normal(seed: int | None = None) -> Any:
    """TF1's ``he_normal``: ``variance_scaling(2.0, "fan_in", "truncated_normal")``.

    >>> import scopax.compat.v1 as tf
    >>> init = tf.initializers.he_normal()
    >>> init.scale, init.mode, init.distribution
    (2.0, 'fan_in', 'truncated_normal')
    """
    return sx.variance_scaling_initializer(2.0, "fan_in", "truncated_normal", seed)


def he_uniform(seed: int | None = None) -> Any:
    """TF1's ``he_uniform``: ``variance_scaling(2.0, "fan_in", "uniform")``.

    >>> import scopax.compat.v1 as tf
    >>> init = tf.initializers.he_uniform()
    >>> init.scale, init.mode, init.distribution
    (2.0, 'fan_in', 'uniform')
    """
    return sx.variance_scaling_initializer(2.0, "fan_in", "uniform", seed)


def lecun_normal(seed: int | None = None) -> Any:
    """TF1's ``lecun_normal``: ``variance_scaling(1.0, "fan_in", "truncated_normal")``.

    >>> import scopax.compat.v1 as tf
    >>> init = tf.initializers.lecun_normal()
    >>> init.scale, init.mode, init.distribution
    (1.0, 'fan_in', 'truncated_normal')
    """
    return sx.variance_scaling_initializer(1.0, "fan_in", "truncated_normal", seed)


def lecun_uniform(seed: int | None = None) -> Any:
    """TF1's ``lecun_uniform``: ``variance_scaling(1.0, "fan_in", "uniform")``.

    >>> import scopax.compat.v1 as tf
    >>> init = tf.initializers.lecun_uniform()
    >>> init.scale, init.mode, init.distribution
    (1.0, 'fan_in', 'uniform')
    """
    return sx.variance_scaling_initializer(1.0, "fan_in", "uniform", seed)


__all__ = [
    "constant",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "lecun_normal",
    "lecun_uniform",
    "ones",
    "orthogonal",
    "random_normal",
    "random_uniform",
    "truncated_normal",
    "variance_scaling",
    "zeros",
]

_GRAPH_ONLY = {
    "global_variables": "params = model.init(key, *args) makes every variable's initial value.",
    "local_variables": "model.init of sx.transform_with_state makes the state's initial values.",
    "variables": "params = model.init(key, *args) makes every variable's initial value.",
    "tables_initializer": "build lookup tables in NumPy before the model, and pass ids in.",
}


def __getattr__(name: str) -> Any:
    if name in _GRAPH_ONLY:
        raise errors.GraphOnlyError(f"initializers.{name}", _GRAPH_ONLY[name])
    close = difflib.get_close_matches(name, __all__, n=1)
    hint = f"; did you mean tf.initializers.{close[0]}?" if close else ""
    raise AttributeError(
        f"scopax.compat.v1.initializers has no {name!r}{hint} It offers: {', '.join(__all__)}."
    )
