"""Columnar assembly of a HepMC3 chunk: from per-event ``GenEventData`` arrays to the chunk.

Vectorised over the whole chunk: unit factors, vertex positions as HepMC3 reports them, and
the search for NaN or infinite numbers, unphysical momenta and links HepMC3 dropped. Each
particle comes with its ``production`` and ``end`` vertex (the ``production_vertex`` /
``end_vertex`` indices of :mod:`~recast.events.chunk`): from the columnar parser directly, from
an event's ``GenEventData`` links by :func:`history_of_links`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import awkward as ak
import numpy as np

from . import sanity
from .chunk import make_chunk
from .hepmc_fast import ParsedEvents


@dataclass
class Pending:
    """The events read for the current chunk, in file order: per-event lists, and the rows of
    particles and vertices as columns that each hold consecutive events (one event's
    from pyhepmc, a whole block's from the columnar parser)."""

    index: list[int] = field(default_factory=list)  # position among the events read
    number: list[int] = field(default_factory=list)
    n_particles: list[int] = field(default_factory=list)
    n_vertices: list[int] = field(default_factory=list)
    particles: list[Columns] = field(default_factory=list)  # one Columns a part
    vertices: list[Columns] = field(default_factory=list)
    event_pos: list[tuple[float, ...]] = field(default_factory=list)
    weights: list[np.ndarray] = field(default_factory=list)
    xsec: list[tuple[float, float]] = field(default_factory=list)
    has_xsec: list[bool] = field(default_factory=list)
    factors: list[tuple[float, float]] = field(default_factory=list)
    #: per event: already found free of every problem but its cross-section's
    checked: list[bool] = field(default_factory=list)
    #: the events of each entry of the row lists (particles, vertices)
    parts: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.index)

    def add_event(
        self,
        position: int,
        number: int,
        particles: Columns,
        vertices: Columns,
        event_pos: tuple[float, ...],
        weights: np.ndarray,
        xsec: tuple[float, float],
        has_xsec: bool,
        factors: tuple[float, float],
    ) -> None:
        """One event as pyhepmc's ``GenEventData`` gives it, its particles' columns with their
        ``production`` and ``end`` vertices (see :func:`history_of_links`), its vertices' with
        their ``position_*``."""
        self.index.append(position)
        self.number.append(number)
        self.n_particles.append(len(particles["pid"]))
        self.n_vertices.append(len(vertices["x"]))
        self.particles.append(particles)
        self.vertices.append(vertices)
        self.event_pos.append(event_pos)
        self.weights.append(weights)
        self.xsec.append(xsec)
        self.has_xsec.append(has_xsec)
        self.factors.append(factors)
        self.checked.append(False)
        self.parts.append(1)

    def add_parsed(self, parsed: ParsedEvents, first_position: int) -> None:
        """A block of events from the columnar parser, the first at ``first_position``."""
        n = len(parsed)
        self.index.extend(range(first_position, first_position + n))
        self.number.extend(parsed.number.tolist())
        self.n_particles.extend(parsed.n_particles.tolist())
        self.n_vertices.extend(parsed.n_vertices.tolist())
        self.parts.append(n)
        self.particles.append(parsed.particles)
        self.vertices.append(parsed.vertices)
        self.event_pos.extend(map(tuple, parsed.event_pos.tolist()))
        self.weights.extend(list(parsed.weights))
        self.xsec.extend(map(tuple, parsed.xsec.tolist()))  # type: ignore[arg-type]
        self.has_xsec.extend(parsed.has_xsec.tolist())
        self.checked.extend([parsed.checked] * n)
        self.factors.extend(
            (1e-3 if momentum == "MEV" else 1.0, 10.0 if length == "CM" else 1.0)
            for momentum, length in zip(parsed.momentum_unit, parsed.length_unit, strict=True)
        )

    def release(self) -> None:
        """Forget the rows (their columns live on in the chunk made from them)."""
        for name in _ROWS:
            getattr(self, name).clear()
        self.parts.clear()

    def extend(self, other: Pending) -> None:
        for name, values in vars(other).items():
            getattr(self, name).extend(values)

    def _rows(self) -> tuple[Any, ...]:
        return (
            join_columns(self.particles, PARTICLE_COLUMNS),
            join_columns(self.vertices, VERTEX_COLUMNS),
        )

    def _events(self, chosen: np.ndarray | slice) -> dict[str, list[Any]]:
        if isinstance(chosen, slice):
            return {name: getattr(self, name)[chosen] for name in _PER_EVENT}
        return {name: [v for v, k in zip(getattr(self, name), chosen, strict=True) if k]
                for name in _PER_EVENT}  # fmt: skip

    def split(self, k: int) -> tuple[Pending, Pending]:
        """The first ``k`` events, and the rest: only the part that holds event ``k`` is cut
        (into views), nothing is copied."""
        head = Pending(**self._events(slice(None, k)))
        tail = Pending(**self._events(slice(k, None)))
        first = 0  # the part's first event
        for i, size in enumerate(self.parts):
            rows = [getattr(self, name)[i] for name in _ROWS]
            if first + size <= k:
                head._append_part(rows, size)
            elif first >= k:
                tail._append_part(rows, size)
            else:
                cut = k - first
                sizes = [
                    int(np.sum(counts[first : first + cut], dtype=np.int64))
                    for counts in (self.n_particles, self.n_vertices)
                ]
                head._append_part(
                    [_take(r, slice(None, c)) for r, c in zip(rows, sizes, strict=True)], cut
                )
                tail._append_part(
                    [_take(r, slice(c, None)) for r, c in zip(rows, sizes, strict=True)], size - cut
                )
            first += size
        return head, tail

    def _append_part(self, rows: list[Any], size: int) -> None:
        for name, part in zip(_ROWS, rows, strict=True):
            getattr(self, name).append(part)
        self.parts.append(size)

    def drop(self, positions: set[int]) -> Pending:
        """A copy without the events at these file positions."""
        keep = np.array([index not in positions for index in self.index], dtype=bool)
        rows = self._rows()
        kept = Pending(**self._events(keep))
        kept.parts = [int(keep.sum())]
        for name, array, counts in zip(
            _ROWS, rows, (self.n_particles, self.n_vertices),
            strict=True,
        ):  # fmt: skip
            rows_kept = np.repeat(keep, np.asarray(counts, dtype=np.int64))
            getattr(kept, name).append(_take(array, rows_kept))
        return kept


