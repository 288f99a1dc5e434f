"""What each kind of graph code is, and what to write instead: the report's wording.

Data, kept apart from the visitor that finds the places (:mod:`scopax.port._findings`),
so that the whole vocabulary of the report reads in one place.
"""

from __future__ import annotations

import re

from scopax.port._modules import Unsupported, translate

_PLACEHOLDER = ("a graph input", "an argument of the model function")
_SESSION = ("a session", "no session: model = sx.transform(fn), then model.init and model.apply")
_INIT = ("an initializer op", "params = model.init(key, *args)")
_LOCAL_INIT = (
    "an initializer op",
    "params, state = model.init(key, *args), with sx.transform_with_state",
)
_SEED = ("a graph-level seed", "a key: model.init(key, *args), model.apply(..., rng=key)")
_QUEUE = ("an input queue", "a Python iterator of NumPy batches, passed to model.apply")
_SAVER = (
    "a Saver",
    "sx.save(path, params) and sx.restore(path); "
    "sx.restore_from_tf(params, path) for TF checkpoints",
)
_SUMMARY = (
    "a summary op",
    "return the value from the step function and log it outside jit "
    "(sx.summary(params) tabulates the variables)",
)
_GRAPH = ("the graph", "nothing: scopax builds no graph; delete it")
_COLLECTION = ("a variable collection", "sx.flatten(params)")
_GRADIENTS = ("graph gradients", "jax.grad of a function of params")
_INIT_FROM = (
    "an init-from-checkpoint op",
    "params = sx.restore_from_tf(params, path, assignment_map)",
)
RUN = ("running the graph", "model.apply(params, *args), under jax.jit")
_SWITCH = ("a TF2 behaviour switch", "nothing: scopax.compat.v1 is TF1 already; delete it")
TRAIN = (
    "a graph training op",
    "jax.grad of the loss, then opt.update (tf.train's optimizers are optax transformations)",
)
FEED = ("a feed", "pass the values as arguments of model.apply")

# TF name -> (what it is, what to write instead). A name ending in ".*" covers the
# namespace and everything under it.
GRAPH_NAMES: dict[str, tuple[str, str]] = {
    **dict.fromkeys(["placeholder", "sparse_placeholder"], _PLACEHOLDER),
    "placeholder_with_default": (_PLACEHOLDER[0], _PLACEHOLDER[1] + ", with a default value"),
    **dict.fromkeys(
        [
            "Session",
            "InteractiveSession",
            "get_default_session",
            "train.MonitoredSession",
            "train.MonitoredTrainingSession",
            "train.SingularMonitoredSession",
        ],
        _SESSION,
    ),
    **dict.fromkeys(
        [
            "global_variables_initializer",
            "initialize_all_variables",
            "variables_initializer",
            "initialize_variables",
            "tables_initializer",
        ],
        _INIT,
    ),
    **dict.fromkeys(
        [
            "FIFOQueue",
            "RandomShuffleQueue",
            "PaddingFIFOQueue",
            "PriorityQueue",
            "QueueBase",
            "TFRecordReader",
            "TextLineReader",
            "WholeFileReader",
            "FixedLengthRecordReader",
            "train.batch",
            "train.batch_join",
            "train.shuffle_batch",
            "train.shuffle_batch_join",
            "train.string_input_producer",
            "train.slice_input_producer",
            "train.input_producer",
            "train.range_input_producer",
            "train.start_queue_runners",
            "train.QueueRunner",
            "train.add_queue_runner",
            "train.Coordinator",
        ],
        _QUEUE,
    ),
    "train.Saver": _SAVER,
    "train.init_from_checkpoint": _INIT_FROM,
    **dict.fromkeys(
        [
            "summary.*",
            "scalar_summary",
            "histogram_summary",
            "image_summary",
            "merge_summary",
            "merge_all_summaries",
            "train.SummaryWriter",
        ],
        _SUMMARY,
    ),
    **dict.fromkeys(["local_variables_initializer", "initialize_local_variables"], _LOCAL_INIT),
    **dict.fromkeys(["Graph", "get_default_graph", "reset_default_graph"], _GRAPH),
    "set_random_seed": _SEED,
    **dict.fromkeys(
        [
            "disable_v2_behavior",
            "enable_v2_behavior",
            "disable_eager_execution",
            "enable_eager_execution",
            "disable_resource_variables",
            "enable_resource_variables",
            "disable_v2_tensorshape",
            "enable_v2_tensorshape",
        ],
        _SWITCH,
    ),
    **dict.fromkeys(
        [
            "global_variables",
            "all_variables",
            "trainable_variables",
            "local_variables",
            "get_collection",
        ],
        _COLLECTION,
    ),
    "gradients": _GRADIENTS,
}

# Optimizer methods that build graph ops from a loss tensor and the graph's variables.
TRAINING_METHODS = ("minimize", "compute_gradients", "apply_gradients")
SESSION_NAMES = {name for name, kind in GRAPH_NAMES.items() if kind is _SESSION}
# ``sess``, ``self.session``, ``train_sess``: what TF1 code calls its sessions.
SESSION_SPELLING = re.compile(r"^_?(sess|session)$|_(sess|session)$")
SHAPE_CHECKS = {
    "with_rank": "assert {x}.ndim == {n}",
    "assert_has_rank": "assert {x}.ndim == {n}",
    "with_rank_at_least": "assert {x}.ndim >= {n}",
    "with_rank_at_most": "assert {x}.ndim <= {n}",
    "assert_is_compatible_with": "an assert on {x}.shape",
    "is_compatible_with": "a comparison of {x}.shape",
    "assert_same_rank": "an assert on {x}.ndim",
    "merge_with": "{x}.shape (JAX shapes are always fully known)",
    "is_fully_defined": "True (JAX shapes are always fully known)",
}


def graph_kind(name: str) -> tuple[str, str] | None:
    if name in GRAPH_NAMES:
        return GRAPH_NAMES[name]
    for pattern, kind in GRAPH_NAMES.items():
        stem = pattern.removesuffix(".*")
        if pattern.endswith(".*") and (name == stem or name.startswith(stem + ".")):
            return kind
    return None


def unsupported_namespace(name: str) -> tuple[str, str] | None:
    """``tf.contrib.slim.conv2d``, ``tf.keras.layers``: a namespace scopax does not have."""
    parts = name.split(".")
    if parts[0] not in ("contrib", "keras") or (parts[0] == "contrib" and len(parts) < 2):
        return None
    target = translate("tensorflow." + ".".join(parts[: 2 if parts[0] == "contrib" else 1]))
    return (target.what, target.instead) if isinstance(target, Unsupported) else None
