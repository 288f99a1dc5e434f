"""File formats: what crosses the process boundary.

Owns ``sx.save``/``sx.restore`` on orbax with their atomic commit and pointer file
(``checkpoint``, ``checkpoint_tree``), TF1's V2 checkpoint format read and written
without TensorFlow (``tf_table``, ``tf_bundle``, ``crc32c``, ``tf_checkpoint``,
``tf_writer``), and ``sx.summary``. Every reader treats its files as hostile: bounded
reads, regular files only, scopax errors on any malformed input.

May import: JAX, NumPy, orbax (lazily), ``scopax._src.core`` and its own modules.
Never ``scopax._src.lift`` or a public namespace; tests/test_layout.py enforces it.
"""
