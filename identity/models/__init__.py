"""Tables only. Importing this package registers every table on the metadata."""

from identity.models.audit import AuditChainHead, AuditEvent
from identity.models.base import Base
from identity.models.epoch import EPOCH_TOPICS, CacheEpoch
from identity.models.group import CreditPenalty, Group, GroupManager
from identity.models.idempotency import IdempotencyRecord
from identity.models.keyring import KEY_KINDS, KeyVersion, MaintenanceLock, RotationJob
from identity.models.person import Account, Person
from identity.models.platform import ApiKey, Platform
from identity.models.sanction import Sanction
from identity.models.token import RevokedToken

__all__ = [
    "Account", "ApiKey", "AuditChainHead", "AuditEvent", "Base", "CacheEpoch", "CreditPenalty", "EPOCH_TOPICS",
    "Group", "GroupManager",
    "IdempotencyRecord", "KEY_KINDS", "KeyVersion", "MaintenanceLock", "Person", "Platform",
    "RevokedToken", "RotationJob", "Sanction",
]
