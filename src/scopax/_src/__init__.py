"""scopax's implementation; the public names are re-exported by ``scopax``."""

import os

from jax.extend import source_info_util

# JAX attributes every op to the innermost "user" frame of its traceback. Excluding
# scopax's own files (as Haiku and Flax exclude theirs) points HLO locations, profiler
# metadata and tracer errors at the line of the model that called scopax, not at the
# layer inside scopax; it also shortens the call-site chain that lowering builds per op.
source_info_util.register_exclusion(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
