"""Privacy forms."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField
from wtforms.validators import DataRequired, Length


class DeleteAccountForm(FlaskForm):
    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=128, message=_l("Too long."))],
        render_kw={"autocomplete": "current-password"},
    )
    confirm = BooleanField(
        _l("I understand that my name, phone number and login are removed for good."),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )


class ExportForm(FlaskForm):
    """Only the CSRF token: a download is a POST because it is written to the audit log."""
