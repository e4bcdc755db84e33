"""Model files: round trip, safety, atomic writes and clear errors."""

import json
import os
import zipfile

import numpy as np
import pytest
from conftest import SEED, TOY_SENTENCES

import crfteach.model as model_module
from crfteach import parse_template
from crfteach.corpus import parse_conll
from crfteach.features import FeatureIndex
from crfteach.model import FORMAT, VERSION, Model
from crfteach.train import train

TEMPLATE = parse_template("# a comment\nU00:%x[-1,0]\nU01:%x[0,0]\nU02:bias\nB\n")

CORPUS = TOY_SENTENCES

# sentences with characters the model never saw, and ones it did
NEW_SENTENCES = [[["王"], ["五"], ["去"], ["上"], ["海"]], [["北"]], [["猫"], ["狗"]]]


@pytest.fixture(scope="module")
def model():
    trained, _ = train(parse_conll(CORPUS), TEMPLATE, c2=0.1)
    return trained


def test_tag_gives_labels_per_token(model):
    tags = model.tag([["张"], ["三"], ["去"], ["北"], ["京"]])
    assert tags == ["B-PER", "I-PER", "O", "B-LOC", "I-LOC"]
    assert model.tag([]) == []


def test_tag_is_viterbi_on_x_times_w(model):
    # the best path beats every other path under X @ W and the transitions
    from crfteach import brute_force

    rows = NEW_SENTENCES[0]
    emissions = model.emissions(rows)
    enumeration = brute_force(emissions, model.transitions)
    best = enumeration.paths[np.argmax(enumeration.scores)]
    assert model.tag(rows) == [model.labels[k] for k in best]


def test_save_load_tag_gives_identical_predictions(model, tmp_path):
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = Model.load(path)
    np.testing.assert_array_equal(loaded.W, model.W)
    np.testing.assert_array_equal(loaded.transitions, model.transitions)
    assert loaded.labels == model.labels
    assert loaded.index.observations == model.index.observations
    assert str(loaded.template) == str(model.template)
    assert loaded.n_columns == model.n_columns == 1
    assert loaded.tag_many(NEW_SENTENCES) == model.tag_many(NEW_SENTENCES)


def test_the_file_is_json_and_arrays_without_pickle(model, tmp_path):
    path = tmp_path / "model.npz"
    model.save(path)
    with np.load(path, allow_pickle=False) as archive:
        assert sorted(archive.files) == ["W", "header", "transitions"]
        header = json.loads(str(archive["header"][()]))
        shape = (len(header["observations"]), len(header["labels"]))
        assert archive["W"].shape == shape
    assert header["format"] == FORMAT and header["version"] == VERSION
    assert header["template"] == TEMPLATE.source
    assert "B-PER" in header["labels"] and "U01:张" in header["observations"]


def test_save_writes_exactly_the_path_with_normal_permissions(model, tmp_path):
    path = tmp_path / "model.crf"
    model.save(path)
    assert sorted(os.listdir(tmp_path)) == ["model.crf"]
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.parametrize("failure", [OSError("disk full"), KeyboardInterrupt()])
def test_an_interrupted_save_leaves_the_previous_file(model, tmp_path, monkeypatch,
                                                      failure):
    path = tmp_path / "model.npz"
    path.write_bytes(b"the previous model")

    # fail half-way through writing the archive
    def broken(handle, **arrays):
        handle.write(b"PK\x03\x04 half an archive")
        raise failure

    monkeypatch.setattr(model_module.np, "savez_compressed", broken)
    with pytest.raises(type(failure)):
        model.save(path)
    assert path.read_bytes() == b"the previous model"
    assert os.listdir(tmp_path) == ["model.npz"]


# ---------------------------------------------------------------- bad files


def _saved(model, tmp_path):
    path = tmp_path / "model.npz"
    model.save(path)
    return path


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _flip_bytes(path):
    # corrupt the compressed weights in the middle of the archive
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 16] = bytes(b ^ 0xFF for b in data[middle : middle + 16])
    path.write_bytes(bytes(data))


def _text_file(path):
    path.write_text("张 B-PER\n三 I-PER\n", encoding="utf-8")


def _empty(path):
    path.write_bytes(b"")


def _npy_array(path):
    with open(path, "wb") as handle:
        np.save(handle, np.zeros(3))


def _pickled_npz(path):
    with open(path, "wb") as handle:
        np.savez(handle, header=np.array([{"format": FORMAT}], dtype=object),
                 W=np.zeros((1, 1)), transitions=np.zeros((1, 1)))


def _foreign_npz(path):
    with open(path, "wb") as handle:
        np.savez(handle, weights=np.zeros(3))


def _zip_of_text(path):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")


def _rewrite_header(change):
    def rewrite(path):
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        header = json.loads(str(arrays["header"][()]))
        change(header, arrays)
        arrays["header"] = np.array(json.dumps(header))
        with open(path, "wb") as handle:
            np.savez(handle, **arrays)

    return rewrite


@pytest.mark.parametrize(
    "damage, message",
    [
        (_truncate, "not a crfteach model file or damaged"),
        (_flip_bytes, "not a crfteach model file or damaged"),
        (_text_file, "not a crfteach model file"),
        (_empty, "not a crfteach model file"),
        (_npy_array, "not a crfteach model file"),
        (_pickled_npz, "not a crfteach model file or damaged"),
        (_foreign_npz, r"members \['weights'\]"),
        (_zip_of_text, r"members \['readme.txt'\]"),
        (_rewrite_header(lambda h, a: h.update(format="other")),
         "format is not 'crfteach-model'"),
        (_rewrite_header(lambda h, a: h.update(version=99)),
         "model format version 99 is not supported"),
        (_rewrite_header(lambda h, a: h.pop("labels")),
         "header field 'labels' is missing"),
        (_rewrite_header(lambda h, a: h["labels"].pop()),
         "damaged model file: W must have shape"),
        (_rewrite_header(lambda h, a: h.update(template="X99")),
         "damaged model file: template line 1"),
        (_rewrite_header(lambda h, a: a.update(transitions=a["transitions"] * np.nan)),
         "weights are not finite"),
        (_rewrite_header(lambda h, a: a.update(W=a["W"].astype(np.float32))),
         "weights are not float64"),
    ],
)
def test_a_damaged_or_foreign_file_raises_a_clear_error(model, tmp_path, damage,
                                                         message):
    path = _saved(model, tmp_path)
    damage(path)
    with pytest.raises(ValueError, match=message) as error:
        Model.load(path)
    assert str(error.value).startswith(str(path))


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such model file"):
        Model.load(tmp_path / "absent.npz")


def test_the_constructor_checks_shapes():
    index = FeatureIndex(["O", "B-PER"], ["U01:张"])
    with pytest.raises(ValueError, match=r"transitions must have shape \(2, 2\)"):
        Model(index, TEMPLATE, np.zeros((1, 2)), np.zeros((3, 3)))
    rng = np.random.default_rng(SEED)
    model = Model(index, TEMPLATE, rng.normal(size=(1, 2)), rng.normal(size=(2, 2)))
    assert set(model.weights()) == {"O::U01:张", "B-PER::U01:张", "O->O", "O->B-PER",
                                    "B-PER->O", "B-PER->B-PER"}
