"""``read_export``: one reader for every survey export format cxlab ingests."""

from __future__ import annotations

import contextlib
import mmap
import os
from pathlib import Path

import pandas as pd

from cxlab.io._errors import ExportError
from cxlab.io._frame import build_frame, clean_header, row_lines, unique_names
from cxlab.io._limesurvey import is_limesurvey, parse_limesurvey
from cxlab.io._multiselect import split_multiselect
from cxlab.io._qualtrics import is_qualtrics, parse_qualtrics
from cxlab.io._spss import read_spss
from cxlab.io._surveymonkey import is_surveymonkey, parse_surveymonkey
from cxlab.io._text import Grid, decode_bytes, fast_delimited, parse_delimited
from cxlab.io._wjx import is_wjx, parse_wjx

# split_multiselect is re-exported here for callers that import it from the readers module
__all__ = ["read_export", "detect_source", "split_multiselect", "SOURCES", "SOURCE_OPTIONS"]

#: values of ``df.attrs["source"]``
SOURCES = ("wjx_text", "wjx_code", "qualtrics", "surveymonkey", "limesurvey", "spss", "csv",
           "excel", "parquet")
#: values accepted by ``read_export(source=…)``
SOURCE_OPTIONS = ("auto", "wjx", "wjx_text", "wjx_code", "qualtrics", "surveymonkey", "limesurvey",
                  "spss", "csv", "excel", "parquet")

_PLATFORM_PARSERS = {
    "wjx": parse_wjx,
    "qualtrics": parse_qualtrics,
    "surveymonkey": parse_surveymonkey,
    "limesurvey": parse_limesurvey,
}
_CONTAINER_NAMES = {"xls": "Excel (.xls)", "xlsx": "Excel (.xlsx)", "csv": "delimited text",
                    "sav": "SPSS", "parquet": "parquet"}


def _sniff_container(head: bytes) -> str:
    """The container from the first bytes: ``xls`` (OLE2), ``xlsx`` (zip), ``sav``,
    ``parquet``, else ``csv`` (text)."""
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith((b"$FL2", b"$FL3")):
        return "sav"
    if head.startswith(b"PAR1"):
        return "parquet"
    return "csv"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    text = text or type(exc).__name__
    return text[:200]


def _excel_grid(path: Path, container: str) -> Grid:
    import python_calamine as pc

    try:
        wb = pc.CalamineWorkbook.from_path(str(path))
        names = wb.sheet_names
        if not names:
            raise ValueError("workbook has no sheet")
        sheet = wb.get_sheet_by_index(0)
        cells = sheet.to_python(skip_empty_area=False)
    except pc.ZipError as exc:
        raise ExportError(f"{path}: not a readable Excel file (truncated or corrupt zip archive: "
                          f"{_one_line(exc)})") from None
    except Exception as exc:  # calamine raises several unrelated types for broken workbooks
        raise ExportError(f"{path}: not a readable Excel file ({_one_line(exc)})") from None
    rows, lines, empty = [], [], 0
    for i, row in enumerate(cells):
        if not any(c not in ("", None) and not (isinstance(c, str) and not c.strip()) for c in row):
            if rows:
                empty += 1
            continue
        rows.append(list(row))
        lines.append(i + 1)
    # drop trailing columns blank in every row (formatting left-overs)
    width = max((len(r) for r in rows), default=0)
    while width and all(len(r) < width or r[width - 1] in ("", None) for r in rows):
        width -= 1
    rows = [r[:width] for r in rows]
    return Grid(rows=rows, lines=lines, container=container,
                meta={"sheet": names[0]}, empty_rows=empty)


@contextlib.contextmanager
def _mapped(path: Path):
    """The file's bytes as a read-only memory map (``b""`` when empty): the fast path parses
    the page cache in place instead of a fresh copy of a file that can be hundreds of MiB."""
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size == 0:
            yield b""
            return
        try:
            view = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):  # not mappable (a pipe, some network filesystems)
            view = None
        if view is None:
            yield fh.read()
            return
        try:
            yield view
        finally:
            with contextlib.suppress(BufferError):  # a view still held: closed when released
                view.close()


