"""Entity-level precision, recall and F1 with strict span matching.

A predicted entity is correct only when its type and both of its
boundaries equal those of a gold entity. With ``n_gold`` gold entities,
``n_predicted`` predicted ones and ``correct`` of them matching::

    precision = correct / n_predicted      recall = correct / n_gold
    f1 = 2 * precision * recall / (precision + recall)

each 0 when its denominator is 0. Scores are given per entity type and
``overall``, the micro average (counts summed over types before dividing).
Spans come from :func:`crfteach.corpus.entity_spans`, by default with its
``"strict"`` policy, so the numbers equal seqeval's ``mode="strict"``.
"""

from collections import Counter

from .corpus import detect_scheme, entity_spans, normalize_scheme

__all__ = ["entity_scores", "format_scores"]

_FIELDS = ("precision", "recall", "f1", "support")


def _ratio(numerator, denominator):
    return numerator / denominator if denominator else 0.0


def _spans(sequences, scheme, policy, which):
    """Every span of a corpus as ``(sentence, type, start, end)``."""
    spans = set()
    for i, tags in enumerate(sequences):
        try:
            found = entity_spans(tags, scheme, policy)
        except ValueError as error:
            raise ValueError(f"{which} sentence {i}: {error}") from None
        spans.update((i, type_, start, end) for type_, start, end in found)
    return spans


def _choose_scheme(gold, predicted):
    # The gold tags decide the scheme; predictions are checked against it.
    for which, sequences in (("gold", gold), ("predicted", predicted)):
        if any(tag != "O" for tags in sequences for tag in tags):
            try:
                return detect_scheme(sequences)
            except ValueError as error:
                raise ValueError(f"{which} tags: {error}") from None
    return "BIO"


def entity_scores(gold, predicted, scheme=None, policy="strict"):
    """Entity-level precision, recall and F1 per type and overall.

    Args:
        gold: list of gold tag sequences, one per sentence, each (T,).
        predicted: list of predicted tag sequences, the same lengths.
        scheme: "BIO"/"IOB2", "BIOES"/"IOBES" or "BMES"; None detects it
            from the gold tags (from the predicted ones if gold is all O).
        policy: how ill-formed sequences become spans, "strict" (seqeval's
            strict mode) or "lenient" (conlleval); see ``crfteach.corpus``.

    Returns:
        dict ``{type: {"precision", "recall", "f1", "support", "predicted",
        "correct"}, ..., "overall": {...}}``; types sorted, then
        ``"overall"``. ``support`` is the number of gold entities,
        ``predicted`` of predicted ones, ``correct`` of exact matches.

    Raises:
        ValueError: when the corpora differ in sentence count or a sentence
            in length, or for a tag that is not of the scheme (naming the
            sentence, the position and the tag).
    """
    if len(gold) != len(predicted):
        raise ValueError(
            f"gold has {len(gold)} sentences, predicted has {len(predicted)}"
        )
    for i, (gold_tags, predicted_tags) in enumerate(zip(gold, predicted)):
        if len(gold_tags) != len(predicted_tags):
            raise ValueError(
                f"sentence {i}: gold has {len(gold_tags)} tags, "
                f"predicted has {len(predicted_tags)}"
            )

    # Spans of both sides, then the exact matches among them.
    if scheme is None:
        scheme = _choose_scheme(gold, predicted)
    scheme = normalize_scheme(scheme)
    gold_spans = _spans(gold, scheme, policy, "gold")
    predicted_spans = _spans(predicted, scheme, policy, "predicted")
    correct_spans = gold_spans & predicted_spans

    # Count by type; the overall row sums the counts (micro average).
    n_gold = Counter(span[1] for span in gold_spans)
    n_predicted = Counter(span[1] for span in predicted_spans)
    n_correct = Counter(span[1] for span in correct_spans)
    types = sorted(set(n_gold) | set(n_predicted))
    rows = [(type_, n_correct[type_], n_gold[type_], n_predicted[type_])
            for type_ in types]
    rows.append(("overall", len(correct_spans), len(gold_spans),
                 len(predicted_spans)))

    # Ratios from the counts.
    scores = {}
    for name, correct, support, n_pred in rows:
        precision = _ratio(correct, n_pred)
        recall = _ratio(correct, support)
        scores[name] = {
            "precision": precision,
            "recall": recall,
            "f1": _ratio(2 * precision * recall, precision + recall),
            "support": support,
            "predicted": n_pred,
            "correct": correct,
        }
    return scores


def format_scores(scores, digits=3):
    """A fixed-width table of :func:`entity_scores`, one line per type.

    Args:
        scores: the dict returned by :func:`entity_scores`.
        digits: decimals of precision, recall and F1.

    Returns:
        str, a header line, one line per type, a rule and the overall line,
        without a final newline.
    """
    width = max([len("overall")] + [len(name) for name in scores])
    number = max(len("precision"), digits + 2)
    header = f"{'type':<{width}}" + "".join(
        f"  {field:>{number}}" for field in _FIELDS
    )

    # One line per entity type, the overall line after a rule.
    def line(name, row):
        ratios = "".join(
            f"  {row[field]:>{number}.{digits}f}" for field in _FIELDS[:3]
        )
        return f"{name:<{width}}{ratios}  {row['support']:>{number}d}"

    lines = [header]
    lines += [line(name, row) for name, row in scores.items() if name != "overall"]
    if "overall" in scores:
        lines.append("-" * len(header))
        lines.append(line("overall", scores["overall"]))
    return "\n".join(lines)
