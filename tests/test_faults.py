"""Fault injection on ingest: ``cxlab ingest`` killed (SIGKILL) inside the warehouse write.

A child ``python`` process runs the real command line (``cxlab.cli.main``) with a hook that, at
one point of ``cxlab.io._warehouse``'s write path, writes a marker file and waits; the test then
sends SIGKILL from outside, so the process dies exactly there (no ``finally``, no cleanup).
The scenario: a warehouse holding ``a.csv`` (3 rows) and ``b.csv`` (2 rows); the killed run
ingests a changed ``a.csv`` (4 rows, other answers) and a new ``c.csv`` (1 row).

After the kill the warehouse must be readable and consistent — ``load_responses`` gives exactly
the previous frame, or (once the commit point has passed) exactly the new one, never a mix — and
the crashed run must not be in the ingest log. A subsequent ingest must recover: the same frame
as a clean run, no staging folders or journal left, the manifest naming exactly the part files
on disk.

Render-side faults (a report killed mid-render, a notebook that raises, a dying kernel) belong
to the report runner's tests.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
PY = ROOT / ".venv" / "bin" / "python"
if not PY.exists():  # pragma: no cover
    PY = Path(sys.executable)
ARGS = ["--period", "2026Q3", "--branch", "SH01"]

# The child: install the hook named by argv[1], then run the command line with argv[2:].
# At the hook point it writes $CXLAB_TEST_MARKER and sleeps until killed.
CHILD = r'''
import os, sys, time
from pathlib import Path
import cxlab.io._ingest as ing
import cxlab.io._warehouse as wh

MARKER = os.environ["CXLAB_TEST_MARKER"]

def stop_here(where):
    Path(MARKER).write_text(where)
    time.sleep(300)
    os._exit(99)  # never reached when the test kills us

hook = sys.argv[1]
if hook == "staging":          # a part file written into .staging-*, before the commit point
    real_write = wh._write_parquet
    def _write_parquet(table, path):
        real_write(table, path)
        stop_here(str(path))
    wh._write_parquet = _write_parquet
elif hook == "journal":        # journal in place (the commit point), nothing applied yet
    real_apply = wh._apply
    def _apply(root, journal):
        if (Path(root) / wh.JOURNAL).is_file():
            stop_here("journal")
        real_apply(root, journal)
    wh._apply = _apply
elif hook == "apply_move":     # the first new part moved into place, the rest not yet
    real_replace = os.replace
    def replace(src, dst, *a, **k):
        real_replace(src, dst, *a, **k)
        if ".staging-" in str(src) and str(dst).endswith(".parquet"):
            stop_here(str(dst))
    os.replace = replace
elif hook == "manifest":       # parts moved and old ones deleted, manifest not yet replaced
    real_atomic = wh._write_bytes_atomic
    def _write_bytes_atomic(path, data):
        if Path(path).name == wh.MANIFEST:
            stop_here("manifest")
        real_atomic(path, data)
    wh._write_bytes_atomic = _write_bytes_atomic
elif hook == "log":            # data committed, quarantine/ingest log not yet written
    def append_ingest_log(*a, **k):
        stop_here("log")
    ing.append_ingest_log = append_ingest_log
else:
    raise SystemExit(f"unknown hook {hook}")

from cxlab.cli import main
sys.exit(main(sys.argv[2:]))
'''

HOOKS = ["staging", "journal", "apply_move", "manifest", "log"]
BEFORE_COMMIT = {"staging"}


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _hashes(root: Path, *, skip_hidden: bool = False) -> dict[str, str]:
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if not p.is_file():
            continue
        if skip_hidden and any(part.startswith(".") for part in rel.parts):
            continue
        out[rel.as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _sorted_frame(wh: Path) -> pd.DataFrame:
    from cxlab.io import load_responses

    df = load_responses(wh)
    return df.sort_values("response_id", kind="stable").reset_index(drop=True)


def _ingest(paths, wh: Path, q: Path, key_file: Path):
    from cxlab.io import ingest

    return ingest(paths, warehouse=wh, quarantine_dir=q, period="2026Q3", branch="SH01",
                  codebook=ROOT / "params/codebook.yaml", sources=ROOT / "params/sources.yaml",
                  org=ROOT / "params/org.yaml", pseudonym_key_file=key_file)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("fault")
    key = _write(base / "key", "cd" * 32 + "\n")
    a1 = _write(base / "v1" / "a.csv", "response_id,ltr,comment\nA1,9,旧\nA2,8,旧\nA3,7,旧\n")
    b = _write(base / "v1" / "b.csv", "response_id,ltr,comment\nB1,1,\nB2,2,\n")
    a2 = _write(base / "v2" / "a.csv",
                "response_id,ltr,comment\nA1,0,新\nA2,1,新\nA3,2,新\nA4,3,新\n")
    c = _write(base / "v2" / "c.csv", "response_id,ltr,comment\nC1,5,\n")
    old = base / "old" / "warehouse"
    r = _ingest([a1, b], old, base / "old" / "q", key)
    assert (r.accepted, r.quarantined) == (5, 0)
    new = base / "new" / "warehouse"
    shutil.copytree(old, new)
    r = _ingest([a2, c], new, base / "new" / "q", key)
    assert (r.accepted, r.quarantined) == (5, 0)
    return {"base": base, "key": key, "old": old, "new_paths": [a2, c],
            "old_frame": _sorted_frame(old), "new_frame": _sorted_frame(new),
            "old_hashes": _hashes(old)}


@pytest.fixture(scope="module")
def crashed(request, scenario, tmp_path_factory) -> dict:
    """The warehouse after ``cxlab ingest`` was SIGKILLed at hook ``request.param``."""
    hook = request.param
    d = tmp_path_factory.mktemp(f"crash_{hook}")
    wh = d / "warehouse"
    shutil.copytree(scenario["old"], wh)
    marker = d / "marker"
    env = dict(os.environ, CXLAB_PSEUDONYM_KEY_FILE=str(scenario["key"]),
               CXLAB_TEST_MARKER=str(marker), PYTHONIOENCODING="utf-8")
    argv = ["ingest", *map(str, scenario["new_paths"]), "--warehouse", str(wh),
            "--quarantine", str(d / "q"), *ARGS]
    proc = subprocess.Popen([str(PY), "-c", CHILD, hook, *argv], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not marker.exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"child ended (rc {proc.returncode}) before hook {hook}:\n{out}\n{err}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"hook {hook} not reached within 120 s")
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    return {"hook": hook, "warehouse": wh, "dir": d, "where": marker.read_text()}


def _copy(crashed: dict, dest: Path) -> Path:
    """A copy of the warehouse as the kill left it (reading may roll a journal forward)."""
    shutil.copytree(crashed["warehouse"], dest)
    return dest


@pytest.mark.parametrize("crashed", HOOKS, indirect=True)
def test_killed_ingest_leaves_a_consistent_warehouse(crashed, scenario, tmp_path):
    hook = crashed["hook"]
    wh = _copy(crashed, tmp_path / "warehouse")
    if hook == "journal":
        assert (wh / "_journal.json").is_file(), "the kill should have left the journal"
    frame = _sorted_frame(wh)  # must not raise
    old, new = scenario["old_frame"], scenario["new_frame"]
    if hook in BEFORE_COMMIT:
        pd.testing.assert_frame_equal(frame, old)
        # every visible file is as before (only .staging-* / the journal may be left behind)
        after = _hashes(wh, skip_hidden=True)
        after.pop("_journal.json", None)
        assert after == _hashes(scenario["old"], skip_hidden=True)
    else:
        same_old = frame.equals(old)
        same_new = frame.equals(new)
        if hook in ("journal", "apply_move", "manifest"):
            # past the commit point: the reader rolls the journal forward
            assert same_new or (same_old and hook == "journal"), frame.to_string()
        assert same_old or same_new, (
            "after a kill the warehouse shows neither the previous nor the new state:\n"
            f"{frame[['response_id', 'ltr', 'source_file']].to_string()}")
        assert frame["response_id"].is_unique
    # the killed run is not in the ingest log: counts there are unchanged
    assert (wh / "_ingest_log.jsonl").read_bytes() == \
        (scenario["old"] / "_ingest_log.jsonl").read_bytes()


@pytest.mark.parametrize("crashed", HOOKS, indirect=True)
def test_next_ingest_recovers(crashed, scenario, tmp_path):
    from cxlab.io import load_ingest_log

    wh = _copy(crashed, tmp_path / "warehouse")
    report = _ingest(scenario["new_paths"], wh, tmp_path / "q", scenario["key"])
    assert report.rows_read == report.accepted + report.quarantined == 5
    assert report.quarantined == 0 and not report.rejected_files
    pd.testing.assert_frame_equal(_sorted_frame(wh), scenario["new_frame"])
    assert not list(wh.glob(".staging-*")) and not (wh / "_journal.json").exists()
    assert not list(wh.rglob(".*.tmp"))
    manifest = json.loads((wh / "_manifest.json").read_text(encoding="utf-8"))
    listed = {p for files in manifest["tables"].values() for f in files.values()
              for p in f["parts"]}
    on_disk = {p.relative_to(wh).as_posix() for p in wh.rglob("*.parquet")}
    assert listed == on_disk, "orphan or missing part files after recovery"
    rows = {f: e["rows"] for files in manifest["tables"].values() for f, e in files.items()}
    assert rows == {"a.csv": 4, "b.csv": 2, "c.csv": 1}
    log = load_ingest_log(wh)
    last = log[log["run_id"] == report.run_id]
    assert sorted(last["file"]) == ["a.csv", "c.csv"]
    assert (last["rows_read"] == last["accepted"] + last["quarantined"]).all()
