"""The bundled CJK subset font covers GB2312 and travels with its licence."""

import pytest
from fontTools.ttLib import TTFont

from crfteach import plotting

FONT_DIR = plotting.FONT_DIR
OTF = FONT_DIR / "NotoSansSC-crfteach-subset.otf"
WOFF2 = FONT_DIR / "NotoSansSC-crfteach-subset.woff2"
MAX_BYTES = 5_000_000
N_GB2312_HANZI = 6763

# Characters the book's text and figures use beyond GB2312.
BOOK_EXTRAS = "→←↔⇒∑∏∂∇≈≤≥≠∈×·−…–—‘’“”αβψΣ"


def decode_gb2312_rows(first, last):
    # Every assigned two-byte code of GB2312 in rows first..last.
    characters = []
    for row in range(first, last + 1):
        for column in range(0xA1, 0xFF):
            try:
                characters.append(bytes([row, column]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return characters


GB2312_SYMBOLS = decode_gb2312_rows(0xA1, 0xA9)
GB2312_HANZI = decode_gb2312_rows(0xB0, 0xF7)
FULL_WIDTH = [chr(code) for code in range(0xFF01, 0xFF5F)]
ASCII = [chr(code) for code in range(0x20, 0x7F)]


@pytest.fixture(scope="module")
def cmaps():
    """Code point -> glyph name maps of the two shipped files."""
    return {path.suffix: TTFont(path).getBestCmap() for path in (OTF, WOFF2)}


def test_gb2312_enumeration_finds_every_hanzi():
    assert len(GB2312_HANZI) == N_GB2312_HANZI
    assert GB2312_HANZI[0] == "啊" and GB2312_HANZI[-1] == "齄"
    assert "，" in GB2312_SYMBOLS and "。" in GB2312_SYMBOLS


@pytest.mark.parametrize("suffix", [".otf", ".woff2"])
@pytest.mark.parametrize(
    "name, characters",
    [("GB2312 hanzi", GB2312_HANZI), ("GB2312 symbols", GB2312_SYMBOLS),
     ("full-width forms", FULL_WIDTH), ("ASCII", ASCII),
     ("book extras", list(BOOK_EXTRAS))],
)
def test_font_has_a_glyph_for_every_character(cmaps, suffix, name, characters):
    cmap = cmaps[suffix]
    missing = [c for c in characters if ord(c) not in cmap]
    assert not missing, f"{suffix} lacks {len(missing)} {name}: {missing[:20]}"


def test_web_font_is_the_same_font(cmaps):
    assert cmaps[".otf"] == cmaps[".woff2"]


@pytest.mark.parametrize("path", [OTF, WOFF2])
def test_font_is_renamed_and_small(path):
    font = TTFont(path)
    assert font["name"].getDebugName(1) == plotting.FONT_FAMILY
    assert "Open Font License" in font["name"].getDebugName(13)
    assert path.stat().st_size < MAX_BYTES


def test_licence_ships_beside_the_font():
    licence = (FONT_DIR / "OFL.txt").read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in licence
    assert "PERMISSION & CONDITIONS" in licence
    assert "Adobe" in licence

