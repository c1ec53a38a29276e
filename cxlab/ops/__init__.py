"""cxlab.ops."""
