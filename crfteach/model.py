"""A trained tagger: its features, its weights, Viterbi, and its file.

A :class:`Model` holds what training learned: the feature index (labels and
observations), the template that turns token rows into observations, the
state weights ``W (n_observations, K)`` and the ``transitions (K, K)``.
Tagging a sentence is Viterbi on ``emissions = X @ W``; observations never
seen in training have no weight and are ignored.

The model file
--------------
One ``.npz`` archive (a ZIP file, as written by ``numpy.savez_compressed``)
with exactly three members, readable with ``numpy.load(path,
allow_pickle=False)``; nothing in it is pickled:

- ``header``: a 0-d unicode array holding one JSON object::

      {"format": "crfteach-model", "version": 1,
       "template": "<the template file's text>",
       "columns": <token columns in the training data, the tag excluded>,
       "labels": [...K label strings, in tag-index order...],
       "observations": [...observation strings, in W's row order...]}

- ``W``: float64 array ``(len(observations), len(labels))``;
- ``transitions``: float64 array ``(len(labels), len(labels))``,
  ``[previous, current]``.

:meth:`Model.save` writes the archive to a temporary file in the target's
directory, flushes it to disk and renames it over the target, so an
interrupted run leaves either the previous file or the new one, never half
of one. :meth:`Model.load` checks the format name, the version, the members,
the shapes and the values, and raises ``ValueError`` naming the file when
anything is wrong (a damaged, truncated or foreign file).
"""

import json
import os
import tempfile
import zipfile
import zlib

import numpy as np

from .features import FeatureIndex
from .inference import viterbi
from .templates import Template, parse_template

__all__ = ["FORMAT", "VERSION", "Model"]

FORMAT = "crfteach-model"
VERSION = 1

_MEMBERS = {"header", "W", "transitions"}


