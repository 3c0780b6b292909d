"""Reading one HepMC3 file in byte ranges: every event exactly once, as the whole-file read."""

from __future__ import annotations

import gzip
import itertools
import logging
import random
import re
from pathlib import Path

import awkward as ak
import pytest

from recast.errors import EventFileError, UsageError
from recast.events.hepmc import HepMCReader
from recast.events.hepmc_text import find_event_line
from recast.events.partition import partition_hepmc

from .test_hepmc import WEIGHT_NAMES, event_blocks, write_sample

N_EVENTS = 50


@pytest.fixture
def fifty(tmp_path: Path) -> Path:
    return write_sample(tmp_path / "fifty.hepmc", n_events=N_EVENTS)


def event_offsets(path: Path) -> list[int]:
    """Byte offsets of the event lines, found the slow, obvious way."""
    return [m.start() for m in re.finditer(rb"(?m)^E ", path.read_bytes())]


def read_parts(
    path: Path, ranges: list[tuple[int, int]], **options: object
) -> tuple[list[ak.Array], list[HepMCReader]]:
    chunks, readers = [], []
    for byte_range in ranges:
        reader = HepMCReader(path, byte_range=byte_range, **options)  # type: ignore[arg-type]
        chunks += list(reader)
        readers.append(reader)
    return chunks, readers


def joined(chunks: list[ak.Array]) -> ak.Array:
    return ak.concatenate(chunks) if chunks else ak.Array([])


def tiling(cuts: list[int], size: int) -> list[tuple[int, int]]:
    return list(zip([0, *cuts], [*cuts, size], strict=True))


# -- partition_hepmc ----------------------------------------------------------------------------


@pytest.mark.parametrize("parts", [1, 2, 3, 7])
def test_parts_read_every_event_once_as_the_whole_file(
    fifty: Path, parts: int, caplog: pytest.LogCaptureFixture
) -> None:
    size, offsets = fifty.stat().st_size, event_offsets(fifty)
    ranges = partition_hepmc(fifty, parts)
    assert len(ranges) == parts
    assert ranges[0][0] == offsets[0] and ranges[-1][1] == size
    assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges))
    assert all(start in offsets and start < stop for start, stop in ranges)

    whole = HepMCReader(fifty, chunk_size=4)
    whole_chunks = list(whole)
    with caplog.at_level(logging.WARNING):
        chunks, readers = read_parts(fifty, ranges, chunk_size=4)
    assert not caplog.records  # no part warns about a missing footer
    got, expected = ak.concatenate(chunks), ak.concatenate(whole_chunks)
    assert got.event_number.tolist() == list(range(100, 100 + N_EVENTS))
    assert str(got.type) == str(expected.type)
    assert ak.array_equal(got, expected)
    assert sum(r.n_events for r in readers) == whole.n_events == N_EVENTS
    for reader in readers:  # the replayed header: run information in every part
        assert reader.weight_names == tuple(WEIGHT_NAMES)
        assert reader.writer_version == whole.writer_version
        assert (reader.momentum_unit, reader.length_unit) == ("MEV", "CM")
        assert reader.complete and reader.bad_events == []
    assert readers[-1].cross_section == whole.cross_section


def test_more_parts_than_events(tmp_path: Path) -> None:
    path = write_sample(tmp_path / "four.hepmc", n_events=4)
    ranges = partition_hepmc(path, 7)
    assert 1 < len(ranges) <= 4
    chunks, readers = read_parts(path, ranges)
    assert all(r.n_events >= 1 for r in readers)  # no empty range
    assert joined(chunks).event_number.tolist() == [100, 101, 102, 103]


def test_the_scan_for_event_lines(fifty: Path) -> None:
    offsets = event_offsets(fifty)
    with open(fifty, "rb") as handle:
        assert find_event_line(handle, 0) == offsets[0]
        assert find_event_line(handle, offsets[0] + 1) == offsets[1]
        for k in (1, 17, 49):
            assert find_event_line(handle, offsets[k]) == offsets[k]  # exactly on it
            assert find_event_line(handle, offsets[k] - 1) == offsets[k]  # on its newline
        assert find_event_line(handle, offsets[-1] + 1) is None
        assert find_event_line(handle, fifty.stat().st_size + 10) is None


def test_a_cut_that_falls_exactly_on_an_event_line(fifty: Path) -> None:
    size, offsets = fifty.stat().st_size, event_offsets(fifty)
    k = 17
    for cut, first_part in ((offsets[k] - 1, k), (offsets[k], k), (offsets[k] + 1, k + 1)):
        chunks, readers = read_parts(fifty, tiling([cut], size), chunk_size=5)
        assert [r.n_events for r in readers] == [first_part, N_EVENTS - first_part]
        assert joined(chunks).event_number.tolist() == list(range(100, 100 + N_EVENTS))


