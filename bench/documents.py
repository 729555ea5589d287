"""6. A document's PDF (R4) as the API serves it, its request's description holding `chars`
Chinese characters: the time of one download, which grows with the text."""

import time

from web.extensions import db

from .client import REQUEST
from .setup import prepared_app
from .stats import summary

PHRASE = "軟件升級改造需求說明"  # ten characters, repeated to the length asked for


def pdf_times(url, sizes=(300, 3000, 20000), samples=3) -> list[dict]:
    """For each size: the PDF of `requirement_request` of an instance started with that much text."""
    app, tokens = prepared_app(url)
    client = app.test_client()
    business = {"Authorization": f"Bearer {tokens['business']}"}
    it = {"Authorization": f"Bearer {tokens['it']}"}
    results = []
    for chars in sizes:
        content = (PHRASE * (chars // len(PHRASE) + 1))[:chars]
        started = client.post(
            "/api/v1/processes/software_upgrade/instances",
            json={"data": {**REQUEST, "content": content}},
            headers=business,
        )
        assert started.status_code == 201, started.get_json()
        path = f"/api/v1/instances/{started.get_json()['id']}/documents/requirement_request/pdf"
        seconds, size = [], 0
        for _ in range(samples):
            began = time.perf_counter()
            response = client.get(path, headers=it)
            seconds.append(time.perf_counter() - began)
            assert response.status_code == 200 and response.data.startswith(b"%PDF")
            size = len(response.data)
        results.append({"chars": chars, "kib": round(size / 1024, 1), **summary(seconds)})
    with app.app_context():
        db.engine.dispose()  # its connections hold the database file open: close them now
    return results
