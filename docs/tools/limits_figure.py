"""Draw docs/figures/limits_exclusion.png: a scan of the gluino–LSP plane with 22 regions.

    python docs/tools/limits_figure.py [-o docs/figures/limits_exclusion.png] [--workers 2]

The likelihood is the published region table of ATLAS-SUSY-2018-30
(../shared/data/atlas_susy_2018_30/signal_regions.json: observed, background ± uncertainty);
the signal is the illustrative toy of :mod:`recast.likelihood.demo` (a falling gluino
cross-section, smooth efficiencies around the masses each region targets), not a physics
result. Each point takes its best expected region; CLs is exact (low counts). About 20 s on
one CPU core; needs matplotlib (extra ``plot``).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from recast.likelihood.demo import gluino_grid
from recast.likelihood.simplified import load_regions
from recast.pipeline.scan import scan
from recast.report.scan_plot import exclusion_plot

ROOT = Path(__file__).resolve().parents[2]
FIGURE = ROOT / "docs" / "figures" / "limits_exclusion.png"
TABLE = ROOT.parent / "shared" / "data" / "atlas_susy_2018_30" / "signal_regions.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-o", "--output", type=Path, default=FIGURE)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    regions = load_regions(TABLE)
    grid = gluino_grid(regions, np.arange(1500, 2801, 50), np.arange(0, 2001, 100))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "grid.json"
        path.write_text(json.dumps(grid))
        start = time.perf_counter()
        document = scan(TABLE, path, workers=args.workers, with_limits=False)
        print(
            f"{len(document['points'])} points, {document['excluded']} excluded, "
            f"{time.perf_counter() - start:.1f} s"
        )
    exclusion_plot(
        document,
        args.output,
        title="ATLAS-SUSY-2018-30 regions, illustrative gluino signal",
    )
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
