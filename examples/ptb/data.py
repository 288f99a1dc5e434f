"""PTB data: the real text files, read as TF's ``reader.py`` reads them, or a built-in
synthetic corpus; and the batching of a word stream into ``[batch, num_steps]`` chunks.

The real data is the Penn Treebank as Mikolov distributes it (``simple-examples/data``):
``ptb.train.txt``, ``ptb.valid.txt`` and ``ptb.test.txt``, one sentence a line, already
tokenized, rare words replaced by ``<unk>``. Each newline becomes the word ``<eos>``; the
vocabulary is the training file's words, the most frequent first (ties in alphabetical
order), so the real files give TF's 10,000 word ids. Words of the valid and test files
that the training file lacks are dropped, as TF's reader drops them.

Without the real files, :func:`synthetic` generates a corpus with learnable structure:
each word is followed by one of a few successors, with fixed probabilities, and
sentences end at random. A model that learns the successors reaches a perplexity near
the corpus's own (printed with it), far below the vocabulary's size.
"""

from __future__ import annotations

import collections
import dataclasses
import math
from pathlib import Path

import numpy as np

EOS = "<eos>"
FILES = {"train": "ptb.train.txt", "valid": "ptb.valid.txt", "test": "ptb.test.txt"}


class DataError(ValueError):
    """The data cannot be used: a missing file, no known words, text too short."""


@dataclasses.dataclass(frozen=True)
class Corpus:
    """Word ids ``int32 [n]`` of each split, the vocabulary (id -> word) and where it came
    from."""

    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    vocabulary: tuple[str, ...]
    description: str

    @property
    def vocab_size(self) -> int:
        return len(self.vocabulary)


def read_words(path: str | Path) -> list[str]:
    """The words of a file, ``<eos>`` at the end of each line."""
    text = Path(path).read_text(encoding="utf-8")
    return text.replace("\n", f" {EOS} ").split()


def build_vocabulary(words: list[str]) -> dict[str, int]:
    """Word ids by frequency, the most frequent 0; ties broken alphabetically (TF's rule)."""
    counts = collections.Counter(words)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return {word: index for index, (word, _) in enumerate(ordered)}


def to_ids(words: list[str], word_to_id: dict[str, int]) -> np.ndarray:
    """The ids of the words the vocabulary has; the others are dropped, as in TF."""
    return np.array([word_to_id[w] for w in words if w in word_to_id], np.int32)


def load_ptb(data_dir: str | Path) -> Corpus:
    """The three PTB files of ``data_dir``, as word ids over the training vocabulary.

    Raises:
      DataError: a file is missing (the message names the three expected), or has no
        word of the vocabulary.
    """
    directory = Path(data_dir)
    missing = [name for name in FILES.values() if not (directory / name).is_file()]
    if missing:
        raise DataError(
            f"{directory} lacks {', '.join(missing)}; --data-dir needs {', '.join(FILES.values())} "
            "(simple-examples/data of Mikolov's PTB archive)."
        )
    words = {split: read_words(directory / name) for split, name in FILES.items()}
    word_to_id = build_vocabulary(words["train"])
    ids = {split: to_ids(w, word_to_id) for split, w in words.items()}
    for split, values in ids.items():
        if values.size == 0:
            raise DataError(f"{directory / FILES[split]} has no words of the vocabulary.")
    return Corpus(
        ids["train"],
        ids["valid"],
        ids["test"],
        tuple(word_to_id),
        f"Penn Treebank from {directory}",
    )


def _successor_table(
    rng: np.random.RandomState, vocab_size: int, branching: int
) -> tuple[np.ndarray, np.ndarray]:
    """For each word (id 1..; id 0 is ``<eos>``) its successors and their probabilities."""
    successors = rng.randint(1, vocab_size, size=(vocab_size, branching))
    probabilities = rng.dirichlet(np.ones(branching), size=vocab_size)
    return successors, probabilities


