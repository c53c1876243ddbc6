"""Hostile input never gets a 500: every route, as each kind of person, with odd values in the URL
(NUL, emoji, 5,000 characters, zero-width space, path tricks, a formula, markup, ids past 64 bits)
and the same odd values in every form field the routes read."""
from __future__ import annotations

import itertools

import pytest

from volunteer_app import tokens

from . import factories

SECRET = "test-secret-key-not-for-production"
ODD_TEXT = ["\x00", "😀" * 40, "a" * 5000, "..%2F..%2Fetc", "\u200b", "%", "=1+1", "<script>x</script>",
            "r1.1." + "A" * 16, "9" * 30, "-1", "1e309", "NaN"]
ODD_INTS = [0, 2**31, 2**63, 10**30]
FORM_FIELDS = ("volunteer", "activity", "minutes", "team", "unit", "community", "district", "street", "reason",
               "q", "action", "title", "name", "phone", "password", "kind", "days", "starts_at", "ends_at",
               "theme", "lat", "lng", "acc", "page", "back")


def odd_paths(app, real_ids: dict[str, int]):
    """(rule, method, path) for every route: odd values in its arguments, and real ids with odd form values."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        converters = {name: type(rule._converters[name]).__name__ for name in rule.arguments}
        variants = []
        for text_value, int_value in zip(ODD_TEXT, itertools.cycle(ODD_INTS)):
            variants.append({name: int_value if "Integer" in kind else text_value
                             for name, kind in converters.items()})
        if not converters or any("Integer" in kind for kind in converters.values()):
            # the real objects, so that the handlers themselves read every odd form value
            variants += [{name: real_ids.get(name, 1) if "Integer" in kind else text_value
                          for name, kind in converters.items()} for text_value in ("approve", "x")] \
                * (len(ODD_TEXT) // 2 + 1)
        for values in variants:
            try:
                path = rule.build(values, append_unknown=False)[1]
            except Exception:  # a converter that refuses the value cannot be requested either
                continue
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method, path


@pytest.mark.parametrize("who", [None, "member_a", "leader_a", "office"])
def test_no_route_answers_500_to_odd_input(app, client, world, session, who):
    activity = factories.make_activity(session, world.team_a, status="open")
    attendance = factories.make_attendance(session, activity, world.member_a, minutes=0)
    membership_id = factories.add_member(session, world.team_a, world.volunteer, status="pending").id
    session.commit()
    if who is not None:
        person = getattr(world, who)
        with client.session_transaction() as http_session:
            http_session["_user_id"] = f"{person.id}:1"
            http_session["_fresh"] = True
    token = tokens.rotating_token(secret_key=SECRET, activity_id=activity.id, activity_secret=activity.secret)
    crashes, tried = [], 0
    real_ids = {"team_id": world.team_a.id, "activity_id": activity.id, "attendance_id": attendance.id,
                "volunteer_id": world.member_a.id, "membership_id": membership_id, "photo_id": 1, "job_id": 1}
    for index, (rule, method, path) in enumerate(odd_paths(app, real_ids)):
        value = ODD_TEXT[index % len(ODD_TEXT)]
        data = {name: value for name in FORM_FIELDS} if method == "POST" else None
        query = {name: value for name in ("page", "q", "unit", "team", "theme", "from", "to", "kind")}
        response = client.open(path, method=method, data=data, query_string=query if method == "GET" else None)
        response.get_data()
        response.close()
        tried += 1
        if response.status_code >= 500:
            crashes.append(f"{method} {path[:90]} -> {response.status_code}")
        if who is not None and rule.endpoint == "accounts.logout":
            with client.session_transaction() as http_session:  # stay logged in for the rest of the walk
                http_session["_user_id"] = f"{getattr(world, who).id}:1"
                http_session["_fresh"] = True
    # The real activity's code with odd form values, too.
    response = client.post(f"/c/{token}", data={"action": "\x00", "activity": "9" * 40, "lat": "NaN",
                                                "lng": "Infinity", "acc": "-1"})
    if response.status_code >= 500:
        crashes.append(f"POST /c/<token> with odd form values -> {response.status_code}")
    assert tried > 200
    assert not crashes, "\n  ".join(["server errors:", *crashes])
