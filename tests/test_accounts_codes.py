"""Codes by SMS: the rules (hashed, 5 minutes, 5 tries, limits; `now` passed in) and the flows through HTTP
(register with a code, forgot password, claim an imported account, a stranger registering a taken number)."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select
from werkzeug.security import check_password_hash

from volunteer_app import tokens
from volunteer_app.accounts import codes
from volunteer_app.accounts.codes import CodeError, request_code, use_code
from volunteer_app.accounts.service import NO_PASSWORD
from volunteer_app.models import SmsCode, SmsOutbox, Volunteer, utcnow
from volunteer_app.sms import SmsSendError

from . import factories
from .helpers import registration_code, sms_code

SECRET = "test-secret-key-not-for-production"
NEW = "13912345678"


class FakeSender:
    """Keeps what would be sent."""

    def __init__(self, fail: bool = False):
        self.sent: list[tuple[str, str, list[str]]] = []
        self.fail = fail

    def send(self, *, session, phone, template, params):
        if self.fail:
            raise SmsSendError("down")
        self.sent.append((phone, template, list(params)))


def ask(session, sender, *, purpose="register", phone=NEW, now=None):
    return request_code(session=session, purpose=purpose, phone=phone, secret_key=SECRET, sender=sender, now=now)


def use(session, code, *, purpose="register", phone=NEW, now=None):
    return use_code(session=session, purpose=purpose, phone=phone, code=code, secret_key=SECRET, now=now)


# --- the rules ---------------------------------------------------------------------------------------


def test_a_code_is_six_digits_stored_only_as_a_keyed_hash(session):
    sender = FakeSender()
    row = ask(session, sender)
    (phone, template, (code, minutes)), = sender.sent
    assert phone == NEW and template == "code" and minutes == "5" and re.fullmatch(r"\d{6}", code)
    stored = session.exec(select(SmsCode)).one()
    assert code not in (stored.code_hash, stored.phone, stored.purpose) and stored.id == row.id
    assert stored.code_hash == tokens.short_code_hash(SECRET, purpose="register", phone=NEW, code=code)
    assert stored.code_hash != tokens.short_code_hash("another secret", purpose="register", phone=NEW, code=code)
    assert stored.code_hash != tokens.short_code_hash(SECRET, purpose="reset", phone=NEW, code=code)
    assert stored.expires_at - stored.created_at == timedelta(minutes=5)


def test_a_code_works_once_within_five_minutes(session):
    sender, now = FakeSender(), utcnow()
    ask(session, sender, now=now)
    code = sender.sent[0][2][0]
    assert use(session, code, now=now + timedelta(minutes=4, seconds=59)).used_at is not None
    with pytest.raises(CodeError) as again:
        use(session, code, now=now + timedelta(minutes=4, seconds=59))
    assert again.value.code == "no_code"


def test_a_code_expires_after_five_minutes(session):
    sender, now = FakeSender(), utcnow()
    ask(session, sender, now=now)
    with pytest.raises(CodeError) as late:
        use(session, sender.sent[0][2][0], now=now + timedelta(minutes=5))
    assert late.value.code == "code_expired"


def test_five_wrong_guesses_end_the_code(session):
    sender, now = FakeSender(), utcnow()
    ask(session, sender, now=now)
    right = sender.sent[0][2][0]
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    lefts = []
    for guess in (wrong, "12", "abcdef", wrong):
        with pytest.raises(CodeError) as error:
            use(session, guess, now=now)
        lefts.append((error.value.code, error.value.params["left"]))
    assert lefts == [("wrong_code", 4), ("wrong_code", 3), ("wrong_code", 2), ("wrong_code", 1)]
    for guess in (wrong, right):  # the fifth wrong guess ends it; the right code no longer helps
        with pytest.raises(CodeError) as error:
            use(session, guess, now=now)
        assert error.value.code == "too_many_tries"


def test_full_width_digits_and_spaces_are_accepted(session):
    sender = FakeSender()
    ask(session, sender)
    code = sender.sent[0][2][0]
    typed = " " + "".join(chr(ord(c) + 0xFEE0) for c in code[:3]) + " " + code[3:]
    assert use(session, typed).used_at is not None


def test_a_new_code_replaces_the_old_one_and_waits_a_minute(session):
    sender, now = FakeSender(), utcnow()
    ask(session, sender, now=now)
    with pytest.raises(CodeError) as soon:
        ask(session, sender, now=now + timedelta(seconds=10))
    assert soon.value.code == "too_soon" and soon.value.params["seconds"] == 50
    assert codes.resend_wait(session=session, phone=NEW, now=now + timedelta(seconds=10)) == 50
    ask(session, sender, now=now + timedelta(seconds=60))
    old, new = sender.sent[0][2][0], sender.sent[1][2][0]
    if old != new:
        with pytest.raises(CodeError):
            use(session, old, now=now + timedelta(seconds=61))
    assert use(session, new, now=now + timedelta(seconds=61))


def test_ten_codes_a_day_per_number_whatever_the_purpose(session, world):
    sender, now = FakeSender(), utcnow()
    for i in range(codes.CODES_PER_DAY):
        ask(session, sender, purpose=("register", "reset", "claim")[i % 3], phone=world.member_a.phone,
            now=now + timedelta(minutes=i * 2))
    later = now + timedelta(hours=1)
    with pytest.raises(CodeError) as error:
        ask(session, sender, purpose="reset", phone=world.member_a.phone, now=later)
    assert error.value.code == "too_many_today"
    ask(session, sender, phone=NEW, now=later)  # another number is not affected
    ask(session, sender, purpose="reset", phone=world.member_a.phone, now=now + timedelta(hours=24, minutes=1))


def test_who_gets_a_message(session, world):
    """A taken number's owner hears that someone tried; a reset or claim for a number without an account
    sends nothing, but is written (and counted) all the same."""
    sender = FakeSender()
    ask(session, sender, phone=world.member_a.phone)
    ask(session, sender, purpose="reset", phone="13900000077")
    ask(session, sender, purpose="claim", phone=world.member_b.phone)
    assert [(p, t) for p, t, _ in sender.sent] == [(world.member_a.phone, "register_taken"),
                                                   (world.member_b.phone, "code")]
    assert len(session.exec(select(SmsCode)).all()) == 3


def test_a_failed_send_is_a_clear_error(session):
    with pytest.raises(CodeError) as error:
        ask(session, FakeSender(fail=True))
    assert error.value.code == "send_failed"


def test_a_bad_number_is_refused(session):
    with pytest.raises(CodeError) as error:
        ask(session, FakeSender(), phone="12345")
    assert error.value.code == "bad_phone"


# --- registration through the pages ----------------------------------------------------------------


def register_form(world, phone=NEW, code="000000", **overrides):
    return {"name": "周新人", "phone": phone, "password": "good password 1", "password2": "good password 1",
            "community": str(world.community.id), "consent": "y", "code": code, **overrides}


def test_registration_asks_for_the_number_then_the_code(client, world, session):
    community = world.community.id
    first = client.get("/register").get_data(as_text=True)
    assert "获取验证码" in first and 'name="password"' not in first
    response = client.post("/register/code", data={"phone": "139 1234 5678"})
    assert response.status_code == 303 and response.headers["Location"] == "/register"
    page = client.get("/register").get_data(as_text=True)
    assert "验证码已发送至139****5678" in page and 'autocomplete="one-time-code"' in page
    assert 'inputmode="numeric"' in page and 'value="13912345678"' in page and "重新发送" in page
    assert re.search(r'data-countdown="(5\d|60)"', page)
    code = sms_code(session, NEW)
    response = client.post("/register", data={**register_form(world, code=code), "community": str(community)})
    assert response.status_code == 303
    session.rollback()
    assert session.exec(select(Volunteer).where(Volunteer.phone == NEW)).one().consent_at is not None
    assert client.get("/").status_code == 200


def test_a_wrong_code_is_refused_and_counted(client, world, session):
    data = register_form(world)
    registration_code(client, session, NEW)
    pages = [client.post("/register", data=data) for _ in range(5)]
    assert [p.status_code for p in pages] == [400] * 5
    assert "验证码错误，请核对短信后重新输入（还可尝试4次）" in pages[0].get_data(as_text=True)
    assert "验证码错误次数过多" in pages[4].get_data(as_text=True)
    assert session.exec(select(SmsCode.tries)).one() == 5
    right = sms_code(session, NEW)
    refused = client.post("/register", data={**data, "code": right})
    assert refused.status_code == 400 and "验证码错误次数过多" in refused.get_data(as_text=True)


def test_no_code_asked_for(client, world):
    page = client.post("/register", data=register_form(world)).get_data(as_text=True)
    assert "请先点击“获取验证码”" in page


def test_a_stranger_registering_a_taken_number_learns_nothing(client, world, session):
    """The same pages as for a new number; the owner gets a text saying someone tried."""
    owner = world.member_a.phone
    taken = client.post("/register/code", data={"phone": owner})
    taken_page = client.get("/register").get_data(as_text=True)
    fresh_client = client.application.test_client()
    fresh = fresh_client.post("/register/code", data={"phone": "13900000066"})
    fresh_page = fresh_client.get("/register").get_data(as_text=True)
    assert (taken.status_code, taken.headers["Location"]) == (fresh.status_code, fresh.headers["Location"])

    def neutral(page):
        page = re.sub(r'"X-CSRFToken": "[^"]*"', "", re.sub(r'name="csrf_token"[^>]*>', "", page))
        return re.sub(r"1[3-9]\d(\*{4}|\d{4})\d{4}", "N", page)

    assert neutral(taken_page) == neutral(fresh_page)
    session.rollback()
    message = session.exec(select(SmsOutbox).where(SmsOutbox.phone == owner)).one()
    assert message.template == "register_taken"
    wrong = client.post("/register", data=register_form(world, phone=owner)).get_data(as_text=True)
    assert "验证码错误" in wrong and "已注册" not in wrong
    assert len(session.exec(select(Volunteer).where(Volunteer.phone == owner)).all()) == 1


def test_the_owner_who_types_the_code_is_told_the_number_is_registered(client, world, session):
    owner = world.member_a.phone
    data = register_form(world, phone=owner)
    code = registration_code(client, session, owner)
    page = client.post("/register", data={**data, "code": code}).get_data(as_text=True)
    assert "该手机号已注册" in page


def test_use_another_number(client, world, session):
    registration_code(client, session, NEW)
    assert "获取验证码" in client.get("/register?again=1").get_data(as_text=True)


# --- forgot password and claim -----------------------------------------------------------------------


def test_forgot_password_with_a_code(client, auth, world, session):
    phone, version = world.member_a.phone, world.member_a.session_version
    assert "找回密码" in client.get("/forgot").get_data(as_text=True)
    response = client.post("/forgot", data={"phone": phone})
    assert response.status_code == 303 and response.headers["Location"] == "/forgot/verify"
    page = client.get("/forgot/verify").get_data(as_text=True)
    assert "如果138****0003已注册，验证码已发送至该号码" in page and 'autocomplete="one-time-code"' in page
    code = sms_code(session, phone)
    response = client.post("/forgot/verify", data={"phone": phone, "code": code, "password": "a new password 9",
                                                   "password2": "a new password 9"})
    assert response.status_code == 303 and response.headers["Location"] == "/"
    person = session.exec(select(Volunteer).where(Volunteer.phone == phone)).one()
    assert check_password_hash(person.password_hash, "a new password 9") and person.session_version == version + 1
    auth.logout()
    assert auth.login(phone, "a new password 9").status_code == 302


def test_forgot_password_for_an_unknown_number_looks_the_same_and_sends_nothing(client, world, session):
    known = client.post("/forgot", data={"phone": world.member_a.phone})
    unknown = client.application.test_client().post("/forgot", data={"phone": "13900000055"})
    assert (known.status_code, known.headers["Location"]) == (unknown.status_code, unknown.headers["Location"])
    session.rollback()
    assert session.exec(select(SmsOutbox).where(SmsOutbox.phone == "13900000055")).first() is None
    assert session.exec(select(SmsCode).where(SmsCode.phone == "13900000055")).one().purpose == "reset"


def test_claiming_an_imported_account(client, auth, world, session):
    person = factories.make_volunteer(session, "导入队员", phone="13900000044", home_unit=world.community)
    person.password_hash, person.consent_at = NO_PASSWORD, None
    session.commit()
    assert auth.login("13900000044", "anything at all").status_code == 400  # no password yet
    client.post("/claim", data={"phone": "13900000044"})
    page = client.get("/claim/verify").get_data(as_text=True)
    assert "激活账号" in page and "隐私说明" in page
    data = {"phone": "13900000044", "code": sms_code(session, "13900000044"), "password": "my own password",
            "password2": "my own password"}
    refused = client.post("/claim/verify", data=data)
    assert refused.status_code == 400 and "请同意隐私说明" in refused.get_data(as_text=True)
    assert client.post("/claim/verify", data={**data, "consent": "y"}).status_code == 303
    session.rollback()
    claimed = session.get(Volunteer, person.id)
    assert claimed.consent_at is not None and claimed.password_hash != NO_PASSWORD
    auth.logout()
    assert auth.login("13900000044", "my own password").status_code == 302


def test_step_two_without_step_one_goes_back(client, world):
    assert client.get("/claim/verify").headers["Location"] == "/claim"
    assert client.get("/forgot/verify").headers["Location"] == "/forgot"


def test_a_weak_password_does_not_spend_a_try(client, world, session):
    client.post("/forgot", data={"phone": world.member_a.phone})
    response = client.post("/forgot/verify", data={"phone": world.member_a.phone, "code": "000000",
                                                   "password": "short", "password2": "short"})
    assert response.status_code == 400
    session.rollback()
    assert session.exec(select(SmsCode.tries)).one() == 0


def test_too_many_codes_today_is_explained(client, world, session):
    now = utcnow()
    for i in range(codes.CODES_PER_DAY):
        session.add(SmsCode(purpose="reset", phone=world.member_a.phone, code_hash="x",
                            created_at=now - timedelta(hours=2, minutes=i), expires_at=now - timedelta(hours=1)))
    session.commit()
    response = client.post("/forgot", data={"phone": world.member_a.phone})
    assert response.status_code == 400
    assert "该号码今天获取验证码的次数过多，请明天再试" in response.get_data(as_text=True)


def test_asking_again_within_a_minute_is_explained(client, world):
    client.post("/forgot", data={"phone": world.member_a.phone})
    again = client.post("/forgot", data={"phone": world.member_a.phone})
    assert again.status_code == 429 and "验证码刚刚已发送" in again.get_data(as_text=True)


def test_codes_are_rate_limited_per_number_and_translated(limited_config, client, world):
    answers = [client.post("/claim", data={"phone": world.member_b.phone},
                           environ_base={"REMOTE_ADDR": f"198.51.100.{i}"}).status_code for i in range(3)]
    assert answers[2] == 429
    page = client.post("/claim", data={"phone": world.member_b.phone}).get_data(as_text=True)
    assert "该号码获取验证码的次数过多" in page


def test_english_code_pages(client, world, session):
    client.set_cookie("lang", "en")
    client.post("/forgot", data={"phone": world.member_a.phone})
    page = client.get("/forgot/verify").get_data(as_text=True)
    assert "Code from the text message" in page and "Send again" in page and "If 138****0003 has an account" in page
    wrong = client.post("/forgot/verify", data={"phone": world.member_a.phone, "code": "000000",
                                                "password": "a new password 9", "password2": "a new password 9"})
    right = sms_code(session, world.member_a.phone)
    if right != "000000":
        assert "The code is wrong. Check the text message and try again (4 tries left)." in wrong.get_data(
            as_text=True)


# --- the outbox page --------------------------------------------------------------------------------


def test_the_office_reads_the_outbox_others_cannot(client, auth, world, session):
    client.post("/forgot", data={"phone": world.member_a.phone})
    code = sms_code(session, world.member_a.phone)
    auth.login(world.member_b.phone)
    assert client.get("/office/sms-outbox").status_code == 404
    auth.logout()
    auth.login(world.office.phone)
    page = client.get("/office/sms-outbox")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "未实际发送" in text and f"验证码{code}，5分钟内有效" in text and "138****0003" in text
    assert "13800000003" not in text


def test_the_outbox_is_gone_when_tencent_sends(make_app, world):
    app = make_app(SMS_PROVIDER="tencent", TENCENT_SECRET_ID="id", TENCENT_SECRET_KEY="key",
                   TENCENT_SMS_SDK_APP_ID="1400000000", TENCENT_SMS_SIGN_NAME="红马甲",
                   TENCENT_SMS_TEMPLATES="code=1001,register_taken=1002")
    client = app.test_client()
    client.post("/login", data={"phone": world.office.phone, "password": factories.PASSWORD})
    assert client.get("/office/sms-outbox").status_code == 404
    assert "短信发件箱" not in client.get("/").get_data(as_text=True)


def test_deleting_an_account_removes_the_codes_and_texts_to_its_number(client, world, session):
    from volunteer_app.privacy.service import delete_account

    client.post("/forgot", data={"phone": world.member_a.phone})
    client.post("/forgot", data={"phone": world.member_b.phone})
    session.rollback()
    delete_account(session=session, volunteer_id=world.member_a.id, password=factories.PASSWORD)
    session.commit()
    assert {row.phone for row in session.exec(select(SmsCode))} == {world.member_b.phone}
    assert {row.phone for row in session.exec(select(SmsOutbox))} == {world.member_b.phone}


def test_an_expired_code_is_explained(client, world, session):
    client.post("/forgot", data={"phone": world.member_a.phone})
    code = sms_code(session, world.member_a.phone)
    for row in session.exec(select(SmsCode)):
        row.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    response = client.post("/forgot/verify", data={"phone": world.member_a.phone, "code": code,
                                                   "password": "a new password 9", "password2": "a new password 9"})
    assert response.status_code == 400 and "验证码已过期，请点击“重新发送”" in response.get_data(as_text=True)
