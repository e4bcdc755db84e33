"""The bundled corpus: format, tags, no duplicates, GB2312, README numbers."""

import re
from collections import Counter

import pytest

from crfteach.corpus import SPLITS, bundled_path, check_tags, entity_spans, load_bundled

TYPES = ("PER", "LOC", "ORG")
TAGS = {"O"} | {f"{p}-{t}" for p in "BI" for t in TYPES}

MIN_SENTENCES = 500
MIN_LENGTH, MAX_LENGTH = 8, 60

# about 70% of sentences hold an entity; the split is about 70/15/15
ENTITY_SHARE = (0.6, 0.8)
SPLIT_SHARES = {"train": 0.70, "dev": 0.15, "test": 0.15}
SHARE_TOLERANCE = 0.02

README = bundled_path("train").parent / "README.md"
SIZE_COLUMNS = ("sentences", "characters", "PER", "LOC", "ORG", "entities",
                "sentences with an entity")
ZHANG_COLUMNS = ("B-PER", "O", "B-LOC")


@pytest.fixture(scope="module")
def corpus():
    return {split: load_bundled(split) for split in SPLITS}


def sentence_text(sentence):
    return "".join(sentence.tokens)


@pytest.mark.parametrize("split", SPLITS)
def test_every_line_is_one_character_and_its_tag(split):
    text = bundled_path(split).read_text(encoding="utf-8")
    lines = text.split("\n")

    # LF only, no BOM, a blank line after every sentence, one space between
    assert "\r" not in text and not text.startswith("\ufeff")
    assert text.endswith("\n\n") and not text.endswith("\n\n\n")
    for number, line in enumerate(lines[:-1], start=1):
        if line:
            character, tag = line.split(" ")
            assert len(character) == 1, f"{split}.txt:{number}"
            assert tag in TAGS, f"{split}.txt:{number}: {tag}"
    assert "\n\n\n" not in text


@pytest.mark.parametrize("split", SPLITS)
def test_tags_are_well_formed_bio(corpus, split):
    for sentence in corpus[split]:
        assert check_tags(sentence.tags, "BIO") == [], sentence_text(sentence)


@pytest.mark.parametrize("split", SPLITS)
def test_characters_are_gb2312_and_sentences_8_to_60(corpus, split):
    for sentence in corpus[split]:
        text = sentence_text(sentence)
        text.encode("gb2312")
        assert MIN_LENGTH <= len(text) <= MAX_LENGTH, text
        assert not re.search(r"[\sA-Za-z\[\]|]", text), text


def test_no_sentence_twice_within_or_across_splits(corpus):
    counts = Counter(sentence_text(s) for split in SPLITS for s in corpus[split])

    assert [text for text, n in counts.items() if n > 1] == []


def test_size_split_and_entity_share(corpus):
    total = sum(len(corpus[split]) for split in SPLITS)
    with_entity = sum(any(tag != "O" for tag in s.tags)
                      for split in SPLITS for s in corpus[split])

    assert total >= MIN_SENTENCES
    for split, share in SPLIT_SHARES.items():
        assert len(corpus[split]) / total == pytest.approx(share,
                                                           abs=SHARE_TOLERANCE)
    assert ENTITY_SHARE[0] < with_entity / total < ENTITY_SHARE[1]


def test_zhang_is_both_a_surname_and_a_word(corpus):
    train = corpus["train"]
    zhang = Counter(tag for s in train for ch, tag in zip(s.tokens, s.tags)
                    if ch == "张")

    assert zhang["B-PER"] >= 10 and zhang["O"] >= 10


def statistics(sentences):
    """The README's columns for one split."""
    spans = [span for s in sentences for span in entity_spans(s.tags, "BIO")]
    types = Counter(span[0] for span in spans)
    return {
        "sentences": len(sentences),
        "characters": sum(len(s) for s in sentences),
        **{type_: types[type_] for type_ in TYPES},
        "entities": len(spans),
        "sentences with an entity": sum(any(t != "O" for t in s.tags)
                                        for s in sentences),
    }


def readme_table(header_start):
    """Rows ``{first cell: [int, ...]}`` of the README table whose header
    starts with ``header_start``."""
    lines = README.read_text(encoding="utf-8").split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = {}
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows[cells[0]] = [int(cell) for cell in cells[1:]]
    return rows


def test_readme_sizes_match_the_files(corpus):
    table = readme_table("| split | sentences |")
    computed = {split: statistics(corpus[split]) for split in SPLITS}
    computed["total"] = statistics([s for split in SPLITS for s in corpus[split]])

    assert sorted(table) == sorted(computed)
    for split, row in computed.items():
        assert table[split] == [row[column] for column in SIZE_COLUMNS], split


def test_readme_zhang_counts_match_the_files(corpus):
    table = readme_table("| split | `张` tagged")

    for split in SPLITS:
        tags = Counter(tag for s in corpus[split]
                       for ch, tag in zip(s.tokens, s.tags) if ch == "张")
        assert table[split] == [tags[tag] for tag in ZHANG_COLUMNS], split


def test_readme_states_the_licence_and_lengths(corpus):
    text = README.read_text(encoding="utf-8")
    lengths = [len(s) for split in SPLITS for s in corpus[split]]

    assert "CC0 1.0" in text
    assert f"{min(lengths)} to {max(lengths)} characters long" in text
