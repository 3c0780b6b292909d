"""Columnar parsing of HepMC3 Asciiv3 text: a block of whole events at once, no Python per
particle or vertex.

The lines of a block are found with numpy; the particle lines, and the vertex lines (with and
without a position apart), are gathered by pyarrow and go through its CSV reader; the few
event-level lines (``E``, ``U``, ``W``, ``A``) are read in Python, one event at a time.

The result must equal what HepMC3 makes of the same text (through pyhepmc's ``GenEventData``),
so the parser only accepts text it reads exactly as HepMC3 does: the layout HepMC3's writers
(and Pythia8's) produce. Anything else (a tab, a double space, a missing ``W`` line, a number
HepMC3 would read differently, links HepMC3 would resolve in a surprising way, a line it would
complain about) raises :class:`Doubtful`, and the caller hands the block to the pyhepmc reader,
which parses it, or diagnoses it, as before.

Vertices: HepMC3 writes a vertex with one incoming particle implicitly (the ``P`` line names
the parent particle instead of a vertex). Its reader numbers such vertices after the explicit
ones: in each event, the implicit vertices, in the order their parents are first named, take
the vertex ids not used by an explicit vertex, from -1 downwards. That rule is reproduced here
and checked against pyhepmc in the tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from .hepmc_vertices import resolved_positions
from .sanity import event_of, starts_of

_E, _U, _W, _A, _P, _V = (ord(c) for c in "EUWAPV")
_NEWLINE = 10
_COLUMNS = ["kind", "id", "mother", "pid", "px", "py", "pz", "e", "mass", "status"]
_CSV_PARSE = pcsv.ParseOptions(
    delimiter=" ", quote_char=False, double_quote=False, escape_char=False,
    newlines_in_values=False, ignore_empty_lines=False,
)  # fmt: skip
_CSV_CONVERT = pcsv.ConvertOptions(
    column_types={
        "id": pa.int32(), "mother": pa.int32(), "pid": pa.int32(), "status": pa.int32(),
        **{name: pa.float64() for name in ("px", "py", "pz", "e", "mass")},
    },
    null_values=[],  # "nan" is a number (HepMC3's atof reads it), an empty field an error
    include_columns=_COLUMNS[1:],
)  # fmt: skip

_NUMPY_TYPES = {
    "id": np.int32, "mother": np.int32, "pid": np.int32, "status": np.int32,
    **{name: np.float64 for name in ("px", "py", "pz", "e", "mass")},
}  # fmt: skip
# numbers as HepMC3 reads them with istringstream (W lines) or as pyhepmc's GenCrossSection
# does: plain decimal notation only, so that Python's float() agrees
_NUMBER = rb"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_EVENT_LINE = re.compile(
    rb"E (-?\d+) (\d+) (\d+)(?: @ (" + _NUMBER + rb") (" + _NUMBER + rb") (" + _NUMBER
    + rb") (" + _NUMBER + rb"))?"
)  # fmt: skip
_UNITS_LINE = re.compile(rb"U (GEV|MEV) (MM|CM)")
_WEIGHTS_LINE = re.compile(rb"W(?: " + _NUMBER + rb")+")
_ATTRIBUTE_LINE = re.compile(rb"A (-?\d+) (\S+) (.*)")
_XSEC_VALUE = re.compile(rb"(" + _NUMBER + rb") (" + _NUMBER + rb") (\S+) (\S+)(?: \S+)*")


class Doubtful(Exception):
    """The text is not in the layout this parser reads exactly as HepMC3: use pyhepmc."""


@dataclass
class ParsedEvents:
    """The events of one block, as flat arrays in file order (the file's units)."""

    number: np.ndarray  # int64, per event
    n_particles: np.ndarray  # int64, per event
    n_vertices: np.ndarray
    #: columns of pyhepmc's GenEventData.particles, and ``production`` and ``end``: the
    #: event's vertex index where the particle is made and where it ends (-1: none)
    particles: dict[str, np.ndarray]
    vertices: dict[str, np.ndarray]  # and of its vertices
    event_pos: np.ndarray  # (n, 4)
    weights: np.ndarray  # (n, number of weights)
    xsec: np.ndarray  # (n, 2): cross-section and its error in pb, NaN without
    has_xsec: np.ndarray  # bool, per event
    momentum_unit: list[str]  # per event: GEV or MEV
    length_unit: list[str]  # MM or CM
    #: found free of every problem but the cross-section's (by the reader's checks)
    checked: bool = False

    def __len__(self) -> int:
        return len(self.number)


def header_weight_names(text: bytes) -> tuple[tuple[str, ...], bool]:
    """(weight names, clean) of a file's header: ``clean`` is False when HepMC3 would say
    something about a line of it (reading the first event then needs pyhepmc)."""
    names: tuple[str, ...] = ()
    clean = True
    for line in text.splitlines():
        if not line.strip() or line.startswith((b"HepMC::Version", b"HepMC::Asciiv3")):
            continue
        if line.startswith(b"W "):
            names = tuple(_unescape(line[2:]).split())
        elif not line.startswith((b"T ", b"A ")):
            clean = False
    return names, clean


def _unescape(raw: bytes) -> str:
    """HepMC3's unescaping of header text: backslash-bar is a newline, backslash-x is x."""
    text = raw.decode("utf-8", errors="replace")
    if "\\" not in text:
        return text
    out, chars = [], iter(text)
    for char in chars:
        if char == "\\":
            char = next(chars, "")
            out.append("\n" if char == "|" else char)
        else:
            out.append(char)
    return "".join(out)


def parse_events(data: bytes, stop: int, n_weights: int | None) -> ParsedEvents:
    """Parse the whole events of ``data[:stop]`` (it starts at an ``E`` line and ends with a
    newline).

    ``n_weights``: the number of weights every event must have (the header names them), or
    None. Raises :class:`Doubtful`.
    """
    if not stop or data[0] != _E or data[stop - 1] != _NEWLINE:
        raise Doubtful("the block does not hold whole events")
    if data.find(b"\r", 0, stop) >= 0 or data.find(b"\t", 0, stop) >= 0:
        raise Doubtful("carriage returns or tabs")
    buffer = np.frombuffer(data, dtype=np.uint8, count=stop)
    ends = np.flatnonzero(buffer == _NEWLINE)
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    if np.any(ends == starts):
        raise Doubtful("an empty line")
    kind = buffer[starts]
    is_event = kind == _E
    is_particle = kind == _P
    is_vertex = kind == _V
    is_header = ~(is_particle | is_vertex)  # E, U, W, A: a few lines per event
    event_of_line = np.cumsum(is_event) - 1
    n_events = int(is_event.sum())
    # an event-level line after a particle or vertex line ends the event in HepMC3 (it reads
    # the rest as run information): not for this parser
    body_before = np.cumsum(~is_header)
    if np.any(body_before[is_header] != body_before[is_event][event_of_line[is_header]]):
        raise Doubtful("an event-level line after particle or vertex lines")
    lines = (starts[is_header], ends[is_header], kind[is_header], event_of_line[is_header])
    header = _event_headers(data, *lines, n_events, n_weights)
    offsets = np.append(starts, stop).astype(np.int32)
    all_lines = pa.StringArray.from_buffers(len(starts), pa.py_buffer(offsets), pa.py_buffer(data))
    vertex_text = pc.filter(all_lines, pa.array(is_vertex))
    particles = _particle_columns(pc.filter(all_lines, pa.array(is_particle)))
    n_particles = np.bincount(event_of_line[is_particle], minlength=n_events).astype(np.int64)
    if np.any(n_particles != header.n_particles):
        raise Doubtful("a particle count differs from the event line's")
    vertex_lines = _vertex_lines(vertex_text, event_of_line[is_vertex])
    return _assemble(header, particles, vertex_lines)


@dataclass
class _Headers:
    """What the event-level lines of a block say."""

    number: np.ndarray
    n_particles: np.ndarray
    n_vertices: np.ndarray
    event_pos: np.ndarray
    weights: np.ndarray
    xsec: np.ndarray
    has_xsec: np.ndarray
    momentum_unit: list[str]
    length_unit: list[str]


def _event_headers(
    block: bytes,
    starts: np.ndarray,
    ends: np.ndarray,
    kinds: np.ndarray,
    events: np.ndarray,
    n_events: int,
    n_weights: int | None,
) -> _Headers:
    counts = np.zeros((n_events, 3), dtype=np.int64)  # number, vertices, particles
    event_pos = np.zeros((n_events, 4))
    weights: list[list[float] | None] = [None] * n_events
    units: list[tuple[str, str] | None] = [None] * n_events
    xsec = np.full((n_events, 2), np.nan)
    has_xsec = np.zeros(n_events, dtype=bool)
    for start, end, kind, event in zip(
        starts.tolist(), ends.tolist(), kinds.tolist(), events.tolist(), strict=True
    ):
        line = bytes(block[start:end])
        if kind == _E:
            match = _EVENT_LINE.fullmatch(line)
            if match is None:
                raise Doubtful(f"event line {line[:40]!r}")
            counts[event] = [int(match[1]), int(match[2]), int(match[3])]
            if match[4] is not None:
                event_pos[event] = [float(match[i]) for i in range(4, 8)]
        elif kind == _U:
            match = _UNITS_LINE.fullmatch(line)
            if match is None or units[event] is not None:
                raise Doubtful(f"units line {line[:40]!r}")
            units[event] = (match[1].decode(), match[2].decode())
        elif kind == _W:
            if _WEIGHTS_LINE.fullmatch(line) is None or weights[event] is not None:
                raise Doubtful(f"weights line {line[:40]!r}")
            weights[event] = [float(field) for field in line.split()[1:]]
        elif kind == _A:
            match = _ATTRIBUTE_LINE.fullmatch(line)
            if match is None:
                raise Doubtful(f"attribute line {line[:40]!r}")
            if match[1] == b"0" and match[2] == b"GenCrossSection":
                value = _XSEC_VALUE.fullmatch(match[3])
                if value is None or has_xsec[event]:
                    raise Doubtful(f"cross-section line {line[:60]!r}")
                xsec[event] = [float(value[1]), float(value[2])]
                has_xsec[event] = True
        else:
            raise Doubtful(f"a line starting with {chr(kind)!r}")
    if any(u is None for u in units):
        raise Doubtful("an event without U line")
    if not n_weights and all(w is None for w in weights):
        weights = [[] for _ in weights]  # no W line, no weight names: HepMC3 gives no weight
    if any(w is None for w in weights):
        raise Doubtful("an event without W line")
    sizes = {len(w) for w in weights if w is not None}
    if len(sizes) > 1 or (n_weights is not None and sizes != {n_weights}):
        raise Doubtful("events with different numbers of weights")
    return _Headers(
        number=counts[:, 0],
        n_particles=counts[:, 2],
        n_vertices=counts[:, 1],
        event_pos=event_pos,
        weights=np.array(weights, dtype=np.float64).reshape(n_events, -1),
        xsec=xsec,
        has_xsec=has_xsec,
        momentum_unit=[u[0] for u in units if u is not None],
        length_unit=[u[1] for u in units if u is not None],
    )


def _particle_columns(lines: pa.StringArray) -> dict[str, np.ndarray]:
    """The particle lines' fields, by pyarrow's CSV reader."""
    if len(lines) == 0:
        return {name: np.zeros(0, dtype=_NUMPY_TYPES[name]) for name in _COLUMNS[1:]}
    table = _read_csv(lines, _COLUMNS, _CSV_CONVERT)
    return {name: table.column(name).to_numpy() for name in _COLUMNS[1:]}


def _read_csv(lines: pa.StringArray, names: list[str], convert: pcsv.ConvertOptions) -> pa.Table:
    """Lines (each with its newline) of space-separated fields, all of them, strictly."""
    text = _text(lines)
    try:
        table = pcsv.read_csv(
            pa.py_buffer(text),
            read_options=pcsv.ReadOptions(
                column_names=names, block_size=1 << 22, use_threads=False
            ),
            parse_options=_CSV_PARSE,
            convert_options=convert,
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise Doubtful(f"{names[0]} lines: {exc}") from None
    if table.num_rows != len(lines):
        raise Doubtful("lines the CSV reader did not count")
    return table


def _text(lines: pa.StringArray) -> np.ndarray:
    """The bytes of an array of lines (each with its newline), contiguous."""
    _, offsets_buffer, data_buffer = lines.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int32)[
        lines.offset : lines.offset + len(lines) + 1
    ]
    return np.frombuffer(data_buffer, dtype=np.uint8)[offsets[0] : offsets[-1]]


@dataclass
class _VertexLines:
    event: np.ndarray  # per V line
    id: np.ndarray
    status: np.ndarray
    position: np.ndarray  # (lines, 4); zero without '@'
    incoming: np.ndarray  # particle ids, all lines' lists concatenated
    incoming_line: np.ndarray  # the V line of each


_VERTEX_COLUMNS = ["kind", "id", "status", "incoming", "at", "x", "y", "z", "t"]
_VERTEX_CONVERT = {
    n: pcsv.ConvertOptions(
        column_types={
            "kind": pa.string(), "id": pa.int64(), "status": pa.int64(),
            "incoming": pa.string(), "at": pa.string(),
            **{name: pa.float64() for name in "xyzt"},
        },
        null_values=[],
    )
    for n in (4, 9)
}  # fmt: skip


def _vertex_lines(lines: pa.StringArray, events: np.ndarray) -> _VertexLines:
    """The vertex lines ``V id status [in,in,...]`` and ``V id status [in,...] @ x y z t``,
    each with its newline, by pyarrow's CSV reader (the two forms apart). Any other form,
    which HepMC3 might read otherwise (it finds its fields with ``strchr``), is Doubtful."""
    n_lines = len(lines)
    ids = np.zeros(n_lines, dtype=np.int64)
    status = np.zeros(n_lines, dtype=np.int64)
    position = np.zeros((n_lines, 4))
    if n_lines == 0:
        none = np.zeros(0, dtype=np.int64)
        return _VertexLines(none, ids, status, position, none, none)
    positioned = pc.match_substring(lines, "@").to_numpy(zero_copy_only=False)
    lists, rows = [], []
    for chosen, n_columns in ((positioned, 9), (~positioned, 4)):
        if not chosen.any():
            continue
        where = np.flatnonzero(chosen)
        table = _read_csv(pc.filter(lines, pa.array(chosen)), _VERTEX_COLUMNS[:n_columns],
                          _VERTEX_CONVERT[n_columns])  # fmt: skip
        if not pc.all(pc.equal(table.column("kind"), "V")).as_py() or (
            n_columns == 9 and not pc.all(pc.equal(table.column("at"), "@")).as_py()
        ):
            raise Doubtful("a vertex line in another form")
        ids[where] = table.column("id").to_numpy()
        status[where] = table.column("status").to_numpy()
        if n_columns == 9:
            position[where] = np.stack([table.column(k).to_numpy() for k in "xyzt"], axis=1)
        lists += table.column("incoming").chunks
        rows.append(where)
    order = np.concatenate(rows)
    in_order = pc.take(pa.chunked_array(lists).combine_chunks(), pa.array(np.argsort(order)))
    bracketed = pc.and_(pc.starts_with(in_order, "["), pc.ends_with(in_order, "]"))
    if not pc.all(bracketed).as_py():
        raise Doubtful("a vertex line's list of particles")
    split = pc.split_pattern(pc.utf8_slice_codeunits(in_order, 1, -1), ",")
    try:
        incoming = pc.cast(pc.list_flatten(split), pa.int64()).to_numpy()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise Doubtful(f"a vertex line's list of particles: {exc}") from None
    n_incoming = pc.list_value_length(split).to_numpy()
    return _VertexLines(
        event=np.asarray(events, dtype=np.int64),
        id=ids,
        status=status,
        position=position,
        incoming=incoming,
        incoming_line=np.repeat(np.arange(n_lines), n_incoming),
    )


def _assemble(
    header: _Headers, columns: dict[str, np.ndarray], lines: _VertexLines
) -> ParsedEvents:
    """Particles, vertices and links as HepMC3 builds them, implicit vertices numbered as its
    reader numbers them."""
    n_events = len(header.number)
    n_particles, n_vertices = header.n_particles, header.n_vertices
    p_start, v_start = starts_of(n_particles), starts_of(n_vertices)
    event = event_of(n_particles)
    ids, mother = columns["id"], columns["mother"]
    local = np.arange(len(ids)) - p_start[event]
    if np.any(ids != local + 1):
        raise Doubtful("particle ids out of order")
    if np.any((mother < -n_vertices[event]) | (mother > n_particles[event])):
        raise Doubtful("a parent out of range")
    # explicit vertices: named by a particle's parent
    named = mother < 0
    explicit = np.zeros(int(n_vertices.sum()), dtype=bool)
    explicit[v_start[event[named]] - mother[named] - 1] = True
    # implicit vertices, in the order their parent particles are first named
    child = mother > 0
    parent_row = p_start[event[child]] + mother[child] - 1
    parents, first_seen, which = np.unique(parent_row, return_index=True, return_inverse=True)
    order = np.argsort(first_seen, kind="stable")
    free = np.flatnonzero(~explicit)  # vertex rows, ascending within each event
    vertex_event = event_of(n_vertices)
    n_free = np.bincount(vertex_event[free], minlength=n_events)
    n_implicit = np.bincount(event[parents], minlength=n_events)
    if np.any(n_free != n_implicit):
        raise Doubtful("implicit vertices that do not fill the vertex count")
    # HepMC3 fills the free ids only below the highest explicit id (0: a particle without
    # parent): an event with free ids above it would lose vertices
    roots = np.bincount(event[mother == 0], minlength=n_events) > 0
    lowest = np.full(n_events, np.iinfo(np.int64).max)
    named_event = event[named]  # in event order
    if len(named_event):
        starts = np.flatnonzero(np.diff(named_event, prepend=-1))
        lowest[named_event[starts]] = np.minimum.reduceat(-mother[named] - 1, starts)
    free_local = free - v_start[vertex_event[free]]
    if np.any(~roots[vertex_event[free]] & (free_local < lowest[vertex_event[free]])):
        raise Doubtful("implicit vertices above the explicit ones")
    slot = np.empty(len(parents), dtype=np.int64)
    slot[order] = free  # the k-th parent named takes the k-th free vertex row
    production = np.full(len(ids), -1, dtype=np.int64)
    production[named] = v_start[event[named]] - mother[named] - 1
    production[child] = slot[which]
    end = np.full(len(ids), -1, dtype=np.int64)
    end[parents] = slot
    # incoming particles of explicit vertex lines
    if np.any(lines.id >= 0) or np.any(lines.id < -n_vertices[lines.event]):
        raise Doubtful("a vertex id out of range")
    line_row = v_start[lines.event] - lines.id - 1
    if not explicit[line_row].all() or len(np.unique(line_row)) != len(line_row):
        raise Doubtful("a vertex line for a vertex no particle comes from, or twice")
    in_event = lines.event[lines.incoming_line]
    if np.any((lines.incoming < 1) | (lines.incoming > n_particles[in_event])):
        raise Doubtful("a vertex line names a particle out of range")
    in_row = p_start[in_event] + lines.incoming - 1
    if np.any(end[in_row] >= 0) or len(np.unique(in_row)) != len(in_row):
        raise Doubtful("a particle entering two vertices")
    end[in_row] = line_row[lines.incoming_line]
    vertices: dict[str, np.ndarray] = {"status": np.zeros(len(explicit), dtype=np.int32)}
    vertices["status"][line_row] = lines.status
    for k, name in enumerate("xyzt"):
        vertices[name] = np.zeros(len(explicit))
        vertices[name][line_row] = lines.position[:, k]
    particles = {name: columns[name] for name in ("pid", "status", "mass", "px", "py", "pz", "e")}
    particles["is_mass_set"] = np.ones(len(ids), dtype=bool)  # a P line always gives the mass
    own_start = v_start[event]
    particles["production"] = np.where(production >= 0, production - own_start, -1)
    particles["end"] = np.where(end >= 0, end - own_start, -1)
    resolved = resolved_positions(vertices, particles["production"], particles["end"],
                                  n_particles, n_vertices, header.event_pos)  # fmt: skip
    for k, name in enumerate("xyzt"):
        vertices[f"position_{name}"] = resolved[:, k]
    return ParsedEvents(
        number=header.number,
        n_particles=n_particles,
        n_vertices=n_vertices,
        particles=particles,
        vertices=vertices,
        event_pos=header.event_pos,
        weights=header.weights,
        xsec=header.xsec,
        has_xsec=header.has_xsec,
        momentum_unit=header.momentum_unit,
        length_unit=header.length_unit,
    )
