"""The in-memory keyring: every usable key version of every kind, and which one is primary."""

from __future__ import annotations

from dataclasses import dataclass, field

from identity.errors import KeyringError


@dataclass
class Keyring:
    # kind -> version -> raw key material
    material: dict[str, dict[int, bytes]] = field(default_factory=dict)
    # kind -> primary version
    primary_versions: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, version: int, key: bytes, *, primary: bool) -> None:
        self.material.setdefault(kind, {})[version] = key
        if primary:
            self.primary_versions[kind] = version

    def primary(self, kind: str) -> tuple[int, bytes]:
        try:
            version = self.primary_versions[kind]
        except KeyError:
            raise KeyringError(f"no primary {kind} key; run `identity-admin db upgrade`") from None
        return version, self.material[kind][version]

    def get(self, kind: str, version: int) -> bytes:
        try:
            return self.material[kind][version]
        except KeyError:
            raise KeyringError(f"{kind} key version {version} is not in the keyring") from None

    def versions(self, kind: str) -> dict[int, bytes]:
        """Every usable version of a kind, primary first: for lookups that must find old records."""
        versions = self.material.get(kind, {})
        primary = self.primary_versions.get(kind)
        ordered = sorted(versions, key=lambda v: (v != primary, -v))
        return {v: versions[v] for v in ordered}
