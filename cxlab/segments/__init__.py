"""cxlab.segments."""
