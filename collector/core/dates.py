"""Publication dates: every ``published`` value, whatever wrote it, as ISO-8601.

Sources write dates every way there is: HTML metadata (ISO with or without seconds or
zone), feeds (RFC 2822: ``Wed, 04 Mar 2026 07:30:00 GMT``), JSONL exports (Unix
timestamps, ``2026-03-04 07:30``), human forms in the page's language (``March 4, 2026``,
``4 mars 2026``). The origin of a group is decided by comparing them, so they are brought
to one form at ingest and never compared as strings:

* a date with a time of day: ``YYYY-MM-DDTHH:MM:SS+HH:MM``, seconds kept, fractions dropped;
  a time written without a zone is taken as UTC (there is nothing better to take it as);
* a date without a time of day: ``YYYY-MM-DD`` (a day is not midnight: two copies of one
  day are ordered by their fetch, see ``pipelines.link``);
* anything else: ``None``, with the raw value kept by the caller (``published_raw``).

Human forms go through dateparser with explicit settings: absolute dates only (no
"yesterday", no "3 hours ago": relative to what?), day, month and year all required,
the day/month order of the page's language, no guessing of missing parts.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from email.utils import parsedate_to_datetime

#: Unix timestamps of 9-10 digits (1973-03-03 .. 2286-11-20) are seconds, of 12-13 digits
#: milliseconds. Shorter numbers are years or ids, not times.
_TIMESTAMP = re.compile(r"^(\d{9,10}|\d{12,13})(\.\d+)?$")
_DAY = re.compile(r"^(\d{4})-(\d\d)-(\d\d)$")
_COMPACT_ZONE = re.compile(r"([+-]\d\d)(\d\d)$")
_MIDNIGHT_NO_ZONE = re.compile(r"^(\d{4}-\d\d-\d\d)[T ]00:00(:00(\.0+)?)?$")
_RFC2822 = re.compile(r"^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}\s+\d{1,2}:\d\d")

# Languages whose numeric dates put the month first (03/04/2026 is March 4): American
# English, and "en" alone, which is how most US pages declare themselves. Every other
# language, en-GB included, puts the day first.
_MONTH_FIRST = {"en", "en-us", "en_us"}


def to_utc_iso(moment: datetime) -> str:
    """A datetime as ISO-8601 with its offset (UTC when it has none), whole seconds."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.replace(microsecond=0).isoformat()


def normalize_date(value, language: str | None = None) -> str | None:
    """``value`` (a string, number, date or datetime) as ISO-8601, or None if it is not a
    date this module can read with confidence."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return to_utc_iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _from_timestamp(str(value))
    text = " ".join(str(value).split())
    if not text:
        return None
    for reader in (_from_timestamp, _from_iso, _from_rfc2822):
        parsed = reader(text)
        if parsed:
            return parsed
    return _from_human(text, language)


def _from_timestamp(text: str) -> str | None:
    if not _TIMESTAMP.match(text):
        return None
    seconds = float(text) / (1000 if len(text.split(".")[0]) >= 12 else 1)
    return to_utc_iso(datetime.fromtimestamp(seconds, tz=timezone.utc))


def _from_iso(text: str) -> str | None:
    if not text[:4].isdigit() or len(text) < 10 or text[4] != "-":
        return None
    day = _DAY.match(text)
    if day:
        try:
            return date(*map(int, day.groups())).isoformat()
        except ValueError:
            return None
    midnight = _MIDNIGHT_NO_ZONE.match(text)
    if midnight:  # what metadata writes for "this day, no time given"
        return normalize_date(midnight.group(1))
    candidate = _COMPACT_ZONE.sub(r"\1:\2", text.replace("Z", "+00:00").replace("z", "+00:00"))
    candidate = re.sub(r"\s*(UTC|GMT)$", "+00:00", candidate)
    candidate = re.sub(r"\s+([+-]\d\d:\d\d)$", r"\1", candidate)
    try:
        return to_utc_iso(datetime.fromisoformat(candidate))
    except ValueError:
        return None


def _from_rfc2822(text: str) -> str | None:
    if not _RFC2822.match(text):
        return None
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return to_utc_iso(moment)


def _from_human(text: str, language: str | None) -> str | None:
    if len(text) > 64 or not any(c.isdigit() for c in text):
        return None  # a date has a day number; long strings are sentences
    import dateparser  # loaded only for the rare human-written dates (it is slow to import)

    lang = (language or "").lower()
    settings = {
        "PARSERS": ["timestamp", "absolute-time"],  # never relative ("2 hours ago")
        "REQUIRE_PARTS": ["day", "month", "year"],
        "PREFER_DATES_FROM": "past",
        "DATE_ORDER": "MDY" if lang in _MONTH_FIRST else "DMY",
        "RETURN_AS_TIMEZONE_AWARE": False,
        "STRICT_PARSING": True,
    }
    languages = [lang.split("-")[0].split("_")[0]] if lang else None
    try:
        parsed = dateparser.parse(text, languages=languages, settings=settings)
        if parsed is None and languages:
            parsed = dateparser.parse(text, settings=settings)
    except Exception:  # dateparser raises assorted errors on odd input; it is just not a date
        return None
    if parsed is None:
        return None
    if parsed.hour == parsed.minute == parsed.second == 0 and not re.search(r"\d:\d\d", text):
        return parsed.date().isoformat()
    return to_utc_iso(parsed)


def parse_time(value: str | None) -> datetime | None:
    """An ISO-8601 time as an aware datetime (UTC when it names no offset); None if unreadable."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def moment(value: str | None) -> tuple[date, datetime | None] | None:
    """(UTC day, exact UTC moment or None for a day) of a normalised date, for ordering."""
    if not value:
        return None
    try:
        if len(value) == 10:
            return date.fromisoformat(value), None
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    parsed = parsed.astimezone(timezone.utc)
    return parsed.date(), parsed
