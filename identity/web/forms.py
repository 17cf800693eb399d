"""The page's form: the fields `POST /v1/registrations` takes, and the CSRF token (Flask-WTF).

No WTForms validators: the rules are the registration's own (identity.documents, the platform's
policy), applied by the same service call as the API's, so the page and the API never disagree.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField


class VerificationForm(FlaskForm):
    class Meta:
        csrf = True  # the token is checked by the view (validate_csrf), before anything else

    real_name = StringField()
    id_type = StringField()
    id_number = StringField()
    issuing_country = StringField()
    phone = StringField()
    consent = BooleanField()
    guardian_consent = BooleanField()

    def text(self, name: str) -> str:
        value = self[name].data
        return value.strip() if isinstance(value, str) else ""
