"""Chinese by default, English by the switch in the header, remembered per user; catalogs complete."""

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from conftest_pages import Browser, browser_fixture, csrf_from, start_request  # noqa: F401 - the browser fixture

import engine
from web.extensions import db

TRANSLATIONS = Path(__file__).resolve().parents[2] / "web" / "translations"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "N_": None}


def catalog(language):
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", "rb") as file:
        return read_po(file, locale=language)


@pytest.fixture(autouse=True, scope="module")
def compiled_catalogs():
    """`make test` compiles the catalogs first; a bare `pytest` gets them compiled here."""
    for language in ("zh", "en"):
        folder = TRANSLATIONS / language / "LC_MESSAGES"
        po, mo = folder / "messages.po", folder / "messages.mo"
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with open(mo, "wb") as file:
                write_mo(file, catalog(language))


def switch(client, html, language, next_url="/"):
    return client.post(
        "/language", data={"language": language, "next": next_url, "csrf_token": csrf_from(html)}
    )


def test_chinese_is_the_default(client):
    page = client.get("/login")
    assert '<html lang="zh-Hant">' in page.text
    assert "登入" in page.text


def test_the_switch_changes_the_language_for_an_anonymous_visitor(client):
    response = switch(client, client.get("/login").text, "en", "/login")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    page = client.get("/login")
    assert '<html lang="en">' in page.text
    assert "Log in" in page.text
    assert "登入" not in page.text.replace('lang="zh-Hant">中文', "")


def test_the_choice_is_remembered_for_the_user(app, browser):
    alice = browser("alice", "business")
    assert "待辦事項" in alice.get("/").text
    switch(alice.client, alice.get("/").text, "en")
    page = alice.get("/")
    assert "Inbox" in page.text
    assert "My tasks" in page.text
    assert "Business departments" in page.text  # group names follow too
    with app.app_context():
        assert engine.get_user_by_name(db.session, "alice").locale == "en"

    again = Browser(app, "alice")  # a new browser: nothing in its session
    assert "My tasks" in again.get("/").text
    switch(again.client, again.get("/").text, "zh")
    assert "我的任務" in again.get("/").text


def test_an_unknown_language_is_refused(browser):
    alice = browser("alice", "business")
    assert alice.post_form("/language", {"language": "fr"}).status_code == 400


def test_error_pages_and_validation_messages_speak_the_users_language(app, browser):
    alice = browser("alice", "business")
    switch(alice.client, alice.get("/").text, "en")
    page = alice.get("/instances/999")
    assert page.status_code == 404
    assert "This instance was not found." in page.text
    form = alice.get("/requests/new").text
    assert "This field is required." in form  # form-js's messages, as form.js shows them


def test_a_document_is_labelled_in_english_where_its_form_says_so(app, browser):
    """The form's `label_en` reached the task form only: the request's document page (and so its
    PDF and the instance page) labelled its fields 需求標題, 軟件系統 for English readers."""
    alice = browser("alice", "business")
    instance_id = start_request(app, "alice")
    page = f"/instances/{instance_id}/documents/requirement_request"
    assert "需求標題" in alice.get(page).text
    switch(alice.client, alice.get("/").text, "en")
    english = alice.get(page).text
    assert "需求標題" not in english and "Title" in english and "Software system" in english


def test_a_refused_filter_or_form_is_named_in_the_readers_language(app, browser):
    """Pages showed marshmallow's English and a Python dict (`{'page': ['Not a valid integer.']}`)
    to Chinese readers; the engine's "中文 / English" messages whole."""
    admin = browser("root", admin=True)
    page = admin.get("/instances?page=abc")
    assert page.status_code == 400 and "篩選條件有誤" in page.text and "請輸入整數" in page.text
    assert "{&#39;page&#39;" not in page.text and "Not a valid integer" not in page.text.split("技術細節")[0]
    ivan = browser("ivan", "it")
    ivan.post_form("/plans", {"year": "1999", "budget_ceiling": "1", "owner": "ivan"})
    said = ivan.get("/plans").text  # a range, said whole: its first half was taken for a bound
    assert "輸入有誤：year：須在 2000 至 2100 之間" in said and "less than" not in said
    browser("bob", "business")
    instance_id = start_request(app, "bob")
    alice = browser("alice", "finance")
    records = f"/instances/{instance_id}/records"
    refused = alice.post_form(
        f"/instances/{instance_id}/costs", {"category": "fees", "amount": "abc", "spent_on": "x"}
    )
    assert refused.status_code == 303
    said = alice.get(records).text
    assert "費用未記錄：" in said and "金額(元)：請輸入數字" in said and "支出日期：請輸入有效日期" in said
    assert "類別：須為以下之一" in said and "Must be one of" not in said
    switch(alice.client, alice.get("/").text, "en")
    refused = alice.post_form(
        f"/instances/{instance_id}/costs", {"category": "licences", "amount": "-5", "spent_on": "2026-03-01"}
    )
    assert refused.status_code == 303  # back to the page, which says why, in English
    said = alice.get(records).text
    assert "The cost was not recorded: Amount (yuan): must be a positive amount" in said
    assert "金額須大於零" not in said


def test_every_message_has_an_english_translation_and_the_catalogs_are_current():
    found = extract_from_dir(
        str(TRANSLATIONS.parent),
        method_map=[("**.py", "python"), ("**/templates/**.html", "jinja2")],
        keywords=KEYWORDS,
    )
    extracted = {message[0] if isinstance(message, tuple) else message for _, _, message, _, _ in found}
    english = catalog("en")
    chinese = catalog("zh")
    known = {m.id[0] if isinstance(m.id, tuple) else m.id for m in english if m.id}
    assert extracted - known == set(), "run `make messages` and translate the new text"
    for message in english:
        if message.id:
            assert message.string and all(message.string), f"no English for {message.id!r}"
            assert "fuzzy" not in message.flags, f"fuzzy English for {message.id!r}"
    assert {m.id for m in chinese if m.id} == {m.id for m in english if m.id}


def test_each_app_counts_its_days_in_its_own_zone(monkeypatch):
    """The zone was the engine's, set by the last app built: a second app for Los Angeles moved
    the first one's today back a day (and every test after it)."""
    from datetime import UTC, datetime

    from engine.clock import local_day
    from web import create_app
    from web.extensions import engine_clock

    moment = engine.ManualClock(datetime(2026, 5, 1, 17, 30, tzinfo=UTC))  # 01:30 on 2 May in Hong Kong
    apps = []
    for zone in ("Asia/Hong_Kong", "America/Los_Angeles"):
        monkeypatch.setenv("UPGRADEFLOW_TIMEZONE", zone)
        apps.append(
            create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://", "ENGINE_CLOCK": moment})
        )
    days = []
    for app in apps:
        with app.app_context():
            days.append(local_day(engine_clock()).isoformat())
    assert days == ["2026-05-02", "2026-05-01"]
