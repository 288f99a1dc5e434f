"""Compatibility layers for code written against other frameworks' APIs.

``scopax.compat.v1`` runs TensorFlow 1 model code: ``import scopax.compat.v1 as tf``.

>>> import scopax.compat.v1 as tf
>>> tf.reduce_sum(tf.ones([2, 3]), axis=1, keep_dims=True).shape
(2, 1)
"""
