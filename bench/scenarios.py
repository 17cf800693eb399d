"""What the benchmark measures: one small class per scenario.

A scenario turns a prepared `Context` and a sequence number into one `Request`. Its `setup`
hook runs once, before load, in the benchmark's own process and may call the service (for
example to register the accounts that later requests read); whatever it stores in
`context.data` reaches every load process. `request` must be a pure function of the context
and `n`: `n` is unique across all load processes of a run, so it can make unique people.

To add a scenario, subclass `Scenario`, set `name`, `expect` and `scopes`, write `request`
(and `setup` if it needs data), give it `targets` if it has any, and add it to `SCENARIOS`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlencode, urlsplit

from bench.client import Connection, Request
from tests.support.people import registration, resident_id


@dataclass
class Context:
    """What scenarios build requests from: the service's address, a key, and setup data."""

    host: str
    port: int
    database: str  # "sqlite" or "postgresql"
    api_key: str
    platform_id: str
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def connect(self) -> Connection:
        return Connection(self.host, self.port)


@dataclass(frozen=True)
class Target:
    """A scenario's goal: throughput as a share of the floor's, and a p99 ceiling."""

    min_ratio: float | None = None
    max_p99_ms: float | None = None

    def describe(self) -> str:
        parts = []
        if self.min_ratio is not None:
            parts.append(f">= {self.min_ratio:.0%} of floor")
        if self.max_p99_ms is not None:
            parts.append(f"p99 < {self.max_p99_ms:g} ms")
        return ", ".join(parts)


class Scenario:
    name: ClassVar[str]
    title: ClassVar[str]
    expect: ClassVar[int] = 200
    scopes: ClassVar[tuple[str, ...]] = ()
    floor: ClassVar[bool] = False  # the framework floor the others are compared with
    targets: ClassVar[dict[str, Target]] = {}  # by database
    # Another scenario of the same run this one is compared with, and the share of that one's
    # req/s this one may lose at most (e.g. 0.10: at least 90 % of it).
    baseline: ClassVar[str | None] = None
    max_cost: ClassVar[float | None] = None
    # Platform policy keys the scenario needs (merged over the run's scenarios, see bench.http).
    policy: ClassVar[dict[str, Any]] = {}

    def setup(self, context: Context) -> None:
        """Prepare data before the load starts (runs once, in the benchmark process)."""

    def request(self, context: Context, n: int) -> Request:
        raise NotImplementedError


# Namespaces keep the people of one scenario (or of a setup) apart from every other's.
NAMESPACES = 16
_FIRST_BIRTH = date(1950, 1, 1)


def person_number(namespace: int, n: int) -> str:
    """A valid resident ID, different for every (namespace, n): 1000 people per birth date."""
    k = n * NAMESPACES + namespace
    return resident_id(birth=_FIRST_BIRTH + timedelta(days=k // 1000), sequence=k % 1000)


def registration_request(context: Context, namespace: int, n: int) -> Request:
    return Request.json("POST", "/v1/registrations", registration(person_number(namespace, n)),
                        headers=context.auth)


def register_accounts(context: Context, namespace: int, count: int) -> list[str]:
    """Register `count` people over HTTP and return their pseudonyms (a setup helper)."""
    connection, pseudonyms = context.connect(), []
    try:
        for n in range(count):
            response = connection.request(registration_request(context, namespace, n))
            if response.status != 201:
                raise RuntimeError(f"setup registration answered {response.status}: {response.body[:200]!r}")
            pseudonyms.append(response.json()["pseudonym"])
    finally:
        connection.close()
    return pseudonyms


class Floor(Scenario):
    name = "floor"
    title = "GET /healthz (floor)"
    floor = True

    def request(self, context: Context, n: int) -> Request:
        return Request("GET", "/healthz", {})


class Bare(Scenario):
    """Issue 15's reference: `bench.bare_app` on a gunicorn of its own (not in `SCENARIOS`: it
    is not the service; `bench.http` runs it first in every round)."""

    name = "bare"
    title = "GET / (bare Flask app)"

    def request(self, context: Context, n: int) -> Request:
        return Request("GET", "/", {})


# Issue 15: the least req/s a scenario must reach as a share of `bare`'s, by database.
BARE_SHARES: dict[str, dict[str, float]] = {
    "token_issue": {"sqlite": 0.60, "postgresql": 0.60},
    "introspect": {"sqlite": 0.65, "postgresql": 0.65},
    "account_read": {"sqlite": 0.65, "postgresql": 0.65},
    "register": {"sqlite": 0.25, "postgresql": 0.20},
}


class Register(Scenario):
    """Every request registers a new person: a unique, valid resident ID."""

    name = "register"
    title = "POST /v1/registrations"
    expect = 201
    scopes = ("registrations:write",)
    targets = {"sqlite": Target(min_ratio=0.25, max_p99_ms=50),
               "postgresql": Target(min_ratio=0.20, max_p99_ms=50)}
    namespace = 1

    def request(self, context: Context, n: int) -> Request:
        return registration_request(context, self.namespace, n)


class AccountRead(Scenario):
    """Authenticated reads spread over accounts registered in setup."""

    name = "account_read"
    title = "GET /v1/accounts/{pseudonym}"
    scopes = ("registrations:write", "accounts:read")
    targets = {"sqlite": Target(min_ratio=0.50), "postgresql": Target(min_ratio=0.50)}
    namespace = 2
    accounts = 200

    def setup(self, context: Context) -> None:
        context.data["read_pseudonyms"] = register_accounts(context, self.namespace, self.accounts)

    def request(self, context: Context, n: int) -> Request:
        pseudonyms = context.data["read_pseudonyms"]
        return Request("GET", f"/v1/accounts/{pseudonyms[n % len(pseudonyms)]}", context.auth)


def call(context: Context, request: Request, expect: int) -> Any:
    """One setup request; anything but `expect` stops the benchmark (no body is printed)."""
    connection = context.connect()
    try:
        response = connection.request(request)
    finally:
        connection.close()
    if response.status != expect:
        raise RuntimeError(f"setup {request.method} {request.path} answered {response.status}")
    return response.json()


def issue_tokens(context: Context, pseudonyms: list[str]) -> list[str]:
    """One token (the longest life, so none expires during a run) per account."""
    return [call(context, Request.json("POST", "/v1/tokens", {"pseudonym": p, "ttl_seconds": 3600},
                                       headers=context.auth), 201)["token"] for p in pseudonyms]


def file_sanction(context: Context, pseudonym: str, kind: str, expires_at: datetime | None = None) -> None:
    body = {"pseudonym": pseudonym, "kind": kind, "reason_code": "spam", "evidence_ref": "bench"}
    if expires_at is not None:
        body["expires_at"] = expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    call(context, Request.json("POST", "/v1/sanctions", body, headers=context.auth), 201)


def introspection_request(context: Context, token: str) -> Request:
    """RFC 7662's form encoding, as posting services send it."""
    return Request("POST", "/v1/tokens/introspect", {**context.auth,
                                                     "Content-Type": "application/x-www-form-urlencoded"},
                   urlencode({"token": token}).encode())


class TokenIssue(Scenario):
    """`POST /v1/tokens` spread over accounts registered in setup (no Idempotency-Key: no write)."""

    name = "token_issue"
    title = "POST /v1/tokens"
    expect = 201
    scopes = ("registrations:write", "tokens:issue")
    targets = {"sqlite": Target(min_ratio=0.80), "postgresql": Target(min_ratio=0.80)}
    namespace = 3
    accounts = 100

    def setup(self, context: Context) -> None:
        context.data["issue_pseudonyms"] = register_accounts(context, self.namespace, self.accounts)

    def request(self, context: Context, n: int) -> Request:
        pseudonyms = context.data["issue_pseudonyms"]
        return Request.json("POST", "/v1/tokens", {"pseudonym": pseudonyms[n % len(pseudonyms)]},
                            headers=context.auth)


class Introspect(Scenario):
    """`POST /v1/tokens/introspect` over one live token per account of unsanctioned accounts."""

    name = "introspect"
    title = "POST /v1/tokens/introspect"
    scopes = ("registrations:write", "tokens:issue", "tokens:introspect")
    targets = {"sqlite": Target(min_ratio=0.50), "postgresql": Target(min_ratio=0.50)}
    namespace = 4
    accounts = 100
    key = "introspect_tokens"

    def setup(self, context: Context) -> None:
        context.data[self.key] = issue_tokens(context, register_accounts(context, self.namespace, self.accounts))

    def request(self, context: Context, n: int) -> Request:
        tokens = context.data[self.key]
        return introspection_request(context, tokens[n % len(tokens)])


class IntrospectSanctioned(Introspect):
    """The same introspection over accounts that each have active sanctions: an indefinite
    group-management suspension and one that expires in a year, so `scope` is computed after
    live sanctions (and tokens still issue). Compare its req/s with `introspect`'s."""

    name = "introspect_sanctioned"
    title = "POST …/introspect, sanctioned"
    scopes = ("registrations:write", "tokens:issue", "tokens:introspect", "sanctions:write")
    namespace = 5
    key = "sanctioned_tokens"
    baseline = "introspect"
    max_cost = 0.10

    def setup(self, context: Context) -> None:
        pseudonyms = register_accounts(context, self.namespace, self.accounts)
        in_a_year = datetime.now(UTC) + timedelta(days=365)
        for pseudonym in pseudonyms:
            file_sanction(context, pseudonym, "group_management_suspension")
            file_sanction(context, pseudonym, "group_management_suspension", expires_at=in_a_year)
        context.data[self.key] = issue_tokens(context, pseudonyms)


# Group scenarios found many groups per founder; the default limit (10) would refuse them.
MANY_GROUPS = {"max_groups_per_person": 100_000}
# Sequence numbers of one round start this far past the previous round's (bench.http), so that a
# scenario that makes a new person per request (registration) never repeats one across rounds. Small
# enough that ten rounds of people are still born before 2000 (person_number).
ROUND_STRIDE = 100_000


def found_groups(context: Context, founders: list[str], count: int) -> list[str]:
    """`count` groups, founded round-robin by `founders` over one connection (a setup helper)."""
    connection, ids = context.connect(), []
    try:
        for n in range(count):
            response = connection.request(Request.json("POST", "/v1/groups", {"founder": founders[n % len(founders)]},
                                                       headers=context.auth))
            if response.status != 201:
                raise RuntimeError(f"setup founding answered {response.status}: {response.body[:200]!r}")
            ids.append(response.json()["id"])
    finally:
        connection.close()
    return ids


def closure_request(context: Context, group_id: str) -> Request:
    return Request.json("POST", f"/v1/groups/{group_id}/closure",
                        {"reason_code": "illegal_content", "evidence_ref": "bench"}, headers=context.auth)


class GroupCreate(Scenario):
    """`POST /v1/groups` spread over founders registered in setup: the founder's person row lock,
    sanctions, credit and the open-group count, then the insert and its audit event."""

    name = "group_create"
    title = "POST /v1/groups"
    expect = 201
    scopes = ("registrations:write", "groups:write")
    policy = MANY_GROUPS
    namespace = 6
    accounts = 100

    def setup(self, context: Context) -> None:
        context.data["group_founders"] = register_accounts(context, self.namespace, self.accounts)

    def request(self, context: Context, n: int) -> Request:
        founders = context.data["group_founders"]
        return Request.json("POST", "/v1/groups", {"founder": founders[n % len(founders)]}, headers=context.auth)


class GroupClose(Scenario):
    """`POST /v1/groups/{id}/closure`, each request closing another group founded in setup (with
    one manager each): the penalty, two suspensions and, from a founder's third closure on, a
    blacklist. Each round has `per_round` groups of its own; a round that answers more requests
    than that runs out and reports the 404s (lower --duration or --rounds, or raise it)."""

    name = "group_close"
    title = "POST /v1/groups/{id}/closure"
    scopes = ("registrations:write", "groups:write")
    policy = MANY_GROUPS
    namespace = 7
    manager_namespace = 9
    founders = 300
    per_round = 1500
    rounds = 3

    def setup(self, context: Context) -> None:
        founders = register_accounts(context, self.namespace, self.founders)
        managers = register_accounts(context, self.manager_namespace, 1)
        groups = found_groups(context, founders, self.per_round * self.rounds)
        connection = context.connect()
        try:
            for group_id in groups:
                response = connection.request(Request.json("POST", f"/v1/groups/{group_id}/managers",
                                                           {"pseudonym": managers[0]}, headers=context.auth))
                if response.status != 200:
                    raise RuntimeError(f"setup manager answered {response.status}")
        finally:
            connection.close()
        context.data["closure_groups"] = groups

    def request(self, context: Context, n: int) -> Request:
        groups = context.data["closure_groups"]
        index = (n // ROUND_STRIDE) * self.per_round + n % ROUND_STRIDE
        return closure_request(context, groups[index] if index < len(groups) else "grp_" + "0" * 26)


class IntrospectPenalised(Introspect):
    """The same introspection over accounts whose founder lost credit to a closed group (and so
    carry its suspension too): `scope` is computed after the score. Compare with `introspect`."""

    name = "introspect_penalised"
    title = "POST …/introspect, penalised"
    scopes = ("registrations:write", "tokens:issue", "tokens:introspect", "groups:write")
    namespace = 8
    key = "penalised_tokens"
    baseline = "introspect"
    max_cost = 0.10

    def setup(self, context: Context) -> None:
        pseudonyms = register_accounts(context, self.namespace, self.accounts)
        for group_id in found_groups(context, pseudonyms, len(pseudonyms)):
            call(context, closure_request(context, group_id), 200)
        context.data[self.key] = issue_tokens(context, pseudonyms)


PAGE_POLICY = {"return_urls": ["https://bench.example/after-verify"], "notice_version": "2026-01",
               "notice_url": "https://bench.example/privacy"}


def create_sessions(context: Context, count: int) -> list[str]:
    """`count` verification sessions; the path of each one's page (it holds the page's secret)."""
    body = {"return_url": PAGE_POLICY["return_urls"][0], "state": "bench"}
    return [urlsplit(call(context, Request.json("POST", "/v1/verification-sessions", body, headers=context.auth),
                          201)["url"]).path for _ in range(count)]


class PageGet(Scenario):
    """The verification page as a person opens it: the form, server-rendered in Chinese, with its
    CSRF token (and cookie), over sessions created in setup."""

    name = "page_get"
    title = "GET /verify/{session_id}/{secret}"
    scopes = ("registrations:write",)
    targets = {"sqlite": Target(min_ratio=0.50), "postgresql": Target(min_ratio=0.50)}
    policy = PAGE_POLICY
    sessions = 200

    def setup(self, context: Context) -> None:
        context.data["page_paths"] = create_sessions(context, self.sessions)

    def request(self, context: Context, n: int) -> Request:
        paths = context.data["page_paths"]
        return Request("GET", paths[n % len(paths)], {})


class PageSubmit(Scenario):
    """The form sent: CSRF checked, a new person registered through the registration's own steps,
    the session completed, a 303 back. Each request spends one session prepared in setup (opened
    once for its token and cookie); `sessions` bounds the requests a run can make."""

    name = "page_submit"
    title = "POST /verify/{session_id}/{secret}"
    expect = 303
    scopes = ("registrations:write",)
    policy = PAGE_POLICY
    namespace = 10
    per_round = 1200  # warm-up and measured window at this scenario's rate fit well within it
    rounds = 3

    def setup(self, context: Context) -> None:
        prepared, connection = [], context.connect()
        try:
            for path in create_sessions(context, self.per_round * self.rounds):
                page = connection.request(Request("GET", path, {}))
                token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page.body)
                if page.status != 200 or token is None:
                    raise RuntimeError(f"setup GET of a page answered {page.status}")
                prepared.append((path, page.headers["set-cookie"].split(";", 1)[0], token.group(1).decode()))
        finally:
            connection.close()
        context.data["page_forms"] = prepared

    def request(self, context: Context, n: int) -> Request:
        # Rounds start ROUND_STRIDE apart: each round spends its own slice of the prepared sessions.
        round_number, index = divmod(n, ROUND_STRIDE)
        if index >= self.per_round or round_number >= self.rounds:
            raise RuntimeError("page_submit ran out of prepared sessions: raise `per_round` or `rounds`")
        path, cookie, token = context.data["page_forms"][round_number * self.per_round + index]
        body = urlencode({"csrf_token": token, "real_name": "张三", "id_type": "cn_resident_id",
                          "id_number": person_number(self.namespace, n), "consent": "y"}).encode()
        return Request("POST", path, {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}, body)


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (Floor(), Register(), AccountRead(), TokenIssue(), Introspect(),
                                                      IntrospectSanctioned(), GroupCreate(), GroupClose(),
                                                      IntrospectPenalised(), PageGet(), PageSubmit())}
