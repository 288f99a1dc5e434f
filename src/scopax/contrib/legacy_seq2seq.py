"""``scopax.contrib.legacy_seq2seq``: TF 1.15's ``tf.contrib.legacy_seq2seq``, with its names.

The models take Python lists with one array per time step, as TF's did, and build
their variables with ``sx.get_variable`` under TF 1.15's scopes, so a model ported from
TF gets TF's parameter names (``embedding_attention_seq2seq/rnn/embedding_wrapper/
embedding``, ``.../attention_decoder/AttnW_0``, ...).

>>> import jax, jax.numpy as jnp, scopax as sx
>>> from scopax.contrib import rnn
>>> from scopax.contrib import legacy_seq2seq as seq2seq
>>> cell = rnn.GRUCell(4)
>>> def loss(source, target, weight):
...     go = jnp.zeros_like(target[:1])
...     decoder_inputs = jnp.concatenate([go, target[:-1]])  # GO, then the target shifted
...     logits, _ = seq2seq.embedding_attention_seq2seq(
...         list(source), list(decoder_inputs), cell, num_encoder_symbols=6,
...         num_decoder_symbols=6, embedding_size=3)
...     return seq2seq.sequence_loss(logits, list(target), list(weight))
>>> source, target, weight = jnp.ones((3, 2), int), jnp.ones((3, 2), int), jnp.ones((3, 2))
>>> model = sx.transform(loss)
>>> params = model.init(jax.random.key(0), source, target, weight)
>>> grads = jax.jit(jax.grad(model.apply))(params, source, target, weight)
>>> grads["embedding_attention_seq2seq/embedding_attention_decoder/embedding"].shape
(6, 3)
"""

from scopax.contrib._seq2seq_attention import attention_decoder as attention_decoder
from scopax.contrib._seq2seq_attention import (
    embedding_attention_decoder as embedding_attention_decoder,
)
from scopax.contrib._seq2seq_attention import (
    embedding_attention_seq2seq as embedding_attention_seq2seq,
)
from scopax.contrib._seq2seq_embedding import embedding_rnn_decoder as embedding_rnn_decoder
from scopax.contrib._seq2seq_embedding import embedding_rnn_seq2seq as embedding_rnn_seq2seq
from scopax.contrib._seq2seq_embedding import (
    embedding_tied_rnn_seq2seq as embedding_tied_rnn_seq2seq,
)
from scopax.contrib._seq2seq_losses import model_with_buckets as model_with_buckets
from scopax.contrib._seq2seq_losses import sequence_loss as sequence_loss
from scopax.contrib._seq2seq_losses import sequence_loss_by_example as sequence_loss_by_example
from scopax.contrib._seq2seq_rnn import basic_rnn_seq2seq as basic_rnn_seq2seq
from scopax.contrib._seq2seq_rnn import rnn_decoder as rnn_decoder
from scopax.contrib._seq2seq_rnn import tied_rnn_seq2seq as tied_rnn_seq2seq

__all__ = [
    "attention_decoder",
    "basic_rnn_seq2seq",
    "embedding_attention_decoder",
    "embedding_attention_seq2seq",
    "embedding_rnn_decoder",
    "embedding_rnn_seq2seq",
    "embedding_tied_rnn_seq2seq",
    "model_with_buckets",
    "rnn_decoder",
    "sequence_loss",
    "sequence_loss_by_example",
    "tied_rnn_seq2seq",
]
