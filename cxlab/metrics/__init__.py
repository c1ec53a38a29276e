"""cxlab.metrics."""
