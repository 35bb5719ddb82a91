"""The settings tree: defaults, environment, TOML file, errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from dieuhanh.core.config import ConfigError, load_settings
from dieuhanh.core.configdocs import render_reference

ROOT = Path(__file__).resolve().parents[1]


def test_defaults() -> None:
    settings = load_settings()
    assert settings.province_code == "75" and settings.language == "vi"
    assert settings.effective_database_url.startswith("sqlite:///")
    assert settings.map.tile_url is None


def test_environment_sets_nested_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIEUHANH_AUTH__LOGIN_MAX_FAILURES", "9")
    monkeypatch.setenv("DIEUHANH_MAP__TILE_URL", "https://tiles.example.vn/{z}/{x}/{y}.png")
    monkeypatch.setenv("DIEUHANH_DATABASE_URL", "postgresql+psycopg://u@db/dieuhanh")
    settings = load_settings()
    assert settings.auth.login_max_failures == 9
    assert settings.map.tile_url == "https://tiles.example.vn/{z}/{x}/{y}.png"
    assert not settings.uses_sqlite


def test_errors_name_the_key_and_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIEUHANH_AUTH__PASSWORD_MIN_LENGTH", "3")
    monkeypatch.setenv("DIEUHANH_MAP__TILE_URL", "tiles.example.vn")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "auth.password_min_length" in message and "DIEUHANH_AUTH__PASSWORD_MIN_LENGTH" in message
    assert "map.tile_url" in message


@pytest.mark.parametrize(
    ("toml", "words"),
    [
        ('province_code = "ABC"\n', "province_code"),
        ('timezone = "Mars/Olympus"\n', "unknown time zone"),
        ("[map]\nunknown_key = 1\n", "map.unknown_key"),
        ("province_code = \n", "not valid TOML"),
    ],
)
def test_config_file_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toml: str, words: str
) -> None:
    path = tmp_path / "dieuhanh.toml"
    path.write_text(toml)
    monkeypatch.setenv("DIEUHANH_CONFIG", str(path))
    with pytest.raises(ConfigError, match=words.replace(".", r"\.")):
        load_settings()


def test_config_file_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "dieuhanh.toml"
    path.write_text('language = "en"\n[auth]\nsession_hours = 8\n')
    monkeypatch.setenv("DIEUHANH_CONFIG", str(path))
    monkeypatch.setenv("DIEUHANH_AUTH__SESSION_HOURS", "4")  # the environment wins
    settings = load_settings()
    assert settings.language == "en" and settings.auth.session_hours == 4


def test_missing_config_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIEUHANH_CONFIG", "/nonexistent/dieuhanh.toml")
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings()


def test_secrets_are_masked() -> None:
    settings = load_settings(admin_password="s3cret-password-value")
    assert "s3cret" not in repr(settings) and "s3cret" not in settings.model_dump_json()


def test_every_key_is_documented() -> None:
    documented = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert documented == render_reference(), "run: dieuhanh config docs > docs/configuration.md"
