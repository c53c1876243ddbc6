"""Forms of the record: asking for a correction (a record row, or a missing attendance)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length


class AskCorrectionForm(FlaskForm):
    """A record row is wrong: the hours it should credit (optional) and why."""

    hours = StringField(_l("Hours it should be (optional)"), validators=[Length(max=8, message=_l("Too long."))],
                        render_kw={"inputmode": "decimal", "autocomplete": "off"})
    reason = TextAreaField(_l("What is wrong"),
                           validators=[DataRequired(_l("Say what is wrong.")),
                                       Length(max=500, message=_l("Up to 500 characters."))],
                           render_kw={"rows": 3, "maxlength": 500})


class AskMissingForm(AskCorrectionForm):
    """I was there but I am not recorded: which activity, how long, and why."""

    activity = SelectField(_l("Activity"), choices=[], validate_choice=False,
                           validators=[DataRequired(_l("Choose the activity."))])
    hours = StringField(_l("Hours I served"), validators=[Length(max=8, message=_l("Too long."))],
                        render_kw={"inputmode": "decimal", "autocomplete": "off"})
    reason = TextAreaField(_l("What happened"),
                           validators=[DataRequired(_l("Say what happened.")),
                                       Length(max=500, message=_l("Up to 500 characters."))],
                           render_kw={"rows": 3, "maxlength": 500})


class ResolveForm(FlaskForm):
    """The leader's answer: the hours to credit (accept) or the reason (decline)."""

    hours = StringField(_l("Hours to credit"), validators=[Length(max=8, message=_l("Too long."))],
                        render_kw={"inputmode": "decimal", "autocomplete": "off"})
    answer = TextAreaField(_l("Reason for the volunteer"),
                           validators=[Length(max=500, message=_l("Up to 500 characters."))],
                           render_kw={"rows": 2, "maxlength": 500})
