"""Every error scopax raises, with its message, in one place.

Each misuse has its own class so that callers can catch exactly it, and each
subclasses ``ValueError`` or ``TypeError`` so that code written against TF1's
exceptions keeps working. Messages name the variable, say why, and show the fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def _rebuild(cls: type[ScopaxError], args: tuple[Any, ...], state: dict[str, Any]) -> ScopaxError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class ScopaxError(Exception):
    """Base class of every error scopax raises on a misuse.

    Errors survive ``pickle`` (multiprocessing, pytest-xdist, async checkpointing) with
    their message and attributes, though their constructors take other arguments than the
    message: they are rebuilt without calling ``__init__``.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


class VariableExistsError(ScopaxError, ValueError):
    """``get_variable`` in a non-reusing scope found the name already taken."""

    def __init__(self, name: str):
        self.name = name
        super().__init__(
            f"Variable {name} already exists; did you mean to set reuse=True or "
            "reuse=sx.AUTO_REUSE in variable_scope?"
        )


class VariableNotFoundError(ScopaxError, ValueError):
    """``get_variable`` in a reusing scope found no such variable in this trace."""

    def __init__(self, name: str):
        self.name = name
        super().__init__(
            f"Variable {name} does not exist, so it cannot be reused; create it first in a "
            "scope with reuse=False, or set reuse=sx.AUTO_REUSE in variable_scope to create "
            "it when missing."
        )


class ShapeMismatchError(ScopaxError, ValueError):
    """A reused variable was requested with another shape."""

    def __init__(self, name: str, requested: tuple[int, ...], existing: tuple[int, ...]):
        self.name = name
        self.requested = requested
        self.existing = existing
        super().__init__(
            f"Trying to share variable {name}, but specified shape {requested} and found "
            f"shape {existing}; pass shape={existing} or omit shape when reusing it."
        )


class DtypeMismatchError(ScopaxError, ValueError):
    """A reused variable was requested with another dtype."""

    def __init__(self, name: str, requested: Any, existing: Any):
        self.name = name
        self.requested = requested
        self.existing = existing
        super().__init__(
            f"Trying to share variable {name}, but specified dtype {requested} and found "
            f"dtype {existing}; pass dtype=jnp.{existing} or omit dtype when reusing it."
        )


class NameConflictError(ScopaxError, ValueError):
    """A name is used both as a variable and as a scope (``a`` and ``a/b``)."""

    def __init__(self, name: str, other: str):
        self.name = name
        self.other = other
        super().__init__(
            f"Variable {name} conflicts with {other}: a name cannot be both a variable and a "
            "variable scope; rename one of them."
        )


class ShapeRequiredError(ScopaxError, ValueError):
    """A variable was created with a callable initializer but no shape."""

    def __init__(self, name: str):
        self.name = name
        super().__init__(
            f"Shape of a new variable ({name}) must be fully defined, but is None; pass "
            f'shape=, e.g. sx.get_variable("{name.rsplit("/", 1)[-1]}", [3, 4]), or a concrete '
            "array as initializer."
        )


class ShapeTypeError(ScopaxError, TypeError):
    """A shape is not a sequence of integers (a float, a string, a bool...)."""

    def __init__(self, name: str, shape: Any, why: str):
        self.name = name
        self.shape = shape
        super().__init__(
            f"Variable {name} got shape={shape!r}: {why}; pass a list or tuple of ints, "
            "e.g. shape=[3, 4]."
        )


class InvalidShapeError(ScopaxError, ValueError):
    """A shape has a negative dimension, or more elements than an array can hold."""

    def __init__(self, name: str, shape: Any, why: str):
        self.name = name
        self.shape = shape
        super().__init__(f"Variable {name} got shape={shape!r}: {why}.")


class InitializerShapeError(ScopaxError, ValueError):
    """A concrete-array initializer's shape disagrees with ``shape``, or an initializer
    returned an array of the wrong shape."""

    def __init__(self, name: str, expected: tuple[int, ...], got: tuple[int, ...], what: str):
        self.name = name
        self.expected = expected
        self.got = got
        super().__init__(
            f"Variable {name} has shape {expected}, but {what} has shape {got}; make the "
            "shape argument and the initializer agree."
        )


class InitializerDtypeError(ScopaxError, ValueError):
    """An initializer returned an array of the wrong dtype."""

    def __init__(self, name: str, expected: Any, got: Any):
        self.name = name
        self.expected = expected
        self.got = got
        super().__init__(
            f"Variable {name} has dtype {expected}, but its initializer returned dtype {got}; "
            "the initializer must honour its dtype argument: f(key, shape, dtype) -> Array."
        )


