"""use_cjk_font draws Chinese with the bundled font; heatmap labels its cells."""

import io
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from crfteach import plotting  # noqa: E402
from test_fonts import GB2312_HANZI, GB2312_SYMBOLS  # noqa: E402

SENTENCE = "张三在北京工作"
SAMPLE_STEP = 97  # every 97th hanzi: 70 characters from all over GB2312
SAMPLE = "".join(GB2312_HANZI[::SAMPLE_STEP])
PUNCTUATION = "，。、：；？！“”（）《》【】"
WHITE = np.array([1.0, 1.0, 1.0, 1.0])


@pytest.fixture
def cjk():
    """use_cjk_font() inside an rc_context, so other tests see the defaults."""
    with matplotlib.rc_context():
        yield plotting.use_cjk_font()
    plt.close("all")


def draw(*texts):
    """Draw each text on a fresh Agg figure; return the figure."""
    figure = plt.figure(figsize=(6, 1 + 0.4 * len(texts)))
    for i, text in enumerate(texts):
        figure.text(0.02, 0.9 - 0.8 * i / max(len(texts), 1), text)
    figure.canvas.draw()
    return figure


def test_returns_the_bundled_family_and_puts_it_first(cjk):
    assert cjk == plotting.FONT_FAMILY == "crfteach Sans SC"
    assert matplotlib.rcParams["font.sans-serif"][0] == cjk
    assert matplotlib.rcParams["font.family"] == ["sans-serif"]


def test_is_idempotent(cjk):
    first = list(matplotlib.rcParams["font.sans-serif"])
    assert plotting.use_cjk_font() == cjk
    assert matplotlib.rcParams["font.sans-serif"] == first
    registered = [entry for entry in font_manager.fontManager.ttflist
                  if entry.fname == str(plotting.FONT_PATH)]
    assert len(registered) == 1


def test_default_text_resolves_to_the_bundled_file(cjk):
    figure = draw(SENTENCE)
    properties = figure.texts[0].get_fontproperties()
    assert font_manager.findfont(properties) == str(plotting.FONT_PATH)


def test_chinese_draws_without_missing_glyph_warnings(cjk):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        draw(SENTENCE, SAMPLE, PUNCTUATION, "".join(GB2312_SYMBOLS[:60]))


def test_minus_sign_in_tick_labels_draws_without_warnings(cjk):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        figure, ax = plt.subplots()
        ax.plot([-2.5, 0.0, 1.5], [-1.0, 0.5, -0.25])
        ax.set_title(f"对数似然 {SENTENCE}")
        figure.canvas.draw()


def test_without_the_font_the_same_text_warns():
    # The control: the check above can fail. DejaVu Sans has no hanzi.
    with matplotlib.rc_context({"font.family": ["DejaVu Sans"]}):
        with pytest.warns(UserWarning, match="missing from font"):
            draw(SENTENCE)
    plt.close("all")


def test_saved_figures_are_opaque_white(cjk):
    figure = draw(SENTENCE)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    buffer.seek(0)
    pixels = plt.imread(buffer)
    np.testing.assert_array_equal(pixels[0, 0], WHITE)
    np.testing.assert_array_equal(pixels[-1, -1], WHITE)


def test_heatmap_annotates_every_cell_with_contrasting_text(cjk):
    matrix = np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]])
    ax = plotting.heatmap(matrix, list("张三在"), ["B-PER", "O"], fmt=".1f")
    labels = [text.get_text() for text in ax.texts]
    assert labels == ["0.9", "0.1", "0.2", "0.8", "0.5", "0.5"]

    # Blues is dark at the top: high values get white text.
    colours = [text.get_color() for text in ax.texts]
    assert colours[:4] == ["white", "black", "black", "white"]
    assert [t.get_text() for t in ax.get_yticklabels()] == list("张三在")


def test_heatmap_without_annotations_and_with_a_colorbar(cjk):
    figure, ax = plt.subplots()
    returned = plotting.heatmap(np.eye(3), "abc", "xyz", ax=ax, fmt=None,
                                colorbar=True)
    assert returned is ax
    assert len(ax.texts) == 0
    assert len(figure.axes) == 2


@pytest.mark.parametrize(
    "matrix, rows, cols, message",
    [(np.zeros(3), "abc", "x", "matrix must be 2-D"),
     (np.zeros((2, 3)), "abc", "xyz", "row_labels has 3 labels, matrix has 2"),
     (np.zeros((2, 3)), "ab", "xy", "col_labels has 2 labels, matrix has 3")],
)
def test_heatmap_rejects_mismatched_labels(matrix, rows, cols, message):
    with pytest.raises(ValueError, match=message):
        plotting.heatmap(matrix, rows, cols)
