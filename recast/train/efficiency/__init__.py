"""Efficiency maps from tagged objects: the learned map (a set-network ensemble), the binned
pT–|η| map from the same data, their closure on held-out samples, and the study that does it
all (``recast train efficiency CONFIG``).

==============  ==============================================================================
``trainer``     :class:`~.trainer.EfficiencyMapTrainer`: fit, predict, export to ONNX + card +
                a ``network`` map
``network``     the exported ensemble (mean efficiency and the members' spread)
``binned``      the binned map measured from tagged objects (numpy only)
``closure``     calibration and the closure report of maps on held-out samples (numpy only)
``samples``     tagged samples and the synthetic processes ``proximity`` and ``boosted_pair``
``study``       the study end to end, in memory or from a training config
``plot``        the closure figure, drawn from a report
==============  ==============================================================================
"""
