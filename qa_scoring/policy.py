"""Shop policies: the facts an agent may quote (return window, warranty, dispatch time, free
shipping, prices), one YAML file per shop, validated on load.

The pipeline hands the policy of ``conversation.metadata["shop"]`` to checks as a plain mapping
(``Context.policy``); the ``policy_facts`` check compares agents' claims against it. A fact a
shop leaves out is simply not checked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from qa_scoring.conversation import field_errors
from qa_scoring.errors import FieldError, QAScoringError

_ID = r"^[a-z0-9][a-z0-9_.-]*$"
Names = dict[Literal["zh", "en"], str]


class PolicyError(QAScoringError):
    """A policy file (or directory) that does not validate; ``errors`` name the fields."""

    def __init__(self, source: str, errors: list[FieldError]) -> None:
        self.source = source
        self.errors = errors
        super().__init__(f"{source}: " + "; ".join(str(e) for e in errors))


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeliveryDays(_Spec):
    min: int = Field(ge=0)
    max: int = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> DeliveryDays:
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) is less than min ({self.min})")
        return self


class Product(_Spec):
    sku: str = Field(min_length=1, max_length=100)
    name: Names = Field(min_length=1)
    price: float = Field(ge=0)
    stock: int | None = Field(default=None, ge=0)


class ShopPolicy(_Spec):
    shop: str = Field(pattern=_ID)
    name: Names = Field(min_length=1)
    return_window_days: int | None = Field(default=None, ge=0, description="0 = no returns")
    exchange_window_days: int | None = Field(default=None, ge=0)
    warranty_months: int | None = Field(default=None, ge=0)
    dispatch_hours: int | None = Field(default=None, gt=0)
    delivery_days: DeliveryDays | None = None
    free_shipping_over: float | None = Field(default=None, ge=0, description="0 = always free")
    products: list[Product] = Field(default=[])

    @model_validator(mode="after")
    def _unique_skus(self) -> ShopPolicy:
        skus = [p.sku for p in self.products]
        dupes = sorted({s for s in skus if skus.count(s) > 1})
        if dupes:
            raise ValueError(f"duplicate product skus: {', '.join(dupes)}")
        return self


def parse_policy(data: Any, source: str = "<policy>") -> ShopPolicy:
    try:
        return ShopPolicy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(source, field_errors(exc, root="(policy)")) from None


def load_policy(path: str | Path) -> ShopPolicy:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise PolicyError(str(path), [FieldError("(file)", str(exc))]) from None
    if not isinstance(data, dict):
        raise PolicyError(str(path), [FieldError("(policy)", "a policy file must be a mapping")])
    return parse_policy(data, str(path))


def load_policies(directory: str | Path) -> dict[str, ShopPolicy]:
    """Every ``*.yaml`` / ``*.yml`` policy in ``directory``, by shop id."""
    directory = Path(directory)
    if not directory.is_dir():
        raise PolicyError(str(directory), [FieldError("(directory)", "not a directory")])
    policies: dict[str, ShopPolicy] = {}
    origin: dict[str, Path] = {}
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        policy = load_policy(path)
        if policy.shop in policies:
            reason = f"shop {policy.shop!r} is already defined in {origin[policy.shop]}"
            raise PolicyError(str(path), [FieldError("shop", reason)])
        policies[policy.shop] = policy
        origin[policy.shop] = path
    return policies
