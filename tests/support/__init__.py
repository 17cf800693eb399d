"""Helpers shared by the test suites (real local servers, stand-ins)."""
