"""API keys and who is calling. A key is ``qas_<prefix>_<secret>``; only the prefix (to find the
row) and a salted SHA-256 of the whole key are stored, so a database leak leaks no keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_scoring.errors import FieldError, InputError, NotFound
from qa_scoring.storage.models import ApiKey, utcnow
from qa_scoring.storage.repository import ensure_tenant

Role = Literal["admin", "qa_lead", "agent", "integration"]
ROLES: tuple[Role, ...] = ("admin", "qa_lead", "agent", "integration")


@dataclass(frozen=True)
class Principal:
    tenant: str
    role: Role
    agent_id: str | None
    key_prefix: str


@dataclass(frozen=True)
class KeyInfo:
    prefix: str
    tenant: str
    role: str
    agent_id: str | None
    name: str | None
    created_at: datetime
    revoked_at: datetime | None


def _hash(salt: str, key: str) -> str:
    return hashlib.sha256((salt + key).encode()).hexdigest()


def create_key(
    session: Session, tenant: str, role: str, agent_id: str | None = None, name: str | None = None
) -> tuple[str, KeyInfo]:
    """A new key (returned once, never stored) and its record."""
    errors = []
    if role not in ROLES:
        errors.append(FieldError("role", f"must be one of {', '.join(ROLES)}"))
    if (role == "agent") != bool(agent_id):
        errors.append(FieldError("agent_id", "required for role agent, and only for it"))
    if errors:
        raise InputError(errors)
    prefix, salt = secrets.token_hex(6), secrets.token_hex(16)
    key = f"qas_{prefix}_{secrets.token_urlsafe(32)}"
    ensure_tenant(session, tenant)
    record = ApiKey(
        tenant_id=tenant,
        prefix=prefix,
        salt=salt,
        key_hash=_hash(salt, key),
        role=role,
        agent_id=agent_id,
        name=name,
    )
    session.add(record)
    session.flush()
    return key, _info(record)


def _info(k: ApiKey) -> KeyInfo:
    return KeyInfo(k.prefix, k.tenant_id, k.role, k.agent_id, k.name, k.created_at, k.revoked_at)


def list_keys(session: Session, tenant: str | None = None) -> list[KeyInfo]:
    stmt = select(ApiKey).order_by(ApiKey.tenant_id, ApiKey.created_at)
    if tenant is not None:
        stmt = stmt.where(ApiKey.tenant_id == tenant)
    return [_info(k) for k in session.scalars(stmt)]


def revoke_key(session: Session, prefix: str) -> None:
    record = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if record is None:
        raise NotFound(f"API key {prefix!r}")
    record.revoked_at = record.revoked_at or utcnow()


def authenticate(session: Session, key: str) -> Principal | None:
    parts = key.split("_")
    if len(parts) < 3 or parts[0] != "qas":
        return None
    record = session.scalar(select(ApiKey).where(ApiKey.prefix == parts[1]))
    if record is None or record.revoked_at is not None:
        return None
    if not hmac.compare_digest(record.key_hash, _hash(record.salt, key)):
        return None
    return Principal(record.tenant_id, record.role, record.agent_id, record.prefix)  # type: ignore[arg-type]
