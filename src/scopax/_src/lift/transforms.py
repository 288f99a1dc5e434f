"""Lifted transforms: ``lax.scan``, ``jax.checkpoint``, ``lax.cond``/``switch`` and
``jax.vmap`` whose bodies may call ``get_variable``.

A raw JAX transform traces its body in a trace of its own, so a variable created
there would be a tracer of that inner trace and leak. The lifted versions make
every variable outside the body first, where it belongs to the function's own
trace, and then run the body reusing it:

* in ``init``, the body runs once outside the transform (on the first element,
  or every branch in turn), creating its variables exactly as a Python-unrolled
  loop's first step would; the transform then traces the body again with
  ``reuse=True``;
* in ``apply``, variables are only read from the parameter tree, which lives
  outside the body already, so the body is traced once, as written.

Per-member variables (ensembles) are the exception; see :func:`vmap`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np

from scopax._src.core import errors
from scopax._src.core import frame as frame_lib
from scopax._src.lift.stack import run_stacked


class _Body:
    """Wraps a body so each trace of it starts from the same frame state.

    ``reuse`` (init) runs it in a reusing copy of the current scope; ``rng`` swaps
    in a per-iteration key for :func:`next_rng_key`.
    """

    def __init__(self, frame: frame_lib.Frame, fn: Callable[..., Any], reuse: bool):
        self.frame = frame
        self.fn = fn
        self.scope = frame.scope._with_reuse(True) if reuse else frame.scope
        # The body draws from a stream of its own, taken here in the outer trace: the outer
        # stream moves on past it, and a retrace of the body draws the same keys again.
        self.rng = frame_lib.next_key(frame) if frame.rng is not None else None
        self.snapshot = frame_lib.Snapshot(frame)

    def __call__(self, *args: Any, rng: Any = None, **kwargs: Any) -> Any:
        frame = self.frame
        self.snapshot.restore(frame)
        outer_scope, outer_rng, outer_count = frame.scope, frame.rng, frame.rng_count
        outer_node = frame.count_node
        frame.scope = self.scope
        frame.count_node = None  # JAX may trace the body at any time: look counts up by name.
        rng = self.rng if rng is None else rng
        if rng is not None:
            frame.rng, frame.rng_count = rng, 0
        try:
            return self.fn(*args, **kwargs)
        finally:
            frame.scope = outer_scope
            frame.count_node = outer_node
            frame.rng, frame.rng_count = outer_rng, outer_count


def scan(
    f: Callable[[Any, Any], tuple[Any, Any]],
    init: Any,
    xs: Any = None,
    length: int | None = None,
    reverse: bool = False,
    unroll: int | bool = 1,
) -> tuple[Any, Any]:
    """``jax.lax.scan`` whose body may create and read variables.

    Variables created in the body are shared by every iteration and get the
    names a Python loop would give them if it called ``reuse_variables()`` after
    its first step, so both styles run on one parameter tree. With an ``rng``,
    :func:`next_rng_key` gives a different key in every iteration.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> def rnn(xs):
    ...     def step(h, x):
    ...         with sx.variable_scope("cell"):
    ...             w = sx.get_variable("w", [2, 2])
    ...         h = jnp.tanh(h @ w + x)
    ...         return h, h
    ...     return sx.scan(step, jnp.zeros(2), xs)
    >>> model = sx.transform(rnn)
    >>> params = model.init(jax.random.key(0), jnp.ones((5, 2)))
    >>> list(sx.flatten(params))
    ['cell/w']
    >>> model.apply(params, jnp.ones((5, 2)))[1].shape
    (5, 2)

    Args:
      f, init, xs, length, reverse, unroll: as ``jax.lax.scan``.

    Returns:
      ``(final carry, stacked outputs)``, as ``jax.lax.scan``.
    """
    frame = frame_lib.current_frame("sx.scan")
    if frame.is_init:
        first = jax.tree_util.tree_map(lambda x: x[-1 if reverse else 0], xs)
        mark = frame.scope_counts.mark()
        f(init, first)  # Creates the variables, as the unrolled loop's first step.
        frame.scope_counts.undo(mark)
    body = _Body(frame, f, reuse=frame.is_init)
    if frame.rng is None:
        return jax.lax.scan(body, init, xs, length=length, reverse=reverse, unroll=unroll)
    n = length if length is not None else _leading_size(xs)
    keys = jax.random.split(frame_lib.next_key(frame), n)

    def keyed(carry: Any, x_and_key: tuple[Any, Any]) -> tuple[Any, Any]:
        x, key = x_and_key
        return body(carry, x, rng=key)

    return jax.lax.scan(keyed, init, (xs, keys), length=length, reverse=reverse, unroll=unroll)


def _leading_size(xs: Any) -> int:
    leaves = jax.tree_util.tree_leaves(xs)
    if not leaves:
        raise errors.LiftedTransformError(
            "", "sx.scan needs xs or length= to know how many iterations to run."
        )
    return int(np.shape(leaves[0])[0])


def remat(
    fn: Callable[..., Any],
    *,
    policy: Callable[..., bool] | None = None,
    prevent_cse: bool = True,
    static_argnums: int | tuple[int, ...] = (),
) -> Callable[..., Any]:
    """``jax.checkpoint`` (gradient checkpointing) for functions that use variables.

    ``policy``, ``prevent_cse`` and ``static_argnums`` are passed to
    ``jax.checkpoint``, e.g. ``policy=jax.checkpoint_policies.dots_saveable``.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> @sx.remat
    ... def block(x):
    ...     return jnp.tanh(x @ sx.get_variable("w", [3, 3]))
    >>> model = sx.transform(lambda x: block(x).sum())
    >>> params = model.init(jax.random.key(0), jnp.ones((1, 3)))
    >>> jax.grad(model.apply)(params, jnp.ones((1, 3)))["w"].shape
    (3, 3)
    """

    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        frame = frame_lib.current_frame("sx.remat")
        if frame.is_init:
            return fn(*args, **kwargs)  # init is not differentiated: nothing to save.
        body = _Body(frame, functools.partial(fn, **kwargs), reuse=False)
        checkpointed = jax.checkpoint(
            body, prevent_cse=prevent_cse, policy=policy, static_argnums=static_argnums
        )
        return checkpointed(*args)

    return wrapped


def switch(index: Any, branches: Sequence[Callable[..., Any]], *operands: Any) -> Any:
    """``jax.lax.switch`` whose branches may create and read variables.

    Every branch's variables exist after ``init``, whichever branch is taken.
    Branches run in order during ``init`` like consecutive Python calls, so two
    branches that create the same name need ``reuse=sx.AUTO_REUSE``.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> def f(i, x):
    ...     return sx.switch(i, [lambda x: x * sx.get_variable("a", [], initializer=2.0),
    ...                          lambda x: x + sx.get_variable("b", [], initializer=3.0)], x)
    >>> model = sx.transform(f)
    >>> params = model.init(jax.random.key(0), 0, 1.0)
    >>> sorted(sx.flatten(params)), model.apply(params, 1, 1.0)
    (['a', 'b'], Array(4., dtype=float32))
    """
    frame = frame_lib.current_frame("sx.switch")
    branches = list(branches)
    if frame.is_init:
        mark = frame.scope_counts.mark()
        for branch in branches:
            frame.scope_counts.undo(mark)
            branch(*operands)
        frame.scope_counts.undo(mark)
        wrapped = [_Body(frame, b, reuse=True) for b in branches]
        return jax.lax.switch(index, wrapped, *operands)
    # In apply the branches are traced in the same order init ran them, each seeing what
    # the earlier ones read (parameter-tree values, which live outside the branches), so
    # templates and reuse across branches resolve as they did in init.
    return jax.lax.switch(index, [_once(frame, b) for b in branches], *operands)


def _once(frame: frame_lib.Frame, branch: Callable[..., Any]) -> Callable[..., Any]:
    """``branch``, restoring the frame to its first trace's start if JAX traces it again."""
    snapshot: frame_lib.Snapshot | None = None

    def run(*operands: Any) -> Any:
        nonlocal snapshot
        if snapshot is None:
            snapshot = frame_lib.Snapshot(frame)
        else:
            snapshot.restore(frame)
        return branch(*operands)

    return run


