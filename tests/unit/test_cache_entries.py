"""The instance cache keeps one entry per instance: a newer row replaces the older entry, an
entry found stale is dropped, and what the cache drops is disposed of (its reference cycles
broken, so it is freed at once). Pure bookkeeping; tests/integration covers the cache against
real databases."""

from engine.cache import InstanceCache


class Fake:
    def __init__(self, name):
        self.name, self.disposed = name, False

    def dispose(self):
        self.disposed = True


def key(instance_id, version, database="db"):
    return (database, instance_id, version, f"2026-11-28 12:00:0{version}")


def test_a_newer_row_replaces_the_entry_of_the_older_one():
    cache = InstanceCache(size=8)
    v1, v2, other = Fake("v1"), Fake("v2"), Fake("other")
    cache.put(key(1, 1), v1)
    cache.put(key(1, 2), v2)
    cache.put(key(2, 1), other)
    assert len(cache) == 2 and v1.disposed and not v2.disposed
    assert cache.take(key(1, 1)) is None  # the older state is gone, not served
    assert len(cache) == 1 and v2.disposed


def test_a_stale_entry_is_dropped_when_seen_and_a_match_is_a_hit():
    cache = InstanceCache(size=8)
    v1, v2 = Fake("v1"), Fake("v2")
    cache.put(key(1, 1), v1)
    assert cache.take(key(1, 2)) is None
    assert len(cache) == 0 and (cache.hits, cache.misses) == (0, 1) and v1.disposed
    cache.put(key(1, 2), v2)
    assert cache.take(key(1, 2)) is v2
    assert (cache.hits, cache.misses, len(cache)) == (1, 1, 0) and not v2.disposed


def test_the_same_object_filed_again_is_kept():
    cache = InstanceCache(size=8)
    same = Fake("same")
    cache.put(key(1, 1), same)
    cache.put(key(1, 2), same)
    assert cache.take(key(1, 2)) is same and not same.disposed


def test_the_same_instance_id_in_two_databases_is_two_entries():
    cache = InstanceCache(size=8)
    a, b = Fake("in a"), Fake("in b")
    cache.put(key(1, 1, "a"), a)
    cache.put(key(1, 1, "b"), b)
    assert (cache.take(key(1, 1, "a")), cache.take(key(1, 1, "b"))) == (a, b)


def test_the_least_recently_used_instance_goes_first():
    cache = InstanceCache(size=2)
    one, two, again, three = Fake("one"), Fake("two"), Fake("one again"), Fake("three")
    cache.put(key(1, 1), one)
    cache.put(key(2, 1), two)
    cache.put(key(1, 2), again)  # instance 1 is now the most recent
    cache.put(key(3, 1), three)
    assert two.disposed and one.disposed and not again.disposed
    assert cache.take(key(2, 1)) is None
    assert cache.take(key(1, 2)) is again and cache.take(key(3, 1)) is three
