"""The contract: transforms, variable scopes, ``get_variable``, the parameter tree.

Owns the one piece of mutable state (the per-trace :class:`~scopax._src.core.frame.Frame`
in a context variable), the scope stack, variable creation and reading (one path,
``variables._true_get``; initial values in ``variables.make_value``), ``init``'s
discovery of variables, ``assign``, templates, initializers, regularizers, the
immutable :class:`~scopax._src.core.params.Params` tree, and every error class
(``errors``).

May import: JAX, NumPy and its own modules only. Never ``scopax._src.lift``,
``scopax._src.io`` or a public namespace (``scopax.nn``, ``scopax.layers``,
``scopax.contrib``, ``scopax.losses``, ``scopax.train``, ``scopax.compat``,
``scopax.port``); tests/test_layout.py enforces it.
"""
