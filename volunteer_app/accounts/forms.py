"""Account forms."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from .phone import normalise_phone


def mainland_mobile(_form, field) -> None:
    """A mobile number in any usual spelling (+86, spaces, full-width digits); empty is left to DataRequired."""
    if field.data and field.data.strip() and normalise_phone(field.data) is None:
        raise ValidationError(_l("Enter an 11-digit mainland mobile number."))


def code_field():
    """The 6-digit code from the text message: phones offer it from the SMS (one-time-code) on a digit pad."""
    return StringField(
        _l("Code from the text message"),
        validators=[DataRequired(_l("Enter the 6-digit code from the text message.")),
                    Length(max=12, message=_l("Too long."))],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9]*", "maxlength": 6},
    )


def phone_field():
    return StringField(
        _l("Mobile number"),
        validators=[DataRequired(_l("Enter your mobile number.")), Length(max=32, message=_l("Too long.")),
                    mainland_mobile],
        render_kw={"inputmode": "tel", "autocomplete": "tel"},
    )


class CodeRequestForm(FlaskForm):
    """Step one of registration, forgot password and claim: the number to send a code to."""

    phone = phone_field()


class LoginForm(FlaskForm):
    phone = StringField(
        _l("Mobile number"),
        validators=[DataRequired(_l("Enter your mobile number.")), Length(max=32, message=_l("Too long."))],
        render_kw={"inputmode": "tel", "autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=128, message=_l("Too long."))],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Keep me logged in on this phone"))


class NewPasswordMixin:
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter a password.")),
                    Length(min=8, max=128, message=_l("The password needs 8 to 128 characters."))],
        render_kw={"autocomplete": "new-password"},
    )
    password2 = PasswordField(
        _l("Password again"),
        validators=[DataRequired(_l("Enter the password again.")),
                    EqualTo("password", message=_l("The two passwords are not the same."))],
        render_kw={"autocomplete": "new-password"},
    )


class RegisterForm(NewPasswordMixin, FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Enter your name.")), Length(max=40, message=_l("Too long."))],
        render_kw={"autocomplete": "name"},
    )
    phone = phone_field()
    code = code_field()
    # Rendered by the unit picker (district → street → community); validated by the service.
    community = HiddenField(_l("Community"))
    consent = BooleanField(_l("I have read the privacy notice and agree"))


class ResetPasswordForm(NewPasswordMixin, FlaskForm):
    consent = BooleanField(_l("I have read the privacy notice and agree"))


class CodePasswordForm(NewPasswordMixin, FlaskForm):
    """Step two of forgot password and claim: the number (kept from step one), its code, a new password."""

    phone = HiddenField(validators=[DataRequired(_l("Enter your mobile number.")), mainland_mobile])
    code = code_field()
    consent = BooleanField(_l("I have read the privacy notice and agree"))


class PersonSearchForm(FlaskForm):
    """A POST form: every search the office makes is written to the audit log."""

    q = StringField(_l("Name, volunteer number, mobile number or its last four digits"),
                    validators=[DataRequired(_l("Enter what to search for.")),
                                Length(min=2, max=40, message=_l("Enter 2 to 40 characters."))])
