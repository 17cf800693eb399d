"""`identity-admin` as an operator runs it: --help and --version touch nothing, and a database that
cannot be used is one line (or one JSON object), never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from identity.crypto.root_keys import generate_root_key_file

IDENTITY_ADMIN = str(Path(sys.executable).parent / "identity-admin")
UNREACHABLE_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:1/identity"


def identity_admin(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("IDENTITY_")}
    return subprocess.run([IDENTITY_ADMIN, *args], env={**clean, **env}, capture_output=True, text=True,
                          timeout=60)


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "root.keys"
    generate_root_key_file(path)
    return path


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["db", "upgrade", "--help"]])
def test_help_and_version_need_no_database_and_make_no_key(tmp_path, args):
    instance = tmp_path / "instance"
    instance.mkdir()
    done = identity_admin({"IDENTITY_INSTANCE_PATH": str(instance)}, *args)
    assert done.returncode == 0, done.stderr
    assert list(instance.iterdir()) == []  # no root key, no database file
    if args == ["--version"]:
        assert done.stdout.startswith("identity-admin, version ")
    else:
        assert "Usage: identity-admin" in done.stdout


def one_line_failure(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode != 0
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]


def one_json_failure(done: subprocess.CompletedProcess[str]) -> dict[str, str]:
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    body = json.loads(done.stdout)  # exactly one JSON document
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    return body["error"]


@pytest.mark.parametrize("command", [["keys", "status"], ["db", "upgrade"]])
def test_an_unreachable_database_is_one_line_naming_it(tmp_path, key_file, command):
    env = {"IDENTITY_INSTANCE_PATH": str(tmp_path), "IDENTITY_DATABASE_URL": UNREACHABLE_POSTGRES,
           "IDENTITY_ROOT_KEY_FILE": str(key_file)}
    line = one_line_failure(identity_admin(env, *command))
    assert "127.0.0.1" in line and "IDENTITY_DATABASE_URL" in line
    error = one_json_failure(identity_admin(env, *command, "--json"))
    assert error["code"] == "database_unavailable" and "127.0.0.1" in error["message"]


def test_an_unmigrated_database_is_one_line_naming_the_upgrade(tmp_path, key_file):
    env = {"IDENTITY_INSTANCE_PATH": str(tmp_path), "IDENTITY_DATABASE_URL": f"sqlite:///{tmp_path / 'new.sqlite3'}",
           "IDENTITY_ROOT_KEY_FILE": str(key_file)}
    line = one_line_failure(identity_admin(env, "platforms", "create", "Forum"))
    assert "identity-admin db upgrade" in line
    error = one_json_failure(identity_admin(env, "api-keys", "revoke", "key_x", "--json"))
    assert error["code"] == "schema_behind" and "identity-admin db upgrade" in error["message"]
    # and once upgraded, the same command works
    assert identity_admin(env, "db", "upgrade").returncode == 0
    created = identity_admin(env, "platforms", "create", "Forum", "--json")
    assert created.returncode == 0 and json.loads(created.stdout)["name"] == "Forum"


def test_a_missing_root_key_file_for_another_database_is_one_line(tmp_path):
    env = {"IDENTITY_INSTANCE_PATH": str(tmp_path), "IDENTITY_DATABASE_URL": UNREACHABLE_POSTGRES}
    line = one_line_failure(identity_admin(env, "db", "upgrade"))
    assert "IDENTITY_ROOT_KEY_FILE" in line
    assert one_json_failure(identity_admin(env, "db", "upgrade", "--json"))["code"] == "configuration_invalid"
    assert not (tmp_path / "root.keys").exists()


def test_a_root_key_file_open_to_others_is_one_line_naming_the_fix(tmp_path, key_file):
    key_file.chmod(0o640)
    env = {"IDENTITY_INSTANCE_PATH": str(tmp_path), "IDENTITY_ROOT_KEY_FILE": str(key_file)}
    line = one_line_failure(identity_admin(env, "platforms", "list"))
    assert str(key_file) in line and f"chmod 600 {key_file}" in line


def test_a_refused_command_with_json_is_one_error_object_with_a_code(runner):
    result = runner.invoke(args=["admin", "api-keys", "revoke", "key_nope", "--json"])
    assert result.exit_code == 1
    error = json.loads(result.output)["error"]
    assert set(error) == {"code", "message"} and error["code"] and error["message"]


# What an unexpected error's own message might hold: a name and an ID number from a row.
LEAKY = "could not store 张三 11010519491231002X"


def test_an_unexpected_error_in_a_command_is_one_line_without_its_message(runner, monkeypatch):
    def broken(session):  # type: ignore[no-untyped-def]
        raise RuntimeError(LEAKY)

    monkeypatch.setattr("identity.services.platforms.list_platforms", broken)
    result = runner.invoke(args=["admin", "platforms", "list"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: the command failed and nothing was committed: unexpected RuntimeError; its message is not shown, "
        "as it may contain personal data"]
    as_json = runner.invoke(args=["admin", "platforms", "list", "--json"])
    assert as_json.exit_code == 1 and "张三" not in as_json.output and "11010519491231002X" not in as_json.output
    assert json.loads(as_json.output)["error"]["code"] == "command_failed"


def test_a_known_operator_error_still_prints_its_message(runner):
    result = runner.invoke(args=["admin", "platforms", "show", "plt_nope"])
    assert result.exit_code == 1 and "plt_nope" in result.output


def test_an_unexpected_start_up_failure_is_one_line_without_its_message(monkeypatch, capsys):
    from identity.cli import _build_app

    def broken(settings=None):  # type: ignore[no-untyped-def]
        raise ValueError(LEAKY)

    monkeypatch.setattr("identity.create_app", broken)
    with pytest.raises(SystemExit) as exited:
        _build_app()
    assert exited.value.code == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip().splitlines() == [
        "error: the service could not be built: unexpected ValueError; its message is not shown, "
        "as it may contain personal data"]
