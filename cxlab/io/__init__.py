"""cxlab.io: the only code that touches files — readers, mapping, validation, warehouse.

Raw exports → :func:`ingest` (map to the codebook, validate, quarantine bad rows, pseudonymise,
write the parquet warehouse) → :func:`load_responses` / :func:`load_table` / :func:`query`.
"""

from cxlab.io._ingest import FileResult, IngestReport, ingest
from cxlab.io._mapping import MappingError, canonical_columns, resolve_columns
from cxlab.io._pseudonym import load_pseudonym_key, pseudonymise
from cxlab.io._sources import Sources, load_sources
from cxlab.io._warehouse import (
    connect,
    load_ingest_log,
    load_metadata,
    load_responses,
    load_table,
    query,
)

try:  # the readers land separately
    from cxlab.io._errors import ExportError
    from cxlab.io._readers import read_export, split_multiselect
except ImportError:  # pragma: no cover
    pass

__all__ = [
    "ExportError", "FileResult", "IngestReport", "MappingError", "Sources", "canonical_columns",
    "connect", "ingest", "load_ingest_log", "load_metadata", "load_pseudonym_key", "load_responses",
    "load_sources", "load_table", "pseudonymise", "query", "read_export", "resolve_columns",
    "split_multiselect",
]
