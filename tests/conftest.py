"""Shared test settings: hypothesis without per-example deadlines (CI machines are shared and timing
varies; the properties, not the speed, are under test)."""

from hypothesis import settings

settings.register_profile("doublet", deadline=None)
settings.load_profile("doublet")

import json  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

REUTERS = Path(__file__).resolve().parents[2] / "shared" / "bench" / "dev-reuters" / "corpus.jsonl"


def reuters_rows(n: int) -> list[dict]:
    """The first ``n`` records of the dev-reuters corpus (skips the test where ../shared is absent)."""
    if not REUTERS.exists():
        pytest.skip("../shared/bench is not present")
    with open(REUTERS, encoding="utf-8") as f:
        return [json.loads(line) for _, line in zip(range(n), f)]