def test_partition_when_the_middle_of_the_file_is_an_event_line(fifty: Path) -> None:
    """Blank lines in the header (HepMC3 skips them) move the middle onto an event line."""
    size, offsets = fifty.stat().st_size, event_offsets(fifty)
    k = max(i for i, offset in enumerate(offsets) if 2 * offset <= size)
    pad = size - 2 * offsets[k]
    version, rest = fifty.read_text().split("\n", 1)
    fifty.write_text(version + "\n" * (pad + 1) + rest)
    size, offsets = fifty.stat().st_size, event_offsets(fifty)
    assert size // 2 == offsets[k]
    ranges = partition_hepmc(fifty, 2)
    assert ranges == [(offsets[0], offsets[k]), (offsets[k], size)]
    chunks, readers = read_parts(fifty, ranges)
    assert [r.n_events for r in readers] == [k, N_EVENTS - k]
    assert ak.array_equal(ak.concatenate(chunks), ak.concatenate(list(HepMCReader(fifty))))


def test_any_tiling_of_the_file_reads_every_event_once(fifty: Path) -> None:
    """Ranges need not start at event lines: each event belongs to the range its line is in."""
    size = fifty.stat().st_size
    expected = ak.concatenate(list(HepMCReader(fifty)))
    rng = random.Random(7)
    for _ in range(4):
        cuts = sorted(rng.sample(range(1, size), 9))
        chunks, _ = read_parts(fifty, tiling(cuts, size), chunk_size=3)
        assert ak.array_equal(joined(chunks), expected)


def test_a_range_without_an_event_line_yields_nothing(fifty: Path) -> None:
    offsets = event_offsets(fifty)
    reader = HepMCReader(fifty, byte_range=(offsets[3] + 1, offsets[4]))
    assert list(reader) == [] and reader.n_events == 0 and reader.complete
    reader = HepMCReader(fifty, byte_range=(offsets[-1] + 1, fifty.stat().st_size))
    assert list(reader) == []  # only the footer
    reader = HepMCReader(fifty, byte_range=(5, 5))
    assert list(reader) == []


