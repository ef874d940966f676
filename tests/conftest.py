"""Shared test settings: hypothesis without per-example deadlines (CI machines are shared and timing
varies; the properties, not the speed, are under test)."""

from hypothesis import settings

settings.register_profile("doublet", deadline=None)
settings.load_profile("doublet")
