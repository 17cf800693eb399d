"""GET /v1/sandbox/identities: the published test identities a sandbox platform registers."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from identity.api.auth import BEARER_SECURITY, require_scope
from identity.api.request_scope import principal
from identity.api.sandbox_schemas import SandboxIdentityListSchema
from identity.api.schemas import ProblemSchema
from identity.errors import Forbidden
from identity.services import sandbox

blp = Blueprint("sandbox", __name__, url_prefix="/v1/sandbox",
                description="Sandbox platforms: the published test identities and the outcome each produces.")

_LISTING = {"items": [{
    "outcome": i.outcome, "real_name": i.real_name, "id_document": {"type": i.id_type, "number": i.number},
    "birth_date": i.birth_date, "status": i.status, "code": i.code, "description": i.description,
} for i in sandbox.PUBLISHED]}


@blp.route("/identities", methods=["GET"])
@blp.doc(security=BEARER_SECURITY, summary="List the sandbox's test identities",
         description="Any API key of a sandbox platform, whatever its scopes. A key of a platform that "
                     "is not a sandbox is answered 403 `forbidden`: the list is public (README), the "
                     "answer only tells the caller it is using the wrong key.")
@require_scope(None)
@blp.response(200, SandboxIdentityListSchema)
@blp.alt_response(403, schema=ProblemSchema, description="forbidden: the key's platform is not a sandbox")
def list_sandbox_identities() -> Any:
    if not principal().sandbox:
        raise Forbidden("Only a sandbox platform's API key lists the sandbox identities.")
    return _LISTING
