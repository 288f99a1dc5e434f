"""The files here are TF1-style inputs for scopax.port and their golden outputs: data
for tests/test_port*.py, never modules to import (they import tensorflow)."""

collect_ignore_glob = ["*.py"]
