"""Fakes of external services for tests: real servers on loopback, scriptable per test."""
