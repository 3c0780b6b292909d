"""A network published with its batch fixed to 1: row by row vs re-exported, one core.

ATLAS-SUSY-2019-04's networks (``input.1`` float32 [1, 65]) take one event per onnxruntime
call. On a chunk of rows (default 10 000) of the 6-jet network this prints the median of a
few repeats of:

- bare onnxruntime on the re-exported file (dynamic batch), the whole chunk in one call;
- bare onnxruntime on the published file, one call per row (the floor of any row loop);
- ``NetworkSession.run`` on prepared rows, with the card of each file;
- ``NetworkSession.evaluate`` on events (inputs built from the card), with each card.

The published files are read from ../shared/data/atlas_susy_2019_04 (never copied into the
repository; copied to a temporary folder, where the cards are made): without them the
script says so and exits 0.

    python benchmarks/bench_fixed_batch.py [--rows 10000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
from _timing import median_seconds

from recast.io import write_json
from recast.preserve.card import NetworkCard
from recast.preserve.importers import import_network, write_imported_card
from recast.preserve.lwtnn import read_lwtnn
from recast.preserve.session import NetworkSession, make_session

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "atlas_susy_2019_04"
ONNX = DATA / "onnx" / "OneLeptonMultiJets2018_6jets.onnx"
LWTNN = DATA / "lwtnn" / "ATLAS_13TeV_1LEPJets_139invfb_6j.json"


def cards(folder: Path) -> tuple[NetworkCard, NetworkCard]:
    """The published file's card (batch 1) and the re-exported file's (dynamic batch)."""
    shutil.copy(ONNX, folder / ONNX.name)
    names = read_lwtnn(LWTNN).names
    sidecar = folder / "variables.json"
    write_json(sidecar, {"variables": names, "offset": [0.0] * 65, "scale": [1.0] * 65})
    made = []
    for stem, dynamic in (("fixed", False), ("dynamic", True)):
        card_path = folder / f"{stem}.card.json"
        document = import_network(
            folder / ONNX.name, sidecar, card_path=card_path, dynamic_batch=dynamic, unit="100 GeV"
        )
        made.append(write_imported_card(document, card_path))
    return made[0], made[1]


def events(card: NetworkCard, n: int, seed: int = 1) -> ak.Array:
    """Events holding every field the card reads: event-level values, MET, 4-10 jets."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(4, 11, n)
    jets: dict[str, Any] = {}
    fields: dict[str, Any] = {}
    met: dict[str, Any] = {}
    for _, feature in card.features():
        source = feature["source"]
        if source.get("collection") == "met":
            met[source["attribute"]] = rng.uniform(0.0, 3.0, n)
        elif "collection" in source:
            values = rng.uniform(0.2, 3.0, int(counts.sum()))
            jets[source["attribute"]] = ak.unflatten(values, counts)
        else:
            fields[source["attribute"]] = rng.uniform(0.0, 5.0, n)
    collection = next(
        f["source"]["collection"]
        for _, f in card.features()
        if f["source"].get("collection") not in (None, "met")
    )
    return ak.Array(fields | {"met": ak.zip(met), collection: ak.zip(jets)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if not ONNX.is_file() or not LWTNN.is_file():
        print(f"skipped: the published networks are not in {DATA}")
        return
    logging.getLogger("recast").setLevel(logging.ERROR)  # the import's row-by-row warning
    folder = Path(tempfile.mkdtemp(prefix="recast-bench-batch-"))
    try:
        fixed, dynamic = cards(folder)
        rows = np.random.default_rng(0).standard_normal((args.rows, 65)).astype(np.float32)
        chunk = events(fixed, args.rows)
        whole = make_session(str(dynamic.model_files()[0].path))
        single = make_session(str(fixed.model_files()[0].path))

        def one_by_one() -> None:
            for i in range(len(rows)):
                single.run(None, {"input.1": rows[i : i + 1]})

        nets = {"re-exported": NetworkSession(dynamic), "published": NetworkSession(fixed)}
        timings = {
            "bare onnxruntime, re-exported file, whole chunk": lambda: whole.run(
                None, {"input.1": rows}
            ),
            "bare onnxruntime, published file, one row per call": one_by_one,
        }
        for label, net in nets.items():
            timings[f"NetworkSession.run, {label} card"] = lambda n=net: n.run({"input.1": rows})
        for label, net in nets.items():
            timings[f"NetworkSession.evaluate, {label} card"] = lambda n=net: n.evaluate(chunk)
        print(f"6-jet network, {args.rows} rows, 1 thread, median of {args.repeats}")
        floor = None
        for label, func in timings.items():
            seconds = median_seconds(func, args.repeats)
            floor = floor or seconds
            print(
                f"  {label:<56} {seconds * 1e3:9.1f} ms  {args.rows / seconds:12,.0f} rows/s"
                f"  ({seconds / floor:5.1f}x the first)"
            )
        scores = [nets[k].run({"input.1": rows})["39"] for k in nets]
        difference = np.abs(scores[0] - scores[1]).max()
        print(f"  largest |difference| between the two cards' scores: {difference:.2g}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
