"""Shared fixtures: Agg backend, seeded generators, sample data and an ingested warehouse."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
REFERENCE_DATA = SHARED / "reference-data"
REAL_EXPORTS = SHARED / "real-exports"


@pytest.fixture(scope="session", autouse=True)
def _test_pseudonym_key(tmp_path_factory):
    """Tests never create or read the user's real pseudonymisation key."""
    key = tmp_path_factory.mktemp("key") / "pseudonym.key"
    old = os.environ.get("CXLAB_PSEUDONYM_KEY_FILE")
    os.environ["CXLAB_PSEUDONYM_KEY_FILE"] = str(key)
    yield key
    if old is None:
        os.environ.pop("CXLAB_PSEUDONYM_KEY_FILE", None)
    else:
        os.environ["CXLAB_PSEUDONYM_KEY_FILE"] = old


@pytest.fixture(autouse=True)
def _project_cwd_and_close_figures(monkeypatch):
    """Run every test from the project root (params/ paths are relative) and close figures."""
    monkeypatch.chdir(ROOT)
    yield
    plt.close("all")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261123)


@pytest.fixture(scope="session")
def reference_data() -> Path:
    if not REFERENCE_DATA.is_dir():
        pytest.fail(f"reference data not found at {REFERENCE_DATA} (shared/ must sit beside the checkout)")
    return REFERENCE_DATA


@pytest.fixture(scope="session")
def real_exports() -> Path:
    if not REAL_EXPORTS.is_dir():
        pytest.fail(f"real exports not found at {REAL_EXPORTS} (shared/ must sit beside the checkout)")
    return REAL_EXPORTS


@pytest.fixture(scope="session")
def sample_raw(tmp_path_factory) -> Path:
    """The default sample data (seed 0), generated once per test session."""
    from cxlab.datasets import make_sample_data

    out = tmp_path_factory.mktemp("raw")
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        make_sample_data(out, seed=0)
    finally:
        os.chdir(cwd)
    return out


@pytest.fixture(scope="session")
def sample_truth(sample_raw) -> dict:
    import json

    return json.loads((sample_raw / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def sample_warehouse(sample_raw, tmp_path_factory) -> Path:
    """The sample data ingested into a fresh warehouse, once per test session."""
    from cxlab.io import ingest

    base = tmp_path_factory.mktemp("wh")
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        ingest([sample_raw], warehouse=base / "warehouse", quarantine_dir=base / "quarantine")
    finally:
        os.chdir(cwd)
    return base / "warehouse"


@pytest.fixture(scope="session")
def rendered_reports(sample_warehouse, tmp_path_factory) -> Path:
    """Every report of the last sample period (company, regions, branches), HTML and PDF, once."""
    from cxlab.report import render_all

    out = tmp_path_factory.mktemp("reports")
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        summary = render_all(periods=["2026Q3"], warehouse=sample_warehouse, output_dir=out,
                             progress=False)
    finally:
        os.chdir(cwd)
    assert not summary.failed, summary.summary()
    return out
