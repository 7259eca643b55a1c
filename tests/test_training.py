"""Training: loaders, the grouped split, the fitter, and a tiny end-to-end run into a tmp dir."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from click.testing import CliRunner

from qa_scoring.classify.base import TurnInput
from qa_scoring.classify.registry import load_classifier, read_manifest
from qa_scoring.config import get_settings
from training import data
from training.fit import HeadTrainer
from training.splits import split_items, split_of

HAVE_DATA = (get_settings().data_dir / "politeness_wikipedia").is_dir()
needs_data = pytest.mark.skipif(not HAVE_DATA, reason="training corpora not present")


def _backbone_ok() -> bool:
    from qa_scoring.backbone import BackboneError, verify_backbone

    try:
        verify_backbone(get_settings().backbone_dir)
    except BackboneError:
        return False
    return True


def test_split_is_deterministic_and_roughly_proportional():
    groups = [f"g{i}" for i in range(4000)]
    first = [split_of(g) for g in groups]
    assert first == [split_of(g) for g in groups]
    shares = {s: first.count(s) / len(first) for s in ("train", "val", "test")}
    assert shares["train"] == pytest.approx(0.70, abs=0.03)
    assert shares["test"] == pytest.approx(0.15, abs=0.03)


@needs_data
def test_loaders_read_the_corpora():
    assert len(data.load_politeness()) == 4353
    epitome = data.load_epitome()
    assert len(epitome) > 2000
    assert set(epitome[0].labels) == set(data.EPITOME_FILES)
    turns = data.stc3_helpdesk_turns()
    assert {t.language for t in turns} == {"zh", "en"}
    assert all(0 <= t.labels["informative"] <= 1 and t.context for t in turns)
    uss = data.load_uss()
    assert {d.source for d in uss} == set(data.USS_FILES)
    assert all(1 <= d.labels["overall"] <= 5 for d in uss)


@needs_data
def test_stc3_translation_shares_its_split_with_the_original():
    dialogues = data.load_stc3()
    splits = split_items(dialogues)
    where = {(d.group, d.language): name for name, items in splits.items() for d in items}
    en = [g for g, lang in where if lang == "en"]
    assert en and all(where[(g, "en")] == where[(g, "zh")] for g in en)


def test_trainer_learns_a_separable_signal_and_calibrates():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(600, 8))
    y = (x[:, 0] + 0.3 * rng.normal(size=600) > 0).astype(float)
    texts = ["polite please thanks" if v else "rude whatever" for v in y]
    trainer = HeadTrainer(("tfidf", "encoder"), Cs=(0.1, 1.0), alphas=(0.1,)).fit(
        x[:400], texts[:400], {"h": y[:400]}, x[400:], texts[400:], {"h": y[400:]}
    )
    art = trainer.artefact("h", "v", "turn", "text")
    p = art.predict(x[400:], texts[400:])["h"]
    assert ((p > 0.5) == (y[400:] > 0.5)).mean() > 0.95
    assert trainer.outputs_["h"].platt_a > 0


@pytest.mark.skipif(not (HAVE_DATA and _backbone_ok()), reason="needs corpora and backbone")
def test_tiny_training_run_produces_a_loadable_artefact(tmp_path):
    from training.__main__ import cli

    result = CliRunner().invoke(
        cli, ["train", "politeness", "--limit", "40", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    entry = read_manifest(tmp_path)["heads"]["politeness"]
    directory = tmp_path / "politeness" / entry["version"]
    for name in ("head.json", "weights.npz", "metrics.json", "MODEL_CARD.md",
                 "reliability.png", "confusion.png"):
        assert (directory / name).is_file(), name
    metrics = json.loads((directory / "metrics.json").read_text())
    assert metrics["split_sizes"]["train"] == 40
    assert "baseline" in metrics["test"]["politeness"]["en"]
    clf = load_classifier(dataclasses.replace(get_settings(), models_dir=tmp_path))
    assert clf is not None and set(clf.versions) == {"politeness"}
    row = clf.predict_turns([TurnInput("Could you please help me?", ())])[0]
    assert set(row) == {"politeness"} and 0 <= row["politeness"] <= 1

    result = CliRunner().invoke(cli, ["evaluate", "politeness", "--models", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "politeness" in result.output


def test_train_needs_heads_or_all():
    from training.__main__ import cli

    result = CliRunner().invoke(cli, ["train"])
    assert result.exit_code != 0 and "--all" in result.output
