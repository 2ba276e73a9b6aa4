"""Typed settings: config.toml for documented defaults, the environment for secrets.

Validation is done by pydantic so that a typo in config.toml is reported with the key that is
wrong instead of surfacing later as an obscure failure.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

DEFAULT_CONFIG = Path("config.toml")


class ConfigError(Exception):
    """A configuration problem worth one clear line to the user."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


PLACEHOLDER = "[CẦN CẬP NHẬT"


class Agency(_Section):
    name: str = "Sở Khoa học và Công nghệ tỉnh Hưng Yên"
    unit: str = "Phòng Tiêu chuẩn, Đo lường, Chất lượng và Sở hữu trí tuệ"
    address: str = ""
    phone: str = ""
    email: str = ""
    website: str = ""
    hours: str = "Thứ Hai đến Thứ Sáu, giờ hành chính"

    def shown(self, name: str) -> str:
        """A field as a business may see it: empty while it is unset or still a placeholder."""
        value = str(getattr(self, name)).strip()
        return "" if value.startswith(PLACEHOLDER) else value

    def missing(self) -> list[str]:
        """Contact fields staff still have to fill in (never shown to a business meanwhile)."""
        fields = ("name", "unit", "address", "phone", "email", "website", "hours")
        return [name for name in fields if not self.shown(name)]

    @property
    def contact(self) -> str:
        """One short line that tells a business how to reach the office, with only the
        details that are configured."""
        parts = [self.shown("name") + (f" ({self.shown('unit')})" if self.shown("unit") else "")]
        details = (
            ("điện thoại", "phone"),
            ("e-mail", "email"),
            ("địa chỉ", "address"),
            ("website", "website"),
        )
        for label, name in details:
            if self.shown(name):
                parts.append(f"{label} {self.shown(name)}")
        return ", ".join(part for part in parts if part)

    def missing_warning(self) -> str | None:
        """The line staff see (kb check, start-up log) while contact details are unset."""
        missing = self.missing()
        if not missing:
            return None
        return (
            f"config.toml: agency: warning: not configured, so never shown to businesses: "
            f"{', '.join(missing)}"
        )

    def template_context(self) -> dict[str, str]:
        """What knowledge files and templates may print: placeholders become empty."""
        fields = ("name", "unit", "address", "phone", "email", "website", "hours")
        return {name: self.shown(name) for name in fields} | {"contact": self.contact}


class KnowledgeSettings(_Section):
    path: Path = Path("knowledge")
    max_answer_chars: int = Field(default=1500, gt=0)
    soft_answer_chars: int = Field(default=1200, gt=0)
    stale_after_days: int = Field(default=365, gt=0)


class RetrievalSettings(_Section):
    threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    low_confidence: float = Field(default=0.62, ge=0.0, le=1.0)
    suggestions: int = Field(default=3, ge=0, le=10)
    # A follow-up ("vậy phí bao nhiêu?") takes its subject from the chat's last question if
    # that was asked less than this many minutes ago.
    context_minutes: int = Field(default=30, ge=0, le=24 * 60)

    @model_validator(mode="after")
    def _ordered(self) -> RetrievalSettings:
        if self.low_confidence < self.threshold:
            raise ValueError("low_confidence must not be below threshold")
        return self


class DatabaseSettings(_Section):
    url: str = "sqlite:///data/tbt.sqlite3"
    busy_timeout_ms: int = Field(default=3000, gt=0)
    write_timeout_s: float = Field(default=2.0, gt=0)
    spool: Path = Path("data/spool.jsonl")


class TelegramSettings(_Section):
    mode: Literal["polling", "webhook"] = "polling"
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = Field(default=8443, gt=0, lt=65536)
    webhook_url: str = ""
    concurrent_updates: int = Field(default=64, gt=0)
    connection_pool_size: int = Field(default=8, gt=0, le=256)

    @model_validator(mode="after")
    def _webhook_needs_url(self) -> TelegramSettings:
        if self.mode == "webhook" and not self.webhook_url:
            raise ValueError("webhook mode needs webhook_url (the public HTTPS address)")
        return self


