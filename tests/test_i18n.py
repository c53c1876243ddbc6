"""Translations are complete: every message in the code and templates has a Chinese translation.

Messages are extracted with Babel's own API and the methods of babel.cfg, exactly as
`make messages` does, then looked up in every domain's catalog (the catalogs are merged at
run time, so a message may be translated in any of them).
"""
from __future__ import annotations

import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po, write_po

from volunteer_app import ROOT, create_app
from volunteer_app.i18n import CATALOG, TRANSLATIONS, compile_catalogs

KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
SOURCE_DIRS = ("volunteer_app", "templates")
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


def extracted_messages() -> dict[str, list[str]]:
    """msgid → where it occurs ("path:line"), for every message in the code and templates."""
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found: dict[str, list[str]] = {}
    for directory in SOURCE_DIRS:
        for filename, lineno, message, _comments, _context in extract_from_dir(
            str(ROOT / directory), method_map, options_map, keywords=KEYWORDS
        ):
            msgids = message if isinstance(message, tuple) else (message,)
            for msgid in msgids[:1]:  # the plural form is keyed by its singular
                if msgid:
                    found.setdefault(msgid, []).append(f"{directory}/{filename}:{lineno}")
    return found


def catalog_paths() -> list[Path]:
    return sorted(TRANSLATIONS.glob("*/zh_Hans_CN/LC_MESSAGES/messages.po"))


def load_catalogs() -> dict[str, object]:
    """area name → Babel catalog."""
    catalogs = {}
    for path in catalog_paths():
        with path.open("rb") as fh:
            catalogs[path.parents[2].name] = read_po(fh, locale="zh_Hans_CN")
    return catalogs


def translated(message) -> bool:
    strings = message.string if isinstance(message.string, (list, tuple)) else (message.string,)
    return bool(strings) and all(s and s.strip() for s in strings)


def singular(message) -> str:
    return message.id[0] if isinstance(message.id, (list, tuple)) else message.id


def test_there_is_something_to_check():
    """Guards the guard: extraction and catalog discovery really find things."""
    messages = extracted_messages()
    assert "Log in" in messages and "Bad request" in messages
    assert "core" in load_catalogs()


def test_every_message_has_a_chinese_translation():
    catalogs = load_catalogs()
    translations: dict[str, bool] = {}
    for catalog in catalogs.values():
        for message in catalog:
            if message.id and not message.fuzzy:
                translations[singular(message)] = translations.get(singular(message), False) or translated(message)
    missing = [
        f"{msgid!r} ({', '.join(places[:3])})"
        for msgid, places in sorted(extracted_messages().items())
        if not translations.get(msgid)
    ]
    assert not missing, (
        "messages without a Chinese translation in any volunteer_app/translations/*/zh_Hans_CN catalog "
        "(run `make messages AREA=... DIRS=...` and fill msgstr):\n  " + "\n  ".join(missing)
    )


def test_no_fuzzy_entries():
    fuzzy = [
        f"{area}: {singular(message)!r}"
        for area, catalog in load_catalogs().items()
        for message in catalog
        if message.id and message.fuzzy
    ]
    assert not fuzzy, "fuzzy entries (check the translation, then remove the fuzzy flag):\n  " + "\n  ".join(fuzzy)


def test_a_message_in_two_catalogs_is_translated_the_same_way():
    """The catalogs are merged at run time; two different translations would show one of them at random."""
    seen: dict[str, tuple[str, object]] = {}
    conflicts = []
    for area, catalog in load_catalogs().items():
        for message in catalog:
            if not message.id or not translated(message):
                continue
            key = singular(message)
            if key in seen and seen[key][1] != message.string:
                conflicts.append(f"{key!r}: {seen[key][0]}={seen[key][1]!r} vs {area}={message.string!r}")
            seen.setdefault(key, (area, message.string))
    assert not conflicts, "one message, two translations:\n  " + "\n  ".join(conflicts)


