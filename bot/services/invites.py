"""Invite codes: unguessable, single-use, expiring. Only their SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.models import Invite
from storage.uow import UnitOfWork

MAX_NAME = 100


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def new_code() -> str:
    # 128 bits from the OS CSPRNG; URL-safe characters are valid in a t.me start parameter.
    return secrets.token_urlsafe(16)


def deep_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


@dataclass(frozen=True)
class NewInvite:
    code: str
    name: str
    expires_at: datetime


def clean_name(raw: str) -> str:
    name = " ".join(raw.split())
    return name[:MAX_NAME]


async def create_invite(
    uow: UnitOfWork,
    name: str,
    *,
    created_by: int | None,
    now: datetime,
    valid_days: int,
    actor: str = "staff",
) -> NewInvite:
    name = clean_name(name)
    if not name:
        raise ValueError("an invite needs the patient's name")
    code = new_code()
    invite = await uow.invites.add(
        Invite(
            code_hash=hash_code(code),
            name=name,
            created_by=created_by,
            created_at=now,
            expires_at=now + timedelta(days=valid_days),
        )
    )
    await uow.audit.record(now, actor, "invite_created", actor_id=created_by, invite_id=invite.id)
    return NewInvite(code=code, name=name, expires_at=invite.expires_at)


async def find_valid(uow: UnitOfWork, code: str, now: datetime) -> tuple[Invite | None, str]:
    """The invite for a code and why it cannot be used: '', 'unknown', 'used' or 'expired'."""
    if not code or len(code) > 64:
        return None, "unknown"
    invite = await uow.invites.by_hash(hash_code(code))
    if invite is None:
        return None, "unknown"
    if invite.used_at is not None:
        return invite, "used"
    if invite.expires_at <= now:
        return invite, "expired"
    return invite, ""
