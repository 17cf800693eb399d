"""Random public identifiers: a prefix and 128 random bits in lowercase Crockford base32."""

import secrets

CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
_CROCKFORD_SET = frozenset(CROCKFORD)
_LENGTH = 26  # ceil(128 / 5)


def random_id(prefix: str, bits: int = 128) -> str:
    value = secrets.randbits(bits)
    chars = []
    for _ in range(_LENGTH):
        chars.append(CROCKFORD[value & 31])
        value >>= 5
    return prefix + "".join(reversed(chars))


def looks_like(prefix: str, value: str) -> bool:
    """Cheap syntax check so malformed ids are answered 404 without a query."""
    body = value[len(prefix):]
    return value.startswith(prefix) and len(body) == _LENGTH and _CROCKFORD_SET.issuperset(body)


def new_pseudonym() -> str:
    return random_id("psn_")


def new_platform_id() -> str:
    return random_id("plt_")


def new_sanction_id() -> str:
    return random_id("snc_")


def new_key_id() -> str:
    return random_id("key_")


def new_disclosure_id() -> str:
    return random_id("dsc_")


def new_hold_id() -> str:
    return random_id("hld_")


def new_group_id() -> str:
    return random_id("grp_")


def new_verification_session_id() -> str:
    return random_id("vs_")


def new_webhook_endpoint_id() -> str:
    return random_id("whe_")


def new_event_id() -> str:
    return random_id("evt_")
