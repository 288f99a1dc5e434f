"""Lifted transforms: JAX transforms whose bodies may create and read variables.

Owns ``sx.scan``, ``sx.remat``, ``sx.vmap``, ``sx.cond``/``sx.switch`` (``transforms``),
``sx.layer_stack`` and per-member variables (``stack``), and sharding rules
(``sharding``: ``axis_rules``, ``param_shardings``).

May import: JAX, NumPy, ``scopax._src.core`` and its own modules. Never
``scopax._src.io`` or a public namespace; tests/test_layout.py enforces it.
"""
