"""Notebook → self-contained HTML (nbconvert API) → PDF (WeasyPrint), written atomically."""

from __future__ import annotations

import gc
import logging
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # nbformat imports jsonschema's format checkers (~2 s): not in report kernels
    import nbformat

__all__ = ["atomic_write", "html_to_pdf", "load_exporters", "notebook_to_html", "report_css"]

_TEMPLATES = resources.files("cxlab.report") / "templates"


def report_css() -> str:
    """The report stylesheet (screen and print), shared by reports and the index page."""
    return (_TEMPLATES / "report.css").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _exporter():
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class ReportExporter(HTMLExporter):
        """nbconvert's HTML exporter without its last step, which parses the finished page
        with BeautifulSoup to give images without ``alt`` a placeholder and JupyterLab cells a
        ``tabindex``, and serialises it again. Report figures carry their own alt text
        (``cxlab.report.tables.figure``) and the ``cxlab`` template has no lab cells, so the
        pass changes nothing but the serialisation, and it was ~80 % of a report's HTML export
        (0.12 of 0.15 s a branch report). The page is the same document: tested against
        nbconvert's own exporter."""

        def from_notebook_node(self, nb, resources=None, **kw):
            # HTMLExporter.from_notebook_node up to the BeautifulSoup pass (nbconvert 7)
            info = nb.metadata.get("language_info", {})
            lexer = info.get("pygments_lexer", info.get("name", None))
            highlight = self.filters.get("highlight_code",
                                         Highlight2HTML(pygments_lexer=lexer, parent=self))
            resources = self._init_resources(resources)
            data_types = WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self,
                                               resources=resources)
            self.register_filter("highlight_code", highlight)
            self.register_filter("filter_data_type", data_types)
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    return _configured(ReportExporter)


def _configured(exporter_class):
    """An ``exporter_class`` (an nbconvert HTML exporter) set up for report pages."""
    from nbconvert.preprocessors import TagRemovePreprocessor
    from traitlets.config import Config

    cfg = Config()
    cfg.TagRemovePreprocessor.remove_cell_tags = {"remove_cell", "parameters", "injected-parameters"}
    cfg.TagRemovePreprocessor.enabled = True
    exporter = exporter_class(
        config=cfg,
        template_name="cxlab",
        extra_template_basedirs=[str(_TEMPLATES)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    exporter.register_preprocessor(TagRemovePreprocessor(config=cfg), enabled=True)
    return exporter


def notebook_to_html(nb: nbformat.NotebookNode | str | Path, *, title: str,
                     version: str = "") -> str:
    """Render an executed notebook as one self-contained HTML page without code cells.

    Figures are embedded as data URIs (they are in the notebook's outputs), the page has
    ``lang="zh-CN"``, a CJK font stack, print CSS and no scripts; ASCII ``:,;()`` touching
    Chinese text are full-width (:func:`cxlab.report._typography.typeset`).
    """
    import nbformat

    if not isinstance(nb, nbformat.NotebookNode):
        nb = nbformat.read(str(nb), as_version=4)
    from cxlab.report._typography import typeset

    body, _ = _exporter().from_notebook_node(
        nb, resources={"report_title": title, "cxlab_css": report_css(), "cxlab_version": version}
    )
    # full-width punctuation beside Chinese in every text node of the page: the <title>, the
    # title line and notes of every report kind, not only the sections' bodies
    return typeset(_NON_ASCII_REF.sub(_decode_ref, body))


#: nbconvert's heading anchors (``add_anchor``) serialise headings with ElementTree as ASCII, so
#: Chinese headings come out as ``&#25253;…`` references; its BeautifulSoup pass used to decode
#: them. Only references to non-ASCII characters are decoded: the markup-significant ones
#: (``<``, ``&``, quotes) are ASCII and stay escaped, and escaped text (``&amp;#…``) never matches.
_NON_ASCII_REF = re.compile(r"&#(?:([0-9]{3,7})|[xX]([0-9a-fA-F]{2,6}));")


def _decode_ref(match: re.Match) -> str:
    code = int(match[1]) if match[1] else int(match[2], 16)
    if code < 0x80 or 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
        return match[0]
    return chr(code)


@lru_cache(maxsize=1)
def _pdf_stylesheet():
    import weasyprint

    from cxlab._fonts import pdf_families

    fams = list(pdf_families()) or ["sans-serif"]
    stack = ", ".join(f'"{f}"' for f in fams)
    return weasyprint.CSS(string=f"@page {{ font-family: {stack}; }} "
                                 f"html, body, pre, code, table, th, td {{ font-family: {stack}, sans-serif; }}")


#: Generation-0 threshold of Python's cyclic garbage collector while WeasyPrint renders.
#: A 20-page report allocates about 300,000 tracked objects (boxes, computed styles) that stay
#: alive until the PDF is written; at the default threshold (700) the collector walks the growing
#: heap hundreds of times. At 100,000 it runs a few times per report, and cyclic garbage is
#: still collected (peak RSS of a process rendering a branch report ≈ 220 MiB instead of
#: ≈ 140 MiB).
PDF_GC_THRESHOLD = 100_000


@contextmanager
def _gc_threshold(gen0: int) -> Iterator[None]:
    """Raise the collector's generation-0 threshold to ``gen0`` for the block, then restore it."""
    old = gc.get_threshold()
    gc.set_threshold(max(gen0, old[0]), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def html_to_pdf(html: str, path: str | Path, *, base_url: str | None = None) -> Path:
    """Write ``html`` as a PDF with WeasyPrint (no browser needed), atomically."""
    return atomic_write(path, _pdf_bytes(html, base_url=base_url))


def _pdf_bytes(html: str, base_url: str | None = None) -> bytes:
    import weasyprint

    # WeasyPrint/fontTools are chatty at INFO/WARNING for harmless CSS they skip.
    for name in ("weasyprint", "fontTools"):
        logging.getLogger(name).setLevel(logging.ERROR)
    with _gc_threshold(PDF_GC_THRESHOLD):
        return weasyprint.HTML(string=html, base_url=base_url).write_pdf(
            stylesheets=[_pdf_stylesheet()])


def load_exporters() -> None:
    """Load what a process's first HTML export and PDF would otherwise load on the way:
    nbconvert and its report template, WeasyPrint, the PDF fonts (a one-line page through
    WeasyPrint initialises fontconfig and Pango's font map). A failure here is left for the
    export that needs the exporter to report."""
    try:
        _exporter()
        _pdf_bytes('<html lang="zh-CN"><p>客户体验 CX 2026</p></html>')
    except Exception:  # noqa: BLE001, S110 - the real export raises it again, with context
        pass


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | Path, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` so that a reader never sees a half-written file.

    The bytes go to a temporary file in the same folder, are flushed to disk, then renamed over
    the target (``os.replace`` is atomic on POSIX).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp creates 0600; reports are for readers
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
