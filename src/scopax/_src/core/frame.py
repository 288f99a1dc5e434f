"""The one piece of mutable state: the Frame of the trace being run.

``init`` and ``apply`` each push a fresh :class:`Frame` into a context variable for
the duration of one call of the user's function; everything a trace learns (the
variables it created or read, the scope stack, regularizer losses, the rng
counter) lives here and dies with it. A ``ContextVar`` rather than a global keeps
two threads tracing two models from ever seeing each other's scopes.
"""

from __future__ import annotations

import contextvars
import hashlib
import weakref
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
from jax.extend.core import find_top_trace

from scopax._src.core import errors

if TYPE_CHECKING:
    from scopax._src.core.scope import VariableScope


def _eval_trace() -> Any:
    # Asked of JAX itself (not recognised by its class name): the trace in which
    # ensure_compile_time_eval runs ops is the evaluation trace.
    with jax.ensure_compile_time_eval():
        return find_top_trace(())


# The trace outside every JAX transform: JAX's one evaluation trace. Op names given there
# reach nothing: each trace that starts from eager code (jit, make_jaxpr, an eager
# primitive's own jit, the body of an eager lax.scan) begins with an empty name stack, so
# variable and name scopes skip jax.named_scope when is_eager() (tested in
# tests/test_source_info.py). Should scopax be imported inside a transform, the trace
# found here is not the one eager code later runs in, is_eager() is never true, and every
# scope names its ops: always correct, only slower when eager.
EAGER_TRACE = _eval_trace()
# A weak reference to it, taken once: every eager frame records the same one.
_EAGER_REF = weakref.ref(EAGER_TRACE)


def is_eager() -> bool:
    """Whether ops called now run eagerly, outside every JAX trace.

    The one way scopax asks; an identity test, cheap enough for every scope of an
    eager ``apply``.
    """
    return find_top_trace(()) is EAGER_TRACE


FRAME: contextvars.ContextVar[Frame | None] = contextvars.ContextVar("scopax_frame", default=None)
# Set by param_shardings: every init run while it is set adds its variables' sharding= here.
RECORDER: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "scopax_sharding_recorder", default=None
)


class _Node:
    __slots__ = ("children", "count")

    def __init__(self, count: int = 0) -> None:
        self.count = count
        self.children: dict[str, _Node] = {}


class ScopeCounts:
    """How often each variable scope was opened: a trie keyed by path segment.

    TF1 uniquifies ``default_name`` scopes against these counts, forgets the
    counts below a named scope when it is left (so re-entering ``model`` with
    ``reuse=True`` hands out ``model/conv`` again, not ``model/conv_1``) and
    restores all of them when a re-entered scope object is left. Every change is
    journaled, so restoring undoes just the changes made since :meth:`mark`
    instead of copying the whole trie.
    """

    __slots__ = ("journal", "root")

    def __init__(self) -> None:
        self.root = _Node()
        self.journal: list[tuple[_Node, str, Any]] = []

    def _node(self, path: str) -> _Node:
        node = self.root
        for part in path.split("/"):
            child = node.children.get(part)
            if child is None:
                child = node.children[part] = _Node()
                self.journal.append((node, "add", part))
            node = child
        return node

    def open(self, path: str) -> _Node:
        node = self._node(path)
        self.journal.append((node, "count", node.count))
        node.count += 1
        return node

    def open_child(self, parent: _Node, part: str) -> _Node:
        """:meth:`open` of ``<parent's path>/part``, without walking from the root."""
        child = parent.children.get(part)
        if child is None:
            # Undoing the add drops the new node, count and all: one journal entry.
            child = parent.children[part] = _Node(1)
            self.journal.append((parent, "add", part))
            return child
        self.journal.append((child, "count", child.count))
        child.count += 1
        return child

    def forget_below(self, node: _Node) -> None:
        """Forget the counts below ``node`` (as returned by :meth:`open`), which has some."""
        self.journal.append((node, "children", node.children))
        node.children = {}

    def peek(self, path: str) -> int:
        node: _Node | None = self.root
        for part in path.split("/"):
            node = node.children.get(part)
            if node is None:
                return 0
        return node.count

    def mark(self) -> int:
        return len(self.journal)

    def undo(self, mark: int) -> None:
        journal = self.journal
        while len(journal) > mark:
            node, field, old = journal.pop()
            if field == "add":
                del node.children[old]
            elif field == "count":
                node.count = old
            else:
                node.children = old


class _NothingCreated(dict[str, Any]):
    """The shared, empty ``created_*`` container of every ``apply`` frame: writes raise."""

    def __setitem__(self, key: str, value: Any) -> None:
        raise TypeError(f"apply creates no variables; tried to record {key!r}")


_NOTHING: dict[str, Any] = _NothingCreated()


