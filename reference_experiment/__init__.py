"""The reference "experiment" of the flagship: full simulation and reconstruction stand-in.

It plays the experiment whose detector outsiders never see: it turns truth objects into
reconstructed ones with models richer than anything it publishes, and makes the samples the
flagship bundle is built from. Nothing else in ``recast`` may import this package (a test
checks it): the recast side may use only what the bundle publishes.

::

    from recast.objects import build_objects
    from reference_experiment import REFERENCE_OBJECTS, ReferenceDetector
    reco = ReferenceDetector().apply(build_objects(chunk, REFERENCE_OBJECTS), seed=1)

Models and their true parameters: :mod:`.jets`, :mod:`.btag`, :mod:`.leptons`, :mod:`.met`;
samples: :mod:`.grid` and ``python -m reference_experiment.samples``. See ``docs/flagship.md``.
"""

from __future__ import annotations

from .btag import WORKING_POINTS, BTagModel, efficiency
from .detector import REFERENCE_OBJECTS, ReferenceDetector, perfect_detector
from .jets import JetModel
from .leptons import ELECTRONS, MUONS, LeptonModel
from .met import SoftTermModel

__all__ = [
    "ELECTRONS",
    "MUONS",
    "REFERENCE_OBJECTS",
    "WORKING_POINTS",
    "BTagModel",
    "JetModel",
    "LeptonModel",
    "ReferenceDetector",
    "SoftTermModel",
    "efficiency",
    "perfect_detector",
]
