"""Critical-illness red flags: ``redflags.yaml`` (data, with a source per flag), its
documentation (``README.md``) and the pure matcher (``redflags``). The check that uses them is
``guard.checks.critical_illness``."""
