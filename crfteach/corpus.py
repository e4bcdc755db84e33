"""CRF++/CoNLL column files, tag schemes and entity spans.

A corpus file has one token a line, its columns separated by spaces or
tabs, the tag in the last column, and a blank line between sentences::

    张 B-PER
    三 I-PER
    去 O
    北 B-LOC
    京 I-LOC

Files are UTF-8; a byte-order mark, CRLF line ends and runs of blank lines
are accepted. Every token line of a file must have the same number of
columns. Errors are ``ValueError("path:line: message")``.

Tag schemes, with ``O`` outside every entity and ``X`` an entity type:

====== ===================================================================
BIO    ``B-X`` begins an entity, ``I-X`` continues it (also called IOB2)
BIOES  ``B-X`` ``I-X`` ... ``E-X``, and ``S-X`` a one-token entity (IOBES)
BMES   as BIOES with ``M-X`` for the middle (the Resume NER corpus)
====== ===================================================================

An entity span is ``(type, start, end_exclusive)`` in token positions.

Ill-formed sequences (``I-X`` after ``O``, ``M-X`` without ``B-X``, a type
change inside an entity, ``B-X`` never closed by ``E-X``) are reported by
:func:`check_tags` and turned into spans by one of two policies:

``"strict"`` (the default)
    An entity must be well formed to count. In BIO it is ``B-X`` followed
    by every ``I-X`` that continues it; a stray ``I-X`` is ignored. In
    BIOES/BMES it is ``S-X``, or ``B-X`` (``I-X``/``M-X`` ...) ``E-X``; an
    entity that is not closed, and a stray inside or end tag, are ignored.
    This is what seqeval computes with ``mode="strict"``.
``"lenient"``
    As conlleval: every non-``O`` tag that does not continue the entity
    before it starts a new one, and an entity ends where the next tag does
    not continue it. Nothing is thrown away.

On well-formed sequences the two policies give the same spans.
"""

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

__all__ = [
    "SCHEMES",
    "SPLITS",
    "Sentence",
    "TagProblem",
    "bundled_path",
    "check_tags",
    "detect_scheme",
    "entity_spans",
    "load_bundled",
    "normalize_scheme",
    "parse_conll",
    "read_conll",
    "write_conll",
]

SCHEMES = ("BIO", "BIOES", "BMES")
SPLITS = ("train", "dev", "test")
POLICIES = ("strict", "lenient")

_ALIASES = {"BIO": "BIO", "IOB2": "BIO", "BIOES": "BIOES", "IOBES": "BIOES",
            "BMES": "BMES"}
_PREFIXES = {"BIO": "BI", "BIOES": "BIES", "BMES": "BMES"}
_INSIDE = {"BIO": "I", "BIOES": "I", "BMES": "M"}
_COLUMN_SEP = re.compile(r"[ \t]+")
_LINE_END = re.compile(r"\r\n|\r|\n")
_DATA_DIR = Path(__file__).resolve().parent / "data" / "corpus"


@dataclass
class Sentence:
    """One sentence of a column file.

    Attributes:
        rows: one list of column strings per token, WITHOUT the tag, (T, C).
        tags: the tag of each token, (T,); empty for an untagged file.
        line: 1-based line number of the sentence's first token.
    """

    rows: list
    tags: list = field(default_factory=list)
    line: int = 0

    @property
    def tokens(self):
        """The first column of each row, (T,)."""
        return [row[0] for row in self.rows]

    def __len__(self):
        return len(self.rows)


# ---------------------------------------------------------------- reading