class Model:
    """A linear-chain CRF tagger.

    Args:
        index: the :class:`crfteach.FeatureIndex` (labels, observations).
        template: the :class:`crfteach.Template` that makes observations.
        W: ``(n_observations, K)`` state weights.
        transitions: ``(K, K)`` transition weights, ``[previous, current]``.
        n_columns: the token columns of the training data, the tag excluded
            (``None`` when unknown: then the template's own need is used).
    """

    def __init__(self, index, template, W, transitions, n_columns=None):
        W = np.asarray(W, dtype=np.float64)
        transitions = np.asarray(transitions, dtype=np.float64)
        K = index.n_labels
        if W.shape != (index.n_observations, K):
            raise ValueError(f"W must have shape {(index.n_observations, K)}, "
                             f"got {W.shape}")
        if transitions.shape != (K, K):
            raise ValueError(f"transitions must have shape {(K, K)}, "
                             f"got {transitions.shape}")
        if not isinstance(template, Template):
            raise ValueError("template must be a crfteach.Template")
        self.index = index
        self.template = template
        self.W = W
        self.transitions = transitions
        self.n_columns = max(template.n_columns, 1) if n_columns is None else n_columns

    @property
    def labels(self):
        """The K label strings, in tag-index order."""
        return self.index.labels

    def emissions(self, rows):
        """The emission scores of one sentence.

        Args:
            rows: ``T`` token rows, each a list of column strings (no tag).

        Returns:
            ``(T, K)`` array ``X @ W``.
        """
        X = self.index.design_matrix(self.template.observations(rows))
        return np.asarray(X @ self.W).reshape(len(rows), self.index.n_labels)

    def tag(self, rows):
        """The best tag path of one sentence, by Viterbi.

        Args:
            rows: ``T`` token rows, each a list of column strings (no tag).

        Returns:
            list of ``T`` label strings (empty for an empty sentence).
        """
        if len(rows) == 0:
            return []
        path, _ = viterbi(self.emissions(rows), self.transitions)
        return [self.index.labels[k] for k in path]

    def tag_many(self, sentences):
        """:meth:`tag` for many sentences.

        Args:
            sentences: token-row lists, or objects with a ``rows`` attribute
                such as :class:`crfteach.corpus.Sentence`.

        Returns:
            list of tag lists, one per sentence.
        """
        return [self.tag(getattr(s, "rows", s)) for s in sentences]

    def weights(self):
        """Every weight by name, e.g. ``{"B-PER::U02:张": 1.3, ...}``."""
        return self.index.to_dict(self.W, self.transitions, keep_zeros=True)

    def __repr__(self):
        return (f"Model({self.index.n_labels} labels, "
                f"{self.index.n_observations} observations, "
                f"{self.index.n_weights} weights)")

    def save(self, path):
        """Write the model file atomically (see the module docstring).

        Args:
            path: the file to write; it is replaced only once the new file
                is complete on disk.
        """
        header = {
            "format": FORMAT,
            "version": VERSION,
            "template": self.template.source or str(self.template),
            "columns": int(self.n_columns),
            "labels": self.index.labels,
            "observations": self.index.observations,
        }
        arrays = {
            "header": np.array(json.dumps(header, ensure_ascii=False)),
            "W": self.W,
            "transitions": self.transitions,
        }
        _write_atomically(path, lambda handle: np.savez_compressed(handle, **arrays))

    @classmethod
    def load(cls, path):
        """Read a model file written by :meth:`save`.

        Args:
            path: the model file.

        Returns:
            A :class:`Model`.

        Raises:
            FileNotFoundError: if there is no such file.
            ValueError: naming the file, if it is damaged, truncated, not a
                crfteach model, or of another format version.
        """
        path = os.fspath(path)
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path}: no such model file")
        header, W, transitions = _read_members(path)

        # the header: ours, this version, every field present and well typed
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise ValueError(f"{path}: not a crfteach model file (format is not "
                             f"{FORMAT!r})")
        if header.get("version") != VERSION:
            raise ValueError(f"{path}: model format version {header.get('version')!r}"
                             f" is not supported (this crfteach reads {VERSION})")
        for key, kind in [("template", str), ("columns", int), ("labels", list),
                          ("observations", list)]:
            if not isinstance(header.get(key), kind):
                raise ValueError(f"{path}: damaged model file: header field "
                                 f"{key!r} is missing or not a {kind.__name__}")
        names = header["labels"] + header["observations"]
        if not all(isinstance(name, str) for name in names):
            raise ValueError(f"{path}: damaged model file: labels and observations "
                             "must be strings")

        # the pieces must fit together
        try:
            template = parse_template(header["template"])
            index = FeatureIndex(header["labels"], header["observations"])
            model = cls(index, template, W, transitions, n_columns=header["columns"])
        except ValueError as error:
            raise ValueError(f"{path}: damaged model file: {error}") from None
        if not (np.isfinite(W).all() and np.isfinite(transitions).all()):
            raise ValueError(f"{path}: damaged model file: weights are not finite")
        return model


def _read_members(path):
    """The JSON header and the two weight arrays, or a ValueError."""
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic != b"PK\x03\x04":
        raise ValueError(f"{path}: not a crfteach model file (not an .npz archive)")
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError("a single .npy array, not an .npz archive")
        with archive:
            if set(archive.files) != _MEMBERS:
                raise ValueError(f"members {sorted(archive.files)}, expected "
                                 f"{sorted(_MEMBERS)}")
            header = json.loads(str(archive["header"][()]))
            W = archive["W"]
            transitions = archive["transitions"]
    except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile,
            zlib.error) as error:
        raise ValueError(f"{path}: not a crfteach model file or damaged "
                         f"({type(error).__name__}: {error})") from None
    if W.dtype != np.float64 or transitions.dtype != np.float64:
        raise ValueError(f"{path}: damaged model file: weights are not float64")
    return header, W, transitions


def _write_atomically(path, write):
    """Call ``write(handle)`` on a temporary file, then rename it to ``path``."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    handle = tempfile.NamedTemporaryFile(
        dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp",
        delete=False,
    )
    try:
        # the permissions a plain open() would give, not mkstemp's 0600
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(handle.name, 0o666 & ~umask)
        with handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        # interrupted or failed: the target is untouched, the temporary goes
        if os.path.exists(handle.name):
            os.unlink(handle.name)
        raise

    # make the rename itself durable where the platform allows it
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
