"""Detector emulation from truth: smearing, efficiency maps, surrogate taggers, truth tagging."""
