"""TF1's ``tf.train.ExponentialMovingAverage``, as pure functions of trees."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from scopax.errors import TrainArgumentError
from scopax.train._util import check_float_leaves, check_number, named_leaves, unit_interval


class ExponentialMovingAverage:
    """Shadow copies of variables that follow them slowly, as TF1's.

    ``shadow -= (1 - decay) * (shadow - value)`` at each :meth:`apply`. With a number of
    updates ``n``, the decay is ``min(decay, (1 + n) / (10 + n))``, so that the averages
    move fast at first. ``n`` is given per call, ``ema.apply(params, averages,
    num_updates=step)`` (where TF1 reads the ``num_updates`` tensor, usually
    ``global_step``, at each run); a ``num_updates`` given to the constructor is used by
    calls that pass none.

    >>> import jax.numpy as jnp
    >>> from scopax import train
    >>> ema = train.ExponentialMovingAverage(0.9)
    >>> params = {"net": {"w": jnp.array([1.0])}}
    >>> averages = ema.init(params)  # The shadows start at the values.
    >>> averages = ema.apply({"net": {"w": jnp.array([2.0])}}, averages)
    >>> averages["net"]["w"]  # 1 - 0.1 * (1 - 2)
    Array([1.1], dtype=float32)
    >>> ema.average_name("net/w")
    'net/w/ExponentialMovingAverage'
    >>> ema.named_averages(averages)
    {'net/w/ExponentialMovingAverage': Array([1.1], dtype=float32)}

    Args:
      decay: the decay, in [0, 1].
      num_updates: the default number of updates for :meth:`apply`, or ``None`` for
        a fixed decay.
      name: the suffix of the averages' names, as TF's ``name``.
    """

    def __init__(
        self, decay: Any, num_updates: Any = None, *, name: str = "ExponentialMovingAverage"
    ):
        where = "ExponentialMovingAverage"
        self.decay = unit_interval(where, "decay", decay)
        if num_updates is not None:
            check_number(where, "num_updates", num_updates)
        if not isinstance(name, str) or not name:
            raise TrainArgumentError(
                where, f"name={name!r}", "pass a non-empty string, as TF's name=."
            )
        self.num_updates = num_updates
        self.name = name

    def __repr__(self) -> str:
        return (
            f"ExponentialMovingAverage(decay={self.decay!r}, num_updates={self.num_updates!r}, "
            f"name={self.name!r})"
        )

    def init(self, params: Any) -> Any:
        """The first averages: a copy of ``params`` (TF1 starts each at its variable).

        >>> import jax.numpy as jnp
        >>> from scopax import train
        >>> train.ExponentialMovingAverage(0.99).init({"w": jnp.ones(2)})["w"]
        Array([1., 1.], dtype=float32)

        Args:
          params: any tree of floating-point arrays (a ``Params``, a nested dict).

        Returns:
          A tree like ``params``.
        """
        check_float_leaves("ExponentialMovingAverage.init", "params", params)
        return jax.tree_util.tree_map(jnp.asarray, params)

    def decay_for(self, num_updates: Any = None) -> jax.Array:
        """The decay one :meth:`apply` uses, as TF1 computes it (in float32).

        >>> from scopax import train
        >>> round(float(train.ExponentialMovingAverage(0.999).decay_for(num_updates=0)), 6)
        0.1

        Args:
          num_updates: the number of updates, or ``None`` for the constructor's.

        Returns:
          A float32 scalar.
        """
        n = self.num_updates if num_updates is None else num_updates
        decay = jnp.asarray(self.decay, jnp.float32)
        if n is None:
            return decay
        check_number("ExponentialMovingAverage.apply", "num_updates", n)
        count = jnp.asarray(n).astype(jnp.float32)
        return jnp.minimum(decay, (1.0 + count) / (10.0 + count))

    def apply(self, params: Any, averages: Any, num_updates: Any = None) -> Any:
        """One update of every average towards the current value of its variable.

        >>> import jax.numpy as jnp
        >>> from scopax import train
        >>> ema = train.ExponentialMovingAverage(0.999)
        >>> averages = ema.init({"w": jnp.zeros(1)})
        >>> ema.apply({"w": jnp.ones(1)}, averages, num_updates=0)["w"]  # decay 0.1
        Array([0.9], dtype=float32)

        Args:
          params: the variables now, a tree like the one given to :meth:`init`.
          averages: the averages from :meth:`init` or the previous :meth:`apply`.
          num_updates: the number of updates so far (an int, or traced under ``jit``),
            e.g. the global step; ``None`` for the constructor's.

        Returns:
          The new averages.
        """
        where = "ExponentialMovingAverage.apply"
        check_float_leaves(where, "params", params)
        one_minus = 1.0 - self.decay_for(num_updates)
        leaves, treedef = jax.tree_util.tree_flatten(params)
        try:
            shadows = treedef.flatten_up_to(averages)
        except (ValueError, TypeError):
            raise TrainArgumentError(
                where,
                "averages whose tree differs from params",
                "pass the averages that ema.init(params) returned for a tree like params.",
            ) from None
        new = []
        for value, shadow in zip(leaves, shadows, strict=True):
            shadow = jnp.asarray(shadow)
            # TF's assign_moving_average: the decay cast to the variable's dtype.
            new.append(shadow - (shadow - value) * one_minus.astype(shadow.dtype))
        return treedef.unflatten(new)

    def average_name(self, name: str) -> str:
        """The name TF1 gives the average of variable ``name``.

        >>> from scopax import train
        >>> train.ExponentialMovingAverage(0.9).average_name("conv1/weights")
        'conv1/weights/ExponentialMovingAverage'

        Args:
          name: a variable's full name.

        Returns:
          ``name + "/" + self.name``.
        """
        if not isinstance(name, str) or not name:
            raise TrainArgumentError(
                "ExponentialMovingAverage.average_name",
                f"name={name!r}",
                "pass a variable's full name, e.g. 'net/w'.",
            )
        return f"{name}/{self.name}"

    def named_averages(self, averages: Any) -> dict[str, jax.Array]:
        """The averages by the names TF1 saves them under.

        >>> import jax.numpy as jnp
        >>> from scopax import train
        >>> ema = train.ExponentialMovingAverage(0.9)
        >>> list(ema.named_averages(ema.init({"b": jnp.zeros(1), "a": {"w": jnp.ones(1)}})))
        ['a/w/ExponentialMovingAverage', 'b/ExponentialMovingAverage']

        Args:
          averages: the averages of a ``Params`` or nested dict.

        Returns:
          A dict from :meth:`average_name` of each variable to its average, by name.
        """
        names, leaves, _ = named_leaves(
            "ExponentialMovingAverage.named_averages", "averages", averages
        )
        return dict(sorted((self.average_name(n), v) for n, v in zip(names, leaves, strict=True)))
