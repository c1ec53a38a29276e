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

__all__ = ["Issues", "cached_map", "convert_item", "distinct_values", "id_texts", "is_missing",
           "is_missing_many", "norm_text", "norm_text_many", "parse_datetime", "parse_number",
           "period_of", "PERIOD_RE", "repeated"]

PERIOD_RE = re.compile(r"^(?P<year>[0-9]{4})Q(?P<q>[1-4])$")
_WS = re.compile(r"\s+")


def norm_text(value: object) -> str:
    """NFKC-normalise (full-width → half-width), strip and collapse whitespace."""
    return _WS.sub(" ", unicodedata.normalize("NFKC", str(value))).strip()


# ASCII characters that ``str.strip()`` removes and ``\s`` matches (``str.isspace``); ASCII text
# is left unchanged by ``norm_text`` and ``strip`` unless it starts or ends with one of them,
# holds one other than the space, or two in a row
_ASCII_WS = "[\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f ]"
_NOT_PLAIN = f"^{_ASCII_WS}|{_ASCII_WS}$|[\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f]|{_ASCII_WS}{_ASCII_WS}"


def _plain(values: list, missing: frozenset[str] | None = None
           ) -> tuple[np.ndarray, np.ndarray | None]:
    """``(plain, plain_missing)``: ``plain[k]`` is True where ``values[k]`` is a ``str`` that
    ``norm_text`` and ``str.strip`` leave unchanged (ASCII, which NFKC leaves alone, with single
    inner spaces as its only whitespace); with ``missing``, ``plain_missing[k]`` is True where
    such a value is empty or one of ``missing`` (``is_missing`` of plain text)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    out = np.zeros(len(values), dtype=bool)
    miss = np.zeros(len(values), dtype=bool) if missing is not None else None
    pos = [k for k, v in enumerate(values) if type(v) is str]
    if not pos:
        return out, miss
    arr = pa.array([values[k] for k in pos], type=pa.large_string())
    ok = pc.and_(pc.string_is_ascii(arr), pc.invert(pc.match_substring_regex(arr, _NOT_PLAIN)))
    where = np.asarray(pos, dtype=np.int64)
    ok_np = ok.to_numpy(zero_copy_only=False)
    out[where] = ok_np
    if missing is not None:
        tokens = pa.array(sorted({"", *(m for m in missing if type(m) is str)}),
                          type=pa.large_string())
        miss[where] = ok_np & pc.is_in(arr, value_set=tokens).to_numpy(zero_copy_only=False)
    return out, miss


def _plain_mask(values: list) -> np.ndarray:
    return _plain(values)[0]


def norm_text_many(values: list) -> list[str]:
    """``[norm_text(v) for v in values]``, skipping the work for plain ASCII text and ``int``
    (whose text is plain ASCII)."""
    plain = _plain_mask(values)
    return [v if p else str(v) if type(v) is int else norm_text(v)
            for v, p in zip(values, plain.tolist(), strict=True)]


def is_missing_many(values: list, missing: frozenset[str]) -> np.ndarray:
    """``[is_missing(v, missing) for v in values]`` as a bool array (plain ASCII text is missing
    only when empty or one of ``missing``, an ``int`` only when its text is one of ``missing``)."""
    plain, out = _plain(values, missing)
    for k in np.flatnonzero(~plain).tolist():
        v = values[k]
        out[k] = (str(v) in missing) if type(v) is int else is_missing(v, missing)
    return out


def id_texts(raw: pd.Series, missing: frozenset[str]) -> pd.Series:
    """Each cell of an id column as normalised text (``string`` dtype, ``<NA>`` where
    :func:`is_missing`): integral floats written as integers, then :func:`norm_text`.

    Integer columns and Arrow-backed text columns are handled in Arrow for their plain ASCII
    cells (which ``norm_text`` leaves unchanged); every other cell, and other columns, go
    through their distinct values in Python — same results, no Python step per cell for the
    usual ids.
    """
    dt = raw.dtype
    integers = not pd.api.types.is_object_dtype(dt) and getattr(dt, "kind", "") in "iu"
    if integers or (_is_text(raw) and not pd.api.types.is_object_dtype(dt)):
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = pa.array(raw, from_pandas=True)
        # an integer's text is str(int): plain ASCII digits, so every such cell is plain
        arr = pc.cast(arr, pa.string()) if integers else arr.cast(pa.string())
        null = pc.is_null(arr)
        plain = pc.fill_null(pc.and_(pc.string_is_ascii(arr),
                                     pc.invert(pc.match_substring_regex(arr, _NOT_PLAIN))), False)
        tokens = pa.array(sorted({"", *(m for m in missing if type(m) is str)}), type=pa.string())
        gone = pc.or_(null, pc.and_(plain, pc.is_in(arr, value_set=tokens)))
        text = pc.if_else(gone, pa.scalar(None, pa.string()), arr)
        rest = np.asarray(pc.invert(pc.or_(plain, null)).to_numpy(zero_copy_only=False), dtype=bool)
        if rest.any():
            other = _id_texts_distinct(raw.iloc[np.flatnonzero(rest)], missing)
            text = pc.replace_with_mask(text, pa.array(rest),
                                        pa.array(other.to_numpy(dtype=object, na_value=None),
                                                 type=pa.string()))
        return pd.Series(pd.array(text, dtype="string"), index=raw.index)
    return _id_texts_distinct(raw, missing)


def _id_texts_distinct(raw: pd.Series, missing: frozenset[str]) -> pd.Series:
    codes, vals = distinct_values(raw)
    miss = is_missing_many(vals, missing)
    text = np.empty(len(vals), dtype=object)
    text[:] = norm_text_many([int(v) if isinstance(v, float) and v.is_integer() else v
                              for v in vals])
    text[miss] = pd.NA
    return pd.Series(text[codes], index=raw.index, dtype="string")


def _is_text(raw: pd.Series) -> bool:
    """A column of ``str`` (and missing values) only: pandas' string dtypes, or ``object``
    holding nothing else."""
    dt = raw.dtype
    return isinstance(dt, pd.StringDtype) or (
        pd.api.types.is_object_dtype(dt)
        and pd.api.types.infer_dtype(raw, skipna=True) in ("string", "empty"))


def distinct_values(raw: pd.Series) -> tuple[np.ndarray, list]:
    """``(codes, values)`` with ``raw.tolist()[i]`` interchangeable with ``values[codes[i]]`` for
    any function of a value's type and value (the representative is the first occurrence).

    String and integer columns are factorised without a Python step per cell; other columns
    (mixed ``object``, floats, datetimes) use a dict keyed by ``(type, value)``, as
    :func:`cached_map` does.
    """
    n = len(raw)
    dt = raw.dtype
    obj = pd.api.types.is_object_dtype(dt)
    fast = (not obj and not isinstance(dt, pd.StringDtype) and dt.kind in "iub") or _is_text(raw)
    if fast:
        codes, uniques = pd.factorize(raw, use_na_sentinel=True)
        values = list(uniques.tolist()) if hasattr(uniques, "tolist") else list(uniques)
        codes = np.asarray(codes, dtype=np.int64)
        na_pos = np.flatnonzero(codes < 0)
        if len(na_pos):
            if obj:  # None / NaN / NA ...: one representative per type
                by_type: dict[type, int] = {}
                na_vals = raw.to_numpy()[na_pos]
                na_codes = np.empty(len(na_pos), dtype=np.int64)
                for k, v in enumerate(na_vals):
                    c = by_type.get(type(v))
                    if c is None:
                        c = by_type[type(v)] = len(values)
                        values.append(v)
                    na_codes[k] = c
                codes[na_pos] = na_codes
            else:
                values.append(raw.iloc[int(na_pos[0])])
                codes[na_pos] = len(values) - 1
        return codes, values
    cache: dict = {}
    values = []
    codes = np.empty(n, dtype=np.int64)
    for k, v in enumerate(raw.tolist()):
        try:
            key = (type(v), v)
            c = cache.get(key)
        except TypeError:  # unhashable
            key, c = None, None
        if c is None:
            c = len(values)
            values.append(v)
            if key is not None:
                cache[key] = c
        codes[k] = c
    return codes, values


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

    def add_series(self, reasons: pd.Series, raw: pd.Series, column: str, *,
                   prefix: str = "") -> None:
        """One issue per non-missing reason, in row order (``prefix`` + reason)."""
        bad = reasons.notna().to_numpy()
        if not bad.any():
            return
        if raw.index.equals(reasons.index) and reasons.index.is_unique:
            pos = np.flatnonzero(bad)
            labels = reasons.index[pos]
            rvals = raw.iloc[pos].tolist()
            whys = reasons.iloc[pos].tolist()
            for i, v, r in zip(labels, rvals, whys, strict=True):
                self.add(i, column, v, prefix + str(r))
            return
        for idx in reasons.index[bad]:
            self.add(idx, column, raw.loc[idx], prefix + str(reasons.loc[idx]))

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
    back to the cells by position (``pd.factorize`` codes); the reasons are ``string``
    (``<NA>`` or text). ``None`` when the column is of ``object`` dtype (mixed Python types,
    where ``1 == 1.0 == True`` would merge values that ``cached_map`` keeps apart): the caller
    then uses ``cached_map``."""
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
    # reasons as Arrow-backed text (<NA> or a reason): spreading them and finding the few
    # present ones are bitmap operations, not a million Python objects
    why = pd.array([r[1] for r in results], dtype="string")
    return (pd.Series(out.take(codes), index=raw.index, dtype=dtype),
            pd.Series(why.take(codes), index=raw.index))


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
    vals = raw.tolist() if raw.dtype == object else _LazyList(raw)
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

        dtype = "string"
        if _is_text(raw) and (other_text is None or _is_text(other_text)):
            # text only (no 1 == 1.0 == True merging in cached_map's keys): each distinct
            # (answer, other text) pair once, spread back by position
            rcodes, rvals = distinct_values(raw)
            if other_text is not None:
                ocodes, ovals = distinct_values(other_text)
            else:
                ocodes, ovals = np.zeros(n, dtype=np.int64), [None]
            pcodes, pairs = pd.factorize(rcodes * len(ovals) + ocodes)
            pairs = np.asarray(pairs, dtype=np.int64)
            hits = [one((rvals[r], ovals[o])) for r, o in zip(
                (pairs // len(ovals)).tolist(), (pairs % len(ovals)).tolist(), strict=True)]
            uo = np.empty(len(hits), dtype=object)
            uw = np.empty(len(hits), dtype=object)
            uo[:] = [h[0] for h in hits]
            uw[:] = [h[1] for h in hits]
            return (pd.Series(uo[pcodes], index=raw.index, dtype=dtype),
                    pd.Series(uw[pcodes], index=raw.index, dtype="object"))
        vals = raw.tolist()
        others = other_text.tolist() if other_text is not None else [None] * n
        out, reasons = cached_map(list(zip(vals, others, strict=True)), one)
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


_ISO_SECONDS = "%Y-%m-%d %H:%M:%S"
_ISO_SHAPE = "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"


def _iso_fast(raw: pd.Series, missing: frozenset[str]) -> tuple[np.ndarray, np.ndarray] | None:
    """``(timestamps, done)`` for the cells of a text column written exactly as
    ``YYYY-MM-DD HH:MM:SS`` (the canonical layout and most CSV exports): an RE2 match of that
    exact shape (no padding or whitespace variants) and Arrow's strict parser, which rejects
    impossible dates (``2026-02-30``) and times (``24:00:00``, second 60); ``done`` marks the
    cells parsed that way, the others are left to the general parser. ``None`` when the column
    is not text.
    """
    if not _is_text(raw) or not len(raw):
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(raw, type=pa.string(), from_pandas=True)
    shape = pc.fill_null(pc.match_substring_regex(arr, _ISO_SHAPE), False)
    if missing:
        shape = pc.and_(shape, pc.invert(pc.is_in(arr, value_set=pa.array(sorted(missing)))))
    cells = pc.if_else(shape, arr, pa.scalar(None, pa.string()))
    try:  # Arrow's strict ISO-8601 cast: raises on the first impossible date or time
        ts = pc.cast(cells, pa.timestamp("us"))
    except pa.ArrowInvalid:
        # parse leniently (2026-02-30 becomes 03-02) and keep the cells that read back as
        # written; the others (impossible dates, 24:00:00, second 60) go to the general parser
        ts = pc.strptime(cells, format=_ISO_SECONDS, unit="us", error_is_null=True)
        back = pc.strftime(ts.cast(pa.timestamp("s")), format=_ISO_SECONDS)
        ts = pc.if_else(pc.fill_null(pc.equal(back, cells), False), ts,
                        pa.scalar(None, pa.timestamp("us")))
    ts = np.asarray(ts.to_numpy(zero_copy_only=False), dtype="datetime64[us]")
    done = np.asarray(shape.to_numpy(zero_copy_only=False), dtype=bool) & ~np.isnat(ts)
    return ts, done


def parse_datetime(raw: pd.Series, *, missing: frozenset[str], now: datetime | None = None,
                   allow_future: bool = False) -> tuple[pd.Series, pd.Series]:
    """Parse submission times; unparseable or future times (after today) are reasons.

    Cells written exactly as ``YYYY-MM-DD HH:MM:SS`` are parsed by Arrow in one pass; every
    other distinct value is parsed and judged once (pandas, ``format="mixed"``) and the results
    are spread back by position. Both give the same times and reasons."""
    now = now or datetime.now()
    fast = _iso_fast(raw, missing)
    if fast is None or not fast[1].any():
        return _parse_datetime_distinct(raw, missing=missing, now=now, allow_future=allow_future)
    values, done = fast
    reasons = np.full(len(raw), pd.NA, dtype=object)
    if not done.all():
        rest = np.flatnonzero(~done)
        r_ts, r_why = _parse_datetime_distinct(raw.iloc[rest], missing=missing, now=now,
                                               allow_future=allow_future)
        values[rest] = r_ts.to_numpy(dtype="datetime64[us]")
        reasons[rest] = r_why.to_numpy(dtype=object)
    ts = pd.Series(values, index=raw.index, dtype="datetime64[us]")
    _judge_times(ts, np.flatnonzero(done), reasons, now=now, allow_future=allow_future)
    bad = pd.Series(reasons, index=raw.index, dtype="object")
    return ts.mask(bad.notna()), bad


def _judge_times(ts: pd.Series, where: np.ndarray, reasons: np.ndarray, *, now: datetime,
                 allow_future: bool) -> None:
    """Write the reasons of parsed times ``ts.iloc[where]`` that are in the future (after
    today, unless allowed) or before 1990 into ``reasons``."""
    end_of_today = pd.Timestamp(now.date()) + pd.Timedelta(days=1)
    sub = ts.iloc[where]
    if not allow_future:
        for k in where[(sub >= end_of_today).fillna(False).to_numpy(dtype=bool)]:
            reasons[k] = f"date {ts.iloc[k]:%Y-%m-%d %H:%M:%S} is in the future"
        sub = sub.mask(sub >= end_of_today)
    for k in where[(sub.dt.year < 1990).fillna(False).to_numpy(dtype=bool)]:
        reasons[k] = f"impossible date {ts.iloc[k]:%Y-%m-%d}"


def _parse_datetime_distinct(raw: pd.Series, *, missing: frozenset[str], now: datetime,
                             allow_future: bool) -> tuple[pd.Series, pd.Series]:
    codes, vals = distinct_values(raw)
    present = ~is_missing_many(vals, missing)
    plain = _plain_mask(vals)
    texts_l = [v if isinstance(v, datetime | np.datetime64 | pd.Timestamp) else
               ((v if pl else norm_text(v)) if p else None)
               for v, p, pl in zip(vals, present.tolist(), plain.tolist(), strict=True)]
    texts = pd.Series(texts_l, dtype="object")
    ts = pd.to_datetime(texts, errors="coerce", format="mixed")
    if getattr(ts.dt, "tz", None) is not None:
        ts = ts.dt.tz_convert(None)
    ts = ts.astype("datetime64[us]")
    reasons = np.full(len(vals), pd.NA, dtype=object)
    nat = ts.isna().to_numpy()
    for k in np.flatnonzero(present & nat):
        reasons[k] = f"unparseable date {texts_l[k]!r} (expected e.g. 2026-07-03 14:05:09)"
    ok = present & ~nat
    if ok.any():
        _judge_times(ts, np.flatnonzero(ok), reasons, now=now, allow_future=allow_future)
    full = pd.Series(ts.to_numpy()[codes], index=raw.index, dtype="datetime64[us]")
    bad = pd.Series(reasons[codes], index=raw.index, dtype="object")
    return full.mask(bad.notna()), bad


def period_of(ts: pd.Series) -> pd.Series:
    """``YYYYQn`` of each timestamp (``<NA>`` where missing); the labels are made once per
    distinct quarter and spread by position."""
    quarter = ts.dt.year * 4 + ts.dt.quarter - 1  # float, NaN where missing
    codes, uniques = pd.factorize(quarter, use_na_sentinel=True)
    labels = pd.array([f"{int(q) // 4}Q{int(q) % 4 + 1}" for q in uniques], dtype="string")
    return pd.Series(labels.take(codes, allow_fill=True), index=ts.index, dtype="string")


def repeated(values: pd.Series) -> np.ndarray:
    """``values.duplicated(keep="first") & values.notna()`` for text, as a boolean array, in
    one Arrow hashing pass: dictionary codes are given in order of first appearance, so a cell
    repeats an earlier one exactly when its code is not above every earlier code."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from cxlab.io._frame import distinct_positions

    if len(values) < 2:
        return np.zeros(len(values), dtype=bool)
    _, codes = distinct_positions(pa.array(values, type=pa.string(), from_pandas=True))
    codes = np.asarray(pc.fill_null(codes, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
    out = np.zeros(len(codes), dtype=bool)
    out[1:] = codes[1:] <= np.maximum.accumulate(codes)[:-1]
    return out & (codes >= 0)