_ROWS = ("particles", "vertices")
_PER_EVENT = tuple(n for n in Pending.__dataclass_fields__ if n not in (*_ROWS, "parts"))


def history_of_links(
    links1: np.ndarray, links2: np.ndarray, n_particles: int, n_vertices: int
) -> tuple[np.ndarray, np.ndarray] | str:
    """(production, end) vertex index of each particle of one event from its ``GenEventData``
    links ((particle, -vertex): enters; (-vertex, particle): made), or why the links are
    broken (an id beyond the event's own counts: a corrupt V or P line)."""
    first, second = links1.astype(np.int64), links2.astype(np.int64)
    particle = np.where(first > 0, first, second)
    vertex = np.where(first < 0, -first, -second)
    broken = (np.sign(first) == np.sign(second)) | (particle < 1) | (vertex < 1)
    broken |= (particle > n_particles) | (vertex > n_vertices)
    if broken.any():
        i = int(np.flatnonzero(broken)[0])
        return (
            f"it links particle {particle[i]} and vertex {-vertex[i]}, but declares "
            f"{n_particles} particles and {n_vertices} vertices"
        )
    entering = (first > 0) & (second < 0)
    leaving = (first < 0) & (second > 0)
    production = np.full(n_particles, -1, dtype=np.int64)
    end = np.full(n_particles, -1, dtype=np.int64)
    end[first[entering] - 1] = -second[entering] - 1
    production[second[leaving] - 1] = -first[leaving] - 1
    return production, end


#: the columns of particles and vertices: pyhepmc's ``GenEventData`` fields, and each
#: particle's production and end vertex (the event's vertex index, -1 for none), each
#: vertex's position as HepMC3 reports it (:mod:`.hepmc_vertices`)
PARTICLE_COLUMNS = ("pid", "status", "is_mass_set", "mass", "px", "py", "pz", "e",
                    "production", "end")  # fmt: skip
VERTEX_COLUMNS = ("status", "x", "y", "z", "t",
                  "position_x", "position_y", "position_z", "position_t")  # fmt: skip
Columns = dict[str, np.ndarray]


def _joined(parts: list[Columns], name: str) -> np.ndarray:
    """One column of several parts as one contiguous array (pyhepmc's columns are fields of
    a record array: strided)."""
    arrays = [part[name] for part in parts]
    return np.ascontiguousarray(arrays[0] if len(arrays) == 1 else np.concatenate(arrays))


def join_columns(parts: list[Columns], names: tuple[str, ...]) -> Columns:
    return {name: _joined(parts, name) for name in names}


class JoinedColumns(Mapping[str, np.ndarray]):
    """The columns of several parts, each joined into one contiguous array when first asked
    for (a chunk whose checks were made while parsing never needs some of them)."""

    def __init__(self, parts: list[Columns]) -> None:
        self._parts = parts
        self._joined: Columns = {}

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._joined:
            self._joined[name] = _joined(self._parts, name)
        return self._joined[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._parts[0] if self._parts else ())

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _take(rows: Columns, chosen: Any) -> Columns:
    return {name: column[chosen] for name, column in rows.items()}


