"""Bundles as packages: a scaffold to start one, a reproducible archive to share it, and a user
bundle folder to install it into.

A bundle is code, so sharing one is guarded at every step. ``recast bundle new ID`` writes a
scaffold that passes ``recast bundle check`` as written, with ``TODO`` markers where the author
must fill in (:func:`todo_markers` finds them). ``recast bundle pack`` packs only a bundle that
passes its check, into a ``.tar.gz`` whose bytes depend on the bundle's files alone (sorted
members, mtime 0 or ``$SOURCE_DATE_EPOCH``, no owner), with ``ID/MANIFEST.json`` recording the
sha256 of every file. ``recast bundle install`` reads every member of an archive before writing
anything: regular files and folders under one top folder only (no absolute path, no ``..``, no
link, no device), each matching the manifest; it extracts into a hidden folder inside the user
bundle folder, checks the bundle there, and only then renames it into place, so a failure
leaves the user bundle folder as it was.

The user bundle folder is ``$RECAST_DATA_DIR/analyses`` (by default
``$XDG_DATA_HOME/recast-nn/analyses``, i.e. ``~/.local/share/recast-nn/analyses``). A bare id
names a shipped bundle first, then an installed one (:func:`recast.analysis.bundle.locate`);
an installed bundle never has a shipped bundle's id, since install refuses one.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import gzip
import hashlib
import io
import json
import logging
import os
import re
import shutil
import stat
import sys
import tarfile
import tempfile
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from .. import schema
from ..errors import BundleNameError, OutputError, RecastError, UsageError
from ..io import atomic_open, check_output, sha256_file, write_json, write_text
from ..version import __version__
from .bundle import (  # the user bundle folder is the lookup's, so bundle.py's
    ID_PATTERN,
    BundleCheckError,
    BundleNotFoundError,
    _artefacts,
    available,
    check_bundle,
    installed,
    read_document,
    user_bundles_root,
)
from .code import stamp_code

__all__ = [
    "MANIFEST",
    "BundleArchiveError",
    "BundleExistsError",
    "Installed",
    "Packed",
    "bundle_files",
    "install_bundle",
    "installed",
    "new_bundle",
    "pack_bundle",
    "read_archive",
    "todo_markers",
    "todo_summary",
    "user_bundles_root",
]

log = logging.getLogger(__name__)

#: the file ``recast bundle pack`` adds at the top of the bundle's folder in the archive
MANIFEST = "MANIFEST.json"
MANIFEST_KIND = "recast-nn bundle archive"
MANIFEST_FORMAT = 1
#: what marks a field of a scaffold that the author must fill in
TODO = "TODO"
#: an archive larger than this (unpacked) or with more members is refused: a bundle is small
MAX_ARCHIVE_BYTES = 1 << 30
MAX_ARCHIVE_MEMBERS = 10_000

_FIX = "Install only archives made by `recast bundle pack`, or re-pack the bundle with it"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class BundleArchiveError(RecastError, ValueError):
    """A bundle archive that is refused: a member leaving its folder, a link or device, a
    digest that differs from its manifest, more than one top folder, not an archive at all."""

    exit_code = 1


class BundleExistsError(RecastError, FileExistsError):
    """A bundle of that id is already installed (and ``--replace`` was not given)."""


# -- the user bundle folder ---------------------------------------------------------------
def _check_id(bundle_id: str) -> None:
    if ID_PATTERN.match(bundle_id):
        return
    suggestion = re.sub(r"[^A-Z0-9_]+", "_", bundle_id.upper()).strip("_")
    suggestion = re.sub(r"^[^A-Z]+", "", suggestion)
    hint = f", e.g. {suggestion}" if suggestion and ID_PATTERN.match(suggestion) else ""
    raise UsageError(
        f"{bundle_id!r} is not a bundle id: an id is capital letters, digits and '_', "
        f"starting with a letter (analysis.json's id, ^[A-Z][A-Z0-9_]*$){hint}"
    )


def _refuse_shipped(bundle_id: str, where: str) -> None:
    shipped = available()
    if bundle_id in shipped:
        raise BundleNameError(
            f"{where}: {bundle_id} is the id of a shipped bundle ({shipped[bundle_id]}); a "
            "bundle of yours may not take it (a bare id would then name two bundles). Give "
            "yours another id: its folder's name and analysis.json's id"
        )


# -- TODO markers -------------------------------------------------------------------------
def todo_markers(document: Any, where: str = "") -> list[str]:
    """The JSON paths (``title``, ``status.reason``, ``choices[0].reason``) of the strings of
    ``document`` that hold the marker ``TODO``, in the document's order."""
    if isinstance(document, str):
        return [where or "(document)"] if TODO in document else []
    found: list[str] = []
    if isinstance(document, dict):
        for key, value in document.items():
            found += todo_markers(value, f"{where}.{key}" if where else str(key))
    elif isinstance(document, list):
        for i, value in enumerate(document):
            found += todo_markers(value, f"{where}[{i}]")
    return found


