"""The README's example webhook receiver works as printed.

Its endpoint `curl` and its Python block (the fenced blocks right after the HTML comments
`<!-- example-receiver-endpoint -->` and `<!-- example-receiver -->` in "How a platform
integrates in three steps") are taken from README.md; of the receiver, only the two lines marked
`# change` (the secret and the listening address) are edited. It runs as a process of its own on
127.0.0.1, a person completes a session on the hosted page, the delivery worker posts the events,
and the test reads what the receiver prints, as a platform's developer would: each event once,
even when it is delivered twice, and nothing for a forged delivery.
"""

from __future__ import annotations

import json
import queue
import re
import shlex
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import update

from identity.settings import Settings
from tests.conftest import Platforms, make_settings
from tests.support.people import resident_id
from tests.support.verification import create_session, page_policy, person_form, submit
from tests.support.webhooks import WEBHOOK_SCOPES, deliver_once

pytestmark = pytest.mark.slow  # the receiver is a process of its own

README = Path(__file__).resolve().parents[2] / "README.md"
COMPLETED, FAILED = "verification_session.completed", "verification_session.failed"


@pytest.fixture
def settings(tmp_path, database_url, root_key_file) -> Settings:
    return make_settings(tmp_path / "instance", database_url, root_key_file, webhook_allow_private=True)


def fenced_block_after(marker: str, language: str) -> str:
    text = README.read_text(encoding="utf-8")
    assert text.count(marker) == 1, f"README.md should hold {marker} once"
    after = text.split(marker, 1)[1]
    opening = f"\n```{language}\n"
    assert after.startswith(opening), f"no {language} block right after {marker}"
    return after[len(opening):].split("\n```\n", 1)[0]


def receiver_code(secret: str, port: int) -> str:
    """The README's receiver with its two `# change` lines set: this secret, 127.0.0.1 on this port."""
    code = fenced_block_after("<!-- example-receiver -->", "python")
    changed = [line.split("=", 1)[0].strip() for line in code.splitlines() if "# change" in line]
    assert changed == ["SECRET", "LISTEN"], "the README promises exactly two lines to change"
    code = re.sub(r"^SECRET = .*$", f"SECRET = {secret!r}", code, count=1, flags=re.MULTILINE)
    return re.sub(r"^LISTEN = .*$", f'LISTEN = ("127.0.0.1", {port})', code, count=1, flags=re.MULTILINE)


def endpoint_request() -> tuple[dict[str, str], dict[str, Any]]:
    """The README's `curl` adding the endpoint: its headers (without the key) and its JSON body."""
    block = fenced_block_after("<!-- example-receiver-endpoint -->", "sh")
    words = shlex.split(block.replace("\\\n", " "), comments=True)
    assert words[:4] == ["curl", "-s", "-X", "POST"] and words[4] == "$ID/v1/webhook-endpoints", words[:5]
    headers: dict[str, str] = {}
    body: dict[str, Any] | None = None
    args = iter(words[5:])
    for word in args:
        if word == "-H":
            name, _, value = next(args).partition(":")
            headers[name.strip()] = value.strip()
        else:
            assert word == "-d", f"unexpected curl argument {word!r}"
            body = json.loads(next(args))
    assert body is not None and headers.pop("Authorization") == "Bearer $KEY"
    return headers, body


