"""Helpers shared by several test suites (the scripted agent server)."""