def todo_summary(document: Any) -> str | None:
    """``"3 TODO markers left: title, status.reason, provenance.notes"``, or None when none."""
    markers = todo_markers(document)
    if not markers:
        return None
    plural = "marker" if len(markers) == 1 else "markers"
    return f"{len(markers)} {TODO} {plural} left: {', '.join(markers)}"


# -- recast bundle new --------------------------------------------------------------------
def _class_name(bundle_id: str) -> str:
    """``MY_SEARCH_2`` → ``MySearch2``: the scaffold's Analysis subclass."""
    return "".join(part.capitalize() for part in bundle_id.split("_") if part) or "Search"


# The scaffold's files are built here, not read from template files: no .py file ships that
# anything could import by accident, and nothing is added to the wheel.
_ANALYSIS_PY = '''\
"""{id}: TODO: one line saying what the search selects.

A new bundle (recast bundle new): one example region, SR, of two cuts on simple variables.
Replace them with the publication's selection. Each cut is declared once, by name, with
@cut; analysis.json lists every region as an ordered list of these names. After each edit,
read the code and record its digest: recast bundle stamp ./{id}
"""

from __future__ import annotations

from typing import Any

import awkward as ak

from recast.analysis import Analysis, cut


class {cls}(Analysis):
    """TODO: the selection of the publication, region by region."""

    def variables(self, events: ak.Array) -> dict[str, Any]:
        """Variables the cuts share, computed once per chunk."""
        return {{"n_jets": ak.num(events.jets, axis=1)}}

    @cut("two_jets", "at least two jets (their pT and |η| cuts: objects in analysis.json)")
    def two_jets(self, events: ak.Array) -> ak.Array:
        return events.n_jets >= 2

    @cut("met_100", "missing transverse momentum above 100 GeV")
    def met_100(self, events: ak.Array) -> ak.Array:
        return events.met.pt > 100.0
'''

_README = """\
# {id}

TODO: the publication this bundle preserves (title, arXiv, INSPIRE, HEPData record), and what
the bundle covers of it.

A new bundle, made by `recast bundle new {id}`; see "Writing an analysis bundle" in the
recast-nn documentation. Before sharing it:

- TODO: write the selection in `analysis.py` (each cut once, by name) and the regions in
  `analysis.json` as ordered lists of those names; remove the example region SR;
- TODO: fill every field of `analysis.json` that says TODO (`recast bundle check` lists
  them), and set `sqrt_s` and `luminosity`; add `provenance.arxiv`, `inspire`,
  `hepdata_doi` and `license` when the paper has them;
- TODO: add the published cutflows (`cutflows/`, one per region and benchmark point), and
  the networks with their cards and the detector description if the search has them;
- record the digests and check: `recast bundle stamp ./{id} --artefacts`, then
  `recast bundle check ./{id}`;
- compare with the published cutflows (`recast validate ./{id} --benchmark NAME ...`),
  and only then set `status` to VALIDATED.

Share it with `recast bundle pack ./{id} -o {id}.tar.gz`; others install the archive with
`recast bundle install {id}.tar.gz` and run it by its id.
"""


def _scaffold_document(bundle_id: str) -> dict[str, Any]:
    return {
        "schema_version": schema.current_version("analysis"),
        "id": bundle_id,
        "title": "TODO: the title of the publication",
        "experiment": "TODO: ATLAS or CMS",
        "sqrt_s": 13,
        "luminosity": 139,
        "status": {
            "state": "UNVALIDATED",
            "reason": "TODO: a new bundle, not compared with any published cutflow yet",
        },
        "code": {"module": "analysis.py", "class": _class_name(bundle_id), "files": {}},
        "objects": {"jet_min_pt": 25.0, "jet_max_abs_eta": 2.5},
        "regions": {
            "SR": {
                "kind": "signal",
                "description": "TODO: an example region; replace it by the publication's",
                "cuts": ["two_jets", "met_100"],
            }
        },
        "validation": {"relative_tolerance": 0.2, "max_pull": 2.0},
        "provenance": {
            "analysis_id": "TODO: the experiment's id of the analysis",
            "license": "TODO: an SPDX licence identifier, e.g. CC-BY-4.0",
            "notes": "TODO: where the selection comes from (the paper, its auxiliary material)",
        },
        "choices": [],
    }