def test_a_compressed_file_is_one_range(fifty: Path, tmp_path: Path) -> None:
    packed = tmp_path / "fifty.hepmc.gz"
    packed.write_bytes(gzip.compress(fifty.read_bytes()))
    size = packed.stat().st_size
    assert partition_hepmc(packed, 4) == [(0, size)]
    chunks, readers = read_parts(packed, [(0, size)])
    assert ak.array_equal(joined(chunks), ak.concatenate(list(HepMCReader(fifty))))
    assert readers[0].complete
    with pytest.raises(UsageError, match=r"gzip-compressed, so it cannot be read by byte range"):
        list(HepMCReader(packed, byte_range=(0, size // 2)))


def test_a_file_without_events(fifty: Path) -> None:
    header, _, footer = event_blocks(fifty.read_text())
    fifty.write_text(header + footer)
    (byte_range,) = partition_hepmc(fifty, 3)
    with pytest.raises(EventFileError, match="no readable events"):
        list(HepMCReader(fifty, byte_range=byte_range))


def test_bad_arguments(fifty: Path, tmp_path: Path) -> None:
    for parts in (0, -1, 2.5, True):
        with pytest.raises(UsageError, match="parts must be a positive integer"):
            partition_hepmc(fifty, parts)  # type: ignore[arg-type]
    for byte_range in ((5, 2), (-1, 3), ("0", 3), (0.0, 10)):
        with pytest.raises(UsageError, match="byte_range"):
            HepMCReader(fifty, byte_range=byte_range)  # type: ignore[arg-type]
    with pytest.raises(EventFileError, match="no such file"):
        partition_hepmc(tmp_path / "nope.hepmc", 2)


# -- bad events and damaged files, in parts -----------------------------------------------------


def damaged(path: Path) -> Path:
    """Bad events mid-part and at a part's edges: NaN (#6), unparsable (#10, #31), garbage
    line (#21); with the ranges of :func:`damaged_ranges`, #10 ends part 1 and #31 starts
    part 3."""
    header, events, footer = event_blocks(path.read_text())
    line = next(ln for ln in events[5].splitlines() if ln.startswith("P 4 "))
    events[5] = events[5].replace(line, re.sub(r"^((?:\S+ ){5})\S+", r"\1nan", line))
    for k in (9, 30):
        events[k] = events[k].replace("\nP 5 -2 6 ", "\nP 99 -2 6 ")
    lines = events[20].splitlines(keepends=True)
    events[20] = "".join([*lines[:6], "#@! disk error garbage\n", *lines[6:]])
    path.write_text(header + "".join(events) + footer)
    return path


def damaged_ranges(path: Path) -> list[tuple[int, int]]:
    offsets = event_offsets(path)
    return tiling([offsets[10], offsets[30]], path.stat().st_size)


def test_skip_bad_inside_parts(fifty: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = damaged(fifty)
    whole = HepMCReader(path, skip_bad=True, chunk_size=4)
    expected = ak.concatenate(list(whole))
    assert [b.number for b in whole.bad_events] == [105, 109, 120, 130]
    with caplog.at_level(logging.WARNING):
        chunks, readers = read_parts(path, damaged_ranges(path), skip_bad=True, chunk_size=4)
    assert ak.array_equal(ak.concatenate(chunks), expected)
    # the file's own event index and line, and the same reason, as the whole-file read
    assert [b for r in readers for b in r.bad_events] == whole.bad_events
    assert [len(r.bad_events) for r in readers] == [2, 1, 1]
    lines = path.read_text().splitlines()
    bad = readers[2].bad_events[0]
    assert (bad.index, bad.number) == (30, 130) and lines[bad.line - 1].startswith("E 130 ")
    assert "truncated" not in readers[0].bad_events[1].reason  # the part ends, not the file
    assert all(r.complete for r in readers)
    assert "skipped" in caplog.text and "event 130 (event #31 in the file" in caplog.text


def test_a_bad_event_in_a_part_raises_as_in_the_whole_file(fifty: Path) -> None:
    path = damaged(fifty)
    whole = HepMCReader(path, skip_bad=True)
    list(whole)
    described = {b.number: b.describe(path) for b in whole.bad_events}
    first, middle, last = damaged_ranges(path)
    offsets = event_offsets(path)
    for byte_range, number in (
        (first, 105),
        ((offsets[6], first[1]), 109),  # the part's last event
        (middle, 120),
        (last, 130),  # the part's first event
    ):
        with pytest.raises(EventFileError) as error:
            list(HepMCReader(path, byte_range=byte_range, chunk_size=3))
        assert str(error.value).startswith(described[number] + ". Repair or regenerate")


def test_only_the_last_part_reports_a_missing_footer(
    fifty: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text = fifty.read_text()
    fifty.write_text(text[: text.index("HepMC::Asciiv3-END")])
    ranges = partition_hepmc(fifty, 3)
    assert ranges[-1][1] == fifty.stat().st_size
    for byte_range in ranges[:-1]:
        with caplog.at_level(logging.WARNING):
            reader = HepMCReader(fifty, byte_range=byte_range)
            list(reader)
        assert reader.complete and not caplog.records
    with caplog.at_level(logging.WARNING):
        reader = HepMCReader(fifty, byte_range=ranges[-1])
        list(reader)
    assert not reader.complete
    assert "no end-of-listing line: the file may be truncated" in caplog.text


def test_a_part_truncated_mid_event_at_the_end_of_the_file(fifty: Path) -> None:
    text = fifty.read_text()
    fifty.write_text(text[: text.index("\nP 7 ", text.index("E 148")) + 1])
    ranges = partition_hepmc(fifty, 3)
    with pytest.raises(EventFileError, match=r"event 148 \(event #49 in the file.*truncated"):
        list(HepMCReader(fifty, byte_range=ranges[-1]))
    _, readers = read_parts(fifty, ranges, skip_bad=True)
    assert [b.number for r in readers for b in r.bad_events] == [148]


def test_concatenated_files_in_parts(tmp_path: Path) -> None:
    """cat a b: the second header's run information is checked as in the whole-file read."""
    one = write_sample(tmp_path / "one.hepmc", n_events=10).read_text()
    both = tmp_path / "both.hepmc"
    both.write_text(one * 2)
    expected = ak.concatenate(list(HepMCReader(both)))
    for parts in (2, 3, 5):
        chunks, _ = read_parts(both, partition_hepmc(both, parts), chunk_size=3)
        assert ak.array_equal(ak.concatenate(chunks), expected)

    both.write_text(one + one.replace("MUR2_MUF2", "PDF_1"))
    with pytest.raises(EventFileError) as error:
        list(HepMCReader(both))
    message = str(error.value)
    assert "changes at event 100 (event #11 in the file): weight names" in message
    offsets = event_offsets(both)
    size = both.stat().st_size
    # the new header ends a part (no event of its own after it there), or sits inside one
    for cuts in ([offsets[10]], [offsets[11]], [offsets[5], offsets[10]]):
        with pytest.raises(EventFileError) as error:
            read_parts(both, tiling(cuts, size), chunk_size=3)
        assert str(error.value) == message
