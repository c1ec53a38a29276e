"""cxlab.report."""