def new_bundle(bundle_id: str, parent: str | Path | None = None) -> Path:
    """Write the scaffold of a new bundle ``ID`` into ``parent/ID`` (``./ID`` by default):
    ``analysis.json`` (UNVALIDATED, its ``code.files`` recorded, TODO markers), ``analysis.py``
    (one example region of two cuts) and ``README.md``. It passes ``recast bundle check`` as
    written. Refused: an id that is not one, a shipped bundle's id, an existing target.
    The folder appears whole or not at all. Returns it."""
    _check_id(bundle_id)
    _refuse_shipped(bundle_id, f"recast bundle new {bundle_id}")
    base = Path(parent) if parent is not None else Path()
    target = base / bundle_id
    if target.exists() or target.is_symlink():
        raise OutputError(
            f"{target}: exists; `recast bundle new` writes a new folder and never touches an "
            "existing one. Give another id, another parent folder (-o), or move it away"
        )
    check_output(target, field="-o/--output", folder=True)
    try:
        base.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{bundle_id}.", suffix=".new", dir=base))
    except OSError as err:
        raise OutputError(f"{target}: cannot write: {err.strerror or err}") from None
    try:
        write_text(
            staging / "analysis.py", _ANALYSIS_PY.format(id=bundle_id, cls=_class_name(bundle_id))
        )
        write_text(staging / "README.md", _README.format(id=bundle_id))
        document = stamp_code(staging, _scaffold_document(bundle_id))
        schema.validate(document, "analysis", str(target / "analysis.json"))
        write_json(staging / "analysis.json", document)
        os.chmod(staging, 0o777 & ~_umask())  # mkdtemp makes it private
        if target.exists():  # appeared meanwhile: rename would replace an empty folder
            raise OutputError(f"{target}: appeared while the bundle was written; nothing written")
        os.rename(staging, target)
    except OSError as err:
        raise OutputError(f"{target}: cannot write: {err.strerror or err}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone already once renamed
    log.info("%s: new bundle %s written", target, bundle_id)
    return target


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


# -- the files of a bundle ----------------------------------------------------------------
def _hidden(relative: PurePosixPath) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def bundle_files(folder: Path) -> list[str]:
    """The files of the bundle at ``folder`` that an archive carries, relative with forward
    slashes and sorted: every regular file but hidden ones (``.git``, ``.DS_Store``), caches
    (``__pycache__``, ``*.pyc``) and a top-level ``MANIFEST.json`` (an archive's own, which
    pack writes anew). A symbolic link or a special file is refused: an archive holds files."""
    found: list[str] = []
    for root, dirs, files in os.walk(folder):
        here = Path(root)
        for name in sorted(dirs):
            relative = PurePosixPath((here / name).relative_to(folder).as_posix())
            if (here / name).is_symlink():
                raise _link_in_bundle(folder, relative)
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.startswith("."))
        for name in sorted(files):
            path = here / name
            relative = PurePosixPath(path.relative_to(folder).as_posix())
            if _hidden(relative) or name.endswith(".pyc") or str(relative) == MANIFEST:
                continue
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                raise _link_in_bundle(folder, relative)
            if not stat.S_ISREG(mode):
                raise UsageError(
                    f"{folder / relative}: not a regular file (a device, pipe or socket); a "
                    "bundle holds files and folders only: remove it"
                )
            found.append(str(relative))
    return sorted(found)


def _link_in_bundle(folder: Path, relative: PurePosixPath) -> UsageError:
    return UsageError(
        f"{folder / relative}: a symbolic link; an archive of a bundle holds files and folders "
        "only (an installed link could point anywhere): replace the link by what it names"
    )


def _mode(path: Path) -> int:
    """0o755 for an executable file, 0o644 otherwise: the archive keeps no other bit."""
    return 0o755 if path.stat().st_mode & stat.S_IXUSR else 0o644


