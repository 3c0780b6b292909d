"""Surrogate taggers: a detector-level score's distribution over bins from truth inputs, its
check against observed scores, and the study that does it all
(``recast train surrogate CONFIG``).

==============  ==============================================================================
``trainer``     :class:`~.trainer.SurrogateTrainer`: fit, predict, export to ONNX + card + a
                ``surrogate`` map
``network``     the score density per object and the exported ensemble (mixture, spread,
                disagreement)
``inputs``      the card template and the score bins (no torch)
``samples``     scored samples and :class:`~.samples.BetaDetector`, a synthetic detector with a
                known score law (no torch)
``closure``     sampled against observed scores on held-out samples (χ², KS), and the flags of
                inputs outside the training support (no torch)
``study``       the study end to end, in memory or from a training config
``plot``        the closure figure, drawn from a report
==============  ==============================================================================
"""
