"""summary: the text table, scope subtotals, TF1 slot names, abstract trees, HTML."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import scopax as sx


def two_images(image1, image2):
    def conv_relu(x, kernel_shape, bias_shape):
        w = sx.get_variable("weights", kernel_shape)
        b = sx.get_variable("biases", bias_shape, initializer=sx.constant_initializer(0.0))
        return jax.nn.relu(x @ w + b[None, :])

    with sx.variable_scope("image_filters") as scope:
        outs = []
        for image in (image1, image2):
            with sx.variable_scope("conv1"):
                h = conv_relu(image, [4, 8], [8])
            with sx.variable_scope("conv2"):
                outs.append(conv_relu(h, [8, 8], [8]))
            scope.reuse_variables()
    return outs


def test_text_table_with_subtotals():
    x = jnp.ones((1, 4))
    params = jax.eval_shape(sx.transform(two_images).init, jax.random.key(0), x, x)
    assert str(sx.summary(params)) == (
        "name            shape   dtype    parameters  bytes\n"
        "image_filters/                          112  448 B\n"
        "  conv1/                                 40  160 B\n"
        "    biases      (8,)    float32           8   32 B\n"
        "    weights     (4, 8)  float32          32  128 B\n"
        "  conv2/                                 72  288 B\n"
        "    biases      (8,)    float32           8   32 B\n"
        "    weights     (8, 8)  float32          64  256 B\n"
        "total: 4 variables                      112  448 B"
    )
    assert repr(sx.summary(params)) == str(sx.summary(params))


def test_depth_folds_scopes():
    params = sx.unflatten({"a/b/c": jnp.zeros(3), "a/d": jnp.zeros((2, 2)), "e": jnp.zeros(())})
    assert str(sx.summary(params, depth=1)) == (
        "name  shape  dtype    parameters  bytes\n"
        "a/                             7   28 B\n"
        "e     ()     float32           1    4 B\n"
        "total: 3 variables             8   32 B"
    )


def test_tf_slot_names_are_variables_and_scopes():
    flat = {
        "w": np.zeros((2, 3), np.float32),
        "w/Adam": np.zeros((2, 3), np.float32),
        "global_step": np.array(3, np.int64),
        "s": np.array([b"ab", b"cde"], object),
    }
    assert str(sx.summary(flat)) == (
        "name         shape   dtype    parameters  bytes\n"
        "global_step  ()      int64             1    8 B\n"
        "s            (2,)    string            2    5 B\n"
        "w            (2, 3)  float32           6   24 B\n"
        "w/                                     6   24 B\n"
        "  Adam       (2, 3)  float32           6   24 B\n"
        "total: 4 variables                    15   61 B"
    )


def test_rows_totals_and_any_pytree():
    tree = ({"w": jnp.zeros((1024, 1024), jnp.bfloat16)}, [np.float32(1.0)], 3)
    s = sx.summary(tree)
    assert [(r.name, r.shape, r.dtype, r.count, r.bytes) for r in s.rows] == [
        ("0/w", (1024, 1024), "bfloat16", 1024 * 1024, 2 * 1024 * 1024),
        ("1/0", (), "float32", 1, 4),
        ("2", (), "int64", 1, 8),
    ]
    assert s.count == 1024 * 1024 + 2 and s.bytes == 2 * 1024 * 1024 + 12
    assert str(s).splitlines()[-1] == "total: 3 variables             1,048,578  2.0 MiB"


def test_empty():
    assert str(sx.summary(sx.Params())) == (
        "name  shape  dtype  parameters  bytes\ntotal: 0 variables           0    0 B"
    )


def test_html():
    params = sx.unflatten({"conv<1>/w": jnp.zeros(3), "b": jnp.zeros(2)})
    out = sx.summary(params)._repr_html_()
    assert out.startswith('<table class="scopax-summary"><thead><tr><th>name</th>')
    assert '<td style="padding-left:0em">conv&lt;1&gt;/</td>' in out
    assert '<td style="padding-left:1.5em">w</td><td>(3,)</td><td>float32</td>' in out
    assert out.endswith(
        "<tfoot><tr><th>total: 2 variables</th><th></th><th></th><th>5</th><th>20 B</th>"
        "</tr></tfoot></table>"
    )