# -- recast bundle pack -------------------------------------------------------------------
@dataclass(frozen=True)
class Packed:
    """What :func:`pack_bundle` wrote."""

    path: Path
    bundle: str
    sha256: str  # of the archive
    manifest: dict[str, Any]
    checked: list[str] = field(default_factory=list)  # what check_bundle verified


def _epoch() -> int:
    """The time every member of an archive carries: ``$SOURCE_DATE_EPOCH``, else 0."""
    text = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not text:
        return 0
    if not text.isdigit() or int(text) >= 1 << 32:
        raise UsageError(
            f"SOURCE_DATE_EPOCH={text!r}: not a time in seconds since 1970 (a whole number "
            "below 2^32); set it to one (e.g. `git log -1 --format=%ct`), or unset it for 0"
        )
    return int(text)


def _archive_suffix(output: Path, field: str) -> None:
    if not output.name.endswith((".tar.gz", ".tgz")):
        raise OutputError(
            f"{field} {output}: a bundle archive is a gzip-compressed tar file; give a name "
            "ending in .tar.gz (e.g. MY_SEARCH.tar.gz)"
        )


def pack_bundle(id_or_path: str | Path, output: str | Path) -> Packed:
    """Pack a bundle (a shipped or installed id, or a folder) into ``output`` (``.tar.gz``):
    only once it passes :func:`~recast.analysis.bundle.check_bundle` (which imports its code).

    The archive holds one top folder named by the bundle's id, with the bundle's files
    (:func:`bundle_files`) and ``ID/MANIFEST.json``: the format, the recast-nn version, the
    bundle's id, title and status, the sha256 of ``analysis.json`` and of every file, and
    their count and size. Its bytes depend on those alone: members sorted, folders 0755,
    files 0644 (0755 if executable), owner 0 with no names, mtime ``$SOURCE_DATE_EPOCH`` or
    0, gzip without name or time. Written atomically; its sha256 is returned."""
    target = Path(output)
    _archive_suffix(target, "-o/--output")
    epoch = _epoch()
    folder, document = read_document(id_or_path)
    check_output(target, inputs=[folder])
    source = folder / "analysis.json"
    try:
        checked = check_bundle(folder)
    except BundleCheckError as exc:
        raise BundleCheckError(
            f"{source}: not packed, the bundle fails `recast bundle check`", exc.problems
        ) from None
    files = bundle_files(folder)
    named = set(document["code"]["files"]) | {str(a["path"]) for _, a in _artefacts(document)}
    if left := sorted(p for p in named if os.path.normpath(p) not in files):
        raise UsageError(
            f"{source}: names {', '.join(left)}, which an archive leaves out (hidden files and "
            "caches are not packed); move them out of the hidden folder and stamp the bundle"
        )
    bundle_id = str(document["id"])
    digests = {relative: sha256_file(folder / relative) for relative in files}
    manifest = {
        "kind": MANIFEST_KIND,
        "format": MANIFEST_FORMAT,
        "bundle": bundle_id,
        "title": document.get("title", ""),
        "status": document["status"]["state"],
        "recast_nn_version": __version__,
        "analysis_sha256": digests["analysis.json"],
        "summary": {
            "files": len(files),
            "bytes": sum((folder / relative).stat().st_size for relative in files),
            "python_files": len(document["code"]["files"]),
        },
        "files": digests,
    }
    # written, not read: documents are read through recast.schema
    manifest_bytes = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode()
    entries: list[tuple[str, Path | bytes, int]] = [(MANIFEST, manifest_bytes, 0o644)]
    entries += [(relative, folder / relative, _mode(folder / relative)) for relative in files]
    with atomic_open(target, "wb") as handle:
        _write_archive(handle, bundle_id, entries, digests, epoch)
    digest = sha256_file(target)
    log.info("%s: bundle %s packed, sha256 %s", target, bundle_id, digest)
    return Packed(target, bundle_id, digest, manifest, checked)


