"""Where each TensorFlow module goes in scopax, and what a person must do where none fits.

The table is data, not code, so that one place says which TF paths scopax covers: the
import rewriter and the report both read it. ``tf_path`` goes the other way, so that the
report recognises ``tf.placeholder`` in a file ported before as well as in TF1 code.
"""

from __future__ import annotations

from dataclasses import dataclass

COMPAT = "scopax.compat.v1"

# TF module -> the scopax module with the same names (API.md: one meaning per name).
_MODULES = {
    "tensorflow": COMPAT,
    "tensorflow.compat": "scopax.compat",
    "tensorflow.compat.v1": COMPAT,
    "tensorflow.nn": "scopax.nn",
    "tensorflow.nn.rnn_cell": "scopax.nn.rnn_cell",
    "tensorflow.layers": "scopax.layers",
    "tensorflow.losses": "scopax.losses",
    "tensorflow.train": "scopax.train",
    "tensorflow.contrib": "scopax.contrib",
    "tensorflow.contrib.rnn": "scopax.contrib.rnn",
    "tensorflow.contrib.layers": "scopax.contrib.layers",
    "tensorflow.contrib.seq2seq": "scopax.contrib.seq2seq",
    "tensorflow.contrib.legacy_seq2seq": "scopax.contrib.legacy_seq2seq",
    # TF-internal modules whose names are public TF names: the public module that has them.
    "tensorflow.python.ops.rnn_cell_impl": "scopax.nn.rnn_cell",
    "tensorflow.python.ops.rnn_cell": "scopax.nn.rnn_cell",
    "tensorflow.python.ops.rnn": "scopax.nn",
    "tensorflow.python.ops.nn": "scopax.nn",
    "tensorflow.python.ops.nn_ops": "scopax.nn",
    "tensorflow.python.ops.nn_impl": "scopax.nn",
    "tensorflow.python.ops.array_ops": COMPAT,
    "tensorflow.python.ops.math_ops": COMPAT,
    "tensorflow.python.ops.init_ops": COMPAT,
    "tensorflow.python.ops.random_ops": COMPAT,
    "tensorflow.python.ops.clip_ops": COMPAT,
    "tensorflow.python.ops.variable_scope": COMPAT,
    "tensorflow.python.framework.ops": COMPAT,  # name_scope, control_dependencies, ...
    "tensorflow.python.layers.core": "scopax.layers",
    "tensorflow.python.ops.losses.losses": "scopax.losses",
    # Where TF 0.x kept the RNN code that became tf.nn.rnn_cell and legacy_seq2seq.
    "tensorflow.models.rnn.rnn_cell": "scopax.nn.rnn_cell",
    "tensorflow.models.rnn.rnn": "scopax.nn",
    "tensorflow.models.rnn.seq2seq": "scopax.contrib.legacy_seq2seq",
}


@dataclass(frozen=True)
class Unsupported:
    """A TF module with no scopax counterpart: what it is, and what to write instead."""

    what: str
    instead: str


# Longest prefix first wins; a path under none of them is a generic unsupported module.
_UNSUPPORTED = {
    "tensorflow.contrib.slim": Unsupported(
        "tf.contrib.slim is not in scopax",
        "write its layers as tf.layers calls and its arg_scope as explicit arguments",
    ),
    "tensorflow.contrib": Unsupported(
        "a tf.contrib module that scopax does not have",
        "tf.layers, tf.nn or plain JAX",
    ),
    "tensorflow.compat.v2": Unsupported(
        "TF2's API", "scopax ports TF1 code: write it with import scopax.compat.v1 as tf"
    ),
    "tensorflow.keras": Unsupported(
        "Keras is not in scopax", "tf.layers (scopax.layers) inside the model function"
    ),
    "tensorflow.python.util.nest": Unsupported(
        "TF's internal nest", "jax.tree_util (tree_map, tree_flatten, tree_unflatten)"
    ),
    "tensorflow.python": Unsupported(
        "a TF-internal module", "its public name: import scopax.compat.v1 as tf"
    ),
}

# The scopax side, so that already-ported files are read with the same names.
_SCOPAX_TF_PATHS = {
    "scopax.contrib": "contrib",
    "scopax.nn": "nn",
    "scopax.layers": "layers",
    "scopax.losses": "losses",
    "scopax.train": "train",
}


def translate(path: str) -> str | Unsupported:
    """The scopax module for the TF module ``path``, or why there is none.

    >>> translate("tensorflow.contrib.rnn")
    'scopax.contrib.rnn'
    >>> translate("tensorflow.contrib.slim").what
    'tf.contrib.slim is not in scopax'
    """
    if path in _MODULES:
        return _MODULES[path]
    if path.startswith("tensorflow.compat.v1."):
        return translate("tensorflow." + path.removeprefix("tensorflow.compat.v1."))
    for prefix in sorted(_UNSUPPORTED, key=len, reverse=True):
        if path == prefix or path.startswith(prefix + "."):
            return _UNSUPPORTED[prefix]
    return Unsupported(
        f"{path} has no scopax module", "its names from scopax.compat.v1 (import ... as tf)"
    )


def is_tf(path: str) -> bool:
    """Whether the dotted module ``path`` is TensorFlow."""
    return path == "tensorflow" or path.startswith("tensorflow.")


def tf_path(module: str) -> str | None:
    """The TF name (relative to ``tf``) of a TF or scopax module; None for any other.

    ``""`` is the ``tf`` namespace itself. Internal modules count as the public namespace
    that holds their names, so ``math_ops.reduce_sum`` reads as ``reduce_sum``.

    >>> tf_path("tensorflow.compat.v1"), tf_path("scopax.contrib.rnn"), tf_path("numpy")
    ('', 'contrib.rnn', None)
    """
    if is_tf(module):
        target = translate(module)
        if isinstance(target, Unsupported):
            return module.removeprefix("tensorflow").lstrip(".")
        module = target
    if module == COMPAT:
        return ""
    if module.startswith(COMPAT + "."):
        return module.removeprefix(COMPAT + ".")
    if module == "scopax.compat":
        return "compat"
    for prefix, name in _SCOPAX_TF_PATHS.items():
        if module == prefix or module.startswith(prefix + "."):
            return name + module.removeprefix(prefix)
    return None
