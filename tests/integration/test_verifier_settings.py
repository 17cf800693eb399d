"""Start-up refuses a verification authority set up to outlive a worker or to be read on the wire."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

from identity import create_app
from identity.settings import Settings, SettingsError

ROOT = Path(__file__).resolve().parents[2]
HTTPS = {"IDENTITY_VERIFIER": "http", "IDENTITY_VERIFIER_URL": "https://authority.example/verify"}


def test_a_timeout_and_retries_longer_than_the_worker_timeout_stop_start_up():
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({**HTTPS, "IDENTITY_VERIFIER_TIMEOUT": "10", "IDENTITY_VERIFIER_RETRIES": "2"})
    message = str(refused.value)
    assert "\n" not in message
    for variable in ("IDENTITY_VERIFIER_TIMEOUT", "IDENTITY_VERIFIER_RETRIES", "IDENTITY_TIMEOUT"):
        assert variable in message


def test_a_longer_worker_timeout_admits_the_same_verifier_settings(tmp_path):
    settings = Settings.from_env({**HTTPS, "IDENTITY_INSTANCE_PATH": str(tmp_path), "IDENTITY_VERIFIER_TIMEOUT": "10",
                                  "IDENTITY_VERIFIER_RETRIES": "2", "IDENTITY_TIMEOUT": "60"})
    assert create_app(settings) is not None


def test_the_defaults_fit_in_the_default_worker_timeout():
    settings = Settings.from_env(HTTPS)
    assert settings.worker_timeout_seconds == 30


def test_retries_alone_can_outlive_the_worker():
    with pytest.raises(SettingsError, match="IDENTITY_TIMEOUT"):
        Settings.from_env({**HTTPS, "IDENTITY_VERIFIER_TIMEOUT": "1", "IDENTITY_VERIFIER_RETRIES": "12"})


def test_the_worker_timeout_is_the_one_gunicorn_uses(monkeypatch, tmp_path):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    for value in (None, "45"):
        if value is None:
            monkeypatch.delenv("IDENTITY_TIMEOUT", raising=False)
        else:
            monkeypatch.setenv("IDENTITY_TIMEOUT", value)
        gunicorn = runpy.run_path(str(ROOT / "config" / "gunicorn.conf.py"))
        assert Settings.from_env().worker_timeout_seconds == gunicorn["timeout"]


@pytest.mark.parametrize("url", [
    "http://authority.example/verify",
    "http://10.0.0.7:8080/verify",
    "http://192.168.1.2/verify",
    "http://127.0.0.1.example/verify",
    "ftp://127.0.0.1/verify",
    "https:///verify",
    "http://[::1/verify",
    "http://127.0.0.1:99999/verify",
])
def test_an_authority_url_that_could_be_read_on_the_way_stops_start_up(url):
    with pytest.raises(SettingsError, match="IDENTITY_VERIFIER_URL"):
        Settings.from_env({"IDENTITY_VERIFIER": "http", "IDENTITY_VERIFIER_URL": url})


@pytest.mark.parametrize("url", [
    "https://authority.example/verify",
    "http://127.0.0.1:8080/verify",
    "http://127.3.4.5/verify",
    "http://[::1]:8080/verify",
    "http://localhost:8080/verify",
])
def test_https_or_loopback_http_is_accepted(url):
    assert Settings.from_env({"IDENTITY_VERIFIER": "http", "IDENTITY_VERIFIER_URL": url}).verifier_url == url


@pytest.mark.parametrize("env, variable", [
    ({"IDENTITY_VERIFIER_MAX_CONCURRENT": "0"}, "IDENTITY_VERIFIER_MAX_CONCURRENT"),
    ({"IDENTITY_VERIFIER_FAILURE_THRESHOLD": "0"}, "IDENTITY_VERIFIER_FAILURE_THRESHOLD"),
    ({"IDENTITY_VERIFIER_COOLDOWN": "0"}, "IDENTITY_VERIFIER_COOLDOWN"),
    ({"IDENTITY_VERIFIER_RETRIES": "1.5"}, "IDENTITY_VERIFIER_RETRIES"),
    ({"IDENTITY_TIMEOUT": "soon"}, "IDENTITY_TIMEOUT"),
])
def test_bad_breaker_settings_are_refused_naming_the_variable(env, variable):
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env({**HTTPS, **env})
