"""The benchmark harness: a realistic data generator and in-process, floor, EXPLAIN and load benchmarks.

Run ``make bench`` or ``python -m bench --help``; see bench/README.md.
"""

TENANT_SLUG = "bench"
DATABASE_NAME = "voice_bench"
