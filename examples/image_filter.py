"""One image filter shared by two batches of images: TF1's "Sharing variables" tutorial.

Two conv + ReLU layers live under the variable scope ``image_filters``. The first batch
creates their four variables; ``scope.reuse_variables()`` makes the second batch use the
same four. The script prints the parameter tree (one set of four variables), runs the
model under ``jax.jit`` and checks that both copies of the filter compute the same thing.

    python examples/image_filter.py --batch 2 --size 16 --seed 0
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import scopax as sx

CHANNELS = 32


def conv_relu(inputs: jax.Array, kernel_shape: list[int], bias_shape: list[int]) -> jax.Array:
    weights = sx.get_variable(
        "weights", kernel_shape, initializer=sx.random_normal_initializer(stddev=0.05)
    )
    biases = sx.get_variable("biases", bias_shape, initializer=sx.constant_initializer(0.0))
    conv = jax.lax.conv_general_dilated(
        inputs, weights, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
    )
    return jax.nn.relu(conv + biases)


def my_image_filter(input_images: jax.Array) -> jax.Array:
    with sx.variable_scope("conv1"):
        relu1 = conv_relu(input_images, [5, 5, CHANNELS, CHANNELS], [CHANNELS])
    with sx.variable_scope("conv2"):
        return conv_relu(relu1, [5, 5, CHANNELS, CHANNELS], [CHANNELS])


def two_images(image1: jax.Array, image2: jax.Array) -> tuple[jax.Array, jax.Array]:
    with sx.variable_scope("image_filters") as scope:
        result1 = my_image_filter(image1)
        scope.reuse_variables()  # Without this, the second call raises VariableExistsError.
        result2 = my_image_filter(image2)
    return result1, result2


def format_params(params: Mapping[str, Any]) -> str:
    """A table of every variable: full name, shape, dtype, element count, and the total."""
    header = ("name", "shape", "dtype", "count")
    rows = [
        (name, str(tuple(v.shape)), str(v.dtype), f"{v.size:,}")
        for name, v in sorted(sx.flatten(params).items())
    ]
    total = sum(v.size for v in sx.flatten(params).values())
    footer = (f"total ({len(rows)} variables)", "", "", f"{total:,}")
    widths = [max(len(row[i]) for row in (header, *rows, footer)) for i in range(4)]

    def line(row: tuple[str, str, str, str]) -> str:
        cells = [cell.ljust(width) for cell, width in zip(row[:3], widths[:3], strict=True)]
        return "  ".join([*cells, row[3].rjust(widths[3])])

    rule = "-" * len(line(header))
    return "\n".join([line(header), rule, *map(line, rows), rule, line(footer)])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Share one image filter between two batches.")
    parser.add_argument("--batch", type=int, default=2, help="images per batch (default: 2)")
    parser.add_argument("--size", type=int, default=16, help="image height and width (default: 16)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    args = parser.parse_args(argv)

    key_init, key1, key2 = jax.random.split(jax.random.key(args.seed), 3)
    shape = (args.batch, args.size, args.size, CHANNELS)
    image1 = jax.random.normal(key1, shape)
    image2 = jax.random.normal(key2, shape)

    model = sx.transform(two_images)
    params = model.init(key_init, image1, image2)
    print(format_params(params))
    print()

    apply = jax.jit(model.apply)
    result1, result2 = apply(params, image1, image2)
    print(f"image1 {image1.shape} -> result1 {result1.shape}")
    print(f"image2 {image2.shape} -> result2 {result2.shape}")

    # Both copies of the filter read the same four variables, so feeding image1 to both
    # must give the same output.
    same1, same2 = apply(params, image1, image1)
    diff = float(jnp.max(jnp.abs(same1 - same2)))
    shared = bool(np.allclose(same1, same2)) and bool(np.allclose(same1, result1))
    print(f"filter(image1) twice: max |difference| = {diff:.3g}, shared filter: {shared}")
    return 0 if shared else 1


if __name__ == "__main__":
    raise SystemExit(main())
