"""A real Dask cluster: a `dask scheduler` and two `dask worker` processes on localhost, as a
batch system would start them, give the same results as a serial run.

`--scheduler ADDRESS` is what a user with a cluster gives; the other tests use clusters that
recast starts itself (``workers=2``) or in-process clients. Here the scheduler and the workers
are separate programs that know nothing of recast but what they import when a task arrives.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import recast
from recast.cli import cli
from recast.likelihood.demo import gluino_grid
from recast.likelihood.simplified import Region

from .conftest import GttSample

DASK = Path(sys.executable).with_name("dask")
BUNDLE = "EXAMPLE_JETS_MET"
REGIONS = {
    "SR-A": {"observed": 0, "background": 0.6, "background_uncertainty": 0.3},
    "SR-B": {"observed": 3, "background": 1.3, "background_uncertainty": 0.6},
    "SR-C": {"observed": 18, "background": 13.0, "background_uncertainty": 4.0},
}


def _wait_for(path: Path, processes: list[subprocess.Popen[bytes]], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not path.is_file():
        for process in processes:
            assert process.poll() is None, f"{process.args} stopped with {process.returncode}"
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The address of a scheduler with two single-threaded worker processes."""
    if not DASK.is_file():
        pytest.skip(f"no `dask` command beside {sys.executable}")
    folder = tmp_path_factory.mktemp("cluster")
    address_file = folder / "scheduler.json"
    log = (folder / "cluster.log").open("wb")
    started: list[subprocess.Popen[bytes]] = []
    try:
        started.append(
            subprocess.Popen(
                [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0",
                 "--no-dashboard", "--scheduler-file", str(address_file)],
                stdout=log, stderr=log,
            )
        )  # fmt: skip
        _wait_for(address_file, started, 60)
        started.append(
            subprocess.Popen(
                [str(DASK), "worker", "--scheduler-file", str(address_file), "--nworkers", "2",
                 "--nthreads", "1", "--no-dashboard", "--memory-limit", "0",
                 "--local-directory", str(folder / "workers")],
                stdout=log, stderr=log,
            )
        )  # fmt: skip
        address = json.loads(address_file.read_text())["address"]
        from dask.distributed import Client

        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=120)
        yield str(address)
    finally:
        for process in reversed(started):
            process.terminate()
        for process in reversed(started):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()


def _without_provenance(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "provenance"}


@pytest.mark.slow
def test_a_run_on_a_scheduler_and_its_workers_equals_the_serial_run(
    scheduler: str, gtt: GttSample
) -> None:
    files = [gtt.first, gtt.second]
    serial = recast.run(BUNDLE, files, xsec="46fb")
    remote = recast.run(BUNDLE, files, xsec="46fb", scheduler=scheduler)
    assert _without_provenance(remote.document) == _without_provenance(serial.document)
    # the same inputs, read whole and in the same order, whichever worker read them
    assert remote.provenance["inputs"] == serial.provenance["inputs"]


@pytest.mark.slow
def test_a_scan_on_a_scheduler_equals_the_serial_scan(
    scheduler: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    regions = [Region(name, **values) for name, values in REGIONS.items()]
    grid = gluino_grid(regions, [1700, 1900, 2100, 2300], [0, 600])
    (tmp_path / "grid.json").write_text(json.dumps(grid))
    (tmp_path / "regions.json").write_text(json.dumps({"likelihood": {"regions": REGIONS}}))
    monkeypatch.chdir(tmp_path)
    args = ["scan", "regions.json", "--grid", "grid.json", "-o"]
    serial = CliRunner().invoke(cli, [*args, "serial.json"])
    remote = CliRunner().invoke(cli, [*args, "remote.json", "--scheduler", scheduler])
    assert serial.exit_code == 0, serial.output
    assert remote.exit_code == 0, remote.output
    tables = [json.loads((tmp_path / f).read_text()) for f in ("serial.json", "remote.json")]
    assert tables[0]["points"] == tables[1]["points"]


def test_a_model_scan_on_the_cluster_equals_the_serial_one(scheduler: str, tmp_path: Path) -> None:
    """Blocks of events and limits flow through the scheduler's workers; the points' CLs are
    those of the in-process scan (the limits of a point start as soon as its events are in)."""
    pytest.importorskip("pythia8mc")
    from recast.events.slha import gluino_template
    from recast.pipeline.scan_model import prepare_scan, run_scan

    (tmp_path / "g.slha.in").write_text(gluino_template())
    planes = []
    for name, address in (("serial", None), ("cluster", scheduler)):
        scan = prepare_scan(["DEMO_MULTIB_GLUINO"], None, tmp_path / name,
                            template=tmp_path / "g.slha.in", sets=["m_gluino=2300", "m_lsp=1"],
                            n_events=60)  # fmt: skip
        planes.append(run_scan(scan, scheduler=address, progress=False))
    serial, cluster = ([p["combined"] for p in plane["points"]] for plane in planes)
    assert serial == cluster
    assert [p["status"] for p in planes[1]["points"]] == ["ok"]
