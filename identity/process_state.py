"""What one process keeps between requests (collaborators, caches, the clock), and loading the root key."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

from identity.clock import Clock, SystemClock
from identity.crypto.root_keys import RootKeys, generate_root_key_file, load_root_keys
from identity.crypto.secrets import SecretHasher
from identity.errors import KeyringError
from identity.metrics import VERIFIER_CIRCUIT_STATE, VERIFIER_REFUSED, circuit_state_value, observe_authority_call
from identity.ratelimit import RateLimits
from identity.services.authentication import ApiKeyAuthenticator
from identity.services.epoch_cache import EpochCache, EpochValue
from identity.services.epochs import EpochReader
from identity.services.keyring import KeyringCache
from identity.services.registration import Registrar
from identity.services.signing import SigningKeys, load_signing_keys
from identity.services.tokens import TokenCaches
from identity.settings import Settings, SettingsError
from identity.verifiers import GuardedVerifier, Verifier, build_verifier

if TYPE_CHECKING:
    from flask_smorest import Api

log = logging.getLogger("identity")


def _signing_keys_cache() -> EpochValue[SigningKeys]:
    return EpochValue(load_signing_keys)


@dataclass
class Runtime:
    """Everything one process keeps between requests: collaborators, caches and the clock.

    The epoch-guarded caches are emptied through the database's change counters (services/epochs),
    so every process sees a change at once; tests freeze time by setting `clock`.
    """

    settings: Settings
    keyring_cache: KeyringCache
    hasher: SecretHasher
    authenticator: ApiKeyAuthenticator
    # Every registration's collaborators: the verifier, the mismatch limit and the per-process
    # cache of platforms known to need no mismatch count (services/registration.py).
    registrar: Registrar
    rate_limits: RateLimits
    # Reads the change counters for requests on a connection of its own; None outside the server.
    epoch_reader: EpochReader | None = None
    clock: Clock = field(default_factory=SystemClock)
    token_caches: TokenCaches = field(default_factory=TokenCaches)
    # Rebuilt when the `keys` epoch moves: `signing_keys.get(keys_epoch, session, keyring)`.
    signing_keys: EpochValue[SigningKeys] = field(default_factory=_signing_keys_cache)
    # Account bodies by pseudonym (api/accounts.py). Everything that changes one (closing, a sanction
    # filed, lifted or widened) bumps the `access` epoch; the clock ends an entry when a restriction
    # expires or a minor may come of age.
    account_views: EpochCache[str, tuple[str, dict[str, Any]]] = field(default_factory=EpochCache)
    # The flask-smorest Api (its OpenAPI spec), once the API is built.
    api: Api | None = None

    @property
    def root_keys(self) -> RootKeys:
        return self.keyring_cache.root_keys

    def reload_root_keys(self) -> None:
        self.keyring_cache = KeyringCache(load_root_keys(self.settings.root_key_file))


MAKE_A_KEY = "(umask 077; head -c 32 /dev/urandom | base64 > root.keys)"


def root_key_would_be_generated(settings: Settings) -> bool:
    """True when start-up would generate a development root key; raises when the key file is
    missing and may not be generated (any database but the embedded SQLite default)."""
    if not settings.root_key_file_is_default or settings.root_key_file.exists():
        return False
    if not settings.database_is_embedded_default:
        raise SettingsError(
            "IDENTITY_ROOT_KEY_FILE is not set, and a root key is generated only for the embedded SQLite "
            f"database; create one with `{MAKE_A_KEY}`, keep a copy apart from the database, "
            "and set IDENTITY_ROOT_KEY_FILE to its path")
    return True


def obtain_root_keys(settings: Settings) -> RootKeys:
    """Load the root key file; for the embedded SQLite default only, generate a development one, loudly.

    With any other database a generated key would live in a folder the data does not: a
    recreated container would start with a new key and never decrypt the keyring again.
    """
    path = settings.root_key_file
    if root_key_would_be_generated(settings):
        try:
            keys = generate_root_key_file(path)
        except FileExistsError:  # another process of this instance made it first
            return load_root_keys(path)
        log.warning("GENERATED A DEVELOPMENT ROOT KEY at %s. Anyone with this file can decrypt the keyring. "
                    "In production set IDENTITY_ROOT_KEY_FILE to a key kept outside the database host.", path)
        return keys
    return load_root_keys(path)


def start_up_problem() -> str | None:
    """What would stop the server at start-up, as one line; None if it would start.

    Also makes the development root key where that is allowed, so workers that boot at once
    find it made rather than race to make it.
    """
    try:
        obtain_root_keys(Settings.from_env())
    except (SettingsError, KeyringError) as error:
        return str(error)
    return None


def build_runtime(settings: Settings, engine: Engine | None = None) -> Runtime:
    hasher = SecretHasher(time_cost=settings.argon2.time_cost, memory_cost_kib=settings.argon2.memory_cost_kib,
                          parallelism=settings.argon2.parallelism)
    return Runtime(
        settings=settings,
        keyring_cache=KeyringCache(obtain_root_keys(settings),
                                   reload_root_keys=lambda: load_root_keys(settings.root_key_file)),
        hasher=hasher,
        authenticator=ApiKeyAuthenticator(hasher),
        registrar=Registrar(verifier=build_guarded_verifier(settings), default_mismatch_limit=settings.mismatch_limit),
        rate_limits=RateLimits(settings.rate_limit, settings.auth_failure_limit, settings.redis_url),
        epoch_reader=EpochReader(engine) if engine is not None else None,
    )


def build_guarded_verifier(settings: Settings) -> Verifier:
    """The configured verifier; one that asks an authority is bounded and behind a circuit breaker."""
    verifier = build_verifier(settings.verifier, url=settings.verifier_url,
                              timeout=settings.verifier_timeout_seconds, retries=settings.verifier_retries,
                              observe=observe_authority_call)
    if not verifier.is_remote:
        return verifier
    VERIFIER_CIRCUIT_STATE.set(0)
    return GuardedVerifier(
        verifier,
        max_concurrent=settings.verifier_max_concurrent,
        failure_threshold=settings.verifier_failure_threshold,
        cooldown_seconds=settings.verifier_cooldown_seconds,
        on_state=lambda state: VERIFIER_CIRCUIT_STATE.set(circuit_state_value(state)),
        on_refused=lambda reason: VERIFIER_REFUSED.labels(reason=reason).inc(),
    )
