"""Figures for the book: a bundled Chinese font and a few shared plots.

Readers' machines often have no Chinese font, so matplotlib would draw 张 as
an empty box and warn "Glyph ... missing from font". crfteach ships a subset
of Noto Sans CJK SC (every GB2312 character, SIL Open Font License 1.1) in
``crfteach/data/fonts/``; :func:`use_cjk_font` makes it matplotlib's default
sans-serif font. Figures get a white background so they stay readable when
the book is read in dark mode.
"""

from pathlib import Path

import matplotlib
import numpy as np
from matplotlib import font_manager

FONT_DIR = Path(__file__).resolve().parent / "data" / "fonts"
FONT_PATH = FONT_DIR / "NotoSansSC-crfteach-subset.otf"
FONT_FAMILY = "crfteach Sans SC"


def use_cjk_font():
    """Make the bundled CJK subset font matplotlib's default font.

    Registers ``FONT_PATH`` with matplotlib's font manager (once), puts its
    family first in ``font.sans-serif``, selects the sans-serif family, and
    gives figures an opaque white background on screen and when saved.
    Glyphs the subset lacks fall back to the next font in the list (DejaVu
    Sans). Calling it again changes nothing.

    Returns:
        str: the family name of the bundled font, ``"crfteach Sans SC"``.
    """
    # Register the file unless an earlier call already did.
    registered = {entry.fname for entry in font_manager.fontManager.ttflist}
    if str(FONT_PATH) not in registered:
        font_manager.fontManager.addfont(str(FONT_PATH))

    # The bundled family first, without repeating it on a second call.
    others = [name for name in matplotlib.rcParams["font.sans-serif"]
              if name != FONT_FAMILY]
    matplotlib.rcParams["font.sans-serif"] = [FONT_FAMILY] + others
    matplotlib.rcParams["font.family"] = ["sans-serif"]

    # The subset has U+2212 MINUS SIGN, so matplotlib's minus can stay.
    matplotlib.rcParams["axes.unicode_minus"] = True

    # Opaque white figures: readable on the book's dark theme too.
    matplotlib.rcParams["figure.facecolor"] = "white"
    matplotlib.rcParams["savefig.facecolor"] = "white"
    matplotlib.rcParams["savefig.transparent"] = False
    return FONT_FAMILY


def heatmap(matrix, row_labels, col_labels, ax=None, fmt=".2f", cmap="Blues",
            vmin=None, vmax=None, colorbar=False):
    """Draw a matrix as coloured cells, each annotated with its value.

    Used for marginals (positions by tags), transition weights (tags by tags)
    and gradients. Call :func:`use_cjk_font` first when labels are Chinese.

    Args:
        matrix: array-like of shape (R, C).
        row_labels: R labels for the rows (y axis, top to bottom).
        col_labels: C labels for the columns (x axis, shown on top).
        ax: matplotlib Axes to draw on; a new figure when None.
        fmt: format spec for the annotations, e.g. ".2f" or ".1e"; None or ""
            to leave the cells unannotated.
        cmap: matplotlib colour map name.
        vmin, vmax: ends of the colour scale; the data range when None.
        colorbar: add a colour bar beside the axes when True.

    Returns:
        matplotlib.axes.Axes: the axes drawn on; the image is ``ax.images[-1]``.

    Raises:
        ValueError: if matrix is not 2-D or the label counts do not match it.
    """
    matrix = np.asarray(matrix, dtype=float)
    if matrix.ndim != 2:
        raise ValueError(f"matrix must be 2-D (R, C), got shape {matrix.shape}")
    n_rows, n_cols = matrix.shape
    if len(row_labels) != n_rows:
        raise ValueError(
            f"row_labels has {len(row_labels)} labels, matrix has {n_rows} rows")
    if len(col_labels) != n_cols:
        raise ValueError(
            f"col_labels has {len(col_labels)} labels, "
            f"matrix has {n_cols} columns")

    # A new figure sized to the matrix when no axes are given.
    if ax is None:
        import matplotlib.pyplot as plt

        width = min(2.0 + 0.8 * n_cols, 12.0)
        height = min(1.0 + 0.5 * n_rows, 10.0)
        _, ax = plt.subplots(figsize=(width, height), layout="constrained")

    # The cells, with the column labels on top like a printed table.
    image = ax.imshow(matrix, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    ax.set_xticks(range(n_cols), labels=[str(label) for label in col_labels])
    ax.set_yticks(range(n_rows), labels=[str(label) for label in row_labels])
    ax.tick_params(top=True, bottom=False, labeltop=True, labelbottom=False)
    if colorbar:
        ax.figure.colorbar(image, ax=ax)

    # Annotate each cell, white on dark cells and black on light ones.
    if fmt:
        middle = (image.norm.vmin + image.norm.vmax) / 2.0
        dark_at_top = _dark_at_top(image.get_cmap())
        for row in range(n_rows):
            for col in range(n_cols):
                value = matrix[row, col]
                colour = "white" if (value > middle) == dark_at_top else "black"
                ax.text(col, row, format(value, fmt), ha="center", va="center",
                        color=colour)
    return ax


def _dark_at_top(colormap):
    # Compare the luminance (ITU-R BT.709 weights) of the two ends of a map.
    weights = np.array([0.2126, 0.7152, 0.0722])
    bottom = float(np.dot(colormap(0.0)[:3], weights))
    top = float(np.dot(colormap(1.0)[:3], weights))
    return top < bottom