def synthetic(
    vocab_size: int = 1000,
    train_words: int = 200_000,
    eval_words: int = 20_000,
    branching: int = 3,
    end_probability: float = 0.1,
    seed: int = 0,
) -> Corpus:
    """A corpus of sentences from a sparse random bigram model.

    Each sentence starts with a uniformly drawn word; after each word the sentence ends
    (``<eos>``) with ``end_probability``, else the next word is one of the word's
    ``branching`` successors. Valid and test text come from the same model.

    Args:
      vocab_size: words, ``<eos>`` included (at least 3).
      train_words: words of training text; ``eval_words`` of valid and of test text.
      branching: successors of each word.
      end_probability: the chance that a sentence ends after a word.
      seed: of the model and of the text.
    """
    if vocab_size < 3:
        raise DataError(f"synthetic needs a vocab_size of at least 3, got {vocab_size}.")
    rng = np.random.RandomState(seed)
    successors, probabilities = _successor_table(rng, vocab_size, branching)
    cumulative = np.cumsum(probabilities, axis=1)

    def text(length: int) -> np.ndarray:
        out = np.empty(length, np.int32)
        ends = rng.random_sample(length) < end_probability
        choices = rng.random_sample(length)
        starts = rng.randint(1, vocab_size, size=length)
        word = 0  # <eos>: the first word starts a sentence
        for i in range(length):
            if word == 0:
                word = starts[i]
            elif ends[i]:
                word = 0
            else:
                pick = min(int(np.searchsorted(cumulative[word], choices[i])), branching - 1)
                word = successors[word, pick]
            out[i] = word
        return out

    train, valid, test = text(train_words), text(eval_words), text(eval_words)
    vocabulary = (EOS, *(f"w{i:0{len(str(vocab_size))}d}" for i in range(1, vocab_size)))
    floor = math.exp(_entropy_per_word(probabilities, end_probability, vocab_size))
    return Corpus(
        train,
        valid,
        test,
        vocabulary,
        f"built-in synthetic corpus (a sparse bigram model of {vocab_size} words, "
        f"{branching} successors each; its own perplexity is about {floor:.1f}); "
        "pass --data-dir for the real PTB",
    )


def _entropy_per_word(probabilities: np.ndarray, end: float, vocab_size: int) -> float:
    """The source's entropy per word, in nats: the floor of a model's log perplexity."""
    successor = -np.sum(probabilities * np.log(probabilities), axis=1).mean()
    binary = -(end * math.log(end) + (1 - end) * math.log(1 - end))
    within = binary + (1 - end) * successor
    # After <eos> the next word is uniform: one word in (1 / end + 1) is such a start.
    start_share = end / (1 + end)
    return (1 - start_share) * within + start_share * math.log(vocab_size - 1)


def epoch_size(num_words: int, batch_size: int, num_steps: int) -> int:
    """Chunks in one pass: ``(num_words // batch_size - 1) // num_steps``, as TF's producer."""
    return (num_words // batch_size - 1) // num_steps


def chunks(ids: np.ndarray, batch_size: int, num_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and targets ``int32 [epoch_size, batch_size, num_steps]``, TF's batching:
    the stream is cut into ``batch_size`` rows read in parallel, and the targets are the
    inputs shifted by one word.

    Raises:
      DataError: the stream is too short for one chunk.
    """
    n = epoch_size(len(ids), batch_size, num_steps)
    if n <= 0:
        raise DataError(
            f"{len(ids)} words make no chunk of batch_size {batch_size} x num_steps "
            f"{num_steps}; decrease batch_size or num_steps."
        )
    batch_len = len(ids) // batch_size
    rows = np.asarray(ids[: batch_size * batch_len], np.int32).reshape(batch_size, batch_len)
    x = rows[:, : n * num_steps].reshape(batch_size, n, num_steps)
    y = rows[:, 1 : n * num_steps + 1].reshape(batch_size, n, num_steps)
    return x.transpose(1, 0, 2), y.transpose(1, 0, 2)
