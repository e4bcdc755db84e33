"""Cut the CJK subset font that crfteach ships for figures and pages.

The book shows Chinese text (张三在北京工作, a glossary in Chinese) in
matplotlib figures and in HTML pages, and readers often have no Chinese font
installed. This script cuts a small font from Noto Sans CJK SC Regular (SIL
Open Font License 1.1) that covers every GB2312 character and the symbols the
book uses, renames its family so it cannot be confused with an installed Noto,
and writes it twice:

- ``NotoSansSC-crfteach-subset.otf``   OpenType (CFF outlines) for matplotlib;
- ``NotoSansSC-crfteach-subset.woff2`` the same font compressed for the web.

It is run by hand, never at build time; the outputs are committed. Usage::

    .venv/bin/python crfteach/data/fonts/make_subset.py [SOURCE.ttc]

SOURCE defaults to Debian's fonts-noto-cjk collection
``/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc`` (its face
"Noto Sans CJK SC" is picked by name). Writing the WOFF2 needs ``brotli``.
"""

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
SOURCE_FACE = "Noto Sans CJK SC"
FAMILY = "crfteach Sans SC"
POSTSCRIPT_NAME = "crfteachSansSC-Regular"
STEM = "NotoSansSC-crfteach-subset"

# Name records kept from the source: copyright, family, style, unique id, full
# name, version, PostScript name, licence description and licence URL.
KEPT_NAME_IDS = "0,1,2,3,4,5,6,13,14"

# Code point ranges beyond GB2312 that the book and its figures use.
EXTRA_RANGES = [
    (0x0020, 0x007E),  # ASCII
    (0x00A0, 0x00FF),  # Latin-1 supplement: no-break space, accents, times
    (0x0370, 0x03FF),  # Greek: alpha, beta, psi, Sigma
    (0x2010, 0x2027),  # dashes, quotes, bullet, ellipsis
    (0x2030, 0x203A),  # per mille, primes, angle quotes
    (0x2070, 0x209F),  # superscripts and subscripts
    (0x2190, 0x21FF),  # arrows
    (0x2200, 0x22FF),  # mathematical operators (minus sign U+2212 included)
    (0x2460, 0x24FF),  # circled numbers
    (0x2500, 0x257F),  # box drawing
    (0x25A0, 0x25FF),  # geometric shapes
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0xFF01, 0xFF5E),  # full-width ASCII forms
    (0xFFE0, 0xFFE6),  # full-width currency and signs
]


def gb2312_characters():
    """Every character of GB2312, found by decoding each two-byte code.

    Returns:
        tuple (symbols, hanzi) of lists of str: rows 0xA1-0xA9 (punctuation,
        symbols, kana, Greek, Cyrillic, box drawing) and rows 0xB0-0xF7 (the
        6,763 hanzi), each in code order, unassigned codes skipped.
    """
    def decode_rows(first, last):
        characters = []
        for row in range(first, last + 1):
            for column in range(0xA1, 0xFF):
                try:
                    characters.append(bytes([row, column]).decode("gb2312"))
                except UnicodeDecodeError:
                    continue
        return characters

    return decode_rows(0xA1, 0xA9), decode_rows(0xB0, 0xF7)


def wanted_codepoints(cmap):
    """Code points to keep: GB2312 plus EXTRA_RANGES, where the source has them.

    Args:
        cmap: dict code point -> glyph name of the source face.

    Returns:
        sorted list of int.
    """
    symbols, hanzi = gb2312_characters()
    wanted = {ord(character) for character in symbols + hanzi}
    for first, last in EXTRA_RANGES:
        wanted.update(range(first, last + 1))
    return sorted(code for code in wanted if code in cmap)


def source_face_index(source):
    """Index of the face named SOURCE_FACE in a font collection."""
    collection = TTCollection(str(source), lazy=True)
    for index, font in enumerate(collection.fonts):
        if font["name"].getDebugName(1) == SOURCE_FACE:
            return index, font.getBestCmap()
    raise ValueError(f"{source}: no face named {SOURCE_FACE!r}")


def rename(font):
    """Give the subset its own family name (OFL: a Modified Version)."""
    names = {1: FAMILY, 2: "Regular", 3: f"{POSTSCRIPT_NAME};crfteach subset",
             4: FAMILY, 6: POSTSCRIPT_NAME}
    font["name"].names = [record for record in font["name"].names
                          if record.nameID not in names]
    for name_id, text in names.items():
        font["name"].setName(text, name_id, 3, 1, 0x409)
        font["name"].setName(text, name_id, 1, 0, 0)

    # The CFF table repeats the names inside the outlines.
    cff = font["CFF "].cff
    top = cff.topDictIndex[0]
    top.FamilyName = FAMILY
    top.FullName = FAMILY
    cff.fontNames = [POSTSCRIPT_NAME]


def main(argv):
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    index, cmap = source_face_index(source)
    codepoints = wanted_codepoints(cmap)
    unicodes = ",".join(f"{code:04X}" for code in codepoints)

    # Subset with pyftsubset. The SC face's 'locl' feature maps every hanzi
    # to its Japanese, Korean and Traditional forms (5,800 more glyphs); the
    # book is Simplified Chinese only, so it goes. Hints go too: matplotlib
    # and most browsers ignore CFF hints, and they cost 15% of the file.
    otf = HERE / f"{STEM}.otf"
    subset.main([
        str(source), f"--font-number={index}", f"--unicodes={unicodes}",
        "--layout-features-=locl", "--no-hinting", "--notdef-outline",
        f"--name-IDs={KEPT_NAME_IDS}", f"--output-file={otf}",
    ])

    # Rename the family, then write the OpenType and the WOFF2 files.
    font = TTFont(otf, recalcTimestamp=False)
    rename(font)
    font.save(otf)
    font.flavor = "woff2"
    font.save(HERE / f"{STEM}.woff2")

    for path in (otf, HERE / f"{STEM}.woff2"):
        print(f"{path.name}: {path.stat().st_size:,} bytes")
    print(f"{len(codepoints):,} code points from face {index} of {source}")


if __name__ == "__main__":
    main(sys.argv)
