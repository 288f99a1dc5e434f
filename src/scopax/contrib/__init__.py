"""``scopax.contrib``: the parts of TF 1.15's ``tf.contrib`` that TF1 models are built
from, each in the submodule of TF's name.

>>> from scopax.contrib import layers, legacy_seq2seq, rnn, seq2seq
>>> layers.layer_norm.__name__, seq2seq.sequence_loss.__name__
('layer_norm', 'sequence_loss')
"""

from scopax.contrib import layers as layers
from scopax.contrib import legacy_seq2seq as legacy_seq2seq
from scopax.contrib import rnn as rnn
from scopax.contrib import seq2seq as seq2seq

__all__ = ["layers", "legacy_seq2seq", "rnn", "seq2seq"]
