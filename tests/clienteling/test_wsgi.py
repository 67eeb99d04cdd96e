"""The WSGI module leaves what it loaded out of the garbage collector's way."""

from __future__ import annotations

import subprocess
import sys


def test_loading_the_application_freezes_what_it_loaded():
    code = (
        "import gc, clienteling.wsgi as w; "
        "assert callable(w.application); "
        "print(gc.get_freeze_count())"
    )
    frozen = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    # Django and the apps: tens of thousands of objects, no longer scanned by each collection.
    assert int(frozen) > 20_000
