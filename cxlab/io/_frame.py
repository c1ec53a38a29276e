"""From a grid of raw cells to a typed DataFrame: header cleaning, ragged rows, type inference."""

from __future__ import annotations

import contextlib
import datetime as _dt
import math
import re
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from cxlab.io._text import BLANK_RE, WHITESPACE, WS_CLASS, ArrowRows

__all__ = ["build_frame", "clean_header", "is_number_text", "row_lines", "unique_names"]

# ASCII digits only: full-width digits (４) are left as typed, as text
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_LEADING_ZERO = re.compile(r"[+-]?0[0-9]")  # "007", "0123": identifiers, kept as text
_HEADER_SPACE = "\ufeff\u3000\u00a0 \t\r\n"


def clean_header(cell: object) -> str:
    """A header cell as text without surrounding whitespace (incl. full-width space, BOM)."""
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return ""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return str(cell).strip(_HEADER_SPACE)


def is_number_text(text: str) -> bool:
    """Plain ASCII decimal number (``"12"``, ``"-2"``, ``"3.5"``, ``"1e3"``), surrounding spaces
    allowed; not ``"nan"``, ``"inf"``, full-width digits or thousands separators."""
    return bool(_NUMBER.fullmatch(text.strip()))


def unique_names(names: Sequence[str]) -> list[str]:
    """Empty names become ``Unnamed: <j>`` (0-based position); a repeated name gets ``.1``,
    ``.2``… as in :func:`pandas.read_csv`."""
    out: list[str] = []
    seen: dict[str, int] = {}
    taken = set(names)
    for j, name in enumerate(names):
        name = name or f"Unnamed: {j}"
        if name in seen:
            k = seen[name]
            while f"{name}.{k}" in taken or f"{name}.{k}" in seen:
                k += 1
            seen[name] = k + 1
            name = f"{name}.{k}"
        seen.setdefault(name, 1)
        out.append(name)
    return out


def row_lines(lines: Sequence[int]) -> range | tuple[int, ...]:
    """A compact, deep-copy-cheap sequence of line numbers (a ``range`` when contiguous)."""
    if isinstance(lines, range) and lines.step == 1:
        return lines
    if not lines:
        return range(0)
    first = lines[0]
    if lines[-1] - first == len(lines) - 1 and all(b - a == 1 for a, b in zip(lines, lines[1:], strict=False)):
        return range(first, first + len(lines))
    return tuple(lines)


def _is_missing(cell: object) -> bool:
    if cell is None:
        return True
    if isinstance(cell, str):
        return not cell.strip()
    if isinstance(cell, float):
        return math.isnan(cell)
    return cell is pd.NA or cell is pd.NaT


def _as_text(cell: object) -> str:
    if isinstance(cell, str):
        return cell
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


def _convert_column(values: list) -> pd.Series | list:
    """Infer a column type: all numbers → ``Int64`` (integral) or ``float64``; all dates →
    ``datetime64``; otherwise text (numbers in a text column written as ``"5"``, not ``"5.0"``).
    Numeric-looking text with a leading zero (``"007"``) stays text."""
    present = [v for v in values if v is not None]
    if not present:  # nothing in the column: float NaN, as pandas.read_csv does
        return np.full(len(values), np.nan)
    numeric: list[float] = []
    is_num = True
    for v in present:
        if isinstance(v, bool):
            is_num = False
            break
        if isinstance(v, (int, float, np.integer, np.floating)):
            numeric.append(float(v))
            continue
        if isinstance(v, str):
            s = v.strip()
            if _NUMBER.fullmatch(s) and not _LEADING_ZERO.match(s):
                numeric.append(float(s))
                continue
        is_num = False
        break
    if is_num:
        arr = np.array([np.nan if v is None else float(v) if not isinstance(v, str) else float(v.strip())
                        for v in values], dtype="float64")
        finite = arr[~np.isnan(arr)]
        if np.all(np.isfinite(finite)) and np.all(finite == np.round(finite)) and np.all(np.abs(finite) < 2**53):
            return pd.array([None if np.isnan(x) else int(x) for x in arr], dtype="Int64")
        return arr
    if all(isinstance(v, (_dt.datetime, _dt.date)) for v in present):
        return pd.to_datetime(pd.Series(values, dtype=object))
    return pd.Series([None if v is None else _as_text(v) for v in values], dtype="str")


