"""cxlab benchmarks (``make bench`` → ``python -m bench``): each compares cxlab with the naive
way of doing the same job, prints both timings, their ratio and the target, and the run exits
non-zero when a target is missed. See ``bench/README.md`` for what each measures and the last
figures."""