def cond(pred: Any, true_fun: Callable[..., Any], false_fun: Callable[..., Any], *operands: Any):
    """``jax.lax.cond`` whose branches may create and read variables (see :func:`switch`).

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> def f(flag, x):
    ...     return sx.cond(flag, lambda x: x * sx.get_variable("scale", [], initializer=2.0),
    ...                    lambda x: x, x)
    >>> model = sx.transform(f)
    >>> params = model.init(jax.random.key(0), False, 1.0)
    >>> float(model.apply(params, True, 1.0)), float(model.apply(params, False, 1.0))
    (2.0, 1.0)
    """
    frame_lib.current_frame("sx.cond")
    return switch(jax.numpy.asarray(pred).astype(np.int32), [false_fun, true_fun], *operands)


def vmap(
    fn: Callable[..., Any],
    in_axes: Any = 0,
    out_axes: Any = 0,
    *,
    variables: str = "shared",
    name: str | None = None,
    split_rng: bool = False,
    axis_name: Any = None,
    axis_size: int | None = None,
) -> Callable[..., Any]:
    """``jax.vmap`` for functions that use variables.

    ``variables="shared"``: every member of the mapped axis reads the same
    variables (a batch of inputs through one model). ``variables="per_member"``:
    each member has its own variables, stacked on a leading axis of the mapped
    size under the scope ``name`` (an ensemble); they must be created under it.
    ``split_rng=True`` gives each member its own :func:`next_rng_key` stream.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> def member(x):
    ...     return x @ sx.get_variable("w", [3, 2])
    >>> ensemble = sx.vmap(member, variables="per_member", name="ensemble")
    >>> model = sx.transform(lambda xs: ensemble(xs))
    >>> params = model.init(jax.random.key(0), jnp.ones((4, 1, 3)))
    >>> params["ensemble/w"].shape
    (4, 3, 2)
    >>> model.apply(params, jnp.ones((4, 1, 3))).shape
    (4, 1, 2)
    """
    if variables not in ("shared", "per_member"):
        raise errors.LiftedTransformError(
            "", f'sx.vmap got variables={variables!r}; pass "shared" or "per_member".'
        )
    if variables == "per_member" and not name:
        raise errors.LiftedTransformError(
            "",
            'sx.vmap(variables="per_member") needs name=, the scope that holds the stacked '
            'variables, e.g. sx.vmap(fn, variables="per_member", name="ensemble").',
        )

    @functools.wraps(fn)
    def mapped(*args: Any) -> Any:
        frame = frame_lib.current_frame("sx.vmap")
        size = axis_size if axis_size is not None else _mapped_size(in_axes, args)
        if variables == "per_member":
            assert name is not None
            return run_stacked(
                frame,
                name,
                size,
                fn,
                lambda body, xs: jax.vmap(
                    body,
                    in_axes=(0, *_axes_tuple(in_axes, len(args))),
                    out_axes=out_axes,
                    axis_name=axis_name,
                    axis_size=size,
                )(xs, *args),
                split_rng=split_rng,
            )
        if frame.is_init:
            mark = frame.scope_counts.mark()
            fn(*_first_member(args, in_axes, size))
            frame.scope_counts.undo(mark)
        body = _Body(frame, fn, reuse=frame.is_init)
        if not split_rng or frame.rng is None:
            return jax.vmap(
                body, in_axes=in_axes, out_axes=out_axes, axis_name=axis_name, axis_size=size
            )(*args)
        keys = jax.random.split(frame_lib.next_key(frame), size)
        return jax.vmap(
            lambda key, *a: body(*a, rng=key),
            in_axes=(0, *_axes_tuple(in_axes, len(args))),
            out_axes=out_axes,
            axis_name=axis_name,
            axis_size=size,
        )(keys, *args)

    return mapped


def _axes_tuple(in_axes: Any, n: int) -> tuple[Any, ...]:
    if isinstance(in_axes, list | tuple):
        return tuple(in_axes)
    return (in_axes,) * n


def _mapped_size(in_axes: Any, args: tuple[Any, ...]) -> int:
    for arg, axis in zip(args, _axes_tuple(in_axes, len(args)), strict=True):
        if axis is None:
            continue
        axes = jax.tree_util.tree_leaves(axis) if not isinstance(axis, int) else None
        for leaf in jax.tree_util.tree_leaves(arg):
            return int(np.shape(leaf)[axis if axes is None else axes[0]])
    raise errors.LiftedTransformError(
        "", "sx.vmap found no mapped argument; pass axis_size= to say how many members to run."
    )


def _first_member(args: tuple[Any, ...], in_axes: Any, size: int) -> tuple[Any, ...]:
    """Member 0 of every mapped argument: vmap of the identity moves each mapped axis to 0."""
    moved = jax.vmap(lambda *a: a, in_axes=in_axes, axis_size=size)(*args)
    return jax.tree_util.tree_map(lambda x: x[0], moved)
