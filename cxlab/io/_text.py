"""Text exports: encoding detection, delimiter sniffing and a line-numbered CSV grid.

The grid keeps, for every record, the 1-based physical line of the file on which the record
starts, so that a row number can always be mapped back to the file (quoted fields may span
several lines).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

__all__ = ["ArrowRows", "Grid", "decode_bytes", "fast_delimited", "parse_delimited"]

# Encodings charset-normalizer may name for Simplified-Chinese text: all decoded as GB18030,
# the superset of GB2312 and GBK that Chinese office software writes ("另存为 CSV").
_GB_FAMILY = {"gb2312", "gbk", "gb18030", "hz", "cp936", "euc_cn", "hz_gb_2312"}
_DELIMITERS = (",", "\t", ";")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class Grid:
    """Cells of a sheet or delimited text file, header rows included.

    ``rows[i]`` is a list of cells (``str`` for text files; ``str``, ``float``, ``int``,
    ``bool`` or date/time objects for spreadsheets, ``""`` for an empty cell) and ``lines[i]``
    the 1-based file line (text) or sheet row (spreadsheet) where that row starts.
    """

    rows: list[list]
    lines: list[int]
    container: str
    meta: dict = field(default_factory=dict)
    #: rows skipped because every cell was empty (blank lines, formatted empty Excel rows)
    empty_rows: int = 0


def decode_bytes(data: bytes) -> tuple[str, str] | tuple[str, str, list[int]]:
    """Decode an export's bytes; return ``(text, encoding)``, or ``(text, "gb18030", lines)``
    for a GB18030 file with a few UTF-8 lines (their 1-based numbers, to quarantine).

    Order: a byte-order mark (UTF-8, UTF-16 LE/BE) decides; else BOM-less UTF-16 is recognised
    by its zero bytes; else strict UTF-8; only when UTF-8 fails, charset-normalizer guesses
    (a GB2312/GBK guess is decoded as GB18030, their superset). Raises ``ValueError`` with a
    short reason when the bytes are not text.
    """
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    sample = data[:4096]
    if sample and sample.count(0) > len(sample) // 4:
        # UTF-16 without a BOM: ASCII characters have one zero byte each.
        even_zeros = sample[0::2].count(0)
        odd_zeros = sample[1::2].count(0)
        enc = "utf-16-le" if odd_zeros > even_zeros else "utf-16-be"
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError as exc:
            raise ValueError("binary content, not a text export") from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    mixed = _gb18030_with_utf8_lines(data)
    if mixed is not None:
        return mixed
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise ValueError("binary content or unknown text encoding")
    enc = best.encoding.lower().replace("-", "_")
    if enc in _GB_FAMILY:
        enc = "gb18030"
    try:
        text = data.decode(enc)
    except (UnicodeDecodeError, LookupError) as exc:
        raise ValueError(f"cannot decode as {enc}") from exc
    return text, enc


#: Reason given for a line in another encoding than the rest of a GB18030 file.
MIXED_ENCODING = "line is UTF-8 while the rest of the file is GB18030 (mixed encodings)"


def _gb18030_with_utf8_lines(data: bytes) -> tuple[str, str, list[int]] | None:
    """Chinese office CSV: GB18030 (GBK), possibly with a few lines pasted in as UTF-8.

    Returns ``(text, "gb18030", utf8_lines)`` when every line decodes strictly as GB18030 or,
    for at most a tenth of the lines, as UTF-8 (those lines are decoded correctly and listed,
    1-based, so the reader can quarantine them); ``None`` when the file is not like that, and
    charset detection takes over.
    """
    lines = data.split(b"\n")
    out, odd = [], []
    for number, raw in enumerate(lines, start=1):
        try:
            out.append(raw.decode("gb18030"))
            continue
        except UnicodeDecodeError:
            pass
        try:
            out.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            return None
        odd.append(number)
    has_chinese = any(any("\u4e00" <= ch <= "\u9fff" for ch in line) for line in out)
    if not has_chinese or len(odd) > max(1, len(lines) // 10):
        return None
    return "\n".join(out), "gb18030", odd


def _looks_binary(text: str) -> bool:
    sample = text[:8192]
    if not sample:
        return False
    return len(_CONTROL.findall(sample)) > max(2, len(sample) // 100)


def _first_record(text: str, delimiter: str) -> list[str]:
    reader = csv.reader(io.StringIO(text[:65536], newline=""), delimiter=delimiter)
    for rec in reader:
        if any(cell.strip() for cell in rec):
            return rec
    return []


def sniff_delimiter(text: str) -> str:
    """The delimiter (``,``, tab or ``;``) that splits the header record into the most fields."""
    best, best_n = ",", 1
    for delim in _DELIMITERS:
        n = len(_first_record(text, delim))
        if n > best_n:
            best, best_n = delim, n
    return best


def parse_delimited(text: str, *, delimiter: str | None = None) -> Grid:
    """Split decoded text into a :class:`Grid`; records with every field empty are skipped
    (counted in ``empty_rows``). Raises ``ValueError`` for binary or malformed content."""
    if _looks_binary(text):
        raise ValueError("binary content, not a text export")
    delim = delimiter or sniff_delimiter(text)
    # strict: an unclosed quote or text after a closing quote is an error naming the record's
    # line, instead of silently swallowing the following records into one field
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=True)
    rows: list[list[str]] = []
    lines: list[int] = []
    empty = 0
    prev_end = 0
    try:
        for rec in reader:
            start = prev_end + 1
            prev_end = reader.line_num
            if not any(cell.strip() for cell in rec):
                if rows:  # blank lines before the header are not counted
                    empty += 1
                continue
            rows.append(rec)
            lines.append(start)
    except csv.Error as exc:  # unbalanced quotes, NUL byte, field larger than the limit
        why = {"unexpected end of data": "a quoted field is never closed",
               "',' expected after '\"'": "text follows the closing quote of a field"
               }.get(str(exc), str(exc))
        raise ValueError(f"malformed delimited text in the record starting at line "
                         f"{prev_end + 1} ({why})") from exc
    return Grid(rows=rows, lines=lines, container="csv",
                meta={"delimiter": delim}, empty_rows=empty)


# --------------------------------------------------------------------------- fast path
#: the characters Python's ``str.strip()`` removes (``str.isspace``), for RE2 / Arrow kernels
WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004"
              "\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
#: RE2 class of the same characters
WS_CLASS = ("[\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}"
            "\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}]")
#: a cell that ``str.strip()`` leaves empty
BLANK_RE = f"^{WS_CLASS}*$"


class ArrowRows(Sequence):
    """The records of a delimited file parsed by ``pyarrow.csv``, seen as a sequence of rows
    (each a ``list`` of ``str``, ``""`` for an empty cell) so that code written for
    :attr:`Grid.rows` keeps working; :func:`cxlab.io._frame.build_frame` recognises it and
    converts whole columns at once instead of cell by cell. Every row has the same width."""

    __slots__ = ("_cols", "_start", "_stop")

    def __init__(self, columns: list, start: int = 0, stop: int | None = None) -> None:
        self._cols = columns  # one pyarrow StringArray (or ChunkedArray) per column, same length
        n = len(columns[0]) if columns else 0
        self._start = start
        self._stop = n if stop is None else stop

    @property
    def width(self) -> int:
        return len(self._cols)

    def columns(self) -> list:
        """The columns (``pyarrow`` string arrays, possibly chunked) of the rows in this view."""
        return [c.slice(self._start, len(self)) for c in self._cols]

    def __len__(self) -> int:
        return max(0, self._stop - self._start)

    def __getitem__(self, key):
        if isinstance(key, slice):
            start, stop, step = key.indices(len(self))
            if step != 1:
                return [self[i] for i in range(start, stop, step)]
            return ArrowRows(self._cols, self._start + start, self._start + max(start, stop))
        n = len(self)
        i = key + n if key < 0 else key
        if not 0 <= i < n:
            raise IndexError("row index out of range")
        return [c[self._start + i].as_py() for c in self._cols]

    def __iter__(self) -> Iterator[list]:
        step = 8192
        for lo in range(self._start, self._stop, step):
            hi = min(lo + step, self._stop)
            cols = [c.slice(lo, hi - lo).to_pylist() for c in self._cols]
            yield from (list(r) for r in zip(*cols, strict=True))


def _one_cell(region):
    """A one-cell ``large_binary`` Arrow array over a buffer, without copying it (for RE2 and
    substring kernels over a whole file)."""
    import pyarrow as pa

    offsets = pa.array([0, region.size], type=pa.int64()).buffers()[1]
    return pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, region])


def count_newlines(data, start: int = 0) -> int:
    """``data.count(b"\\n", start)`` for any buffer (``bytes``, ``mmap``), GIL released."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if start >= len(data):
        return 0
    return pc.count_substring(_one_cell(pa.py_buffer(data)[start:]), "\n")[0].as_py()


