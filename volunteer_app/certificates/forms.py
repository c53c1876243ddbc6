"""Certificate forms: the period (a preset or custom dates) and the team; the office's search and revoke."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

PRESET_LABELS = [
    SelectChoice("this_year", _l("This year")),
    SelectChoice("last_year", _l("Last year")),
    SelectChoice("last_3_years", _l("The last 3 years")),
    SelectChoice("custom", _l("Choose dates")),
]


class IssueForm(FlaskForm):
    preset = RadioField(_l("Period"), choices=PRESET_LABELS, default="this_year",
                        validators=[DataRequired(_l("Choose a period."))])
    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To"), validators=[Optional()])
    team = SelectField(_l("Team"), choices=[], validate_choice=False)

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.preset.data == "custom" and (self.start.data is None or self.end.data is None):
            (self.start if self.start.data is None else self.end).errors.append(str(_l("Enter both dates.")))
            return False
        return True


class FindForm(FlaskForm):
    class Meta:
        csrf = False  # a search (GET) changes nothing

    number = StringField(_l("Certificate number"), validators=[DataRequired(_l("Enter a certificate number.")),
                                                               Length(max=24, message=_l("Too long."))])


class RevokeForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(_l("Give a reason for revoking the certificate.")),
                                                     Length(max=500, message=_l("Too long."))])
