"""_common/times: the one reader and writer of UTC timestamps."""
import datetime

from ansible_collections.tachyon.infra.plugins.module_utils._common import times

UTC = datetime.timezone.utc


def test_reads_z_offsets_nanoseconds_and_naive_as_utc():
    want = datetime.datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
    assert times.parse_utc("2026-05-01T12:00:00Z") == want
    assert times.parse_utc("2026-05-01T14:00:00+02:00") == want  # git's %cI
    assert times.parse_utc("2026-05-01T12:00:00") == want
    assert times.parse_utc("2021-07-21T21:48:35.512775397Z") == datetime.datetime(2021, 7, 21, 21, 48, 35, 512775, tzinfo=UTC)


def test_never_and_garbage_are_none():
    for value in (None, "", "0001-01-01T00:00:00Z", "never", "yesterday", 42):
        assert times.parse_utc(value) is None
        assert times.epoch(value) is None


def test_writes_the_manifest_format_from_datetime_epoch_or_now():
    assert times.format_utc(datetime.datetime(2026, 5, 1, 14, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))) == "2026-05-01T12:00:00Z"
    assert times.format_utc(0) == "1970-01-01T00:00:00Z"
    assert times.parse_utc(times.utcnow()) is not None
    assert len(times.compact_utcnow()) == len("20260501T120000Z") and times.compact_utcnow().endswith("Z")
    assert times.epoch(times.format_utc(1700000000)) == 1700000000
