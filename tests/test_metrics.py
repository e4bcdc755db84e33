"""Entity-level precision, recall and F1 (crfteach.metrics) against seqeval."""

import random

import pytest
from seqeval.metrics import classification_report
from seqeval.scheme import IOB2, IOBES

from crfteach.corpus import check_tags
from crfteach.metrics import entity_scores, format_scores

# scores are ratios of small integers: seqeval and crfteach divide the same ones
EXACT = 1e-12

# random corpora compared with seqeval: how many, their size, which seed
N_CORPORA = 200
MAX_SENTENCES = 6
MAX_LENGTH = 8
METRICS_SEED = 31337

TYPES = ("PER", "LOC", "ORG")


def test_hand_example():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "I-ORG", "I-ORG"]]
    predicted = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "I-ORG", "O"]]

    scores = entity_scores(gold, predicted)

    # PER matches; LOC is missed; the ORG at (1, 0, 2) has a wrong end.
    assert list(scores) == ["LOC", "ORG", "PER", "overall"]
    assert scores["PER"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0,
                             "support": 1, "predicted": 1, "correct": 1}
    assert scores["ORG"]["support"] == 1 and scores["ORG"]["predicted"] == 2
    assert scores["ORG"]["precision"] == 0.0 and scores["LOC"]["recall"] == 0.0
    overall = scores["overall"]
    assert (overall["correct"], overall["support"], overall["predicted"]) == (1, 3, 3)
    assert overall["f1"] == pytest.approx(1 / 3, abs=EXACT)


def test_a_span_must_match_type_and_both_boundaries():
    gold = [["B-PER", "I-PER", "I-PER"]]

    for predicted in (["B-PER", "I-PER", "O"], ["O", "B-PER", "I-PER"],
                      ["B-LOC", "I-LOC", "I-LOC"]):
        assert entity_scores(gold, [predicted])["overall"]["correct"] == 0
    assert entity_scores(gold, gold)["overall"]["f1"] == 1.0


def test_no_entities_anywhere_gives_zeros():
    scores = entity_scores([["O", "O"]], [["O", "O"]])

    assert scores == {"overall": {"precision": 0.0, "recall": 0.0, "f1": 0.0,
                                  "support": 0, "predicted": 0, "correct": 0}}


def test_policy_changes_ill_formed_predictions():
    gold = [["O", "B-PER", "I-PER"]]
    predicted = [["O", "I-PER", "I-PER"]]

    # strict ignores the stray I-PER run; lenient reads it as PER (1, 3)
    assert entity_scores(gold, predicted)["overall"]["predicted"] == 0
    lenient = entity_scores(gold, predicted, policy="lenient")
    assert lenient["overall"]["correct"] == 1


def test_scheme_is_detected_from_gold_and_can_be_given():
    gold = [["B-NAME", "M-NAME", "E-NAME", "S-ORG"]]
    predicted = [["B-NAME", "E-NAME", "O", "S-ORG"]]

    detected = entity_scores(gold, predicted)
    given = entity_scores(gold, predicted, scheme="BMES")

    assert detected == given
    assert detected["overall"]["correct"] == 1


@pytest.mark.parametrize(
    "gold, predicted, message",
    [
        ([["O"]], [["O"], ["O"]], "gold has 1 sentences, predicted has 2"),
        ([["O"], ["O", "O"]], [["O"], ["O"]],
         "sentence 1: gold has 2 tags, predicted has 1"),
        ([["B-PER", "I-PER"]], [["B-PER", "E-PER"]],
         "predicted sentence 0: tag 'E-PER' at position 1 is not a BIO tag"),
        ([["O"], ["O", "PER"]], [["O"], ["O", "O"]],
         "gold tags: sequence 1, position 1: tag 'PER' is not O or"),
        ([["B-PER", "M-PER", "E-PER"]], [["B-PER", "I-PER", "E-PER"]],
         "predicted sentence 0: tag 'I-PER' at position 1 is not a BMES tag"),
    ],
    ids=["sentences", "lengths", "unknown-predicted", "unknown-gold", "bmes"],
)
def test_bad_input_raises_a_clear_error(gold, predicted, message):
    with pytest.raises(ValueError, match=message):
        entity_scores(gold, predicted)


def test_a_tag_outside_a_given_scheme_is_an_error():
    with pytest.raises(ValueError, match="gold sentence 0: tag 'S-PER' at position 0"):
        entity_scores([["S-PER"]], [["O"]], scheme="BIO")


