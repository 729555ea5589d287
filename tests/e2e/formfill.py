"""Filling a rendered form-js form the way a person does: typing into its inputs, opening its
dropdowns and clicking an option, ticking its boxes, adding rows to its lists.

The form's schema (the .form JSON) says which component holds which key; form-js gives each input
the id `fjs-form-<form>-<component id>[_<row>]`, so a component is found by the end of its id.
"""

from datetime import date

from playwright.sync_api import Page, expect

INPUTS = ("textfield", "textarea", "number")


def field(page: Page, component_id: str, suffix: str = ""):
    return page.locator(f'#form-root [id$="-{component_id}{suffix}"]')


def fill_form(page: Page, schema: dict, data: dict) -> None:
    """Enter `data` ({key: value}, lists of rows for dynamic lists) into the rendered form."""
    _fill(page, schema.get("components") or [], data, "")


def _fill(page, components, data, suffix):
    for component in components:
        kind = component.get("type")
        if kind == "group":
            path = component.get("path")
            _fill(page, component.get("components") or [], data.get(path, {}) if path else data, suffix)
        elif kind == "dynamiclist":
            _fill_list(page, component, data.get(component.get("path") or component.get("key"), []), suffix)
        elif component.get("key") in data and not (component.get("readonly") or component.get("disabled")):
            _fill_one(page, component, data[component["key"]], suffix)


def _fill_list(page, component, rows, suffix):
    children = [c for c in component.get("components") or [] if c.get("key")]
    first = children[0]["id"]
    container = page.locator(f'#form-root [id$="-{component["id"]}{suffix}"]').locator("..")
    for index, row in enumerate(rows):
        row_suffix = f"{suffix}_{index}"
        if not page.locator(f'#form-root [id*="-{first}{row_suffix}"]').count():
            container.locator(".fjs-repeat-render-add").click()
        _fill(page, component.get("components") or [], row, row_suffix)


def _fill_one(page, component, value, suffix):
    kind, cid = component["type"], component["id"]
    if kind in INPUTS:
        field(page, cid, suffix).fill(str(value))
    elif kind == "checkbox":
        field(page, cid, suffix).set_checked(bool(value))
    elif kind == "checklist":
        for index, option in enumerate(component.get("values") or []):
            field(page, cid, f"{suffix}-{index}").set_checked(option["value"] in value)
    elif kind == "select":
        label = next(v["label"] for v in component["values"] if v["value"] == value)
        field(page, cid, f"{suffix}-display").click()
        options = (
            field(page, cid, f"{suffix}-display").locator("xpath=../..").locator(".fjs-dropdownlist-item")
        )
        options.get_by_text(label, exact=True).click()
        expect(field(page, cid, f"{suffix}-display")).to_have_text(label)
    elif kind == "datetime":
        day = date.fromisoformat(value)
        box = field(page, cid, f"{suffix}-date")
        # form-js writes dates in the browser's order, and says which in the placeholder.
        order = "%d/%m/%Y" if box.get_attribute("placeholder").startswith("dd") else "%m/%d/%Y"
        box.fill(day.strftime(order))
        box.press("Enter")
    else:
        raise AssertionError(f"no way to fill a {kind!r} field ({component.get('key')})")
