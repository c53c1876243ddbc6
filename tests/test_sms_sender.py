"""The SMS senders: Tencent Cloud SMS against a fake transport (the real request the SDK would send, signed as
it signs it), the choice by configuration, and the SMS notice channel that sends only after the commit."""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timezone

import pytest
import requests
from sqlmodel import select

from volunteer_app import notify
from volunteer_app.db import session_scope
from volunteer_app.models import SmsOutbox
from volunteer_app.sms import SmsSendError, sender_for
from volunteer_app.sms.outbox import OutboxSender
from volunteer_app.sms.tencent import TencentSender, parse_template_ids

from . import factories

SETTINGS = {"SMS_PROVIDER": "tencent", "TENCENT_SECRET_ID": "AKIDtest", "TENCENT_SECRET_KEY": "tencent-secret",
            "TENCENT_SMS_SDK_APP_ID": "1400123456", "TENCENT_SMS_SIGN_NAME": "红马甲",
            "TENCENT_SMS_TEMPLATES": "code=2001001,register_taken=2001002,signup_admitted=2001003"}
OK = {"Response": {"SendStatusSet": [{"SerialNo": "5000:1", "PhoneNumber": "+8613912345678", "Fee": 1,
                                      "SessionContext": "", "Code": "Ok", "Message": "send success",
                                      "IsoCode": "CN"}], "RequestId": "a0aabda6-cf91-4f3e-a81f-9198114a2279"}}


@pytest.fixture
def transport(monkeypatch):
    """Every HTTP request the SDK makes (through requests) lands here; answers with `transport.answer`."""

    class Transport:
        sent: list[requests.PreparedRequest] = []
        answer: dict = OK
        status: int = 200

    def send(self, request, **kwargs):
        Transport.sent.append(request)
        response = requests.Response()
        response.status_code = Transport.status
        response._content = json.dumps(Transport.answer).encode()
        response.headers["Content-Type"] = "application/json"
        response.request, response.url = request, request.url
        return response

    Transport.sent = []
    monkeypatch.setattr(requests.Session, "send", send)
    return Transport


def tc3_signature(secret_key: str, request: requests.PreparedRequest, date: str, service: str) -> str:
    """TC3-HMAC-SHA256 as Tencent Cloud documents it (signing with the content-type and host headers)."""
    body = request.body if isinstance(request.body, bytes) else request.body.encode()
    canonical = "\n".join([request.method, "/", "", f"content-type:{request.headers['Content-Type']}\n"
                           f"host:{request.headers['Host']}\n", "content-type;host", hashlib.sha256(body).hexdigest()])
    timestamp = request.headers["X-TC-Timestamp"]
    to_sign = "\n".join(["TC3-HMAC-SHA256", timestamp, f"{date}/{service}/tc3_request",
                         hashlib.sha256(canonical.encode()).hexdigest()])

    def mac(key: bytes, text: str) -> bytes:
        return hmac.new(key, text.encode(), hashlib.sha256).digest()

    key = mac(mac(mac(("TC3" + secret_key).encode(), date), service), "tc3_request")
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def test_tencent_sends_a_signed_send_sms_request(transport):
    sender = TencentSender.from_config(SETTINGS)
    sender.send(session=None, phone="13912345678", template="code", params=["123456", "5"])
    (request,) = transport.sent
    assert request.method == "POST" and request.url == "https://sms.tencentcloudapi.com/"
    assert request.headers["X-TC-Action"] == "SendSms" and request.headers["X-TC-Version"] == "2021-01-11"
    assert request.headers["X-TC-Region"] == "ap-guangzhou" and request.headers["Host"] == "sms.tencentcloudapi.com"
    body = json.loads(request.body)
    assert body["PhoneNumberSet"] == ["+8613912345678"] and body["TemplateId"] == "2001001"
    assert body["TemplateParamSet"] == ["123456", "5"]
    assert body["SmsSdkAppId"] == "1400123456" and body["SignName"] == "红马甲"
    algorithm, _, fields = request.headers["Authorization"].partition(" ")
    parts = dict(part.split("=", 1) for part in fields.split(", "))
    assert algorithm == "TC3-HMAC-SHA256" and parts["SignedHeaders"] == "content-type;host"
    secret_id, date, service, scope = parts["Credential"].split("/")
    assert (secret_id, service, scope) == ("AKIDtest", "sms", "tc3_request")
    assert date == datetime.fromtimestamp(int(request.headers["X-TC-Timestamp"]), timezone.utc).strftime("%Y-%m-%d")
    assert parts["Signature"] == tc3_signature("tencent-secret", request, date, service)
    assert parts["Signature"] != tc3_signature("another-secret", request, date, service)  # the check can fail


def test_tencent_refusals_are_send_errors(transport):
    sender = TencentSender.from_config(SETTINGS)
    transport.answer = {"Response": {"Error": {"Code": "AuthFailure.SignatureFailure", "Message": "bad"},
                                     "RequestId": "r1"}}
    with pytest.raises(SmsSendError, match="AuthFailure"):
        sender.send(session=None, phone="13912345678", template="code", params=["123456", "5"])
    transport.answer = {"Response": {"SendStatusSet": [{**OK["Response"]["SendStatusSet"][0],
                                                        "Code": "LimitExceeded.PhoneNumberDailyLimit"}],
                                     "RequestId": "r2"}}
    with pytest.raises(SmsSendError, match="LimitExceeded"):
        sender.send(session=None, phone="13912345678", template="code", params=["123456", "5"])


