"""Bad arguments to scopax.nn, scopax.layers, scopax.contrib and scopax.losses: each gets
an NNArgumentError (a ScopaxError and ValueError) that names the argument and says what
to pass, before JAX sees it."""

import jax
import jax.numpy as jnp
import pytest

import scopax as sx
from scopax import layers, losses, nn
from scopax.contrib import layers as contrib_layers
from scopax.contrib import seq2seq

X = jnp.ones((2, 5, 5, 3))
W = jnp.ones((3, 3, 3, 4))
M = jnp.ones((4, 5))


def in_transform(fn):
    """Runs ``fn`` where variables can be made (``init`` of a stateful transform)."""
    return lambda: sx.transform_with_state(fn).init(jax.random.key(0))


MISUSE = {
    "conv2d_padding": (lambda: nn.conv2d(X, W, 1, "FULL"), r'padding=.FULL.; pass "SAME"'),
    "conv2d_explicit_pad": (
        lambda: nn.conv2d(X, W, 1, [[1, 1], [0, 0], [0, 0], [0, 0]]),
        r"\[0, 0\] for the batch and channel axes",
    ),
    "conv2d_strides": (lambda: nn.conv2d(X, W, [1, 2, 1], "SAME"), r"strides=\[1, 2, 1\]"),
    "conv2d_strides_batch": (
        lambda: nn.conv2d(X, W, [2, 1, 1, 1], "SAME"),
        "batch and channel entries must be 1",
    ),
    "conv2d_format": (
        lambda: nn.conv2d(X, W, 1, "SAME", data_format="NWHC"),
        r"data_format='NWHC'; pass 'NHWC' or 'NCHW'",
    ),
    "conv2d_rank": (lambda: nn.conv2d(M, W, 1, "SAME"), r"input of rank 4 \(NHWC\)"),
    "conv2d_int": (
        lambda: nn.conv2d(jnp.ones((1, 3, 3, 3), int), W, 1, "SAME"),
        r"input.astype\(jnp.float32\)",
    ),
    "conv2d_transpose_shape": (
        lambda: nn.conv2d_transpose(X, jnp.ones((3, 3, 4, 3)), [2, 5, 5, 4], [1, 2, 2, 1]),
        r"output_shape=\[2, 5, 5, 4\].*pass the output_shape",
    ),
    "conv2d_filter_channels": (
        lambda: nn.conv2d(X, jnp.ones((3, 3, 2, 4)), 1, "SAME"),
        "filter's in_channels .* must be the input's 3 channels",
    ),
    "conv2d_transpose_filter": (
        lambda: nn.conv2d_transpose(X, W, [2, 10, 10, 3], [1, 2, 2, 1]),
        r"the filter is \[rows, cols, output channels, value's channels\]",
    ),
    "depthwise_filter": (
        lambda: nn.depthwise_conv2d(X, jnp.ones((3, 3, 3)), 1, "SAME"),
        "filter .rows, cols, in_channels, channel_multiplier.",
    ),
    "dropout_both": (lambda: nn.dropout(M, 0.5, rate=0.5), "exactly one of keep_prob and rate"),
    "dropout_neither": (lambda: nn.dropout(M), "exactly one of keep_prob and rate"),
    "dropout_keep_prob": (lambda: nn.dropout(M, 1.5), r"keep_prob=1.5; pass a probability"),
    "dropout_rate": (lambda: nn.dropout(M, rate=1.0), r"rate=1.0; pass a drop probability"),
    "dropout_noise_shape": (
        in_transform(lambda: nn.dropout(M, 0.5, noise_shape=[3, 1])),
        r"noise_shape=\[3, 1\]",
    ),
    "bias_add_shape": (lambda: nn.bias_add(M, jnp.ones(4)), "bias must be a vector as long"),
    "xw_plus_b_rank": (
        lambda: nn.xw_plus_b(X, jnp.ones((3, 2)), jnp.ones(2)),
        r"reshape x to \[batch, depth\]",
    ),
    "batch_normalization_rank": (
        lambda: nn.batch_normalization(M, jnp.ones((1, 1, 5)), 1.0, None, None, 0.1),
        "mean of shape .1, 1, 5. for x of shape",
    ),
    "top_k": (lambda: nn.top_k(M, 6), "k=6 .*at most the size of the last axis"),
    "in_top_k_float_targets": (
        lambda: nn.in_top_k(M, jnp.zeros(4), 1),
        "targets of dtype float32; pass integer",
    ),
    "sigmoid_xent_positional": (
        lambda: nn.sigmoid_cross_entropy_with_logits(M, M),
        r"labels=\.\.\., logits=\.\.\.",
    ),
    "weighted_xent_pos_weight": (
        lambda: nn.weighted_cross_entropy_with_logits(labels=M, logits=M),
        "needs pos_weight",
    ),
    "layers_conv2d_format": (
        in_transform(lambda: layers.conv2d(X, 2, 3, data_format="NHWC")),
        'data_format=.NHWC.; pass "channels_last"',
    ),
    "layers_conv2d_kernel": (
        in_transform(lambda: layers.conv2d(X, 2, (3, 3, 3))),
        r"kernel_size=\(3, 3, 3\); pass an int or 2 ints",
    ),
    "layers_conv1d_rank": (in_transform(lambda: layers.conv1d(X, 2, 3)), "inputs of rank 3"),
    "layers_pool_padding": (
        lambda: layers.max_pooling2d(X, 2, 2, padding="full"),
        r"padding='full'; pass \"same\" or \"valid\"",
    ),
    "layers_dropout_rate": (lambda: layers.dropout(M, 1.5), r"rate=1.5; pass a drop"),
    "layers_flatten_format": (
        lambda: layers.flatten(M, data_format="NHWC"),
        'data_format=.NHWC.; pass "channels_last"',
    ),
    "layer_norm_axis": (
        in_transform(lambda: contrib_layers.layer_norm(M, begin_norm_axis=2)),
        "begin_norm_axis=2 .*must be axes of the inputs",
    ),
    "batch_norm_renorm": (
        in_transform(lambda: contrib_layers.batch_norm(M, renorm=True)),
        "renorm=True, which scopax does not port",
    ),
    "batch_norm_initializers": (
        in_transform(lambda: contrib_layers.batch_norm(M, param_initializers={"scale": 1})),
        r"\['scale'\]; the keys are",
    ),
    "batch_norm_format": (
        in_transform(lambda: contrib_layers.batch_norm(M, data_format="NCW")),
        'data_format=.NCW.; pass "NHWC" or "NCHW"',
    ),
    "sequence_loss_rank": (
        lambda: seq2seq.sequence_loss(M, jnp.ones((4, 5), int), M),
        r"logits of shape \[batch, time, classes\]",
    ),
    "sequence_loss_both": (
        lambda: seq2seq.sequence_loss(
            jnp.ones((4, 5, 2)), jnp.ones((4, 5), int), M, sum_over_batch=True
        ),
        "average_across_batch=True and sum_over_batch=True",
    ),
    "losses_reduction": (
        lambda: losses.mean_squared_error(M, M, reduction="mean"),
        "reduction='mean'; pass one of scopax.losses.Reduction",
    ),
    "losses_weights": (
        lambda: losses.absolute_difference(M, M, weights=jnp.ones(5)),
        r"weights of shape \(5,\).*e.g. \[batch, 1\]",
    ),
    "losses_shapes": (
        lambda: losses.huber_loss(M, jnp.ones((5, 4))),
        r"labels of shape \(4, 5\) and predictions of shape \(5, 4\)",
    ),
    "cosine_axis": (lambda: losses.cosine_distance(M, M), "needs axis"),
}


@pytest.mark.parametrize("name", sorted(MISUSE))
def test_bad_arguments_name_the_argument_and_the_fix(name):
    fn, message = MISUSE[name]
    with pytest.raises(sx.errors.NNArgumentError, match=message):
        fn()


def test_get_total_loss_says_to_add_the_losses():
    with pytest.raises(sx.errors.GraphOnlyError, match="add them yourself"):
        losses.get_total_loss()
