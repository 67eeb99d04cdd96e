"""Take the README's screenshots from the demo: Today, the story client's card, the
fitting-room pager and the agenda, at phone size (390x844), into docs/screenshots/.

Run against a seeded demo database (`make screenshots` seeds one if it is empty). It
serves the app itself on a free loopback port in a thread, signs in as the story
client's associate through the login page, and drives Debian's chromium with
Playwright (a development dependency), as the browser tests do.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.management.base import BaseCommand, CommandError
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.core.wsgi import get_wsgi_application

from clienteling.demo import data
from customers.models import Customer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE = {"width": 390, "height": 844}


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


class Command(BaseCommand):
    help = "Write the README's phone screenshots (Today, card, pager, agenda) from the demo."

    def add_arguments(self, parser):
        parser.add_argument(
            "--out",
            default=str(Path(settings.BASE_DIR) / "docs" / "screenshots"),
            help="Folder for the PNG files (default: docs/screenshots).",
        )

    def handle(self, *args, out: str, **options):
        try:
            from playwright.sync_api import sync_playwright
        except ImportError as error:  # pragma: no cover (a development dependency)
            raise CommandError(
                "Install the development dependencies: pip install -e .[dev]"
            ) from error
        story = data.STORY_CLIENT
        claire = Customer.objects.filter(
            first_name=story.first_name, last_name=story.last_name
        ).first()
        if claire is None:
            raise CommandError("No demo here: run `manage.py seed_demo` first.")
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        # Playwright's sync API runs an event loop in this thread; the ORM calls above
        # are done, the server thread has its own connection.
        os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        os.environ.setdefault("XDG_CONFIG_HOME", str(Path(settings.BASE_DIR) / "var" / "chromium"))
        server = ThreadedWSGIServer(("127.0.0.1", 0), _QuietHandler, allow_reuse_address=False)
        server.set_app(StaticFilesHandler(get_wsgi_application()))
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{server.server_port}"
        shots = [
            ("today", "/"),
            ("card", f"/clients/{claire.pk}/"),
            ("pager", "/rooms/pages/"),
            ("agenda", "/appointments/"),
        ]
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
                context = browser.new_context(
                    viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
                )
                page = context.new_page()
                page.goto(f"{base}/login/")
                page.get_by_label("Username").fill(data.STORY_ASSOCIATE)
                page.get_by_label("Password").fill(data.DEMO_PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url(f"{base}/")
                for name, path in shots:
                    page.goto(f"{base}{path}")
                    page.wait_for_load_state("load")
                    page.wait_for_timeout(400)  # the card loads its appointments section
                    target = folder / f"{name}.png"
                    page.screenshot(path=str(target))
                    self.stdout.write(f"  {target}")
                browser.close()
        finally:
            server.shutdown()
            server.server_close()
        self.stdout.write(self.style.SUCCESS(f"{len(shots)} screenshots in {folder}"))
