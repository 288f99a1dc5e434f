"""TF's PTB word language model tutorial (``tutorials/rnn/ptb``) on scopax: model, data,
training.

``python examples/ptb/train.py`` trains the tutorial's small model; see ``train.py``.
"""