class StaffSettings(_Section):
    staff_ids: tuple[int, ...] = ()
    admin_ids: tuple[int, ...] = ()
    group_chat_id: int = 0
    topic_groups: dict[str, int] = Field(default_factory=dict)
    morning_hour: int = Field(default=8, ge=0, le=23)
    remind_after_hours: float = Field(default=4, gt=0)
    # The office works in Vietnam time (bot/clock.py); the key stays so that a config.toml
    # that names the zone keeps loading, and any other zone is refused rather than ignored.
    timezone: Literal["Asia/Ho_Chi_Minh"] = "Asia/Ho_Chi_Minh"

    def group_for(self, topic: str | None) -> int:
        """The staff group for a topic: its own group when configured, else the main one."""
        return self.topic_groups.get(topic or "", self.group_chat_id)

    @property
    def groups(self) -> tuple[int, ...]:
        found = [self.group_chat_id, *self.topic_groups.values()]
        return tuple(dict.fromkeys(g for g in found if g))


class BulletinSettings(_Section):
    path: Path = Path("bulletins")
    send_day: Literal[
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"
    ] = "monday"
    send_time: dt.time = dt.time(8, 0)
    require_approval: bool = True
    rate: float = Field(default=25.0, gt=0, le=30)
    per_chat_interval: float = Field(default=1.0, ge=0)
    max_attempts: int = Field(default=5, ge=1)
    retry_backoff: float = Field(default=2.0, gt=0)
    lease_seconds: float = Field(default=120.0, gt=0)


class ReportSettings(_Section):
    # Jinja2 templates of the report and the statistics message; staff may edit them.
    templates: Path = Path("bot/templates")


class Settings(_Section):
    agency: Agency = Agency()
    knowledge: KnowledgeSettings = KnowledgeSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    database: DatabaseSettings = DatabaseSettings()
    telegram: TelegramSettings = TelegramSettings()
    staff: StaffSettings = StaffSettings()
    bulletin: BulletinSettings = BulletinSettings()
    report: ReportSettings = ReportSettings()
    # Secrets and deployment specifics: only ever from the environment.
    telegram_token: str | None = None
    telegram_base_url: str | None = None
    webhook_secret: str | None = None
    base_dir: Path = Path()

    @property
    def knowledge_path(self) -> Path:
        return _resolve(self.base_dir, self.knowledge.path)

    @property
    def bulletins_path(self) -> Path:
        return _resolve(self.base_dir, self.bulletin.path)

    @property
    def templates_path(self) -> Path:
        return _resolve(self.base_dir, self.report.templates)

    @property
    def spool_path(self) -> Path:
        return _resolve(self.base_dir, self.database.spool)

    @property
    def database_url(self) -> str:
        url = self.database.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/"):
            relative = url.removeprefix(prefix)
            if relative and relative != ":memory:":
                return prefix + str(_resolve(self.base_dir, Path(relative)))
        return url


def _resolve(base: Path, path: Path) -> Path:
    return path if path.is_absolute() else base / path


def load_settings(
    path: Path | None = None, environ: dict[str, str] | None = None, **overrides: Any
) -> Settings:
    """Read config.toml (or BOT_CONFIG) and apply environment overrides."""
    env = dict(os.environ) if environ is None else environ
    config_path = path or Path(env.get("BOT_CONFIG") or DEFAULT_CONFIG)
    data: dict[str, Any] = {}
    if config_path.exists():
        try:
            data = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{config_path}: not valid TOML: {exc}") from exc
    elif path is not None or "BOT_CONFIG" in env:
        raise ConfigError(f"{config_path}: configuration file not found")
    data["base_dir"] = config_path.resolve().parent
    if env.get("DATABASE_URL"):
        data.setdefault("database", {})["url"] = env["DATABASE_URL"]
    if env.get("TELEGRAM_BOT_TOKEN"):
        data["telegram_token"] = env["TELEGRAM_BOT_TOKEN"].strip()
    if env.get("TELEGRAM_BASE_URL"):
        data["telegram_base_url"] = env["TELEGRAM_BASE_URL"].strip()
    if env.get("TELEGRAM_WEBHOOK_SECRET"):
        data["webhook_secret"] = env["TELEGRAM_WEBHOOK_SECRET"].strip()
    data.update(overrides)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(config_path, exc)) from exc


def _describe(config_path: Path, exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        problems.append(f"{config_path}: {where}: {error['msg']}")
    return "\n".join(problems)
