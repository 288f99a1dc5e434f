"""TF1's ``get_or_create_global_step`` and ``list_variables``."""

from __future__ import annotations

import os
from typing import Any

import jax
import jax.numpy as jnp

import scopax as sx


def get_or_create_global_step() -> jax.Array:
    """The step counter ``global_step``: an int64 state variable, as TF1 makes it.

    Made with zeros and ``trainable=False`` the first time, read afterwards (reuse is
    ``AUTO_REUSE``). As in TF1, it is made in the current variable scope: called at the
    root it is ``global_step``, inside ``variable_scope("Model")`` (TF's PTB tutorial)
    ``Model/global_step``. With JAX's 64-bit mode off it is stored as int32, as every
    64-bit request is. Count steps with ``sx.assign``; the new value comes back in the
    state from ``apply``:

    >>> import jax, jax.numpy as jnp
    >>> import scopax as sx
    >>> from scopax import train
    >>> def step_fn():
    ...     step = train.get_or_create_global_step()
    ...     sx.assign(step, step + 1)  # TF1: minimize(loss, global_step=step)
    ...     return step
    >>> model = sx.transform_with_state(step_fn)
    >>> params, state = model.init(jax.random.key(0))
    >>> step, state = model.apply(params, state)
    >>> int(step), int(state["global_step"])
    (0, 1)

    TF1 keeps one per graph, in a collection, whichever scope asks again; scopax has
    no collections, so ask for it in one scope (the one TF's checkpoint names).

    Returns:
      The current value of ``global_step`` in this trace.

    Raises:
      NotInTransformError: called outside a transformed function.
      NonTrainableInTransformError: called under ``sx.transform``; use
        ``sx.transform_with_state``.
    """
    try:
        here = sx.variable_scope(sx.get_variable_scope(), reuse=sx.AUTO_REUSE)
        with here:
            return sx.get_variable(
                "global_step",
                [],
                jnp.int64,
                initializer=sx.zeros_initializer(),
                trainable=False,
            )
    except sx.errors.NotInTransformError:
        raise sx.errors.NotInTransformError("scopax.train.get_or_create_global_step") from None


def list_variables(ckpt_path: str | os.PathLike[str]) -> list[tuple[str, list[int]]]:
    """The names and shapes in a TF1 checkpoint, as TF1's ``tf.train.list_variables``.

    >>> from scopax import train
    >>> for name, shape in train.list_variables("tests/fixtures/tf_train/adam_ckpt")[:4]:
    ...     print(name, shape)
    beta1_power []
    beta2_power []
    global_step []
    net/b [2]

    Args:
      ckpt_path: a checkpoint prefix, its ``.index`` file, or a directory with TF's
        ``checkpoint`` file (see :func:`scopax.list_tf_checkpoint`).

    Returns:
      A list of ``(name, shape)`` pairs sorted by name, each shape a list of ints.
    """
    listed: dict[str, Any] = sx.list_tf_checkpoint(ckpt_path)
    return sorted((name, [int(d) for d in shape]) for name, (shape, _) in listed.items())
