"""``cxlab publish``: one site per audience, holding only what that audience may read.

The rendered tree ``reports/<period>/<code>.html|.pdf`` (plus any other file named after a unit,
``<code>.xlsx``, ``<code>-tables.xlsx`` …) is split by reader: the owners of a unit read that
unit and every unit below it; the company's owners read everything. Each audience gets
``DIR/<code>/index.html`` and a copy of exactly those files, nothing else.

What "nothing of a unit outside the scope" means here: no file of another unit, and no other
unit's name or code in the audience's index. The reports themselves follow the report rules: a
branch report compares its branch with the company and ranks the branches through aggregates
only (counts, NPS, CSAT per branch, see ``cxlab.report._aggregates``); it never holds another
branch's respondent-level rows or verbatims.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from pathlib import Path

import pandas as pd

from cxlab.errors import CxlabError

__all__ = ["PublishSummary", "publish", "report_files"]

MARKER = ".cxlab-publish"
_PERIOD = re.compile(r"^[0-9]{4}(Q[1-4]|M[0-9]{2}|H[12])?$|^[0-9]{4}-[0-9]{2}$")


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishSummary:
    """What :func:`publish` wrote: files per audience, encrypted PDFs, files left out."""

    out: Path
    audiences: dict[str, int] = field(default_factory=dict)   # code -> files copied
    encrypted: dict[str, int] = field(default_factory=dict)   # code -> PDFs with a password
    unassigned: list[str] = field(default_factory=list)       # rendered files of no known unit

    def summary(self) -> str:
        lines = [f"Published {len(self.audiences)} audience sites under {self.out}:"]
        for code, n in self.audiences.items():
            enc = self.encrypted.get(code, 0)
            lines.append(f"  {code}: {n} files" + (f" ({enc} PDF with password)" if enc else ""))
        if self.unassigned:
            lines.append(f"Not published (no unit of the organisation): "
                         f"{', '.join(self.unassigned)}")
        return "\n".join(lines)


def _unit_of(stem: str, codes: set[str]) -> str | None:
    """The unit a rendered file belongs to: its stem is the code, or starts with the code
    followed by ``-``, ``_`` or ``.`` (the longest matching code wins)."""
    if stem in codes:
        return stem
    hits = [c for c in codes if stem.startswith(c) and stem[len(c)] in "-_."]
    return max(hits, key=len) if hits else None


def report_files(reports_dir: str | Path, codes: set[str]) -> tuple[pd.DataFrame, list[str]]:
    """Rendered files under ``reports_dir/<period>/`` with the unit each belongs to.

    Returns
    -------
    (DataFrame, list)
        ``period, unit, path, fmt`` for every file that belongs to a unit of ``codes``, and the
        relative paths of the files that belong to none (never published).
    """
    root = Path(reports_dir)
    if not root.is_dir():
        raise CxlabError(f"{root}: no rendered reports (run `cxlab reports` first)")
    rows, unassigned = [], []
    for period_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        if not _PERIOD.match(period_dir.name):
            continue
        for f in sorted(period_dir.iterdir()):
            if not f.is_file() or f.name.startswith("."):
                continue
            unit = _unit_of(f.name.split(".")[0], codes)
            if unit is None:
                unassigned.append(str(f.relative_to(root)))
                continue
            rows.append({"period": period_dir.name, "unit": unit, "path": f,
                         "fmt": f.suffix.lstrip(".").lower()})
    return pd.DataFrame(rows, columns=["period", "unit", "path", "fmt"]), unassigned


def _encrypt_pdf(src: Path, dst: Path, password: str) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(src))
    writer.encrypt(user_password=password, owner_password=None, algorithm="AES-256")
    with dst.open("wb") as fh:
        writer.write(fh)


def _kpis(warehouse: Path | None, org, scope: list[str]) -> pd.DataFrame | None:
    """NPS, CSAT and n per period for every unit of ``scope`` (sums of its branches:
    :func:`cxlab.report._units.unit_kpis`, weighted when the aggregates are, as the reports)."""
    if warehouse is None:
        return None
    from cxlab.report._aggregates import load_aggregates
    from cxlab.report._units import unit_kpis

    try:
        agg = load_aggregates(warehouse)
    except (CxlabError, OSError):
        return None
    k = unit_kpis(agg, org)
    k = k[k["unit"].isin(scope) & (k["n"].fillna(0) > 0)]
    if k.empty:
        return None
    return k.set_index(["period", "unit"])


def _fmt(v: float, n: float, min_base: int) -> str:
    if pd.isna(v) or n < min_base:
        return '<span class="cx-muted">样本不足</span>'
    return f"{v:.1f}"


_FMT_LABEL = {"html": "网页", "pdf": "PDF", "xlsx": "Excel", "pptx": "PPT", "csv": "CSV"}


def _index_html(org, code: str, scope: list[str], files: pd.DataFrame, kpis,
                encrypted: bool, *, min_base: int = 30) -> str:
    from cxlab.report._export import report_css

    company = org.company.code
    depth = {company: 0} | {u.code: len(p) + 1 for u, p in org.walk()}
    base = depth[code]
    title = f"{org.name_of(code)} 客户体验报告"
    parts = [f"<h1>{escape(title)}</h1>",
             f'<p class="cx-note">本页只列出{escape(org.name_of(code))}及其下属机构的报告'
             f"(共 {len(scope)} 个机构);样本量不足 {min_base} 的结果不予显示。"
             + ("PDF 已加密,请使用另行通知的密码打开。" if encrypted else "") + "</p>"]
    for period in sorted(files["period"].unique(), reverse=True):
        sub = files[files["period"] == period]
        parts.append(f"<h2>{escape(period)}</h2>")
        parts.append("<table><thead><tr><th>机构</th><th>样本量</th><th>NPS</th>"
                     "<th>CSAT(%)</th><th>报告</th></tr></thead><tbody>")
        for unit in scope:
            mine = sub[sub["unit"] == unit].sort_values("path")
            has_kpis = kpis is not None and (period, unit) in kpis.index
            if mine.empty and not has_kpis:
                continue
            indent = "　" * (depth[unit] - base)
            grouping = unit == company or not org.unit(unit).is_branch
            name = escape(org.name_of(unit) + ("(全公司)" if unit == company else
                                               "(合计)" if grouping else ""))
            name = f"<strong>{name}</strong>" if grouping else name
            links = " · ".join(
                f'<a href="{escape(period)}/{escape(p.name)}">'
                f'{escape(_FMT_LABEL.get(fmt, fmt.upper()))}</a>'
                for p, fmt in zip(mine["path"], mine["fmt"], strict=True))
            links = links or '<span class="cx-muted">未生成</span>'
            n = nps = csat = '<span class="cx-muted">—</span>'
            if has_kpis:
                k = kpis.loc[(period, unit)]
                n = str(int(k["n"]))
                nps, csat = _fmt(k["nps"], k["n"], min_base), _fmt(k["csat"], k["csat_n"], min_base)
            parts.append(f"<tr><td>{indent}{name}</td><td>{n}</td><td>{nps}</td>"
                         f"<td>{csat}</td><td>{links}</td></tr>")
        parts.append("</tbody></table>")
    parts.append(f'<p class="cx-provenance">生成时间 {datetime.now():%Y-%m-%d %H:%M}</p>')
    from cxlab.report._typography import typeset

    return typeset('<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
                   '<meta name="viewport" content="width=device-width, initial-scale=1.0">'
                   f"<title>{escape(title)}</title><style>{report_css()}</style></head>"
                   '<body><main class="report">' + "\n".join(parts) + "</main></body></html>")


def _fresh_folder(folder: Path) -> None:
    """Empty an audience folder written by an earlier publish; refuse to touch anything else."""
    if folder.exists():
        if not (folder / MARKER).is_file():
            raise CxlabError(f"{folder}: exists and was not written by `cxlab publish`; "
                             "choose another --out or remove it")
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / MARKER).write_text("written by cxlab publish; emptied on every publish\n",
                                 encoding="utf-8")


def publish(reports_dir: str | Path = "reports", out: str | Path = "published", *,
            org=None, params_dir: str | Path = "params", warehouse: str | Path | None = None,
            audiences: list[str] | None = None, env: dict[str, str] | None = None
            ) -> PublishSummary:
    """Write one folder per audience with the reports its owners may read.

    Parameters
    ----------
    reports_dir : path
        The rendered tree, ``<period>/<unit code>.<fmt>`` (``cxlab reports``).
    out : path
        Where the audience folders go: ``out/<code>/index.html`` and ``out/<code>/<period>/…``.
        A folder from an earlier publish is emptied first (files that left the scope go too).
    org : Org, optional
        Default: ``params_dir/org.yaml``.
    warehouse : path, optional
        When given, the index shows n, NPS and CSAT per unit (sums over its branches).
    audiences : list of str, optional
        Only these unit codes (default: the company and every unit of the tree).
    env : mapping, optional
        Where PDF passwords are read (default ``os.environ``): a unit with
        ``pdf_password_env`` gets AES-256 encrypted PDFs; the variable must be set.

    Returns
    -------
    PublishSummary
    """
    from cxlab.config import load_org

    org = org if org is not None else load_org(Path(params_dir) / "org.yaml")
    env = os.environ if env is None else env
    out = Path(out)
    company = org.company.code
    every = org.scope(company)
    if audiences is None:
        audiences = every
    unknown = [a for a in audiences if a not in every]
    if unknown:
        raise CxlabError(f"unknown audience {', '.join(unknown)} (known: {', '.join(every)})")
    files, unassigned = report_files(reports_dir, set(every))
    if files.empty:
        raise CxlabError(f"{reports_dir}: no rendered report of any unit")
    # check every password first: nothing is published when one is missing
    passwords: dict[str, str] = {}
    for code in audiences:
        var = org.audience(code).pdf_password_env
        if var is not None:
            if not env.get(var):
                raise CxlabError(f"{code}: pdf_password_env {var} (org.yaml) is not set in "
                                 "the environment (set it, or remove pdf_password_env)")
            passwords[code] = env[var]
    wh = Path(warehouse) if warehouse is not None else None
    written: dict[str, int] = {}
    encrypted: dict[str, int] = {}
    for code in audiences:
        scope = org.scope(code)
        mine = files[files["unit"].isin(scope)]
        folder = out / code
        _fresh_folder(folder)
        n_enc = 0
        for r in mine.itertuples(index=False):
            dst = folder / r.period / r.path.name
            dst.parent.mkdir(exist_ok=True)
            if r.fmt == "pdf" and code in passwords:
                _encrypt_pdf(r.path, dst, passwords[code])
                n_enc += 1
            elif r.fmt == "html":  # no link to a report the audience does not receive
                from cxlab.report._nav import restrict_nav

                same = mine[(mine["period"] == r.period) & (mine["fmt"] == "html")]
                stems = {p.stem for p in same["path"]}
                dst.write_text(restrict_nav(r.path.read_text(encoding="utf-8"), stems),
                               encoding="utf-8")
                shutil.copystat(r.path, dst)
            else:
                shutil.copy2(r.path, dst)
        if mine.empty:
            (folder / "index.html").write_text(
                _index_html(org, code, scope, mine, None, False), encoding="utf-8")
        else:
            html = _index_html(org, code, scope, mine, _kpis(wh, org, scope), code in passwords)
            (folder / "index.html").write_text(html, encoding="utf-8")
        written[code] = len(mine)
        if n_enc:
            encrypted[code] = n_enc
    return PublishSummary(out=out, audiences=written, encrypted=encrypted, unassigned=unassigned)
