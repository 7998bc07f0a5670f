"""Crisis lexicon data: ``lexicon.yaml`` and its documentation (``README.md``).

Data only. The code that loads and applies it lives in ``guard.checks.crisis``; this package
exists so the data ships with the distribution and is found with ``importlib.resources``
(arrows point guard -> classifiers, never back).
"""
