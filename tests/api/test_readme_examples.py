"""The README's curl examples run, in order, against the app, and cover every operation.

Each `curl` of the "API by example" block is parsed as the shell would (shlex) and sent with
the test client; a variable such as `PSN` is taken from the answer before it, from the field its
line's comment names (`PSN=psn_…   # the answer's "pseudonym"`). A
route, method, header or body the app does not take fails here, and so does an operation the
app serves that the README has no example for.
"""

from __future__ import annotations

import ipaddress
import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from identity.services.webhooks import addresses
from tests.conftest import Platforms
from tests.support.groups import GROUP_SCOPES
from tests.support.verification import page_policy

README = Path(__file__).resolve().parents[2] / "README.md"
# Operations without an API key, or not for platforms: the README names them in prose.
NOT_PLATFORM_OPERATIONS = {"/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/docs/assets/<name>",
                           "/static/<path:filename>",
                           # the verification page is for people, not platforms (docs/verification-page.md)
                           "/verify/<string:session_id>/<string:secret>", "/verify-assets/<path:filename>",
                           # for sandbox platforms only: its curl is in the README's "Sandbox platforms"
                           "/v1/sandbox/identities"}
# Features not built yet: their examples join the README when they land.
PENDING_PREFIXES: tuple[str, ...] = ()
# `NAME=example   # the answer's "field"`: a variable taken from the answer just before it.
CAPTURE = re.compile(r'(\w+)=\S+\s+# the answer\'s "(\w+)"')


def example_block() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## The API by example", 1)[1]
    return section.split("```sh\n", 1)[1].split("\n```", 1)[0]


def shell_statements(block: str) -> list[str]:
    """The block's statements: lines joined across backslash continuations and open quotes."""
    statements, buffer = [], ""
    for line in block.splitlines():
        buffer += line + "\n"
        if line.endswith("\\"):
            continue
        try:
            words = shlex.split(buffer.replace("\\\n", " "), comments=True)
        except ValueError:  # a quote still open: the statement goes on
            continue
        if words:
            statements.append(buffer.replace("\\\n", " "))
        buffer = ""
    assert buffer == "", "unterminated statement in the README's example"
    return statements


def parse_curl(words: list[str]) -> dict[str, Any]:
    request: dict[str, Any] = {"method": None, "headers": {}, "data": None, "url": None}
    args = iter(words[1:])
    for word in args:
        if word == "-X":
            request["method"] = next(args)
        elif word == "-H":
            name, _, value = next(args).partition(":")
            request["headers"][name.strip()] = value.strip()
        elif word == "-d":
            request["data"] = next(args)
        elif word == "-s":
            continue
        else:
            assert request["url"] is None, f"unexpected curl argument {word!r}"
            request["url"] = word
    request["method"] = request["method"] or ("POST" if request["data"] is not None else "GET")
    if request["data"] is not None and "Content-Type" not in request["headers"]:
        request["headers"]["Content-Type"] = "application/x-www-form-urlencoded"  # what curl -d sends
    return request


def rule_of(app: Flask, method: str, path: str) -> str:
    rule, _ = app.url_map.bind("localhost").match(path, method=method, return_rule=True)
    return rule.rule


def test_every_curl_in_the_readme_runs_in_order(app: Flask, platforms: Platforms,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # The webhook example's host, forum.example, resolves to a public address (the SSRF rule's
    # concern), without asking the test machine's DNS.
    public = [ipaddress.ip_address("93.184.216.34")]
    monkeypatch.setattr(addresses, "resolve", lambda host, port: public if host == "forum.example" else [])
    variables = {"ID": "http://127.0.0.1:8000",
                 "KEY": platforms.key(platforms.create("readme-forum", **page_policy()),
                                     (*GROUP_SCOPES, "webhooks:write"))}
    ran: list[tuple[str, str]] = []
    answer: dict[str, Any] | None = None
    for statement in shell_statements(example_block()):
        if re.fullmatch(r"(\w+)=(\S+)", shlex.split(statement, comments=True)[0]):
            captured = CAPTURE.match(statement.strip())
            if captured:
                assert answer is not None, statement
                variables[captured.group(1)] = answer[captured.group(2)]
            continue
        words = shlex.split(re.sub(r"\$(\w+)", lambda m: variables[m.group(1)], statement), comments=True)
        assert words[0] == "curl", statement
        request = parse_curl(words)
        path = request["url"].removeprefix(variables["ID"])
        if request["headers"].get("Content-Type") == "application/json":
            json.loads(request["data"])  # the example's body is valid JSON as written
        response = app.test_client().open(path, method=request["method"], headers=request["headers"],
                                          data=request["data"])
        problem = response.get_json() if response.status_code >= 400 else None
        assert problem is None, (request["method"], path, response.status_code, problem)
        rule = rule_of(app, request["method"], path.split("?")[0])
        ran.append((request["method"], rule))
        answer = response.get_json(silent=True)
    served = {(method, rule.rule) for rule in app.url_map.iter_rules() for method in rule.methods - {"HEAD", "OPTIONS"}
              if rule.rule not in NOT_PLATFORM_OPERATIONS and not rule.rule.startswith(PENDING_PREFIXES)}
    assert served - set(ran) == set(), "operations without a README example"
