"""Benchmarks: each measures incity's way beside a baseline in one run (`make bench`)."""
