"""Ingest: N responses × the 40 codebook items from one CSV into the validated warehouse.

The file is a plain CSV in the canonical layout (``response_id, customer_id, period, branch,
channel, submitted_at`` + one column per codebook item id), read through the ``generic``
source of ``params/sources.yaml``: verbal items as their labels (好/良好/…), other ordinal
items as codes, ltr 0–10, multi-select joined with ┋, free-text comments, PII columns (which
ingest drops), ~5 % skipped cells and ~0.5 % planted bad rows (ltr 11, unknown labels) that
must be quarantined. It is written with numpy + ``pyarrow.csv`` (the sample-data generator is
not used: above 200,000 responses it writes 问卷星 CSVs plus CRM/ops tables, which would time
more than the survey path).

Both sides run in a fresh interpreter (imports included, interpreter start excluded), whose
peak RSS is its own high-water mark (``VmHWM``):

- baseline: ``pd.read_csv(path, engine="pyarrow")`` + ``df.to_parquet(...)``;
- cxlab: ``cxlab.io.ingest([path], warehouse=…, quarantine_dir=…)`` — read, map to the
  codebook, validate, quarantine, pseudonymise, write the partitioned warehouse.
"""

from __future__ import annotations

import json
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv

from bench._common import ROOT, Check, median, run_python

NAME = "ingest"

_BASELINE = textwrap.dedent("""
    import sys
    import pandas as pd
    df = pd.read_csv(sys.argv[1], engine="pyarrow")
    df.to_parquet(sys.argv[2])
    print(len(df))
""")

_CXLAB = textwrap.dedent("""
    import json, sys
    from cxlab.io import ingest
    r = ingest([sys.argv[1]], warehouse=sys.argv[2], quarantine_dir=sys.argv[3],
               pseudonym_key_file=sys.argv[4])
    print(json.dumps({"rows_read": r.rows_read, "accepted": r.accepted,
                      "quarantined": r.quarantined, "rejected": r.rejected_files}))
""")

_PROFILE = textwrap.dedent("""
    import cProfile, pstats, sys
    from cxlab.io import ingest
    cProfile.run("ingest([sys.argv[1]], warehouse=sys.argv[2], quarantine_dir=sys.argv[3], "
                 "pseudonym_key_file=sys.argv[4])", sys.argv[5])
""")

_TIMING_READ = textwrap.dedent("""
    import sys, time
    t0 = time.perf_counter()
    from cxlab.io import read_export
    df = read_export(sys.argv[1])
    print(f"{time.perf_counter() - t0:.3f}")
""")


def write_csv(path: Path, rows: int, seed: int = 0) -> dict:
    """Write the canonical-layout CSV; return what was planted."""
    from cxlab.config import load_codebook, load_org

    cb = load_codebook(ROOT / "params" / "codebook.yaml")
    org = load_org(ROOT / "params" / "org.yaml")
    rng = np.random.default_rng(seed)
    n = rows

    def pick(options, size=n):
        return np.asarray(options, dtype=object)[rng.integers(0, len(options), size)]

    def with_skips(values: np.ndarray, share: float = 0.05) -> np.ndarray:
        values = values.astype(object)
        values[rng.random(n) < share] = ""
        return values

    quarters = [("2025Q4", "2025-10-01"), ("2026Q1", "2026-01-01"), ("2026Q2", "2026-04-01"),
                ("2026Q3", "2026-07-01")]
    q = rng.integers(0, 4, n)
    start = np.array([np.datetime64(d + "T00:00:00") for _, d in quarters])[q]
    submitted = (start + rng.integers(0, 89 * 86400, n).astype("timedelta64[s]")).astype(str)
    cols: dict[str, object] = {
        "response_id": pa.array(np.arange(1, n + 1)).cast(pa.string()),
        "customer_id": pick([f"C{k:06d}" for k in range(50_000)]),
        "period": np.array([p for p, _ in quarters], dtype=object)[q],
        "branch": pick(org.branch_codes),
        "channel": pick(["微信", "短信", "邮件", "APP推送"]),
        "submitted_at": np.char.replace(submitted, "T", " "),
    }
    bad = np.zeros(n, bool)
    for it in cb.items:
        sc = cb.scales[it.scale]
        if it.role == "pii":
            vals = pick(["张伟", "王芳", "李娜", "某某科技有限公司", "13800138000", "a@b.cn"])
        elif sc.kind == "category":
            vals = pick(["扫地机器人", "空气净化器", "净水器", "X1", "X2 Pro", "门店", "线上"])
        elif sc.kind == "multi":
            opts = list(sc.options or ["A", "B"])
            vals = np.array(["┋".join(o for o, keep in zip(opts, rng.random(len(opts)) < 0.3,
                                                            strict=True) if keep) or opts[0]
                             for _ in range(min(n, 997))], dtype=object)[np.arange(n) % min(n, 997)]
        elif sc.kind == "text":
            vals = pick(["", "", "服务很好,响应及时", "价格偏高", "配送太慢了", "产品外观漂亮",
                         "客服态度一般", "<script>alert('x')</script>"])
        elif it.scale == "verbal5":
            vals = with_skips(pick(list(sc.codes.values())))
            wrong = rng.random(n) < 0.0005  # planted: a label that is not on the scale
            vals[wrong] = "很好"
            bad |= wrong
        elif sc.kind == "numeric":
            vals = rng.integers(int(sc.min), int(sc.max) + 1, n).astype(object)
            wrong = rng.random(n) < 0.002  # planted: out of range
            vals[wrong] = int(sc.max) + 1
            bad |= wrong
        else:
            vals = with_skips(np.asarray(sorted(sc.codes), dtype=object)[
                rng.integers(0, len(sc.codes), n)].astype(str))
        cols[it.id] = vals
    table = pa.table({k: v if isinstance(v, pa.Array) else pa.array(np.asarray(v).astype(str))
                      for k, v in cols.items()})
    pcsv.write_csv(table, path, write_options=pcsv.WriteOptions(quoting_style="needed"))
    return {"rows": n, "columns": table.num_columns, "planted_bad": int(bad.sum()),
            "bytes": path.stat().st_size}


