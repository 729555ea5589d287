"""Without SECRET_KEY, the key that signs sessions is made once and kept: a restart of `make run`
logged everyone out and refused every form left open (CSRF)."""

import os
import stat
import threading

import pytest

from web import kept_secret_key


def test_the_key_is_made_once_kept_and_readable_by_its_owner_only(tmp_path):
    first = kept_secret_key(tmp_path)
    assert len(first) == 64 and kept_secret_key(tmp_path) == first  # the next start reads it
    assert stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode) == 0o600
    assert sorted(os.listdir(tmp_path)) == ["secret_key"]  # no half-made file left behind


def test_processes_starting_at_once_agree_on_one_key(tmp_path):
    keys, barrier = [], threading.Barrier(8)

    def start():
        barrier.wait()
        keys.append(kept_secret_key(tmp_path))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == 8 and len(set(keys)) == 1
    assert sorted(os.listdir(tmp_path)) == ["secret_key"]


def test_a_key_file_cut_short_is_refused_naming_it(tmp_path):
    (tmp_path / "secret_key").write_text("")
    with pytest.raises(ValueError, match="secret_key holds no key"):
        kept_secret_key(tmp_path)


def test_an_app_that_cannot_keep_a_key_still_starts(monkeypatch, caplog):
    """A folder it may not write, or a key file another user made: it raised PermissionError
    and neither the app nor any command started."""
    import web

    def refused(folder):
        raise PermissionError(13, "Permission denied", str(folder))

    monkeypatch.setattr(web, "kept_secret_key", refused)
    app = web.create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert len(app.config["SECRET_KEY"]) == 64
    assert "SECRET_KEY is not set" in caplog.text


def test_a_key_file_cut_short_stops_the_app_naming_it(monkeypatch):
    """Taken for a failure to keep a key, it made each worker sign with a key of its own."""
    import web

    def cut_short(folder):
        raise ValueError(
            f"{folder}/secret_key holds no key (empty or cut short); remove it to make a new one"
        )

    monkeypatch.setattr(web, "kept_secret_key", cut_short)
    with pytest.raises(ValueError, match="holds no key"):
        web.create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
