"""cxlab.io: the only code that touches files — readers, mapping, validation, warehouse.

Raw exports → :func:`read_export` → :func:`ingest` (map to the codebook with
``params/sources.yaml``, validate, quarantine bad rows, pseudonymise customer ids, drop personal
data, write the parquet warehouse atomically) → :func:`load_responses` / :func:`load_table` /
:func:`query` / :func:`connect` (DuckDB).
"""

from cxlab.io._draft import DraftResult, draft_params
from cxlab.io._errors import ExportError
from cxlab.io._ingest import FileResult, IngestReport, ingest
from cxlab.io._mapping import MappingError, canonical_columns, canonical_dtypes, resolve_columns
from cxlab.io._multiselect import option_name, split_multiselect
from cxlab.io._pseudonym import load_pseudonym_key, pseudonymise
from cxlab.io._quarantine import neutralise_formulas
from cxlab.io._readers import read_export
from cxlab.io._sources import Sources, load_sources
from cxlab.io._warehouse import (
    TABLES,
    connect,
    load_ingest_log,
    load_metadata,
    load_responses,
    load_table,
    query,
    recover,
)

__all__ = [
    "TABLES", "DraftResult", "ExportError", "FileResult", "IngestReport", "MappingError", "neutralise_formulas", "Sources",
    "canonical_columns", "canonical_dtypes", "connect", "draft_params", "ingest", "load_ingest_log",
    "load_metadata", "load_pseudonym_key", "load_responses", "load_sources", "load_table",
    "pseudonymise", "query", "read_export", "recover", "resolve_columns", "option_name", "split_multiselect",
]
