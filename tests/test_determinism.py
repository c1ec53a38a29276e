"""Determinism: the sample data is byte-identical for a seed; ingest gives identical warehouses.

docs/sample-data.md: "Same seed and arguments → byte-identical files (no timestamps, no
dict-order or hash randomness, fixed xlsx metadata)". The two generations for one seed run in
separate interpreters with different ``PYTHONHASHSEED`` so that set/dict-order or ``hash()``
leaks would show.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
PY = ROOT / ".venv" / "bin" / "python"
if not PY.exists():  # pragma: no cover
    PY = Path(sys.executable)
RESPONSES = 400  # the generator's minimum: keeps the test fast


def _generate(out: Path, seed: int, hashseed: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONHASHSEED=hashseed)
    return subprocess.Popen([str(PY), "-m", "cxlab", "sample-data", "--out", str(out),
                             "--seed", str(seed), "--responses", str(RESPONSES)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def generations(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("determinism")
    runs = {"seed0_a": (0, "1"), "seed0_b": (0, "4242"), "seed1": (1, "1")}
    procs = {name: _generate(base / name, seed, hs) for name, (seed, hs) in runs.items()}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, f"{name}: {err}"
    return {name: base / name for name in runs}


def test_same_seed_gives_byte_identical_files(generations):
    a, b = _files(generations["seed0_a"]), _files(generations["seed0_b"])
    assert sorted(a) == sorted(b)
    assert len(a) >= 10
    assert any(name.endswith(".xlsx") for name in a), "the 问卷星 xlsx must be covered"
    differ = [name for name in a if a[name] != b[name]]
    assert not differ, f"same seed, different bytes: {differ}"


def test_different_seed_gives_different_data(generations):
    a, c = _files(generations["seed0_a"]), _files(generations["seed1"])
    assert sorted(a) == sorted(c)  # same layout
    differ = [name for name in a if a[name] != c[name]]
    # every survey export and the truth differ (answers are random); nothing is seed-independent
    for name in a:
        if name.startswith("survey/") or name == "truth.json":
            assert name in differ, f"{name} does not depend on the seed"
    assert json.loads(a["truth.json"])["seed"] == 0
    assert json.loads(c["truth.json"])["seed"] == 1


def test_ingesting_the_same_data_twice_gives_identical_frames(generations, tmp_path):
    from cxlab.io import ingest, load_ingest_log, load_responses, load_table

    key = tmp_path / "key"
    key.write_text("ef" * 32 + "\n", encoding="ascii")
    raw = generations["seed0_a"]
    frames, reports = [], []
    for i in range(2):
        wh = tmp_path / f"w{i}" / "warehouse"
        reports.append(ingest([raw], warehouse=wh, quarantine_dir=tmp_path / f"w{i}" / "q",
                              pseudonym_key_file=key))
        frames.append(wh)
    r0, r1 = reports
    assert r0.rows_read == r0.accepted + r0.quarantined
    assert (r0.rows_read, r0.accepted, r0.quarantined) == (r1.rows_read, r1.accepted,
                                                           r1.quarantined)
    assert r0.accepted > 0 and r0.quarantined > 0
    pd.testing.assert_frame_equal(r0.quarantine, r1.quarantine)
    w0, w1 = frames
    pd.testing.assert_frame_equal(load_responses(w0), load_responses(w1))
    for table in ("customers", "orders", "invitations", "tickets", "audits",
                  "scorecard_actuals"):
        pd.testing.assert_frame_equal(load_table(w0, table), load_table(w1, table),
                                      obj=table)
    # the warehouse files themselves, except the ingest log (run ids and times)
    def digest(wh: Path) -> dict[str, str]:
        return {p.relative_to(wh).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(wh.rglob("*")) if p.is_file() and p.name != "_ingest_log.jsonl"}
    assert digest(w0) == digest(w1)
    cols = ["file", "sha256", "source", "table", "rows_read", "accepted", "quarantined",
            "rejected"]
    l0, l1 = load_ingest_log(w0)[cols], load_ingest_log(w1)[cols]
    pd.testing.assert_frame_equal(l0, l1)


def test_reingesting_into_the_same_warehouse_changes_nothing(generations, tmp_path):
    """Ingest is idempotent: a second run over the same files leaves the same frame."""
    from cxlab.io import ingest, load_responses

    key = tmp_path / "key"
    key.write_text("ef" * 32 + "\n", encoding="ascii")
    survey = [generations["seed0_a"] / "survey" / f"{kind}_2026Q3.{ext}"
              for kind, ext in (("wjx", "xlsx"), ("qualtrics", "csv"))]
    wh = tmp_path / "warehouse"
    first = ingest(survey, warehouse=wh, quarantine_dir=tmp_path / "q", pseudonym_key_file=key)
    before = load_responses(wh)
    second = ingest(survey, warehouse=wh, quarantine_dir=tmp_path / "q",
                    pseudonym_key_file=key)
    assert (second.accepted, second.quarantined) == (first.accepted, first.quarantined)
    pd.testing.assert_frame_equal(load_responses(wh), before)
    assert len(before) == first.accepted > 0 and first.quarantined > 0
