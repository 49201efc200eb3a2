"""Invite codes: unguessable, single-use, expiring, and belonging to one person.

Only their SHA-256 is stored. The first Telegram account that opens a link claims it; nobody
else can see whose it is or use it. Staff re-issue an invite to revoke the old link. An invite
carries, optionally, the patient's phone number and the clinic's own reference, so that staff
can reach the patient and tell two people of the same name apart.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.models import Invite
from storage.uow import UnitOfWork

MAX_NAME = 100
MAX_REF = 32
REVOKED_NAME = "(replaced)"
# What people type for a phone number: digits, spaces, "+", "-", ".", brackets. 7 to 15 digits
# (15 is the international maximum, E.164).
PHONE_RE = re.compile(r"^\+?[\d\s\-.()]+$")
REF_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-_/.]*$")


class InviteError(ValueError):
    """A detail of an invite that cannot be accepted; ``key`` names the message that says why."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def new_code() -> str:
    # 128 bits from the OS CSPRNG; URL-safe characters are valid in a t.me start parameter.
    return secrets.token_urlsafe(16)


def deep_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


@dataclass(frozen=True)
class NewInvite:
    id: int
    code: str
    name: str
    expires_at: datetime
    phone: str | None = None
    clinic_ref: str | None = None


def clean_name(raw: str) -> str:
    name = " ".join(raw.split())
    return name[:MAX_NAME]


def clean_phone(raw: str | None) -> str | None:
    """A phone number as typed, spaces tidied; None when empty. InviteError when it is not
    one."""
    phone = " ".join((raw or "").split())
    if not phone:
        return None
    digits = sum(ch.isdigit() for ch in phone)
    if not PHONE_RE.match(phone) or not 7 <= digits <= 15:
        raise InviteError("invite_bad_phone")
    return phone


def clean_ref(raw: str | None) -> str | None:
    ref = (raw or "").strip()
    if not ref:
        return None
    if len(ref) > MAX_REF or not REF_RE.match(ref):
        raise InviteError("invite_bad_ref")
    return ref


def parse_details(raw: str) -> tuple[str, str | None, str | None]:
    """``Sam Taylor | +44 7700 900123 | RB-1042`` -> (name, phone, ref). The phone and the
    reference are optional; with two parts, the second is a phone number if it looks like
    one, else the reference."""
    parts = [p.strip() for p in raw.split("|")]
    if len(parts) > 3:
        raise InviteError("invite_usage")
    name = clean_name(parts[0])
    phone, ref = (parts[1:] + ["", ""])[:2]
    if len(parts) == 2 and phone and not _looks_like_phone(phone):
        phone, ref = "", phone
    return name, clean_phone(phone), clean_ref(ref)


def _looks_like_phone(raw: str) -> bool:
    try:
        return clean_phone(raw) is not None
    except InviteError:
        return False


async def create_invite(
    uow: UnitOfWork,
    name: str,
    *,
    created_by: int | None,
    now: datetime,
    valid_days: int,
    actor: str = "staff",
    phone: str | None = None,
    clinic_ref: str | None = None,
) -> NewInvite:
    name = clean_name(name)
    if not name:
        raise InviteError("invite_usage")
    phone, clinic_ref = clean_phone(phone), clean_ref(clinic_ref)
    code = new_code()
    invite = await uow.invites.add(
        Invite(
            code_hash=hash_code(code),
            name=name,
            phone=phone,
            clinic_ref=clinic_ref,
            created_by=created_by,
            created_at=now,
            expires_at=now + timedelta(days=valid_days),
        )
    )
    await uow.audit.record(now, actor, "invite_created", actor_id=created_by, invite_id=invite.id)
    return NewInvite(invite.id, code, name, invite.expires_at, phone, clinic_ref)


@dataclass(frozen=True)
class Reissued:
    status: str  # reissued | unknown | used
    invite: NewInvite | None = None
    old: Invite | None = None


async def reissue(
    uow: UnitOfWork, invite_id: int, *, created_by: int | None, now: datetime, valid_days: int
) -> Reissued:
    """A new link for the same person (name, phone, reference); the old link stops working.
    An invite already used to join cannot be re-issued: the patient has joined."""
    old = await uow.invites.get(invite_id)
    if old is None:
        return Reissued("unknown")
    if old.used_at is not None:
        return Reissued("used", old=old)
    if not await uow.invites.revoke(invite_id, now):  # replaced already, or used meanwhile
        return Reissued("replaced", old=old)
    new = await create_invite(
        uow,
        old.name,
        created_by=created_by,
        now=now,
        valid_days=valid_days,
        phone=old.phone,
        clinic_ref=old.clinic_ref,
    )
    # The revoked invite is needed only to say "replaced" to whoever opens it: it forgets
    # whose it was (the new one carries the details, and is erased with the patient).
    old.name, old.phone, old.clinic_ref = REVOKED_NAME, None, None
    await uow.audit.record(
        now, "staff", "invite_reissued", actor_id=created_by, invite_id=new.id, replaces=old.id
    )
    return Reissued("reissued", new, old)


async def open_link(
    uow: UnitOfWork, code: str, user_id: int, now: datetime
) -> tuple[Invite | None, str]:
    """The invite behind a link opened by ``user_id``, claimed for them if nobody had, and
    why it cannot be used: '', 'unknown', 'used', 'revoked', 'expired' or 'taken' (another
    account opened it first). Only with '' may the caller show whose invite it is."""
    if not code or len(code) > 64:
        return None, "unknown"
    invite = await uow.invites.by_hash(hash_code(code))
    if invite is None:
        return None, "unknown"
    if invite.used_at is not None:
        return invite, "used"
    if invite.revoked_at is not None:
        return invite, "revoked"
    if invite.expires_at <= now:
        return invite, "expired"
    if not await uow.invites.claim(invite.id, user_id, now):
        return invite, "taken"
    return invite, ""


async def staff_invite(
    uow: UnitOfWork, details: str, *, created_by: int, now: datetime, valid_days: int
) -> NewInvite:
    """/invite NAME [| PHONE | REF]: the invite, committed. :class:`InviteError` when the
    details do not make one."""
    name, phone, ref = parse_details(details)
    if not name:
        raise InviteError("invite_usage")
    inv = await create_invite(
        uow,
        name,
        created_by=created_by,
        now=now,
        valid_days=valid_days,
        phone=phone,
        clinic_ref=ref,
    )
    await uow.commit()
    return inv


async def staff_reissue(
    uow: UnitOfWork, invite_id: int, *, created_by: int, now: datetime, valid_days: int
) -> Reissued:
    """/reinvite N: :func:`reissue`, committed."""
    result = await reissue(uow, invite_id, created_by=created_by, now=now, valid_days=valid_days)
    await uow.commit()
    return result