def build_frame(names: Sequence[str], rows: Iterable[Sequence], lines: Sequence[int], *,
                na_tokens: Iterable[str] = (), convert: bool = True,
                ) -> tuple[pd.DataFrame, list[tuple[int, str]], dict[str, dict]]:
    """Build the frame from data rows (header rows excluded).

    Rows with more fields than the header keep the first ``len(names)`` fields and, unless the
    extra fields are all empty, are reported in ``bad_lines``; shorter rows are padded with
    missing values and reported. Empty or whitespace-only cells are missing. A cell equal to one
    of ``na_tokens`` (after stripping) is missing too and counted in the returned
    ``{column: {token: count}}``.

    Returns ``(frame, bad_lines, token_counts)``; ``bad_lines`` is ``[(line, reason), …]``.

    Rows read by the fast path (:class:`cxlab.io._text.ArrowRows`) are converted a whole column
    at a time with the same rules.
    """
    if isinstance(rows, ArrowRows) and rows.width == len(names) and len(rows) == len(lines):
        return _build_frame_arrow(names, rows, lines, na_tokens=na_tokens, convert=convert)
    width = len(names)
    tokens = {t for t in na_tokens}
    columns: list[list] = [[] for _ in range(width)]
    bad: list[tuple[int, str]] = []
    counts: dict[str, dict] = {}
    for row, line in zip(rows, lines, strict=True):
        n = len(row)
        if n > width and any(not _is_missing(c) for c in row[width:]):
            bad.append((line, f"too many fields: expected {width}, found {n}"))
        elif n < width:
            bad.append((line, f"too few fields: expected {width}, found {n}"))
        for j in range(width):
            cell = row[j] if j < n else None
            if _is_missing(cell):
                cell = None
            elif tokens and isinstance(cell, str) and cell.strip() in tokens:
                tok = cell.strip()
                col_counts = counts.setdefault(names[j], {})
                col_counts[tok] = col_counts.get(tok, 0) + 1
                cell = None
            columns[j].append(cell)
    data = {}
    for name, values in zip(names, columns, strict=True):
        data[name] = _convert_column(values) if convert else pd.Series(values, dtype=object)
    frame = pd.DataFrame(data, index=pd.RangeIndex(len(lines)))
    if not data:
        frame = pd.DataFrame(index=pd.RangeIndex(len(lines)))
    return frame, bad, counts


# --------------------------------------------------------------------------- fast path
# the rules of _is_missing / is_number_text / _LEADING_ZERO / _convert_column, as RE2 patterns
# over whole Arrow columns (WS_CLASS is exactly what str.strip() removes)
_NUMBER_RE = f"^{WS_CLASS}*[+-]?(?:[0-9]+\\.?[0-9]*|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?{WS_CLASS}*$"
_LEADING_ZERO_RE = f"^{WS_CLASS}*[+-]?0[0-9]"


