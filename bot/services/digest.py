"""The daily clinic digest: review notes (pure rules in ``bot.rules.escalation``) and a
summary of open alerts, sent once a day to the staff chat at ``DIGEST_TIME`` clinic time.

Running it is claimed with a conditional update of ``clinic_jobs.next_at`` (first a short lease,
then the next day once the message is out), so it runs once across replicas and is retried if
Telegram fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from bot.outcomes.progress import Change, weekly_change
from bot.outcomes.progress import build as build_progress
from bot.rules import schedule
from bot.rules.escalation import Thresholds, evaluate_review
from bot.services.alerts import raise_alert
from bot.services.checkin import to_diary
from storage.models import Alert, Patient
from storage.uow import UnitOfWork

JOB = "digest"
LEASE = timedelta(minutes=5)


async def claim(uow: UnitOfWork, now: datetime, digest_time: str, tz: str) -> bool:
    """True if this process should build and send the digest now."""
    first = schedule.next_occurrence(time.fromisoformat(digest_time), tz, now)
    claimed = await uow.clinic_jobs.claim(JOB, now, LEASE, first)
    await uow.commit()
    return claimed


async def done(uow: UnitOfWork, now: datetime, digest_time: str, tz: str) -> None:
    nxt = schedule.next_occurrence(time.fromisoformat(digest_time), tz, now)
    await uow.clinic_jobs.schedule(JOB, nxt)
    await uow.commit()


@dataclass(frozen=True)
class Digest:
    day: date
    active: int
    checked_in: int
    reviews: list[tuple[Patient, Alert]]
    open_urgent: int
    open_worsening: int
    unreachable: list[Patient]
    # Pain that changed by the clinically important amount over the week (2 points and 30%).
    changes: list[tuple[Patient, Change]] = field(default_factory=list)


async def build(uow: UnitOfWork, now: datetime, t: Thresholds, clinic_tz: str) -> Digest:
    """Run the review rules for every active patient, keep the review notes as alerts (one
    open per patient and rule; a note whose rule no longer fires is closed), and summarise."""
    patients = await uow.patients.list_all()
    reviews, checked_in, unreachable, changes = [], 0, [], []
    for i, p in enumerate(patients):
        if i and i % 100 == 0:
            await uow.commit()  # short transactions: SQLite has one writer
        today = schedule.local_date(now, p.timezone)
        entries = await uow.checkins.entries(p.id, since=today - timedelta(days=70))
        if any(e.local_day == today - timedelta(days=1) for e in entries):
            checked_in += 1
        progress = build_progress(reversed(entries))
        for site in ("leg", "back"):
            change = weekly_change(progress, today, site)
            if change is not None and change.important:
                changes.append((p, change))
        if p.unreachable:
            unreachable.append(p)
        paused = p.paused_until is not None and p.paused_until >= today - timedelta(days=1)
        decisions = (
            []
            if paused
            # Oldest first: of a day's check-ins, the latest counts.
            else evaluate_review([to_diary(e) for e in reversed(entries)], today, p.enrolled_on, t)
        )
        fired = {d.rule for d in decisions}
        for alert in await uow.alerts.open_alerts(p.id):
            if alert.level == "review" and alert.rule not in fired:
                alert.status, alert.updated_at = "resolved", now
        for d in decisions:
            alert, _ = await raise_alert(uow, p, d, now)
            reviews.append((p, alert))
    opened = await uow.alerts.open_all()
    await uow.commit()
    return Digest(
        day=schedule.local_date(now, clinic_tz),
        active=len(patients),
        checked_in=checked_in,
        reviews=reviews,
        open_urgent=sum(a.level == "urgent" for a in opened),
        open_worsening=sum(a.level == "worsening" for a in opened),
        unreachable=unreachable,
        changes=changes,
    )
