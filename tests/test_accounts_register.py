"""Registration: phone normalisation, duplicates, names, consent, the unit picker, rate limits.

The code sent by SMS is tested in tests/test_accounts_codes.py; here a test that must succeed first asks for
a code (helpers.registration_code) and the others send a wrong one: every other rule is checked before it."""
from __future__ import annotations

import pytest
from sqlmodel import select

from volunteer_app.models import Volunteer

from . import factories
from .helpers import registration_code


def form(world, **overrides):
    data = {"name": "周新人", "phone": "13912345678", "password": "good password 1", "password2": "good password 1",
            "community": str(world.community.id), "consent": "y", "code": "000000"}
    data.update(overrides)
    return data


def coded(client, session, data):
    """The form with the real code sent to its number."""
    return {**data, "code": registration_code(client, session, data["phone"])}


def test_register_creates_the_account_and_logs_in(client, world, session):
    response = client.post("/register", data=coded(client, session, form(world)))
    assert response.status_code == 303
    volunteer = session.exec(select(Volunteer).where(Volunteer.phone == "13912345678")).one()
    assert volunteer.name == "周新人" and volunteer.home_unit_id == world.community.id
    assert volunteer.consent_at is not None and volunteer.password_hash.startswith(("scrypt", "pbkdf2", "argon2"))
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("typed", ["+86 139-1234-5678", "0086 13912345678", "１３９１２３４５６７８", "139 1234 5678"])
def test_phone_forms_are_normalised(client, world, session, typed):
    assert client.post("/register", data=coded(client, session, form(world, phone=typed))).status_code == 303
    assert session.exec(select(Volunteer.phone).where(Volunteer.name == "周新人")).one() == "13912345678"


@pytest.mark.parametrize("typed", ["1391234567", "139123456789", "23912345678", "abc", "13912345678\u200b"])
def test_bad_phones_get_a_message(client, world, typed):
    response = client.post("/register", data=form(world, phone=typed))
    assert response.status_code == 400
    assert "请输入11位中国大陆手机号" in response.get_data(as_text=True)


def test_number_already_registered_in_another_format(client, world, session):
    """The stranger is told a code was sent, as for a new number; without the owner's code nothing more."""
    client.post("/register/code", data={"phone": "+86 138 0000 0003"})
    response = client.post("/register", data=form(world, phone="+86 138 0000 0003"))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "验证码错误" in page and "已注册" not in page
    assert session.exec(select(Volunteer).where(Volunteer.phone == "13800000003")).all().__len__() == 1


@pytest.mark.parametrize("name", ["", "   ", "张\u200b三", "张\u202e三", "a" * 41, "张\x00三", "张\x07三"])
def test_bad_names_are_refused(client, world, session, name):
    response = client.post("/register", data=form(world, name=name))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "姓名" in page and ("请输入" in page or "不可见" in page or "过长" in page)
    assert session.exec(select(Volunteer).where(Volunteer.phone == "13912345678")).first() is None


def test_names_are_trimmed(client, world, session):
    client.post("/register", data=coded(client, session, form(world, name="  周新人  ")))
    assert session.exec(select(Volunteer.name).where(Volunteer.phone == "13912345678")).one() == "周新人"


def test_script_in_a_name_is_shown_as_text(client, world, session):
    client.post("/register", data=coded(client, session, form(world, name="<script>x</script>")))
    page = client.get("/").get_data(as_text=True)
    assert "<script>x</script>" not in page and "&lt;script&gt;" in page


def test_consent_is_required(client, world, session):
    data = form(world)
    del data["consent"]
    response = client.post("/register", data=data)
    assert response.status_code == 400
    assert "请同意隐私说明" in response.get_data(as_text=True)
    assert session.exec(select(Volunteer).where(Volunteer.phone == "13912345678")).first() is None


@pytest.mark.parametrize("community", ["", "abc", "999999", "-1", "１"])
def test_community_must_be_a_real_community(client, world, community):
    response = client.post("/register", data=form(world, community=community))
    assert response.status_code == 400
    assert "请从列表中选择您所在的社区" in response.get_data(as_text=True)


def test_a_street_is_not_a_home_unit(client, world):
    response = client.post("/register", data=form(world, community=str(world.street.id)))
    assert response.status_code == 400


def test_passwords_must_match_and_be_long_enough(client, world):
    assert client.post("/register", data=form(world, password2="other password")).status_code == 400
    assert client.post("/register", data=form(world, password="short", password2="short")).status_code == 400


def test_unit_picker_narrows_by_district(client, world, session):
    registration_code(client, session, "13912345678")
    page = client.get("/register").get_data(as_text=True)
    assert "清和社区" in page and "永安社区" in page  # without script every community is listed, grouped
    fragment = client.get(f"/register/units?district={world.district2.id}", headers={"HX-Request": "true"})
    text = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in text
    assert "永安社区" in text and "清和社区" not in text and "友谊路街道" in text and "南市街道" not in text


def test_unit_picker_without_htmx_goes_to_the_form(client, world):
    response = client.get("/register/units?district=1")
    assert response.status_code == 302


@pytest.mark.parametrize("query", ["district=abc", "district=1&district=2", "street=99999", "district=%EF%BC%91"])
def test_unit_picker_tolerates_odd_queries(client, world, query):
    response = client.get(f"/register/units?{query}", headers={"HX-Request": "true"})
    assert response.status_code == 200


def test_unit_picker_refuses_control_characters(client, world):
    assert client.get("/register/units?district=%00", headers={"HX-Request": "true"}).status_code == 400


def test_logged_in_people_are_sent_home(client, auth, world):
    auth.login("13800000003")
    assert client.get("/register").status_code == 302


def test_registration_is_rate_limited_with_a_translated_page(limited_config, client, world):
    """Per number (and address): other numbers from the same address go on (tests/test_security_ratelimits.py)."""
    answers = [client.post("/register", data=form(world, phone="13912340000", name="")).status_code
               for i in range(11)]
    assert answers[:10] == [400] * 10 and answers[10] == 429
    page = client.post("/register", data=form(world, phone="13912340000")).get_data(as_text=True)
    assert "尝试次数过多" in page and "用此号码注册的尝试次数过多" in page
    assert client.post("/register", data=form(world)).status_code != 429


def test_csrf_is_required(make_app, world):
    response = make_app(WTF_CSRF_ENABLED=True).test_client().post("/register", data=form(world))
    assert response.status_code == 400


def test_account_created_by_factories_can_still_log_in(client, auth, world):
    assert auth.login(world.member_a.phone, factories.PASSWORD).status_code == 302


def test_the_same_registration_sent_many_times_at_once_makes_one_account(app, world, session):
    import threading

    barrier = threading.Barrier(8)
    answers = []
    data = coded(app.test_client(), session, form(world))

    def register():
        client = app.test_client()
        barrier.wait()
        answers.append(client.post("/register", data=data).status_code)

    threads = [threading.Thread(target=register) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(answers) == [303] + [400] * 7  # the others find the code used
    session.rollback()
    assert len(session.exec(select(Volunteer).where(Volunteer.phone == "13912345678")).all()) == 1


def test_all_field_errors_show_at_once(client, world):
    data = form(world, name="", phone="12345", password2="different one")
    del data["consent"]
    page = client.post("/register", data=data).get_data(as_text=True)
    for message in ("请输入姓名", "请输入11位中国大陆手机号", "两次输入的密码不一致", "请同意隐私说明"):
        assert message in page, message
