"""The one layer that knows every stage: events → objects → detector → analysis → likelihood.

* :mod:`.runner` — the chain of one bundle over work units (files, byte ranges, Pythia8
  blocks, caches) and its execution, in process or on Dask (:class:`recast.parallel.Executor`);
* :mod:`.run` — `recast run` and `recast validate`: arguments checked before any event, the
  results and validation documents (:mod:`.results`, :mod:`.normalise`);
* :mod:`.limits` and :mod:`.scan` — limits and scans that find a bundle's likelihood;
* :mod:`.api` and :mod:`.outcome` — the Python API ``recast`` exports and the typed results
  it returns.
"""
