"""cxlab.io."""
