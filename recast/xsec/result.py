"""What a cross-section look-up returns: σ in pb with its uncertainties and where it comes from."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

#: the uncertainty components, each an (up, down) pair of positive magnitudes in pb
COMPONENTS = ("scale", "pdf", "total")


@dataclass(frozen=True)
class CrossSection:
    """One production cross-section.

    Uncertainties are positive magnitudes in pb: σ ranges from ``value_pb - total_down_pb``
    to ``value_pb + total_up_pb``. A component the source does not give is None (the working
    group's tables quote only a total; an SLHA ``XSECTION`` line quotes none).
    """

    process: str
    order: str
    value_pb: float
    source: str
    mass_gev: float | None = None
    scale_up_pb: float | None = None
    scale_down_pb: float | None = None
    pdf_up_pb: float | None = None
    pdf_down_pb: float | None = None
    total_up_pb: float | None = None
    total_down_pb: float | None = None
    sqrt_s_gev: float = 13000.0
    #: an SLHA XSECTION line's six flags (scale scheme, QCD order, EW order, κ_R, κ_F, PDF id)
    slha_flags: tuple[float, ...] = ()
    #: an SLHA XSECTION block's final state (PDG ids)
    final_state: tuple[int, ...] = ()

    def shifted(self, sigmas: float) -> float:
        """σ moved by ``sigmas`` times its total uncertainty (up for > 0, down for < 0), in pb;
        a scan re-evaluated at σ_theory ± 1σ takes ``shifted(+1)`` and ``shifted(-1)``."""
        if sigmas == 0:
            return self.value_pb
        width = self.total_up_pb if sigmas > 0 else self.total_down_pb
        if width is None:
            raise ValueError(f"{self.process}: the source ({self.source}) gives no uncertainty")
        return self.value_pb + sigmas * width

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record (for results documents): every field, None where not given."""
        record = asdict(self)
        record["slha_flags"] = list(self.slha_flags)
        record["final_state"] = list(self.final_state)
        return record


@dataclass(frozen=True, eq=False)  # arrays have no single truth value: compare fields
class CrossSections:
    """Cross-sections of one process at many masses: arrays of the same length, in pb.

    A component the table does not give is None. ``cross_sections[i]`` is one
    :class:`CrossSection`.
    """

    process: str
    order: str
    source: str
    mass_gev: npt.NDArray[np.float64]
    value_pb: npt.NDArray[np.float64]
    scale_up_pb: npt.NDArray[np.float64] | None
    scale_down_pb: npt.NDArray[np.float64] | None
    pdf_up_pb: npt.NDArray[np.float64] | None
    pdf_down_pb: npt.NDArray[np.float64] | None
    total_up_pb: npt.NDArray[np.float64] | None
    total_down_pb: npt.NDArray[np.float64] | None
    sqrt_s_gev: float = 13000.0

    def __len__(self) -> int:
        return len(self.value_pb)

    def __getitem__(self, index: int) -> CrossSection:
        def item(values: npt.NDArray[np.float64] | None) -> float | None:
            return None if values is None else float(values[index])

        return CrossSection(
            process=self.process,
            order=self.order,
            value_pb=float(self.value_pb[index]),
            source=self.source,
            mass_gev=float(self.mass_gev[index]),
            scale_up_pb=item(self.scale_up_pb),
            scale_down_pb=item(self.scale_down_pb),
            pdf_up_pb=item(self.pdf_up_pb),
            pdf_down_pb=item(self.pdf_down_pb),
            total_up_pb=item(self.total_up_pb),
            total_down_pb=item(self.total_down_pb),
            sqrt_s_gev=self.sqrt_s_gev,
        )
