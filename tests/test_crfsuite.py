"""crfteach and CRFsuite reach the same optimum on the bundled corpus.

Both minimise sum_s -log p(y_s|x_s) + c2 * ||w||^2 over the same weights
(every observation with every label, every label pair); crfteach evaluates
CRFsuite's learned weights with its own objective, and CRFsuite reports
its own loss. The issue asks for agreement within 1e-4 relative.
"""

import importlib.util
import os
from pathlib import Path

import pytest

pytest.importorskip("pycrfsuite")

from crfteach.corpus import load_bundled  # noqa: E402
from crfteach.crfsuite import crfsuite_weights, train_crfsuite  # noqa: E402
from crfteach.fast import CorpusBatch  # noqa: E402
from crfteach.templates import read_template  # noqa: E402
from crfteach.train import template_path, train  # noqa: E402

# the agreement the issue asks for
SAME_OPTIMUM = 1e-4

# CRFsuite prints its loss and its weights with 6 decimals; the same
# weights must give the same objective to about that precision
SAME_WEIGHTS = 1e-6

C2 = 1.0

# the Resume NER corpus beside the repository; its benchmark takes minutes
ROOT = Path(__file__).resolve().parents[1]
RESUME_NER = ROOT.parent / "shared" / "corpora" / "resume_ner"
RUN_RESUME_NER = os.environ.get("CRFTEACH_RESUME_NER") == "1"


@pytest.fixture(scope="module")
def both():
    """crfteach and CRFsuite, trained on the bundled training split."""
    sentences = load_bundled("train")
    test = load_bundled("test")
    template = read_template(template_path("resume"))
    model, report = train(sentences, template, c2=C2)
    crfsuite = train_crfsuite(sentences, template, c2=C2, tag=test)

    # CRFsuite's optimum, evaluated with crfteach's objective
    index = model.index
    Xs = [index.design_matrix(template.observations(s.rows)) for s in sentences]
    tags = [index.encode_tags(s.tags) for s in sentences]
    W, transitions = crfsuite_weights(crfsuite["info"], index)
    batch = CorpusBatch(Xs, tags, index.n_labels)
    objective_at_crfsuite, _ = batch.objective_and_gradient(
        index.join(W, transitions), C2
    )
    return {
        "model": model,
        "report": report,
        "crfsuite": crfsuite,
        "objective_at_crfsuite": objective_at_crfsuite,
        "W": W,
        "transitions": transitions,
        "test": test,
    }


def test_same_number_of_features(both):
    assert both["report"]["n_features"] == both["crfsuite"]["n_features"]
    assert sorted(both["crfsuite"]["labels"]) == sorted(both["model"].labels)


def test_crfteach_converged(both):
    assert both["report"]["converged"], both["report"]["message"]


def test_crfsuite_optimum_by_crfteach_objective(both):
    ours = both["report"]["objective"]
    assert both["objective_at_crfsuite"] == pytest.approx(ours, rel=SAME_OPTIMUM)


def test_crfsuite_own_loss(both):
    ours = both["report"]["objective"]
    assert both["crfsuite"]["loss"] == pytest.approx(ours, rel=SAME_OPTIMUM)


def test_same_c2_convention(both):
    # CRFsuite's loss of its weights is crfteach's objective of the same
    # weights: the L2 term is c2 * ||w||^2 in both, not c2 / 2 or 1 / (2 c2)
    loss = both["crfsuite"]["loss"]
    assert both["objective_at_crfsuite"] == pytest.approx(loss, rel=SAME_WEIGHTS)


def test_same_predictions_with_crfsuite_weights(both):
    # crfteach's Viterbi on CRFsuite's weights tags as CRFsuite's tagger does
    from crfteach.model import Model

    model = both["model"]
    theirs = Model(model.index, model.template, both["W"], both["transitions"])
    assert theirs.tag_many(both["test"]) == both["crfsuite"]["predicted"]


@pytest.mark.skipif(not RUN_RESUME_NER,
                    reason="minutes long: set CRFTEACH_RESUME_NER=1 to run it")
def test_resume_ner_benchmark(monkeypatch):
    # 1,306,200 features, CRFsuite's optimum, test F1 near 0.937
    if not (RESUME_NER / "train.char.bmes").is_file():
        pytest.skip(f"the Resume NER corpus is not at {RESUME_NER}")
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))  # its machine.py
    spec = importlib.util.spec_from_file_location(
        "resume_ner", ROOT / "benchmarks" / "resume_ner.py"
    )
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    lines, checks = benchmark.run(RESUME_NER)
    assert all(checks.values()), "\n".join(lines)
