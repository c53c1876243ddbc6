"""Forms labelled and errors announced (issue 17 point 7): every field has a label; an error is tied to its field
(aria-invalid, aria-describedby) and announced (role=alert); help text is tied too. The focus on the first invalid
field and the errors that go once fixed are browser behaviour: tests/browser/test_large_text.py."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest


class Fields(HTMLParser):
    """The form fields of a page, its labels' targets and the ids of every element with their attributes."""

    def __init__(self):
        super().__init__()
        self.fields, self.label_for, self.by_id = [], set(), {}
        self._label_depth = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.by_id[attrs["id"]] = (tag, attrs)
        if tag == "label":
            self._label_depth += 1
            if attrs.get("for"):
                self.label_for.add(attrs["for"])
        if tag in ("input", "select", "textarea") and attrs.get("type") not in ("hidden", "submit", "button"):
            self.fields.append((attrs, self._label_depth > 0))

    def handle_endtag(self, tag):
        if tag == "label":
            self._label_depth -= 1


def parse(page: str) -> Fields:
    parser = Fields()
    parser.feed(page)
    return parser


@pytest.mark.parametrize("path", ["/login", "/register"])
def test_every_field_has_a_label(client, path):
    for method in ("get", "post"):
        page = parse(getattr(client, method)(path, data={} if method == "post" else None).get_data(as_text=True))
        unlabelled = [a for a, wrapped in page.fields if not wrapped and a.get("id") not in page.label_for
                      and not a.get("aria-label")]
        assert page.fields and unlabelled == []


def test_errors_of_an_empty_registration_are_tied_to_their_fields_and_announced(client):
    response = client.post("/register", data={})
    assert response.status_code == 400
    page = parse(response.get_data(as_text=True))
    invalid = [a for a, _wrapped in page.fields if a.get("aria-invalid") == "true"]
    names = {a["name"] for a in invalid}
    assert {"name", "phone", "password", "password2", "community", "consent"} <= names
    for attrs in invalid:
        tag, error = page.by_id[attrs["aria-describedby"]]
        assert error.get("role") == "alert" and "field-error" in error.get("class", ""), attrs["name"]


def test_help_text_is_tied_to_its_field(client):
    page = parse(client.get("/register").get_data(as_text=True))
    phone = next(a for a, _w in page.fields if a["name"] == "phone")
    assert phone["aria-describedby"] == "phone-help" and "phone-help" in page.by_id
    assert re.search(r'id="phone-help"', client.get("/register").get_data(as_text=True))
