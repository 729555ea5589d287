"""Keyboard only: a skip link first, a visible focus ring, and a task done without the mouse."""

from browser_staff import Staff, start_instance, walk_to
from e2e_config import PASSWORD
from playwright.sync_api import expect

FOCUSED = "document.activeElement"


def focused(page, script="el => el.id + '|' + el.tagName + '|' + (el.textContent || '').trim()"):
    return page.evaluate(f"({script})({FOCUSED})")


def press(page, key) -> None:
    """Press a key and let form-js (Preact) finish reacting: its dropdown binds the keys it
    handles in effects that run after the next frames, as a person's next keystroke would."""
    page.keyboard.press(key)
    page.evaluate(
        "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done))))"
    )


def tab_to(page, predicate: str, limit=40) -> None:
    """Press Tab until `predicate(activeElement)` holds (JS), failing after `limit` presses."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"({predicate})({FOCUSED})"):
            return
    raise AssertionError(f"Tab never reached {predicate}; ended on {focused(page)}")


def test_a_task_is_completed_with_the_keyboard_alone(page, live):
    instance_id = start_instance(live, title="鍵盤操作測試")
    walk_to(live, instance_id, "initiation_review")
    staff = Staff(page, live, PASSWORD)

    # Log in: the user name field has the focus; Tab to the password; Enter submits.
    page.goto(live.url + "/login")
    assert focused(page, "el => el.id") == "username"
    page.keyboard.type("management")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator(".user-box__name")).to_contain_text("management")
    staff.user = "management"

    # The first Tab reaches the skip link, shown with a focus ring; it jumps to the content.
    page.keyboard.press("Tab")
    assert focused(page, "el => el.className") == "skip-link"
    assert page.evaluate(f"getComputedStyle({FOCUSED}).outlineStyle") != "none"
    assert page.locator(".skip-link").bounding_box()["y"] >= 0  # on screen when focused
    page.keyboard.press("Enter")
    assert focused(page, "el => el.id") == "main"

    task = staff.task(instance_id, "initiation_review")
    tab_to(page, f"el => (el.getAttribute('href') || '').startsWith('/tasks/{task.id}')")
    assert page.evaluate(f"getComputedStyle({FOCUSED}).outlineStyle") != "none"
    page.keyboard.press("Enter")
    expect(page.locator("#form-root .fjs-form")).to_be_visible()

    # The decision: a form-js dropdown, opened and chosen with the arrow keys and Enter.
    tab_to(page, "el => el.id.endsWith('-Field_ct8b65z')")
    press(page, "ArrowDown")
    expect(page.locator(".fjs-dropdownlist")).to_be_visible()
    for _ in range(3):  # up to the first option, 同意 (the list stops there)
        press(page, "ArrowUp")
    expect(page.locator(".fjs-dropdownlist-item.focused")).to_have_text("同意")
    press(page, "Enter")
    expect(page.locator('[id$="-Field_ct8b65z-display"]')).to_have_text("同意")
    page.keyboard.press("Tab")
    assert focused(page, "el => el.id").endswith("-Field_nqr2i47")
    page.keyboard.type("同意立項，按計劃推進。")
    tab_to(page, "el => el.id === 'form-submit'")
    page.keyboard.press("Enter")

    expect(page.locator(".flash--success")).to_be_visible()
    stored = staff.instance(instance_id).data["initiation_review"]
    assert stored == {"decision": "approve", "comment": "同意立項，按計劃推進。"}
