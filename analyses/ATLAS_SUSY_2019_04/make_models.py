"""Write the Pythia-ready SLHA templates of the ATLAS-SUSY-2019-04 signal models (``models/``).

    python analyses/ATLAS_SUSY_2019_04/make_models.py
    python analyses/ATLAS_SUSY_2019_04/make_models.py --data ../shared/data/atlas_susy_2019_04

From the ATLAS SLHA cards published with the search (``slha/param_card.*.slha``, checked
against the data folder's ``SHA256SUMS``), each made Pythia-ready by
:func:`recast.model.pythia_ready` with the varied masses written as ``{name}`` placeholders
(:mod:`recast.model.template`): ``higgsino.slha.in``, ``wino.slha.in``, ``stop.slha.in`` and
``gluino.slha.in``, and ``models/README.md`` naming each source with its sha256 and every
change with its reason. Each template is filled at one point and must pass
:func:`recast.model.decay_report` without a warning before anything is written. Without the
data folder nothing is written (the committed templates stay as they are).
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path

from recast.errors import RecastError, UsageError
from recast.io import atomic_open
from recast.model import decay_report, points, pythia_ready, template_from_text

log = logging.getLogger("make_models")
HERE = Path(__file__).resolve().parent
DATA = HERE.parents[2] / "shared" / "data" / "atlas_susy_2019_04"
MODELS = HERE / "models"
N1, N2, N3, C1 = 1000022, 1000023, 1000025, 1000024
STOP, GLUINO = 1000006, 1000021
#: the Gtbs card's "stop": MadGraph's RPVMSSM orders up-type squarks by mass (SLHA2
#: USQMIX), so its lighter stop is PDG 1000002 (~u_1) and the heavier one 1000004 (~u_2)
UFO_STOP1, UFO_STOP2 = 1000002, 1000004


@dataclass(frozen=True)
class Model:
    """One template: where it comes from, what is changed, how it is generated."""

    file: str
    title: str
    source: str
    productions: str
    point: dict[str, float]
    mixing: str | None = None
    masses: dict[int, str] = field(default_factory=dict)
    decouple: tuple[int, ...] = ()
    notes: tuple[str, ...] = ()


HIGGSINO_NOTES = (
    "χ̃₁⁰ → t b s / t̄ b̄ s̄ (50 % each) and χ̃₁⁺ → b̄ b̄ s̄ (100 %) through the λ″₃₂₃ coupling, "
    "as explicit DECAY tables of the card (widths 1 GeV and 0.943 GeV): Pythia imports them "
    "(flat phase space) with MODSEL 4 = 0; no RVLAMUDD block is needed.",
    "HMIX keeps the card's μ = 2000 GeV: Pythia 8.317 takes no μ into electroweakino "
    "production (the same σ with μ = 2000, 250 and −250 GeV); the couplings come from NMIX, "
    "UMIX and VMIX.",
)
MODELS_ = (
    Model(
        file="higgsino.slha.in",
        title="degenerate pure higgsinos χ̃₁⁰, χ̃₂⁰, χ̃₁± (mass m_higgsino), χ̃ → t b s, χ̃± → b̄ b̄ s̄",
        source="param_card.higgsino.slha",
        productions="higgsino-n1n2 (the benchmark of the published cutflow), higgsino-n2c1, "
        "higgsino-c1c1; see 'The full electroweakino models' below",
        point={"m_higgsino": 250},
        mixing="higgsino",
        masses={N1: "{m_higgsino}", N2: "{m_higgsino}", C1: "{m_higgsino}"},
        decouple=(STOP,),
        notes=(
            "The card's stop sits at 250 GeV with its decays (t χ̃₁⁰, b χ̃₁⁺) closed: Pythia "
            "would make it stable, and any process producing it (SUSY:all) would give stable "
            "coloured particles; it plays no part in the model, so it is decoupled.",
            *HIGGSINO_NOTES,
        ),
    ),
    Model(
        file="wino.slha.in",
        title="pure wino χ̃₁⁰ and χ̃₁± (mass m_wino), with the higgsino model's decays",
        source="param_card.higgsino.slha",
        productions="wino-c1c1; χ̃₁⁰χ̃₁± needs raw settings for now (see below)",
        point={"m_wino": 250},
        mixing="wino",
        masses={N1: "{m_wino}", C1: "{m_wino}"},
        decouple=(STOP, N2),
        notes=(
            "The search's wino model has only χ̃₁⁰ and χ̃₁± light (the neutral wino is the "
            "LSP); the card's third light state, χ̃₂⁰, is decoupled, and the stop as in "
            "higgsino.slha.in.",
            "The decays are the higgsino card's DECAY tables, unchanged: χ̃₁⁰ → t b s / t̄ b̄ s̄, "
            "χ̃₁⁺ → b̄ b̄ s̄.",
            "With U = V = 1 and N₁₂ = 1 both winos take the sign of M2 (positive): no sign flip.",
        ),
    ),
    Model(
        file="stop.slha.in",
        title="t̃₁ pairs (m_stop), t̃₁ → t χ̃₁⁰ / b χ̃₁⁺ (50 % each), higgsino LSPs (m_lsp)",
        source="param_card.stop.slha",
        productions="stop-pairs",
        point={"m_stop": 1175, "m_lsp": 700},
        mixing="higgsino",
        masses={STOP: "{m_stop}", N1: "{m_lsp}", N2: "{m_lsp}", C1: "{m_lsp}"},
        notes=(
            "The source is the card filled at t̃₁ = 1175 GeV, χ̃₁⁰ = χ̃₂⁰ = χ̃₁± = 700 GeV; "
            "param_card.Gtt.slha holds the same decays with the placeholders MSTOP, MLSP, "
            "MCHAR (χ̃₂⁰ decoupled there).",
            "The higgsino mixing does not change stop-pair production (QCD; the decays come "
            "from DECAY tables); it keeps the spectrum coherent, so that the same file can "
            "also generate the electroweakino processes.",
            "The card's t̃₁ DECAY table has t χ̃₁⁰ and b χ̃₁⁺ (50 % each) and no t χ̃₂⁰; as "
            "χ̃₁⁰ and χ̃₂⁰ decay alike, that is the same final state. Below m_stop = m_lsp + "
            "m_t the t χ̃₁⁰ channel is closed and Pythia takes b χ̃₁⁺ alone "
            "(recast.model.decay_report warns of it).",
            *HIGGSINO_NOTES,
        ),
    ),
    Model(
        file="gluino.slha.in",
        title="g̃ pairs (m_gluino), g̃ → t̄ t̃ / t t̃* (50 % each), t̃ → b̄ d̄ (m_stop)",
        source="param_card.Gtbs.slha",
        productions="gluino-pairs",
        point={"m_gluino": 2000, "m_stop": 1000},
        masses={GLUINO: "{m_gluino}", UFO_STOP1: "{m_stop}"},
        decouple=(UFO_STOP2,),
        notes=(
            "A MadGraph RPVMSSM card: its squarks are ordered by mass with SLHA2 mixing "
            "(USQMIX), so the light stop the gluino decays to is PDG 1000002, which Pythia "
            "calls ~u_1 (recast's decay report, reading SLHA1 names, says ~u_L); its USQMIX row "
            "is a stop. The placeholders MGO and MSTOP become {m_gluino} and {m_stop}.",
            "The card gives MSTOP to 1000004 (~u_2, the heavier stop) too, with a width and no "
            "channel: Pythia would compute its decays itself. It is not in the decay chain "
            "(g̃ → t t̃₁ only), so it is decoupled.",
            "t̃ → b̄ d̄ (λ″₃₁₃) and g̃ → t t̃ are DECAY tables of the card; RVLAMUDD is kept but not "
            "used (MODSEL 4 is absent, i.e. 0).",
        ),
    ),
)


def sha256sums(data: Path) -> dict[str, str]:
    """The digests of the data folder's SHA256SUMS, by relative path."""
    sums = data / "SHA256SUMS"
    found = {}
    for line in sums.read_text().splitlines():
        digest, _, name = line.strip().partition("  ")
        if digest and name:
            found[name.strip()] = digest
    return found