def _text_grid(path: Path, data) -> Grid:
    # well-formed UTF-8 text: pyarrow.csv, whole columns at a time; anything doubtful (other
    # encodings, ragged rows, blank lines, quoted line breaks) takes the careful path below
    fast = None if os.environ.get("CXLAB_CAREFUL_CSV") else fast_delimited(data)
    if fast is not None:
        grid, encoding = fast
        grid.meta["encoding"] = encoding
        return grid
    data = bytes(data)  # the careful path decodes the whole text
    try:
        text, encoding, *odd = decode_bytes(data)
        grid = parse_delimited(text)
    except ValueError as exc:
        raise ExportError(f"{path}: not a readable export ({_one_line(exc)})") from None
    grid.meta["encoding"] = encoding
    if odd and odd[0]:  # lines in another encoding than the file's: quarantined by the ingest
        grid.meta["encoding_lines"] = odd[0]
    return grid


def _with_encoding_lines(bad: list, odd: list[int]) -> list:
    """Add the records starting on a line in another encoding to ``bad_lines``."""
    from cxlab.io._text import MIXED_ENCODING

    seen = {line for line, _ in bad}
    return sorted([*bad, *((line, MIXED_ENCODING) for line in odd if line not in seen)])


def detect_source(grid: Grid) -> str:
    """The platform of a grid from its header rows: ``qualtrics``, ``surveymonkey``,
    ``limesurvey``, ``wjx`` or, for anything else, ``csv``/``excel`` (by container)."""
    if not grid.rows:
        return "csv" if grid.container == "csv" else "excel"
    header = [clean_header(c) for c in grid.rows[0]]
    if is_qualtrics(grid.rows):
        return "qualtrics"
    if is_surveymonkey(grid.rows):
        return "surveymonkey"
    if is_limesurvey(header):
        return "limesurvey"
    if is_wjx(header):
        return "wjx"
    return "csv" if grid.container == "csv" else "excel"


def _parse_generic(grid: Grid, source: str) -> tuple[pd.DataFrame, dict]:
    names = unique_names([clean_header(c) for c in grid.rows[0]]) if grid.rows else []
    frame, bad, _ = build_frame(names, grid.rows[1:], grid.lines[1:])
    return frame, {"source": source, "header_rows": 1, "labels": {}, "bad_lines": bad,
                   "kept_lines": grid.lines[1:]}


def _check_layout(path: Path, grid: Grid, platform: str) -> None:
    rows = grid.rows
    header = [clean_header(c) for c in rows[0]] if rows else []
    ok = {
        "qualtrics": lambda: is_qualtrics(rows),
        "surveymonkey": lambda: is_surveymonkey(rows),
        "limesurvey": lambda: is_limesurvey(header),
        "wjx": lambda: is_wjx(header),
    }[platform]()
    if not ok:
        expected = {
            "qualtrics": 'a Qualtrics export (row 3 with {"ImportId": …} cells)',
            "surveymonkey": "a SurveyMonkey export (Respondent ID and a second header row)",
            "limesurvey": "a LimeSurvey export (id, submitdate, lastpage/startlanguage columns)",
            "wjx": "a 问卷星 export (序号, 提交答卷时间/所用时间 and N、 question columns)",
        }[platform]
        raise ExportError(f"{path}: expected {expected}, but the header does not match")