class VisibleText(HTMLParser):
    """Collects the text a person sees, leaving out scripts, styles and elements marked lang="zh-CN"."""

    SKIP = {"script", "style", "template"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []
        self.parts: list[str] = []
        self.attribute_texts: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("title", "placeholder", "aria-label", "alt", "value"):
            if attrs.get(name) and not (tag == "input" and attrs.get("type") == "hidden"):
                self.attribute_texts.append(attrs[name])
        if tag in self.VOID:
            return
        hidden = tag in self.SKIP or (attrs.get("lang") or "").lower().startswith("zh")
        self.stack.append((tag, hidden))

    def handle_endtag(self, tag):
        while self.stack:
            open_tag, _hidden = self.stack.pop()
            if open_tag == tag:
                break

    def handle_data(self, data):
        if not any(hidden for _tag, hidden in self.stack):
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join(parser.parts + parser.attribute_texts)


@pytest.mark.parametrize("path", ["/login", "/does-not-exist", "/verify", "/verify/ABCDE12345", "/register", "/forgot",
                                  "/claim"])
def test_english_pages_show_no_chinese_except_the_language_switch(client, path):
    client.set_cookie("lang", "en")
    response = client.get(path)
    html = response.get_data(as_text=True)
    assert 'lang="zh-CN">中文</a>' in html  # the switch back to Chinese is the one Chinese word allowed
    text = visible_text(html)
    assert "Red Vest" in text
    assert not CJK.findall(text), f"Chinese on the English page {path}: {sorted(set(CJK.findall(text)))}"


def test_the_visible_text_check_can_fail():
    assert CJK.findall(visible_text('<p>Log in <b>登录</b></p><a lang="zh-CN">中文</a>')) == ["登", "录"]


# --- the catalogs compile themselves: a deployment that never ran a build step still speaks Chinese ----------


def fresh_app(tmp_path, monkeypatch, compiled):
    monkeypatch.setenv("VOLUNTEER_APP_INSTANCE", str(tmp_path / "instance"))
    return create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}", "SECRET_KEY": "k",
                       "COMPILED_TRANSLATIONS": str(compiled)})


def test_an_app_without_compiled_catalogs_compiles_them_and_serves_chinese(tmp_path, monkeypatch):
    compiled = tmp_path / "compiled"
    assert not compiled.exists()
    html = fresh_app(tmp_path, monkeypatch, compiled).test_client().get("/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert "<h1>登录</h1>" in html and "<h1>Log in</h1>" not in html
    assert {p.parent.parent.parent.name for p in compiled.glob(f"*/*/{CATALOG}.mo")} == \
        {p.parent.parent.parent.name for p in TRANSLATIONS.glob(f"*/*/{CATALOG}.po")}


def test_the_default_compiles_into_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("VOLUNTEER_APP_INSTANCE", str(tmp_path / "instance"))
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}", "SECRET_KEY": "k"})
    assert "<h1>登录</h1>" in app.test_client().get("/login").get_data(as_text=True)
    assert list((tmp_path / "instance" / "translations").glob(f"*/*/{CATALOG}.mo"))


def test_an_unwritable_compiled_folder_falls_back_to_a_cache_of_the_app(tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("not a folder")
    app = fresh_app(tmp_path, monkeypatch, tmp_path / "a-file" / "compiled")
    assert "<h1>登录</h1>" in app.test_client().get("/login").get_data(as_text=True)


def test_a_changed_catalog_is_compiled_again_and_an_unchanged_one_is_not(tmp_path):
    source, compiled = tmp_path / "source", tmp_path / "compiled"
    shutil.copytree(TRANSLATIONS, source, ignore=shutil.ignore_patterns("*.mo"))
    compile_catalogs(source, compiled)
    po = next(source.glob(f"core/*/{CATALOG}.po"))
    mo = compiled / po.relative_to(source).with_suffix(".mo")
    other = next(p for p in compiled.glob(f"*/*/{CATALOG}.mo") if p != mo)
    before = other.stat().st_ino
    with po.open("rb") as fh:
        catalog = read_po(fh)
    msgid = next(m.id for m in catalog if m.id and isinstance(m.id, str))
    catalog[msgid].string = "改过的译文"
    with po.open("wb") as fh:
        write_po(fh, catalog)
    compile_catalogs(source, compiled)
    with mo.open("rb") as fh:
        assert read_mo(fh)[msgid].string == "改过的译文"
    assert other.stat().st_ino == before  # left alone


def test_workers_starting_together_each_read_whole_catalogs(tmp_path):
    compiled = tmp_path / "compiled"
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda _: compile_catalogs(TRANSLATIONS, compiled), range(6)))
    for mo in compiled.glob(f"*/*/{CATALOG}.mo"):
        with mo.open("rb") as fh:
            assert len(read_mo(fh)) > 1, mo
    assert not list(compiled.rglob(".messages-*"))  # no temporary file left behind
