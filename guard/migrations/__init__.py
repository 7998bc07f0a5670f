"""Alembic migrations for the audit store, shipped in the package, run by ``AuditStore.open()``."""
