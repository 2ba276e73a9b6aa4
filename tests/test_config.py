import re
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from tests.conftest import ROOT


def test_defaults_name_the_merged_hung_yen_department() -> None:
    settings = load_settings(ROOT / "config.toml", environ={})
    assert settings.agency.name == "Sở Khoa học và Công nghệ tỉnh Hưng Yên"
    assert "phone" in settings.agency.missing()  # not configured yet: listed for staff
    assert settings.telegram_token is None


def test_unconfigured_contact_details_are_never_shown() -> None:
    from bot.config import Agency

    agency = Agency(phone="[CẦN CẬP NHẬT: số điện thoại]", email="tbt@example.vn")
    assert "CẦN CẬP NHẬT" not in agency.contact
    assert "điện thoại" not in agency.contact
    assert "tbt@example.vn" in agency.contact
    assert agency.template_context()["phone"] == ""
    assert {"phone", "address", "website"} <= set(agency.missing())


def test_secrets_and_database_come_from_the_environment() -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": " 123:abc ",
        "DATABASE_URL": "postgresql+psycopg://bot:secret@db/tbt",
        "TELEGRAM_BASE_URL": "http://127.0.0.1:8081/bot",
    }
    settings = load_settings(ROOT / "config.toml", environ=env)
    assert settings.telegram_token == "123:abc"
    assert settings.database_url == "postgresql+psycopg://bot:secret@db/tbt"
    assert settings.telegram_base_url == "http://127.0.0.1:8081/bot"


def test_relative_sqlite_path_is_next_to_the_config(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[database]\nurl = "sqlite:///data/x.sqlite3"\n')
    settings = load_settings(config, environ={})
    assert settings.database_url == f"sqlite:///{tmp_path}/data/x.sqlite3"


def test_unknown_key_is_named(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[retrieval]\nthreshhold = 0.5\n")
    with pytest.raises(ConfigError, match=r"retrieval\.threshhold: Extra inputs"):
        load_settings(config, environ={})


def test_bad_value_is_named(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[retrieval]\nthreshold = 2\n")
    with pytest.raises(ConfigError, match=r"retrieval\.threshold: Input should be less"):
        load_settings(config, environ={})


def test_committed_config_holds_no_secrets() -> None:
    text = (ROOT / "config.toml").read_text(encoding="utf-8").lower()
    assert "token =" not in text
    assert not re.search(r"://[^/\s:@]+:[^@\s]+@", text)  # no user:password in a URL


def test_a_time_zone_other_than_vietnams_is_refused_not_ignored(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[staff]\ntimezone = "Europe/Paris"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"staff\.timezone"):
        load_settings(config, environ={})