class InitializerSignatureError(ScopaxError, TypeError):
    """An initializer could not be called as ``f(key, shape, dtype)``."""

    def __init__(self, name: str, initializer: Any, cause: BaseException):
        self.name = name
        self.initializer = initializer
        super().__init__(
            f"The initializer of variable {name} ({initializer!r}) cannot be called as "
            f"initializer(key, shape, dtype): {cause}. Pass a function of that signature "
            "(any jax.nn.initializers function works) or a concrete array."
        )


class InvalidInitializerArgumentError(ScopaxError, ValueError):
    """An initializer was built with arguments it cannot honour."""


class MissingParamError(ScopaxError, ValueError):
    """``apply`` was given a parameter tree that lacks a variable the function reads."""

    def __init__(self, name: str, collection: str = "params", found_in: str | None = None):
        self.name = name
        self.collection = collection
        self.found_in = found_in
        if found_in is None:
            fix = (
                "pass the tree that init returned for this function, or check the variable's "
                "name and scopes."
            )
        else:
            kind = "trainable=False (state)" if collection == "state" else "trainable=True"
            fix = (
                f"it is in the {found_in} instead, but this function gets it with {kind}. "
                f"Move it to the {collection} tree (init returns (params, state) already split), "
                "or change its trainable= argument."
            )
        super().__init__(f"Variable {name} is not in the {collection} given to apply; {fix}")


class ParamTypeError(ScopaxError, TypeError):
    """A parameter tree holds a leaf that is not an array, or a key that is not a string."""

    def __init__(self, name: str, collection: str, leaf: Any):
        self.name = name
        self.collection = collection
        super().__init__(
            f"Variable {name} in the {collection} given to apply is a {type(leaf).__name__}, "
            "not an array; every leaf must be a jax.Array or numpy array "
            "(jax.tree_util.tree_map(jnp.asarray, tree) converts one)."
        )


class TreeArgumentError(ScopaxError, TypeError):
    """Something that is not a parameter tree was passed where one is expected."""

    def __init__(self, argument: str, got: Any, fix: str):
        self.argument = argument
        super().__init__(
            f"{argument} must be a parameter tree (a Mapping, such as init returns), got "
            f"{type(got).__name__}; {fix}"
        )


class ParamShapeError(ScopaxError, ValueError):
    """``apply``'s parameter tree holds a variable with another shape."""

    def __init__(self, name: str, expected: tuple[int, ...], got: tuple[int, ...]):
        self.name = name
        self.expected = expected
        self.got = got
        super().__init__(
            f"Variable {name} has shape {got} in the tree given to apply, but the function "
            f"asks for shape {expected}; pass the tree that init returned for these inputs."
        )


class ParamDtypeError(ScopaxError, ValueError):
    """``apply``'s parameter tree holds a variable with another dtype."""

    def __init__(self, name: str, expected: Any, got: Any):
        self.name = name
        self.expected = expected
        self.got = got
        super().__init__(
            f"Variable {name} has dtype {got} in the tree given to apply, but the function "
            f"asks for dtype {expected}; cast the tree (e.g. jax.tree_util.tree_map) or pass "
            "dtype= to get_variable."
        )


class NotInTransformError(ScopaxError, ValueError):
    """A scopax call that needs a trace was made outside ``init``/``apply``."""

    def __init__(self, what: str):
        self.what = what
        super().__init__(
            f"{what} must be called inside a function transformed by sx.transform or "
            "sx.transform_with_state, and run through its init or apply: "
            "model = sx.transform(fn); params = model.init(rng, x)."
        )


class MissingRngError(ScopaxError, ValueError):
    """``next_rng_key`` was called but no ``rng`` was given."""

    def __init__(self) -> None:
        super().__init__(
            "sx.next_rng_key() needs a random key, but apply was called without one; pass "
            "rng=jax.random.key(...) to apply, e.g. model.apply(params, x, rng=key)."
        )


class JittedFunctionError(ScopaxError, TypeError):
    """An already-jitted function was passed to ``transform``."""

    def __init__(self, fn: Any):
        self.fn = fn
        super().__init__(
            f"sx.transform got a jax.jit-compiled function ({fn!r}); its variables would be "
            "created inside jit's own trace and leak. Transform the plain function and jit the "
            "result instead: jax.jit(sx.transform(fn).apply)."
        )


