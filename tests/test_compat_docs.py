"""docs/for_tf1_users.md lists exactly what ``scopax.compat.v1`` offers and refuses.

The first column of the tables under "API map" names every public name of the module
(its ``__all__`` and its lazy namespaces), and nothing else; the table under "What is
not supported and why" names every graph-only name (``tf.train``'s included) and every
name offered elsewhere.
"""

import pathlib
import re

import scopax.compat.v1 as tf
from scopax.compat.v1 import _graph_only

PAGE = pathlib.Path(__file__).resolve().parents[1] / "docs" / "for_tf1_users.md"


def first_column_names(section: str, pattern: str = r"\btf\.([A-Za-z_]\w*)") -> set[str]:
    """The ``tf.`` names (top-level, by default) in the first cells of a section's rows."""
    text = PAGE.read_text()
    start = text.index(f"\n## {section}\n")
    end = text.find("\n## ", start + 1)
    names = set()
    for line in text[start:end].splitlines():
        if line.startswith("| ") and not line.startswith("| ---"):
            first = line.split(" | ")[0]
            names |= set(re.findall(pattern, first))
    return names


def test_the_api_map_is_the_module():
    listed = first_column_names("API map")
    offered = set(tf.__all__) | set(tf.NAMESPACES)
    assert not offered - listed, f"missing from the API map: {sorted(offered - listed)}"
    assert not listed - offered, f"not in scopax.compat.v1: {sorted(listed - offered)}"


def test_the_unsupported_table_is_the_module_s_refusals():
    # tf.train.Saver and the like are refused by tf.train: listed by their dotted names.
    listed = first_column_names("What is not supported and why", r"\btf\.((?:train\.)?\w+)")
    refused = set(_graph_only.GRAPH_ONLY) | set(_graph_only.ELSEWHERE)
    refused |= {f"train.{name}" for name in _graph_only.TRAIN_GRAPH_ONLY}
    assert listed == refused, (sorted(refused - listed), sorted(listed - refused))
