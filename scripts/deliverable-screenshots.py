"""Regenerate the README screenshots of a deck slide and a tab-book sheet.

    PYTHONPATH=. .venv/bin/python scripts/deliverable-screenshots.py [--warehouse data/warehouse]
        [--period 2026Q3] [--branch SH01]

Writes docs/img/deck-slide.png (the company deck's KPI-card slide) and docs/img/tabbook-sheet.png
(the NPS sheet of a branch's tab book), both rendered the way a reader without Office sees them:
LibreOffice (headless) to PDF, poppler's pdftoppm to PNG; the sheet is cropped to its content.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parents[1]


def _pdf(src: Path, out: Path) -> Path:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise SystemExit("LibreOffice is missing: run scripts/system-deps.sh")
    subprocess.run([soffice, f"-env:UserInstallation=file://{out / 'lo-profile'}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(out), str(src)], check=True,
                   capture_output=True, timeout=300)
    return out / (src.stem + ".pdf")


def _page_with(pdf: Path, *needles: str) -> int:
    """The first page (1-based) whose text contains every one of ``needles``."""
    from pypdf import PdfReader

    for i, page in enumerate(PdfReader(pdf).pages, start=1):
        text = (page.extract_text() or "").replace(" ", "")
        if all(n in text for n in needles):
            return i
    raise SystemExit(f"{pdf.name}: no page with {needles!r}")


def _png(pdf: Path, page: int, dpi: int, dest: Path, crop: bool) -> None:
    stem = dest.with_suffix("")
    subprocess.run(["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), "-png",
                    "-singlefile", str(pdf), str(stem)], check=True, timeout=120)
    if crop:
        img = Image.open(dest).convert("RGB")
        box = ImageOps.invert(img.convert("L")).point(lambda v: 255 if v > 8 else 0).getbbox()
        if box:
            pad = 12
            img = img.crop((max(box[0] - pad, 0), max(box[1] - pad, 0),
                            min(box[2] + pad, img.width), min(box[3] + pad, img.height)))
            img.save(dest, optimize=True)


def main() -> None:
    from cxlab.deliver import deck, tabbook
    from cxlab.report import build_aggregates, load_context

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warehouse", type=Path, default=ROOT / "data" / "warehouse")
    ap.add_argument("--period", default="2026Q3")
    ap.add_argument("--branch", default="SH01")
    args = ap.parse_args()
    img = ROOT / "docs" / "img"
    build_aggregates(args.warehouse, params_dir=ROOT / "params")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        company = load_context(period=args.period, warehouse=args.warehouse,
                               params_dir=ROOT / "params")
        pdf = _pdf(deck(company, tmp), tmp)
        _png(pdf, _page_with(pdf, "核心指标与目标"), 80, img / "deck-slide.png", crop=False)
        branch = load_context(period=args.period, branch=args.branch, warehouse=args.warehouse,
                              params_dir=ROOT / "params")
        pdf = _pdf(tabbook(branch, tmp), tmp)
        label = branch.codebook.item(branch.codebook.nps_item).label
        page = _page_with(pdf, label.replace(" ", "")[:12], "基数提示")  # not the 目录 page
        _png(pdf, page, 110, img / "tabbook-sheet.png", crop=True)
    print(f"wrote {img / 'deck-slide.png'} and {img / 'tabbook-sheet.png'}")


if __name__ == "__main__":
    main()
