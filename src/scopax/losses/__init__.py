"""``scopax.losses``: TF 1.15's ``tf.losses``: a per-element loss, weighted, then reduced
(by default the sum divided by the number of non-zero weights).

TF1 also adds each loss to the ``LOSSES`` collection, for ``tf.losses.get_total_loss``;
scopax has no collections: each function returns its loss, and you add them up
(``get_total_loss`` raises and says so).

>>> import jax.numpy as jnp
>>> from scopax import losses
>>> labels, logits = jnp.array([0, 1]), jnp.array([[2.0, 0.0], [0.0, 2.0]])
>>> losses.sparse_softmax_cross_entropy(labels, logits, weights=jnp.array([1.0, 0.0]))
Array(0.12692805, dtype=float32)
"""

from scopax.losses._losses import absolute_difference as absolute_difference
from scopax.losses._losses import cosine_distance as cosine_distance
from scopax.losses._losses import get_regularization_loss as get_regularization_loss
from scopax.losses._losses import get_regularization_losses as get_regularization_losses
from scopax.losses._losses import get_total_loss as get_total_loss
from scopax.losses._losses import hinge_loss as hinge_loss
from scopax.losses._losses import huber_loss as huber_loss
from scopax.losses._losses import log_loss as log_loss
from scopax.losses._losses import mean_squared_error as mean_squared_error
from scopax.losses._losses import sigmoid_cross_entropy as sigmoid_cross_entropy
from scopax.losses._losses import softmax_cross_entropy as softmax_cross_entropy
from scopax.losses._losses import sparse_softmax_cross_entropy as sparse_softmax_cross_entropy
from scopax.losses._reduction import Reduction as Reduction
from scopax.losses._reduction import compute_weighted_loss as compute_weighted_loss

__all__ = [
    "Reduction",
    "absolute_difference",
    "compute_weighted_loss",
    "cosine_distance",
    "get_regularization_loss",
    "get_regularization_losses",
    "get_total_loss",
    "hinge_loss",
    "huber_loss",
    "log_loss",
    "mean_squared_error",
    "sigmoid_cross_entropy",
    "softmax_cross_entropy",
    "sparse_softmax_cross_entropy",
]
