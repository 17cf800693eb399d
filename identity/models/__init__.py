"""Tables only. Importing this package registers every table on the metadata."""

from identity.models.audit import AuditChainBase, AuditChainHead, AuditEvent
from identity.models.base import Base
from identity.models.epoch import EPOCH_TOPICS, CacheEpoch
from identity.models.group import CreditPenalty, Group, GroupManager
from identity.models.idempotency import IdempotencyRecord
from identity.models.keyring import KEY_KINDS, KeyVersion, MaintenanceLock, RotationJob
from identity.models.lawful import DisclosureRequest, LegalHold, SecurityAssessment
from identity.models.mismatch import RegistrationMismatch
from identity.models.person import Account, Person
from identity.models.platform import ApiKey, Platform
from identity.models.sanction import Sanction
from identity.models.token import RevokedToken
from identity.models.verification import VerificationSession
from identity.models.webhook import WebhookDelivery, WebhookEndpoint

__all__ = [
    "Account", "ApiKey", "AuditChainBase", "AuditChainHead", "AuditEvent", "Base", "CacheEpoch", "CreditPenalty",
    "DisclosureRequest", "EPOCH_TOPICS", "Group", "GroupManager", "IdempotencyRecord", "KEY_KINDS", "KeyVersion",
    "LegalHold", "MaintenanceLock", "Person", "Platform", "RegistrationMismatch", "RevokedToken", "RotationJob",
    "Sanction", "SecurityAssessment", "VerificationSession", "WebhookDelivery", "WebhookEndpoint",
]