class Flat:
    """A chunk's events as single arrays, in the file's units, with their consistency checks."""

    def __init__(self, pending: Pending) -> None:
        self.pending = pending
        n = len(pending)
        self.n_particles = np.array(pending.n_particles, dtype=np.int64)
        self.n_vertices = np.array(pending.n_vertices, dtype=np.int64)
        self.p_start = sanity.starts_of(self.n_particles)
        self.v_start = sanity.starts_of(self.n_vertices)
        self.particles = JoinedColumns(pending.particles)
        self.vertices = JoinedColumns(pending.vertices)
        self.weights = np.array(pending.weights, dtype=np.float64).reshape(n, -1)
        self._momenta: sanity.Momenta | None = None
        self._beams: tuple[np.ndarray, np.ndarray] | None = None

    def beams(self) -> tuple[np.ndarray, np.ndarray]:
        """(√s, total energy) of each event's beams in GeV; NaN where it has none."""
        if self._beams is None:
            status = self.particles["status"]
            self._beams = sanity.beam_sqrt_s(self.momenta(), status, self.n_particles)
        return self._beams

    def momenta(self) -> sanity.Momenta:
        """(px, py, pz, E) of every particle in GeV."""
        if self._momenta is None:
            factors = np.array(self.pending.factors, dtype=np.float64).reshape(-1, 2)
            px, py, pz, e = (self.particles[f] for f in ("px", "py", "pz", "e"))
            if not np.all(factors[:, 0] == 1.0):  # else GeV already: no copies
                mom = np.repeat(factors[:, 0], self.n_particles)
                px, py, pz, e = px * mom, py * mom, pz * mom, e * mom
            self._momenta = (px, py, pz, e)
        return self._momenta

    def history(self) -> tuple[np.ndarray, np.ndarray]:
        """(production vertex, end vertex) of every particle: the event's vertex index, or -1."""
        return self.particles["production"], self.particles["end"]

    def problems(self, cross_sections: bool = True) -> dict[int, str]:
        """{file position: why} for events with NaN or infinite numbers, broken links,
        unphysical momenta or (if ``cross_sections``) a cross-section that is not > 0."""
        found: dict[int, str] = {}
        if all(self.pending.checked):  # by the parsing threads: only the cross-sections left
            if cross_sections:
                self._cross_section_problems(found)
            return found
        for what, table, counts, fields in (
            ("particle", self.particles, self.n_particles, ("px", "py", "pz", "e", "mass")),
            ("vertex", self.vertices, self.n_vertices, ("x", "y", "z", "t")),
        ):
            total = table[fields[0]].copy()
            for name in fields[1:]:
                total += table[name]  # NaN and infinities survive a sum: one test for all
            if np.isfinite(total).all():
                continue
            bad = np.zeros(int(counts.sum()), dtype=bool)
            for name in fields:
                bad |= ~np.isfinite(table[name])
            start = sanity.starts_of(counts)
            event = sanity.event_of(counts)
            for row in np.flatnonzero(bad)[::-1]:  # reversed: the first bad row of an event wins
                k = int(event[row])
                name = next(f for f in fields if not np.isfinite(table[f][row]))
                label = {"e": "E"}.get(name, name)
                found[self.pending.index[k]] = (
                    f"{what} {row - start[k] + 1} of the event has {label} = {table[name][row]}"
                )
        size = np.abs(self.weights)
        absurd = ~np.isfinite(self.weights) | (size > sanity.MAX_WEIGHT)
        absurd |= (size > 0) & (size < sanity.MIN_WEIGHT)
        rows, columns = np.nonzero(absurd)
        for k, j in reversed(list(zip(rows, columns, strict=True))):  # an event's first wins
            found[self.pending.index[int(k)]] = sanity.weight_problem(
                int(j), float(self.weights[k, j])
            )
        if found:
            return found  # the checks below need finite numbers
        self._physics(found, cross_sections)
        return found

    def _physics(self, found: dict[int, str], cross_sections: bool) -> None:
        """Unphysical momenta, links HepMC3 dropped, bad cross-sections: per event, the
        first problem wins, in that order of precedence (later ones fill only the gaps)."""
        index = self.pending.index
        status = self.particles["status"]
        _, beam_energy = self.beams()
        for k, why in sanity.momentum_problems(
            self.momenta(), status, self.n_particles, beam_energy
        ).items():
            found[index[k]] = why
        for k, why in self.orphans().items():
            found.setdefault(index[k], why)
        if cross_sections:
            self._cross_section_problems(found)

    def _cross_section_problems(self, found: dict[int, str]) -> None:
        xsec = np.array(self.pending.xsec, dtype=np.float64).reshape(-1, 2)[:, 0]
        present = np.array(self.pending.has_xsec, dtype=bool)
        for k, why in sanity.cross_section_problems(xsec, present).items():
            found.setdefault(self.pending.index[k], why)

    def orphans(self) -> dict[int, str]:
        """{event index: why} for links HepMC3 dropped while parsing.

        HepMC3 silently leaves a particle without its production vertex when its ``P`` line
        names a parent that does not exist (yet), and a vertex without its incoming particle
        when its ``V`` line names one that does not exist. Seen from the parsed event of a
        full history, i.e. with beams (status 4): a particle other than a beam without
        production vertex, or a vertex with outgoing but no incoming particles; in any event,
        a particle entering the vertex it comes out of. Events without beams may legitimately
        list particles without parents (``P 5 0 ...``, e.g. Sibyll's records), so a dropped
        link cannot be told from the parsed event there.
        """
        production, end = self.history()
        status = self.particles["status"]
        event = sanity.event_of(self.n_particles)
        n = len(self.n_particles)
        has_beams = np.bincount(event, weights=status == sanity.BEAM, minlength=n) > 0
        root = (production < 0) & (status != sanity.BEAM)
        loop = (production >= 0) & (production == end)
        bad = (root & has_beams[event]) | loop
        found: dict[int, str] = {}
        for row in np.flatnonzero(bad)[::-1]:
            k = int(event[row])
            what = f"particle {row - self.p_start[k] + 1} (status {int(status[row])})"
            if loop[row]:
                why = f"{what} enters the vertex {-(production[row] + 1)} it comes out of"
            else:
                why = (
                    f"{what} has no production vertex: its parent (the second field of its P "
                    "line) names a particle or vertex that does not exist before it"
                )
            found[k] = f"a broken link: {why}"
        vertex_event = sanity.event_of(self.n_vertices)
        incoming = np.zeros(int(self.n_vertices.sum()), dtype=bool)
        outgoing = np.zeros(int(self.n_vertices.sum()), dtype=bool)
        ends, made = end >= 0, production >= 0
        incoming[self.v_start[event[ends]] + end[ends]] = True
        outgoing[self.v_start[event[made]] + production[made]] = True
        for v in np.flatnonzero(outgoing & ~incoming & has_beams[vertex_event])[::-1]:
            k = int(vertex_event[v])
            found.setdefault(
                k,
                f"a broken link: vertex {-(v - self.v_start[k] + 1)} has outgoing particles but "
                "no incoming one: its V line names a particle that does not exist",
            )
        return found


