"""GET /docs: Swagger UI over /openapi.json, from files installed with the swagger-ui-bundle
package (no CDN: the page works offline), under a strict Content-Security-Policy."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, make_response, render_template, send_from_directory
from swagger_ui_bundle import swagger_ui_path

from identity.api.request_scope import runtime
from identity.api.transactions import READS, transaction

blp = Blueprint("docs", __name__, template_folder="templates")

OWN_ASSETS = Path(__file__).with_name("static")
# Only what the page uses; nothing else of either folder is served.
VENDOR_FILES = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"})
OWN_FILES = frozenset({"docs-init.js"})
# The assets change only with an upgrade, i.e. a restart; an hour's caching spares reloads.
ASSET_MAX_AGE_SECONDS = 3600

# Everything from this origin only, no inline script or style, never framed. `data:` images are
# the icons inside Swagger UI's stylesheet.
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "
                           "frame-ancestors 'none'")


def _secured(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@blp.get("/docs")
@transaction(READS)
def docs() -> Response:
    api = runtime().api
    assert api is not None  # init_api sets it before any request
    return _secured(make_response(render_template("docs.html", title=api.spec.title)))


@blp.get("/docs/assets/<name>")
@transaction(READS)
def asset(name: str) -> Response:
    if name in VENDOR_FILES:
        folder = Path(str(swagger_ui_path))
    elif name in OWN_FILES:
        folder = OWN_ASSETS
    else:
        abort(404)
    return _secured(send_from_directory(folder, name, max_age=ASSET_MAX_AGE_SECONDS))
