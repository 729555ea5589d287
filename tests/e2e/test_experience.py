"""What staff meet in the browser besides the procedure: their language, phone-width pages,
labels for screen readers, empty states and error pages that say what happened."""

import re

from browser_staff import Staff, start_instance, walk_to
from e2e_config import PASSWORD
from formfill import fill_form
from playwright.sync_api import expect

import engine
from web.extensions import db

UNNAMED = re.compile(r"^\s*- (textbox|button|link|combobox|checkbox|radio)\s*(?::|$)", re.MULTILINE)


def log_in(page, live, username):
    staff = Staff(page, live, PASSWORD)
    staff.log_in(username)
    return staff


def test_chinese_by_default_english_by_a_switch_remembered_for_the_user(open_page, live):
    instance_id = start_instance(live, username="reader")
    walk_to(live, instance_id, "risk_identification")
    page = open_page()
    page.goto(live.url + "/login")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")
    log_in(page, live, "reader")
    page.goto(f"{live.url}/instances/{instance_id}")
    expect(page.locator(".meta time").first).to_contain_text(re.compile("上午|下午"))
    expect(page.locator("#data-requirement_analysis")).to_contain_text("50,000")  # a number, grouped

    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(f"{live.url}/instances/{instance_id}")  # the same page, in English
    expect(page.get_by_role("navigation", name="Main")).to_contain_text("Inbox")
    expect(page.locator(".meta time").first).to_contain_text(re.compile("AM|PM"))
    expect(page.locator("#data-requirement_analysis")).to_contain_text("50,000")

    # Another browser, another day: the choice comes with the user, not the cookie.
    page = open_page()
    page.goto(live.url + "/login")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")
    page.get_by_label("用戶名").fill("reader")
    page.get_by_label("密碼").fill(PASSWORD)
    page.locator(".login__card").get_by_role("button").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    with live.app.app_context():
        assert engine.get_user_by_name(db.session, "reader").locale == "en"

    # A form that carries English labels shows them; the request form does.
    page.get_by_role("link", name="New request").click()
    expect(page.locator("#form-root .fjs-form")).to_be_visible()
    expect(page.locator("#form-root label").filter(has_text="Expected effect")).to_have_count(1)
    expect(page.locator(".form-actions button")).to_have_text("Submit request")
    page.locator("#form-submit").click()  # form-js's own messages are in English too
    expect(page.locator(".fjs-form-field-error").first).to_contain_text("This field is required")


def test_pages_fit_a_phone_and_name_their_controls(open_page, live, artifacts):
    instance_id = start_instance(live)
    walk_to(live, instance_id, "requirement_analysis")
    page = open_page(width=375, height=740)
    page.goto(live.url + "/login")
    assert page_problems(page) == [], "login"
    page.screenshot(path=artifacts / "phone-login.png", full_page=True)
    staff = log_in(page, live, "it")
    task = staff.task(instance_id, "requirement_analysis")
    pages = {
        "inbox": "/",
        "instances": "/instances",
        "instance": f"/instances/{instance_id}",
        "task": f"/tasks/{task.id}?instance={instance_id}",
    }
    if live.has_route("/dashboard"):
        pages["dashboard"] = "/dashboard"
    for name, path in pages.items():
        page.goto(live.url + path)
        if path.startswith("/tasks"):
            expect(page.locator("#form-root .fjs-form")).to_be_visible()
        if name == "instance":
            expect(page.locator("#diagram[data-ready=true]")).to_be_visible()
        assert page_problems(page) == [], name
        page.screenshot(path=artifacts / f"phone-{name}.png", full_page=True)
        if name == "dashboard":
            page.set_viewport_size({"width": 1280, "height": 900})
            page.screenshot(path=artifacts / "dashboard.png", full_page=True)
            page.set_viewport_size({"width": 375, "height": 740})


FILES = (".csv", ".pdf", ".json", ".zip", ".xml")


def test_every_page_fits_a_phone_and_names_its_controls(open_page, live):
    """Every page that needs no parameters, as the admin (who may open them all)."""
    instance_id = start_instance(live)
    walk_to(live, instance_id, "requirement_analysis")
    rules = sorted(
        {
            rule.rule
            for rule in live.app.url_map.iter_rules()
            if "GET" in rule.methods
            and not rule.arguments
            and not rule.rule.startswith(("/api/", "/static/", "/login"))
            and not rule.rule.endswith(FILES)
        }
    )
    assert {"/", "/instances", "/requests/new"} <= set(rules)
    page = open_page(width=375, height=740)
    log_in(page, live, "admin")
    for path in [*rules, f"/instances/{instance_id}"]:
        response = page.goto(live.url + path)
        page.wait_for_load_state("networkidle")
        assert response.status == 200, path
        problems = page_problems(page)
        assert problems == [], f"{path}: {problems}"


