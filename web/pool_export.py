"""The requirement pool as CSV, for the API (`format=csv`) and the pool page's export link."""

from flask import Response

from .csvfile import csv_download
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
    """A CSV download of pool entries; `headers` maps a column to its heading (default: its name)."""
    rows = []
    for row in PoolEntrySchema(many=True).dump(entries):
        row["waiting_at"] = " ".join(row.get("waiting_at") or [])
        rows.append([row.get(c) for c in COLUMNS])
    return csv_download([(headers or {}).get(c, c) for c in COLUMNS], rows, filename)
