"""Classifier heads: shipped artefacts, the Classifier contract, calibration, classify_records."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil

import numpy as np
import pytest
import yaml

from qa_scoring.classify.base import Classifier, TurnInput
from qa_scoring.classify.encoder import EncoderClassifier
from qa_scoring.classify.heads import DIM, HeadArtefact, LinearOutput
from qa_scoring.classify.records import classify_records
from qa_scoring.classify.registry import load_classifier, load_heads, read_manifest
from qa_scoring.config import PROJECT_ROOT, get_settings
from qa_scoring.conversation import Conversation

MODELS = PROJECT_ROOT / "models"
TURN_KEYS = {
    "politeness",
    "empathy",
    "empathy.emotional_reactions",
    "empathy.interpretations",
    "empathy.explorations",
    "accuracy",
}
ITEMS = [
    TurnInput("亲，非常抱歉给您带来不便，麻烦您拍一下照片", ("我买的台灯到了是坏的",), "zh"),
    TurnInput("你自己看详情页", ("这个尺码怎么选",), "zh"),
    TurnInput("I'm so sorry about the delay, I've refunded you in full.", ("Where is my order?",)),
    TurnInput("Read the FAQ.", ()),
]


class FakeEncoder:
    """Deterministic pseudo-features from a hash of the text: exercises everything but torch."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def encode(self, texts):
        self.calls.append(list(texts))
        rows = []
        for t in texts:
            seed = int.from_bytes(hashlib.sha1(t.encode()).digest()[:4], "big")
            v = np.random.default_rng(seed).normal(size=DIM)
            rows.append(v / np.linalg.norm(v))
        return np.array(rows, dtype=np.float32).reshape(len(texts), DIM)


def _conversations() -> list[Conversation]:
    lines = (PROJECT_ROOT / "examples" / "conversations.jsonl").read_text(encoding="utf-8")
    return [Conversation.parse(json.loads(line)) for line in lines.splitlines()[:4] if line]


@pytest.fixture(scope="module")
def fake_classifier() -> EncoderClassifier:
    return EncoderClassifier(load_heads(MODELS), FakeEncoder())


def _backbone_ok() -> bool:
    from qa_scoring.backbone import BackboneError, verify_backbone

    try:
        verify_backbone(get_settings().backbone_dir)
    except BackboneError:
        return False
    return True


# ------------------------------------------------------------------------- shipped artefacts


def test_manifest_names_every_head_and_the_backbone():
    manifest = read_manifest(MODELS)
    assert set(manifest["heads"]) == {
        "politeness", "empathy", "accuracy", "resolution", "satisfaction"
    }
    assert set(manifest["backbone"]["sha256"]) == {"model.safetensors", "tokenizer.json"}
    for name, entry in manifest["heads"].items():
        directory = MODELS / name / entry["version"]
        for file in ("head.json", "weights.npz", "metrics.json", "MODEL_CARD.md"):
            assert (directory / file).is_file(), directory / file


def test_shipped_artefacts_load_and_stay_small():
    heads = load_heads(MODELS)
    assert {h.kind for h in heads.values()} == {"turn", "conversation"}
    assert set().union(*(h.outputs for h in heads.values())) == TURN_KEYS | {
        "resolution", "satisfaction"
    }
    total = sum(f.stat().st_size for f in MODELS.rglob("*") if f.is_file())
    assert total < 50 * 2**20


def test_empathy_card_states_the_licence():
    version = read_manifest(MODELS)["heads"]["empathy"]["version"]
    card = (MODELS / "empathy" / version / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert "non-commercial" in card.lower()


# ---------------------------------------------------------------------------- the contract


def test_contract_keys_range_and_order(fake_classifier):
    assert isinstance(fake_classifier, Classifier)
    assert fake_classifier.is_model
    assert set(fake_classifier.versions) == {
        "politeness", "empathy", "accuracy", "resolution", "satisfaction"
    }
    batch = fake_classifier.predict_turns(ITEMS)
    assert len(batch) == len(ITEMS)
    for row in batch:
        assert set(row) == TURN_KEYS
        assert all(0.0 <= p <= 1.0 for p in row.values())
    reversed_rows = fake_classifier.predict_turns(ITEMS[::-1])[::-1]
    for a, b in zip(batch, reversed_rows, strict=True):
        assert a == pytest.approx(b)
    convs = fake_classifier.predict_conversations(_conversations())
    assert all(set(r) == {"resolution", "satisfaction"} for r in convs)
    assert all(0.0 <= p <= 1.0 for r in convs for p in r.values())


def test_empty_input(fake_classifier):
    assert fake_classifier.predict_turns([]) == []
    assert fake_classifier.predict_conversations([]) == []


def test_one_encoder_pass_per_text_shared_by_all_heads():
    encoder = FakeEncoder()
    clf = EncoderClassifier(load_heads(MODELS), encoder)
    convs = _conversations()
    from qa_scoring.pipeline import turn_inputs

    clf.predict_turns([item for c in convs for _, item in turn_inputs(c)])
    clf.predict_conversations(convs)
    encoded = [t for call in encoder.calls for t in call]
    assert len(encoded) == len(set(encoded))  # every text encoded once, across both calls
    assert len(encoder.calls) <= 2  # one batched pass for all turns, one for the rest


def test_disabled_head_is_absent(tmp_path):
    shutil.copytree(MODELS, tmp_path / "models")
    path = tmp_path / "models" / "manifest.yaml"
    manifest = yaml.safe_load(path.read_text())
    manifest["heads"]["empathy"]["enabled"] = False
    path.write_text(yaml.safe_dump(manifest))
    clf = EncoderClassifier(load_heads(tmp_path / "models"), FakeEncoder())
    assert "empathy" not in clf.versions
    row = clf.predict_turns(ITEMS[:1])[0]
    assert not any(k.startswith("empathy") for k in row)
    assert "politeness" in row


def test_load_classifier_none_without_heads_or_backbone(tmp_path, monkeypatch):
    settings = get_settings()
    assert load_classifier(dataclasses.replace(settings, models_dir=tmp_path)) is None
    monkeypatch.setenv("QA_SCORING_BACKBONE_DIR", str(tmp_path / "nothing"))  # not built
    assert load_classifier(dataclasses.replace(get_settings(), models_dir=MODELS)) is None


def test_classify_records_keeps_order_and_reports_bad_records(fake_classifier):
    records = [
        {"id": "a", "text": "亲，已为您补发，明天送达", "context": ["少发了一个"]},
        {"id": "b", "text": "   "},
        {"id": "c", "text": "Thanks for waiting!", "language": "en"},
        "not an object",
        {"id": "d", "text": "ok", "context": "not a list"},
        {"id": "line 6", "_error": "not valid JSON: Expecting value"},
        {"id": "e", "text": "ok", "language": "fr"},
    ]
    out = list(classify_records(records, fake_classifier, chunk_size=3))
    assert [r.get("id") for r in out] == ["a", "b", "c", None, "d", "line 6", "e"]
    assert set(out[0]["scores"]) == TURN_KEYS and out[0]["context"] == ["少发了一个"]
    assert out[1]["error"]["field"] == "text"
    assert out[2]["language"] == "en" and "scores" in out[2]
    assert out[3]["error"]["field"] == "(record)"
    assert out[4]["error"]["field"] == "context"
    assert out[5]["error"] == {"field": "(line)", "reason": "not valid JSON: Expecting value"}
    assert out[6]["error"]["field"] == "language"


# ----------------------------------------------------------------------------- calibration


def test_platt_calibration_is_monotone_and_improves_ece():
    from training.fit import platt
    from training.metrics import ece

    rng = np.random.default_rng(0)
    true_logit = rng.normal(0, 1.5, 4000)
    y = (rng.random(4000) < 1 / (1 + np.exp(-true_logit))).astype(float)
    overconfident = 4 * true_logit + 1  # too sharp and shifted
    raw = 1 / (1 + np.exp(-overconfident))
    a, b = platt(overconfident[:2000], y[:2000])
    assert a > 0  # monotone increasing: calibration never reorders
    calibrated = LinearOutput(np.ones(1), 0.0, a, b).predict_proba(overconfident[2000:, None])
    assert ece(y[2000:], calibrated) < ece(y[2000:], raw[2000:]) / 2


def test_artefact_roundtrip(tmp_path):
    heads = load_heads(MODELS)
    head = heads["accuracy"]
    head.save(tmp_path / "acc")
    again = HeadArtefact.load(tmp_path / "acc")
    x = FakeEncoder().encode(["a", "b", "c"])
    from qa_scoring.classify.heads import turn_features

    feats = turn_features(x, x[::-1], again.block)
    texts = ["退款已原路返回", "please wait", "明天发货"]
    for name, p in head.predict(feats, texts).items():
        np.testing.assert_allclose(again.predict(feats, texts)[name], p, rtol=1e-5)


# ------------------------------------------------------------------ the real backbone (slow-ish)


@pytest.mark.skipif(not _backbone_ok(), reason="backbone not built (qa-scoring backbone build)")
def test_real_classifier_scores_sensibly():
    clf = load_classifier()
    assert clf is not None and clf.is_model
    rows = clf.predict_turns(ITEMS)
    assert rows[0]["politeness"] > rows[1]["politeness"]
    assert rows[2]["politeness"] > rows[3]["politeness"]
    singles = [clf.predict_turns([item])[0] for item in ITEMS[:2]]
    for a, b in zip(rows[:2], singles, strict=True):
        assert a == pytest.approx(b, abs=1e-4)  # batching (padding) does not change scores
    convs = clf.predict_conversations(_conversations())
    assert all(set(r) == {"resolution", "satisfaction"} for r in convs)


def test_shipped_heads_beat_the_baseline():
    """Every head's main output ranks better than TF-IDF+LR on its whole test split."""
    for name, entry in read_manifest(MODELS)["heads"].items():
        metrics = json.loads((MODELS / name / entry["version"] / "metrics.json").read_text())
        groups = metrics["test"][name]
        whole = groups.get("all") or groups["en"]
        assert whole["model"]["auc"] > whole["baseline"]["auc"], name


@pytest.mark.skipif(not _backbone_ok(), reason="backbone not built (qa-scoring backbone build)")
def test_served_classifier_transfers_to_the_zh_hand_labelled_set():
    """Through the serving path (not the training cache): politeness and empathy on zh."""
    from sklearn.metrics import roc_auc_score

    from training.data import load_zh_labelled

    zh = load_zh_labelled()
    if not zh:
        pytest.skip("zh hand-labelled set not present")
    clf = load_classifier()
    rows = clf.predict_turns([TurnInput(e.text, e.context, "zh") for e in zh])
    polite = [e.labels["politeness"] for e in zh]
    empathic = [e.labels["empathy"] >= 1 for e in zh]
    assert roc_auc_score(polite, [r["politeness"] for r in rows]) > 0.9
    assert roc_auc_score(empathic, [r["empathy"] for r in rows]) > 0.75


def test_heads_trained_on_another_backbone_do_not_serve(tmp_path):
    shutil.copytree(MODELS, tmp_path / "models")
    path = tmp_path / "models" / "manifest.yaml"
    manifest = yaml.safe_load(path.read_text())
    manifest["backbone"]["sha256"]["model.safetensors"] = "0" * 64
    path.write_text(yaml.safe_dump(manifest))
    settings = dataclasses.replace(get_settings(), models_dir=tmp_path / "models")
    assert load_classifier(settings) is None


@pytest.mark.skipif(not _backbone_ok(), reason="backbone not built (qa-scoring backbone build)")
def test_encoder_windows_long_texts_and_pools_all_of_them():
    from qa_scoring.classify.encoder import TextEncoder

    encoder = TextEncoder()
    head, tail = "物流一直没有更新，", "The refund was processed yesterday. "
    vecs = encoder.encode([head * 200, head * 200 + tail * 150, head])
    assert vecs.shape == (3, DIM) and np.isfinite(vecs).all()
    assert not np.allclose(vecs[0], vecs[1], atol=1e-3)  # text past the first window counts
    norms = np.linalg.norm(vecs.reshape(3, -1, DIM // 3), axis=2)
    np.testing.assert_allclose(norms, 1.0, rtol=1e-5)  # each layer's vector L2-normalised
