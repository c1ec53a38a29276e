"""SPSS ``.sav`` files through pyreadstat."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["read_spss", "FALLBACK_ENCODINGS"]

#: tried in turn when pyreadstat cannot decode a file with the encoding the file declares
#: (Chinese files written by old SPSS versions are GBK without saying so). No single-byte
#: fallback such as latin-1: it always "succeeds" and would garble the text silently.
FALLBACK_ENCODINGS = ("GB18030", "BIG5")


def _read_sav(path: Path):
    import pyreadstat

    try:
        return pyreadstat.read_sav(str(path), user_missing=True), None
    except (pyreadstat.ReadstatError, UnicodeDecodeError) as first:
        for enc in FALLBACK_ENCODINGS:
            try:
                return pyreadstat.read_sav(str(path), user_missing=True, encoding=enc), enc
            except (pyreadstat.ReadstatError, UnicodeDecodeError):
                continue
        raise first


def _in_ranges(col: pd.Series, ranges: list[dict]) -> pd.Series:
    hit = pd.Series(False, index=col.index)
    for rng in ranges:
        lo, hi = rng.get("lo"), rng.get("hi")
        if isinstance(lo, str) or isinstance(hi, str):
            hit |= col.astype("string").isin([lo, hi]).fillna(False).astype(bool)
        else:
            hit |= ((col >= lo) & (col <= hi)).fillna(False).astype(bool)
    return hit


def read_spss(path: Path) -> tuple[pd.DataFrame, dict]:
    """Frame and attrs of an SPSS file.

    Codes are kept (no value labels applied); blank strings are missing. The file is read with ``user_missing=True`` so
    that the user-missing values can be counted, then every value inside a variable's declared
    missing values/ranges is set to missing: ``attrs["skip_codes"]`` is
    ``{column: {code: count}}`` of what was masked. Numeric columns whose values are all whole
    numbers become ``Int64``. ``labels`` are the variable labels, ``value_labels`` the value
    labels (``{column: {code: label}}``); ``encoding`` is the fallback encoding used, if any.
    """
    (frame, meta), fallback = _read_sav(path)
    skip_counts: dict[str, dict] = {}
    for name, ranges in (meta.missing_ranges or {}).items():
        if name not in frame.columns:
            continue
        col = frame[name]
        hit = _in_ranges(col, ranges)
        if hit.any():
            skip_counts[name] = {(_num(k)): int(v) for k, v in col[hit].value_counts().sort_index().items()}
            frame[name] = col.mask(hit)
    for name in frame.columns:
        col = frame[name]
        if not pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_datetime64_any_dtype(col):
            # SPSS pads strings and writes "" for an unanswered text item: missing, as elsewhere
            frame[name] = col.mask(col.astype("string").str.strip().fillna("") == "")
        elif col.dtype == np.float64:
            vals = col.dropna().to_numpy()
            if len(vals) and np.all(np.isfinite(vals)) and np.all(vals == np.round(vals)) \
                    and np.all(np.abs(vals) < 2**53):
                frame[name] = col.astype("Int64")
    labels = {k: v for k, v in (meta.column_names_to_labels or {}).items() if v}
    value_labels = {col: {_num(k): v for k, v in vl.items()}
                    for col, vl in (meta.variable_value_labels or {}).items()}
    attrs = {
        "source": "spss",
        "header_rows": 0,
        "labels": labels,
        "value_labels": value_labels,
        "skip_codes": skip_counts,
        "bad_lines": [],
        "kept_lines": list(range(1, len(frame) + 1)),
    }
    if fallback:
        attrs["encoding"] = fallback
    elif getattr(meta, "file_encoding", None):
        attrs["encoding"] = meta.file_encoding
    return frame, attrs


def _num(code):
    """Whole-number float codes as ``int`` (``1.0`` → ``1``) so that labels match Int64 data."""
    if isinstance(code, float) and code.is_integer():
        return int(code)
    return code
