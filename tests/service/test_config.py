"""Settings from the environment and .env, and the command line that documents them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.markdown import same_default, settings_table
from watcher.config import Settings, describe
from watcher.settings import SettingsError

REPO = Path(__file__).resolve().parents[2]


def test_defaults_match_the_original_deployment():
    settings = Settings.from_env({}, dotenv=None)
    assert settings.port == 3000
    assert settings.host == "0.0.0.0"
    assert settings.db_path == Path("data/watcher.db")


def test_environment_values_are_parsed():
    settings = Settings.from_env(
        {
            "WATCHER_PORT": "8080",
            "WATCHER_LOG_LEVEL": "debug",
            "WATCHER_LOG_FORMAT": "JSON",
            "WATCHER_CORS_ORIGINS": "https://a.example, https://b.example",
            "WATCHER_BATCH_DELAY_MS": "1.5",
        },
        dotenv=None,
    )
    assert settings.port == 8080
    assert settings.log_level == "DEBUG"
    assert settings.log_format == "json"
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.batch_delay_ms == 1.5


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WATCHER_PORT", "http"),
        ("WATCHER_PORT", "70000"),
        ("WATCHER_LOG_FORMAT", "xml"),
        ("WATCHER_MAX_BODY_BYTES", "0"),
        ("WATCHER_SYNCHRONOUS", "off"),
        ("DB_URL", "mysql+pymysql://u:p@h/db"),
    ],
)
def test_invalid_values_are_refused_naming_the_variable(name, value):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value}, dotenv=None)


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:////app/data/database.db", Path("/app/data/database.db")),
        ("sqlite:///./data/database.db", Path("data/database.db")),
    ],
)
def test_original_db_url_is_an_alias(url, path):
    assert Settings.from_env({"DB_URL": url}, dotenv=None).db_path == path
    both = {"DB_URL": url, "WATCHER_DB_PATH": "/x.db"}
    assert Settings.from_env(both, dotenv=None).db_path == Path("/x.db")


def test_dotenv_is_read_and_environment_wins(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text('# comment\nWATCHER_PORT=4000\nexport WATCHER_HOST="127.0.0.1"\n')
    settings = Settings.from_env({}, dotenv=dotenv)
    assert (settings.port, settings.host) == (4000, "127.0.0.1")
    assert Settings.from_env({"WATCHER_PORT": "5000"}, dotenv=dotenv).port == 5000


def test_env_example_documents_every_setting():
    example = (REPO / ".env.example").read_text()
    for name, _default, _doc in describe():
        assert f"{name}=" in example, name
    assert "DB_URL" in example


def test_docs_configuration_table_lists_every_setting_with_its_default():
    table = settings_table((REPO / "docs" / "configuration.md").read_text(), "WATCHER_")
    settings = {name: default for name, default, _doc in describe()}
    assert set(table) == set(settings), "docs/configuration.md's table differs from the settings"
    for name, (documented, _meaning) in table.items():
        assert same_default(documented, settings[name]), (name, documented, settings[name])


def test_serve_help_documents_every_variable():
    result = subprocess.run(
        [sys.executable, "-m", "watcher", "serve", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for name, _default, _doc in describe():
        assert name in result.stdout


def test_invalid_setting_stops_the_process_with_a_message(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "watcher", "serve"],
        capture_output=True,
        text=True,
        env={"WATCHER_PORT": "nope", "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "WATCHER_PORT" in result.stderr
