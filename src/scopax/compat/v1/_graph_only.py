"""What TF1 does with a graph and a session: refused with the way to do it instead, or,
for the few graph ideas that mean nothing once ops run in order, a no-op.

``GRAPH_ONLY`` and ``ELSEWHERE`` are what ``scopax.compat.v1`` says for names it does not
offer; docs/for_tf1_users.md lists both tables.
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import Iterator
from typing import Any

import jax
import numpy as np

from scopax import errors

_RUN = (
    "call params = model.init(key, *args) once, then model.apply(params, *args) for each "
    "run (wrap it in jax.jit), with model = sx.transform(fn)."
)
_INIT = "params = model.init(key, *args) makes every variable's initial value."
_LIST = (
    "sx.flatten(params) maps every trainable variable's full name to its value, and "
    "sx.flatten(state) the trainable=False ones (sx.transform_with_state)."
)
_FEED = (
    "make it an argument of the function given to sx.transform, and pass its value to "
    "model.init and model.apply."
)
_QUEUE = (
    "feed batches from a Python iterator (NumPy, or a tf.data pipeline outside the model) "
    "into model.apply."
)
_GRAPH = (
    "there is no graph: each model.init or model.apply call runs the function afresh and "
    "keeps nothing between calls."
)
_CALLBACK = "call NumPy code through jax.pure_callback, or outside the jitted model.apply."
_CONFIG = "there is no session to configure; set JAX's options with jax.config."

# TF1 name -> what to do instead. Each raises GraphOnlyError on access.
GRAPH_ONLY: dict[str, str] = {
    "placeholder": _FEED,
    "placeholder_with_default": "make it an argument with a default value of the model function.",
    "sparse_placeholder": _FEED,
    "Session": _RUN,
    "InteractiveSession": _RUN,
    "global_variables_initializer": _INIT,
    "initialize_all_variables": _INIT,
    "variables_initializer": _INIT,
    "local_variables_initializer": "model.init of sx.transform_with_state makes the "
    "trainable=False variables' initial values too (the state).",
    "tables_initializer": "build lookup tables in NumPy before the model, and pass ids in.",
    "global_variables": _LIST,
    "trainable_variables": _LIST,
    "local_variables": _LIST,
    "all_variables": _LIST,
    "model_variables": _LIST,
    "moving_average_variables": _LIST,
    "get_collection": _LIST + " sx.get_regularization_losses() gives the regularization losses.",
    "get_collection_ref": _LIST,
    "add_to_collection": "return the value from the model function: model.apply returns "
    "whatever the function returns.",
    "add_to_collections": "return the values from the model function: model.apply returns "
    "whatever the function returns.",
    "GraphKeys": _LIST,
    "py_func": _CALLBACK,
    "numpy_function": _CALLBACK,
    "FIFOQueue": _QUEUE,
    "PaddingFIFOQueue": _QUEUE,
    "RandomShuffleQueue": _QUEUE,
    "QueueBase": _QUEUE,
    "summary": "return the values to log from the model function and write them with "
    "your own logger; sx.summary(params) prints a table of the variables.",
    "get_default_graph": _GRAPH,
    "reset_default_graph": _GRAPH,
    "Graph": _GRAPH,
    "set_random_seed": "pass a key to model.init(key, ...) and model.apply(..., rng=key): "
    "every random value comes from it.",
    "ConfigProto": _CONFIG,
    "GPUOptions": _CONFIG,
    "RunOptions": _CONFIG,
    "RunMetadata": _CONFIG,
}

# TF1 names that scopax offers elsewhere, or not at all: an AttributeError says where.
ELSEWHERE: dict[str, str] = {
    "string": "JAX arrays hold numbers only; turn strings into integer ids (a vocabulary "
    "lookup in NumPy) before they reach the model.",
    "SparseTensor": "scopax ops take dense arrays; densify the values first.",
    "cond": "use sx.cond (its branches may create variables) or jax.lax.cond.",
    "case": "use sx.switch (its branches may create variables) or jax.lax.switch.",
    "while_loop": "use sx.scan for a loop whose body creates variables, else "
    "jax.lax.while_loop or jax.lax.fori_loop.",
    "scan": "use sx.scan (its body may create variables) or jax.lax.scan.",
    "map_fn": "use jax.vmap, or sx.vmap when the function creates variables.",
    "gradients": "take gradients of a function of the parameters with jax.grad, e.g. "
    "jax.grad(loss)(params) with loss = lambda p: model.apply(p, *args).",
}


_SAVE = (
    "save and restore the trees with sx.save / sx.restore, and read TF1 checkpoints with "
    "sx.restore_from_tf."
)
_LOOP = "write the training loop in Python: one jitted step per batch, its state returned."

# tf.train's graph-only names: tf.train forwards to scopax.train, and these raise.
TRAIN_GRAPH_ONLY: dict[str, str] = {
    "Saver": _SAVE,
    "import_meta_graph": _SAVE,
    "export_meta_graph": _SAVE,
    "write_graph": _GRAPH,
    "init_from_checkpoint": "after params = model.init(...), call "
    "params = sx.restore_from_tf(params, path, assignment_map).",
    "Supervisor": _LOOP,
    "MonitoredSession": _LOOP,
    "MonitoredTrainingSession": _LOOP,
    "Scaffold": _LOOP,
    "SessionRunHook": _LOOP,
    "Coordinator": _QUEUE,
    "QueueRunner": _QUEUE,
    "start_queue_runners": _QUEUE,
    "batch": _QUEUE,
    "shuffle_batch": _QUEUE,
    "string_input_producer": _QUEUE,
    "replica_device_setter": "shard the parameters with sx.param_shardings instead.",
}


def graph_only(name: str) -> errors.GraphOnlyError:
    return errors.GraphOnlyError(name, GRAPH_ONLY[name])


class GraphAwareNamespace(types.ModuleType):
    """A scopax module as ``tf.<name>`` sees it: every name of the module, and
    ``GraphOnlyError`` for TF1's graph-only names that the module does not have.

    >>> import scopax.compat.v1 as tf
    >>> tf.train.Saver()
    Traceback (most recent call last):
      ...
    scopax.errors.GraphOnlyError: tf.train.Saver needs a TF1 graph and session, ...
    """

    def __init__(self, prefix: str, module: types.ModuleType, refused: dict[str, str]):
        super().__init__(module.__name__, module.__doc__)
        self._prefix = prefix
        self._module = module
        self._refused = refused

    def __getattr__(self, name: str) -> Any:
        try:
            return getattr(self._module, name)
        except AttributeError:
            if name not in self._refused:
                raise
        raise errors.GraphOnlyError(f"{self._prefix}.{name}", self._refused[name])

    def __dir__(self) -> list[str]:
        return dir(self._module)


@contextlib.contextmanager
def device(device_name_or_function: Any) -> Iterator[None]:
    """A no-op context manager: JAX, not the model code, places the arrays.

    Place arrays with ``jax.device_put`` or shard them (``sx.param_shardings``) instead.

    >>> import scopax.compat.v1 as tf
    >>> with tf.device("/gpu:0"):
    ...     y = tf.ones([2]) * 2
    """
    if not (
        device_name_or_function is None
        or isinstance(device_name_or_function, str)
        or callable(device_name_or_function)
    ):
        raise errors.OpArgumentError(
            "device",
            f"device_name_or_function={device_name_or_function!r}",
            'pass a device string such as "/cpu:0", a function, or None.',
        )
    yield


@contextlib.contextmanager
def control_dependencies(control_inputs: Any) -> Iterator[None]:
    """A no-op context manager: in JAX every value is computed before what uses it.

    A state update made with ``tf.assign`` inside reaches the new state whether or not
    anything depends on it.

    >>> import scopax.compat.v1 as tf
    >>> x = tf.ones([2])
    >>> with tf.control_dependencies([x]):
    ...     y = tf.identity(x)
    """
    if control_inputs is not None and not isinstance(control_inputs, list | tuple):
        raise errors.OpArgumentError(
            "control_dependencies",
            f"control_inputs={control_inputs!r}",
            "pass a list of values (or None).",
        )
    yield


def assert_less_equal(
    x: Any,
    y: Any,
    data: Any = None,
    summarize: Any = None,
    message: str | None = None,
    name: str | None = None,
) -> None:
    """Checks ``x <= y`` where the values are known when the function is traced; returns None.

    TF1 checks statically known values when it builds the graph, and the rest when the
    assert op runs. Here the values that are not arrays being traced (Python numbers,
    NumPy arrays, shapes) are checked at once and raise ``ValueError``, as TF1 raises at
    graph construction; traced values are not checked (wrap the function with
    ``jax.experimental.checkify`` for that). Use the ``None`` it returns like TF1's op, in
    ``tf.control_dependencies``.

    >>> import scopax.compat.v1 as tf
    >>> with tf.control_dependencies([tf.assert_less_equal(7, 512)]):
    ...     y = tf.identity(tf.ones([2]))
    >>> tf.assert_less_equal(513, 512, message="too long")
    Traceback (most recent call last):
    ...
    ValueError: too long Condition x <= y did not hold: x = 513, y = 512.
    """
    del data, summarize, name
    try:
        x_value, y_value = np.asarray(x), np.asarray(y)
    except (TypeError, jax.errors.TracerArrayConversionError):
        return None  # Traced: known only when the function runs.
    if not bool(np.all(x_value <= y_value)):
        prefix = f"{message} " if message else ""
        raise ValueError(f"{prefix}Condition x <= y did not hold: x = {x}, y = {y}.")
    return None


def no_op(name: str | None = None) -> None:
    """Does nothing and returns None (TF1: an op to run for its control dependencies).

    >>> import scopax.compat.v1 as tf
    >>> tf.no_op() is None
    True
    """
    del name


def group(*inputs: Any, **kwargs: Any) -> None:
    """Returns None: in JAX, the values computed are the results; there is nothing to group.

    TF1 code that runs ``sess.run(tf.group(update_a, update_b))`` gets both updates from
    ``model.apply`` (``tf.assign`` updates come back in the new state).

    >>> import scopax.compat.v1 as tf
    >>> tf.group(tf.ones([1]), tf.zeros([1]), name="train_op") is None
    True
    """
    del inputs
    unknown = set(kwargs) - {"name"}
    if unknown:
        raise errors.OpArgumentError(
            "group", f"{sorted(unknown)}", "TF1's group takes only name=; drop the others."
        )
