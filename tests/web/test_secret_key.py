"""Without SECRET_KEY, the key that signs sessions is made once and kept: a restart of `make run`
logged everyone out and refused every form left open (CSRF)."""

import os
import stat
import threading

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
