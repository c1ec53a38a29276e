"""Value conversion and validation: every bad cell becomes an issue, never a silent NaN.

Each converter takes a raw column (strings or numbers as the reader gave them) and returns the
typed column plus a Series of reasons (``<NA>`` where the value is fine). A row with any reason is
quarantined by the caller; values that are merely missing (empty, ``(跳过)``, -2/-3) are missing,
not bad, unless the item is required.
"""

from __future__ import annotations

import math
import numbers
import re
import unicodedata
from datetime import datetime

import numpy as np
import pandas as pd

from cxlab.config import Scale

__all__ = ["Issues", "cached_map", "convert_item", "is_missing", "norm_text", "parse_datetime", "parse_number",
           "period_of", "PERIOD_RE"]

PERIOD_RE = re.compile(r"^(?P<year>[0-9]{4})Q(?P<q>[1-4])$")
_WS = re.compile(r"\s+")


def norm_text(value: object) -> str:
    """NFKC-normalise (full-width → half-width), strip and collapse whitespace."""
    return _WS.sub(" ", unicodedata.normalize("NFKC", str(value))).strip()


def is_missing(value: object, missing: frozenset[str]) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str):
        return value.strip() in missing or norm_text(value) in missing or value.strip() == ""
    if isinstance(value, numbers.Number) and str(value) in missing:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def parse_number(value: object) -> float | None:
    """A number from a number or numeric text (full-width digits allowed); None if not numeric."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, numbers.Number):
        f = float(value)  # type: ignore[arg-type]
        return None if math.isnan(f) else f
    s = norm_text(value).replace(",", "")
    try:
        f = float(s)
    except ValueError:
        return None
    return None if math.isnan(f) or math.isinf(f) else f


def _fmt(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class Issues:
    """Collects (row index, column, value, reason) while a frame is converted."""

    def __init__(self) -> None:
        self.rows: list[tuple[object, str, str, str]] = []

    def add(self, index: object, column: str, value: object, reason: str) -> None:
        v = "" if value is None or (not isinstance(value, str) and _isna(value)) else _fmt(value)
        self.rows.append((index, column, v, reason))

    def add_series(self, reasons: pd.Series, raw: pd.Series, column: str) -> None:
        bad = reasons.notna()
        for idx in reasons.index[bad.to_numpy()]:
            self.add(idx, column, raw.loc[idx], str(reasons.loc[idx]))

    def bad_index(self) -> set:
        return {r[0] for r in self.rows}

    def __len__(self) -> int:
        return len(self.rows)


def _isna(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def cached_map(values: list, fn) -> tuple[list, list]:
    """Apply ``fn(v) -> (value, reason)`` to each non-missing value once per distinct value."""
    cache: dict = {}
    out: list = []
    why: list = []
    for v in values:
        try:
            key = (type(v), v)
            hit = cache.get(key)
        except TypeError:  # unhashable
            key, hit = None, None
        if hit is None:
            hit = fn(v)
            if key is not None:
                cache[key] = hit
        out.append(hit[0])
        why.append(hit[1])
    return out, why


def _map_distinct(raw: pd.Series, fn, dtype: str) -> tuple[pd.Series, pd.Series] | None:
    """``cached_map`` for a typed (non-object) column without a Python step per cell: ``fn``
    runs once per distinct value (plus once for a missing value), and the results are spread
    back to the cells by position (``pd.factorize`` codes). ``None`` when the column is of
    ``object`` dtype (mixed Python types, where ``1 == 1.0 == True`` would merge values that
    ``cached_map`` keeps apart): the caller then uses ``cached_map``."""
    if raw.dtype == object:
        return None
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    values = list(uniques.tolist()) if hasattr(uniques, "tolist") else list(uniques)
    results = [fn(v) for v in values]
    na_pos = codes < 0
    if na_pos.any():
        results.append(fn(raw.iloc[int(np.flatnonzero(na_pos)[0])]))
        codes = np.where(na_pos, len(values), codes)
    out = pd.array([r[0] for r in results], dtype=dtype)
    why = np.empty(len(results), dtype=object)
    why[:] = [r[1] for r in results]
    return (pd.Series(out.take(codes), index=raw.index, dtype=dtype),
            pd.Series(why[codes], index=raw.index, dtype="object"))


def _allowed_codes(scale: Scale) -> str:
    codes = sorted(scale.codes or {})
    labels = "/".join(scale.codes[c] for c in sorted(codes, reverse=True)) if scale.codes else ""
    return f"{labels} or codes {codes[0]}–{codes[-1]}" if codes else ""


def convert_item(raw: pd.Series, scale: Scale, *, scale_name: str, missing: frozenset[str],
                 multi_sep: str = "┋", other_text: pd.Series | None = None,
                 ) -> tuple[pd.Series, pd.Series]:
    """Convert one item's raw answers to the canonical type of its scale.

    Returns ``(values, reasons)``: numeric/ordinal scales give ``Int64`` (``Float64`` for a
    numeric scale with fractional bounds), multi-select gives options joined by ``┋`` with
    "other" as ``其他〖text〗``, text and category give strings.
    """
    n = len(raw)
    vals = raw.tolist() if raw.dtype == object or scale.kind == "multi" else _LazyList(raw)
    kind = scale.kind
    na = (pd.NA, pd.NA)

    if kind == "ordinal":
        lookup = {norm_text(k).lower(): v for k, v in scale.label_to_code().items()}
        codes = set(scale.codes or {})

        def one(v: object) -> tuple[object, object]:
            if is_missing(v, missing):
                return na
            num = parse_number(v)
            if num is not None:
                if num.is_integer() and int(num) in codes:
                    return int(num), pd.NA
                return pd.NA, (f"{_fmt(num)} is out of range for scale {scale_name} "
                               f"(allowed: {_allowed_codes(scale)})")
            code = lookup.get(norm_text(v).lower())
            if code is None:
                return pd.NA, (f"unknown answer {norm_text(v)!r} for scale {scale_name} "
                               f"(allowed: {_allowed_codes(scale)})")
            return code, pd.NA

        dtype = "Int64"
        fast = _map_distinct(raw, one, dtype)
        if fast is not None:
            return fast
        out, reasons = cached_map(vals, one)
    elif kind == "numeric":
        lo, hi = scale.min, scale.max
        integral = lo is not None and hi is not None and float(lo).is_integer() and float(hi).is_integer()

        def one(v: object) -> tuple[object, object]:
            if is_missing(v, missing):
                return na
            num = parse_number(v)
            if num is None:
                return pd.NA, f"not a number: {norm_text(v)!r} (expected {_fmt(lo)}–{_fmt(hi)})"
            if (lo is not None and num < lo) or (hi is not None and num > hi):
                return pd.NA, f"{_fmt(num)} is out of range {_fmt(lo)}–{_fmt(hi)} for scale {scale_name}"
            if integral and not num.is_integer():
                return pd.NA, (f"{_fmt(num)} is not a whole number (scale {scale_name}: "
                               f"{_fmt(lo)}–{_fmt(hi)})")
            return (int(num) if integral else num), pd.NA

        dtype = "Int64" if integral else "Float64"
        fast = _map_distinct(raw, one, dtype)
        if fast is not None:
            return fast
        out, reasons = cached_map(vals, one)
    elif kind == "multi":
        options = list(scale.options or [])
        opt_norm = {norm_text(o): o for o in options}
        others = other_text.tolist() if other_text is not None else [None] * n

        def one(pair: tuple[object, object]) -> tuple[object, object]:
            v, extra = pair
            if is_missing(v, missing):
                return na
            if isinstance(v, numbers.Number) and not isinstance(v, bool):
                tokens = [_fmt(float(v))]
            else:
                tokens = [t.strip() for t in str(v).split(multi_sep) if t.strip()]
            chosen: list[str] = []
            for tok in tokens:
                label = _multi_token(tok, options, opt_norm)
                if label is None:
                    return pd.NA, (f"unknown option {tok!r} for multi-select {scale_name} "
                                   f"(allowed: {', '.join(options)} or codes 1–{len(options)})")
                if (label == options[-1] and extra is not None
                        and not is_missing(extra, missing)):
                    label = f"{label}〖{str(extra).strip()}〗"
                chosen.append(label)
            return ("┋".join(chosen) if chosen else pd.NA), pd.NA

        out, reasons = cached_map(list(zip(vals, others, strict=True)), one)
        dtype = "string"
    else:  # text, category
        def one(v: object) -> tuple[object, object]:
            if is_missing(v, missing):
                return na
            return (v.strip() if isinstance(v, str) else _fmt(v).strip()), pd.NA

        dtype = "string"
        fast = _map_distinct(raw, one, dtype)
        if fast is not None:
            return fast
        out, reasons = cached_map(vals, one)
    return (pd.Series(out, index=raw.index, dtype=dtype),
            pd.Series(reasons, index=raw.index, dtype="object"))


class _LazyList:
    """``raw.tolist()`` computed only if a caller iterates (the distinct-value path does not)."""

    def __init__(self, raw: pd.Series) -> None:
        self._raw = raw

    def __iter__(self):
        return iter(self._raw.tolist())

    def __len__(self) -> int:
        return len(self._raw)


def _multi_token(tok: str, options: list[str], opt_norm: dict[str, str]) -> str | None:
    """One selected option: its label, a 1-based code, or ``<option>[【…】]〖free text〗``."""
    t = norm_text(tok)
    if t in opt_norm:
        return opt_norm[t]
    num = parse_number(t)
    if num is not None:
        if num.is_integer() and 1 <= int(num) <= len(options):
            return options[int(num) - 1]
        return None
    for o in options:  # "其他〖free text〗" / "其他【请注明】〖free text〗"
        if tok.startswith(o) and tok[len(o):][:1] in ("〖", "【", "[", "(", "（", ":", "：") :
            return tok
    return None


def parse_datetime(raw: pd.Series, *, missing: frozenset[str], now: datetime | None = None,
                   allow_future: bool = False) -> tuple[pd.Series, pd.Series]:
    """Parse submission times; unparseable or future times (after today) are reasons."""
    now = now or datetime.now()
    end_of_today = pd.Timestamp(now.date()) + pd.Timedelta(days=1)
    vals = raw.tolist()
    present = [not is_missing(v, missing) for v in vals]
    texts = pd.Series([v if isinstance(v, datetime | np.datetime64 | pd.Timestamp) else
                       (norm_text(v) if p else None) for v, p in zip(vals, present, strict=True)],
                      index=raw.index, dtype="object")
    ts = pd.to_datetime(texts, errors="coerce", format="mixed")
    if getattr(ts.dt, "tz", None) is not None:
        ts = ts.dt.tz_convert(None)
    ts = ts.astype("datetime64[us]")
    reasons: list[object] = [pd.NA] * len(vals)
    for i, (p, t) in enumerate(zip(present, ts.tolist(), strict=True)):
        if not p:
            continue
        if t is pd.NaT or pd.isna(t):
            reasons[i] = f"unparseable date {texts.iloc[i]!r} (expected e.g. 2026-07-03 14:05:09)"
        elif t >= end_of_today and not allow_future:
            reasons[i] = f"date {t:%Y-%m-%d %H:%M:%S} is in the future"
        elif t.year < 1990:
            reasons[i] = f"impossible date {t:%Y-%m-%d}"
    bad = pd.Series(reasons, index=raw.index, dtype="object")
    return ts.mask(bad.notna()), bad


def period_of(ts: pd.Series) -> pd.Series:
    """``YYYYQn`` of each timestamp (``<NA>`` where missing)."""
    out = ts.dt.year.astype("Int64").astype("string") + "Q" + ts.dt.quarter.astype("Int64").astype("string")
    return out.astype("string")
