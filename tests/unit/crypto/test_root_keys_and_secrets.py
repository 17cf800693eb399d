"""Root key file handling and API-key secrets."""

from __future__ import annotations

import base64
import os
import stat

import pytest

from identity.crypto import secrets
from identity.crypto.root_keys import (
    generate_root_key_file,
    load_root_keys,
    parse_root_key_file,
    prepend_root_key,
)
from identity.errors import KeyringError


def line(key: bytes) -> str:
    return base64.b64encode(key).decode() + "\n"


def test_the_first_line_encrypts_and_any_line_decrypts(tmp_path):
    path = tmp_path / "root.keys"
    old = generate_root_key_file(path)
    blob = old.encrypt(b"keyring", b"aad")
    new = prepend_root_key(path)
    assert new.keys[1:] == old.keys and len(new.keys) == 2
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert new.decrypt(blob, b"aad") == b"keyring"
    assert not new.made_with_current(blob)
    assert new.made_with_current(new.encrypt(b"k", b"aad"))


def test_a_ciphertext_of_a_removed_root_key_names_the_problem(tmp_path):
    old = parse_root_key_file(line(bytes(32)))
    other = parse_root_key_file(line(bytes([1]) * 32))
    with pytest.raises(KeyringError, match="no root key"):
        other.decrypt(old.encrypt(b"x", b""), b"")


@pytest.mark.parametrize("text, message", [("", "no key"), ("not base64!\n", "base64"),
                                           (line(bytes(16)), "32-byte")])
def test_malformed_root_key_files_are_refused(text, message):
    with pytest.raises(KeyringError, match=message):
        parse_root_key_file(text)


def test_comments_and_blank_lines_are_ignored(tmp_path):
    path = tmp_path / "k"
    path.write_text("# newest first\n\n" + line(bytes(32)))
    path.chmod(0o600)
    assert len(load_root_keys(path).keys) == 1


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o644])
def test_a_root_key_file_open_to_group_or_others_is_refused(tmp_path, mode):
    path = tmp_path / "k"
    generate_root_key_file(path)
    path.chmod(mode)
    with pytest.raises(KeyringError, match=f"chmod 600 {path}"):
        load_root_keys(path)
    with pytest.raises(KeyringError, match="open to group or others"):
        prepend_root_key(path)  # a rotation does not spread an exposed file either


def test_generate_refuses_to_overwrite(tmp_path):
    path = tmp_path / "k"
    generate_root_key_file(path)
    with pytest.raises(FileExistsError):
        generate_root_key_file(path)


def test_api_keys_parse_back_to_their_id_and_secret():
    secret = secrets.new_secret()
    raw = secrets.format_api_key("key_0123456789abcdefghjkmnpqrs", secret)
    parsed = secrets.parse_api_key(raw)
    assert parsed is not None and parsed.key_id == "key_0123456789abcdefghjkmnpqrs" and parsed.secret == secret
    for bad in ("", "idk_", "idk_abc", "Bearer x", "idk_" + "a" * 300):
        assert secrets.parse_api_key(bad) is None


def test_argon2id_hashes_verify_only_the_right_secret():
    hasher = secrets.SecretHasher(time_cost=1, memory_cost_kib=1024, parallelism=1)
    stored = hasher.hash("right")
    assert stored.startswith("$argon2id$")
    assert hasher.verify(stored, "right") and not hasher.verify(stored, "wrong")
    assert not hasher.verify("garbage", "right")


def record_disk_steps(monkeypatch):
    """The order of fsyncs and namings, as a power cut would see them."""
    steps: list[str] = []
    real_fsync, real_replace, real_link = os.fsync, os.replace, os.link

    def fsync(fd):
        steps.append("fsync folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        real_fsync(fd)

    def replace(src, dst):
        steps.append("name")
        real_replace(src, dst)

    def link(src, dst):
        steps.append("name")
        real_link(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "link", link)
    return steps


def test_a_key_file_is_on_disk_before_it_is_named_and_its_name_before_the_write_returns(tmp_path, monkeypatch):
    path = tmp_path / "root.keys"
    steps = record_disk_steps(monkeypatch)
    generate_root_key_file(path)
    assert steps == ["fsync file", "name", "fsync folder"]
    steps.clear()
    prepend_root_key(path)  # what `keys rotate root` writes before re-encrypting the keyring
    assert steps == ["fsync file", "name", "fsync folder"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["root.keys"]  # no temporary file left behind
