"""Where the engine gets the time from. Injected, so tests and replays can move time."""

from datetime import UTC, date, datetime, timedelta


def system_clock() -> datetime:
    """The real time, timezone-aware (UTC)."""
    return datetime.now(UTC)


_COMPANY_ZONE = None  # tzinfo; None: the server's own (`use_company_zone`)


def use_company_zone(zone) -> None:
    """The time zone the company's days are counted in (a tzinfo; the app sets it from
    UPGRADEFLOW_TIMEZONE): what `local_day` reads. None: the server's own zone."""
    global _COMPANY_ZONE
    _COMPANY_ZONE = zone


def local_day(clock) -> date:
    """The day it is by `clock` where the company is (`use_company_zone`; the server's zone
    unless set): the day a form's date, which has no zone, is compared with. At 01:30 in Hong
    Kong the UTC date is still yesterday's, and a server on UTC took yesterday as today."""
    now = clock()
    return (now.astimezone(_COMPANY_ZONE) if _COMPANY_ZONE is not None else now.astimezone()).date()


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