def source_text(data: Path, name: str, sums: dict[str, str]) -> tuple[str, str]:
    """The card ``slha/<name>`` and its sha256, refused unless SHA256SUMS records that digest."""
    path = data / "slha" / name
    payload = path.read_bytes()
    digest = hashlib.sha256(payload).hexdigest()
    if sums.get(f"slha/{name}") != digest:
        raise UsageError(
            f"{path}: sha256 {digest} differs from SHA256SUMS ({sums.get(f'slha/{name}')}); "
            "the published card changed: read it before regenerating the templates"
        )
    return payload.decode(), digest


def build(data: Path) -> dict[str, str]:
    """Every file of ``models/`` by name: the four templates and README.md."""
    sums = sha256sums(data)
    files: dict[str, str] = {}
    sections: list[str] = []
    rows: list[str] = []
    for model in MODELS_:
        text, digest = source_text(data, model.source, sums)
        prepared = pythia_ready(text, source=model.source, mixing=model.mixing,
                                masses=model.masses, decouple=model.decouple)  # fmt: skip
        template = template_from_text(prepared.text, model.file)
        if set(template.parameters) != set(model.point):
            raise UsageError(f"{model.file}: parameters {template.parameters}, not {model.point}")
        (point,) = points(template, dict(model.point))  # refuses what Pythia would misread
        report = decay_report(point.slha, source=f"{model.file} at {point.name}")
        if not report.ok:
            raise UsageError(f"{model.file}: the decay report warns:\n{report.text()}")
        files[model.file] = prepared.text
        parameters = ", ".join(f"`{{{p}}}`" for p in template.parameters)
        rows.append(f"| `{model.file}` | {model.title} | {parameters} | {model.productions} |")
        sections.append(_section(model, digest, prepared.changes))
    files["README.md"] = _readme(rows, sections)
    return files