def _write_archive(
    handle: IO[bytes],
    top: str,
    entries: list[tuple[str, Path | bytes, int]],
    digests: dict[str, str],
    epoch: int,
) -> None:
    """The reproducible tar.gz of ``entries`` (relative path, file or bytes, mode) under
    ``top/``, each file verified against ``digests`` as it is read (a file changed since its
    digest was taken is refused, not packed)."""
    folders = {top}
    for relative, _, _ in entries:
        parents = PurePosixPath(relative).parents
        folders.update(f"{top}/{p}" for p in parents if str(p) != ".")
    members: list[tuple[str, Path | bytes | None, int]] = [(f, None, 0o755) for f in folders]
    members += [(f"{top}/{relative}", content, mode) for relative, content, mode in entries]
    members.sort(key=lambda m: m[0])
    # no file name and a fixed time in the gzip header: the bytes depend on the content alone
    gz = gzip.GzipFile(fileobj=handle, mode="wb", filename="", mtime=epoch, compresslevel=9)
    with gz, tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, content, mode in members:
            info = tarfile.TarInfo(name)
            info.mtime, info.mode = epoch, mode
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if content is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
                continue
            data = content if isinstance(content, bytes) else content.read_bytes()
            relative = name[len(top) + 1 :]
            if relative in digests and hashlib.sha256(data).hexdigest() != digests[relative]:
                raise UsageError(
                    f"{relative}: changed while the bundle was being packed; nothing was "
                    "written. Pack it again once nothing writes into it"
                )
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


# -- reading an archive -------------------------------------------------------------------
@dataclass
class _Archive:
    path: Path
    top: str
    manifest: dict[str, Any]
    members: list[tarfile.TarInfo]


def _member_problem(member: tarfile.TarInfo) -> str | None:
    """Why ``member`` cannot be part of a bundle, or None."""
    name = member.name
    if "\\" in name:
        return "has a backslash in its name (a Windows path)"
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return "has an absolute path"
    if ".." in PurePosixPath(name).parts:
        return "leads outside its folder ('..' in its path)"
    if member.issym():
        return f"is a symbolic link (to {member.linkname!r}); an archive of a bundle holds files"
    if member.islnk():
        return f"is a hard link (to {member.linkname!r}); an archive of a bundle holds files"
    if member.ischr() or member.isblk():
        return "is a device; an archive of a bundle holds files"
    if member.isfifo():
        return "is a FIFO; an archive of a bundle holds files"
    if not (member.isreg() or member.isdir()):
        return "is neither a file nor a folder"
    return None


