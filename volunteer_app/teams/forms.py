"""Team forms."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..accounts.forms import mainland_mobile


class TeamDetailsMixin:
    name = StringField(_l("Team name"), validators=[DataRequired(_l("Enter the team's name.")),
                                                     Length(max=40, message=_l("Too long."))])
    description = TextAreaField(_l("What the team does"), validators=[
        Optional(), Length(max=2000, message=_l("The description is too long (at most 2000 characters)."))])
    contact_name = StringField(_l("Contact person"), validators=[Optional(), Length(max=40, message=_l("Too long."))])
    contact_phone = StringField(_l("Contact phone"), validators=[
        Optional(), Length(max=32, message=_l("Too long.")), mainland_mobile], render_kw={"inputmode": "tel"})


class TeamApplyForm(TeamDetailsMixin, FlaskForm):
    """The unit is chosen with the cascading picker (accounts/_unit_picker.html), read by the view."""


class TeamEditForm(TeamDetailsMixin, FlaskForm):
    join_policy = SelectField(_l("How people join"), validate_choice=False, choices=[
        SelectChoice("approve", _l("A leader approves each request")),
        SelectChoice("auto", _l("Anyone with the invite joins at once")),
    ])


class InviteForm(FlaskForm):
    valid_days = SelectField(_l("The new invite is valid for"), coerce=int, choices=[
        SelectChoice(0, _l("no time limit")), SelectChoice(1, _l("1 day")), SelectChoice(7, _l("7 days")),
        SelectChoice(30, _l("30 days")),
    ])


class ReasonForm(FlaskForm):
    """Decisions and removals: CSRF plus an optional (sometimes required) reason."""

    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=500, message=_l("Too long."))])


class ImportForm(FlaskForm):
    kind = SelectField(_l("What the file contains"), validate_choice=False, choices=[
        SelectChoice("volunteers", _l("Volunteers")), SelectChoice("teams", _l("Teams")),
    ])
    file = FileField(_l("Spreadsheet (.xlsx or .csv)"), validators=[FileRequired(_l("Choose a file."))],
                     render_kw={"accept": ".xlsx,.csv"})
