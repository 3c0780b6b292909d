"""The shared core of the trainers: what the efficiency, surrogate and filter trainers all use.

==================  ==========================================================================
``_torch``          the one place torch is imported (absent: the extra to install), the device,
                    the thread count, a seeded block
``trainer``         :class:`~.trainer.Trainer`, the base of every trainer (scikit-learn
                    conventions, the fitting loop's parameters and checks, the card export)
``ensemble``        :class:`~.ensemble.SetEnsembleTrainer`, the per-object set-network ensemble
                    with bootstrap that the efficiency and surrogate trainers share
``fitting``         the training loop (Adam, cosine schedule, early stopping) and its history
``networks``        the per-object set network :class:`~.networks.ObjectInContext`
``losses``          weighted (B)CE with negative weights, distance correlation, gradient reversal
``inputs``          per-object training rows built by the runtime's input builder; splits and
                    bootstrap by event (no torch)
``config``          training configs: schema and value checks, every problem at once (no torch)
``staging``         a study's files written all or nothing (no torch)
``study``           what the efficiency and surrogate studies share (record, report, samples)
==================  ==========================================================================
"""