def run(quick: bool = False, *, profile: bool = False) -> list[Check]:
    rows, repeats = (2_000, 1) if quick else (1_000_000, 2)
    with tempfile.TemporaryDirectory(prefix="cxlab-bench-ingest-") as tmp:
        tmp = Path(tmp)
        src = tmp / "responses.csv"
        planted = write_csv(src, rows)
        base_script, fast_script = tmp / "baseline.py", tmp / "cxlab_ingest.py"
        base_script.write_text(_BASELINE)
        fast_script.write_text(_CXLAB)
        key = tmp / "pseudonym.key"
        key.write_bytes(b"0" * 32)
        base, fast, counts = [], [], None
        for r in range(repeats):
            for side in (("base", "fast") if r % 2 == 0 else ("fast", "base")):
                if side == "base":
                    base.append(run_python(base_script, src, tmp / f"plain-{r}.parquet"))
                else:
                    res = run_python(fast_script, src, tmp / f"wh-{r}", tmp / f"q-{r}", key)
                    counts = json.loads(res["stdout"].strip().splitlines()[-1])
                    fast.append(res)
        read_s = None
        if not quick:
            rd = tmp / "read.py"
            rd.write_text(_TIMING_READ)
            read_s = float(run_python(rd, src)["stdout"].strip().splitlines()[-1])
        prof = None
        if profile:
            ps = tmp / "profile.py"
            ps.write_text(_PROFILE)
            run_python(ps, src, tmp / "wh-prof", tmp / "q-prof", key, tmp / "ingest.prof")
            import io
            import pstats

            buf = io.StringIO()
            pstats.Stats(str(tmp / "ingest.prof"), stream=buf).sort_stats("cumulative").print_stats(35)
            prof = buf.getvalue()
    b, f = median([x["wall"] for x in base]), median([x["wall"] for x in fast])
    extra = {
        "file": f"{planted['rows']:,} rows × {planted['columns']} columns, "
                f"{planted['bytes'] / 2**20:,.0f} MiB, {planted['planted_bad']:,} planted bad rows",
        "peak RSS": f"baseline {median([x['rss_mib'] for x in base]):,.0f} MiB, "
                    f"cxlab {median([x['rss_mib'] for x in fast]):,.0f} MiB",
        "CPU seconds": f"baseline {median([x['cpu'] for x in base]):.1f}, "
                       f"cxlab {median([x['cpu'] for x in fast]):.1f}",
        "ingest counts": counts,
    }
    if counts is not None:
        extra["read = accepted + quarantined"] = (
            counts["rows_read"] == counts["accepted"] + counts["quarantined"] == planted["rows"]
            and counts["quarantined"] == planted["planted_bad"])
    if read_s is not None:
        extra["of which read_export (fresh process, imports included)"] = f"{read_s:.2f} s"
    if prof:
        extra["profile"] = "\n" + prof
    return [Check(
        bench=NAME, name=f"CSV → validated warehouse, {rows:,} responses × 40 items",
        target="≤ 3× baseline",
        baseline_label='pd.read_csv(engine="pyarrow") + to_parquet', baseline_s=b,
        fast_label="cxlab.io.ingest (read, map, validate, quarantine, pseudonymise, write)",
        fast_s=f, ratio=f / b, met=f / b <= 3,
        runs={"baseline": [x["wall"] for x in base], "fast": [x["wall"] for x in fast]},
        extra=extra,
    )]
