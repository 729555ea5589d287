"""JSON through orjson (web/jsontext.py): the same values as the standard library gave, faster."""

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

import engine
from tests.processes.harness import REQUEST
from web import jsontext
from web.extensions import db


def test_dumps_is_compact_json_and_falls_back_for_what_orjson_refuses():
    value = {"名稱": "升級", "n": 1, "x": [1.5, None, True], 3: "int key"}
    assert json.loads(jsontext.dumps(value)) == {**{k: v for k, v in value.items() if k != 3}, "3": "int key"}
    assert ", " not in jsontext.dumps(value)
    huge = {"n": 2**70}  # past 64 bits: orjson refuses, the standard library writes it
    assert jsontext.dumps(huge) == json.dumps(huge)
    for stray in (datetime(2026, 11, 28, tzinfo=UTC), date(2026, 11, 28), Point(1)):
        with pytest.raises(TypeError):  # refused as before, not stored as text that reads back as str
            jsontext.dumps({"when": stray})


def test_loads_reads_what_the_standard_library_wrote_including_nan():
    assert jsontext.loads('{"a": [1, 2]}') == {"a": [1, 2]}
    assert jsontext.loads(b'{"a": 1}') == {"a": 1}
    assert str(jsontext.loads(json.dumps({"x": float("nan")}))["x"]) == "nan"


def test_loads_exact_reads_whole_numbers_past_64_bits_exactly_and_the_rest_as_loads():
    """orjson reads 2**64 as 1.8446744073709552e+19: `problem` saw a float and let it be stored
    rounded. What people send is read exactly, so that it is refused."""
    for text in ("18446744073709551616", "-9223372036854775809", "123456789012345678901234567890"):
        for given in (text, text.encode(), f'{{"x": [{text}]}}'):
            value = jsontext.loads_exact(given)
            assert value == json.loads(given)
            assert jsontext.problem(value).endswith("a whole number beyond 64 bits")
    assert jsontext.loads_exact('{"n": 18446744073709551615, "s": "12345678901234567890123"}') == {
        "n": 2**64 - 1,
        "s": "12345678901234567890123",
    }
    assert str(jsontext.loads_exact('{"x": NaN}')["x"]) == "nan"
    with pytest.raises(ValueError, match="lone surrogate"):
        jsontext.loads_exact('{"n": 12345678901234567890123, "t": "\\ud800"}')


@dataclass
class Point:
    x: int


def test_flask_answers_keep_flasks_conversions(app):
    provider = app.json
    assert isinstance(provider, jsontext.Provider)
    when = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    ident = uuid.UUID(int=7)
    text = provider.dumps(
        {"b": when, "a": date(2026, 1, 2), "c": Decimal("1.10"), "d": ident, "e": Point(1)},
        separators=(",", ":"),
    )
    standard = json.dumps(
        {"b": when, "a": date(2026, 1, 2), "c": Decimal("1.10"), "d": ident, "e": Point(1)},
        default=provider.default,
        sort_keys=True,
        separators=(",", ":"),
    )
    assert text == standard
    assert text.index('"a"') < text.index('"b"')  # keys sorted, as Flask sorts them
    assert provider.loads('{"k": 1}') == {"k": 1}
    assert provider.dumps({"k": 1}, indent=2) == '{\n  "k": 1\n}'  # other options: the standard library


def test_json_columns_are_written_and_read_through_orjson(app):
    with app.app_context():
        assert db.engine.dialect._json_serializer is jsontext.dumps
        assert db.engine.dialect._json_deserializer is jsontext.loads
        started = engine.start_instance(
            db.session, "software_upgrade", REQUEST, engine.Actor("b", frozenset({"business"}))
        )
        db.session.commit()
        text = db.session.scalar(
            sa.text("SELECT CAST(state AS TEXT) FROM instances WHERE id = :id"), {"id": started.id}
        )
        assert text == jsontext.dumps(json.loads(text))  # compact, as orjson writes it
        assert ", " not in text and '": ' not in text


def test_a_lone_surrogate_in_a_body_is_refused_and_nothing_is_stored(app, people):
    """ "\\ud800" is half a UTF-16 pair, no character: orjson refuses it, the standard library
    read it, and stored it made the instance's pages and later steps fail. Now it is a 400."""
    business = people["business"]
    body = '{"data": {"system": "oa", "title": "a\\ud800b", "department": "x", "content": "c", "background": "b", "expected_effect": "e"}}'
    response = business.client.post(
        "/api/v1/processes/software_upgrade/instances",
        data=body,
        headers={**business.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.get_json()
    assert "JSON object" in response.get_json()["message"]
    assert business.get("/instances").get_json()["total"] == 0