def test_a_template_without_an_id_is_not_sent(transport):
    with pytest.raises(SmsSendError):
        TencentSender.from_config(SETTINGS).send(session=None, phone="13912345678", template="activity_cancelled",
                                                 params=["x", "y"])
    assert transport.sent == []


def test_the_configuration_chooses_the_sender():
    assert isinstance(sender_for({}), OutboxSender)
    assert isinstance(sender_for(SETTINGS), TencentSender)
    with pytest.raises(ValueError, match="TENCENT_SECRET_KEY"):
        sender_for({**SETTINGS, "TENCENT_SECRET_KEY": ""})
    with pytest.raises(ValueError):
        sender_for({"SMS_PROVIDER": "carrier-pigeon"})
    with pytest.raises(ValueError):
        parse_template_ids("nonsense=1")


def test_an_app_with_a_broken_sms_setting_does_not_start(make_app):
    with pytest.raises(ValueError):
        make_app(SMS_PROVIDER="tencent")
    with pytest.raises(ValueError):
        make_app(SMS_NOTICE_KINDS="reminder_hour")  # no SMS template for it


def test_a_registration_code_goes_out_through_tencent(make_app, transport, world):
    client = make_app(**SETTINGS).test_client()
    assert client.post("/register/code", data={"phone": "13912345678"}).status_code == 303
    assert client.post("/register/code", data={"phone": world.member_a.phone}).status_code == 303
    first, second = (json.loads(r.body) for r in transport.sent)
    assert first["TemplateId"] == "2001001" and second["TemplateId"] == "2001002"
    assert second["PhoneNumberSet"] == [f"+86{world.member_a.phone}"]


# --- the SMS notice channel ----------------------------------------------------------------------------


@pytest.fixture
def texting_app(make_app):
    return make_app(SMS_NOTICE_KINDS="signup_admitted,activity_cancelled")


def outbox(session):
    session.rollback()
    return [(row.phone, row.template, row.params) for row in session.exec(select(SmsOutbox))]


def test_a_notice_is_texted_after_the_commit(texting_app, world, session):
    activity = factories.make_activity(session, world.team_a, title="路口文明劝导")
    session.commit()
    with texting_app.app_context():
        with session_scope() as scope:
            notify.send(session=scope, volunteer_id=world.member_a.id, kind="signup_admitted", activity_id=activity.id)
            assert outbox(session) == []  # not before the commit
        (message,) = outbox(session)
    assert message[:2] == (world.member_a.phone, "signup_admitted") and message[2][0] == "路口文明劝导"


def test_a_rolled_back_notice_is_never_texted(texting_app, world, session):
    activity = factories.make_activity(session, world.team_a)
    session.commit()
    with texting_app.app_context():
        with pytest.raises(RuntimeError):
            with session_scope() as scope:
                notify.send(session=scope, volunteer_id=world.member_a.id, kind="activity_cancelled",
                            activity_id=activity.id, params={"reason": "雨"})
                raise RuntimeError("the leader's request failed")
        with session_scope() as scope:  # a later commit of the same kind of session sends nothing stale
            pass
    assert outbox(session) == []


def test_only_the_configured_kinds_are_texted_and_none_by_default(app, texting_app, world, session):
    activity = factories.make_activity(session, world.team_a)
    session.commit()
    for application, kind in ((texting_app, "reminder_day"), (app, "signup_admitted")):
        with application.app_context(), session_scope() as scope:
            notify.send(session=scope, volunteer_id=world.member_a.id, kind=kind, activity_id=activity.id)
    assert outbox(session) == []


def test_a_failing_sender_does_not_fail_the_committed_work(texting_app, world, session, monkeypatch):
    from volunteer_app.models import Notice

    activity = factories.make_activity(session, world.team_a)
    session.commit()

    def broken(self, **kwargs):
        raise SmsSendError("down")

    monkeypatch.setattr(OutboxSender, "send", broken)
    with texting_app.app_context(), session_scope() as scope:
        notify.send(session=scope, volunteer_id=world.member_a.id, kind="signup_admitted", activity_id=activity.id)
    session.rollback()
    assert session.exec(select(Notice).where(Notice.volunteer_id == world.member_a.id)).first() is not None


def test_a_refused_code_is_a_clear_message_and_still_counts(make_app, transport, world, session):
    from volunteer_app.models import SmsCode

    transport.answer = {"Response": {"Error": {"Code": "FailedOperation.InsufficientBalanceInSmsPackage",
                                               "Message": "no balance"}, "RequestId": "r3"}}
    client = make_app(**SETTINGS).test_client()
    response = client.post("/forgot", data={"phone": world.member_a.phone})
    assert response.status_code == 400 and "短信发送失败，请稍后再试" in response.get_data(as_text=True)
    session.rollback()
    assert len(session.exec(select(SmsCode)).all()) == 1  # stored before the provider was asked
