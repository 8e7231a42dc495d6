"""Gateway settings from WATCHER_GATEWAY_* variables, and the routing table file's format."""

from __future__ import annotations

from pathlib import Path

import pytest
from yarl import URL

from tests.markdown import DOCS, same_default, settings_table
from watcher.gateway.config import GatewaySettings, describe
from watcher.gateway.table import TableError, parse_table
from watcher.settings import SettingsError


def test_defaults_fit_the_kubernetes_deployment():
    settings = GatewaySettings.from_env(environ={}, dotenv=None)
    assert settings.routes_file == Path("/etc/watcher/routes/routes.json")
    assert (settings.host, settings.port) == ("0.0.0.0", 3000)
    assert settings.reload_interval_s == 2.0
    assert settings.fallback_url is None


def test_every_setting_is_read_from_its_variable(tmp_path):
    environ = {
        "WATCHER_GATEWAY_ROUTES_FILE": str(tmp_path / "routes.json"),
        "WATCHER_GATEWAY_HOST": "127.0.0.1",
        "WATCHER_GATEWAY_PORT": "8080",
        "WATCHER_GATEWAY_RELOAD_INTERVAL_S": "0.5",
        "WATCHER_GATEWAY_CONNECT_TIMEOUT_S": "1",
        "WATCHER_GATEWAY_TIMEOUT_S": "9.5",
        "WATCHER_GATEWAY_FALLBACK_URL": "http://watcher-default.watcher.svc:3000/",
        "WATCHER_GATEWAY_RETRY_AFTER_S": "2",
        "WATCHER_GATEWAY_UPSTREAM_CONNECTIONS": "16",
        "WATCHER_GATEWAY_UPSTREAM_CONNECTIONS_PER_INSTANCE": "4",
        "WATCHER_GATEWAY_BODY_TIMEOUT_S": "3",
        "WATCHER_GATEWAY_HEADER_TIMEOUT_S": "7",
        "WATCHER_GATEWAY_READ_TOKEN": "gw-read",
        "WATCHER_GATEWAY_EVENT_LOOP": "asyncio",
        "WATCHER_GATEWAY_MAX_BODY_BYTES": "4096",
        "WATCHER_GATEWAY_LOG_LEVEL": "debug",
        "WATCHER_GATEWAY_LOG_FORMAT": "json",
        "WATCHER_GATEWAY_SHUTDOWN_TIMEOUT_S": "5",
        "WATCHER_PORT": "1",  # the service's variables are not the gateway's
    }
    settings = GatewaySettings.from_env(environ=environ, dotenv=None)
    assert settings == GatewaySettings(
        routes_file=tmp_path / "routes.json",
        host="127.0.0.1",
        port=8080,
        reload_interval_s=0.5,
        connect_timeout_s=1.0,
        timeout_s=9.5,
        fallback_url=URL("http://watcher-default.watcher.svc:3000"),
        retry_after_s=2,
        upstream_connections=16,
        upstream_connections_per_instance=4,
        body_timeout_s=3.0,
        header_timeout_s=7.0,
        read_token="gw-read",
        event_loop="asyncio",
        max_body_bytes=4096,
        log_level="DEBUG",
        log_format="json",
        shutdown_timeout_s=5.0,
    )
    assert {name for name, _, _ in describe()} == {k for k in environ if "GATEWAY" in k}


def test_dotenv_is_read_and_the_environment_wins(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("WATCHER_GATEWAY_PORT=4000\nWATCHER_GATEWAY_HOST=127.0.0.2\n")
    settings = GatewaySettings.from_env(environ={"WATCHER_GATEWAY_PORT": "5000"}, dotenv=dotenv)
    assert (settings.host, settings.port) == ("127.0.0.2", 5000)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WATCHER_GATEWAY_PORT", "70000"),
        ("WATCHER_GATEWAY_RELOAD_INTERVAL_S", "0"),
        ("WATCHER_GATEWAY_TIMEOUT_S", "-1"),
        ("WATCHER_GATEWAY_FALLBACK_URL", "watcher-default:3000"),
        ("WATCHER_GATEWAY_FALLBACK_URL", "ftp://host/"),
        ("WATCHER_GATEWAY_FALLBACK_URL", "http://host:3000/?x=1"),
        ("WATCHER_GATEWAY_LOG_FORMAT", "xml"),
    ],
)
def test_invalid_values_are_refused_naming_the_variable(name, value):
    with pytest.raises(SettingsError, match=name):
        GatewaySettings.from_env(environ={name: value}, dotenv=None)


def test_table_format():
    table = parse_table(
        b'{"os-1": "http://watcher-os-1.watcher.svc:3000",'
        b' "ds-2": "http://10.0.0.7:3000/", "\xea\xb3\xbc-1": "https://h/prefix/"}'
    )
    assert dict(table) == {
        "os-1": URL("http://watcher-os-1.watcher.svc:3000"),
        "ds-2": URL("http://10.0.0.7:3000"),
        "과-1": URL("https://h/prefix"),
    }
    assert dict(parse_table(b"{}")) == {}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "not UTF-8 JSON"),
        (b'{"os-1": "http://a:3000"', "not UTF-8 JSON"),
        (b"\xff", "not UTF-8 JSON"),
        (b'["os-1"]', "expected a JSON object"),
        (b'{"os-1": 3000}', "URL must be a string"),
        (b'{"os-1": "watcher-os-1:3000"}', "absolute http"),
        (b'{"": "http://a:3000"}', "non-empty"),
        (b'{"a/b": "http://a:3000"}', "no '/'"),
    ],
)
def test_bad_tables_are_rejected_with_a_reason(raw, message):
    with pytest.raises(TableError, match=message):
        parse_table(raw)


def test_docs_settings_table_lists_every_setting_with_its_default():
    table = settings_table((DOCS / "gateway.md").read_text(), "WATCHER_GATEWAY_")
    settings = {name: default for name, default, _doc in describe()}
    assert set(table) == set(settings), "docs/gateway.md's table differs from the settings"
    for name, (documented, _meaning) in table.items():
        assert same_default(documented, settings[name]), (name, documented, settings[name])