class InnerTraceError(ScopaxError, ValueError):
    """A variable was created (or state assigned) inside a raw JAX transform body."""

    def __init__(self, name: str, what: str = "created"):
        self.name = name
        if what == "assigned":
            fix = (
                "State can only be assigned in the function's own trace, including around "
                "scopax's lifted transforms (sx.scan, sx.vmap, sx.remat...): return the new value "
                "from the body (e.g. in the scan carry) and call sx.assign after it."
            )
        else:
            fix = (
                "Create the variable before the loop (call get_variable outside the body and "
                "close over it), or use scopax's lifted transforms (sx.scan, sx.cond, sx.vmap, "
                "sx.remat) that handle variables in their bodies."
            )
        super().__init__(
            f"Variable {name} is {what} inside a jax.lax.scan / cond / while_loop / jax.vmap "
            "body (or another JAX transform) nested in the transformed function; its value "
            f"would leak out of that trace. {fix}"
        )


class NonTrainableInTransformError(ScopaxError, ValueError):
    """A ``trainable=False`` variable was requested under plain ``transform``."""

    def __init__(self, name: str):
        self.name = name
        super().__init__(
            f"Variable {name} is not trainable (trainable=False), which makes it state; "
            "sx.transform has no state. Use sx.transform_with_state, whose init returns "
            "(params, state) and whose apply returns (out, new_state)."
        )


class AssignError(ScopaxError, ValueError):
    """``assign`` was given something that is not a non-trainable variable of this trace."""

    def __init__(self, target: str, why: str):
        self.target = target
        self.name = target
        super().__init__(f"Cannot assign to {target}: {why}")


class ScopeArgumentError(ScopaxError, ValueError):
    """``variable_scope`` was given arguments that cannot go together."""


class TemplateArgumentError(ScopaxError, TypeError):
    """``make_template`` was given a name or function of the wrong type."""


class ScopeNameMissingError(ScopaxError, TypeError):
    """``variable_scope`` was given neither a name nor a ``default_name``."""

    def __init__(self) -> None:
        super().__init__(
            "variable_scope needs a name: pass name_or_scope (a string or a VariableScope) or, "
            'with name_or_scope=None, a default_name such as variable_scope(None, "conv").'
        )


class ParamsImmutableError(ScopaxError, TypeError):
    """Something tried to modify a parameter tree in place."""

    def __init__(self, what: str):
        super().__init__(
            f"A scopax parameter tree is immutable and cannot {what}; build a new tree with "
            "jax.tree_util.tree_map, or edit sx.flatten(tree) and call sx.unflatten."
        )


class UnflattenError(ScopaxError, ValueError):
    """``unflatten`` was given names that do not form a tree."""


class InvalidRngError(ScopaxError, TypeError):
    """``init``/``apply`` was given something that is not a ``jax.random`` key."""

    def __init__(self, rng: Any):
        self.rng = rng
        super().__init__(
            f"Expected a jax.random key as rng, got {rng!r}; pass jax.random.key(seed) "
            "(or a raw jax.random.PRNGKey(seed)), e.g. model.init(jax.random.key(0), x)."
        )


class ShardingError(ScopaxError, ValueError):
    """A variable's ``sharding=`` cannot be used, or a logical axis has no rule."""

    def __init__(self, name: str, why: str):
        self.name = name
        super().__init__(f"Variable {name}: {why}")


class LiftedTransformError(ScopaxError, ValueError):
    """A lifted transform (``sx.scan``, ``sx.vmap``, ``sx.layer_stack``...) was misused."""

    def __init__(self, name: str, why: str):
        self.name = name
        super().__init__(f"Variable {name}: {why}" if name else why)


class CheckpointNotFoundError(ScopaxError, ValueError, FileNotFoundError):
    """There is no checkpoint, or no complete one, at the path given."""

    def __init__(self, path: str, why: str):
        self.path = path
        super().__init__(f"No checkpoint at {path}: {why}.")


class CheckpointCorruptError(ScopaxError, ValueError):
    """A checkpoint's files are truncated, damaged, or not a checkpoint at all."""

    def __init__(self, path: str, why: str, name: str | None = None):
        self.path = path
        self.name = name
        self.why = why
        what = f"Tensor {name} of checkpoint" if name else "Checkpoint"
        super().__init__(
            f"{what} {path} is corrupt or truncated: {why}. Nothing was restored from it; "
            "copy the checkpoint again from where it was written, or use an earlier one."
        )


