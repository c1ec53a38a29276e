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
from dataclasses import dataclass, field

__all__ = ["Grid", "decode_bytes", "parse_delimited"]

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


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode an export's bytes; return ``(text, encoding)``.

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
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=False)
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
    except csv.Error as exc:  # e.g. NUL byte, field larger than the limit
        raise ValueError(f"malformed delimited text near line {prev_end + 1} ({exc})") from exc
    return Grid(rows=rows, lines=lines, container="csv",
                meta={"delimiter": delim}, empty_rows=empty)
