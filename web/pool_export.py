"""The requirement pool as CSV, for the API (`format=csv`) and the pool page's export link."""

import csv
import io

from flask import Response

from .plan_schemas import PoolEntrySchema

COLUMNS = (
    "instance_id",
    "title",
    "system",
    "department",
    "initiator",
    "requested_at",
    "accepted_at",
    "priority",
    "estimated_cost",
    "contract_amount",
    "status",
    "phase",
    "waiting_at",
)


def pool_csv(entries, headers=None, filename="requirement_pool.csv") -> Response:
    """A CSV download of pool entries; `headers` maps a column to its heading (default: its name).

    UTF-8 with a byte order mark, so spreadsheet programs read the Chinese text correctly.
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([(headers or {}).get(c, c) for c in COLUMNS])
    for row in PoolEntrySchema(many=True).dump(entries):
        row["waiting_at"] = " ".join(row.get("waiting_at") or [])
        writer.writerow(["" if row.get(c) is None else row[c] for c in COLUMNS])
    return Response(
        "\ufeff" + out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )
