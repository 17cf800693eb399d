"""Give the fuzzer real resources to find: three accounts, a sanction and a group, made through the API.

    python scripts/fuzz/seed.py BASE_URL API_KEY  ->  prints KEY=VALUE lines for the shell

Without them every path with an id would only ever answer 404. The sanction restricts group
management only, so tokens can still be issued for the account. One account is for
DELETE /v1/accounts/{pseudonym}, which closes it; the other stays open for the reads. The third
founds the group (the first may not: its sanction suspends group management).
"""

from __future__ import annotations

import json
import sys
import urllib.request

PEOPLE = (("张三", "110105198503020070"), ("李四", "110105199208090118"), ("王五", "110105199003070033"))


def post(base: str, key: str, path: str, body: dict) -> dict:
    request = urllib.request.Request(
        base + path, data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - a loopback URL we started
        return json.load(response)


def main(base: str, key: str) -> None:
    pseudonyms = []
    for name, number in PEOPLE:
        account = post(base, key, "/v1/registrations", {
            "real_name": name, "id_document": {"type": "cn_resident_id", "number": number},
            "consent": {"notice_version": "2026-01", "accepted_at": "2026-11-28T10:00:00Z"}})
        pseudonyms.append(account["pseudonym"])
    sanction = post(base, key, "/v1/sanctions", {
        "pseudonym": pseudonyms[0], "kind": "group_management_suspension", "reason_code": "spam", "evidence_ref": "fuzz-seed"})
    print(f"FUZZ_PSEUDONYM={pseudonyms[0]}")
    print(f"FUZZ_CLOSABLE_PSEUDONYM={pseudonyms[1]}")
    group = post(base, key, "/v1/groups", {"founder": pseudonyms[2], "external_ref": "fuzz-group"})
    print(f"FUZZ_SANCTION_ID={sanction['id']}")
    print(f"FUZZ_GROUP_ID={group['id']}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
