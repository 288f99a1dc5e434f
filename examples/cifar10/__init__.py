"""TF's CIFAR-10 tutorial (``tutorials/image/cifar10``) on scopax: model, data, training.

``python examples/cifar10/train.py`` trains the tutorial's network; see ``train.py``.
"""
