"""Check types, registered by name. Importing this package registers every built-in type."""

from qa_scoring.checks import logic, model, policy, privacy, text, timing  # noqa: F401  (registration)
from qa_scoring.checks.base import (
    CHECKS,
    Check,
    CheckResult,
    Context,
    Evidence,
    build_check,
    register,
)

__all__ = ["CHECKS", "Check", "CheckResult", "Context", "Evidence", "build_check", "register"]
