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
        "serial": [str(i) for i in range(n)],                   # many distinct plain digits
        "serial_gaps": [str(i) if i % 7 else "" for i in range(n)],
        "serial_zero": [f"{i:04d}" for i in range(n)],          # leading zeros: text
        "serial_big": [str(2**53 + i) for i in range(n)],       # beyond 2**53: float64
        "serial_sign": [str(i) if i != 5 else "+5" for i in range(n)],
    }
    path = tmp_path / "many.csv"
    pd.DataFrame(columns).to_csv(path, index=False)
    fast = _fast_and_careful(path, monkeypatch)
    assert str(fast["ints"].dtype) == "Int64" and str(fast["ids"].dtype) == "str"
    assert fast["floats"].dtype == "float64" and np.isinf(fast["huge"]).any()
    assert str(fast["serial"].dtype) == str(fast["serial_gaps"].dtype) == "Int64"
    assert str(fast["serial_zero"].dtype) == "str" and fast["serial_big"].dtype == "float64"


def test_fast_columns_read_in_chunks_equal_one_chunk():
    """pyarrow hands big files over in chunks (blocks of 16 MiB); a column's distinct values
    and positions are then found across the chunks in one pass, which must give exactly what
    the same column in one piece gives."""
    import pyarrow as pa

    from cxlab.io._frame import _fast_column

    rng = np.random.default_rng(3)
    n = 1_000
    columns = {
        "labels": [["好", "较好", "一般", "", "差"][k] for k in rng.integers(0, 5, n)],
        "codes": [["1", "2", "3", " ", "(跳过)"][k] for k in rng.integers(0, 5, n)],
        "late": ["1"] * (n - 3) + ["很好", "9", "10"],     # values first seen in the last chunk
        "wide": [f"r{i}" for i in range(n)],
        "serial": [str(i) for i in range(n)],
    }
    tokens = pa.array(["(跳过)"])
    for name, values in columns.items():
        whole = pa.array(values, type=pa.string())
        cuts = [0, 1, 250, 251, 700, n]
        chunked = pa.chunked_array([whole.slice(a, b - a)
                                    for a, b in zip(cuts, cuts[1:], strict=False)])
        got, got_counts = _fast_column(chunked, n, tokens, True)
        want, want_counts = _fast_column(whole, n, tokens, True)
        pd.testing.assert_series_equal(pd.Series(got), pd.Series(want), check_exact=True,
                                       obj=name)
        assert got_counts == want_counts, name


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


def test_a_file_that_cannot_be_memory_mapped_is_read_all_the_same(tmp_path, monkeypatch):
    """CSVs are parsed from a read-only memory map of the file; where mapping fails (some
    network filesystems) the bytes are read instead, with the same result."""
    import mmap

    path = tmp_path / "x.csv"
    pd.DataFrame({"id": [f"R{i}" for i in range(100)], "ltr": [i % 11 for i in range(100)]}
                 ).to_csv(path, index=False)
    mapped = read_export(path)

    def refuse(*args, **kwargs):
        raise OSError(19, "No such device")

    monkeypatch.setattr(mmap, "mmap", refuse)
    pd.testing.assert_frame_equal(read_export(path), mapped, check_exact=True)
