"""Column files, tag schemes, entity spans and tag checks (crfteach.corpus)."""

import io
import random
from pathlib import Path

import pytest
from seqeval.scheme import IOB2, IOBES, Tokens

from crfteach.corpus import (
    Sentence,
    bundled_path,
    check_tags,
    detect_scheme,
    entity_spans,
    normalize_scheme,
    parse_conll,
    read_conll,
    write_conll,
)

# random tag sequences compared with seqeval: how many, how long, which seed
N_RANDOM = 3000
MAX_LENGTH = 9
SPAN_SEED = 1729

REPO = Path(__file__).resolve().parents[1]
RESUME = REPO / ".." / "shared" / "corpora" / "resume_ner"

TWO_SENTENCES = "张 B-PER\n三 I-PER\n去 O\n\n北 B-LOC\n京 I-LOC\n"


def write_bytes(tmp_path, data, name="corpus.txt"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------- reading


def test_parse_reads_rows_tags_and_first_lines():
    sentences = parse_conll(TWO_SENTENCES)

    assert [s.tokens for s in sentences] == [["张", "三", "去"], ["北", "京"]]
    assert sentences[0].rows == [["张"], ["三"], ["去"]]
    assert sentences[1].tags == ["B-LOC", "I-LOC"]
    assert [s.line for s in sentences] == [1, 5]


def test_parse_keeps_every_column_but_the_tag_in_rows():
    text = "张 NR x B-PER\n三\tNR  y I-PER\n"

    (sentence,) = parse_conll(text)

    assert sentence.rows == [["张", "NR", "x"], ["三", "NR", "y"]]
    assert sentence.tags == ["B-PER", "I-PER"]


@pytest.mark.parametrize(
    "data",
    [
        "\ufeff张 B-PER\n三 I-PER\n去 O\n\n北 B-LOC\n京 I-LOC\n".encode("utf-8"),
        TWO_SENTENCES.replace("\n", "\r\n").encode("utf-8"),
        (TWO_SENTENCES + "\n\n\n  \n").encode("utf-8"),
        ("\n\n" + TWO_SENTENCES.replace("\n\n", "\n\n\n \t\n")).encode("utf-8"),
        ("\ufeff" + TWO_SENTENCES.replace("\n", "\r\n") + "\r\n\r\n").encode("utf-8"),
    ],
    ids=["bom", "crlf", "trailing-blank-lines", "runs-of-blank-lines", "all"],
)
def test_read_tolerates_bom_crlf_and_blank_lines(tmp_path, data):
    sentences = read_conll(write_bytes(tmp_path, data))

    assert [s.tokens for s in sentences] == [["张", "三", "去"], ["北", "京"]]
    assert [s.tags for s in sentences] == [["B-PER", "I-PER", "O"], ["B-LOC", "I-LOC"]]


def test_a_full_width_space_is_a_token_not_a_separator():
    (sentence,) = parse_conll("甲 O\n\u3000 O\n乙 O\n")

    assert sentence.tokens == ["甲", "\u3000", "乙"]


def test_untagged_files_keep_every_column():
    (sentence,) = parse_conll("张\n三\n", tagged=False)

    assert sentence.rows == [["张"], ["三"]]
    assert sentence.tags == []


@pytest.mark.parametrize(
    "text, message",
    [
        ("张 B-PER\n三 I-PER\n去 O x\n", "bad.txt:3: 3 columns, but line 1 has 2"),
        ("张 B-PER\n\n三 NR I-PER\n", "bad.txt:3: 3 columns, but line 1 has 2"),
        ("张 B-PER\n三\n", "bad.txt:2: only one column '三'"),
        ("", "bad.txt:1: no sentence"),
        ("\n \n\r\n", "bad.txt:1: no sentence"),
        ("\ufeff", "bad.txt:1: no sentence"),
    ],
    ids=["columns", "columns-next-sentence", "missing-tag", "empty", "blank", "bom"],
)
def test_errors_name_the_file_and_line(tmp_path, text, message):
    path = write_bytes(tmp_path, text.encode("utf-8"), "bad.txt")

    with pytest.raises(ValueError) as error:
        read_conll(path)

    assert str(error.value).startswith(str(tmp_path / message.split(":")[0]))
    assert message.split("bad.txt")[1] in str(error.value)


def test_parse_errors_use_the_given_name():
    with pytest.raises(ValueError, match=r"^<string>:2: only one column"):
        parse_conll("a O\nb\n")


def test_bytes_that_are_not_utf8_name_their_line(tmp_path):
    path = write_bytes(tmp_path, "张 O\n\n".encode("utf-8") + "李 O\n".encode("gbk"))

    with pytest.raises(ValueError, match=r"corpus.txt:3: not UTF-8"):
        read_conll(path)


# ---------------------------------------------------------------- writing


def test_write_then_read_gives_the_same_sentences(tmp_path):
    sentences = parse_conll("张 NR B-PER\n三 NR I-PER\n\n去 VV O\n")
    path = tmp_path / "out.txt"

    write_conll(sentences, path)
    again = read_conll(path)

    assert [(s.rows, s.tags) for s in again] == [(s.rows, s.tags) for s in sentences]
    assert path.read_bytes() == "张 NR B-PER\n三 NR I-PER\n\n去 VV O\n\n".encode()


def test_write_adds_extra_tags_as_a_last_column():
    sentences = parse_conll("张 B-PER\n三 I-PER\n")
    out = io.StringIO()

    write_conll(sentences, out, extra_tags=[["B-PER", "O"]], sep="\t")

    assert out.getvalue() == "张\tB-PER\tB-PER\n三\tI-PER\tO\n\n"


def test_write_untagged_sentences_writes_only_rows_and_extra_tags():
    sentences = parse_conll("张\n三\n", tagged=False)
    out = io.StringIO()

    write_conll(sentences, out, extra_tags=[["B-PER", "I-PER"]])

    assert out.getvalue() == "张 B-PER\n三 I-PER\n\n"


@pytest.mark.parametrize(
    "sentences, extra_tags, message",
    [
        ([Sentence([["a"]], ["O"])], [["O"], ["O"]],
         "extra_tags has 2 sequences for 1 sentences"),
        ([Sentence([["a"]], ["O"])], [["O", "O"]],
         "extra_tags of sentence 0 has 2 tags for 1 tokens"),
        ([Sentence([["a"], ["b"]], ["O"])], None,
         "tags of sentence 0 has 1 tags for 2 tokens"),
    ],
)
def test_write_rejects_tags_of_the_wrong_length(sentences, extra_tags, message):
    out = io.StringIO()

    with pytest.raises(ValueError, match=message):
        write_conll(sentences, out, extra_tags=extra_tags)
    assert out.getvalue() == ""


# ---------------------------------------------------------------- schemes


@pytest.mark.parametrize(
    "name, canonical",
    [("BIO", "BIO"), ("iob2", "BIO"), ("BIOES", "BIOES"), ("IOBES", "BIOES"),
     ("bmes", "BMES")],
)
def test_scheme_names(name, canonical):
    assert normalize_scheme(name) == canonical


def test_unknown_scheme_name():
    with pytest.raises(ValueError, match="scheme 'IOB1' is not one of"):
        normalize_scheme("IOB1")


@pytest.mark.parametrize(
    "sequences, scheme",
    [
        ([["O", "O"]], "BIO"),
        ([["B-PER", "I-PER"], ["B-LOC"]], "BIO"),
        ([["B-PER", "E-PER"], ["S-LOC"]], "BIOES"),
        ([["B-PER", "I-PER", "E-PER"]], "BIOES"),
        ([["B-PER", "M-PER", "E-PER"], ["O"]], "BMES"),
    ],
)
def test_detect_scheme(sequences, scheme):
    assert detect_scheme(sequences) == scheme


@pytest.mark.parametrize(
    "sequences, message",
    [
        ([["B-PER", "I-PER"], ["B-LOC", "M-LOC", "E-LOC"]], "mix I- and M-"),
        ([["O", "PER"]], "sequence 0, position 1: tag 'PER' is not O or"),
        ([["O"], ["X-PER"]], "sequence 1, position 0: tag 'X-PER'"),
        ([["B-"]], "tag 'B-' is not O or"),
    ],
)
def test_detect_scheme_rejects(sequences, message):
    with pytest.raises(ValueError, match=message):
        detect_scheme(sequences)


# ---------------------------------------------------------------- spans


@pytest.mark.parametrize(
    "tags, scheme, spans",
    [
        # BIO: a one-token entity is a lone B-
        (["B-PER", "I-PER", "I-PER", "O", "B-LOC", "I-LOC"], "BIO",
         [("PER", 0, 3), ("LOC", 4, 6)]),
        (["B-PER", "B-PER", "O", "B-ORG"], "BIO",
         [("PER", 0, 1), ("PER", 1, 2), ("ORG", 3, 4)]),
        (["O", "O"], "BIO", []),
        # BIOES: S- is a one-token entity
        (["S-PER", "B-LOC", "I-LOC", "E-LOC", "O", "B-ORG", "E-ORG"], "BIOES",
         [("PER", 0, 1), ("LOC", 1, 4), ("ORG", 5, 7)]),
        (["S-PER", "S-PER"], "IOBES", [("PER", 0, 1), ("PER", 1, 2)]),
        # BMES, as in Resume NER
        (["B-NAME", "E-NAME", "O", "B-ORG", "M-ORG", "M-ORG", "E-ORG", "S-RACE"],
         "BMES", [("NAME", 0, 2), ("ORG", 3, 7), ("RACE", 7, 8)]),
        (["S-NAME"], "BMES", [("NAME", 0, 1)]),
    ],
)
def test_spans_of_well_formed_sequences(tags, scheme, spans):
    assert entity_spans(tags, scheme) == spans
    assert entity_spans(tags, scheme, policy="lenient") == spans
    assert entity_spans(tags) == spans
    assert check_tags(tags, scheme) == []


@pytest.mark.parametrize(
    "tags, scheme, strict, lenient",
    [
        # I- after O: strict drops it, lenient starts an entity (conlleval)
        (["O", "I-PER", "I-PER", "O"], "BIO", [], [("PER", 1, 3)]),
        (["I-LOC"], "BIO", [], [("LOC", 0, 1)]),
        # a type change inside an entity
        (["B-PER", "I-LOC", "O"], "BIO", [("PER", 0, 1)],
         [("PER", 0, 1), ("LOC", 1, 2)]),
        # M- without B-, B- without E-
        (["M-ORG", "E-ORG", "O", "B-ORG", "M-ORG"], "BMES", [],
         [("ORG", 0, 2), ("ORG", 3, 5)]),
        # a lone E- and an entity interrupted by S-
        (["O", "E-PER", "B-LOC", "S-LOC"], "BIOES", [("LOC", 3, 4)],
         [("PER", 1, 2), ("LOC", 2, 3), ("LOC", 3, 4)]),
    ],
)
def test_spans_of_ill_formed_sequences_by_policy(tags, scheme, strict, lenient):
    assert entity_spans(tags, scheme) == strict
    assert entity_spans(tags, scheme, policy="strict") == strict
    assert entity_spans(tags, scheme, policy="lenient") == lenient


@pytest.mark.parametrize(
    "tags, scheme, message",
    [
        (["B-PER", "E-PER"], "BIO",
         "tag 'E-PER' at position 1 is not a BIO tag (O, or B-, I- followed by"),
        (["B-PER", "I-PER"], "BMES", "tag 'I-PER' at position 1 is not a BMES tag"),
        (["B-PER", "M-PER", "E-PER"], "BIOES", "tag 'M-PER' at position 1"),
        (["PER"], "BIO", "tag 'PER' at position 0 is not a BIO tag"),
        (["O", "B-"], "BIO", "tag 'B-' at position 1"),
    ],
)
def test_spans_reject_tags_outside_the_scheme(tags, scheme, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        entity_spans(tags, scheme)


def test_spans_reject_an_unknown_policy():
    with pytest.raises(ValueError, match="policy 'loose' is not"):
        entity_spans(["O"], "BIO", policy="loose")


def random_tags(rng, prefixes, length):
    tagset = ["O"] + [f"{p}-{t}" for p in prefixes for t in ("PER", "LOC")]
    return [rng.choice(tagset) for _ in range(length)]


@pytest.mark.parametrize(
    "scheme, prefixes, seqeval_scheme",
    [("BIO", "BI", IOB2), ("BIOES", "BIES", IOBES), ("BMES", "BMES", IOBES)],
)
def test_strict_spans_equal_seqeval_on_random_sequences(scheme, prefixes,
                                                        seqeval_scheme):
    rng = random.Random(SPAN_SEED)
    n_ill_formed = 0

    # Uniform random tags: most sequences are ill formed somewhere.
    for _ in range(N_RANDOM):
        tags = random_tags(rng, prefixes, rng.randint(1, MAX_LENGTH))
        mapped = [tag.replace("M-", "I-") for tag in tags]
        expected = [(e.tag, e.start, e.end)
                    for e in Tokens(mapped, seqeval_scheme).entities]
        assert entity_spans(tags, scheme) == expected, tags
        n_ill_formed += bool(check_tags(tags, scheme))

    assert n_ill_formed > N_RANDOM // 2


# ---------------------------------------------------------------- checks


@pytest.mark.parametrize(
    "tags, scheme, expected",
    [
        (["O", "I-PER"], "BIO",
         [(1, "I-PER", "I-PER after O: an entity must begin with B-PER")]),
        (["I-PER", "I-PER"], "BIO",
         [(0, "I-PER", "I-PER at the sentence start: an entity must begin "
           "with B-PER")]),
        (["B-PER", "I-LOC"], "BIO",
         [(1, "I-LOC", "type change inside an entity: I-LOC after B-PER")]),
        (["O", "M-ORG", "E-ORG"], "BMES",
         [(1, "M-ORG", "M-ORG after O: an entity must begin with B-ORG")]),
        (["B-ORG", "M-ORG", "O"], "BMES",
         [(1, "M-ORG", "entity ORG begun at position 0 is not closed by E-ORG "
           "(followed by O)")]),
        (["S-PER", "B-LOC"], "BIOES",
         [(1, "B-LOC", "entity LOC begun at position 1 is not closed by E-LOC "
           "(the sentence ends)")]),
        (["B-PER", "E-LOC"], "BIOES",
         [(1, "E-LOC", "type change inside an entity: E-LOC after B-PER")]),
        (["O", "X-PER", "O"], "BIO",
         [(1, "X-PER", "tag 'X-PER' at position 1 is not a BIO tag (O, or B-, "
           "I- followed by a type)")]),
    ],
)
def test_check_tags_reports_problems_with_positions(tags, scheme, expected):
    problems = check_tags(tags, scheme)

    assert [tuple(problem) for problem in problems] == expected
    assert check_tags(tags) == problems


def test_check_tags_never_raises_on_nonsense():
    problems = check_tags(["E-X", "M-", "?", "B-Y", "I-X", "S-Y", "M-Y"])

    assert [problem.position for problem in problems] == [0, 1, 2, 3, 4, 6]
    assert str(problems[0]).startswith("position 0 (E-X): ")


# ---------------------------------------------------------------- bundled


def test_bundled_path_rejects_unknown_splits():
    with pytest.raises(ValueError, match="split 'valid' is not one of train, dev"):
        bundled_path("valid")


# ---------------------------------------------------------------- Resume NER

# Its README: 3821/463/477 sentences, 124099/13890/15100 characters, and
# 13438 train entities, which is the number of B- and S- tags. Two ORG
# entities are cut across a sentence boundary (sentences 1835/1836 and
# 1892/1893): each leaves an unclosed piece (B-ORG ... M-ORG at a sentence
# end) and an unopened one (M-ORG ... E-ORG at the next start). Strict spans
# drop the two unclosed pieces (13438 - 2); lenient spans keep them and add
# the two unopened ones (13438 + 2).
RESUME_SIZES = {"train": (3821, 124099), "dev": (463, 13890), "test": (477, 15100)}
RESUME_TRAIN_TYPES = {"TITLE": 6308, "ORG": 4611, "NAME": 952, "EDU": 858,
                      "PRO": 287, "CONT": 260, "RACE": 115, "LOC": 47}
RESUME_OTHER_ENTITIES = {"dev": 1497, "test": 1630}


@pytest.fixture(scope="module")
def resume():
    if not (RESUME / "train.char.bmes").exists():
        pytest.skip(f"Resume NER is not at {RESUME}")
    return {split: read_conll(RESUME / f"{split}.char.bmes")
            for split in RESUME_SIZES}


@pytest.mark.parametrize("split", sorted(RESUME_SIZES))
def test_resume_sizes_match_its_readme(resume, split):
    sentences = resume[split]

    assert (len(sentences), sum(map(len, sentences))) == RESUME_SIZES[split]
    assert detect_scheme(s.tags for s in sentences) == "BMES"


def test_resume_train_entities_match_its_readme(resume):
    sentences = resume["train"]
    starts = sum(tag[0] in "BS" for s in sentences for tag in s.tags)
    strict = [span for s in sentences for span in entity_spans(s.tags, "BMES")]
    lenient = [span for s in sentences
               for span in entity_spans(s.tags, "BMES", policy="lenient")]

    assert starts == sum(RESUME_TRAIN_TYPES.values()) == 13438
    assert (len(strict), len(lenient)) == (13438 - 2, 13438 + 2)
    by_type = {t: sum(span[0] == t for span in strict) for t in RESUME_TRAIN_TYPES}
    assert by_type == {**RESUME_TRAIN_TYPES, "ORG": 4611 - 2}


def test_resume_ill_formed_places_match_its_readme(resume):
    problems = {i: check_tags(s.tags) for i, s in enumerate(resume["train"])}
    ill_formed = {i: p for i, p in problems.items() if p}

    assert sorted(ill_formed) == [1835, 1836, 1892, 1893]
    assert all(len(p) == 1 and p[0].tag == "M-ORG" for p in ill_formed.values())


@pytest.mark.parametrize("split", ["dev", "test"])
def test_resume_dev_and_test_are_well_formed(resume, split):
    sentences = resume[split]
    spans = [span for s in sentences for span in entity_spans(s.tags, "BMES")]

    assert all(check_tags(s.tags, "BMES") == [] for s in sentences)
    assert len(spans) == RESUME_OTHER_ENTITIES[split]
