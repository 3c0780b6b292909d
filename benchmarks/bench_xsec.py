"""Built-in cross-sections: interpolating 10⁵ masses in one call, against numpy.interp.

Prints the median time of ``recast.xsec.cross_section`` over an array of masses (σ in log and
the six uncertainty magnitudes, with the range check and the exact values at grid masses), the
same for σ alone at the NLO+NLL table, and beside it the floor: ``numpy.interp`` of log σ on the
same grid and masses (the bare interpolation, with no uncertainties and no checks). A scan
evaluates one call per process, so the ratio to the floor is the cost of the rest.

    python benchmarks/bench_xsec.py [--masses 100000] [--repeats 7]
"""

from __future__ import annotations

import argparse
import os

import numpy as np
from _timing import median_seconds

from recast.xsec import cross_section, table_masses


def measure(process: str, count: int, repeats: int) -> None:
    grid = np.array(table_masses(process))
    masses = np.random.default_rng(1).uniform(grid[0], grid[-1], count)
    values = cross_section(process, grid).value_pb
    logs = np.log(values)

    def ours() -> object:
        return cross_section(process, masses)

    def floor() -> object:
        return np.exp(np.interp(masses, grid, logs))

    ours_s, floor_s = median_seconds(ours, repeats), median_seconds(floor, repeats)
    agree = np.max(np.abs(cross_section(process, masses).value_pb / np.asarray(floor()) - 1))
    print(
        f"{process:16s} {count} masses: {1e3 * ours_s:7.2f} ms ({count / ours_s / 1e6:5.1f} M/s)"
        f"   floor numpy.interp of log σ {1e3 * floor_s:6.2f} ms   ratio {ours_s / floor_s:4.1f}x"
        f"   largest relative difference {agree:.1e}"
    )


def scalar(repeats: int) -> None:
    seconds = median_seconds(lambda: cross_section("gluino-pairs", 1850.0), repeats * 100)
    print(f"one scalar call: {1e6 * seconds:.1f} µs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--masses", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    for process in ("gluino-pairs", "higgsino-n1n2"):
        measure(process, args.masses, args.repeats)
    scalar(args.repeats)


if __name__ == "__main__":
    main()
