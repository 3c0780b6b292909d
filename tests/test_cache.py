"""The columnar cache: identical arrays back, one row group per chunk, stale caches refused."""

from __future__ import annotations

import json
from pathlib import Path

import awkward as ak
import pyarrow.parquet as pq
import pytest
import vector

import recast
from recast.errors import EventFileError, UsageError
from recast.events import cache as cache_module
from recast.events.cache import (
    METADATA_KEY,
    CacheWriter,
    cached_chunks,
    check_cache,
    read_cache,
    read_cache_header,
    write_cache,
)
from recast.events.hepmc import read_hepmc

from .test_hepmc import write_sample

vector.register_awkward()


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return write_sample(tmp_path / "events.hepmc", n_events=10)


def test_round_trip_is_identical_chunk_by_chunk(source: Path, tmp_path: Path) -> None:
    chunks = list(read_hepmc(source, chunk_size=4))
    header = write_cache(tmp_path / "events.parquet", chunks, source=source, extra={"k": 1})
    assert (header.events, header.chunks) == (10, 3)
    back = list(read_cache(tmp_path / "events.parquet", source=source))
    assert [len(c) for c in back] == [4, 4, 2]  # row groups are the chunks
    for original, read in zip(chunks, back, strict=True):
        assert ak.array_equal(original, read, check_parameters=True)
        assert read.type == original.type
    # the record names came back, so vector's behaviours work on what was read
    assert back[0].particles.layout.content.parameter("__record__") == "Momentum4D"
    assert ak.all(abs(back[0].particles.pt - chunks[0].particles.pt) == 0)
    assert pq.ParquetFile(tmp_path / "events.parquet").metadata.num_row_groups == 3


def test_header(source: Path, tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    write_cache(path, read_hepmc(source, chunk_size=3), source=source, extra={"jets": "akt4"})
    header = read_cache_header(path)
    assert header.recast_version == recast.__version__
    assert header.source == str(source) and header.events == 10 and header.chunks == 4
    assert header.source_sha256 == recast.io.sha256_file(source)
    assert header.extra == {"jets": "akt4"}
    assert check_cache(path, source) == header


def test_any_record_array_with_a_vector_name(tmp_path: Path) -> None:
    """Objects, not only particles: a Momentum4D collection with an empty event."""
    jets = [
        ak.zip({"pt": [[50.0, 30.0], []], "eta": [[0.1, -1.0], []], "phi": [[0.0, 3.0], []],
                "mass": [[5.0, 4.0], []]}, with_name="Momentum4D"),
        ak.zip({"pt": [[40.0]], "eta": [[2.0]], "phi": [[-1.0]], "mass": [[1.0]]},
               with_name="Momentum4D"),
    ]  # fmt: skip
    write_cache(tmp_path / "jets.parquet", jets)
    back = list(read_cache(tmp_path / "jets.parquet"))
    with pytest.raises(EventFileError, match="records no source file"):
        check_cache(tmp_path / "jets.parquet", source=tmp_path / "jets.parquet")
    for original, read in zip(jets, back, strict=True):
        assert ak.array_equal(original, read, check_parameters=True)
    assert ak.flatten(back[1].px).tolist() == pytest.approx([40.0 * 0.5403023058681398])


def test_a_changed_source_is_refused(source: Path, tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    write_cache(path, read_hepmc(source), source=source)
    source.write_text(source.read_text().replace("E 105 ", "E 205 "))
    with pytest.raises(EventFileError, match="the cache is stale") as error:
        read_cache(path, source=source)  # raises on the call, before any chunk is asked for
    assert str(path) in str(error.value) and str(source) in str(error.value)
    source.unlink()
    with pytest.raises(EventFileError, match="no such file"):
        check_cache(path, source)


def test_another_recast_version_is_refused(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "events.parquet"
    write_cache(path, read_hepmc(source), source=source)
    monkeypatch.setattr(cache_module, "_recast_version", lambda: "99.0")
    with pytest.raises(EventFileError, match=r"written by recast-nn .*, this is 99\.0"):
        list(read_cache(path))


def test_not_a_cache(tmp_path: Path) -> None:
    with pytest.raises(EventFileError, match="no such cache file"):
        read_cache_header(tmp_path / "missing.parquet")
    (tmp_path / "text.parquet").write_text("hello")
    with pytest.raises(EventFileError, match="not a Parquet file"):
        read_cache_header(tmp_path / "text.parquet")
    ak.to_parquet(ak.Array([{"x": 1}]), tmp_path / "plain.parquet")
    with pytest.raises(EventFileError, match="not a recast-nn cache"):
        read_cache_header(tmp_path / "plain.parquet")


def test_a_header_that_disagrees_with_the_file(source: Path, tmp_path: Path) -> None:
    chunks = list(read_hepmc(source, chunk_size=5))
    path = tmp_path / "events.parquet"
    writer = pq.ParquetWriter(path, ak.to_arrow_table(chunks[0]).schema)
    writer.write_table(ak.to_arrow_table(chunks[0]))
    meta = {"recast_version": recast.__version__, "events": 10, "chunks": 2,
            "format": "recast-nn chunk cache", "format_version": 1}  # fmt: skip
    writer.add_key_value_metadata({METADATA_KEY: json.dumps(meta)})
    writer.close()
    with pytest.raises(EventFileError, match="holds 5 events in 1 chunks but its header says"):
        read_cache_header(path)


def test_a_failed_write_leaves_nothing_behind(source: Path, tmp_path: Path) -> None:
    def failing() -> object:
        yield from read_hepmc(source, chunk_size=3)
        raise RuntimeError("interrupted")

    path = tmp_path / "events.parquet"
    with pytest.raises(RuntimeError, match="interrupted"):
        write_cache(path, failing(), source=source)  # type: ignore[arg-type]
    assert list(tmp_path.glob("*.parquet*")) == [] and list(tmp_path.glob(".*")) == []
    with pytest.raises(UsageError, match="no chunks to cache"):
        write_cache(path, [])
    assert not path.exists()


def test_chunks_of_another_type_are_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="chunk 1 has type"):
        write_cache(tmp_path / "x.parquet", [ak.Array([{"x": 1}]), ak.Array([{"y": "a"}])])
    assert not (tmp_path / "x.parquet").exists()


def test_writer_outside_its_block(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="outside its `with` block"):
        CacheWriter(tmp_path / "x.parquet").write(ak.Array([{"x": 1}]))


def test_cached_chunks_produce_once_then_reuse(source: Path, tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    calls = []

    def produce() -> object:
        calls.append(1)
        return read_hepmc(source, chunk_size=4)

    first = list(cached_chunks(source, path, produce))  # type: ignore[arg-type]
    second = list(cached_chunks(source, path, produce))  # type: ignore[arg-type]
    assert len(calls) == 1 and path.is_file()
    assert ak.array_equal(ak.concatenate(first), ak.concatenate(second), check_parameters=True)
    list(cached_chunks(source, path, produce, extra={"chunk_size": 4}))  # other settings
    assert len(calls) == 2
    source.write_text(source.read_text().replace("E 105 ", "E 205 "))  # a changed source
    rebuilt = ak.concatenate(list(cached_chunks(source, path, produce)))
    assert len(calls) == 3 and 205 in rebuilt.event_number.tolist()


def test_cached_chunks_abandoned_midway_write_no_cache(source: Path, tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    chunks = cached_chunks(source, path, lambda: read_hepmc(source, chunk_size=2))
    next(chunks)
    chunks.close()  # the consumer stopped early: a partial cache would look complete
    assert not path.exists()
