"""What the Python API costs over the pipeline it wraps, next to floors measured in the same run.

Prints, medians of several repeats on one core:

- ``import recast`` (the curated names load on first use) against the floor of starting
  Python itself, and against importing the pipeline that a first ``recast.run`` loads;
- ``recast.run`` on a tt̄ HepMC3 file with the example bundle, typed results and all,
  against the floor: the pipeline's own ``execute`` and ``results_document`` on the same file;
- building the typed views (``table()``, ``records()``, printing) of that result.

    python benchmarks/bench_api.py [--events 1000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from _timing import median_seconds
from bench_events import sample

BUNDLE = "EXAMPLE_JETS_MET"


def python_seconds(code: str, repeats: int) -> float:
    """Median wall seconds of a fresh interpreter running ``code``."""
    return median_seconds(lambda: subprocess.run([sys.executable, "-c", code], check=True), repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import recast
    from recast.analysis.bundle import load_bundle
    from recast.pipeline.run import execute, results_document

    bare = python_seconds("pass", args.repeats)
    light = python_seconds("import recast", args.repeats)
    heavy = python_seconds("import recast.pipeline.api", args.repeats)
    print(f"python start (floor)          {bare:7.3f} s")
    print(f"import recast                 {light:7.3f} s  (+{light - bare:.3f} s over the floor)")
    print(f"import the pipeline           {heavy:7.3f} s  (what the first recast.run loads)")

    path = sample(args.events)
    bundle = load_bundle(BUNDLE)

    def pipeline() -> object:
        unit, settings = execute(bundle, [path], cross_section_given=True)
        return results_document(bundle, unit, settings, 1.0)

    def api() -> object:
        return recast.run(bundle, path, xsec=1.0)

    floor = median_seconds(pipeline, args.repeats)
    ours = median_seconds(api, args.repeats)
    print(f"pipeline execute + document   {floor:7.3f} s  {args.events / floor:8.0f} events/s")
    print(
        f"recast.run                    {ours:7.3f} s  {args.events / ours:8.0f} events/s  "
        f"({ours / floor:.2f}x the floor)"
    )
    result = recast.run(bundle, path, xsec=1.0)
    views = median_seconds(lambda: (result.table(), result.records(), str(result)), args.repeats)
    print(f"table + records + print       {views * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
