"""The browser tests' settings: where Chromium and the npm files are, and who works in them.

A module of its own (not conftest.py) so that test modules can import these names: several
folders of tests have a conftest.py, and which one `import conftest` finds depends on the run.
"""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("UPGRADEFLOW_CHROMIUM", "/usr/bin/chromium")
VENDOR_FILES = (
    "node_modules/@bpmn-io/form-js/dist/form-viewer.umd.js",
    "node_modules/bpmn-js/dist/bpmn-navigated-viewer.production.min.js",
)
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PASSWORD = "correct-horse-battery"  # as tests/conftest.py, whichever conftest is found
GROUPS = ("business", "it", "finance", "management", "vendor", "qa")
# One user per group, named after it; a second IT user (for a race), a business user who reads
# in English, someone in no department yet (empty states), and an admin.
USERS = {**{group: (group,) for group in GROUPS}, "it2": ("it",), "reader": ("business",), "newcomer": ()}
ADMIN = "admin"
