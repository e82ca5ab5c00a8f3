"""Demo data for ``make run``: never imported by a request, only by the ``seed_demo`` command."""