def _arrow_column(col, missing, n: int):
    """``_convert_column`` for one Arrow string column (array or chunked) with a missing mask."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n_missing = pc.sum(missing).as_py() or 0
    if n_missing == n:
        return np.full(n, np.nan)
    present = pc.invert(missing)
    ints = _plain_integers(col, missing, present)
    if ints is not None:
        return ints
    # cheap rejection first: a text column usually shows it in its first cells
    head = min(n, 2048)
    h_num = pc.and_(pc.match_substring_regex(col.slice(0, head), _NUMBER_RE),
                    pc.invert(pc.match_substring_regex(col.slice(0, head), _LEADING_ZERO_RE)))
    is_num = pc.all(pc.or_(h_num, missing.slice(0, head))).as_py()
    if is_num:
        numeric = pc.and_(pc.match_substring_regex(col, _NUMBER_RE),
                          pc.invert(pc.match_substring_regex(col, _LEADING_ZERO_RE)))
        is_num = pc.all(pc.or_(numeric, missing)).as_py()
    if is_num:
        try:
            trimmed = pc.utf8_trim(col, characters=WHITESPACE)
            values = pc.cast(pc.if_else(present, trimmed, pa.scalar(None, pa.string())),
                             pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # e.g. overflow: the slow rules
            return _convert_column([None if m else v for v, m in
                                    zip(col.to_pylist(), missing.to_pylist(), strict=True)])
        return _numbers(np.asarray(values.to_numpy(zero_copy_only=False), dtype="float64"))
    return _texts(col, missing, n_missing)


def _plain_integers(col, missing, present) -> pd.arrays.IntegerArray | None:
    """The common case of ``_arrow_column`` without regexes: every present cell is ASCII digits
    only (ids, counts), none with a leading zero, all below 2**53 — ``Int64``, exactly what the
    general rules give. ``None`` when any cell is otherwise (the general rules decide)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pc.all(pc.or_(pc.ascii_is_decimal(col), missing)).as_py():
        return None
    lead0 = pc.and_(pc.starts_with(col, "0"), pc.greater(pc.binary_length(col), 1))
    if pc.any(pc.and_(lead0, present)).as_py():
        return None  # "007": text, decided by the general rules
    try:
        values = pc.cast(pc.if_else(present, col, pa.scalar(None, pa.string())), pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # more than 64 bits
        return None
    top = pc.max(values).as_py()
    if top is not None and top >= 2**53:  # the general rules keep such numbers as floats
        return None
    mask = np.asarray(pc.is_null(values).to_numpy(zero_copy_only=False), dtype=bool)
    data = np.asarray(pc.fill_null(values, 0).to_numpy(zero_copy_only=False), dtype="int64")
    return pd.arrays.IntegerArray(data, mask)


def _integers(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``(values, mask)`` of a float column (NaN = missing) when every value is integral (and
    below 2**53), else ``None``."""
    mask = np.isnan(arr)
    finite = arr[~mask]
    if (np.all(np.isfinite(finite)) and np.all(finite == np.round(finite))
            and np.all(np.abs(finite) < 2**53)):
        return np.where(mask, 0, arr).astype("int64"), mask
    return None


def _numbers(arr: np.ndarray) -> pd.arrays.IntegerArray | np.ndarray:
    """A float column (NaN = missing) as ``Int64`` when every value is integral, else as is."""
    ints = _integers(arr)
    return arr if ints is None else pd.arrays.IntegerArray(*ints)


def _texts(col, missing, n_missing: int) -> pd.Series:
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.if_else(missing, pa.scalar(None, pa.string()), col) if n_missing else col
    return pd.Series(text.to_pandas(), dtype="str")


def _distinct_column(col, pos, u_missing, u_num, u_trim, n: int):
    """``_arrow_column`` for a column with few distinct values: whether it is numeric and the
    numbers are decided on the distinct values, then spread to the cells by position (numpy
    gathers, no per-cell Arrow string work). ``pos[i]`` is cell ``i``'s index among the
    distinct values, whose masks ``u_*`` are given."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pc.all(u_missing).as_py():
        return np.full(n, np.nan)
    where = np.asarray(pos.to_numpy(zero_copy_only=False), dtype=np.intp)
    if pc.all(pc.or_(u_num, u_missing)).as_py():
        try:
            u_values = pc.cast(pc.if_else(u_missing, pa.scalar(None, pa.string()), u_trim),
                               pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # e.g. overflow: the slow rules
            u_values = None
        if u_values is not None:
            values = np.asarray(u_values.to_numpy(zero_copy_only=False), dtype="float64")
            # every distinct value occurs in the column, so _numbers decides on them alike;
            # then two gathers instead of a dozen million-cell temporaries
            ints = _integers(values)
            if ints is None:
                return values[where]
            return pd.arrays.IntegerArray(ints[0][where], ints[1][where])
        return _arrow_column(col, pc.take(u_missing, pos), n)
    missing = np.asarray(u_missing.to_numpy(zero_copy_only=False), dtype=bool)[where]
    return _texts(col, pa.array(missing), int(missing.sum()))


def _build_frame_arrow(names: Sequence[str], rows: ArrowRows, lines: Sequence[int], *,
                       na_tokens: Iterable[str], convert: bool,
                       ) -> tuple[pd.DataFrame, list[tuple[int, str]], dict[str, dict]]:
    import pyarrow as pa

    tokens = sorted({t for t in na_tokens})
    token_set = pa.array(tokens, type=pa.string()) if tokens else None
    n = len(rows)
    columns = rows.columns()
    # the column work is Arrow/numpy kernels that release the GIL: big files use every core
    results = in_threads(lambda col: _fast_column(col, n, token_set, convert), columns,
                         threads=n * len(columns) >= 2_000_000)
    counts = {name: c for name, (_, c) in zip(names, results, strict=True) if c}
    data = {name: value for name, (value, _) in zip(names, results, strict=True)}
    # the columns were just built and belong to nobody else: no copy (a copy of a million-row
    # frame costs ~0.3–0.7 s, most of it faulting in fresh memory)
    frame = pd.DataFrame(data, index=pd.RangeIndex(len(lines)), copy=False)
    if not data:
        frame = pd.DataFrame(index=pd.RangeIndex(len(lines)))
    return frame, [], counts


def in_threads(fn, items: Sequence, *, threads: bool = True) -> list:
    """``[fn(x) for x in items]``, in a pool of one thread per core when ``threads`` (for work
    that releases the GIL, e.g. Arrow compute kernels); results in the order of ``items``."""
    with beside(fn, items, threads=threads) as results:
        return results()


@contextlib.contextmanager
def bulk_memory_pool():
    """Arrow's jemalloc pool as the process default for the duration (the previous default is
    restored after, and jemalloc's unused memory returned; buffers keep the pool they came
    from).

    Ingest allocates and frees thousands of million-cell buffers; with pyarrow's default
    mimalloc pool a large share of its CPU time went to the kernel zeroing fresh pages, and
    jemalloc reuses its memory instead: 15–20 % less wall and CPU time on the 1M-row ingest
    benchmark (bench/README.md). Left alone when ``ARROW_DEFAULT_MEMORY_POOL`` chooses a pool
    or pyarrow is built without jemalloc.
    """
    import os

    import pyarrow as pa

    pool = None
    if not os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        with contextlib.suppress(NotImplementedError):  # builds without jemalloc (macOS wheels)
            pool = pa.jemalloc_memory_pool()
    if pool is None:
        yield
        return
    previous = pa.default_memory_pool()
    pa.set_memory_pool(pool)
    try:
        yield
    finally:
        pa.set_memory_pool(previous)
        pool.release_unused()  # the freed buffers back to the OS now, not after jemalloc's decay


@contextlib.contextmanager
def beside(fn, items: Sequence, *, threads: bool = True):
    """:func:`in_threads` in the background: ``[fn(x) for x in items]`` starts in a pool of one
    thread per core and the body of the ``with`` runs meanwhile (on big files the main
    thread's own work, mostly Python, then overlaps the items' Arrow/numpy kernels). The
    yielded function waits for the results, in the order of ``items``. Without threads they
    are computed when it is called."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    workers = min(len(items), os.cpu_count() or 1)
    if not threads or workers < 2:
        yield lambda: [fn(x) for x in items]
        return
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        futures = [pool.submit(fn, x) for x in items]
        yield lambda: [f.result() for f in futures]
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def distinct_positions(col):
    """``(distinct values, each cell's position among them)`` of an Arrow array or chunked
    array in one hashing pass (``dictionary_encode``; the values in order of first appearance,
    a null cell's position null). The chunks of a chunked array share the final dictionary."""
    import pyarrow as pa
    import pyarrow.compute as pc

    enc = pc.dictionary_encode(col)
    if not isinstance(enc, pa.ChunkedArray):
        return enc.dictionary, enc.indices
    if not enc.num_chunks:
        return pa.array([], type=col.type), pa.array([], type=pa.int32())
    return (enc.chunk(enc.num_chunks - 1).dictionary,
            pa.chunked_array([c.indices for c in enc.chunks], type=pa.int32()))


def _fast_column(col, n: int, token_set, convert: bool) -> tuple[object, dict | None]:
    """One column of the fast path: ``(values, {token: count} or None)``."""
    import pyarrow.compute as pc

    counts = None
    uniq, pos = distinct_positions(col) if n > 64 else (None, None)
    if uniq is not None and len(uniq) <= max(256, n // 8):
        # few distinct answers (survey items): the rules run on the distinct values only,
        # then are spread back to the cells through their positions
        u_missing = pc.match_substring_regex(uniq, BLANK_RE)
        u_trim = pc.utf8_trim(uniq, characters=WHITESPACE)
        if token_set is not None:
            u_hit = pc.and_(pc.is_in(u_trim, value_set=token_set), pc.invert(u_missing))
            if pc.any(u_hit).as_py():
                freq = np.bincount(np.asarray(pos.to_numpy(zero_copy_only=False)),
                                   minlength=len(uniq))
                counts = {}
                for k in np.flatnonzero(u_hit.to_numpy(zero_copy_only=False)):
                    tok = u_trim[int(k)].as_py()
                    counts[tok] = counts.get(tok, 0) + int(freq[k])
                u_missing = pc.or_(u_missing, u_hit)
        if convert:
            u_num = pc.and_(pc.match_substring_regex(uniq, _NUMBER_RE),
                            pc.invert(pc.match_substring_regex(uniq, _LEADING_ZERO_RE)))
            return _distinct_column(col, pos, u_missing, u_num, u_trim, n), counts
        missing = pc.take(u_missing, pos)
    else:
        missing = pc.match_substring_regex(col, BLANK_RE)
        if token_set is not None:
            stripped = pc.utf8_trim(col, characters=WHITESPACE)
            hit = pc.and_(pc.is_in(stripped, value_set=token_set), pc.invert(missing))
            if pc.any(hit).as_py():
                vc = pc.value_counts(pc.filter(stripped, hit))
                counts = {v.as_py(): c.as_py() for v, c in
                          zip(vc.field("values"), vc.field("counts"), strict=True)}
                missing = pc.or_(missing, hit)
        if convert:
            return _arrow_column(col, missing, n), counts
    return pd.Series([None if m else v for v, m in
                      zip(col.to_pylist(), missing.to_pylist(), strict=True)],
                     dtype=object), counts