def _section(model: Model, digest: str, changes: tuple[str, ...]) -> str:
    lines = [
        f"## `{model.file}`",
        "",
        f"Source: `slha/{model.source}` (sha256 `{digest}`), from "
        "`andlessa/atlasNNtest` @ `a280285a01e59bb66e18794770d5753e19abf97b` : "
        "`SUSY-2019-04-SLHA/`. Checked at "
        + ", ".join(f"{k} = {v:g} GeV" for k, v in model.point.items())
        + ": no warning from `recast.model.decay_report`.",
        "",
        "Changes (as `recast.model.pythia_ready` reports them; also at the top of the file):",
        "",
        *[f"- {change}" for change in changes],
        "",
        "Why, for this model:",
        "",
        *[f"- {note}" for note in model.notes],
        "",
    ]
    return "\n".join(lines)


_INTRO = """# ATLAS-SUSY-2019-04 signal models, Pythia-ready

Templates of `recast.model` (`{{name}}` placeholders for the varied masses) for the signal
models of the search, made from the ATLAS SLHA cards published with it by
`../make_models.py` (`python analyses/ATLAS_SUSY_2019_04/make_models.py`); do not edit them by
hand. The cards are not Pythia-ready as published (no `MODSEL`, bino/wino mixing in the
higgsino card, a stable 250 GeV stop): every change is listed below with its reason.

| template | model | parameters | productions (`--process`) |
|---|---|---|---|
{rows}

Fill and check one point, then generate it:

```
recast points models/higgsino.slha.in --set m_higgsino=250 --process higgsino-n1n2 -o higgsino
recast generate --slha higgsino/m_higgsino_250.slha --process higgsino-n1n2 --events 2000 \\
    --seed 1 -o n1n2_250.hepmc.gz
```

"""

