"""Property-based tests (hypothesis) of the loaders and ingest, plus a few light statistics
invariants (the module owners keep the deeper ones).

- ``read_export`` on random bytes and on random CSV text (CJK, quotes, delimiters, embedded
  newlines) either returns a frame whose ``row_lines`` locate every row, or raises
  ``ExportError`` — never anything else.
- ``ingest`` on random mixes of good and bad rows: ``rows_read == accepted + quarantined``, the
  quarantined rows are exactly the bad ones, at their original file lines.
- ``split_multiselect`` round-trips joined answers; NPS, Kano and LMG keep their invariants.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cxlab.errors import CxlabError

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = settings(max_examples=50, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])
FEW = settings(max_examples=20, deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture,
                                      HealthCheck.too_slow])

MAGIC = [b"", b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"$FL2", b"PAR1",
         b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x89PNG\r\n\x1a\n"]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("props")


def _check_frame(df: pd.DataFrame) -> None:
    lines = list(df.attrs["row_lines"])
    assert len(lines) == len(df)
    assert all(b > a for a, b in zip(lines, lines[1:], strict=False)), lines
    for line, reason in df.attrs["bad_lines"]:
        assert line in lines and reason
    assert df.attrs["source"] in {"wjx_text", "wjx_code", "qualtrics", "surveymonkey",
                                  "limesurvey", "spss", "csv", "excel", "parquet"}


# ----------------------------------------------------------------------------------------------
# loaders on random input

@SETTINGS
@given(magic=st.sampled_from(MAGIC), body=st.binary(max_size=3000),
       suffix=st.sampled_from([".csv", ".xlsx", ".xls", ".sav", ".parquet", ".txt"]))
def test_read_export_on_random_bytes_raises_only_export_error(scratch, magic, body, suffix):
    from cxlab.io import ExportError, read_export

    path = scratch / f"random{suffix}"
    path.write_bytes(magic + body)
    try:
        df = read_export(path)
    except ExportError as err:
        msg = str(err)
        assert "\n" not in msg and msg.startswith(str(path)), msg
        # a refusal is right only for input that is not a plain text table
        text = _plain_text(magic, body)
        assert text is None, f"valid text refused: {msg}\n{text!r}"
        return
    _check_frame(df)


_CONTROL_CHARS = __import__("re").compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _plain_text(magic: bytes, body: bytes) -> str | None:
    """The text when ``magic + body`` is unmistakably a delimited text table (the oracle of the
    never-crash tests): UTF-8 (optionally with its BOM), no control characters, no quote
    characters (so no quoting can be malformed), and a letter or digit (so some cell is not
    blank). ``None`` otherwise: refusing such input with an ExportError is correct."""
    if magic not in (b"", b"\xef\xbb\xbf"):
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if _CONTROL_CHARS.search(text) or '"' in text or not any(ch.isalnum() for ch in text):
        return None
    return text


_CELL_CHARS = st.sampled_from(list("abcXYZ019 ,\"'\n") + ["\r\n", "客", "户", "体", "验", "好", "┋",
                                                          "〖", "〗", "=", "９", "\u3000", "😀"])
_cell = st.lists(_CELL_CHARS, max_size=8).map("".join)
_name = st.lists(st.sampled_from(list("abcXYZ_09") + ["满", "意", "度", "、"]),
                 min_size=1, max_size=6).map("".join)


_NUMBER_TEXT = __import__("re").compile(r"\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*")


def _expected_cell(cell: str, numeric: bool):
    """What the reader must give back for a written cell: missing for a blank cell, the number
    in a numeric column, else the text exactly."""
    if not cell.strip():
        return None
    return float(cell) if numeric else cell


@st.composite
def _valid_csv(draw, encoding: str = "utf-8"):
    """A well-formed CSV table: unique, non-blank header names; every record as wide as the
    header with at least one non-blank cell. A GB18030 file is told from other legacy encodings
    by its Chinese characters (cxlab.io._text: files that decode as GB18030 and hold a CJK
    ideograph); a table of only ASCII and CJK punctuation in GB18030 is ambiguous (it decodes as
    Korean just as well), so its header names a Chinese word, as every real Chinese export's
    header does."""
    header = draw(st.lists(_name, min_size=1, max_size=6, unique=True))
    if encoding == "gb18030" and not any("\u4e00" <= ch <= "\u9fff" for ch in "".join(header)):
        header[0] = header[0] + "满意"
    width = len(header)
    row = st.lists(_cell, min_size=width, max_size=width).filter(
        lambda r: any(c.strip() for c in r))
    return header, draw(st.lists(row, max_size=12))


@SETTINGS
@given(data=st.data(), encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "gb18030"]),
       blank_before=st.integers(min_value=0, max_value=2))
def test_valid_csv_reads_back_equal(scratch, data, encoding, blank_before):
    """A valid CSV file (csv.writer, any of the encodings exports come in) is never refused and
    reads back equal: the same header, one row per record at the line where it starts, every
    cell the written text (or its number in an all-numeric column, missing when blank)."""
    from cxlab.io import read_export

    header, rows = data.draw(_valid_csv(encoding))
    buf = io.StringIO()
    buf.write("\n" * blank_before)  # blank lines before the header
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    starts = []
    for row in rows:
        starts.append(buf.getvalue().count("\n") + 1)
        w.writerow(row)
    path = scratch / "valid.csv"
    path.write_bytes(buf.getvalue().encode(encoding))   # every generated character encodes
    df = read_export(path, source="csv")                 # an ExportError here fails the test
    _check_frame(df)
    assert list(df.columns) == header
    assert list(df.attrs["row_lines"]) == starts
    assert df.attrs["bad_lines"] == []
    for j, name in enumerate(header):
        col = df[name]
        numeric = pd.api.types.is_numeric_dtype(col)
        if numeric:   # only a column of numbers may come back as numbers
            assert all(_NUMBER_TEXT.fullmatch(r[j]) or not r[j].strip() for r in rows), name
        got = [None if pd.isna(v) else (float(v) if numeric else v) for v in col.tolist()]
        assert got == [_expected_cell(r[j], numeric) for r in rows], name


@SETTINGS
@given(header=st.lists(_name, min_size=1, max_size=6),
       rows=st.lists(st.lists(_cell, min_size=0, max_size=8), max_size=12))
def test_ragged_records_are_flagged_never_dropped(scratch, header, rows):
    """Well-quoted CSV with records narrower or wider than the header: read (never refused),
    every non-blank record a row at the line where it starts, the ragged ones flagged."""
    from cxlab.io import read_export

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    starts = []
    for row in rows:
        starts.append(buf.getvalue().count("\n") + 1)
        w.writerow(row)
    path = scratch / "ragged.csv"
    path.write_bytes(buf.getvalue().encode("utf-8"))
    df = read_export(path, source="csv")
    _check_frame(df)
    kept = [(s, r) for s, r in zip(starts, rows, strict=True)
            if any(c.strip() for c in r)]
    assert list(df.attrs["row_lines"]) == [s for s, _ in kept]
    width = len(header)
    flagged = {line for line, _ in df.attrs["bad_lines"]}
    for s, r in kept:
        ragged = len(r) < width or (len(r) > width and any(c.strip() for c in r[width:]))
        assert (s in flagged) == ragged, (s, r, width)


@SETTINGS
@given(lines=st.lists(st.lists(st.one_of(_cell, st.sampled_from(['"', '""', '"a,b', "a\"b", ";", "\t",
                                                                "\x00", "\x1a"])),
                               max_size=8), min_size=1, max_size=12),
       sep=st.sampled_from([",", ";", "\t", "|"]), nl=st.sampled_from(["\n", "\r\n", "\r"]),
       source=st.sampled_from(["auto", "csv", "wjx", "qualtrics", "surveymonkey", "limesurvey"]))
def test_read_export_on_raw_random_text_never_crashes(scratch, lines, sep, nl, source):
    """Unescaped text (stray quotes, NUL, mixed delimiters and line ends): a frame whose rows are
    located, or ExportError — no other exception, whatever layout is forced."""
    from cxlab.io import ExportError, read_export

    path = scratch / "raw_text.csv"
    data = nl.join(sep.join(cells) for cells in lines).encode("utf-8")
    path.write_bytes(data)
    try:
        df = read_export(path, source=source)
    except ExportError as err:
        msg = str(err)
        assert "\n" not in msg
        valid = _plain_text(b"", data) is not None
        if source in ("auto", "csv"):
            # only text that is not a plain table may be refused, and for that reason
            assert not valid, f"valid text refused: {msg}\n{data!r}"
            assert any(why in msg for why in ("malformed delimited text", "binary content",
                                              "no header row", "empty file")), msg
        else:
            # a forced platform: its header is checked, or the text is malformed
            assert "but the header does not match" in msg or (
                not valid and any(why in msg for why in ("malformed delimited text",
                                                         "binary content", "no header row",
                                                         "empty file"))), msg
        return
    _check_frame(df)


# ----------------------------------------------------------------------------------------------
# ingest on random mixes of good and bad rows

HEADER = ["response_id", "ltr", "look_shape", "comment"]
KINDS = ["good", "good_multiline", "ltr_out_of_range", "ltr_text", "bad_label", "too_many",
         "too_few", "missing_ltr", "duplicate"]


@pytest.fixture(scope="module")
def params():
    from cxlab.config import load_codebook, load_org
    from cxlab.io import load_sources

    cb = load_codebook(ROOT / "params/codebook.yaml")
    return {"codebook": cb, "org": load_org(ROOT / "params/org.yaml"),
            "sources": load_sources(ROOT / "params/sources.yaml", codebook=cb)}


@FEW
@given(kinds=st.lists(st.sampled_from(KINDS), min_size=1, max_size=25),
       ltrs=st.lists(st.integers(min_value=0, max_value=10), min_size=25, max_size=25),
       crlf=st.booleans())
def test_ingest_accounts_for_every_row(scratch, params, kinds, ltrs, crlf):
    from cxlab.io import ingest, load_responses

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n" if crlf else "\n")
    w.writerow(HEADER)
    expected_bad: list[int] = []
    ids: list[str] = []
    n_good = 0
    for i, kind in enumerate(kinds):
        line = buf.getvalue().count("\n") + 1
        rid = f"R{i:03d}"
        row = [rid, str(ltrs[i]), "良好", "评论"]
        if kind == "duplicate":
            if not ids:
                kind = "good"
            else:
                row[0] = ids[(i * 7) % len(ids)]
        bad = kind not in ("good", "good_multiline")
        if kind == "good_multiline":
            row[3] = "第一行\n第二行,带逗号\"引号\""
        elif kind == "ltr_out_of_range":
            row[1] = str(11 + ltrs[i])
        elif kind == "ltr_text":
            row[1] = "十"
        elif kind == "bad_label":
            row[2] = "很好"
        elif kind == "too_many":
            row += ["多余", "x"]
        elif kind == "too_few":
            row = row[:2]
        elif kind == "missing_ltr":
            row[1] = ""
        w.writerow(row)
        ids.append(row[0])
        if bad:
            expected_bad.append(line)
        else:
            n_good += 1
    d = Path(tempfile.mkdtemp(dir=scratch))
    try:
        (d / "mix.csv").write_text(buf.getvalue(), encoding="utf-8")
        report = ingest([d / "mix.csv"], warehouse=d / "w", quarantine_dir=d / "q",
                        period="2026Q3", branch="SH01", pseudonym_key_file=scratch / "key",
                        **params)
        assert not report.rejected_files
        assert report.rows_read == report.accepted + report.quarantined == len(kinds)
        assert report.accepted == n_good
        assert sorted(report.quarantine["row"].astype(int)) == expected_bad
        assert report.quarantine["reason"].str.len().gt(0).all()
        if n_good:
            assert len(load_responses(d / "w")) == n_good
    finally:
        shutil.rmtree(d, ignore_errors=True)


# ----------------------------------------------------------------------------------------------
# split_multiselect

_option = st.text(alphabet=st.sampled_from(list("官方网站实体店电商平台ABCxyz 1()")), min_size=1,
                  max_size=6).map(str.strip).filter(bool)


@SETTINGS
@given(options=st.lists(_option, min_size=1, max_size=6, unique=True),
       picks=st.lists(st.one_of(st.none(), st.lists(st.integers(0, 5), max_size=6)),
                      min_size=1, max_size=15),
       other_text=st.lists(st.one_of(st.none(), st.text(
           alphabet=st.sampled_from(list("钓鱼 abc┋,;|")), min_size=1, max_size=8)),
           min_size=15, max_size=15))
def test_split_multiselect_round_trips(options, picks, other_text):
    from cxlab.io import split_multiselect

    options = [o for o in options if o != "其他"]
    assume(options)
    answers, chosen = [], []
    for i, pick in enumerate(picks):
        if pick is None:
            answers.append(None)
            chosen.append(None)
            continue
        sel = list(dict.fromkeys(options[k % len(options)] for k in pick))
        tokens = list(sel)
        free = other_text[i].strip() if other_text[i] else None
        if free:
            tokens.append(f"其他〖{free}〗")
        answers.append("┋".join(tokens))
        chosen.append((set(sel) | ({"其他"} if free else set()), free))
    out = split_multiselect(pd.Series(answers, dtype="object"), sep="┋",
                            options=options + ["其他"])
    assert list(out.columns[:len(options) + 1]) == options + ["其他"]
    for i, want in enumerate(chosen):
        row = out.iloc[i]
        if want is None:
            assert all(pd.isna(row[o]) for o in options + ["其他"])
            continue
        sel, free = want
        got = {o for o in options + ["其他"] if row[o] is True or row[o] == True}  # noqa: E712
        assert got == sel
        if free:
            assert out["其他__text"].iloc[i] == free


# ----------------------------------------------------------------------------------------------
# statistics invariants (light: the module owners have their own)

@SETTINGS
@given(scores=st.lists(st.integers(0, 10), min_size=1, max_size=200), seed=st.integers(0, 2**31))
def test_nps_bounds_counts_and_row_order(scores, seed):
    from cxlab.metrics import nps

    df = pd.DataFrame({"ltr": scores})
    r = nps(df).iloc[0]
    assert -100 <= r["nps"] <= 100
    assert r["promoters"] + r["passives"] + r["detractors"] == r["n"] == len(scores)
    assert r["nps"] == pytest.approx(100 * (sum(s >= 9 for s in scores)
                                            - sum(s <= 6 for s in scores)) / len(scores),
                                     abs=1e-9)
    shuffled = df.sample(frac=1, random_state=np.random.RandomState(seed % 2**32))
    pd.testing.assert_frame_equal(nps(shuffled), nps(df))


@SETTINGS
@given(pairs=st.lists(st.tuples(st.sampled_from(["a", "b"]), st.integers(1, 5),
                                st.integers(1, 5)), min_size=1, max_size=80))
def test_kano_counts_sum_to_n(pairs):
    from cxlab.kano import evaluate

    df = pd.DataFrame(pairs, columns=["feature", "functional", "dysfunctional"])
    res = evaluate(df)
    for row in res.itertuples(index=False):
        assert row.a + row.o + row.m + row.i + row.r + row.q == row.n
        assert row.n == (df["feature"] == row.feature).sum()
    assert res["n"].sum() == len(df)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31), p=st.integers(2, 4))
def test_lmg_sums_to_r2(seed, p):
    from cxlab.drivers import relative_importance

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(80, p))
    y = X @ rng.uniform(0, 1, size=p) + rng.normal(size=80)
    df = pd.DataFrame(X, columns=[f"d{j}" for j in range(p)]).assign(y=y)
    res = relative_importance(df, outcome="y", drivers=[f"d{j}" for j in range(p)], method="lmg")
    assert res.table["importance"].sum() == pytest.approx(res.r2, rel=1e-9, abs=1e-12)
    assert res.table["share"].sum() == pytest.approx(1.0, rel=1e-9)


def test_cxlab_error_is_the_only_user_error_type():
    """ExportError is a CxlabError is a ValueError: what the CLI catches to print one line."""
    from cxlab.io import ExportError

    assert issubclass(ExportError, CxlabError) and issubclass(CxlabError, ValueError)


@SETTINGS
@given(text=st.binary(max_size=60).map(
           lambda b: bytes(b'"a,;\r\n\t x'[c % 9] for c in b)),
       delim=st.sampled_from([",", ";", "\t"]), start=st.integers(0, 3),
       cut=st.integers(0, 60))
def test_stray_quote_scan_agrees_with_the_lookbehind_regex(text, delim, start, cut):
    """The vectorised stray-quote scan of the CSV fast path decides exactly as the regular
    expression it replaced (``(?<![delim\\r\\n])"[^"delim\\r\\n]`` searched from ``start``),
    including quotes at the first and last byte and context before ``start``; a scan split
    at any byte into ``[start, cut)`` and ``[cut, end)`` (as the fast path does, in threads)
    decides the same, quotes at the cut included."""
    import re

    from cxlab.io._text import has_stray_quote

    d = re.escape(delim.encode())
    pattern = re.compile(rb'(?<![' + d + rb'\r\n])"[^"' + d + rb'\r\n]')
    start = min(start, len(text))
    expected = bool(pattern.search(text, start))
    assert has_stray_quote(text, delim, start) == expected
    cut = max(start, min(cut, len(text)))
    first = [m.start() for m in pattern.finditer(text, start) if m.start() < cut]
    assert has_stray_quote(text, delim, start, cut) == bool(first)
    assert (has_stray_quote(text, delim, start, cut)
            or has_stray_quote(text, delim, cut)) == expected


_TIMES = ["2026-07-03 14:05:09", "2026-02-30 10:00:00", "2026-13-01 00:00:00", "1985-05-05 05:05:05",
          "2099-01-01 00:00:00", " 2026-07-03 14:05:09", "2026-7-3 14:05:09", "2026/07/03 14:05:09",
          "2026-07-03T14:05:09", "２０２６-07-03 14:05:09", "2026-07-03 24:00:00", "(跳过)", "",
          "not a date", "2026-07-03", "2024-02-29 23:59:59", "2026-11-23 23:59:59",
          "2026-07-03 23:59:60", "0999-01-01 00:00:00"]


@SETTINGS
@given(cells=st.lists(st.one_of(st.sampled_from(_TIMES), st.none()), min_size=1, max_size=40),
       allow_future=st.booleans())
def test_datetime_fast_path_agrees_with_the_general_parser(cells, allow_future):
    """Arrow's one-pass parse of ``YYYY-MM-DD HH:MM:SS`` cells gives exactly the times and
    reasons of the per-distinct-value pandas parser (``format="mixed"``) it short-cuts."""
    from datetime import datetime

    from cxlab.io._validate import _parse_datetime_distinct, parse_datetime

    raw = pd.Series(cells, dtype="str")
    kw = {"missing": frozenset({"", "(跳过)"}), "now": datetime(2026, 11, 23, 12),
          "allow_future": allow_future}
    got_ts, got_why = parse_datetime(raw, **kw)
    exp_ts, exp_why = _parse_datetime_distinct(raw, **kw)
    pd.testing.assert_series_equal(got_ts, exp_ts)
    pd.testing.assert_series_equal(got_why, exp_why)


def test_datetime_fast_path_takes_only_exact_iso_cells():
    """The fast path must actually run for canonical cells (else the agreement test above
    compares the general parser with itself) and leave every variant to the general parser."""
    from cxlab.io._validate import _iso_fast

    taken = dict(zip(_TIMES, _iso_fast(pd.Series(_TIMES, dtype="str"), frozenset({"(跳过)"}))[1],
                     strict=True))
    assert {t for t, ok in taken.items() if ok} == {
        "2026-07-03 14:05:09", "1985-05-05 05:05:05", "2099-01-01 00:00:00",
        "2024-02-29 23:59:59", "2026-11-23 23:59:59", "0999-01-01 00:00:00"}


@SETTINGS
@given(cells=st.lists(st.one_of(st.sampled_from(["R1", "R2", "r1", "", " R1", "中文"]),
                                st.none()), max_size=40))
def test_repeated_ids_agree_with_pandas_duplicated(cells):
    """The one-pass repeat mask used for response ids is pandas' ``duplicated(keep="first")``
    of the present values (missing ids are never repeats; the first of each value is not)."""
    from cxlab.io._validate import repeated

    values = pd.Series(cells, dtype="string")
    expected = (values.duplicated(keep="first") & values.notna()).to_numpy()
    assert repeated(values).tolist() == expected.tolist()
    # a big file's text columns are Arrow arrays in chunks (values first seen in later chunks)
    import pyarrow as pa

    whole = pa.array(cells, type=pa.string())
    cuts = sorted({0, len(cells) // 3, len(cells) // 2, len(cells)})
    chunked = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array(
        [whole.slice(a, b - a) for a, b in zip(cuts, cuts[1:], strict=False)], type=pa.string())))
    assert repeated(chunked).tolist() == expected.tolist()


@SETTINGS
@given(stamps=st.lists(st.one_of(st.datetimes(min_value=dt.datetime(1, 1, 1)),
                                 st.none()), max_size=30))
def test_period_of_is_year_and_quarter(stamps):
    """``period_of`` (labels made once per distinct quarter) is ``{year}Q{quarter}`` of each
    timestamp, ``<NA>`` where missing."""
    from cxlab.io._validate import period_of

    ts = pd.Series(pd.array(stamps, dtype="datetime64[us]"))
    expected = [None if t is None else f"{t.year}Q{(t.month - 1) // 3 + 1}" for t in stamps]
    got = period_of(ts)
    assert str(got.dtype) == "string"
    assert [None if v is pd.NA else v for v in got.tolist()] == expected


_IDS = ["R001", " R002", "R002", "Ｒ003", "007", "", "  ", "(跳过)", "a  b", "a b", "中文", "x\ty",
        "1.0", "C000123 "]


@SETTINGS
@given(cells=st.lists(st.one_of(st.sampled_from(_IDS), st.none()), min_size=1, max_size=30))
def test_id_texts_arrow_path_agrees_with_the_distinct_value_path(cells):
    """Ids of an Arrow text column normalised in Arrow (plain ASCII) equal the per-distinct
    ``norm_text`` path, including missing tokens and text that NFKC or whitespace changes."""
    from cxlab.io._validate import _id_texts_distinct, id_texts

    raw = pd.Series(cells, dtype="str")
    missing = frozenset({"(跳过)", "-2"})
    pd.testing.assert_series_equal(id_texts(raw, missing), _id_texts_distinct(raw, missing))
    obj = pd.Series(cells, dtype=object)
    pd.testing.assert_series_equal(id_texts(obj, missing), _id_texts_distinct(obj, missing))


@SETTINGS
@given(cells=st.lists(st.one_of(st.integers(-5, 10**12), st.none()), min_size=1, max_size=30))
def test_id_texts_of_integer_ids_agree_with_the_distinct_value_path(cells):
    """Integer ids (a numeric id column read as Int64 or int64) become str(int), "-2"-style
    missing tokens included, as on the per-distinct path."""
    from cxlab.io._validate import _id_texts_distinct, id_texts

    missing = frozenset({"-2", "-3", ""})
    for raw in (pd.Series(cells, dtype="Int64"),
                pd.Series([0 if c is None else c for c in cells], dtype="int64")):
        pd.testing.assert_series_equal(id_texts(raw, missing), _id_texts_distinct(raw, missing))


@SETTINGS
@given(values=st.lists(st.one_of(st.sampled_from(["1", "27", "R9", "中"]), st.none()),
                       min_size=1, max_size=20),
       period=st.sampled_from(["2026Q3", None]),
       template=st.sampled_from(["wjx-{period}-{value}", "{value}", "id{value}!", "{value:>5}",
                                 "{period}/{value!r}"]))
def test_response_id_template_join_agrees_with_str_format(values, period, template):
    """The Arrow join of simple templates gives what ``str.format`` gives row by row (a
    missing period formats as ""; a missing value gives a missing id)."""
    from cxlab.io._mapping import fill_template

    value = pd.Series(values, dtype="string")
    per = pd.Series([period] * len(values), dtype="string")
    got = fill_template(template, value=value, period=per)
    expected = pd.Series([pd.NA if v is None else template.format(value=v, period=period or "")
                          for v in values], dtype="string")
    pd.testing.assert_series_equal(got, expected)
