"""cxlab.datasets."""
