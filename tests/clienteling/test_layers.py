"""The plan of the house (ARCHITECTURE.md, "Layers"), held by a test: each module's
imports (at the top or inside functions) are read from its source with `ast`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# The bottom floor of clienteling/: what every app may import. The integrations app's own
# modules (API keys and their scopes) are plumbing of the API, so bottom too; connectors
# (integrations/<name>/) map the outside world onto the apps' services, at the top.
BOTTOM = (
    "clienteling.core",
    "clienteling.stores",
    "clienteling.catalog",
    "clienteling.channels",
    "clienteling.integrations.auth",
    "clienteling.integrations.models",
    # Staff devices and Web Push: any app rings a phone through it; it knows no app.
    "clienteling.push",
)
BOTTOM_PACKAGES = [
    "clienteling.core",
    "clienteling.stores",
    "clienteling.catalog",
    "clienteling.channels",
    "clienteling.integrations",
    "clienteling.push",
]


def _modules(package: str) -> list[tuple[str, Path]]:
    folder = ROOT / package.replace(".", "/")
    return [
        (package + "." + ".".join(path.relative_to(folder).with_suffix("").parts), path)
        for path in sorted(folder.rglob("*.py"))
        if "migrations" not in path.parts
        # A connector (integrations/<name>/) is top floor: it calls the apps' services.
        and not (package == "clienteling.integrations" and path.parent != folder)
    ]


def _imports(path: Path, module: str) -> set[str]:
    """Absolute names of everything a module imports, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _offending(packages: list[str], allowed, forbidden) -> list[str]:
    wrong = []
    for package in packages:
        for module, path in _modules(package):
            for name in sorted(_imports(path, module)):
                if forbidden(name) and not allowed(name):
                    wrong.append(f"{module} imports {name}")
    return wrong


def test_the_bottom_imports_no_domain_app_and_nothing_of_the_top():
    top = ("customers", "appointments")
    wrong = _offending(
        BOTTOM_PACKAGES,
        allowed=lambda name: name.startswith(BOTTOM) or name.startswith(tuple(BOTTOM_PACKAGES)),
        forbidden=lambda name: name.split(".")[0] in top or name.startswith("clienteling."),
    )
    assert wrong == []


def test_domain_apps_import_only_the_bottom_of_clienteling():
    wrong = _offending(
        ["customers", "appointments"],
        allowed=lambda name: name.startswith(BOTTOM),
        forbidden=lambda name: name == "clienteling" or name.startswith("clienteling."),
    )
    assert wrong == []


def test_customers_never_imports_appointments():
    wrong = _offending(
        ["customers"],
        allowed=lambda name: False,
        forbidden=lambda name: name.split(".")[0] == "appointments",
    )
    assert wrong == []


@pytest.mark.parametrize("model", ["MessageTemplate", "Message", "Reason"])
def test_appointments_asks_customers_services_for_messages_and_reasons(model):
    """Outside its models (a foreign key to a client is fine), appointments imports no
    customers model about outreach or reasons: it calls customers' services."""
    wrong = [
        f"{module} imports {model}"
        for module, path in _modules("appointments")
        if ".models" not in module and f"customers.models.{model}" in _imports(path, module)
    ]
    assert wrong == []


def test_the_checks_see_an_offending_import(tmp_path):
    # The reader resolves relative imports and sees imports inside functions.
    path = tmp_path / "views.py"
    path.write_text("def f():\n    from ..services import x\n    import appointments.models\n")
    assert _imports(path, "customers.views.views") >= {
        "customers.services.x",
        "appointments.models",
    }
