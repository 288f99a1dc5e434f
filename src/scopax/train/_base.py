"""The base of TF1's optimizers as ``optax.GradientTransformation``s."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, Self

import jax
import jax.numpy as jnp
import optax

from scopax.errors import TrainArgumentError
from scopax.train._util import check_float_leaves, learning_rate_at


def _rebuild(cls: type[TFOptimizer], hyperparameters: dict[str, Any]) -> TFOptimizer:
    return cls(**hyperparameters)


class TFOptimizer(optax.GradientTransformation):
    """A TF1 optimizer: an ``optax.GradientTransformation`` with TF1's update rule.

    Subclasses (:class:`GradientDescentOptimizer`, :class:`AdamOptimizer`...) compute what
    TF1's kernels compute, and know the names TF1 gives their state in a checkpoint
    (:func:`slot_variables`, :func:`restore_slots`).

    >>> import jax.numpy as jnp, optax
    >>> from scopax import train
    >>> opt = train.MomentumOptimizer(0.1, 0.9)
    >>> isinstance(opt, optax.GradientTransformation), opt.name
    (True, 'Momentum')
    >>> opt
    MomentumOptimizer(learning_rate=0.1, momentum=0.9, use_nesterov=False, name='Momentum')

    Attributes:
      name: TF's name of the optimizer: slots are named ``<variable>/<name>``,
        ``<variable>/<name>_1``...
      hyperparameters: the constructor's arguments, by name.
    """

    # NamedTuple fields are read-only, so the configuration lives in the instance dict.
    name: str
    hyperparameters: dict[str, Any]

    # Fields of the state that hold one tree like the params, in TF's order of slots.
    _SLOT_FIELDS: tuple[str, ...] = ()
    # Fields of the state that TF keeps as variables of their own (Adam's beta powers).
    _NON_SLOT_FIELDS: tuple[str, ...] = ()

    def __new__(cls, *args: Any, **kwargs: Any) -> TFOptimizer:
        raise TypeError(f"{cls.__name__} is built by its subclasses' constructors.")

    @classmethod
    def _build(cls, hyperparameters: dict[str, Any]) -> Self:
        holder: list[Self] = []
        # init and update are fields of the tuple, so they are made before the instance;
        # they reach it through `holder`.
        self = tuple.__new__(
            cls,
            (
                lambda params: holder[0]._init(params),
                lambda updates, state, params=None: holder[0]._update(updates, state),
            ),
        )
        holder.append(self)
        self.__dict__["hyperparameters"] = dict(hyperparameters)
        self.__dict__["name"] = hyperparameters["name"]
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.hyperparameters))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters.items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)

    @property
    def learning_rate(self) -> Any:
        """The learning rate: a number, or a function of the step count."""
        return self.hyperparameters["learning_rate"]

    def _slot_fields(self) -> tuple[str, ...]:
        return self._SLOT_FIELDS

    def _lr(self, count: jax.Array) -> jax.Array:
        return learning_rate_at(type(self).__name__, self.learning_rate, count)

    def _init(self, params: Any) -> Any:
        check_float_leaves(type(self).__name__ + ".init", "params", params)
        return self._init_state(params)

    def _init_state(self, params: Any) -> Any:
        raise NotImplementedError

    def _update(self, updates: Any, state: Any) -> tuple[Any, Any]:
        raise NotImplementedError

    def _check_state(self, state: Any, state_type: type) -> None:
        if not isinstance(state, state_type):
            raise TrainArgumentError(
                f"{type(self).__name__}.update",
                f"a state of type {type(state).__name__}",
                f"pass the {state_type.__name__} that this optimizer's init returned "
                "(state = opt.init(params)), or the state of the previous update.",
            )


def zero_count() -> jax.Array:
    return jnp.zeros([], jnp.int32)


def cast(value: Any, like: jax.Array) -> jax.Array:
    """A hyperparameter in a variable's dtype, as TF's ``math_ops.cast`` in ``_prepare``."""
    return jnp.asarray(value, dtype=like.dtype)


def map_leaves(where: str, fn: Callable[..., Sequence[Any]], grads: Any, *trees: Any) -> list[Any]:
    """``fn`` over matching leaves of ``grads`` and each tree; one tree per output."""
    leaves, treedef = jax.tree_util.tree_flatten(grads)
    try:
        others = [treedef.flatten_up_to(tree) for tree in trees]
    except (ValueError, TypeError) as e:
        raise TrainArgumentError(
            where,
            "gradients whose tree differs from the params'",
            f"pass gradients with the structure of the params given to init ({e}).",
        ) from None
    outputs = [fn(*args) for args in zip(leaves, *others, strict=True)]
    if not outputs:
        return [treedef.unflatten([]) for _ in range(len(trees) + 1)]
    return [treedef.unflatten(list(column)) for column in zip(*outputs, strict=True)]


class CountState(NamedTuple):
    """``GradientDescentOptimizer``'s state: only the count of updates done.

    >>> import jax.numpy as jnp
    >>> from scopax import train
    >>> train.GradientDescentOptimizer(0.1).init({"w": jnp.ones(2)})
    CountState(step=Array(0, dtype=int32))
    """

    step: jax.Array
