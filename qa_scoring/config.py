"""Settings read from the environment, with defaults that make the embedded mode work untouched.

Everything that points outside the checkout (data, caches, services) is configurable here and
nowhere else, so tests and deployments override one place.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "qa-scoring"


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else default


@dataclass(frozen=True)
class Settings:
    """Process-wide settings; build with :func:`get_settings` (reads the environment each call)."""

    database_url: str = "sqlite:///" + str(PROJECT_ROOT / "qa_scoring.sqlite3")
    broker_url: str | None = None  # None = embedded mode: tasks run in-process
    result_backend: str | None = None
    data_dir: Path = PROJECT_ROOT.parent / "shared" / "data"
    cache_dir: Path = DEFAULT_CACHE_DIR
    models_dir: Path = PROJECT_ROOT / "models"
    rubrics_dir: Path = PROJECT_ROOT / "rubrics"
    examples_dir: Path = PROJECT_ROOT / "examples"
    policies_dir: Path = PROJECT_ROOT / "examples" / "policies"
    default_tenant: str = "default"
    classifier: str = "model"  # "lexical": the labelled fallback instead of the heads

    @property
    def backbone_dir(self) -> Path:
        """Where the converted Hugging Face encoder lives (built by set-up, never committed)."""
        return Path(os.environ.get("QA_SCORING_BACKBONE_DIR") or self.cache_dir / "backbone")


def get_settings() -> Settings:
    defaults = Settings()
    broker = os.environ.get("QA_SCORING_BROKER_URL") or None
    return Settings(
        database_url=os.environ.get("QA_SCORING_DATABASE_URL", defaults.database_url),
        broker_url=broker,
        result_backend=os.environ.get("QA_SCORING_RESULT_BACKEND") or broker,
        data_dir=_env_path("QA_SCORING_DATA_DIR", defaults.data_dir),
        cache_dir=_env_path("QA_SCORING_CACHE_DIR", defaults.cache_dir),
        models_dir=_env_path("QA_SCORING_MODELS_DIR", defaults.models_dir),
        rubrics_dir=_env_path("QA_SCORING_RUBRICS_DIR", defaults.rubrics_dir),
        examples_dir=_env_path("QA_SCORING_EXAMPLES_DIR", defaults.examples_dir),
        policies_dir=_env_path("QA_SCORING_POLICIES_DIR", defaults.policies_dir),
        default_tenant=os.environ.get("QA_SCORING_TENANT", defaults.default_tenant),
        classifier=os.environ.get("QA_SCORING_CLASSIFIER", defaults.classifier),
    )
