"""A realistic, deterministic demo data set: three stores, their staff, a catalog, clients.

`build()` loads it (`manage.py seed_demo` and the benchmark both call it), `reset()`
removes it, and `logins_table()` says how to sign in without touching the database.
"""

from __future__ import annotations

from .build import (
    DEFAULT_CUSTOMERS,
    DEFAULT_SEED,
    BuildResult,
    DemoError,
    build,
    existing_data,
    reset,
)
from .data import DEMO_PASSWORD, STORY_ASSOCIATE, STORY_CLIENT
from .logins import logins_table

__all__ = [
    "DEFAULT_CUSTOMERS",
    "DEFAULT_SEED",
    "DEMO_PASSWORD",
    "STORY_ASSOCIATE",
    "STORY_CLIENT",
    "BuildResult",
    "DemoError",
    "build",
    "existing_data",
    "logins_table",
    "reset",
]
