"""CSV downloads (the requirement pool, the dashboard): UTF-8 with a byte order mark, so
spreadsheet programs read the Chinese text, and text cells that a spreadsheet would run as a
formula (`=`, `+`, `-`, `@`, a tab or a carriage return first: a project title such as
`=HYPERLINK(...)`) written with a leading apostrophe, which shows the text as it was typed."""

import csv
import io

from flask import Response

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def csv_download(headings, rows, filename) -> Response:
    """An attachment of `headings` then each of `rows` (sequences of cells)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headings)
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return Response(
        "\ufeff" + out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )
