"""The browser holds the app's pages to its content policy: markup that slipped into a page cannot
run script, while the app's own script files (and the diagram and form libraries) run as before
(every other browser test fails on a console error, a policy violation included)."""


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