def page_problems(page) -> list[str]:
    """What keeps a phone or a screen reader from using the page."""
    problems = []
    width = page.evaluate("document.scrollingElement.scrollWidth")
    if width > 375:
        problems.append(f"scrolls sideways: {width}px")
    snapshot = page.locator("body").aria_snapshot()
    if "- main" not in snapshot or not re.search(r"heading .*\[level=1\]", snapshot):
        problems.append("no main landmark or no level-1 heading")
    problems += [f"a {role} without a name" for role in UNNAMED.findall(snapshot)]
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea')]
             .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
             .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                           && !el.getAttribute('aria-labelledby'))
             .map(el => el.id || el.name)"""
    )
    problems += [f"input {name!r} without a label" for name in unlabelled]
    return problems


def test_empty_states_say_what_to_do(page, live):
    log_in(page, live, "newcomer")
    expect(page.get_by_text("目前沒有分配給您的任務。")).to_be_visible()
    expect(page.get_by_text("您不屬於任何部門，因此沒有部門任務。")).to_be_visible()
    expect(page.get_by_text("您目前沒有進行中的申請。")).to_be_visible()
    expect(page.locator('.main-nav a[href="/"] .badge')).to_have_count(0)
    page.goto(live.url + "/instances?status=terminated")
    expect(page.locator(".empty")).to_contain_text("沒有符合篩選條件的流程實例。")
    page.locator(".empty a").click()
    expect(page).to_have_url(live.url + "/instances")


def test_not_found_and_forbidden_pages(page, live):
    instance_id = start_instance(live)
    walk_to(live, instance_id, "preliminary_review")
    staff = log_in(page, live, "business")
    page.expect_statuses({403, 404})

    response = page.goto(f"{live.url}/instances/999999")
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("找不到頁面")
    expect(page.locator(".error-page__text")).to_have_text("找不到此流程實例。")
    expect(page.get_by_role("link", name="返回待辦事項")).to_be_visible()

    # IT's task, opened by the business (an old link, a forwarded e-mail): not theirs to see.
    task = staff.task(instance_id, "preliminary_review")
    response = page.goto(f"{live.url}/tasks/{task.id}?instance={instance_id}")
    assert response.status == 403
    expect(page.locator("h1")).to_have_text("無權執行此操作")
    expect(page.locator(".error-page__text")).to_contain_text("不屬於您的部門")
    expect(page.locator("#form-root")).to_have_count(0)


def test_someone_else_just_completed_this_task(open_page, live):
    instance_id = start_instance(live)
    walk_to(live, instance_id, "preliminary_review")
    first, second = open_page(), open_page()
    first_staff, second_staff = log_in(first, live, "it"), log_in(second, live, "it2")
    task = first_staff.task(instance_id, "preliminary_review")
    schema, values = first_staff.form(task, "it")
    data = first_staff.data_for(task, values)
    for staff in (first_staff, second_staff):
        staff.open_from_inbox(task)
        fill_form(staff.page, schema, data)

    first_staff.submit()
    expect(first.locator(".flash--success")).to_be_visible()
    second.expect_statuses({409})
    second_staff.submit()
    expect(second.locator("#form-errors")).to_contain_text("此任務剛剛已由 it 完成。")
    events = [e for e in first_staff_events(live, instance_id) if e.type == "task_completed"]
    assert [e.actor for e in events] == ["it"]  # once, by the first

    second.reload()
    expect(second.locator("h1")).to_have_text("操作衝突")
    expect(second.locator(".error-page__text")).to_contain_text("其他同事剛剛已完成此任務")
    second.get_by_role("link", name="查看流程實例").click()
    expect(second).to_have_url(f"{live.url}/instances/{instance_id}")


def first_staff_events(live, instance_id):
    with live.app.app_context():
        return engine.instance_events(db.session, instance_id)


def test_the_inbox_puts_the_longest_waiting_first_and_counts_it(page, live):
    older = start_instance(live, title="先到的申請")
    walk_to(live, older, "budget_audit")
    live.clock.advance(hours=1)
    newer = start_instance(live, title="後到的申請")
    walk_to(live, newer, "budget_audit")
    log_in(page, live, "finance")
    cards = page.locator(".task-card .task-card__meta")
    order = [text for text in cards.all_inner_texts() if "先到的申請" in text or "後到的申請" in text]
    assert ["先到" in text for text in order] == [True, False]
    expect(page.locator('.main-nav a[href="/"] .badge')).to_contain_text(
        str(page.locator(".task-card").count())
    )
    assert page.locator(".task-card").count() == len(staff_tasks(live, "finance"))


def staff_tasks(live, username):
    with live.app.app_context():
        return engine.list_tasks(db.session, engine.get_user_by_name(db.session, username).actor)


def test_a_number_with_too_many_decimal_places_is_told_in_chinese(page, live):
    """form-js's own message for an amount like 1.234 stayed English on the Chinese form, beside
    Chinese messages for the other rules."""
    instance_id = start_instance(live)
    walk_to(live, instance_id, "requirement_analysis")
    staff = Staff(page, live, PASSWORD)
    staff.log_in("it")
    staff.open_from_inbox(staff.task(instance_id, "requirement_analysis"))
    box = page.locator("#form-root").get_by_label(re.compile("軟件授權費用"))
    box.fill("1.234")
    box.blur()
    staff.submit()
    expect(page.locator("#form-errors")).to_contain_text("小數位數不能超過 2 位")
    assert "decimal digits" not in page.locator("#form-root").inner_text()
