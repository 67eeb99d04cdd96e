"""The logins table printed after seeding and by `seed_demo --print-logins`."""

from __future__ import annotations

from . import data

ROLE_LABELS = {"associate": "associate", "stylist": "stylist", "manager": "manager (admin)"}


def logins_table() -> str:
    """Every demo login with its role, store and the shared password, plus the story client.

    Built from constants only: printing it needs no database.
    """
    stores = {store.code: store.name for store in data.STORES}
    rows = [("username", "role", "store", "password")]
    rows.append((data.ADMIN_USERNAME, "superuser", "all stores", data.DEMO_PASSWORD))
    rows += [
        (staff.username, ROLE_LABELS[staff.role], stores[staff.store_code], data.DEMO_PASSWORD)
        for staff in data.STAFF
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    lines = [
        "  "
        + "  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  " + "  ".join("-" * width for width in widths))
    story = data.STORY_CLIENT
    lines += [
        "",
        f"  Every login uses the password “{data.DEMO_PASSWORD}”.",
        f"  Story client: {story.first_name} {story.last_name}, Platinum, in {data.STORY_ASSOCIATE}'s book "
        f"at {stores[story.store_code]}: she has only ever bought dresses.",
    ]
    return "\n".join(lines) + "\n"
