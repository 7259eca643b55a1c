"""The model registry: ``models/manifest.yaml`` says which artefact version of each head serves.

```yaml
backbone: {name: multilingual-e5-small, fingerprint: ..., sha256: {model.safetensors: ...}}
heads:
  politeness: {version: 20261125-1a2b3c4d, enabled: true}
  empathy: {version: ..., enabled: false}   # off: its model checks report not applicable
```

:func:`load_classifier` returns ``None`` (the pipeline then uses the labelled lexical fallback)
when no head can serve: no manifest, every head disabled or missing, or no verified backbone.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import yaml

from qa_scoring.classify.base import Classifier
from qa_scoring.classify.heads import HeadArtefact
from qa_scoring.config import Settings, get_settings

log = logging.getLogger(__name__)
MANIFEST = "manifest.yaml"


def read_manifest(models_dir: Path) -> dict[str, Any]:
    path = models_dir / MANIFEST
    if not path.is_file():
        return {}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def load_heads(models_dir: Path) -> dict[str, HeadArtefact]:
    """The enabled heads named by the manifest whose artefacts are present."""
    heads = {}
    for name, entry in (read_manifest(models_dir).get("heads") or {}).items():
        if not entry or not entry.get("enabled", True):
            continue
        directory = models_dir / name / str(entry.get("version"))
        if not (directory / "head.json").is_file():
            log.warning(
                "head %s: no artefact at %s (manifest version %s)",
                name,
                directory,
                entry.get("version"),
            )
            continue
        heads[name] = HeadArtefact.load(directory)
    return heads


def _backbone_matches(settings: Settings, manifest: dict[str, Any]) -> bool:
    """The local backbone verifies and is the one the heads were trained on."""
    from qa_scoring.backbone import BackboneError, verify_backbone

    try:
        verify_backbone(settings.backbone_dir)
    except BackboneError as exc:
        log.warning("backbone unavailable: %s", exc)
        return False
    expected = (manifest.get("backbone") or {}).get("sha256") or {}
    built = json.loads((settings.backbone_dir / "BUILD.json").read_text())["files"]
    stale = [name for name, digest in expected.items() if built.get(name) != digest]
    if stale:
        log.warning(
            "backbone at %s differs from the one the heads were trained on (%s); "
            "retrain the heads or rebuild the backbone",
            settings.backbone_dir,
            stale,
        )
        return False
    return True


def load_classifier(settings: Settings | None = None) -> Classifier | None:
    """The serving :class:`EncoderClassifier`, or ``None`` when no head or backbone can serve."""
    from qa_scoring.classify.encoder import EncoderClassifier, TextEncoder

    settings = settings or get_settings()
    heads = load_heads(settings.models_dir)
    if not heads or not _backbone_matches(settings, read_manifest(settings.models_dir)):
        return None
    return EncoderClassifier(heads, TextEncoder(settings.backbone_dir))
