"""The page's registration: the same steps, rules and records as `POST /v1/registrations`.

Isolated in this one function so that it becomes the single registration service call once that
exists (issue "Give every use case one home"); until then it runs the pieces exactly as
identity/api/registrations.py does: prepare, the mismatch limits, the precheck and commit before
a remote authority, the authority, the writes; a blacklist refusal audited and a mismatch counted
in transactions of their own.
"""

from __future__ import annotations

from datetime import datetime

from identity.api.context import current_keyring, request_epochs, runtime
from identity.errors import IdentityNotVerified, RegistrationRefused
from identity.extensions import db
from identity.metrics import REGISTRATIONS
from identity.services import audit, mismatches, registration, sandbox
from identity.services.accounts import AccountView
from identity.services.authentication import Principal
from identity.verifiers import OfflineVerifier, Verifier


def register(caller: Principal, request: registration.RegistrationRequest, now: datetime) -> AccountView:
    """The account opened, or the domain error the API would answer with. Leaves the request's
    transaction to the caller (committed on success); refusal and mismatch records are committed."""
    limit = mismatches.platform_rate(caller, runtime().settings.mismatch_limit)
    references: dict[int, bytes] = {}
    try:
        prepared = registration.prepare(request, caller, now)
        keyring = current_keyring()
        references = mismatches.references(keyring, prepared.identity.document)
        verifier: Verifier = runtime().verifier
        held_under_another_name = False
        if caller.sandbox:
            verifier = sandbox.AUTHORITY
        else:
            mismatches.ensure_allowed(db.session(), caller.platform_id, limit, references, now,
                                      clear=runtime().mismatch_free_platforms, epoch=request_epochs().get("mismatches"))
            if not isinstance(verifier, OfflineVerifier):
                held_under_another_name = registration.precheck(db.session(), keyring, caller, prepared, now)
                db.session.commit()
        verification = verifier.verify(prepared.identity.real_name, prepared.identity.document)
        if held_under_another_name:
            raise registration.held_under_another_name()
        view = registration.register(db.session(), current_keyring(), caller, prepared, verification, now)
    except RegistrationRefused as refused:
        db.session.rollback()
        audit.record(db.session(), current_keyring(), actor=caller.actor, action="registration.refused",
                     subject=refused.extra.get("_sanction_id"), details={"platform": caller.platform_id})
        db.session.commit()
        REGISTRATIONS.labels(outcome=refused.code).inc()
        raise
    except IdentityNotVerified as mismatch:
        db.session.rollback()
        try:
            mismatches.record(db.session(), current_keyring(), caller, limit, references,
                              mismatch.extra.get("_source", "authority"), now, counted=not caller.sandbox)
        except Exception as error:
            REGISTRATIONS.labels(outcome=getattr(error, "code", "error")).inc()
            raise
        db.session.commit()
        REGISTRATIONS.labels(outcome=mismatch.code).inc()
        raise
    except Exception as error:
        REGISTRATIONS.labels(outcome=getattr(error, "code", "error")).inc()
        raise
    REGISTRATIONS.labels(outcome="registered").inc()
    return view