def has_stray_quote(data: bytes, delim: str, start: int = 0, stop: int | None = None) -> bool:
    """Whether ``data`` holds, at a position in ``[start, stop)``, a ``"`` that neither opens a
    field (it follows something other than the delimiter or a line end) nor ends one (it is
    followed by something other than a quote, the delimiter or a line end) — text the strict
    careful path rejects and pyarrow would accept. The bytes around ``[start, stop)`` count as
    context, as in a regex lookbehind (so adjoining ranges can be scanned separately).

    One RE2 search over the bytes (pyarrow, no copy; binary data is matched byte-wise): Python's
    ``re`` with a lookbehind needs ~20 ns a byte, ~7 s on a 350 MiB file.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    stop = len(data) if stop is None else min(stop, len(data))
    if start >= stop:
        return False
    d = re.escape(delim)
    quote = f'"[^"{d}\\r\\n]'  # a quote followed by text
    buf = pa.py_buffer(data)
    end = min(stop + 1, len(data))  # the byte after the last quote position is its context
    if start == 0:  # the quote may be the very first byte, with nothing before it
        pattern, region = f"(?:^|[^{d}\\r\\n]){quote}", buf[:end]
    else:           # the byte before `start` is the first possible context byte
        pattern, region = f"[^{d}\\r\\n]{quote}", buf[start - 1:end]
    return bool(pc.match_substring_regex(_one_cell(region), pattern)[0].as_py())


def fast_delimited(data) -> tuple[Grid, str] | None:
    """Parse well-formed UTF-8 delimited text with ``pyarrow.csv`` (multi-threaded, no Python
    per cell); return ``(grid, encoding)`` or ``None`` when the careful path must decide.
    ``data`` is ``bytes`` or any read-only buffer (the readers pass a memory map of the file;
    the grid keeps no reference to it).

    Taken only when the result is certainly what :func:`parse_delimited` gives: UTF-8 (with or
    without BOM) that pyarrow validates, not binary, the header on line 1, every record with
    the header's width (a ragged row makes pyarrow fail → ``None``, and the careful path reports
    it in ``bad_lines``), and exactly one record per physical line — no blank lines, no quoted
    line breaks (records == lines), so the file line of record ``i`` is ``i + 1`` — and no
    record whose every field is blank.
    """
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.csv as pcsv
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        return None
    if data[:3] == codecs.BOM_UTF8:
        offset, encoding = len(codecs.BOM_UTF8), "utf-8-sig"
    elif data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return None
    else:
        offset, encoding = 0, "utf-8"
    head = data[offset:offset + 65536]
    if not head or head[:1] in (b"\r", b"\n") or head[:4096].count(0) > 0:
        return None
    try:
        head_text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # a real error, not a character cut at the sample's end
            return None
        head_text = head[:exc.start].decode("utf-8")
    if _looks_binary(head_text):
        return None
    delim = sniff_delimiter(head_text)
    first = next(csv.reader(io.StringIO(head_text, newline=""), delimiter=delim), [])
    if not first or not any(cell.strip() for cell in first):
        return None
    width = len(first)
    # the careful path rejects text after a closing quote ("x"y) and pyarrow would accept it:
    # any quote not opening a field and followed by anything but a delimiter, quote or line
    # end (also escaped "" inside a field, harmless) leaves the decision to the careful path
    # a quote at the very start opens the first header cell (pyarrow and Excel quote headers)
    start = offset + 1 if data[offset:offset + 1] == b'"' else offset
    body = pa.py_buffer(data)[offset:]
    # the whole-file checks (the stray-quote scan in two halves, the line count) run in threads
    # beside the parse, whose own threads leave a core idle part of the time
    with ThreadPoolExecutor(max_workers=3) as pool:
        middle = start + (len(data) - start) // 2
        stray = ([pool.submit(has_stray_quote, data, delim, a, b)
                  for a, b in ((start, middle), (middle, len(data)))]
                 if data.find(b'"') >= 0 else [])
        newlines = pool.submit(count_newlines, data, offset)
        try:
            table = pcsv.read_csv(
                pa.BufferReader(body),
                read_options=pcsv.ReadOptions(autogenerate_column_names=True,
                                              block_size=1 << 24),
                parse_options=pcsv.ParseOptions(delimiter=delim, quote_char='"',
                                                double_quote=True, escape_char=False,
                                                newlines_in_values=True,
                                                ignore_empty_lines=True),
                convert_options=pcsv.ConvertOptions(
                    column_types={f"f{j}": pa.string() for j in range(width)},
                    strings_can_be_null=False, quoted_strings_can_be_null=False,
                    null_values=[]),
            )
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, ValueError):
            table = None  # ragged rows, invalid UTF-8, …: the careful path reports them
        if any([f.result() for f in stray]) or table is None:
            return None
        n_lines = newlines.result() + (0 if data[-1:] == b"\n" else 1)
    if table.num_columns != width or table.num_rows == 0:
        return None
    if table.num_rows != n_lines:  # blank lines or quoted line breaks: lines need the careful path
        return None
    cols = [c.chunk(0) if c.num_chunks == 1 else c for c in table.columns]  # no copy
    if len(cols[0]) > 1:
        blank = None
        for col in cols:
            b = pc.match_substring_regex(col.slice(1), BLANK_RE)
            blank = b if blank is None else pc.and_(blank, b)
            if not pc.any(blank).as_py():
                break
        else:
            return None  # a record with every field blank: counted in empty_rows by the careful path
    rows = ArrowRows(cols)
    grid = Grid(rows=rows, lines=range(1, len(rows) + 1), container="csv",
                meta={"delimiter": delim}, empty_rows=0)
    return grid, encoding