class Frame:
    """Everything one run of a transformed function knows about its variables."""

    __slots__ = (
        "assigned",
        "count_node",
        "created_params",
        "created_state",
        "eager",
        "in_params",
        "in_state",
        "is_init",
        "name_scope",
        "prefixes",
        "recipes",
        "reg_losses",
        "rng",
        "rng_count",
        "scope",
        "scope_counts",
        "shardings",
        "stacked",
        "state_ids",
        "templates",
        "trace_ref",
        "values",
        "with_state",
    )

    def __init__(
        self,
        is_init: bool,
        with_state: bool,
        rng: Any,
        root: VariableScope,
        in_params: dict[str, Any] | None = None,
        in_state: dict[str, Any] | None = None,
    ):
        self.is_init = is_init
        self.with_state = with_state
        self.rng = rng
        self.rng_count = 0
        self.in_params = in_params
        self.in_state = in_state
        self.scope = root
        self.name_scope = ""
        self.scope_counts = ScopeCounts()
        # The count node of `scope` when a variable_scope entered it in this frame (so a
        # plain sub-scope opens its child directly), or None when unknown.
        self.count_node: _Node | None = self.scope_counts.root
        # Every variable this trace has got, by full name: the identity `v1 is v` and the
        # create/reuse checks both read it, in init and in apply alike.
        self.values: dict[str, Any] = {}
        # Proper prefixes of every variable name, to reject `a` next to `a/b`.
        self.prefixes: set[str] = set()
        # What init creates (apply creates nothing: there they stay a shared, read-only
        # empty mapping, so a write by mistake fails loudly).
        self.created_params: dict[str, Any] = {} if is_init else _NOTHING
        self.created_state: dict[str, Any] = {} if is_init else _NOTHING
        self.assigned: dict[str, Any] = {}
        # id(array) -> (full name, array); the array is kept so its id cannot be reused.
        self.state_ids: dict[int, tuple[str, Any]] = {}
        self.reg_losses: list[tuple[str, Any, Any]] = []
        # Template -> (its scope in this trace, whether a call of it has returned).
        self.templates: dict[Any, tuple[VariableScope, bool]] = {}
        # Full name -> the sharding= given at creation (init only; read by param_shardings).
        self.shardings: dict[str, Any] = {} if is_init else _NOTHING
        # The scope of a layer_stack / per-member vmap whose members this sub-frame runs.
        self.stacked: str | None = None
        # Set while init discovers its variables abstractly (see transform._init): how to
        # make each created value again, outside the trace; None once the values cannot be
        # made without running the function (they depend on its inputs).
        self.recipes: list[Any] | None = None
        # Run outside any trace: scopes opened directly in it need not name ops.
        trace = find_top_trace(())
        self.eager = eager = trace is EAGER_TRACE
        # The trace this frame runs in, weakly (as JAX's own opaque trace state holds
        # it), so that a frame kept by an exception's traceback keeps no trace alive.
        self.trace_ref = _EAGER_REF if eager else weakref.ref(trace)

    def in_inner_trace(self) -> bool:
        """Whether the caller runs inside a JAX transform nested in this frame's trace."""
        return find_top_trace(()) is not self.trace_ref()


class Snapshot:
    """What a lifted transform restores before each trace of its body.

    JAX may trace a body more than once (and traces every branch of a ``cond``);
    each trace must start from the same frame, or the second would find the
    first one's variables and report them as duplicates.
    """

    __slots__ = ("counts", "losses", "templates", "values")

    def __init__(self, frame: Frame):
        self.values = len(frame.values)
        self.losses = len(frame.reg_losses)
        self.templates = len(frame.templates)
        self.counts = frame.scope_counts.mark()

    def restore(self, frame: Frame) -> None:
        _truncate(frame.values, self.values)
        # A template first called in the body must open its scope afresh, as its
        # variables are forgotten with the rest.
        _truncate(frame.templates, self.templates)
        del frame.reg_losses[self.losses :]
        frame.scope_counts.undo(self.counts)


def _truncate(ordered: dict[Any, Any], size: int) -> None:
    if len(ordered) > size:
        for key in list(ordered)[size:]:
            del ordered[key]


def current_frame(what: str) -> Frame:
    frame = FRAME.get()
    if frame is None:
        raise errors.NotInTransformError(what)
    return frame


def maybe_frame() -> Frame | None:
    return FRAME.get()


_NAME_WORDS: dict[str, tuple[int, int]] = {}


def name_words(name: str) -> tuple[int, int]:
    """64 stable bits of SHA-1(name): two 32-bit words, each as the Python int of its int32.

    Python's ``hash`` is salted per process; SHA-1 gives every process and machine
    the same key for the same name. The cache makes repeated traces free. The words
    travel as Python ints because jit binds those far faster than numpy scalars (which
    it abstracts one by one, twice per call); :func:`_fold_in_words` reinterprets their
    bits as the uint32 that ``fold_in`` takes.
    """
    words = _NAME_WORDS.get(name)
    if words is None:
        digest = hashlib.sha1(name.encode("utf-8")).digest()
        words = _NAME_WORDS[name] = (_int32(digest[0:4]), _int32(digest[4:8]))
    return words


def _int32(word: bytes) -> int:
    return int.from_bytes(word, "big", signed=True)


@jax.jit
def _fold_in_words(rng: Any, hi: Any, lo: Any) -> Any:
    """``fold_in(fold_in(rng, hi), lo)`` with int32 words read as uint32 (same bits).

    One jitted call: one dispatch when init runs eagerly, one cached jaxpr inlined
    when it is traced (tracing fold_in itself each time costs twice as much).
    """
    # With x64 on, Python ints arrive as int64, whose bitcast to uint32 is two words.
    hi = jax.lax.bitcast_convert_type(jnp.asarray(hi, jnp.int32), jnp.uint32)
    lo = jax.lax.bitcast_convert_type(jnp.asarray(lo, jnp.int32), jnp.uint32)
    return jax.random.fold_in(jax.random.fold_in(rng, hi), lo)


def variable_key(rng: Any, name: str) -> Any:
    """The key of variable ``name``: depends on ``rng`` and the name only."""
    hi, lo = name_words(name)
    return _fold_in_words(rng, hi, lo)


_RNG_STREAM = 0x5C0BA7


def next_key(frame: Frame) -> Any:
    count = frame.rng_count
    frame.rng_count = count + 1
    # The count as an int32 word: its bits are the uint32 count for any count < 2**31.
    return _fold_in_words(frame.rng, _RNG_STREAM, count)