def parse_conll(text, name="<string>", tagged=True):
    """Parse the text of a column file.

    Args:
        text: the whole file as a string (a leading BOM is dropped).
        name: what error messages call the file, e.g. its path.
        tagged: True when the last column is the tag; False reads every
            column into ``rows`` and leaves ``tags`` empty (text to tag).

    Returns:
        list of :class:`Sentence`, in file order.

    Raises:
        ValueError: ``"name:line: message"`` for a token line whose column
            count differs from the first token line's, a tagged line with
            a single column (the tag is missing), or a file with no sentence.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    sentences, rows, tags, first = [], [], [], 0
    n_columns, columns_line = None, 0

    # Each blank line closes the sentence being read, if any.
    for number, line in enumerate(_LINE_END.split(text), start=1):
        stripped = line.strip(" \t")
        if not stripped:
            if rows:
                sentences.append(Sentence(rows, tags, first))
                rows, tags = [], []
            continue

        # A token line: check its columns against the file's first token line.
        # Characters and tags repeat all through a corpus: one copy of each
        # string (sys.intern) keeps a large corpus several times smaller.
        columns = list(map(sys.intern, _COLUMN_SEP.split(stripped)))
        if tagged and len(columns) == 1:
            raise ValueError(
                f"{name}:{number}: only one column {columns[0]!r}; "
                "expected a token and its tag (the tag is the last column)"
            )
        if n_columns is None:
            n_columns, columns_line = len(columns), number
        elif len(columns) != n_columns:
            raise ValueError(
                f"{name}:{number}: {len(columns)} columns, but line "
                f"{columns_line} has {n_columns}"
            )

        # Keep the tag apart from the observation columns.
        if not rows:
            first = number
        if tagged:
            rows.append(columns[:-1])
            tags.append(columns[-1])
        else:
            rows.append(columns)

    if rows:
        sentences.append(Sentence(rows, tags, first))
    if not sentences:
        raise ValueError(f"{name}:1: no sentence (the file is empty or blank)")
    return sentences


def read_conll(path, tagged=True):
    """Read a UTF-8 column file.

    Args:
        path: a file path (str or ``pathlib.Path``).
        tagged: see :func:`parse_conll`.

    Returns:
        list of :class:`Sentence`.

    Raises:
        ValueError: ``"path:line: message"`` for bytes that are not UTF-8
            and for every error :func:`parse_conll` reports.
        OSError: when the file cannot be opened.
    """
    data = Path(path).read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        number = data[: error.start].count(b"\n") + 1
        raise ValueError(f"{path}:{number}: not UTF-8 ({error.reason})") from None
    return parse_conll(text, name=str(path), tagged=tagged)


def write_conll(sentences, path_or_file, extra_tags=None, sep=" "):
    """Write sentences as a column file: rows, tag, extra tag; blank lines.

    Args:
        sentences: list of :class:`Sentence`; an empty ``tags`` writes no
            tag column.
        path_or_file: a path (written as UTF-8 with LF line ends) or an open
            text file.
        extra_tags: optional list with one tag sequence per sentence, written
            as one more last column (e.g. predicted tags after gold tags).
        sep: the column separator, a space by default.

    Returns:
        None.

    Raises:
        ValueError: when ``extra_tags`` or a sentence's ``tags`` do not
            match the sentence lengths.
    """
    if extra_tags is not None and len(extra_tags) != len(sentences):
        raise ValueError(
            f"extra_tags has {len(extra_tags)} sequences for "
            f"{len(sentences)} sentences"
        )

    # Build the whole text first, so a bad argument writes nothing.
    lines = []
    for i, sentence in enumerate(sentences):
        T = len(sentence.rows)
        columns = [list(row) for row in sentence.rows]
        if sentence.tags:
            _check_length("tags", sentence.tags, i, T)
            for row, tag in zip(columns, sentence.tags):
                row.append(tag)
        if extra_tags is not None:
            _check_length("extra_tags", extra_tags[i], i, T)
            for row, tag in zip(columns, extra_tags[i]):
                row.append(tag)
        lines.extend(sep.join(row) for row in columns)
        lines.append("")
    text = "\n".join(lines) + ("\n" if lines else "")

    if hasattr(path_or_file, "write"):
        path_or_file.write(text)
    else:
        with open(path_or_file, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)


def _check_length(what, tags, i, T):
    if len(tags) != T:
        raise ValueError(f"{what} of sentence {i} has {len(tags)} tags for {T} tokens")


# ---------------------------------------------------------------- schemes


def normalize_scheme(scheme):
    """The canonical name of a scheme: ``"BIO"``, ``"BIOES"`` or ``"BMES"``.

    Args:
        scheme: any of BIO, IOB2, BIOES, IOBES, BMES (case-insensitive).

    Returns:
        str, one of :data:`SCHEMES`.

    Raises:
        ValueError: for any other name.
    """
    name = str(scheme).upper()
    if name not in _ALIASES:
        raise ValueError(
            f"scheme {scheme!r} is not one of BIO (IOB2), BIOES (IOBES), BMES"
        )
    return _ALIASES[name]


def detect_scheme(tag_sequences):
    """Guess the tag scheme from the prefixes used.

    ``M-`` means BMES, else ``E-`` or ``S-`` means BIOES, else BIO (also
    when every tag is ``O``). A corpus of B/E/S tags only is read as BIOES,
    which gives the same spans as BMES.

    Args:
        tag_sequences: an iterable of tag sequences, e.g. ``[tags]``.

    Returns:
        str, one of :data:`SCHEMES`.

    Raises:
        ValueError: for a tag that is not ``O`` or ``P-TYPE`` with P one of
            B I M E S, and for a mix of ``I-`` and ``M-``.
    """
    prefixes = set()
    for s, tags in enumerate(tag_sequences):
        for t, tag in enumerate(tags):
            if tag == "O":
                continue
            prefix, sep, type_ = tag.partition("-")
            if not sep or not type_ or prefix not in ("B", "I", "M", "E", "S"):
                raise ValueError(
                    f"sequence {s}, position {t}: tag {tag!r} is not O or "
                    "B-/I-/M-/E-/S- followed by a type"
                )
            prefixes.add(prefix)
    if "M" in prefixes and "I" in prefixes:
        raise ValueError("the tags mix I- and M-: pass scheme= explicitly")
    if "M" in prefixes:
        return "BMES"
    if "E" in prefixes or "S" in prefixes:
        return "BIOES"
    return "BIO"


class TagProblem(NamedTuple):
    """One ill-formed place in a tag sequence, found by :func:`check_tags`."""

    position: int
    tag: str
    message: str

    def __str__(self):
        return f"position {self.position} ({self.tag}): {self.message}"


def _parse_tag(tag, scheme):
    """``(prefix, type)`` of a tag, ``("O", None)`` for O, None if unknown."""
    if tag == "O":
        return "O", None
    prefix, sep, type_ = tag.partition("-")
    if sep and type_ and len(prefix) == 1 and prefix in _PREFIXES[scheme]:
        return prefix, type_
    return None


def _unknown_tag_message(tag, position, scheme):
    letters = "-, ".join(_PREFIXES[scheme])
    return (
        f"tag {tag!r} at position {position} is not a {scheme} tag "
        f"(O, or {letters}- followed by a type)"
    )


def _walk(tags, scheme):
    """Spans under both policies and the problems of one tag sequence.

    Returns ``(strict, lenient, problems)``; an unknown tag is a problem and
    is read as ``O``.
    """
    inside, needs_end = _INSIDE[scheme], scheme != "BIO"
    strict, lenient, problems = [], [], []
    open_start, open_type, well_begun = None, None, False

    def stop(t, why):
        # The open entity ends before t without its E- tag.
        lenient.append((open_type, open_start, t))
        if well_begun and not needs_end:
            strict.append((open_type, open_start, t))
        if well_begun and needs_end and why:
            problems.append(TagProblem(
                t - 1, tags[t - 1],
                f"entity {open_type} begun at position {open_start} is not "
                f"closed by E-{open_type} ({why})",
            ))

    for t, tag in enumerate(tags):
        parsed = _parse_tag(tag, scheme)
        if parsed is None:
            problems.append(TagProblem(t, tag, _unknown_tag_message(tag, t, scheme)))
            parsed = ("O", None)
        prefix, type_ = parsed
        continuing = prefix in (inside, "E")

        # A tag that continues the open entity: inside, or its end.
        if open_start is not None and continuing and type_ == open_type:
            if prefix == "E":
                lenient.append((type_, open_start, t + 1))
                if well_begun:
                    strict.append((type_, open_start, t + 1))
                open_start = None
            continue

        # Anything else ends the open entity; a type change is one problem.
        previous = tags[t - 1] if t else None
        if open_start is not None and continuing:
            problems.append(TagProblem(
                t, tag, f"type change inside an entity: {tag} after {previous}"
            ))
            stop(t, None)
        elif open_start is not None:
            stop(t, f"followed by {tag}")
        elif continuing:
            after = f"after {previous}" if previous else "at the sentence start"
            problems.append(TagProblem(
                t, tag, f"{tag} {after}: an entity must begin with B-{type_}"
            ))
        open_start = None

        # Start what this tag starts; a stray inside or end tag only counts
        # when lenient.
        if prefix == "S":
            strict.append((type_, t, t + 1))
            lenient.append((type_, t, t + 1))
        elif prefix == "E":
            lenient.append((type_, t, t + 1))
        elif prefix != "O":
            open_start, open_type, well_begun = t, type_, prefix == "B"

    if open_start is not None:
        stop(len(tags), "the sentence ends")
    return strict, lenient, problems


def _resolve(tags, scheme):
    return detect_scheme([tags]) if scheme is None else normalize_scheme(scheme)


def entity_spans(tags, scheme=None, policy="strict"):
    """The entities of one tag sequence as spans.

    Args:
        tags: the tags of one sentence, (T,).
        scheme: "BIO"/"IOB2", "BIOES"/"IOBES" or "BMES"; None detects it
            from ``tags`` (:func:`detect_scheme`).
        policy: "strict" (only well-formed entities, as seqeval's strict
            mode) or "lenient" (every ill-formed start begins an entity, as
            conlleval); see the module docstring.

    Returns:
        list of ``(type, start, end_exclusive)``, sorted by start.

    Raises:
        ValueError: for a tag that is not of the scheme, an unknown scheme
            or policy. Ill-formed sequences never raise.
    """
    scheme = _resolve(tags, scheme)
    if policy not in POLICIES:
        raise ValueError(f"policy {policy!r} is not 'strict' or 'lenient'")
    for t, tag in enumerate(tags):
        if _parse_tag(tag, scheme) is None:
            raise ValueError(_unknown_tag_message(tag, t, scheme))

    strict, lenient, _ = _walk(list(tags), scheme)
    spans = strict if policy == "strict" else lenient
    return sorted(spans, key=lambda span: span[1])


def check_tags(tags, scheme=None):
    """Report the ill-formed places of a tag sequence; never raises on tags.

    Problems found: a tag that is not of the scheme; an inside tag (``I-X``
    or ``M-X``) or end tag (``E-X``) that does not continue a ``B-X``
    entity; a type change inside an entity (``B-PER I-LOC``); in BIOES and
    BMES, an entity that is not closed by ``E-X``.

    Args:
        tags: the tags of one sentence, (T,).
        scheme: as in :func:`entity_spans`; None guesses it from the known
            prefixes (M- means BMES, E- or S- BIOES, else BIO).

    Returns:
        list of :class:`TagProblem` ``(position, tag, message)``, by
        position; empty when the sequence is well formed.

    Raises:
        ValueError: only for an unknown scheme name.
    """
    tags = list(tags)
    if scheme is None:
        prefixes = {tag.partition("-")[0] for tag in tags}
        if "M" in prefixes:
            scheme = "BMES"
        elif "E" in prefixes or "S" in prefixes:
            scheme = "BIOES"
        else:
            scheme = "BIO"
    _, _, problems = _walk(tags, normalize_scheme(scheme))
    return sorted(problems, key=lambda problem: problem.position)


# ---------------------------------------------------------------- bundled


def bundled_path(split):
    """Path of a split of the bundled corpus (``crfteach/data/corpus``).

    Args:
        split: "train", "dev" or "test".

    Returns:
        ``pathlib.Path`` of the split's file (character, BIO tag).

    Raises:
        ValueError: for any other split name.
    """
    if split not in SPLITS:
        raise ValueError(f"split {split!r} is not one of {', '.join(SPLITS)}")
    return _DATA_DIR / f"{split}.txt"


def load_bundled(split):
    """Read a split of the bundled corpus.

    Args:
        split: "train", "dev" or "test".

    Returns:
        list of :class:`Sentence`, one character a row, BIO tags.
    """
    return read_conll(bundled_path(split))
