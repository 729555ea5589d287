"""What every browser test checks about every page it opens: no console errors, no uncaught
exceptions, nothing loaded from outside the server."""

import re

STATUS_ERROR = re.compile(r"Failed to load resource: the server responded with a status of (\d{3})")


class Watch:
    def __init__(self, page, origin: str):
        self.origin = origin
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.expected: set[int] = set()
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        page.on("request", self._request)
        page.expect_statuses = self.expected.update  # a test that provokes 4xx answers says so

    def _console(self, message):
        if message.type != "error":
            return
        status = STATUS_ERROR.search(message.text)
        if status and int(status.group(1)) in self.expected:
            return
        self.errors.append(message.text)

    def _request(self, request):
        url = request.url
        if not (url.startswith(self.origin + "/") or url.startswith(("data:", "blob:", "about:"))):
            self.outside.append(url)

    def check(self):
        assert self.errors == [], f"console errors: {self.errors}"
        assert self.outside == [], f"requests outside the server: {self.outside}"
