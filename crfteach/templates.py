"""CRF++ feature templates.

A template file has one template a line::

    # comments and blank lines are ignored
    U00:%x[-1,0]          the character before the current one
    U02:%x[0,0]           the current character
    U05:%x[-1,0]/%x[0,0]  macros joined by any text
    U07:bias              no macro: a constant observation (a per-label bias)
    B                     the label-transition matrix

``%x[row,col]`` reads column ``col`` of the token ``row`` positions away
from the current one. Rows before the sentence read ``_B-1``, ``_B-2``, ...
and rows after it ``_B+1``, ``_B+2``, ..., as CRF++ does. Expanding a ``U``
template at a position gives an *observation* such as ``U02:张``; every
(observation, label) pair is then one weight, named ``B-PER::U02:张``.

Bigram templates with macros (``B01:%x[0,0]``, label pairs times
observations) are not supported: a ``B`` line is the transition matrix.
"""

import re
from dataclasses import dataclass, field

__all__ = ["Template", "UnigramTemplate", "parse_template", "read_template"]

_MACRO = re.compile(r"%x\[\s*(-?\d+)\s*,\s*(\d+)\s*\]")


@dataclass(frozen=True)
class UnigramTemplate:
    """One ``U`` line: literal text around ``%x[row,col]`` macros.

    Attributes:
        line: 1-based line number in the template file.
        text: the line as written, e.g. ``U05:%x[-1,0]/%x[0,0]``.
        pieces: the literal strings between macros, one more than ``macros``.
        macros: ``(row, col)`` of each macro, in order.
    """

    line: int
    text: str
    pieces: tuple
    macros: tuple

    def expand(self, rows, t):
        """The observation of this template at position ``t`` of ``rows``."""
        T = len(rows)
        out = [self.pieces[0]]
        for (row, col), piece in zip(self.macros, self.pieces[1:]):
            at = t + row
            if at < 0:
                out.append(f"_B{at}")
            elif at >= T:
                out.append(f"_B+{at - T + 1}")
            else:
                out.append(rows[at][col])
            out.append(piece)
        return "".join(out)

    def expand_sentence(self, rows):
        """The observations of this template at every position of ``rows``.

        The same strings as ``[self.expand(rows, t) for t in range(T)]``,
        built a column at a time: each macro reads one column padded with
        the out-of-sentence markers, shifted by its row offset.
        """
        T = len(rows)
        if not self.macros:
            return [self.pieces[0]] * T
        values = []
        for row, col in self.macros:
            # positions t whose row t + row is before, inside, after the sentence
            first, last = min(max(-row, 0), T), max(min(T - row, T), 0)
            before = [f"_B{t + row}" for t in range(first)]
            inside = [r[col] for r in rows[first + row : last + row]]
            after = [f"_B+{t + row - T + 1}" for t in range(max(last, first), T)]
            values.append(before + inside + after)
        if len(self.macros) == 1:
            head, tail = self.pieces
            return [head + value + tail for value in values[0]]
        pattern = "{}".join(p.replace("{", "{{").replace("}", "}}") for p in self.pieces)
        return [pattern.format(*parts) for parts in zip(*values)]


@dataclass
class Template:
    """A parsed CRF++ template file.

    Attributes:
        unigrams: the ``U`` lines, in file order.
        bigram: True when a ``B`` line asks for label transitions.
        source: the text that was parsed.
    """

    unigrams: list = field(default_factory=list)
    bigram: bool = False
    source: str = ""

    @property
    def n_columns(self):
        """The number of token columns the macros need (0 if none)."""
        return max((c + 1 for u in self.unigrams for _, c in u.macros), default=0)

    def check_columns(self, n_columns, where="the data"):
        """Raise ``ValueError`` if a macro reads a column ``>= n_columns``."""
        for u in self.unigrams:
            for row, col in u.macros:
                if col >= n_columns:
                    raise ValueError(
                        f"template line {u.line}: {u.text!r} reads column {col}, "
                        f"but {where} has only {n_columns} column(s) before the tag"
                    )

    def observations(self, rows):
        """Expand every ``U`` template at every position of one sentence.

        Args:
            rows: the sentence's tokens, a list of ``T`` rows, each a sequence
                of column strings without the tag (e.g. ``[["张"], ["三"]]``).

        Returns:
            A list of ``T`` lists of observation strings, one per template.

        Raises:
            ValueError: if a row is too short for a macro's column.
        """
        rows = [list(r) for r in rows]
        if rows:
            self.check_columns(min(len(r) for r in rows))
        by_template = [u.expand_sentence(rows) for u in self.unigrams]
        return [list(position) for position in zip(*by_template)] if by_template else [
            [] for _ in rows
        ]

    def __str__(self):
        lines = [u.text for u in self.unigrams] + (["B"] if self.bigram else [])
        return "\n".join(lines)


def parse_template(text):
    """Parse the text of a CRF++ template file.

    Args:
        text: the file's content.

    Returns:
        A :class:`Template`.

    Raises:
        ValueError: naming the line of an unknown prefix, a malformed macro,
            a bigram template with macros, a repeated ``U`` line or a file
            with no template at all.
    """
    template = Template(source=text)
    seen = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"template line {number}: {line!r}"

        if line[0] == "B":
            if "%x" in line:
                raise ValueError(
                    f"{where}: bigram templates with macros are not supported; "
                    "write a plain B line for label transitions"
                )
            template.bigram = True
            continue
        if line[0] != "U":
            raise ValueError(f"{where}: a template starts with U or B")

        # split into literal pieces and (row, col) macros; any %x left over is bad
        pieces, macros, at = [], [], 0
        for match in _MACRO.finditer(line):
            pieces.append(line[at : match.start()])
            macros.append((int(match.group(1)), int(match.group(2))))
            at = match.end()
        pieces.append(line[at:])
        if any("%x" in piece or "%X" in piece for piece in pieces):
            raise ValueError(f"{where}: malformed macro, expected %x[row,col]")
        if line in seen:
            raise ValueError(f"{where}: repeats line {seen[line]}")
        seen[line] = number
        template.unigrams.append(UnigramTemplate(number, line, tuple(pieces), tuple(macros)))

    if not template.unigrams and not template.bigram:
        raise ValueError("the template has no U or B line")
    return template


def read_template(path):
    """Read and parse a CRF++ template file (UTF-8).

    Errors name the file as well as the line.
    """
    with open(path, encoding="utf-8-sig") as handle:
        text = handle.read()
    try:
        return parse_template(text)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None
