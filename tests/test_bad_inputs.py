"""Bad inputs through ``cxlab ingest``: the corpus in tests/data/bad/ plus huge generated files.

Every corpus file is ingested on its own, in its own process, by the real command line
(``cxlab.cli.main``, the function ``python -m cxlab`` runs) into a copy of a warehouse that
already holds a few good rows. For each file (expectations in tests/data/bad/EXPECTED.yaml,
written by make_corpus.py) we check:

- the exit status (0 loaded, 1 file rejected, 2 usage error) and a clear message: one line on
  stderr for a rejection or usage error, nothing on stderr otherwise, never a traceback;
- nothing is lost: the printed ``read N = accepted A + quarantined Q`` adds up and matches the
  expectation, the warehouse gains exactly ``A`` rows, the ingest log agrees;
- a rejected file leaves the warehouse data byte-for-byte unchanged (the ingest log only gains
  lines, it records the rejection);
- every quarantined row carries ``file, row, column, value, reason``: ``row`` is the line of the
  original file (the line where the record starts, header lines counted), ``column`` one of the
  file's columns and ``value`` that cell's raw text.

To keep the suite fast (2 shared cores), one driver process imports cxlab once and forks a child
per file; a few cases are also run through a fresh ``python -m cxlab`` to prove the driver
behaves like the real command. Run as a script (``python tests/test_bad_inputs.py --drive
CASES OUT``) this module is that driver.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BAD = ROOT / "tests" / "data" / "bad"
PY = ROOT / ".venv" / "bin" / "python"
if not PY.exists():  # pragma: no cover - running from another interpreter
    PY = Path(sys.executable)
DEFAULT_ARGS = ["--period", "2026Q3", "--branch", "SH01"]
INGEST_LOG = "_ingest_log.jsonl"
SUMMARY = re.compile(r"^read ([0-9,]+) = accepted ([0-9,]+) \+ quarantined ([0-9,]+) ")

EXPECTED: dict[str, dict] = yaml.safe_load((BAD / "EXPECTED.yaml").read_text(encoding="utf-8"))

# Confirmed bugs still open in files this suite does not own: {file: reason}, each run as a
# strict xfail. (Fixed since: a GBK file with one UTF-8 line garbled every row; an unbalanced
# quote swallowed the following records — now a quarantined line and a rejection naming it.)
KNOWN_BUGS: dict[str, str] = {}


# Output paths that cannot be used (a file where a folder is needed). Each once ended in a
# FileExistsError traceback (and, for the quarantine folder, committed rows whose quarantined
# neighbours were then recorded nowhere); ingest now checks them before committing anything.
UNUSABLE = {
    "warehouse_is_a_file": "--warehouse names a regular file: FileExistsError traceback from "
                           "_warehouse.commit (root.mkdir)",
    "quarantine_is_a_file": "--quarantine names a regular file: the good row is committed to the "
                            "warehouse, then write_quarantine raises FileExistsError (traceback); "
                            "the 2 bad rows are recorded nowhere (no quarantine file, no ingest "
                            "log entry): rows lost",
    "key_under_a_file": "CXLAB_PSEUDONYM_KEY_FILE below a regular file: FileExistsError "
                        "traceback from load_pseudonym_key (mkdir)",
}


# ----------------------------------------------------------------------------------------------
# the driver (runs in its own process)

def _drive(cases_file: str, out_file: str) -> None:
    """Run ``cxlab.cli.main`` once per case, each in a forked child with its own stdout/stderr."""
    import signal
    import traceback

    import pandas  # noqa: F401  - warm imports only: no thread pools are started before fork
    import pyarrow.parquet  # noqa: F401
    import yaml

    import cxlab.cli
    import cxlab.config  # noqa: F401
    import cxlab.io  # noqa: F401

    if getattr(yaml, "__with_libyaml__", False):  # same parser semantics, ~10x faster
        yaml.safe_load = lambda stream: yaml.load(stream, Loader=yaml.CSafeLoader)

    cases = json.loads(Path(cases_file).read_text(encoding="utf-8"))
    results: dict[str, dict] = {}
    running: dict[int, tuple[str, float]] = {}
    pending = list(cases)
    while pending or running:
        while pending and len(running) < 2:  # two at a time: the machine has 2 cores
            case = pending.pop(0)
            d = Path(case["dir"])
            pid = os.fork()
            if pid == 0:  # child
                rc = 1
                try:
                    out = os.open(d / "stdout", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                    err = os.open(d / "stderr", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                    os.dup2(out, 1)
                    os.dup2(err, 2)
                    signal.alarm(120)
                    os.environ.update(case.get("env", {}))
                    rc = cxlab.cli.main(case["argv"])
                except SystemExit as exc:  # argparse usage errors
                    rc = exc.code if isinstance(exc.code, int) else 1
                except BaseException:  # an uncaught error: what the interpreter would print
                    traceback.print_exc()
                    rc = 1
                finally:
                    sys.stdout.flush()
                    sys.stderr.flush()
                    os._exit(rc)
            running[pid] = (case["name"], time.monotonic())
        pid, status = os.wait()
        name, started = running.pop(pid)
        results[name] = {"rc": os.waitstatus_to_exitcode(status),
                         "seconds": round(time.monotonic() - started, 3)}
    Path(out_file).write_text(json.dumps(results), encoding="utf-8")


# ----------------------------------------------------------------------------------------------
# helpers

def _env(key_file: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["CXLAB_PSEUDONYM_KEY_FILE"] = str(key_file)
    env["PYTHONIOENCODING"] = "utf-8"
    env.pop("PYTHONHASHSEED", None)
    return env


def _hashes(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` (relative path → hash)."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _summary_counts(stdout: str) -> tuple[int, int, int]:
    for line in stdout.splitlines():
        m = SUMMARY.match(line)
        if m:
            return tuple(int(g.replace(",", "")) for g in m.groups())  # type: ignore[return-value]
    raise AssertionError(f"no 'read N = accepted A + quarantined Q' summary in:\n{stdout}")


def _lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.strip()]


def _baseline_csv(path: Path) -> None:
    path.write_text("response_id,customer_id,submitted_at,ltr,look_shape,comment\n"
                    "B001,C100001,2026-07-01 10:00:00,9,好,基线一\n"
                    "B002,C100002,2026-07-02 10:00:00,3,差,基线二\n"
                    "B003,C100003,2026-07-03 10:00:00,7,一般,\n", encoding="utf-8")


@pytest.fixture(scope="module")
def key_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("key") / "pseudonym.key"
    path.write_text("ab" * 32 + "\n", encoding="ascii")
    return path


@pytest.fixture(scope="module")
def baseline(tmp_path_factory, key_file) -> dict:
    """A warehouse holding 3 good rows (B001–B003), its file hashes and its frame."""
    from cxlab.io import ingest, load_responses

    base = tmp_path_factory.mktemp("baseline")
    _baseline_csv(base / "baseline.csv")
    wh = base / "warehouse"
    report = ingest([base / "baseline.csv"], warehouse=wh, quarantine_dir=base / "q",
                    period="2026Q3", branch="SH01", codebook=ROOT / "params/codebook.yaml",
                    sources=ROOT / "params/sources.yaml", org=ROOT / "params/org.yaml",
                    pseudonym_key_file=key_file)
    assert report.accepted == 3 and report.quarantined == 0 and not report.rejected_files
    return {"warehouse": wh, "hashes": _hashes(wh), "frame": load_responses(wh),
            "log": (wh / INGEST_LOG).read_bytes()}


@pytest.fixture(scope="module")
def corpus_runs(tmp_path_factory, baseline, key_file, huge_runs) -> dict:
    """Run every corpus file through the driver; ``{name: {rc, dir, stdout, stderr, …}}``."""
    work = tmp_path_factory.mktemp("corpus")
    cases = []
    for name, exp in EXPECTED.items():
        d = work / name.replace(".", "_")
        d.mkdir()
        shutil.copytree(baseline["warehouse"], d / "warehouse")
        argv = ["ingest", str(BAD / name), "--warehouse", str(d / "warehouse"),
                "--quarantine", str(d / "quarantine"), *exp.get("args", DEFAULT_ARGS)]
        cases.append({"name": name, "dir": str(d), "argv": argv})
    for name in UNUSABLE:  # output paths that cannot be used
        d = work / name
        d.mkdir()
        shutil.copytree(baseline["warehouse"], d / "warehouse")
        (d / "a_file").write_text("not a folder\n", encoding="utf-8")
        wh, q, env = d / "warehouse", d / "quarantine", {}
        if name == "warehouse_is_a_file":
            wh = d / "a_file"
        elif name == "quarantine_is_a_file":
            q = d / "a_file"
        else:
            env = {"CXLAB_PSEUDONYM_KEY_FILE": str(d / "a_file" / "key")}
        argv = ["ingest", str(BAD / "ltr_out_of_range.csv"), "--warehouse", str(wh),
                "--quarantine", str(q), *DEFAULT_ARGS]
        cases.append({"name": name, "dir": str(d), "argv": argv, "env": env})
    (work / "cases.json").write_text(json.dumps(cases, ensure_ascii=False), encoding="utf-8")
    proc = subprocess.run([str(PY), __file__, "--drive", str(work / "cases.json"),
                           str(work / "results.json")], cwd=ROOT, env=_env(key_file),
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((work / "results.json").read_text(encoding="utf-8"))
    for case in cases:
        d = Path(case["dir"])
        results[case["name"]].update(
            dir=d, argv=case["argv"],
            stdout=(d / "stdout").read_text(encoding="utf-8", errors="replace"),
            stderr=(d / "stderr").read_text(encoding="utf-8", errors="replace"))
    return results


# ----------------------------------------------------------------------------------------------
# the corpus itself

def test_corpus_is_complete_and_regenerates_byte_for_byte(tmp_path):
    sys.path.insert(0, str(BAD))
    try:
        import make_corpus
    finally:
        sys.path.remove(str(BAD))
    make_corpus.write(tmp_path)
    fresh = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    committed = {p.name: p.read_bytes() for p in BAD.iterdir()
                 if p.is_file() and p.name != "make_corpus.py"}
    assert sorted(fresh) == sorted(committed)
    changed = [n for n in fresh if fresh[n] != committed[n]]
    assert not changed, f"corpus differs from make_corpus.py output: {changed}"
    data_files = sorted(n for n in committed if n != "EXPECTED.yaml")
    assert sorted(EXPECTED) == data_files
    assert len(data_files) >= 40
    kinds = {"reject", "accept", "quarantine", "usage", "reject_or_quarantine"}
    for name, exp in EXPECTED.items():
        assert exp["expect"] in kinds, name
        assert exp.get("what"), f"{name}: say what the file is"
        if exp["expect"] in ("reject", "usage"):
            assert exp.get("message"), name
        if exp["expect"] == "quarantine":
            assert exp["rows"] and "accepted" in exp and "reason" in exp, name


def _case_params():
    for name in EXPECTED:
        marks = ()
        if name in KNOWN_BUGS:
            marks = (pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[name]),)
        yield pytest.param(name, id=name, marks=marks)


def _raw_cell(path: Path, line: int, column: str) -> str:
    """The raw text of ``column`` in the record that starts on ``line`` (as the reader sees it)."""
    from cxlab.io import read_export

    df = read_export(path)
    lines = list(df.attrs["row_lines"])
    assert line in lines, f"{path.name}: line {line} is not a data row start ({lines})"
    value = df[column].iloc[lines.index(line)]
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


@pytest.mark.parametrize("name", list(_case_params()))
def test_corpus_file(name, corpus_runs, baseline):
    from cxlab.io import load_ingest_log, load_responses, read_export

    exp = EXPECTED[name]
    run = corpus_runs[name]
    kind = exp["expect"]
    wh = run["dir"] / "warehouse"
    qdir = run["dir"] / "quarantine"
    out, err = run["stdout"], run["stderr"]
    assert "Traceback" not in out + err, err
    err_lines = _lines(err)

    if kind == "reject_or_quarantine":  # either answer is loud; silently losing rows is not
        if run["rc"] == 1:
            kind = "reject"
            assert any(f"line {exp['lines'][0]}" in ln for ln in err_lines), err
        else:
            read, acc, quar = _summary_counts(out)
            assert read == exp["records"], (
                f"{exp['records']} records in the file, {read} read: rows vanished\n{out}")
            kind = "quarantine"
            exp = {**exp, "rows": exp["lines"], "reason": "", "accepted": exp["records"] - quar}

    if kind == "usage":
        assert run["rc"] == 2, (out, err)
        assert len(err_lines) == 1 and err_lines[0].startswith("cxlab ingest: error:"), err
        assert exp["message"] in err_lines[0]
        assert _hashes(wh) == baseline["hashes"], "a usage error must not touch the warehouse"
        assert not qdir.exists()
        return

    if kind == "reject":
        assert run["rc"] == 1, (out, err)
        assert len(err_lines) == 1, f"expected one line on stderr, got:\n{err}"
        assert err_lines[0].startswith(f"cxlab: rejected {name}: "), err_lines[0]
        if "message" in exp:
            assert exp["message"].lower() in err_lines[0].lower(), err_lines[0]
        read, acc, quar = _summary_counts(out)
        assert (read, acc, quar) == (0, 0, 0)
        after = _hashes(wh)
        before = dict(baseline["hashes"])
        # the ingest log records the rejection (appended); every other file is untouched
        assert after.pop(INGEST_LOG) != before.pop(INGEST_LOG)
        assert after == before, "a rejected file changed the warehouse"
        assert (wh / INGEST_LOG).read_bytes().startswith(baseline["log"])
        log = load_ingest_log(wh).iloc[-1]
        assert log["file"] == name and log["rejected"] and log["accepted"] == 0
        assert not list(qdir.glob("quarantine-*.csv")) if qdir.exists() else True
        return

    # accept / quarantine: the file loads, bad rows go to quarantine; when they are more than
    # half the file (every corpus file has one reason) or nothing loaded, the ingest says so on
    # one stderr line with the reason and exits 1 (quarantine_alert_share, issue 23 §5)
    bad_rows = exp.get("rows", [])
    qrun = sorted(qdir.glob("quarantine-*.csv")) if qdir.exists() else []
    top = (pd.read_csv(qrun[0], dtype=str, encoding="utf-8-sig")["column"].value_counts().max()
           if qrun else 0)   # rows quarantined for the most common column's problem
    alerting = bool(bad_rows) and (exp["accepted"] == 0
                                   or top > 0.5 * (exp["accepted"] + len(bad_rows)))
    if alerting:
        assert run["rc"] == 1, (out, err)
        assert len(err_lines) == 1 and err_lines[0].startswith(f"cxlab: {name}: "), err
        assert "rows quarantined for one reason" in err_lines[0], err
        assert exp["reason"] in err_lines[0], err
    else:
        assert run["rc"] == 0, (out, err)
        assert err_lines == [], err
    read, acc, quar = _summary_counts(out)
    assert read == acc + quar
    assert (acc, quar) == (exp["accepted"], len(bad_rows)), out
    log = load_ingest_log(wh).iloc[-1]
    assert (log["file"], log["rows_read"], log["accepted"], log["quarantined"]) == \
        (name, read, acc, quar)
    frame = load_responses(wh)
    assert len(frame) == len(baseline["frame"]) + acc
    mine = frame[frame["source_file"] == name].reset_index(drop=True)
    assert len(mine) == acc
    base = frame[frame["source_file"] == "baseline.csv"].reset_index(drop=True)
    pd.testing.assert_frame_equal(base, baseline["frame"])
    for col, want in exp.get("values", {}).items():
        got = [None if pd.isna(v) else v for v in mine[col].tolist()]
        assert got == want, col
    for col, want in exp.get("missing", {}).items():  # which cells are missing, not their codes
        assert mine[col].isna().tolist() == want, col
    for secret in exp.get("absent", []):
        for col in frame.columns:
            assert not frame[col].astype("string").str.contains(secret, regex=False).any(), \
                f"{secret!r} reached the warehouse in column {col}"

    qfiles = sorted(qdir.glob("quarantine-*.csv")) if qdir.exists() else []
    if not bad_rows:
        assert qfiles == []
        return
    assert len(qfiles) == 1
    q = pd.read_csv(qfiles[0], dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert list(q.columns) == ["file", "row", "column", "value", "reason"]
    assert (q["file"] == name).all()
    assert sorted(int(r) for r in q["row"]) == sorted(bad_rows)
    assert (q["reason"].str.len() > 0).all()
    assert q["reason"].str.contains(exp["reason"], regex=False).all(), q["reason"].tolist()
    if kind == "quarantine" and bad_rows:
        columns = list(read_export(BAD / name).columns)
        for rec in q.itertuples(index=False):
            if rec.column:  # a cell problem: the export's own column and its raw value
                assert rec.column in columns, rec
                raw = _raw_cell(BAD / name, int(rec.row), rec.column)[:200]
                # the file is for spreadsheets: formula-like cells carry a leading apostrophe
                safe = "'" + raw if raw.startswith(("=", "+", "-", "@", "\t", "\r")) else raw
                assert rec.value == safe, rec


@pytest.mark.parametrize("name", list(UNUSABLE))
def test_unusable_output_path_gives_one_line(name, corpus_runs, baseline):
    """An environment problem is a user error too: one line, and nothing half-done."""
    run = corpus_runs[name]
    assert "Traceback" not in run["stderr"], run["stderr"][-2000:]
    assert run["rc"] in (1, 2)
    lines = _lines(run["stderr"])
    assert len(lines) == 1 and lines[0].startswith(("cxlab: error:", "cxlab ingest: error:"))
    # nothing committed without its quarantine record and log entry
    wh = run["dir"] / "warehouse"
    assert _hashes(wh) == baseline["hashes"]


def test_driver_matches_the_real_command(corpus_runs, baseline, key_file, tmp_path):
    """``python -m cxlab`` in a fresh interpreter gives the same status and messages."""
    names = ["ltr_out_of_range.csv", "unknown_branch_option.csv"]
    procs = {}
    for name in names:
        d = tmp_path / name
        shutil.copytree(baseline["warehouse"], d / "warehouse")
        argv = ["ingest", str(BAD / name), "--warehouse", str(d / "warehouse"),
                "--quarantine", str(d / "quarantine"), *EXPECTED[name].get("args", DEFAULT_ARGS)]
        procs[name] = subprocess.Popen([str(PY), "-m", "cxlab", *argv], cwd=ROOT,
                                       env=_env(key_file), stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True)
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        run = corpus_runs[name]
        # ltr_out_of_range.csv: 2 of 3 rows quarantined for one reason: an alert, exit 1
        assert proc.returncode == run["rc"] == {"ltr_out_of_range.csv": 1,
                                                "unknown_branch_option.csv": 2}[name]

        def norm(text: str, d: Path) -> list[str]:
            return [ln for ln in text.replace(str(d), "<D>").splitlines()
                    if not ln.startswith("quarantined rows with reasons:")]
        assert norm(out, tmp_path / name) == norm(run["stdout"], run["dir"])
        assert norm(err, tmp_path / name) == norm(run["stderr"], run["dir"])


# ----------------------------------------------------------------------------------------------
# huge inputs, generated on the fly

_RSS_WRAPPER = ("import resource, runpy, sys\n"
                "sys.argv = ['cxlab'] + sys.argv[1:]\n"
                "try:\n"
                "    runpy.run_module('cxlab', run_name='__main__')\n"
                "finally:\n"
                "    print('MAXRSS_MB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,"
                " file=sys.stderr)\n")


def _make_huge_field(path: Path) -> None:
    chunk = ("很长的评论" * 20_000).encode("utf-8")  # 300 kB
    with open(path, "wb") as fh:
        fh.write(b"response_id,ltr,comment\nH1,9,ok\nH2,8,\"")
        written = 0
        while written < 100 * 2**20:
            fh.write(chunk)
            written += len(chunk)
        fh.write(b"\"\nH3,7,fine\n")


def _make_wide(path: Path) -> None:
    header = ["response_id", "ltr"] + [f"x{j}" for j in range(9_998)]
    rows = [",".join(header)]
    rows += [",".join([f"W{i}", str(i)] + [str((i + j) % 7) for j in range(9_998)])
             for i in range(5)]
    rows.append(",".join(["W9", "11"] + ["0"] * 9_998))  # one bad row, line 7
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def huge_runs(tmp_path_factory, baseline, key_file) -> dict:
    """Start ``python -m cxlab ingest`` on the 100 MB-field file and on the 10,000-column file
    (in the background, so they overlap the corpus run); ``{name: (dir, Popen, started)}``."""
    out = {}
    for name, make in (("huge_field.csv", _make_huge_field), ("wide.csv", _make_wide)):
        d = tmp_path_factory.mktemp(name.replace(".", "_"))
        make(d / name)
        shutil.copytree(baseline["warehouse"], d / "warehouse")
        argv = ["ingest", str(d / name), "--warehouse", str(d / "warehouse"),
                "--quarantine", str(d / "q"), *DEFAULT_ARGS]
        proc = subprocess.Popen([str(PY), "-c", _RSS_WRAPPER, *argv], cwd=ROOT,
                                env=_env(key_file), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        out[name] = (d, proc, time.monotonic())
    yield out
    for _, proc, _ in out.values():
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _finish(run: tuple, timeout: float = 180) -> tuple[int, str, list[str], int, float]:
    d, proc, started = run
    out, err = proc.communicate(timeout=timeout)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    rss = int(lines.pop()[len("MAXRSS_MB "):])
    return proc.returncode, out, lines, rss, time.monotonic() - started


def test_100_mb_single_field(huge_runs, baseline):
    """A 100 MB comment (e.g. a runaway quote in a huge export): loud, bounded, no traceback."""
    d = huge_runs["huge_field.csv"][0]
    rc, out, err, rss, seconds = _finish(huge_runs["huge_field.csv"])
    assert seconds < 150
    assert "Traceback" not in out + "\n".join(err)
    assert rss < 2048, f"peak memory {rss} MB for a 100 MB file"
    read, acc, quar = _summary_counts(out)
    assert read == acc + quar
    if rc == 1:  # rejected whole: one line naming the file and the line, warehouse untouched
        assert len(err) == 1 and err[0].startswith("cxlab: rejected huge_field.csv: "), err
        assert "line 3" in err[0], err[0]
        after, before = _hashes(d / "warehouse"), dict(baseline["hashes"])
        after.pop(INGEST_LOG), before.pop(INGEST_LOG)
        assert after == before
    else:  # or loaded with that row accounted for
        assert rc == 0 and err == []
        assert read == 3


def test_10000_columns(huge_runs):
    from cxlab.io import load_responses

    d = huge_runs["wide.csv"][0]
    rc, out, err, _, seconds = _finish(huge_runs["wide.csv"])
    assert rc == 0 and err == [], (out[-500:], err)
    assert _summary_counts(out) == (6, 5, 1)
    frame = load_responses(d / "warehouse")
    assert sorted(frame.loc[frame["source_file"] == "wide.csv", "ltr"].tolist()) == [0, 1, 2, 3, 4]
    assert not any(c.startswith("x") for c in frame.columns), "unmapped columns must not load"
    q = pd.read_csv(next((d / "q").glob("quarantine-*.csv")), dtype=str, encoding="utf-8-sig")
    assert q[["row", "column", "value"]].values.tolist() == [["7", "ltr", "11"]]


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--drive":
        _drive(sys.argv[2], sys.argv[3])
    else:
        sys.exit("usage: python tests/test_bad_inputs.py --drive CASES.json OUT.json")
