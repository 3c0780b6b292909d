"""The event filter of selective simulation: will a generated event pass the skim? A graph
network over the truth record, trained with a distance-correlation penalty, used as an
importance-sampling probability, and the study that measures what it buys
(``recast train filter CONFIG``).

==============  ==============================================================================
``trainer``     :class:`~.trainer.FilterTrainer`: fit, predict, export to ONNX + card; ``auc``
``network``     the graph convolutional network :class:`~.network.GraphFilter`
``card``        the card template of an exported filter (no torch)
``samples``     graphs, pass labels and timings from the toy or from Pythia8 (no torch)
``toy``         the seeded toy decay-tree generator with a known pass rule (no torch)
``merit``       speed-up, effective sample size per CPU second and bias (no torch)
``study``       the study end to end from a training config
``plot``        the bias and speed-up figures, drawn from a report
==============  ==============================================================================
"""