class UnsupportedCheckpointError(ScopaxError, ValueError):
    """A TF checkpoint uses a feature that scopax's reader does not implement."""

    def __init__(self, path: str, why: str, name: str | None = None):
        self.path = path
        self.name = name
        what = f"Tensor {name} of checkpoint" if name else "Checkpoint"
        super().__init__(f"{what} {path} cannot be read by scopax: {why}.")


class CheckpointMismatchError(ScopaxError, ValueError):
    """Restoring found variables missing, or with another shape or dtype, in a checkpoint."""

    def __init__(self, path: str, problems: Sequence[tuple[str, str]], fix: str):
        self.path = path
        self.problems = list(problems)
        self.names = [name for name, _ in self.problems]
        count = len(dict.fromkeys(self.names))
        lines = "".join(f"\n  {name}: {why}" for name, why in self.problems)
        super().__init__(
            f"Cannot restore {count} variable{'' if count == 1 else 's'} from checkpoint "
            f"{path}:{lines}\n{fix}"
        )


class CheckpointExistsError(ScopaxError, ValueError, FileExistsError):
    """``save`` would replace a checkpoint, or a directory that is not one."""

    def __init__(self, path: str, why: str):
        self.path = path
        super().__init__(f"Cannot save to {path}: {why}.")


class CheckpointTreeError(ScopaxError, TypeError):
    """A tree that cannot be saved or restored (an unsupported leaf, key or argument)."""

    def __init__(self, name: str, why: str):
        self.name = name
        super().__init__(f"{name}: {why}" if name else why)


class GraphOnlyError(ScopaxError, ValueError):
    """A TF1 name that only a graph and a session give (``tf.placeholder``, ``tf.Session``...).

    ``scopax.compat.v1`` does not fake it: the message says what replaces it.
    """

    def __init__(self, name: str, instead: str):
        self.name = name
        self.instead = instead
        super().__init__(
            f"tf.{name} needs a TF1 graph and session, which scopax replaces with pure "
            f"functions; {instead}"
        )


class OpArgumentError(ScopaxError, ValueError):
    """A ``scopax.compat.v1`` op got an argument that TF1 rejects or JAX cannot compile."""

    def __init__(self, op: str, argument: str, why: str):
        self.op = op
        self.argument = argument
        super().__init__(f"tf.{op} got {argument}: {why}")


class TrainArgumentError(ScopaxError, ValueError):
    """A ``scopax.train`` optimizer, schedule or moving average got an argument it cannot use."""

    def __init__(self, where: str, argument: str, why: str):
        self.where = where
        self.argument = argument
        super().__init__(f"{where} got {argument}: {why}")


class SlotMismatchError(ScopaxError, ValueError):
    """``restore_slots`` found optimizer slots missing, or of another shape, in a flat dict."""

    def __init__(self, optimizer: str, problems: Sequence[tuple[str, str]]):
        self.optimizer = optimizer
        self.problems = list(problems)
        self.names = [name for name, _ in self.problems]
        lines = "".join(f"\n  {name}: {why}" for name, why in self.problems)
        super().__init__(
            f"Cannot restore the state of {optimizer} from the slots given:{lines}\n"
            "Pass every variable TF saved for this optimizer (sx.load_tf_checkpoint(path) "
            "returns them; sx.list_tf_checkpoint(path) lists their names), with params named "
            "as in TF, and build the optimizer with TF's hyperparameters."
        )


class NNArgumentError(ScopaxError, ValueError):
    """A ``scopax.nn``, ``scopax.layers``, ``scopax.contrib`` or ``scopax.losses`` function
    got an argument it cannot use: one TF1 rejects, or one scopax does not port.

    The message names the function, the argument and what to pass instead.
    """

    def __init__(self, message: str):
        super().__init__(message)


class MissingDependencyError(ScopaxError, ValueError, ImportError):
    """An optional package that a feature needs is not installed."""

    def __init__(self, package: str, what: str):
        self.package = package
        super().__init__(
            f"{what} needs the {package} package, which is not installed; pip install {package}"
        )


def _name_public_module() -> None:
    # Tracebacks and reprs name the public module users import the classes from.
    for value in list(globals().values()):
        if isinstance(value, type) and issubclass(value, ScopaxError):
            value.__module__ = "scopax.errors"


_name_public_module()