def noisy_tags(rng, prefixes, length):
    """Uniformly random tags: most sequences are ill formed somewhere."""
    tagset = ["O"] + [f"{p}-{t}" for p in prefixes for t in TYPES]
    return [rng.choice(tagset) for _ in range(length)]


def well_formed_tags(rng, prefixes, length):
    """Random entities laid out left to right in the scheme of ``prefixes``."""
    tags = []
    while len(tags) < length:
        size = min(rng.randint(0, 3), length - len(tags))
        type_ = rng.choice(TYPES)
        if size == 0:
            tags.append("O")
        elif prefixes == "BI":
            tags += [f"B-{type_}"] + [f"I-{type_}"] * (size - 1)
        elif size == 1:
            tags.append(f"S-{type_}")
        else:
            inside = prefixes[1]
            tags += ([f"B-{type_}"] + [f"{inside}-{type_}"] * (size - 2)
                     + [f"E-{type_}"])
    return tags


def seqeval_scores(gold, predicted, scheme):
    mapped = [[[tag.replace("M-", "I-") for tag in tags] for tags in corpus]
              for corpus in (gold, predicted)]
    return classification_report(*mapped, mode="strict", scheme=scheme,
                                 output_dict=True, zero_division=0)


@pytest.mark.parametrize(
    "scheme, prefixes, seqeval_scheme",
    [("BIO", "BI", IOB2), ("BIOES", "BIES", IOBES), ("BMES", "BMES", IOBES)],
)
@pytest.mark.parametrize("noisy_gold, noisy_predicted",
                         [(False, False), (False, True), (True, True)],
                         ids=["clean", "noisy-predicted", "noisy-both"])
def test_scores_equal_seqeval_strict(scheme, prefixes, seqeval_scheme,
                                     noisy_gold, noisy_predicted):
    rng = random.Random(METRICS_SEED)
    compared, n_ill_formed = 0, 0

    for _ in range(N_CORPORA):
        # Well-formed or uniformly noisy tags on either side.
        lengths = [rng.randint(1, MAX_LENGTH)
                   for _ in range(rng.randint(1, MAX_SENTENCES))]
        draw_gold = noisy_tags if noisy_gold else well_formed_tags
        draw_predicted = noisy_tags if noisy_predicted else well_formed_tags
        gold = [draw_gold(rng, prefixes, n) for n in lengths]
        predicted = [draw_predicted(rng, prefixes, n) for n in lengths]
        n_ill_formed += sum(bool(check_tags(tags, scheme)) for tags in predicted)
        ours = entity_scores(gold, predicted, scheme=scheme)
        if ours["overall"]["support"] == 0 and ours["overall"]["predicted"] == 0:
            continue
        theirs = seqeval_scores(gold, predicted, seqeval_scheme)

        # Per type and overall (seqeval's micro average).
        assert set(ours) - {"overall"} == set(theirs) - {
            "micro avg", "macro avg", "weighted avg"}
        for name in ours:
            row = theirs["micro avg" if name == "overall" else name]
            for ours_key, theirs_key in (("precision", "precision"),
                                         ("recall", "recall"), ("f1", "f1-score")):
                assert ours[name][ours_key] == pytest.approx(row[theirs_key],
                                                             abs=EXACT)
            assert ours[name]["support"] == row["support"]
        compared += 1

    assert compared > N_CORPORA * 0.8
    assert (n_ill_formed > N_CORPORA) == noisy_predicted


def test_format_scores_is_a_fixed_width_table():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    predicted = [["B-PER", "I-PER", "O", "O"], ["B-ORG", "O"]]

    table = format_scores(entity_scores(gold, predicted))
    lines = table.split("\n")

    assert lines[0].split() == ["type", "precision", "recall", "f1", "support"]
    assert [line.split()[0] for line in lines[1:]] == ["LOC", "ORG", "PER",
                                                       "-" * len(lines[0]),
                                                       "overall"]
    assert len({len(line) for line in lines}) == 1
    assert lines[-1].split() == ["overall", "1.000", "0.667", "0.800", "3"]


def test_format_scores_digits():
    scores = entity_scores([["B-PER", "B-PER", "B-PER"]], [["B-PER", "O", "O"]])

    assert format_scores(scores, digits=4).split("\n")[1].split() == [
        "PER", "1.0000", "0.3333", "0.5000", "3"]
