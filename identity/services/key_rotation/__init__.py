"""Rotating, verifying and retiring keys while the service keeps serving.

Data and index rotations are resumable jobs over every person row (`records`):

1. Under the `keys` maintenance lock (`services.maintenance_lock`), either resume the kind's
   unfinished `rotation_jobs` row, or create the new primary key version and the job in one
   transaction. From that commit on, every process writes new records under the new key (the
   `keys` epoch moves, so each request reloads the keyring).
2. Forward pass by keyset pagination: select a batch of rows whose version is not the target
   and whose id is after the job's cursor, compute the new wrapped DEK or index in Python,
   write them in one statement (`dialects`: each database's fastest bulk compare-and-set), and
   commit the batch together with the job's progress and the lock's heartbeat. Killed at any
   point, the job resumes after the last committed batch; a batch cut short is simply done
   again (it selects only rows not yet moved).
3. Sweep: one more pass from the first id, for rows a forward pass could not move or that
   a request holding the old keyring wrote meanwhile. What the sweep cannot move is reported
   by person id and stays readable under its old key, which `retire` then refuses to destroy.

Every write is compare-and-set on the old value (`WHERE id = :id AND dek_wrapped = :old`), so
a person erased or changed by a request between the batch's read and its write is left alone
rather than brought back. Lookups try every usable index key (`vault.index_candidates`), so
duplicates and blacklisted people are found throughout an index rotation.

Signing and root rotations are single steps under the same lock (`signing_and_root`); what
each key is used by, and destroying one once nothing needs it, is `status`; opening every
record to prove the keys still work is `verification`. Services never commit: the caller hands
in a `UnitOfWork` that opens a transaction and commits it when the block ends.
"""

from identity.services.key_rotation.common import DEFAULT_BATCH_SIZE, MAX_REPORTED_FAILURES, RECORD_KINDS
from identity.services.key_rotation.records import (
    JOB_DONE,
    JOB_RUNNING,
    Progress,
    ProgressSink,
    RotationReport,
    rotate_records,
    running_job,
)
from identity.services.key_rotation.signing_and_root import (
    SIGNING_WINDOW,
    RootRotation,
    SigningRotation,
    rotate_root,
    rotate_signing,
)
from identity.services.key_rotation.status import (
    KeyStatus,
    SigningRevocation,
    check_signing_revocation,
    jwks_window_end,
    key_status,
    retire_key,
    revoke_signing_key,
)
from identity.services.key_rotation.verification import VerifyReport, record_verification, verify_records

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "JOB_DONE",
    "JOB_RUNNING",
    "MAX_REPORTED_FAILURES",
    "RECORD_KINDS",
    "SIGNING_WINDOW",
    "KeyStatus",
    "Progress",
    "ProgressSink",
    "RootRotation",
    "RotationReport",
    "SigningRevocation",
    "SigningRotation",
    "VerifyReport",
    "check_signing_revocation",
    "jwks_window_end",
    "key_status",
    "record_verification",
    "retire_key",
    "revoke_signing_key",
    "rotate_records",
    "rotate_root",
    "rotate_signing",
    "running_job",
    "verify_records",
]
