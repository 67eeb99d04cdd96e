"""`make bench`: one command that measures what users feel, at scale, against in-run references.

The management command `bench` (clienteling/management/commands/bench.py) calls
`runner.run()`, which:

1. builds or reuses a PostgreSQL data set (`dataset.py`, filled by `manage.py seed_demo`);
2. serves the app with gunicorn and production settings (`server.py`);
3. drives every HTTP scenario of the registry (`scenarios.py`) with wrk on loopback
   (`wrk.py`), after two references measured the same way: a bare view (the ceiling of
   the stack on this machine) and the admin's client search (what a manager has without us);
4. counts SQL queries per request and runs the batch jobs in child processes (`child.py`),
   each with its own settings, timing and peak memory;
5. prints one table and writes the same figures as JSON (`report.py`).

It is a benchmark, not a test: budgets are printed next to the figures, never enforced.
"""
