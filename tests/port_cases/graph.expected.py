# type: ignore
# ruff: noqa
# fmt: off
# A scopax.port test input: a TF1 training script, with every kind of graph code.
import scopax.compat.v1 as tf
from scopax.compat.v1 import placeholder, summary

tf.disable_v2_behavior()

BATCH = 32


def read_batches(pattern):
    """The queue-based input pipeline of old TF1 tutorials."""
    files = tf.train.string_input_producer(tf.gfile.Glob(pattern))
    reader = tf.TFRecordReader()
    _, record = reader.read(files)
    queue = tf.FIFOQueue(capacity=64, dtypes=[tf.string])
    enqueue = queue.enqueue([record])
    tf.train.add_queue_runner(tf.train.QueueRunner(queue, [enqueue]))
    if BATCH < 64:
        return tf.train.batch([queue.dequeue()], BATCH)
    return tf.train.shuffle_batch([queue.dequeue()], BATCH, 1000, 100)


def log(trainer, summary=None):  # not tf.summary: a parameter, and below a keyword
    return trainer.report(summary=summary, placeholder=trainer.placeholder)


def model(images, training):
    with tf.variable_scope("model"):
        hidden = tf.layers.dense(images, 128, activation=tf.nn.relu)
        hidden = tf.layers.dropout(hidden, 0.5, training=training)
        return tf.layers.dense(hidden, 10)


class Trainer:
    def __init__(self):
        tf.reset_default_graph()
        self.images = tf.placeholder(tf.float32, [None, 784], name="images")
        self.labels = placeholder(tf.int64, [None])
        self.training = tf.placeholder_with_default(False, [])
        logits = model(self.images, self.training)
        self.loss = tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=self.labels, logits=logits))
        grads = tf.gradients(self.loss, tf.trainable_variables())
        opt = tf.train.AdamOptimizer(1e-3)
        self.train_op = opt.apply_gradients(zip(grads, tf.trainable_variables()))
        self.updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
        tf.summary.scalar("loss", self.loss)
        self.summaries = tf.summary.merge_all()
        self.saver = tf.train.Saver(max_to_keep=3)
        self.sess = tf.Session()
        self.sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])

    def step(self, images, labels):
        feed = {self.images: images, self.labels: labels, self.training: True}
        _, loss = self.sess.run([self.train_op, self.loss], feed_dict=feed)
        return loss


def evaluate(trainer, images, labels):
    session = tf.InteractiveSession()
    session.run(tf.initialize_all_variables())
    return trainer.loss.eval(feed_dict={trainer.images: images, trainer.labels: labels})


def main(data, logdir):
    tf.set_random_seed(0)
    trainer = Trainer()
    tf.train.init_from_checkpoint("pretrained/model.ckpt", {"model/": "model/"})
    writer = tf.summary.FileWriter(logdir, tf.get_default_graph())
    coord = tf.train.Coordinator()
    threads = tf.train.start_queue_runners(sess=trainer.sess, coord=coord)
    for step, (images, labels) in enumerate(data):
        loss = trainer.step(images, labels)
        if step % 100 == 0:
            trainer.saver.save(trainer.sess, logdir + "/model.ckpt", global_step=step)
    with tf.train.MonitoredTrainingSession(checkpoint_dir=logdir) as mon:
        while not mon.should_stop():
            mon.run(trainer.train_op)
    return [v.name for v in tf.global_variables()]
