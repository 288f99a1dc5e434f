"""``tf.contrib.layers.fully_connected`` and ``conv2d``: ``weights`` and ``biases``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax

import scopax as sx
from scopax.errors import NNArgumentError
from scopax.nn._conv import _conv
from scopax.nn._ops import bias_add
from scopax.nn._util import bias_last, float_dtype, int_tuple, matmul_last, padding_name

_ZEROS = sx.zeros_initializer()
# TF's `xavier_initializer()`, the contrib layers' explicit default: unlike `None`, it
# is used even inside a scope with its own initializer, as in TF.
_XAVIER = sx.glorot_uniform_initializer()
Activation = Callable[[jax.Array], jax.Array] | None


def _finish(
    outputs: jax.Array,
    normalizer_fn: Callable[..., jax.Array] | None,
    normalizer_params: dict[str, Any] | None,
    biases_initializer: Any,
    bias_shape: list[int],
    add: Callable[[jax.Array, jax.Array], jax.Array],
    dtype: Any,
    trainable: bool,
    biases_regularizer: Any,
) -> jax.Array:
    """The normalizer (in the layer's scope, instead of biases), or the biases."""
    if normalizer_fn is not None:
        return normalizer_fn(outputs, **(normalizer_params or {}))
    if biases_initializer is None:
        return outputs
    biases = sx.get_variable(
        "biases",
        bias_shape,
        dtype,
        biases_initializer,
        trainable=trainable,
        regularizer=biases_regularizer,
    )
    return add(outputs, biases)


def fully_connected(
    inputs: Any,
    num_outputs: int,
    activation_fn: Activation = jax.nn.relu,
    normalizer_fn: Callable[..., jax.Array] | None = None,
    normalizer_params: dict[str, Any] | None = None,
    weights_initializer: Any = _XAVIER,
    weights_regularizer: Any = None,
    biases_initializer: Any = _ZEROS,
    biases_regularizer: Any = None,
    reuse: Any = None,
    variables_collections: Any = None,
    outputs_collections: Any = None,
    trainable: bool = True,
    scope: Any = None,
) -> jax.Array:
    """``tf.contrib.layers.fully_connected``: a dense layer, ReLU by default.

    Variables ``weights`` and ``biases`` in scope ``scope``, or ``fully_connected``
    made unique. With a ``normalizer_fn`` there are no biases: the normalizer runs on
    ``inputs @ weights`` (in the same scope) before the activation.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax.contrib import layers
    >>> model = sx.transform(lambda x: layers.fully_connected(x, 4))
    >>> params = model.init(jax.random.key(0), jnp.ones((2, 3)))
    >>> sorted(sx.flatten(params))
    ['fully_connected/biases', 'fully_connected/weights']
    >>> bool((model.apply(params, jnp.ones((2, 3))) >= 0).all())  # ReLU
    True

    Args:
      inputs: ``[..., depth]``.
      num_outputs: the output depth.
      activation_fn: ``jax.nn.relu`` by default; ``None`` for a linear layer.
      normalizer_fn: e.g. :func:`batch_norm`, called as
        ``normalizer_fn(outputs, **normalizer_params)``.
      normalizer_params: keyword arguments for ``normalizer_fn``.
      weights_initializer: ``glorot_uniform`` (TF's ``xavier_initializer()``).
      weights_regularizer, biases_regularizer: ``f(variable) -> loss``.
      biases_initializer: zeros; ``None`` for no biases.
      reuse: ``True`` or ``sx.AUTO_REUSE``, with ``scope``.
      variables_collections, outputs_collections: accepted and ignored: scopax has no
        collections.
      trainable: ``False`` makes the variables state.
      scope: the variable scope (a string or ``sx.VariableScope``).

    Returns:
      ``[..., num_outputs]``.
    """
    del variables_collections, outputs_collections
    dtype = float_dtype(inputs, "fully_connected")
    with sx.variable_scope(scope, "fully_connected", [inputs], reuse=reuse):
        weights = sx.get_variable(
            "weights",
            [inputs.shape[-1], num_outputs],
            dtype,
            weights_initializer,
            trainable=trainable,
            regularizer=weights_regularizer,
        )
        outputs = _finish(
            matmul_last(inputs, weights),
            normalizer_fn,
            normalizer_params,
            biases_initializer,
            [num_outputs],
            bias_last,
            dtype,
            trainable,
            biases_regularizer,
        )
    return outputs if activation_fn is None else activation_fn(outputs)


def conv2d(
    inputs: Any,
    num_outputs: int,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] = 1,
    padding: str = "SAME",
    data_format: str | None = None,
    rate: int | Sequence[int] = 1,
    activation_fn: Activation = jax.nn.relu,
    normalizer_fn: Callable[..., jax.Array] | None = None,
    normalizer_params: dict[str, Any] | None = None,
    weights_initializer: Any = _XAVIER,
    weights_regularizer: Any = None,
    biases_initializer: Any = _ZEROS,
    biases_regularizer: Any = None,
    reuse: Any = None,
    variables_collections: Any = None,
    outputs_collections: Any = None,
    trainable: bool = True,
    scope: Any = None,
) -> jax.Array:
    """``tf.contrib.layers.conv2d``: a 2-D convolution, ``"SAME"`` and ReLU by default.

    Variables ``weights`` ``[rows, cols, in_channels, num_outputs]`` and ``biases`` in
    scope ``scope``, or ``Conv`` made unique (TF's name for it). With a
    ``normalizer_fn``, as :func:`fully_connected`.

    >>> import jax, jax.numpy as jnp, scopax as sx
    >>> from scopax.contrib import layers
    >>> model = sx.transform(lambda x: layers.conv2d(x, 4, 3))
    >>> params = model.init(jax.random.key(0), jnp.ones((1, 5, 5, 2)))
    >>> sorted(sx.flatten(params)), model.apply(params, jnp.ones((1, 5, 5, 2))).shape
    (['Conv/biases', 'Conv/weights'], (1, 5, 5, 4))

    Args:
      inputs: ``[batch, rows, cols, channels]`` (``"NCHW"``: channels second).
      num_outputs: the output channels.
      kernel_size, stride, rate: an int or a pair; ``rate`` is the dilation.
      padding: ``"SAME"`` or ``"VALID"``.
      data_format: ``None`` or ``"NHWC"``, or ``"NCHW"``.
      activation_fn: ReLU by default; the other arguments are as in
        :func:`fully_connected`.
    """
    del variables_collections, outputs_collections
    op = "conv2d"
    dtype = float_dtype(inputs, op)
    layout = "NHWC" if data_format is None else data_format
    if layout not in ("NHWC", "NCHW"):
        raise NNArgumentError(f'conv2d got data_format={data_format!r}; pass "NHWC" or "NCHW".')
    size = int_tuple(kernel_size, 2, op, "kernel_size")
    with sx.variable_scope(scope, "Conv", [inputs], reuse=reuse):
        if inputs.ndim != 4:
            raise NNArgumentError(f"conv2d takes inputs of rank 4 ({layout}), got {inputs.shape}.")
        weights = sx.get_variable(
            "weights",
            [*size, inputs.shape[layout.index("C")], num_outputs],
            dtype,
            weights_initializer,
            trainable=trainable,
            regularizer=weights_regularizer,
        )
        outputs = _conv(
            inputs,
            weights,
            int_tuple(stride, 2, op, "stride"),
            padding_name(padding, op),
            layout,
            int_tuple(rate, 2, op, "rate"),
            op,
            2,
        )
        outputs = _finish(
            outputs,
            normalizer_fn,
            normalizer_params,
            biases_initializer,
            [num_outputs],
            lambda x, b: bias_add(x, b, layout),
            dtype,
            trainable,
            biases_regularizer,
        )
    return outputs if activation_fn is None else activation_fn(outputs)
