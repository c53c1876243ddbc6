"""Activity forms: times are typed in China's time zone and stored in UTC."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateField, DateTimeLocalField, FloatField, IntegerField, RadioField, SelectChoice,
                     SelectField, StringField, TextAreaField, TimeField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def to_utc(value: datetime | None) -> datetime | None:
    """A naive local (Asia/Shanghai) datetime from a form, as aware UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=LOCAL_TZ).astimezone(timezone.utc)


def to_local_naive(value: datetime | None) -> datetime | None:
    """An aware UTC datetime as the naive local value a datetime-local input shows."""
    if value is None:
        return None
    return value.astimezone(LOCAL_TZ).replace(tzinfo=None)


def _finite(form, field):
    if field.data is not None and field.data != field.data:  # NaN
        raise ValidationError(_l("Enter a number."))


class ActivityForm(FlaskForm):
    theme = SelectField(_l("Service theme"), coerce=int, validators=[InputRequired(_l("Choose a service theme."))])
    title = StringField(_l("Title"), validators=[DataRequired(_l("Give the activity a title.")),
                                                 Length(max=120, message=_l("At most 120 characters."))])
    place = StringField(_l("Place"), validators=[DataRequired(_l("Say where the activity takes place.")),
                                                 Length(max=200, message=_l("At most 200 characters."))])
    starts_at = DateTimeLocalField(_l("Start"), format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
                                   validators=[InputRequired(_l("Enter the start date and time."))])
    ends_at = DateTimeLocalField(_l("End"), format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
                                 validators=[InputRequired(_l("Enter the end date and time."))])
    capacity = IntegerField(
        _l("Places (headcount limit; optional)"),
        validators=[Optional(), NumberRange(min=1, max=100_000, message=_l("Between 1 and 100000."))],
        render_kw={"inputmode": "numeric"})
    # Absent from a request (an older client): the defaults, team members admitted automatically.
    audience = SelectField(_l("Who may sign up"), default="team")
    signup_deadline = DateTimeLocalField(_l("Sign-ups close (optional; at the start if empty)"),
                                         format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"], validators=[Optional()])
    admission = RadioField(_l("Admission"), choices=[
        SelectChoice("auto", _l("Admit sign-ups automatically while places last")),
        SelectChoice("leader", _l("I admit each sign-up myself")),
    ], default="auto")
    admitted_only = BooleanField(_l("Only admitted volunteers may check themselves in"), default=False)
    meeting_point = StringField(_l("Meeting point (optional)"),
                                validators=[Optional(), Length(max=200, message=_l("At most 200 characters."))])
    meeting_lat = FloatField(_l("Latitude of the meeting point (optional)"), validators=[
        Optional(), _finite, NumberRange(min=-90, max=90, message=_l("Between -90 and 90."))])
    meeting_lng = FloatField(_l("Longitude of the meeting point (optional)"), validators=[
        Optional(), _finite, NumberRange(min=-180, max=180, message=_l("Between -180 and 180."))])
    requirements = TextAreaField(_l("What to bring, skills needed (optional)"),
                                 validators=[Optional(), Length(max=2000, message=_l("At most 2000 characters."))])
    qr_mode = RadioField(_l("Check-in code"), choices=[
        SelectChoice("rotating", _l("Rotating code on my phone (changes every 15 seconds)")),
        SelectChoice("poster", _l("Printed poster (valid only during the activity)")),
    ], default="rotating", validators=[InputRequired(_l("Choose how volunteers check in."))])
    lat = FloatField(_l("Latitude of the check-in area's centre (optional)"), validators=[
        Optional(), _finite, NumberRange(min=-90, max=90, message=_l("Between -90 and 90."))])
    lng = FloatField(_l("Longitude of the check-in area's centre (optional)"), validators=[
        Optional(), _finite, NumberRange(min=-180, max=180, message=_l("Between -180 and 180."))])
    radius_m = IntegerField(_l("Radius in metres (optional)"), validators=[
        Optional(), NumberRange(min=10, max=50_000, message=_l("Between 10 and 50000 metres."))],
        render_kw={"inputmode": "numeric"})

    def validate_ends_at(self, field):
        if self.starts_at.data and field.data and field.data <= self.starts_at.data:
            raise ValidationError(_l("The end must be after the start."))

    def validate_signup_deadline(self, field):
        if self.starts_at.data and field.data and field.data >= self.starts_at.data:
            raise ValidationError(_l("The sign-up deadline must be before the start."))

    def validate_meeting_lat(self, field):  # runs when this one is filled (Optional stops an empty field)
        if self.meeting_lng.data is None:
            raise ValidationError(_l("Give the latitude and the longitude together, or neither."))

    def validate_meeting_lng(self, field):
        if self.meeting_lat.data is None:
            raise ValidationError(_l("Give the latitude and the longitude together, or neither."))

    def validate_radius_m(self, field):
        given = [v is not None for v in (self.lat.data, self.lng.data, field.data)]
        if any(given) and not all(given):
            raise ValidationError(_l("Give latitude, longitude and radius together, or none of them."))


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(_l("Give a reason.")),
                                                     Length(max=500, message=_l("At most 500 characters."))])


class DecideForm(FlaskForm):
    decision = RadioField(_l("Decision"), choices=[SelectChoice("admit", _l("Admit")),
                                                   SelectChoice("decline", _l("Do not admit"))],
                          validators=[InputRequired(_l("Choose whether to admit or decline."))])
    reason = StringField(_l("Reason (needed to decline; sent to the volunteers)"),
                         validators=[Optional(), Length(max=500, message=_l("At most 500 characters."))])


class AdjustForm(ReasonForm):
    minutes = IntegerField(_l("Credited minutes"), validators=[
        InputRequired(_l("Enter the minutes.")), NumberRange(min=0, max=1440, message=_l("Between 0 and 1440."))],
        render_kw={"inputmode": "numeric"})


class AddMissedForm(AdjustForm):
    volunteer = SelectField(_l("Member"), coerce=int, validators=[InputRequired(_l("Choose a member."))])


class RetroForm(FlaskForm):
    theme = SelectField(_l("Service theme"), coerce=int, validators=[InputRequired(_l("Choose a service theme."))])
    title = StringField(_l("Title"), validators=[DataRequired(_l("Give the activity a title.")),
                                                 Length(max=120, message=_l("At most 120 characters."))])
    place = StringField(_l("Place"), validators=[DataRequired(_l("Say where the activity took place.")),
                                                 Length(max=200, message=_l("At most 200 characters."))])
    day = DateField(_l("Date"), validators=[InputRequired(_l("Enter the date."))])
    start = TimeField(_l("Start time"), validators=[InputRequired(_l("Enter the start time."))])
    end = TimeField(_l("End time"), validators=[InputRequired(_l("Enter the end time."))])

    def validate_end(self, field):
        if self.start.data and field.data and field.data <= self.start.data:
            raise ValidationError(_l("The end must be after the start."))
