"""Where the engine gets the time from. Injected, so tests and replays can move time."""

from datetime import UTC, date, datetime, timedelta


def system_clock() -> datetime:
    """The real time, timezone-aware (UTC)."""
    return datetime.now(UTC)


class CompanyClock:
    """A clock with the time zone the company counts its days in (`local_day`): the host's
    clock and zone for one app (`web`: UPGRADEFLOW_TIMEZONE), so two apps in one process keep
    their own."""

    __slots__ = ("base", "zone")

    def __init__(self, base, zone):
        self.base, self.zone = base, zone

    def __call__(self) -> datetime:
        return self.base()


def local_day(clock) -> date | None:
    """The day it is by `clock` where the company is (a CompanyClock's zone; the server's own
    for any other clock): the day a form's date, which has no zone, is compared with. At 01:30
    in Hong Kong the UTC date is still yesterday's, and a server on UTC took yesterday as today.
    None for a replay's clock: a submission taken when it was made is not judged again by the
    day, or the zone, it is repeated in."""
    if isinstance(clock, ReplayClock):
        return None
    now, zone = clock(), getattr(clock, "zone", None)
    return (now.astimezone(zone) if zone is not None else now.astimezone()).date()


def naive_utc(value):
    """A datetime as naive UTC, as SQLite hands stored times back (PostgreSQL gives them aware), so
    times read from either database and times from a clock compare; anything else unchanged."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def aware_utc(value: datetime) -> datetime:
    """A stored datetime as aware UTC: SQLite hands back naive datetimes for timezone-aware
    columns (they were stored as UTC), PostgreSQL aware ones in its session's time zone."""
    return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)


class ManualClock:
    """A clock that stands still until moved; for tests, benchmarks and replay."""

    def __init__(self, start: datetime | None = None):
        self.now = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> datetime:
        """Move the clock forward by `timedelta(**delta)` and return the new time."""
        self.now += timedelta(**delta)
        return self.now


class ReplayClock(ManualClock):
    """The clock of a replay (engine/replay.py), set to each logged event's time in turn."""
