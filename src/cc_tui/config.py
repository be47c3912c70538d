"""Settings: defaults < TOML file < environment (CC_TUI_*) < command-line options.

Nothing is read at import time: `load_settings()` is called by the CLI (or a test) with the
options it was given.
"""

from __future__ import annotations

import getpass
import os
import stat
import tomllib
from contextvars import ContextVar
from datetime import tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from cc_tui.errors import UsageError

APP_NAME = "cc-tui"
_config_path: ContextVar[Path | None] = ContextVar("_config_path", default=None)


def default_config_file() -> Path:
    return platformdirs.user_config_path(APP_NAME) / "config.toml"


def default_database_url() -> str:
    path = platformdirs.user_data_path(APP_NAME) / "cc-tui.sqlite3"
    return f"sqlite:///{path}"


class _TomlSource(PydanticBaseSettingsSource):
    """The TOML config file, the lowest-priority source after the defaults."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None) -> None:
        super().__init__(settings_cls)
        self.path = path

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        if self.path is None or not self.path.exists():
            return {}
        try:
            with self.path.open("rb") as fh:
                data = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise UsageError(f"cannot read config file {self.path}: {exc}") from exc
        # Accept both a flat file and one with a [cc-tui] table.
        table: dict[str, Any] = data.get(APP_NAME, data)
        _refuse_readable_secret(self.path, table)
        return table


def _refuse_readable_secret(path: Path, settings: dict[str, Any]) -> None:
    """A file that holds a password must be readable by its owner only."""
    url = settings.get("database_url")
    if not isinstance(url, str) or not _has_password(url):
        return
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & 0o077:
        raise UsageError(
            f"config file {path} holds a database password and others can read it: "
            f"run `chmod 600 {path}`"
        )


def _has_password(url: str) -> bool:
    # scheme://user:password@host... (the password may be empty: still a secret slot)
    head = url.partition("://")[2].partition("/")[0]
    return "@" in head and ":" in head.rpartition("@")[0]


class SmtpSettings(BaseModel):
    """The `[smtp]` table: where notifications are sent from."""

    model_config = ConfigDict(populate_by_name=True)

    url: str | None = Field(
        default=None, description="smtp://host:587 (STARTTLS), smtps://host:465 (TLS)"
    )
    sender: str | None = Field(default=None, alias="from", description="the From address")
    username: str | None = Field(default=None, description="login; default: none")
    password_file: Path | None = Field(
        default=None, description="a file (mode 0600) holding the password"
    )
    timeout: float = Field(default=30.0, description="seconds per SMTP operation")

    def password(self) -> str | None:
        """CC_TUI_SMTP_PASSWORD, else the password file, which only its owner may read."""
        from_env = os.environ.get("CC_TUI_SMTP_PASSWORD")
        if from_env:
            return from_env
        if self.password_file is None:
            return None
        try:
            mode = self.password_file.stat().st_mode
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise UsageError(
                    f"{self.password_file} may be read by others; chmod 600 it", field="smtp"
                )
            return self.password_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise UsageError(f"cannot read {self.password_file}: {exc}", field="smtp") from exc


class SmsSettings(BaseModel):
    """The `[sms]` table: the HTTP gateway SMS go through, and when they may not."""

    model_config = ConfigDict(populate_by_name=True)

    url: str | None = Field(
        default=None,
        description="gateway URL template: {to} {text} {user} {password} {from} are filled in",
    )
    username: str | None = Field(default=None, alias="user", description="the gateway login")
    password_file: Path | None = Field(
        default=None, description="a file (mode 0600) holding the gateway password"
    )
    sender: str | None = Field(default=None, alias="from", description="the sender number")
    quiet_hours: str | None = Field(
        default=None, description='"21:00-08:00": SMS due then wait until it ends'
    )
    timezone: str | None = Field(
        default=None, description="quiet hours' zone without a contract calendar; default: timezone"
    )
    timeout: float = Field(default=30.0, description="seconds per gateway request")

    def password(self) -> str | None:
        """CC_TUI_SMS_PASSWORD, else the password file, which only its owner may read."""
        return _secret("CC_TUI_SMS_PASSWORD", self.password_file, "sms")


def _secret(variable: str, path: Path | None, table: str) -> str | None:
    from_env = os.environ.get(variable)
    if from_env:
        return from_env
    if path is None:
        return None
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise UsageError(f"{path} may be read by others; chmod 600 it", field=table)
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc}", field=table) from exc


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CC_TUI_", extra="ignore")

    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: the embedded SQLite file"
    )
    agent: str | None = Field(default=None, description="login at the console; default: OS login")
    default_country: str = Field(default="DE", description="region for phone numbers without +")
    timezone: str | None = Field(default=None, description="display zone; default: the system's")
    kb_search_required: bool = Field(
        default=False, description="refuse to save information/action requests without a KB search"
    )
    poll_seconds: float = Field(default=1.0, description="change-feed poll interval on SQLite")
    escalation_watch: bool = Field(
        default=True, description="the console sweeps escalations every minute and shows alerts"
    )
    keymap: dict[str, str] = Field(default_factory=dict, description="binding id -> keys")
    theme: str = Field(
        default="cc-tui",
        description="console colours: cc-tui, cc-tui-high-contrast or any Textual theme",
    )
    smtp: SmtpSettings = Field(default_factory=SmtpSettings, description="[smtp] table")
    sms: SmsSettings = Field(default_factory=SmsSettings, description="[sms] table")
    notify_templates: Path | None = Field(
        default=None,
        description="a folder of <event>.txt files overriding the shipped ones; "
        "default: templates/ next to the config file",
    )
    notify_poll_seconds: float = Field(
        default=30.0, description="`notify watch`: seconds between looks for due messages"
    )
    config_file: Path | None = Field(default=None, exclude=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlSource(settings_cls, _config_path.get()))

    @property
    def effective_database_url(self) -> str:
        return self.database_url or default_database_url()

    @property
    def templates_folder(self) -> Path | None:
        """Where admins' message templates are: `notify_templates`, else a `templates`
        folder next to the config file."""
        if self.notify_templates is not None:
            return self.notify_templates
        if self.config_file is None:
            return None
        return self.config_file.parent / "templates"

    @property
    def login(self) -> str:
        return self.agent or os.environ.get("USER") or getpass.getuser()

    @property
    def display_zone(self) -> tzinfo | None:
        """The zone times are shown in: the configured one, else the system's (None, as
        `astimezone(None)` reads it; also for a name this machine does not know)."""
        if not self.timezone:
            return None
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            return None


def load_settings(config_file: Path | str | None = None, **overrides: Any) -> Settings:
    """Build the effective settings; `overrides` are command-line options (None = not given)."""
    path = Path(config_file) if config_file else None
    if path is None:
        env_path = os.environ.get("CC_TUI_CONFIG_FILE")
        path = Path(env_path) if env_path else default_config_file()
    elif not path.exists():
        raise UsageError(f"config file not found: {path}")
    token = _config_path.set(path)
    try:
        given = {k: v for k, v in overrides.items() if v is not None}
        settings = Settings(**given)
    except UsageError:
        raise
    except ValueError as exc:
        raise UsageError(f"invalid setting: {exc}") from exc
    finally:
        _config_path.reset(token)
    settings.config_file = path
    return settings


def remember_setting(path: Path, key: str, value: str) -> None:
    """Write `key = "value"` at the top level of the TOML file (made if missing), keeping
    everything else in it as it was; a file that does not parse is left alone."""
    import json

    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot update {path}: {exc}") from exc
    line = f"{key} = {json.dumps(value)}"  # a JSON string is a TOML basic string
    lines = text.splitlines()
    table = next((i for i, row in enumerate(lines) if row.lstrip().startswith("[")), len(lines))
    for i, row in enumerate(lines[:table]):
        if row.split("=", 1)[0].strip() == key:
            lines[i] = line
            break
    else:
        lines.insert(table, line)
    updated = "\n".join(lines) + "\n"
    if tomllib.loads(updated).get(key) != value:
        raise UsageError(f"cannot update {path}: {key} would not read back")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(updated, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot update {path}: {exc}") from exc


def mask_url(url: str) -> str:
    """The URL with any password replaced by ***."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable URL>"
