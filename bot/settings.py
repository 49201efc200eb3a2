"""Configuration from the environment (and an optional ``.env`` file).

Names and defaults follow DESIGN.md. A missing or malformed setting stops the program at start
with one line naming it (see :func:`load_settings`); the bot token is a ``SecretStr`` so that it
never shows up in a repr, a log line or an error message.
"""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.rules.escalation import Thresholds


class SettingsError(SystemExit):
    """Raised (and exits the program) when the configuration is unusable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    database_url: str = "sqlite+aiosqlite:///recovery.db"
    clinic_chat_id: int | None = None
    clinic_staff_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    clinic_timezone: str = "Europe/London"
    clinic_name: str = "the clinic"
    alert_renotify_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # An urgent alert nobody has acknowledged this long also goes privately to each on-call
    # clinician, and again every ALERT_RENOTIFY_MINUTES until acknowledged (a fraction of a
    # minute is allowed for tests).
    alert_escalate_minutes: float = Field(default=30, gt=0, le=24 * 60)
    # Who gets those private copies; empty: everyone on CLINIC_STAFF_IDS.
    clinic_oncall_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    # "Is this happening now?" about a possible red flag: unanswered this long, the clinic is
    # alerted (a fraction of a minute is allowed for tests).
    red_flag_confirm_minutes: float = Field(default=10, gt=0, le=60)

    invite_valid_days: int = Field(default=14, ge=1, le=365)
    # How often the background tick looks for due work (alerts to send or re-send).
    tick_seconds: float = Field(default=5.0, gt=0, le=300)
    # When the daily clinic digest (review notes, open alerts) goes to the staff chat.
    digest_time: str = "08:00"
    # Reminders: a push missed by more than this (downtime) is skipped, not sent late.
    reminder_grace_hours: float = Field(default=2.0, gt=0, le=24)
    checkin_nudge_hours: float = Field(default=3.0, gt=0, le=12)
    # The one sender's pace (Telegram: about 30 a second overall); 0 turns the limit off.
    send_rate_per_second: int = Field(default=30, ge=0, le=10000)
    send_concurrency: int = Field(default=32, ge=1, le=1000)
    # Chats whose updates are handled at once (one chat's updates are always in order).
    inbox_concurrency: int = Field(default=16, ge=1, le=1000)
    # Escalation thresholds (DESIGN.md, "Escalation to the clinic").
    worsening_min_points: int = Field(default=2, ge=1, le=10)
    worsening_min_percent: float = Field(default=30.0, ge=0, le=1000)
    baseline_days: int = Field(default=7, ge=1, le=60)
    baseline_min_entries: int = Field(default=3, ge=1, le=60)
    severe_pain: int = Field(default=8, ge=1, le=10)
    severe_pain_days: int = Field(default=2, ge=1, le=30)
    review_no_improvement_weeks: int = Field(default=8, ge=1, le=104)
    review_missed_checkins: int = Field(default=3, ge=1, le=60)
    review_skipped_days: int = Field(default=5, ge=1, le=60)
    review_skipped_window: int = Field(default=7, ge=1, le=60)
    # For tests and demos only: read "now" from this file (an ISO 8601 instant) instead of
    # the system clock, so hours of schedule can be run in seconds.
    clock_file: str | None = None
    # Tests only: while this file exists, stored updates are not handled (a crash window).
    inbox_hold_file: str | None = None
    # At start, the database and Telegram are tried this many times (waiting 1 s, 2 s, 4 s...
    # between tries) while they fail in a way that waiting can fix.
    startup_tries: int = Field(default=3, ge=1, le=20)
    startup_backoff_seconds: float = Field(default=1.0, ge=0, le=60)
    # DEBUG also shows the traceback behind a one-line error.
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # The content (texts, FAQ, exercises, red-flag phrases): a clinic's reviewed copy, or the
    # one shipped in bot/content when unset. Checked file by file at start.
    content_dir: str | None = None

    @field_validator("clinic_staff_ids", "clinic_oncall_ids", mode="before")
    @classmethod
    def _parse_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            return frozenset(int(p) for p in parts)
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("clinic_oncall_ids")
    @classmethod
    def _oncall_are_staff(cls, value: frozenset[int], info: ValidationInfo) -> frozenset[int]:
        # An on-call clinician who is not on the staff list could not acknowledge the alert.
        if not value <= info.data.get("clinic_staff_ids", frozenset()):
            raise ValueError("every id must also be in CLINIC_STAFF_IDS")
        return value

    @field_validator("red_flag_confirm_minutes")
    @classmethod
    def _asked_before_escalating(cls, value: float, info: ValidationInfo) -> float:
        # An unanswered "Is this happening now?" is posted to the clinic chat when it is due;
        # escalating to the on-call clinicians before then would skip the group.
        escalate = info.data.get("alert_escalate_minutes")
        if escalate is not None and value >= escalate:
            raise ValueError("must be less than ALERT_ESCALATE_MINUTES")
        return value

    @field_validator("clinic_timezone")
    @classmethod
    def _check_tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @field_validator("digest_time")
    @classmethod
    def _check_time(cls, value: str) -> str:
        time.fromisoformat(value)
        return value

    @field_validator("telegram_api_base_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("content_dir")
    @classmethod
    def _check_content_dir(cls, value: str | None) -> str | None:
        if value and not Path(value).is_dir():
            raise ValueError("not a directory")
        return value or None

    @field_validator("database_url")
    @classmethod
    def _check_db(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must be sqlite+aiosqlite://... or postgresql+asyncpg://...")
        return value

    @property
    def token(self) -> str:
        if self.telegram_bot_token is None or not self.telegram_bot_token.get_secret_value():
            raise SettingsError("configuration error: TELEGRAM_BOT_TOKEN is required")
        return self.telegram_bot_token.get_secret_value()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.clinic_timezone)

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(
            worsening_min_points=self.worsening_min_points,
            worsening_min_percent=self.worsening_min_percent,
            baseline_days=self.baseline_days,
            baseline_min_entries=self.baseline_min_entries,
            severe_pain=self.severe_pain,
            severe_pain_days=self.severe_pain_days,
            review_no_improvement_weeks=self.review_no_improvement_weeks,
            review_missed_checkins=self.review_missed_checkins,
            review_skipped_days=self.review_skipped_days,
            review_skipped_window=self.review_skipped_window,
        )

    @property
    def oncall_ids(self) -> frozenset[int]:
        return self.clinic_oncall_ids or self.clinic_staff_ids

    def is_staff(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.clinic_staff_ids

    def require_for_running(self) -> None:
        """Settings that only a real run needs (the demo supplies its own)."""
        self.token  # noqa: B018 - raises SettingsError when missing
        if self.clinic_chat_id is None:
            raise SettingsError("configuration error: CLINIC_CHAT_ID is required")
        if not self.clinic_staff_ids:
            raise SettingsError(
                "configuration error: CLINIC_STAFF_IDS is empty, so nobody could acknowledge "
                "an alert: list the clinicians' Telegram user ids, separated by commas"
            )


def load_settings(**overrides: object) -> Settings:
    """Build the settings, turning a validation error into one clear line naming the setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]).upper() if err["loc"] else "setting"
        # Never echo the offending value: it could be the token.
        msg = err["msg"].removeprefix("Value error, ")
        raise SettingsError(f"configuration error: {name}: {msg}") from None
