"""The experimentalist's path, timed: bundle check, pack and install of the shipped bundles,
and the export of a scikit-learn model; each beside a floor measured in the same run.

For each shipped bundle (median of a few repeats, one process):

- floor: reading every file of the bundle and hashing it (sha256), what any verification
  must do at least;
- ``check_bundle`` (schemas, digests, cards with their reference vectors, code imported,
  cutflows) and the release check on top of it (benchmark spectra parsed; with Pythia8
  started on each one, the default of ``recast bundle check``);
- floor for packing: a plain ``tarfile`` gzip archive of the same files; then ``pack_bundle``
  (check, manifest, reproducible archive);
- floor for installing: extracting that plain archive; then ``install_bundle`` (every member
  checked, every digest verified, the bundle checked, moved into place).

Each bundle is timed as a copy under another id (``ID_COPY``, digests re-recorded): a shipped
id cannot be installed.

Then a GradientBoosting classifier (100 trees, 10 features): bare ``skl2onnx.to_onnx`` (the
floor) against ``export_sklearn`` (conversion, references from the original model, onnxruntime
reproducing them, the card validated and written).

    python benchmarks/bench_release.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import shutil
import tarfile
import tempfile
from pathlib import Path

import numpy as np
from _timing import median_seconds

from recast.analysis.bundle import available, check_bundle, stamp_bundle
from recast.analysis.packaging import bundle_files, install_bundle, pack_bundle
from recast.io import write_json
from recast.pipeline.release_check import check_release
from recast.schema import load_json


def _hash_all(folder: Path, files: list[str]) -> None:
    for relative in files:
        hashlib.sha256((folder / relative).read_bytes()).hexdigest()


def _plain_archive(folder: Path, files: list[str], output: Path) -> None:
    with tarfile.open(output, "w:gz") as tar:
        for relative in files:
            tar.add(folder / relative, arcname=f"{folder.name}/{relative}")


def _plain_extract(archive: Path, target: Path) -> None:
    shutil.rmtree(target, ignore_errors=True)
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")


def _renamed_copy(folder: Path, work: Path) -> Path:
    """The bundle under another id (a shipped id cannot be installed), digests re-recorded."""
    new_id = f"{folder.name}_COPY"
    copy = work / new_id
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("__pycache__"))
    for path in copy.rglob("*.json"):
        document = load_json(path)
        if isinstance(document, dict) and document.get("analysis") == folder.name:
            write_json(path, {**document, "analysis": new_id})  # cutflows, histograms
    write_json(copy / "analysis.json", {**load_json(copy / "analysis.json"), "id": new_id})
    stamp_bundle(copy, artefacts=True)
    return copy


def bench_bundle(bundle_id: str, shipped: Path, work: Path, repeats: int) -> None:
    folder = _renamed_copy(shipped, work)
    files = bundle_files(folder)
    size = sum((folder / f).stat().st_size for f in files) / 1e6
    hashing = median_seconds(lambda: _hash_all(folder, files), repeats)
    checking = median_seconds(lambda: check_bundle(folder), repeats)
    parsed = median_seconds(lambda: check_release(folder, pythia=False), repeats)
    started = median_seconds(lambda: check_release(folder, pythia=True), repeats)
    plain = work / f"{bundle_id}.plain.tar.gz"
    packed = work / f"{bundle_id}.tar.gz"
    tar_floor = median_seconds(lambda: _plain_archive(folder, files, plain), repeats)
    packing = median_seconds(lambda: pack_bundle(folder, packed), repeats)
    untar_floor = median_seconds(lambda: _plain_extract(plain, work / "plain"), repeats)
    installing = median_seconds(lambda: install_bundle(packed, replace=True), repeats)
    print(f"\n{bundle_id}: {len(files)} files, {size:.2f} MB")
    rows = [
        ("floor: read + sha256 every file", hashing, None),
        ("check_bundle", checking, hashing),
        ("bundle check --no-pythia (release check)", parsed, hashing),
        ("bundle check (Pythia8 started per benchmark)", started, hashing),
        ("floor: plain tar.gz of the files", tar_floor, None),
        ("bundle pack", packing, tar_floor),
        ("floor: plain extraction", untar_floor, None),
        ("bundle install (verified, checked)", installing, untar_floor),
    ]
    for label, seconds, floor in rows:
        ratio = f"{seconds / floor:8.1f}× floor" if floor else ""
        print(f"  {label:<46} {seconds * 1e3:9.1f} ms  {ratio}")


def bench_export(work: Path, repeats: int) -> None:
    import skl2onnx
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.ensemble import GradientBoostingClassifier

    from recast.preserve.export import export_sklearn

    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 10)).astype(np.float32)
    y = (x[:, :3].sum(axis=1) > 0).astype(int)
    model = GradientBoostingClassifier(n_estimators=100, max_depth=3, random_state=0).fit(x, y)
    template = {
        "name": "bench_bdt",
        "inputs": [
            {
                "name": "x",
                "layout": "flat",
                "features": [
                    {
                        "index": i,
                        "name": f"v{i}",
                        "definition": f"event variable v{i}",
                        "role": "feature",
                        "unit": "1",
                        "source": {"attribute": f"v{i}"},
                        "preprocessing": {"formula": "x"},
                    }
                    for i in range(10)
                ],
            }
        ],
    }

    def bare() -> None:
        skl2onnx.to_onnx(
            model,
            initial_types=[("x", FloatTensorType([None, 10]))],
            options={id(model): {"zipmap": False}},
        )

    floor = median_seconds(bare, repeats)
    export = median_seconds(lambda: export_sklearn(model, template, work / "export"), repeats)
    print("\nGradientBoostingClassifier, 100 trees of depth 3, 10 features")
    print(f"  {'floor: bare skl2onnx.to_onnx':<46} {floor * 1e3:9.1f} ms")
    print(f"  {'export_sklearn (references, check, card)':<46} {export * 1e3:9.1f} ms  "
          f"{export / floor:8.1f}× floor")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # "importing the code of bundle ..." on every check
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.environ["RECAST_DATA_DIR"] = str(work / "data")  # installs land here, not at home
        for bundle_id, folder in available().items():
            bench_bundle(bundle_id, folder, work, args.repeats)
        bench_export(work, args.repeats)


if __name__ == "__main__":
    main()