_FULL_MODELS = """## The full electroweakino models

The search's higgsino model is χ̃₁⁰χ̃₂⁰ + χ̃₁±χ̃₁⁰ + χ̃₁±χ̃₂⁰ + χ̃₁⁺χ̃₁⁻, each normalised to its
own NLO+NLL σ (their LO-to-NLO+NLL K-factors differ by up to 6 %, see below, so one σ for an
LO mixture would misweight them). A `recast` production has one σ table, so the model is a
sum of productions, each generated and normalised on its own, their signal-region yields
added per point:

- `higgsino-n1n2` (table `higgsino-n1n2`), `higgsino-n2c1` (table `higgsino-n2c1`),
  `higgsino-c1c1` (table `higgsino-c1c1`);
- χ̃₁±χ̃₁⁰: for degenerate pure higgsinos with the same decays it is the same sample as
  χ̃₁±χ̃₂⁰ (Pythia gives the same LO σ to the last digit: the couplings differ by a sign
  that the negative χ̃₂⁰ mass compensates), so `higgsino-n2c1` counts twice.

The wino model is χ̃₁±χ̃₁⁰ + χ̃₁⁺χ̃₁⁻: `wino-c1c1` works as it is; χ̃₁±χ̃₁⁰ (the neutral wino is
χ̃₁⁰ here, not χ̃₂⁰ as in `wino-n2c1`) is generated with the raw settings
`SUSY:qqbar2chi+-chi0 = on`, `SUSY:idA = 1000022`, `SUSY:idB = 1000024` and normalised to the
`wino-n2c1` table (the same pair of wino states).

"""

_CHECKS = """## What Pythia 8.317 gives (pythia8mc 8.317.2, 13 TeV, leading order)

1000 events each, seed 11, default tune; σ is Pythia's `sigmaGen()` with its error; the
table is the built-in `recast.xsec` one (NLO+NLL for electroweakinos, NNLO+NNLL otherwise).

| template, point | process | LO σ (fb) | table σ (fb) | K |
|---|---|---|---|---|
| higgsino, 250 GeV | χ̃₁⁰χ̃₂⁰ (`higgsino-n1n2`) | 72.8 ± 1.0 | 104.25 | 1.43 |
| higgsino, 250 GeV | χ̃₂⁰χ̃₁± (`higgsino-n2c1`) | 134.0 ± 1.8 | 183.69 | 1.37 |
| higgsino, 250 GeV | χ̃₁⁰χ̃₁± (raw settings) | 134.0 ± 1.8 | 183.69 (as χ̃₂⁰χ̃₁±) | 1.37 |
| higgsino, 250 GeV | χ̃₁⁺χ̃₁⁻ (`higgsino-c1c1`) | 73.1 ± 1.0 | 106.30 | 1.45 |
| wino, 250 GeV | χ̃₁⁰χ̃₁± (raw settings) | 536 ± 7 | 782.5 (`wino-n2c1`) | 1.46 |
| wino, 250 GeV | χ̃₁⁺χ̃₁⁻ (`wino-c1c1`) | 259 ± 4 | 387.5 | 1.50 |
| stop, (1175, 700) GeV | t̃₁t̃₁* (`stop-pairs`) | 1.18 ± 0.02 | 2.02 | 1.71 |
| gluino, (2000, 1000) GeV | g̃g̃ (`gluino-pairs`) | 0.406 ± 0.005 | 1.01 | 2.49 |

Over 30 seeds of 50 events, χ̃₁⁰χ̃₂⁰ at 250 GeV gives 72.6 fb with a spread of 4.3 fb (6 %);
the data folder's own check (24,000 events) gave 71.4 fb. With both higgsino masses positive
(the card as published with only MODSEL added and the mixing set) it gives 23.6 fb: the sign
matters. In χ̃₁⁰χ̃₂⁰ events every neutralino decays to t b s or t̄ b̄ s̄. About 8–10 s per 1000
events at each of these points (one core of a shared 2-core machine).
"""


def _readme(rows: list[str], sections: list[str]) -> str:
    return _INTRO.format(rows="\n".join(rows)) + "\n".join(sections) + "\n" + _FULL_MODELS + _CHECKS


def write(files: dict[str, str], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        with atomic_open(folder / name) as handle:
            handle.write(text)
        log.info("wrote %s", folder / name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="the published material")
    parser.add_argument("--out", type=Path, default=MODELS, help="the folder to write")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if not (args.data / "SHA256SUMS").is_file():
        log.error("%s: no published material (SHA256SUMS); nothing written", args.data)
        return 1
    try:
        write(build(args.data), args.out)
    except RecastError as err:
        log.error("%s", err)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
