# type: ignore
# ruff: noqa
# fmt: off
# A scopax.port test input: a parameter's .name (a TF tensor's name; JAX arrays have
# none) and the .name reads and writes that are left alone.
import tensorflow as tf


def check_rank(values, rank, label=None):
    if label is None:
        label = values.name  # the tensor's name, for the message
    if values.shape.ndims != rank:
        raise ValueError("%s: rank %d, not %d" % (label, values.shape.ndims, rank))
    where = "in " + (values.name)
    return values.name.split(":")[0], where


def dense(inputs, units, scope=None):
    with tf.variable_scope(scope, default_name="dense") as scope:
        prefix = scope.name  # a variable scope: kept
    current = tf.get_variable_scope().name  # not a bare name: kept
    outer = tf.get_variable_scope()
    kernel = tf.get_variable("kernel", [inputs.get_shape()[-1].value, units])
    kernel.name = "kernel:0"  # an attribute assignment: kept
    return tf.matmul(inputs, kernel), prefix, current, outer.name, kernel.name


def scoped(scope, values):
    scope = tf.get_variable_scope()  # the parameter, bound again to a scope: kept
    return scope.name, values.name


def rename(tensor, label):
    del tensor.name  # not a read: kept
    tensor.name += label  # an augmented assignment: kept
    first, = [t.name for t in [tensor]]  # a comprehension's own name: kept
    return getattr(tensor, "name", "tensor"), first  # ported already: kept


class Block(object):

    def __init__(self, config, name="block"):
        self.name = name  # kept: the instance's own attribute
        self.width = config.name  # a parameter: rewritten

    def __call__(this, inputs):
        return this.name, inputs.name  # `this` is the instance: kept; `inputs` not

    @classmethod
    def build(cls, spec):
        return cls.name, spec.name  # cls: kept; `spec` rewritten


def model_fn(features, labels):
    net = features["x"]
    scale = lambda t: (t.name, t * 2)
    def head(logits):
        return logits.name, labels.name  # `labels` is the outer function's: kept
    return head(net), scale(net), net.name  # `net` is a local: kept
