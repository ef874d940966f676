"""Engines run doublet's stage functions: ``local`` in one machine's processes (Spark comes later)."""
