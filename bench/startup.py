"""5. Start-up time with 20 deployed versions: a fresh interpreter imports the app, builds it and
answers its first requests (the process list, then the latest version with its start form)."""

import os
import statistics
import subprocess
import sys

import engine
from web import create_app
from web.extensions import db

from .stats import ms

PROBE = """
import sys, time
began = time.perf_counter()
from web import create_app
app = create_app()
client = app.test_client()
headers = {"Authorization": "Bearer " + sys.argv[1]}
assert client.get("/api/v1/processes", headers=headers).status_code == 200
assert client.get("/api/v1/processes/software_upgrade", headers=headers).status_code == 200
print(time.perf_counter() - began)
"""


def deploy_versions(url, count=20):
    """Deploy up to `count` versions in all (changed copies of software_upgrade.bpmn). Returns how
    many versions there are."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    files = engine.bundle_files("processes", "forms")
    with app.app_context():
        for n in range(1, count):
            changed = dict(files)
            # A new name is a new definition (the content hash is over the parsed definition).
            changed["software_upgrade.bpmn"] = files["software_upgrade.bpmn"].replace(
                'name="軟件升級改造" isExecutable'.encode(), f'name="軟件升級改造 v{n}" isExecutable'.encode()
            )
            engine.deploy(db.session, changed, deployed_by="bench")
        db.session.commit()
        versions = len(engine.list_versions(db.session, "software_upgrade"))
        db.session.close()  # give its connection back first: dispose() closes only idle ones
        db.engine.dispose()
    return versions


def startup(url, token, samples=5) -> dict:
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench"}
    times = []
    for _ in range(samples):
        out = subprocess.run(
            [sys.executable, "-c", PROBE, token],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return {"n": samples, "p50": ms(statistics.median(times)), "max": ms(max(times))}