def read_export(path: str | os.PathLike, *, source: str = "auto") -> pd.DataFrame:
    """Read one survey export into a frame with one row per response.

    Parameters
    ----------
    path : str or path-like
        The export file. Its format is recognised from its content, never from its name alone:
        magic bytes (OLE2 ``D0 CF 11 E0`` → .xls, ``PK`` zip → .xlsx, ``$FL2``/``$FL3`` → .sav,
        ``PAR1`` → parquet, anything else → delimited text: encoding and ``,``/tab/``;`` sniffed),
        then the header rows (Qualtrics ImportId row, SurveyMonkey ``Respondent ID`` + second
        header row, LimeSurvey ``id/submitdate/lastpage``, 问卷星 ``序号/提交答卷时间/所用时间``).
    source : str
        ``auto`` (default), ``wjx``, ``wjx_text``, ``wjx_code``, ``qualtrics``,
        ``surveymonkey``, ``limesurvey``, ``spss``, ``csv``, ``excel`` or ``parquet``. A platform
        name forces that layout (and fails with :class:`ExportError` when the header does not
        fit); ``csv``/``excel`` read the first row as the header without platform handling.
        ``wjx`` tells 问卷星's "按选项文本" and "按选项序号" exports apart by content (a code export
        without multi-select columns whose open questions hold text reads as a text export);
        ``wjx_text``/``wjx_code`` say which it is.

    Returns
    -------
    pandas.DataFrame
        Columns are the export's variable names, whitespace-stripped (SurveyMonkey, which has
        none: ``"<question> - <row/choice>"``; 问卷星 also gets ``所用时间_秒``). Empty cells are
        missing; columns whose values are all numbers are ``Int64`` (whole numbers) or
        ``float64``; others are text (identifiers such as ``"007"`` stay text). ``df.attrs``:

        - ``source``: one of :data:`SOURCES`; ``path``: the path as given (``str``);
          ``container``: ``csv``, ``xls``, ``xlsx``, ``sav`` or ``parquet``.
        - ``labels``: column → question text, where the export carries it (Qualtrics row 2,
          SurveyMonkey row 1, 问卷星 header without ``N、``, SPSS variable labels).
        - ``value_labels``: column → {code: label} (SPSS; ``{}`` otherwise).
        - ``header_rows``: header rows above the data (3 Qualtrics, 2 SurveyMonkey, 1 others,
          0 SPSS/parquet); ``first_data_line``: file line (Excel row) of the first data row.
        - ``row_lines``: one 1-based file line (CSV: the line where the record starts; Excel:
          the sheet row; SPSS/parquet: the case number) per row of the frame, so
          ``df.attrs["row_lines"][i]`` locates positional row ``i`` in the file. A ``range``
          when contiguous, else a ``tuple``.
        - ``bad_lines``: ``[(line, reason), …]`` rows that were read but should be quarantined:
          ragged rows (too many / too few fields; short rows padded with missing values, long
          rows cut to the header's width) and Qualtrics spam rows. Nothing is dropped silently.
        - ``dropped``: ``[(line, reason), …]`` rows not returned because they are not responses
          (Qualtrics preview and test rows).
        - ``empty_lines``: count of all-empty records/rows skipped (blank lines).
        - ``skip_codes``: column → {token or code: count} of cells set to missing because they
          mean "not asked / not answered": 问卷星 text ``(跳过)``/``(空)``, 问卷星 code ``-2``
          (skipped by logic) / ``-3`` (not shown), LimeSurvey ``N/A``, SPSS user-missing values.
        - Format-specific: ``encoding`` and ``delimiter`` (text), ``sheet`` (Excel),
          ``import_ids`` (Qualtrics), ``sub_labels`` (SurveyMonkey), ``question_numbers``
          (问卷星: column → question number).

        So that ``len(df) + len(attrs["dropped"])`` equals the number of non-empty data records
        in the file; a row's file line is ``attrs["row_lines"][i]``.

    Raises
    ------
    ExportError
        For a missing, empty, binary, truncated or corrupt file, or a header that does not fit
        the forced ``source``; the message is one line naming the file and the reason.
    ValueError
        For an unknown ``source``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "x.csv").write_text("id ,score\\n1,9\\n2,\\n", encoding="utf-8")
    >>> df = read_export(d / "x.csv")
    >>> list(df.columns), df.attrs["source"], list(df.attrs["row_lines"])
    (['id', 'score'], 'csv', [2, 3])
    """
    if source not in SOURCE_OPTIONS:
        raise ValueError(f"source must be one of {', '.join(SOURCE_OPTIONS)}; got {source!r}")
    path_str = os.fspath(path)
    p = Path(path_str)
    if not p.exists():
        raise ExportError(f"{path_str}: file not found")
    if not p.is_file():
        raise ExportError(f"{path_str}: not a file")
    try:
        with open(p, "rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise ExportError(f"{path_str}: cannot open ({_one_line(exc)})") from None
    if not head:
        raise ExportError(f"{path_str}: empty file (0 bytes)")
    container = _sniff_container(head)

    wanted = {"spss": ("sav",), "parquet": ("parquet",), "excel": ("xls", "xlsx"),
              "csv": ("csv",)}.get(source)
    if wanted and container not in wanted:
        raise ExportError(f"{path_str}: source={source!r} expects "
                          f"{' or '.join(_CONTAINER_NAMES[w] for w in wanted)}, "
                          f"but the content is {_CONTAINER_NAMES[container]}")
    if source not in ("auto", "csv", "excel", "spss", "parquet") and container in ("sav", "parquet"):
        raise ExportError(f"{path_str}: source={source!r} expects a text or Excel export, "
                          f"but the content is {_CONTAINER_NAMES[container]}")

    meta: dict = {}
    empty_lines = 0
    if container == "sav":
        try:
            frame, attrs = read_spss(p)
        except Exception as exc:  # pyreadstat raises its own and OS errors
            raise ExportError(f"{path_str}: not a readable SPSS file ({_one_line(exc)})") from None
    elif container == "parquet":
        try:
            frame = pd.read_parquet(p)
        except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, …
            raise ExportError(f"{path_str}: not a readable parquet file ({_one_line(exc)})") from None
        stored = frame.attrs.get("labels")
        frame = frame.reset_index(drop=True)
        attrs = {"source": "parquet", "header_rows": 0,
                 "labels": dict(stored) if isinstance(stored, dict) else {},
                 "bad_lines": [], "kept_lines": range(1, len(frame) + 1)}
        frame.attrs = {}
    else:
        if container == "csv":
            try:
                with _mapped(p) as data:
                    grid = _text_grid(p, data)
            except OSError as exc:
                raise ExportError(f"{path_str}: cannot read ({_one_line(exc)})") from None
        else:
            grid = _excel_grid(p, container)
        if not grid.rows:
            raise ExportError(f"{path_str}: no header row (the file holds no data)")
        meta, empty_lines = grid.meta, grid.empty_rows
        if source in ("csv", "excel"):
            platform = source
        elif source == "auto":
            platform = detect_source(grid)
        else:
            platform = "wjx" if source.startswith("wjx") else source
            _check_layout(Path(path_str), grid, platform)
        parser = _PLATFORM_PARSERS.get(platform)
        if platform == "wjx":
            frame, attrs = parse_wjx(grid, kind=source if source in ("wjx_text", "wjx_code") else None)
        else:
            frame, attrs = parser(grid) if parser else _parse_generic(grid, platform)

    kept = attrs.pop("kept_lines")
    lines = row_lines(kept)
    frame.attrs = {
        "source": attrs.pop("source"),
        "path": path_str,
        "container": container,
        "labels": attrs.pop("labels"),
        "value_labels": attrs.pop("value_labels", {}),
        "header_rows": attrs["header_rows"],
        "first_data_line": lines[0] if len(lines) else None,
        "row_lines": lines,
        "bad_lines": _with_encoding_lines(attrs.pop("bad_lines"), meta.pop("encoding_lines", [])),
        "dropped": attrs.pop("dropped", []),
        "empty_lines": empty_lines,
        "skip_codes": attrs.pop("skip_codes", {}),
        **{k: v for k, v in attrs.items() if k != "header_rows"},
        **meta,
    }
    return frame
