"""The public surface is exactly the contract's names, plus a few documented types."""

import inspect

import scopax as sx

# Every name the public contract (API.md) promises, in its own sections.
CONTRACT = {
    # Functional core.
    "transform",
    "transform_with_state",
    "assign",
    "next_rng_key",
    "get_regularization_losses",
    "get_regularization_loss",
    # Building blocks.
    "get_variable",
    "variable_scope",
    "get_variable_scope",
    "VariableScope",
    "AUTO_REUSE",
    "name_scope",
    "make_template",
    "constant_initializer",
    "zeros_initializer",
    "ones_initializer",
    "random_uniform_initializer",
    "random_normal_initializer",
    "truncated_normal_initializer",
    "glorot_uniform_initializer",
    "glorot_normal_initializer",
    "variance_scaling_initializer",
    "orthogonal_initializer",
    # The parameter tree.
    "flatten",
    "unflatten",
}

# Types users annotate with; not in the contract's tables but part of what we ship.
EXTRAS = {"Params", "Template", "Transformed", "TransformedWithState"}

# Lifted transforms and sharding, built on the contract (docs/lifted_transforms.md).
LIFTED = {
    "scan",
    "layer_stack",
    "convert_layer_stack",
    "remat",
    "vmap",
    "cond",
    "switch",
    "axis_rules",
    "param_shardings",
}


# Checkpoints and summaries (docs/checkpoints.md).
CHECKPOINTS = {
    "save",
    "restore",
    "load_tf_checkpoint",
    "list_tf_checkpoint",
    "restore_from_tf",
    "save_tf_checkpoint",
    "summary",
}


def test_all_is_contract_plus_documented_extensions():
    assert set(sx.__all__) == CONTRACT | EXTRAS | LIFTED | CHECKPOINTS
    assert len(sx.__all__) == len(set(sx.__all__))


def test_every_public_name_exists_and_has_a_runnable_example():
    for name in sx.__all__:
        obj = getattr(sx, name)
        if name == "AUTO_REUSE":
            continue  # An instance; documented in the module's attribute docstring.
        doc = inspect.getdoc(obj) or ""
        assert ">>>" in doc, f"sx.{name} has no doctest example"


def test_every_error_is_a_value_or_type_error():
    for name in dir(sx.errors):
        obj = getattr(sx.errors, name)
        if isinstance(obj, type) and issubclass(obj, sx.errors.ScopaxError):
            if obj is sx.errors.ScopaxError:
                continue
            assert issubclass(obj, ValueError | TypeError), name


def test_version_is_written_once():
    import importlib.metadata
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    pyproject = (root / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject
    assert not re.search(r"^version\s*=", pyproject, re.MULTILINE)
    assert importlib.metadata.version("scopax") == sx.__version__
    conf = (root / "docs" / "conf.py").read_text()
    assert "release = version = scopax.__version__" in conf
