"""``scopax.contrib.seq2seq``: TF 1.15's ``tf.contrib.seq2seq.sequence_loss``, over
batch-major ``[batch, time, classes]`` logits.

(The older list-of-steps API, ``tf.contrib.legacy_seq2seq``, is
:mod:`scopax.contrib.legacy_seq2seq`.)

>>> import jax.numpy as jnp
>>> from scopax.contrib import seq2seq
>>> logits = jnp.zeros((2, 3, 4))
>>> seq2seq.sequence_loss(logits, jnp.zeros((2, 3), int), jnp.ones((2, 3)))
Array(1.3862944, dtype=float32)
"""

from scopax.contrib._sequence_loss import sequence_loss as sequence_loss

__all__ = ["sequence_loss"]
