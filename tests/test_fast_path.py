"""The CSV fast path (pyarrow.csv + whole-column conversion) must give exactly what the careful
line-by-line path gives: frame, dtypes and every ``attrs`` entry."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxlab.io._readers import read_export


def _fast_and_careful(path, monkeypatch):
    from cxlab.io._text import fast_delimited

    assert fast_delimited(path.read_bytes()) is not None, f"{path.name} did not take the fast path"
    fast = read_export(path)
    monkeypatch.setenv("CXLAB_CAREFUL_CSV", "1")
    careful = read_export(path)
    monkeypatch.delenv("CXLAB_CAREFUL_CSV")
    pd.testing.assert_frame_equal(fast, careful, check_exact=True)
    assert {k: str(v) for k, v in fast.attrs.items()} == {k: str(v) for k, v in careful.attrs.items()}
    return fast


def test_fast_path_equals_careful_path_on_many_row_columns(tmp_path, monkeypatch):
    """Above 64 rows the fast path converts columns with few distinct values through those
    values only; every kind of column must come out exactly as the careful path makes it."""
    rng = np.random.default_rng(7)
    n = 400

    def pick(options):
        return [options[k] for k in rng.integers(0, len(options), n)]

    columns = {
        "ints": pick(["1", "2", " 3", "4 ", "", "  "]),
        "floats": pick(["1.5", "2", "", "-0.25"]),
        "ids": pick(["007", "12", "0", ""]),                 # leading zero: text
        "huge": pick(["1e400", "2", ""]),                      # overflows float: float64 inf
        "tokens": pick(["(跳过)", "5", "", "-3"]),
        "labels": pick(["好", "较好", "一般", " 差", ""]),
        "mixed": pick(["5", "很好", ""]),
        "blank": [""] * n,
        "wide": [f"r{i}" for i in range(n)],                     # many distinct values
        "spaces": pick(["\u30001\u3000", "2", "\u00a0"]),      # ideographic / no-break spaces
    }
    path = tmp_path / "many.csv"
    pd.DataFrame(columns).to_csv(path, index=False)
    fast = _fast_and_careful(path, monkeypatch)
    assert str(fast["ints"].dtype) == "Int64" and str(fast["ids"].dtype) == "str"
    assert fast["floats"].dtype == "float64" and np.isinf(fast["huge"]).any()


def test_fast_path_equals_careful_path_on_the_sample_data(sample_raw, monkeypatch):
    """Every UTF-8 CSV of the sample data reads the same through both paths."""
    from cxlab.io._text import fast_delimited

    checked = 0
    for path in sorted(sample_raw.rglob("*.csv")):
        if fast_delimited(path.read_bytes()) is None:
            continue
        _fast_and_careful(path, monkeypatch)
        checked += 1
    assert checked >= 3
