"""Name search forgives typos on SQLite (the demo) too, without pg_trgm.

The ranking is a pure function, tested directly; one test runs the real search on a real
SQLite database (a fresh process: migrate, add clients, search), as the demo does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from customers.selectors import names_ranked

ROOT = Path(__file__).resolve().parents[2]

BOOK = [
    (1, "claire dubois"),
    (2, "claire martin"),
    (3, "clara dupont"),
    (4, "david dubois-leroy"),
    (5, "chloé durand"),
]


def test_typos_in_every_word_still_find_the_client():
    assert names_ranked(["clare", "dubios"], BOOK) == [1]
    assert names_ranked(["dubios", "clare"], BOOK) == [1]


def test_parts_of_words_match_as_well_as_whole_words():
    assert names_ranked(["claire"], BOOK) == [1, 2]  # "clara" is too far (0.73)
    assert names_ranked(["dub"], BOOK) == [1, 4]
    assert names_ranked(["ois"], BOOK) == [1, 4]


def test_each_part_of_a_double_barrelled_name_is_a_word():
    assert names_ranked(["leroi"], BOOK) == [4]
    assert names_ranked(["dubios"], BOOK) == [1, 4]


def test_every_typed_word_must_match_some_word_of_the_name():
    assert names_ranked(["claire", "smith"], BOOK) == []
    assert names_ranked(["claire", "dupont"], BOOK) == []
    assert names_ranked(["clara", "dupont"], BOOK) == [3]


def test_the_closer_name_ranks_first_and_ties_keep_the_lists_order():
    # "claira": "clara" 0.91, "claire" 0.83 (Dubois before Martin, as listed).
    assert names_ranked(["claira"], BOOK) == [3, 1, 2]
    assert names_ranked(["dubois"], [(9, "anne dubos"), *BOOK]) == [1, 4, 9]


SCRIPT = """
from django.core.management import call_command
call_command("migrate", verbosity=0)
from clienteling.stores.models import Store
from customers.models import Customer
from customers.selectors import customer_search
store = Store.objects.create(name="Soho", code="soho", time_zone="UTC", country="US")
for first, last in [("Claire", "Dubois"), ("Claire", "Martin"), ("Daniel", "Dubreuil"),
                    ("Zoe", "Clarke")]:
    Customer.objects.create(first_name=first, last_name=last, home_store=store)
everyone = Customer.objects.all()
for text in ["clare dubios", "Claire", "dubios", "klaire", "claire smith"]:
    print(text, "=", ",".join(c.last_name for c in customer_search(everyone, text)))
"""


def test_the_real_search_on_sqlite_forgives_typos(tmp_path):
    # Only what a shell needs: the test run's PostgreSQL settings must not leak in.
    clean = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--verbosity=0", "-c", SCRIPT],
        cwd=ROOT,
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "clienteling.settings",
            "DEBUG": "true",
            "DATABASE_URL": "sqlite:///:memory:",
            "VAR_DIR": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    found = dict(line.split(" = ") for line in result.stdout.splitlines() if " = " in line)
    assert found == {
        "clare dubios": "Dubois",
        "Claire": "Dubois,Martin,Clarke",  # the exact word first, then one letter off
        "dubios": "Dubois",
        "klaire": "",  # a typo in the first letter is not forgiven (narrowing by initial)
        "claire smith": "",
    }