@contextlib.contextmanager
def _open_archive(path: Path) -> Iterator[tarfile.TarFile]:
    try:
        tar = tarfile.open(path, mode="r:gz")  # noqa: SIM115 (closed below; errors translated)
    except FileNotFoundError:
        raise BundleArchiveError(f"{path}: no such file; give a bundle folder or archive") from None
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BundleArchiveError(
            f"{path}: not a gzip-compressed tar archive ({exc}); give a .tar.gz made by "
            "`recast bundle pack`, or a bundle folder"
        ) from None
    with tar:
        try:
            yield tar
        except (tarfile.TarError, EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise BundleArchiveError(
                f"{path}: truncated or corrupt ({exc}); nothing was installed. Fetch the "
                "archive again"
            ) from None


def _refuse(archive: Path, member: str, what: str, fix: str = _FIX) -> BundleArchiveError:
    return BundleArchiveError(f"{archive}: member {member!r} {what}; nothing was installed. {fix}")


def _hash_member(tar: tarfile.TarFile, member: tarfile.TarInfo) -> str:
    digest = hashlib.sha256()
    handle = tar.extractfile(member)
    assert handle is not None  # a regular file
    with handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _manifest(archive: Path, tar: tarfile.TarFile, top: str, regular: dict[str, Any]) -> Any:
    name = f"{top}/{MANIFEST}"
    if name not in regular:
        raise BundleArchiveError(
            f"{archive}: has no {name}, so its files cannot be verified; nothing was "
            "installed. Make the archive with `recast bundle pack`, or install the folder"
        )
    handle = tar.extractfile(regular[name])
    assert handle is not None
    with handle:
        manifest = schema.loads_json(handle.read(1 << 24), f"{archive}: {name}")
    problems = []
    if not isinstance(manifest, dict):
        manifest, problems = {}, ["it is not a JSON object"]
    if manifest and manifest.get("kind") != MANIFEST_KIND:
        problems.append(f"kind is {manifest.get('kind')!r}, not {MANIFEST_KIND!r}")
    if manifest and manifest.get("format") != MANIFEST_FORMAT:
        problems.append(
            f"format is {manifest.get('format')!r}; this recast-nn reads {MANIFEST_FORMAT} "
            "(upgrade recast-nn, or re-pack the bundle)"
        )
    if manifest and manifest.get("bundle") != top:
        problems.append(f"bundle is {manifest.get('bundle')!r}, not its folder's name {top!r}")
    files = manifest.get("files")
    if manifest and not (
        isinstance(files, dict)
        and all(
            isinstance(k, str) and isinstance(v, str) and _SHA256.match(v) for k, v in files.items()
        )
    ):
        problems.append("files is not an object of relative paths and sha256 digests")
    if problems:
        raise BundleArchiveError(
            f"{archive}: {name}: {'; '.join(problems)}; nothing was installed. {_FIX}"
        )
    return manifest


def read_archive(path: str | Path) -> dict[str, Any]:
    """The manifest of a bundle archive, once every member is verified (nothing is written):
    one top folder; regular files and folders only, none leaving it; at most
    ``MAX_ARCHIVE_MEMBERS`` members and ``MAX_ARCHIVE_BYTES`` unpacked; ``TOP/MANIFEST.json``
    listing exactly the other files, each with its sha256. Raises
    :class:`BundleArchiveError` naming the archive, the member and the fix."""
    return _read_archive(Path(path)).manifest


def _read_archive(archive: Path) -> _Archive:
    with _open_archive(archive) as tar:
        members = tar.getmembers()
        if len(members) > MAX_ARCHIVE_MEMBERS:
            raise BundleArchiveError(
                f"{archive}: holds {len(members)} members, more than a bundle has (at most "
                f"{MAX_ARCHIVE_MEMBERS}); nothing was installed. {_FIX}"
            )
        if (size := sum(m.size for m in members if m.isreg())) > MAX_ARCHIVE_BYTES:
            raise BundleArchiveError(
                f"{archive}: unpacks to {size} bytes, more than a bundle has (at most "
                f"{MAX_ARCHIVE_BYTES}); nothing was installed. {_FIX}"
            )
        tops: set[str] = set()
        seen: set[str] = set()
        regular: dict[str, tarfile.TarInfo] = {}
        for member in members:
            if (problem := _member_problem(member)) is not None:
                raise _refuse(archive, member.name, problem)
            parts = PurePosixPath(member.name).parts
            if not parts or (len(parts) == 1 and not member.isdir()):
                raise _refuse(archive, member.name, "is not inside the archive's top folder")
            normal = "/".join(parts)
            inner = PurePosixPath(*parts[1:]) if len(parts) > 1 else PurePosixPath()
            if _hidden(inner) or "__pycache__" in parts or normal.endswith(".pyc"):
                raise _refuse(
                    archive, member.name, "is a hidden file or a cache, which `recast bundle "
                    "pack` never packs (it could hold code no digest covers)"
                )  # fmt: skip
            if normal in seen:
                raise _refuse(archive, member.name, "appears twice (the second would win)")
            seen.add(normal)
            tops.add(parts[0])
            if member.isreg():
                regular[normal] = member
        if len(tops) != 1:
            raise BundleArchiveError(
                f"{archive}: holds {len(tops)} top folders ({', '.join(sorted(tops)) or 'none'})"
                "; an archive of `recast bundle pack` holds one, named by the bundle's id; "
                "nothing was installed. Pack each bundle on its own"
            )
        (top,) = tops
        if not ID_PATTERN.match(top):
            raise BundleArchiveError(
                f"{archive}: its top folder {top!r} is not a bundle id (capitals, digits and "
                f"'_'); nothing was installed. {_FIX}"
            )
        manifest = _manifest(archive, tar, top, regular)
        listed: dict[str, str] = {f"{top}/{k}": v for k, v in manifest["files"].items()}
        for name, member in regular.items():
            if name == f"{top}/{MANIFEST}":
                continue
            if name not in listed:
                raise _refuse(
                    archive, member.name, f"is not listed in {top}/{MANIFEST} (added after "
                    "packing?)", "Get the archive again from its source, or re-pack the bundle"
                )  # fmt: skip
            if (actual := _hash_member(tar, member)) != listed[name]:
                raise _refuse(
                    archive,
                    member.name,
                    f"has sha256 {actual} but {top}/{MANIFEST} records {listed[name]}: the "
                    "archive was changed after it was packed",
                    "Get the archive again from its source, or re-pack the bundle",
                )
        if missing := sorted(set(listed) - set(regular)):
            raise BundleArchiveError(
                f"{archive}: {top}/{MANIFEST} lists {', '.join(missing)}, which the archive "
                "does not hold; nothing was installed. Get the archive again from its source"
            )
    return _Archive(archive, top, manifest, members)


# -- recast bundle install ----------------------------------------------------------------
@dataclass(frozen=True)
class Installed:
    """What :func:`install_bundle` did."""

    bundle: str
    folder: Path  # where it is installed
    source: Path  # the archive or folder it came from
    replaced: bool  # an installed bundle of that id was replaced
    files: int  # the files verified (against the manifest, or copied from the folder)
    checked: list[str] = field(default_factory=list)  # what check_bundle verified


def install_bundle(source: str | Path, *, replace: bool = False) -> Installed:
    """Install a bundle from its folder or from an archive of :func:`pack_bundle` into the
    user bundle folder (:func:`user_bundles_root`), where its id then names it.

    An archive is read whole first (:func:`read_archive`); the bundle is then extracted (or
    its folder copied, :func:`bundle_files`) into a hidden folder inside the user bundle
    folder, checked there with :func:`~recast.analysis.bundle.check_bundle` (which imports
    its code), and renamed into place. Refused: a shipped bundle's id (always), an installed
    one's unless ``replace`` (which swaps the folders atomically where Linux allows), any
    problem of the archive or the check. On any failure the user bundle folder is left as it
    was."""
    path = Path(source).expanduser()
    if path.is_dir():
        return _install(path, replace, archive=None)
    if not path.exists():
        raise BundleNotFoundError(
            f"{source}: no such file or folder; give a bundle folder or a .tar.gz made by "
            "`recast bundle pack`"
        )
    return _install(path, replace, archive=_read_archive(path))


def _install(path: Path, replace: bool, archive: _Archive | None) -> Installed:
    if archive is not None:
        bundle_id = archive.top
        where = str(path)
    else:
        folder, document = read_document(path)  # a Path: never taken for an id
        bundle_id = str(document["id"])
        where = str(folder)
    _refuse_shipped(bundle_id, where)
    root = user_bundles_root()
    target = root / bundle_id
    exists = target.exists() or target.is_symlink()
    if exists and not replace:
        raise BundleExistsError(
            f"{where}: bundle {bundle_id} is already installed ({target}); add --replace to "
            "replace it, or remove that folder first"
        )
    created = _make_root(root)
    _sweep_stale_staging(root)
    staging: Path | None = None
    try:
        staging = Path(tempfile.mkdtemp(prefix=".install-", dir=root))
        unpacked = staging / bundle_id
        count = _extract(archive, staging) if archive is not None else _copy(path, unpacked)
        checked = _check_unpacked(unpacked, bundle_id, where, None if archive else path)
        _move_into_place(unpacked, target, staging)
    except BaseException:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        for folder in created:  # leave the data folder as it was
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    shutil.rmtree(staging, ignore_errors=True)  # the replaced bundle, if any
    log.info("%s: bundle %s installed in %s", where, bundle_id, target)
    return Installed(bundle_id, target, path, exists, count, checked)


#: a staging folder this old was left by an install that was killed (SIGKILL, power loss)
STALE_STAGING_SECONDS = 24 * 3600


def _sweep_stale_staging(root: Path) -> None:
    """Remove the ``.install-*`` folders killed installs left behind; a recent one may be
    another install running now, and is left alone."""
    now = time.time()
    for folder in root.glob(".install-*"):
        try:
            old = now - folder.lstat().st_mtime > STALE_STAGING_SECONDS
        except OSError:
            continue
        if old and folder.is_dir() and not folder.is_symlink():
            log.info("%s: removing what a killed install left", folder)
            shutil.rmtree(folder, ignore_errors=True)


def _make_root(root: Path) -> list[Path]:
    """Create the user bundle folder; the folders made, deepest first (to undo)."""
    missing = []
    folder = root
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(
            f"{root}: the user bundle folder cannot be created ({err.strerror or err}); set "
            "RECAST_DATA_DIR to a folder you can write to"
        ) from None
    if not os.access(root, os.W_OK | os.X_OK):
        raise OutputError(
            f"{root}: the user bundle folder is not writable; set RECAST_DATA_DIR to a folder "
            "you can write to"
        )
    return missing


def _extract(archive: _Archive, staging: Path) -> int:
    """Extract the verified members (tarfile's ``data`` filter refuses anything our checks
    missed), then verify every file on disk against the manifest once more."""
    with _open_archive(archive.path) as tar:
        members = [m for m in tar.getmembers() if m.isreg() or m.isdir()]
        if [m.name for m in members] != [m.name for m in archive.members]:
            raise BundleArchiveError(
                f"{archive.path}: changed while it was being installed; nothing was installed"
            )
        try:
            tar.extractall(staging, members=members, filter="data")
        except tarfile.FilterError as exc:
            name = getattr(getattr(exc, "tarinfo", None), "name", "?")
            raise _refuse(
                archive.path, name, f"is refused by tarfile's data filter: {exc}"
            ) from None
    unpacked = staging / archive.top
    expected = {*archive.manifest["files"], MANIFEST}
    on_disk = set(_all_files(unpacked))
    if on_disk != expected:
        differ = sorted(on_disk ^ expected)
        raise BundleArchiveError(
            f"{archive.path}: the files it unpacks to are not those of {archive.top}/"
            f"{MANIFEST} ({', '.join(differ)}); nothing was installed. {_FIX}"
        )
    for relative, digest in archive.manifest["files"].items():
        if sha256_file(unpacked / relative) != digest:
            raise BundleArchiveError(
                f"{archive.path}: {archive.top}/{relative} changed while it was being "
                "installed; nothing was installed"
            )
    return len(archive.manifest["files"])


def _all_files(folder: Path) -> list[str]:
    """Every entry below ``folder`` that is not a folder (links and special files too)."""
    found = []
    for root, dirs, files in os.walk(folder):
        for name in files + [d for d in dirs if (Path(root) / d).is_symlink()]:
            found.append((Path(root) / name).relative_to(folder).as_posix())
    return sorted(found)


def _copy(folder: Path, unpacked: Path) -> int:
    """Copy the bundle's files (:func:`bundle_files`) with normalised modes."""
    files = bundle_files(folder)
    for relative in files:
        destination = unpacked / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        data = (folder / relative).read_bytes()
        destination.write_bytes(data)
        os.chmod(destination, _mode(folder / relative) & ~_umask())
    return len(files)


def _check_unpacked(unpacked: Path, bundle_id: str, where: str, folder: Path | None) -> list[str]:
    """The unpacked bundle's id is its folder's, and it passes every check; the problems name
    the bundle's ``folder`` (of a folder install), else ``./ID``."""
    origin = str(folder) if folder is not None else f"./{bundle_id}"
    fix = "" if folder is not None else " (fix the bundle, check it, then pack it again)"
    source = unpacked / "analysis.json"
    if not source.is_file():
        raise BundleArchiveError(
            f"{where}: {bundle_id}/analysis.json is missing: not a bundle; nothing was installed"
        )
    _, document = read_document(unpacked)
    if document["id"] != bundle_id:
        raise BundleArchiveError(
            f"{where}: its folder {bundle_id} holds the bundle {document['id']!r} (analysis.json "
            "id); a bundle's folder is named by its id: nothing was installed. Re-pack it with "
            "`recast bundle pack`"
        )
    try:
        return check_bundle(unpacked)
    except BundleCheckError as exc:
        # the copy checked is gone: name the bundle as its author has it
        problems = [p.replace(str(unpacked), origin) for p in exc.problems]
        raise BundleCheckError(
            f"{where}: not installed, the bundle fails `recast bundle check`{fix}", problems
        ) from None


def _move_into_place(unpacked: Path, target: Path, staging: Path) -> None:
    """Rename ``unpacked`` to ``target``; an existing ``target`` ends in ``staging`` (removed
    by the caller). Swapped in one step where the system can (Linux ``renameat2``), else in two
    renames, the second undone if it fails."""
    if not (target.exists() or target.is_symlink()):
        os.rename(unpacked, target)
        return
    if _exchange(unpacked, target):
        return
    old = staging / f"{target.name}.replaced"
    os.rename(target, old)
    try:
        os.rename(unpacked, target)
    except BaseException:
        os.rename(old, target)
        raise


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False where the
    system has no such call, so the caller falls back to two renames."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    renameat2.restype = ctypes.c_int
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(error, os.strerror(error), str(b))
