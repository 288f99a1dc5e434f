"""Variables stacked on a leading axis: ``layer_stack`` and per-member ``vmap``.

The body runs inside ``lax.scan`` or ``jax.vmap`` with a frame of its own (a
sub-frame) that sees one member: in ``init`` it creates that member's variables
from the member's key and returns them as outputs, which JAX stacks; in
``apply`` it reads the member's slice of the stacked variables. Either way no
tracer of the inner trace is ever stored outside it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
from jax.sharding import PartitionSpec

from scopax._src.core import errors
from scopax._src.core import frame as frame_lib
from scopax._src.core.params import Params, flatten, unflatten
from scopax._src.core.scope import variable_scope
from scopax._src.core.variables import add_created, check_new_name

Mapper = Callable[[Callable[..., Any], Any], tuple[Any, Any]]


def _sum(loss: jax.Array) -> jax.Array:
    return jnp.sum(loss)


def run_stacked(
    frame: frame_lib.Frame,
    name: str,
    size: int,
    fn: Callable[..., Any],
    mapper: Mapper,
    *,
    split_rng: bool,
) -> Any:
    """Run ``fn`` once per member under scope ``name`` through ``mapper``.

    ``mapper(body, xs)`` maps ``body(member_input, *fn_args) -> (out, extras)``
    over the leading axis of ``xs`` and returns ``(out, stacked extras)``.
    """
    with variable_scope(name) as scope:
        prefix = scope.name + "/"
        existing = {k: v for k, v in frame.values.items() if k.startswith(prefix)}
        create = frame.is_init and not (scope.reuse and existing)
        if create:
            source: Mapping[str, Any] = {}
        elif frame.is_init:
            source = existing
        else:
            assert frame.in_params is not None
            source = {k: v for k, v in frame.in_params.items() if k.startswith(prefix)}
        keys = None
        if create:
            keys = jax.random.split(frame_lib.variable_key(frame.rng, scope.name), size)
        elif split_rng and frame.rng is not None:
            keys = jax.random.split(frame_lib.next_key(frame), size)
        # Without split keys, every member draws from one stream of its own.
        shared_rng = frame_lib.next_key(frame) if keys is None and frame.rng is not None else None
        # Static facts of the body's trace, passed out by closure (they are not arrays).
        read: list[str] = []
        shardings: dict[str, Any] = {}

        def body(member: tuple[Any, Any], *fn_args: Any) -> tuple[Any, Any]:
            params, key = member
            sub = frame_lib.Frame(
                is_init=create,
                with_state=False,
                rng=key if keys is not None else shared_rng,
                root=scope._with_reuse(False),
                in_params=params,
            )
            sub.stacked = scope.name
            token = frame_lib.FRAME.set(sub)
            try:
                out = fn(*fn_args)
            finally:
                frame_lib.FRAME.reset(token)
            for var in sub.values:
                if not var.startswith(prefix):
                    raise errors.LiftedTransformError(
                        var,
                        f"it is created inside the stacked scope {scope.name!r} but lies outside "
                        "it; stacked bodies may only create variables under their own scope.",
                    )
            read[:] = list(sub.values)
            shardings.update(sub.shardings)
            losses = {}
            for var, regularizer, value in sub.reg_losses:
                loss = regularizer(value)
                if loss is not None:
                    losses[var] = loss
            created = dict(sub.created_params) if create else {}
            return out, (created, losses)

        out, (created, losses) = mapper(body, (source or None, keys))
        for var, value in created.items():
            if var in frame.values:
                raise errors.VariableExistsError(var)
            check_new_name(frame, var)
            add_created(frame, var, value, trainable=True)
            frame.values[var] = value
        for var in read:
            if var not in created:
                frame.values[var] = source[var]
        for var, loss in losses.items():
            frame.reg_losses.append((var, _sum, loss))
        for var in shardings:
            frame.shardings[var] = _stacked_spec(shardings[var])
    return out


def _stacked_spec(spec: Any) -> Any:
    if isinstance(spec, PartitionSpec):
        return PartitionSpec(None, *spec)
    return (None, *spec)


def layer_stack(
    num_layers: int, *, name: str = "layer_stack", unroll: int | bool = 1
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: apply ``f(x, *args) -> x`` ``num_layers`` times with ``lax.scan``,
    each layer with its own variables, stacked on a leading axis under ``name``.

    Compiles one layer however deep the stack. The equivalent Python loop is
    ``with variable_scope(name): for i in range(n): with variable_scope(f"layer_{i}"):
    x = f(x)``; :func:`convert_layer_stack` converts between the two trees.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> @sx.layer_stack(8)
    ... def block(x):
    ...     return jnp.tanh(x @ sx.get_variable("w", [4, 4]))
    >>> model = sx.transform(block)
    >>> params = model.init(jax.random.key(0), jnp.ones((2, 4)))
    >>> params["layer_stack/w"].shape
    (8, 4, 4)
    >>> model.apply(params, jnp.ones((2, 4))).shape
    (2, 4)

    Args:
      num_layers: how many layers.
      name: the scope holding the stacked variables.
      unroll: passed to ``lax.scan``.
    """
    if not isinstance(num_layers, int) or num_layers < 1:
        raise errors.LiftedTransformError(
            "", f"sx.layer_stack got num_layers={num_layers!r}; pass a positive int."
        )

    def decorator(f: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(f)
        def stacked(x: Any, *args: Any, **kwargs: Any) -> Any:
            frame = frame_lib.current_frame("sx.layer_stack")
            layer = functools.partial(f, **kwargs) if kwargs else f

            def mapper(body: Callable[..., Any], xs: Any) -> tuple[Any, Any]:
                def step(carry: Any, member: Any) -> tuple[Any, Any]:
                    return body(member, carry, *args)

                return jax.lax.scan(step, x, xs, length=num_layers, unroll=unroll)

            return run_stacked(frame, name, num_layers, layer, mapper, split_rng=True)

        return stacked

    return decorator


_LAYER = re.compile(r"layer_(\d+)$")


def convert_layer_stack(tree: Mapping[str, Any], scope: str, *, to: str) -> Params:
    """Convert a :func:`layer_stack` tree between its stacked and unrolled forms.

    ``to="unrolled"``: each ``scope/rest`` of leading size ``n`` becomes
    ``scope/layer_0/rest`` ... ``scope/layer_{n-1}/rest``; ``to="stacked"`` is the
    inverse. Variables outside ``scope`` are kept as they are.

    >>> import jax.numpy as jnp, scopax as sx
    >>> stacked = {"layer_stack/w": jnp.zeros((3, 4, 4))}
    >>> unrolled = sx.convert_layer_stack(stacked, "layer_stack", to="unrolled")
    >>> list(sx.flatten(unrolled))
    ['layer_stack/layer_0/w', 'layer_stack/layer_1/w', 'layer_stack/layer_2/w']
    >>> sx.convert_layer_stack(unrolled, "layer_stack", to="stacked")["layer_stack/w"].shape
    (3, 4, 4)
    """
    flat = flatten(tree)
    prefix = scope.rstrip("/") + "/"
    out = {k: v for k, v in flat.items() if not k.startswith(prefix)}
    if to == "unrolled":
        for name, value in flat.items():
            if name.startswith(prefix):
                rest = name[len(prefix) :]
                for i in range(value.shape[0]):
                    out[f"{prefix}layer_{i}/{rest}"] = value[i]
        return unflatten(out)
    if to != "stacked":
        raise ValueError(f'convert_layer_stack got to={to!r}; pass "stacked" or "unrolled".')
    layers: dict[str, dict[int, Any]] = {}
    for name, value in flat.items():
        if not name.startswith(prefix):
            continue
        head, _, rest = name[len(prefix) :].partition("/")
        match = _LAYER.match(head)
        if match is None or not rest:
            raise errors.UnflattenError(
                f"Variable {name} is under {scope!r} but not in a layer_<i> scope; an unrolled "
                f"stack names its variables {prefix}layer_0/..., {prefix}layer_1/..."
            )
        layers.setdefault(rest, {})[int(match.group(1))] = value
    for rest, by_index in layers.items():
        if sorted(by_index) != list(range(len(by_index))):
            raise errors.UnflattenError(
                f"Variable {prefix}{rest} has layers {sorted(by_index)}; an unrolled stack "
                "needs every layer_0 ... layer_<n-1>."
            )
        out[prefix + rest] = jnp.stack([by_index[i] for i in range(len(by_index))])
    return unflatten(out)