class Output:
    """What a process prints, line by line, read by a thread so a test can wait with a time-out;
    its stderr goes to a file, shown when it stops early."""

    def __init__(self, process: subprocess.Popen[str], stderr: Path) -> None:
        self.lines: queue.Queue[str | None] = queue.Queue()  # None: the output ended
        self.seen: list[str] = []
        self.stderr = stderr
        assert process.stdout is not None
        self.reader = threading.Thread(target=self._read, args=(process.stdout,), daemon=True)
        self.reader.start()

    def _read(self, stdout: Any) -> None:
        for line in stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def next_line(self, timeout: float = 15.0) -> str:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"the receiver printed nothing more; so far: {self.seen}") from None
        if line is None:
            raise AssertionError(f"the receiver stopped after {self.seen}:\n{self.stderr.read_text()}")
        self.seen.append(line)
        return line

    def rest(self) -> list[str]:
        self.reader.join(10)
        while not self.lines.empty():
            line = self.lines.get()
            if line is not None:
                self.seen.append(line)
        return self.seen


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_receiver(tmp_path: Path, secret: str, port: int) -> Iterator[Output]:
    script = tmp_path / "receiver.py"
    script.write_text(receiver_code(secret, port), encoding="utf-8")
    errors = tmp_path / "receiver.stderr"  # http.server's access log, and any traceback
    with errors.open("w") as stderr:
        process = subprocess.Popen([sys.executable, "-u", str(script)], cwd=tmp_path, stdout=subprocess.PIPE,
                                   stderr=stderr, text=True)
    output = Output(process, errors)
    try:
        assert output.next_line() == f"listening on 127.0.0.1:{port}", output.seen
        yield output
    finally:
        process.terminate()
        process.wait(10)
        output.rest()


def make_due_again(app: Flask, event_type: str) -> None:
    """As if the worker died after the receiver answered and before it wrote down the delivery."""
    from identity.clock import utc_now
    from identity.extensions import db
    from identity.models.webhook import WebhookDelivery

    with app.app_context():
        result = db.session.execute(update(WebhookDelivery).where(WebhookDelivery.event_type == event_type)
                                    .values(delivered_at=None, next_attempt_at=utc_now() - timedelta(seconds=1)))
        db.session.commit()
    assert result.rowcount == 1  # type: ignore[attr-defined]


def test_the_readme_receiver_prints_each_verification_outcome_once(app, client, runner, platforms: Platforms,
                                                                   tmp_path):
    platform = platforms.create("forum", **page_policy())
    auth = platforms.headers(platform, (*WEBHOOK_SCOPES, "registrations:write"))
    headers, body = endpoint_request()
    assert body["events"] == [COMPLETED, FAILED]
    number, name = resident_id(sequence=44), "王五"

    port, path = free_port(), urlsplit(body["url"]).path
    answer = client.post("/v1/webhook-endpoints", headers={**headers, **auth},
                         json={**body, "url": f"http://127.0.0.1:{port}{path}"})
    assert answer.status_code == 201, answer.get_json()

    with running_receiver(tmp_path, answer.get_json()["secret"], port) as output:
        done = create_session(client, auth)
        assert submit(client, done, person_form(number, name=name)).status_code == 303
        again = create_session(client, auth)  # the same person again: the page says so, the session fails
        submit(client, again, person_form(number, name=name))
        assert deliver_once(runner)["delivered"] == 2
        printed = {output.next_line(), output.next_line()}

        make_due_again(app, COMPLETED)
        assert deliver_once(runner)["delivered"] == 1  # the receiver answered 2xx a second time

        forged = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method="POST",
                                        data=b'{"id": "evt_forged", "type": "verification_session.completed"}',
                                        headers={"webhook-id": "evt_forged", "webhook-timestamp": str(int(time.time())),
                                                 "webhook-signature": "v1,AAAA"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(forged, timeout=10)  # noqa: S310 - a loopback http URL built above
        assert refused.value.code == 400

    pseudonym = client.get(f"/v1/verification-sessions/{done['id']}", headers=auth).get_json()["account"]["pseudonym"]
    verified = f"{COMPLETED} {done['id']} forum-user-42 {pseudonym}"
    assert printed == {verified, f"{FAILED} {again['id']} forum-user-42 duplicate_identity"}
    everything = output.rest()
    assert [line for line in everything if done["id"] in line] == [verified]  # delivered twice, handled once
    assert not any("evt_forged" in line for line in everything), everything
    assert "Traceback" not in (tmp_path / "receiver.stderr").read_text()
    assert all(name not in line and number not in line for line in everything)
