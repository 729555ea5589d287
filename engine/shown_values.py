"""What a submission may not change of what its form showed: read-only and disabled fields keep
the shown values, a fixed list keeps its number of rows, and a list left out the rows it was
shown with. Used by `engine.forms.Form.validate`."""

from copy import deepcopy

from .form_fields import MSG_ROWS


def protect(components, submitted, initial):
    """Put the shown values back into read-only fields; returns problems (path -> messages)."""
    problems = {}
    for component in components or []:
        kind = component.get("type")
        if kind == "group":
            path = component.get("path")
            if path:
                inner = submitted.get(path)
                if isinstance(inner, dict):
                    problems.update(
                        _prefixed(path, protect(component.get("components"), inner, initial.get(path) or {}))
                    )
            else:
                problems.update(protect(component.get("components"), submitted, initial))
        elif kind == "dynamiclist":
            path = component.get("path") or component.get("key")
            rows, shown = submitted.get(path), initial.get(path) or []
            if not isinstance(rows, list) or not isinstance(shown, list):
                continue
            if component.get("allowAddRemove") is False and len(rows) != len(shown):
                problems[path] = [MSG_ROWS]
                continue
            for index, row in enumerate(rows[: len(shown)]):
                if isinstance(row, dict) and isinstance(shown[index], dict):
                    found = protect(component.get("components"), row, shown[index])
                    problems.update(_prefixed(f"{path}.{index}", found))
        elif component.get("key") and (
            component.get("readonly") is True or component.get("disabled") is True
        ):
            key = component["key"]
            if key in initial:
                submitted[key] = deepcopy(initial[key])
            else:
                submitted.pop(key, None)
    return problems


def shown_lists(components):
    """(path, row keys) of the top-level dynamic lists a form shows (not those a condition hides)."""
    for component in components or []:
        if not isinstance(component, dict) or (component.get("conditional") or {}).get("hide"):
            continue
        if component.get("type") == "group" and not component.get("path"):
            yield from shown_lists(component.get("components"))
        elif component.get("type") == "dynamiclist":
            path = component.get("path") or component.get("key")
            if isinstance(path, str) and "." not in path:
                yield path, _row_keys(component.get("components"))


def _row_keys(components) -> set:
    """The keys a list's row submits (form-js sends those of its fields, nothing else of the row)."""
    keys = set()
    for component in components or []:
        if not isinstance(component, dict):
            continue
        if isinstance(component.get("key"), str):
            keys.add(component["key"].split(".")[0])
        if isinstance(component.get("path"), str):
            keys.add(component["path"].split(".")[0])
        elif component.get("type") == "group":
            keys |= _row_keys(component.get("components"))
    return keys


def rows_as_sent(rows, keys) -> list:
    """Shown rows as a form sends them back: only the keys its fields have."""
    return [
        {key: deepcopy(value) for key, value in row.items() if key in keys} if isinstance(row, dict) else row
        for row in rows
    ]


def _prefixed(prefix, problems):
    return {f"{prefix}.{path}": messages for path, messages in problems.items()}
