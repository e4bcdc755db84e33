"""CRF++ templates: parsing, expansion at every position, and bad templates."""

import re

import pytest

from crfteach import parse_template, read_template

# a three-token sentence, two columns (character, a made-up class), no tag
ROWS = [["张", "姓"], ["三", "名"], ["丰", "名"]]

# every row offset from -2 to +2, a multi-macro line, a constant line, B
TEMPLATE = """\
# unigrams, one row offset each
U00:%x[-2,0]
U01:%x[-1,0]
U02:%x[0,0]
U03:%x[1,0]
U04:%x[2,0]

U05:%x[-1,0]/%x[0,0]/%x[1,1]
U06:bias
B
"""


def test_out_of_sentence_rows_read_crfpp_markers():
    observations = parse_template(TEMPLATE).observations(ROWS)

    assert observations == [
        ["U00:_B-2", "U01:_B-1", "U02:张", "U03:三", "U04:丰", "U05:_B-1/张/名",
         "U06:bias"],
        ["U00:_B-1", "U01:张", "U02:三", "U03:丰", "U04:_B+1", "U05:张/三/名",
         "U06:bias"],
        ["U00:张", "U01:三", "U02:丰", "U03:_B+1", "U04:_B+2", "U05:三/丰/_B+1",
         "U06:bias"],
    ]


def test_comments_and_blank_lines_are_skipped_but_counted():
    template = parse_template(TEMPLATE)

    # the comment is line 1 and the blank line is line 7
    assert [u.line for u in template.unigrams] == [2, 3, 4, 5, 6, 8, 9]
    assert template.bigram
    assert str(template) == "\n".join(
        line for line in TEMPLATE.splitlines() if line and not line.startswith("#")
    )


def test_macros_are_joined_by_any_text():
    template = parse_template("U10:<%x[0,0]|%x[0,1]>\nU11:pre%x[1,0]")
    assert template.observations(ROWS)[1] == ["U10:<三|名>", "U11:pre丰"]


def test_rows_far_outside_the_sentence_count_on():
    template = parse_template("U20:%x[-4,0]\nU21:%x[4,0]")
    assert template.observations(ROWS) == [
        ["U20:_B-4", "U21:_B+2"],
        ["U20:_B-3", "U21:_B+3"],
        ["U20:_B-2", "U21:_B+4"],
    ]


def test_literal_text_is_kept_as_written():
    # braces, percent signs and spaces are text like any other
    template = parse_template("U{0}: %x[0,0]{}%x[1,1]%s {x}")
    assert template.observations(ROWS)[0] == ["U{0}: 张{}名%s {x}"]


@pytest.mark.parametrize("line", ["U06:bias", "U", "U99"])
def test_a_line_without_macro_is_the_same_observation_everywhere(line):
    template = parse_template(line)
    assert template.observations(ROWS) == [[line]] * len(ROWS)


def test_a_lone_B_line_asks_for_transitions_only():
    template = parse_template("B\n")
    assert template.bigram and template.unigrams == []
    assert template.observations(ROWS) == [[], [], []]


def test_no_B_line_means_no_transitions():
    assert not parse_template("U00:%x[0,0]").bigram


def test_n_columns_counts_the_columns_macros_read():
    assert parse_template(TEMPLATE).n_columns == 2
    assert parse_template("U00:%x[0,0]").n_columns == 1
    assert parse_template("U:bias\nB").n_columns == 0


def test_an_empty_sentence_has_no_observations():
    assert parse_template(TEMPLATE).observations([]) == []


def test_read_template_reads_utf8_with_bom_and_crlf(tmp_path):
    path = tmp_path / "template"
    path.write_bytes(("\ufeff" + TEMPLATE.replace("\n", "\r\n")).encode("utf-8"))
    template = read_template(path)
    assert template.observations(ROWS) == parse_template(TEMPLATE).observations(ROWS)


# -- malformed templates ----------------------------------------------------

BAD_TEMPLATES = {
    "unknown prefix": (
        "U00:%x[0,0]\nX01:%x[0,0]",
        r"template line 2: 'X01:%x\[0,0\]': a template starts with U or B",
    ),
    "lower-case prefix": ("u00:%x[0,0]", r"template line 1: .*starts with U or B"),
    "letter as row": ("U00:%x[a,0]", r"template line 1: .*malformed macro"),
    "no column": ("\nU00:%x[0]", r"template line 2: .*malformed macro"),
    "empty column": ("U00:%x[1,]", r"template line 1: .*malformed macro"),
    "negative column": ("U00:%x[0,-1]", r"template line 1: .*malformed macro"),
    "upper-case X": ("U00:%X[0,0]", r"template line 1: .*malformed macro"),
    "second macro bad": (
        "U00:%x[0,0]/%x[1]",
        r"template line 1: .*malformed macro, expected %x\[row,col\]",
    ),
    "bigram with macros": (
        "U00:%x[0,0]\n\nB01:%x[0,0]",
        r"template line 3: 'B01:%x\[0,0\]': bigram templates with macros are not",
    ),
    "repeated line": (
        "U00:%x[0,0]\n# again\nU00:%x[0,0]",
        r"template line 3: 'U00:%x\[0,0\]': repeats line 1",
    ),
    "empty": ("", "the template has no U or B line"),
    "only comments": ("# nothing\n\n   \n", "the template has no U or B line"),
}


@pytest.mark.parametrize(
    "text, message", BAD_TEMPLATES.values(), ids=BAD_TEMPLATES.keys()
)
def test_malformed_template_is_refused(text, message):
    with pytest.raises(ValueError, match=message):
        parse_template(text)


def test_column_beyond_the_data_names_the_template_line():
    template = parse_template("U00:%x[0,0]\n# the class column\nU01:%x[0,2]")
    with pytest.raises(
        ValueError,
        match=r"template line 3: 'U01:%x\[0,2\]' reads column 2, "
        r"but the data has only 2 column\(s\) before the tag",
    ):
        template.observations(ROWS)


def test_a_short_row_anywhere_is_refused():
    # the second token lost its class column
    rows = [["张", "姓"], ["三"], ["丰", "名"]]
    with pytest.raises(ValueError, match=r"template line 8: .* only 1 column\(s\)"):
        parse_template(TEMPLATE).observations(rows)


def test_read_template_names_the_file(tmp_path):
    path = tmp_path / "bad_template"
    path.write_text("U00:%x[0,0]\nU01:%x[0]\n", encoding="utf-8")
    message = rf"^{re.escape(str(path))}: template line 2: .*malformed macro"
    with pytest.raises(ValueError, match=message):
        read_template(path)
