"""The browser holds the app's pages to its content policy: markup that slipped into a page cannot
run script, while the app's own script files (and the diagram and form libraries) run as before
(every other browser test fails on a console error, a policy violation included); what people
type stays text in the forms that show it."""

from playwright.sync_api import expect


def test_a_script_injected_into_a_page_does_not_run(chromium, live):
    context = chromium.new_context()
    try:
        page = context.new_page()
        violations = []
        page.on(
            "console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None
        )
        page.goto(live.url + "/login")
        page.evaluate(
            """() => {
                const script = document.createElement('script');
                script.textContent = 'window.injected = true';
                document.body.appendChild(script);
                const img = document.createElement('img');
                img.setAttribute('onerror', 'window.injected = true');
                img.src = '/no-such-image';
                document.body.appendChild(img);
            }"""
        )
        page.wait_for_timeout(300)
        assert page.evaluate("window.injected") is None
        assert violations, "the browser reported no policy violation"
    finally:
        context.close()


def test_the_document_pages_print_button_prints(page, live):
    """It was a handler in the markup (onclick), which the content policy stops."""
    from browser_staff import Staff, start_instance
    from e2e_config import PASSWORD

    instance_id = start_instance(live)  # the request form is the first document
    Staff(page, live, PASSWORD).log_in("business")
    page.goto(f"{live.url}/instances/{instance_id}/documents/requirement_request")
    page.evaluate("() => { window.printed = 0; window.print = () => { window.printed += 1; }; }")
    page.get_by_role("button", name="列印").click()
    assert page.evaluate("window.printed") == 1


def test_text_typed_into_a_request_stays_text_in_another_departments_form(page, live):
    """A text block of a form puts typed values into markdown: a request titled with a markdown
    link and an HTML link showed IT clickable links to another site inside its review form."""
    from browser_staff import Staff, start_instance
    from e2e_config import PASSWORD

    title = (
        '升級 <a href="https://evil.example/login">請先重新登入</a> [點此](https://evil.example/x) **粗體**'
    )
    instance_id = start_instance(live, title=title)
    staff = Staff(page, live, PASSWORD)
    staff.log_in("it")
    staff.open_from_inbox(staff.task(instance_id, "preliminary_review"))
    form = page.locator("#form-root .fjs-form")
    expect(form).to_contain_text(title)  # as typed, every character
    assert form.locator("a[href*='evil.example']").count() == 0
    assert form.locator("strong").filter(has_text="粗體").count() == 0


def test_a_value_not_given_shows_nothing_in_a_text_block(page, live):
    """A value not there (no earlier confirmation comment, no date of occurrence) read "null" in
    the form once typed values were escaped; form-js shows nothing for it."""
    from browser_staff import EVERYONE, Staff, start_instance, walk_to
    from e2e_config import PASSWORD

    import engine
    from web.extensions import db

    instance_id = start_instance(live)
    walk_to(live, instance_id, "golive")
    with live.app.app_context():
        [golive] = [t for t in engine.list_tasks(db.session, EVERYONE) if t.instance_id == instance_id]
        it = engine.get_user_by_name(db.session, golive.assignee or "it").actor
        engine.complete_task(
            db.session, golive.id, {"decision": "success", "monitoring_notes": "平穩"}, it, clock=live.clock
        )
        business = engine.get_user_by_name(db.session, "business").actor
        report = {"problem": "附件無法下載。", "severity": "high"}
        engine.send_message(db.session, instance_id, "support_request", report, business, clock=live.clock)
        db.session.commit()
    staff = Staff(page, live, PASSWORD)
    staff.log_in("vendor")
    staff.open_from_inbox(staff.task(instance_id, "resolve_support_request"))
    form = page.locator("#form-root .fjs-form")
    expect(form).to_contain_text("附件無法下載。")
    assert "null" not in form.inner_text()