def assemble(flat: Flat, weight_names: tuple[str, ...]) -> ak.Array:
    """One chunk from the flat buffers: units, vertex indices and positions, columnar."""
    pending, particles = flat.pending, flat.particles
    n_particles, n_vertices = flat.n_particles, flat.n_vertices
    n = len(pending)
    factors = np.array(pending.factors, dtype=np.float64).reshape(n, 2)
    mom = np.repeat(factors[:, 0], n_particles)
    length = np.repeat(factors[:, 1], n_vertices)

    production, end = flat.history()
    positions = np.stack([flat.vertices[f"position_{k}"] for k in "xyzt"], axis=1)
    if np.any(factors[:, 1] != 1.0):
        positions *= length[:, None]

    px, py, pz, energy = flat.momenta()
    mass = particles["mass"] * mom
    unset = ~particles["is_mass_set"]
    if unset.any():
        m2 = energy[unset] ** 2 - px[unset] ** 2 - py[unset] ** 2 - pz[unset] ** 2
        mass[unset] = np.sign(m2) * np.sqrt(np.abs(m2))  # HepMC3's m(): negative if spacelike
    xsec = np.array(pending.xsec, dtype=np.float64).reshape(n, 2).T.copy()  # two contiguous rows
    return make_chunk(
        event_number=np.array(pending.number, dtype=np.int64),
        weights={
            name: np.ascontiguousarray(w)
            for name, w in zip(weight_names, flat.weights.T, strict=True)
        },
        cross_section=xsec[0],
        cross_section_error=xsec[1],
        particle_counts=n_particles,
        particles={
            "px": px,
            "py": py,
            "pz": pz,
            "E": energy,
            "pid": particles["pid"],
            "status": particles["status"],
            "generated_mass": mass,
            "production_vertex": production,
            "end_vertex": end,
        },
        vertex_counts=n_vertices,
        vertices={
            name: np.ascontiguousarray(c) for name, c in zip("xyzt", positions.T, strict=True)
        },
    )
