"""Non-survey raw files (CRM, operations logs) → validated, pseudonymised warehouse tables."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from cxlab.config import Org
from cxlab.io._mapping import MappingError
from cxlab.io._pseudonym import pseudonymise
from cxlab.io._sources import TableSpec
from cxlab.io._validate import (
    PERIOD_RE,
    Issues,
    cached_map,
    is_missing,
    norm_text,
    parse_datetime,
    parse_number,
)

__all__ = ["map_table", "table_dtypes"]

_MISSING = frozenset({"", "NA", "N/A", "nan", "NaN", "None", "null", "NULL"})
_DTYPES = {"str": "string", "int": "Int64", "float": "Float64", "date": "datetime64[us]",
           "datetime": "datetime64[us]", "branch": "string", "period": "string"}


def table_dtypes(spec: TableSpec) -> dict[str, str]:
    """pandas dtype of every kept column of a table."""
    return {c: _DTYPES[col.type] for c, col in spec.columns.items()}


def _num(v: object) -> object:
    return int(v) if isinstance(v, float) and v.is_integer() else v


def map_table(df: pd.DataFrame, spec: TableSpec, org: Org, *, key: bytes, file: str,
              table: str, now: datetime | None = None) -> tuple[pd.DataFrame, Issues, list[str]]:
    """Validate and convert a CRM/operations file.

    Returns ``(frame, issues, ignored_columns)``: the frame has the table's columns (PII dropped,
    ``pseudonymise`` columns hashed) plus ``source_file``; ``issues`` are the rows to quarantine;
    ``ignored_columns`` lists columns the spec does not know (not loaded, reported).
    """
    cols = {norm_text(c): c for c in df.columns}
    absent = [c for c, col in spec.columns.items() if c not in cols and col.required]
    if absent:
        raise MappingError(f"{file}: missing column(s) {absent} for table {table!r} "
                           f"(found: {list(df.columns)})")
    pii = {norm_text(c) for c in spec.pii}
    ignored = [orig for n, orig in cols.items() if n not in spec.columns and n not in pii]
    issues = Issues()
    idx = df.index
    out = pd.DataFrame(index=idx)
    branch_lookup = {norm_text(k): v for k, v in org.name_to_code().items()}
    for name, col in spec.columns.items():
        if name not in cols:
            out[name] = pd.Series(pd.NA, index=idx, dtype=_DTYPES[col.type]) \
                if col.type not in ("date", "datetime") else pd.Series(pd.NaT, index=idx,
                                                                       dtype="datetime64[us]")
            continue
        src = cols[name]
        raw = df[src]
        if col.type in ("date", "datetime"):
            vals, why = parse_datetime(raw, missing=_MISSING, now=now, allow_future=col.allow_future)
            if col.type == "date":
                vals = vals.dt.normalize()
            issues.add_series(why.map(lambda r, _n=name: r if r is pd.NA else f"{_n}: {r}"), raw, src)
            if col.required:
                for i in idx[(vals.isna() & why.isna()).to_numpy()]:
                    issues.add(i, src, raw.loc[i], f"{name}: missing required value")
            out[name] = vals
            continue
        def one(v: object, col=col, name=name) -> tuple[object, object]:
            if is_missing(v, _MISSING):
                return pd.NA, (f"{name}: missing required value" if col.required else pd.NA)
            bad: str | None = None
            val: object
            if col.type in ("int", "float"):
                num = parse_number(v)
                if num is None:
                    bad, val = f"not a number: {norm_text(v)!r}", pd.NA
                elif col.type == "int" and not num.is_integer():
                    bad, val = f"{num} is not a whole number", pd.NA
                else:
                    val = int(num) if col.type == "int" else num
                    if (col.min is not None and num < col.min) or (col.max is not None and num > col.max):
                        lo = "" if col.min is None else _num(col.min)
                        hi = "" if col.max is None else _num(col.max)
                        bad = f"{_num(num)} is out of range {lo}–{hi}"
            elif col.type == "branch":
                val = branch_lookup.get(norm_text(v), pd.NA)
                if val is pd.NA:
                    bad = f"unknown branch {norm_text(v)!r} (not in org.yaml)"
            elif col.type == "period":
                val = norm_text(v).upper()
                if not PERIOD_RE.match(str(val)):
                    bad = f"bad period {norm_text(v)!r} (expected YYYYQn, e.g. 2026Q3)"
            else:
                val = norm_text(_num(v))
            if bad is None and col.allowed is not None:
                allowed = {norm_text(a) for a in col.allowed}
                if norm_text(_num(val)) not in allowed:
                    bad = (f"{norm_text(_num(v))!r} is not allowed "
                           f"(allowed: {', '.join(map(str, col.allowed))})")
            if bad is not None:
                return pd.NA, f"{name}: {bad}"
            return val, pd.NA

        values, reasons = cached_map(raw.tolist(), one)
        issues.add_series(pd.Series(reasons, index=idx, dtype="object"), raw, src)
        out[name] = pd.Series(values, index=idx, dtype="object").astype(_DTYPES[col.type])
    for name in spec.pseudonymise:
        out[name] = pseudonymise(out[name], key=key)
    keys = spec.key_columns
    if keys:
        k = out[keys]
        dup = k.duplicated(keep="first") & k.notna().all(axis=1)
        for i in idx[dup.to_numpy()]:
            shown = "/".join(str(df[cols[c]].loc[i]) for c in keys)
            issues.add(i, cols[keys[0]], df[cols[keys[0]]].loc[i],
                       f"duplicate {'/'.join(keys)} {shown}")
    out["source_file"] = pd.Series(file, index=idx, dtype="string")
    return out, issues, ignored
