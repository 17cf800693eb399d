"""Where a webhook may be posted: the SSRF rule.

An endpoint URL must be `https`, and every address its host resolves to must be a public one:
not private, loopback, link-local, shared (carrier-grade NAT), multicast, reserved or
unspecified, nor an IPv6 form of one (IPv4-mapped, NAT64 or 6to4 of a private address). One
non-public address among several refuses the URL: the connection could be made to any of them.

The rule is checked when the endpoint is created, and again at every delivery, on a fresh
resolution whose checked address is the one the worker connects to (`Target.address`; TLS is
still verified against the host name). A name that resolved to a public address when it was
checked cannot then be re-pointed at an internal one between the check and the connection
(DNS rebinding).

`IDENTITY_WEBHOOK_ALLOW_PRIVATE=1` (tests, private deployments) lets the addresses be anything,
and allows plain `http` to a host whose addresses are all loopback.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UrlRefused(Exception):
    """The URL breaks the rule; the message says which part, and is safe to show the platform."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str          # the name TLS verifies and the Host header carries
    port: int
    path: str          # path and query, as sent in the request line
    address: str       # the checked address the connection is made to

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == default else f"{name}:{self.port}"


def resolve(host: str, port: int) -> list[IpAddress]:
    """Every address the host resolves to (a test replaces this to give a name public addresses)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def _embedded_ipv4(address: IpAddress) -> ipaddress.IPv4Address | None:
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in ipaddress.ip_network("64:ff9b::/96"):  # NAT64 reaches the IPv4 address inside
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: IpAddress) -> bool:
    inner = _embedded_ipv4(address)
    if inner is not None and not is_public(inner):
        return False
    return address.is_global and not address.is_multicast


def _parse(url: str) -> tuple[str, str, int, str]:
    if len(url) > MAX_URL_LENGTH:
        raise UrlRefused(f"Must be at most {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UrlRefused("Must be a valid URL.") from None
    if parts.scheme not in ("https", "http"):
        raise UrlRefused("Must be an https URL.")
    if not parts.hostname:
        raise UrlRefused("Must name a host.")
    if parts.username is not None or parts.password is not None:
        raise UrlRefused("Must not carry a user name or password.")
    if parts.fragment:
        raise UrlRefused("Must not have a fragment.")
    if any(c.isspace() or ord(c) < 0x20 for c in url):
        raise UrlRefused("Must not contain spaces or control characters.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path


def check(url: str, *, allow_private: bool) -> Target:
    """The URL's target under the rule, resolved now; `UrlRefused` if it breaks the rule or the
    host does not resolve."""
    scheme, host, port, path = _parse(url)
    if scheme == "http" and not allow_private:
        raise UrlRefused("Must be an https URL.")
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError, ValueError):
        raise UrlRefused("The host name does not resolve.") from None
    if not addresses:
        raise UrlRefused("The host name does not resolve.")
    if not allow_private and not all(is_public(a) for a in addresses):
        raise UrlRefused("Must not resolve to a private, loopback, link-local or reserved address.")
    if scheme == "http" and not all(a.is_loopback for a in addresses):
        raise UrlRefused("Plain http is allowed only to a loopback address, with IDENTITY_WEBHOOK_ALLOW_PRIVATE=1.")
    return Target(scheme=scheme, host=host, port=port, path=path, address=str(addresses[0]))
