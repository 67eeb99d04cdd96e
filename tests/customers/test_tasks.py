"""Work done by real Celery workers on Redis: reasons, reminders, and delivery that survives
a stopped broker and a killed worker."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from clienteling.integrations.models import ALL_SCOPES, IntegrationToken
from customers.models import Reason
from customers.tasks import reasons_refresh_all
from tests.conftest import running_worker, wait_for
from tests.factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.worker


def test_an_ingested_big_order_becomes_a_thank_you_through_the_worker(
    celery_worker, store, integration
):
    CustomerFactory(first_name="Claire", home_store=store, pos_customer_id="C-1")
    ProductFactory(sku="DRS-1", price=Decimal("890"))
    client = APIClient()
    _, key = IntegrationToken.issue(user=integration, name="pos", scopes=ALL_SCOPES)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    response = client.post(
        "/api/v1/orders/bulk/",
        {
            "orders": [
                {
                    "channel": "store",
                    "external_id": "S-1",
                    "customer": {"source": "pos", "external_id": "C-1"},
                    "store": store.code,
                    "placed_at": timezone.now().isoformat(),
                    "total": "890.00",
                    "lines": [{"sku": "DRS-1", "unit_price": "890.00"}],
                }
            ]
        },
        format="json",
    )

    assert response.status_code == 200
    reason = wait_for(lambda: Reason.objects.filter(kind="thank_you").first())
    assert reason.why.startswith("Claire spent $890 at SoHo")
    assert Reason.objects.filter(kind="welcome").exists()


def test_the_hourly_refresh_runs_on_the_worker(celery_worker, store):
    import datetime

    CustomerFactory(
        first_name="Ines",
        home_store=store,
        birthday=timezone.localdate() + datetime.timedelta(days=2),
    )

    reasons_refresh_all.delay()

    reason = wait_for(lambda: Reason.objects.filter(kind="birthday").first())
    assert reason.why.startswith("Ines's birthday is on")


def test_a_consumable_purchase_leads_to_exactly_one_reminder_on_the_right_day(
    celery_worker, store, settings, tmp_path
):
    import datetime

    import time_machine

    from clienteling.channels.sms import FileSmsTransport
    from customers.models import ConsentEvent, Message, Order, OrderLine
    from customers.services import customer_refresh_totals
    from tests.factories import AutomationRuleFactory, MessageTemplateFactory

    settings.SMS_TRANSPORT = "clienteling.channels.sms.FileSmsTransport"
    settings.SMS_FILE_PATH = tmp_path
    outbox = FileSmsTransport(tmp_path)
    AutomationRuleFactory(
        reason_kind="replenishment",
        is_marketing=False,
        template=MessageTemplateFactory(
            purpose="replenishment", body="Hi {{ first_name }}, your {{ product }} runs low soon."
        ),
    )
    claire = CustomerFactory(first_name="Claire", home_store=store, phone="+12125550142")
    ConsentEvent.objects.create(customer=claire, channel="sms", granted=True, source="associate")
    serum = ProductFactory(name="Rose serum", replenish_after_days=30)
    bought = datetime.datetime(2026, 3, 2, 15, 0, tzinfo=datetime.UTC)  # 10:00 in New York
    order = Order.objects.create(
        customer=claire,
        channel="store",
        store=store,
        external_id="S-1",
        placed_at=bought,
        subtotal=80,
        total=80,
    )
    OrderLine.objects.create(
        order=order, line_number=1, product=serum, unit_price=80, line_total=80
    )
    customer_refresh_totals(customer_ids=[claire.pk])

    for day in (20, 22):  # the hourly job, run here: nothing is due yet
        with time_machine.travel(bought + datetime.timedelta(days=day), tick=True):
            reasons_refresh_all()
        assert not Message.objects.exists()
    with time_machine.travel(bought + datetime.timedelta(days=23), tick=True):
        reasons_refresh_all.delay()  # on the worker: opens the reason, queues and delivers
        message = wait_for(lambda: Message.objects.filter(customer=claire, status="sent").first())
    for day in (24, 26):  # later runs find the reason already answered by a message
        with time_machine.travel(bought + datetime.timedelta(days=day), tick=True):
            reasons_refresh_all()

    sent = outbox.read()
    assert len(sent) == 1
    assert sent[0]["body"] == "Hi Claire, your Rose serum runs low soon."
    assert message.sent_at.date() == datetime.date(2026, 3, 25)  # 30 days minus the 7-day lead
    assert Message.objects.count() == 1


@pytest.fixture
def own_broker():
    """A Redis of this test's own, on a free port, that the test can stop and start."""
    import shutil
    import socket
    import subprocess
    import time

    from clienteling.celery import app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = shutil.which("redis-server")

    class Broker:
        url = f"redis://127.0.0.1:{port}/0"
        process = None

        def start(self):
            self.process = subprocess.Popen(
                [
                    server,
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ],
                stdout=subprocess.DEVNULL,
            )
            for _ in range(50):
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", port)) == 0:
                        return
                time.sleep(0.1)
            raise AssertionError("redis did not start")

        def stop(self):
            self.process.terminate()
            self.process.wait(5)

    broker = Broker()
    broker.start()
    previous = app.conf.broker_url
    app.conf.broker_url = broker.url
    _reset_connections(app)
    try:
        yield broker
    finally:
        if broker.process.poll() is None:
            broker.stop()
        app.conf.broker_url = previous
        _reset_connections(app)


def _reset_connections(app):
    """Drop the app's pooled broker connections so the next send connects afresh."""
    from kombu import pools

    pools.reset()  # kombu's process-wide connection and producer pools
    app._pool = None
    app.amqp._producer_pool = None


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_due_messages_go_out_once_it_is_back(own_broker, store, mailoutbox):
    from django.db import transaction

    from clienteling.celery import app
    from customers.models import ConsentEvent, Message
    from customers.services import message_queue, messages_sweep

    claire = CustomerFactory(first_name="Claire", home_store=store, email="claire@example.com")
    ConsentEvent.objects.create(customer=claire, channel="email", granted=True, source="associate")

    own_broker.stop()
    with transaction.atomic():  # the request that queues it succeeds although the broker is down
        message = message_queue(
            customer=claire,
            channel="email",
            subject="Ready",
            body="Your alteration is ready.",
            dedupe_key="alt-1",
            is_marketing=False,
        )
    message.refresh_from_db()
    assert message.status == "queued"

    own_broker.start()
    _reset_connections(app)
    assert messages_sweep()["enqueued"] == 1
    with running_worker():
        wait_for(lambda: Message.objects.get(pk=message.pk).status == "sent", timeout=20)
    assert [email.body for email in mailoutbox] == ["Your alteration is ready."]


def _worker_process(env: dict[str, str]):
    """A real Celery worker in a process group of its own (prefork, two children)."""
    import subprocess
    import sys

    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "--app",
            "clienteling",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            "2",
            "--loglevel",
            "WARNING",
            "--without-heartbeat",
            "--without-gossip",
        ],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _twilio_batch(store, settings, fake, total: int, **extra_env) -> dict[str, str]:
    """`total` reminders queued by text for as many clients, Twilio (the fake) as the
    provider; returns the environment of the worker processes that will send them."""
    import os

    from django.db import connection

    from customers.models import ConsentEvent
    from customers.services import message_queue
    from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN

    settings.SMS_WINDOW_START, settings.SMS_WINDOW_END = datetime.time(0), datetime.time(23, 59)
    settings.SMS_TRANSPORT = "clienteling.channels.twilio.TwilioSmsTransport"
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = ACCOUNT_SID, AUTH_TOKEN
    settings.TWILIO_API_BASE_URL, settings.TWILIO_DEFAULT_FROM = fake.url, "+15550100001"
    for n in range(total):
        customer = CustomerFactory(home_store=store, phone=f"+1212555{n:04d}")
        ConsentEvent.objects.create(
            customer=customer, channel="sms", granted=True, source="associate"
        )
        message_queue(
            customer=customer,
            channel="sms",
            body=f"Reminder {n}",
            dedupe_key=f"batch:{n}",
            is_marketing=False,
        )
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}",
        "SMS_TRANSPORT": settings.SMS_TRANSPORT,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_API_BASE_URL": fake.url,
        "TWILIO_DEFAULT_FROM": "+15550100001",
        "SMS_WINDOW_START": "00:00",
        "SMS_WINDOW_END": "23:59",
        **extra_env,
    }


def _sweep_until_all_sent(worker_env, settings, timeout: float = 90) -> None:
    """Start a worker and run the sweep as beat would until every message is sent."""
    import os
    import signal
    import time

    from customers.models import Message
    from customers.services import messages_sweep

    # Claims older than this are a dead worker's; longer than a live send takes (the
    # fake answers in 0.1 s), so the sweep never takes over a send still in flight.
    settings.MESSAGE_CLAIM_LEASE_SECONDS = 3
    worker = _worker_process(worker_env)
    try:
        deadline = time.monotonic() + timeout
        while Message.objects.exclude(status="sent").exists() and time.monotonic() < deadline:
            messages_sweep()  # what beat does every minute
            time.sleep(1)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)


def _texts_twilio_received(fake) -> dict[str, int]:
    from collections import Counter

    return dict(Counter(form["Body"] for form in fake.received))


@pytest.mark.django_db(transaction=True)
def test_killing_the_worker_mid_batch_sends_each_text_once_and_loses_nothing(store, settings):
    """Real worker processes, killed with SIGKILL while they send, then started again;
    Twilio (the fake) takes repeats, so what it received is what clients got."""
    import os
    import signal
    import time

    from clienteling.celery import app
    from customers.models import Message
    from tests.fake_twilio import FakeTwilio

    app.control.purge()
    total = 40
    with FakeTwilio() as twilio:
        # Each answer takes 0.1 s after Twilio took the text: a kill lands, as often as
        # not, between Twilio's accepting a text and our writing "sent".
        twilio.delay_seconds = 0.1
        env = _twilio_batch(store, settings, twilio, total)
        worker = _worker_process(env)
        try:
            wait_for(lambda: len(twilio.received) >= 10, timeout=60)
        finally:
            os.killpg(worker.pid, signal.SIGKILL)  # mid-batch, no goodbye
            worker.wait(10)
        assert len(twilio.received) < total
        time.sleep(0.5)
        _sweep_until_all_sent(env, settings)

    assert Message.objects.filter(status="sent").count() == total  # nothing lost
    # Each reminder reached Twilio exactly once: not one text more.
    assert _texts_twilio_received(twilio) == {f"Reminder {n}": 1 for n in range(total)}
    sids = set(Message.objects.values_list("provider_id", flat=True))
    assert sids == {sms["sid"] for sms in twilio.messages}
    app.control.purge()


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_after_twilio_took_a_text_never_sends_it_twice(store, settings, tmp_path):
    """The 2,001st text of the issue: the worker dies right after Twilio accepted a
    reminder, before the row says "sent". The outbox asks Twilio before sending it
    again, finds it, and records it."""
    from clienteling.celery import app
    from customers.models import Message
    from tests.fake_twilio import FakeTwilio

    app.control.purge()
    total = 12
    marker = tmp_path / "killed"
    with FakeTwilio() as twilio:
        env = _twilio_batch(
            store,
            settings,
            twilio,
            total,
            SMS_TRANSPORT="tests.fake_twilio.TwilioSmsTransportKilledAfterAccepting",
            FAULT_KILL_AFTER_BODY="Reminder 5",
            FAULT_KILL_MARKER=str(marker),
        )
        _sweep_until_all_sent(env, settings)

    killed_sid = marker.read_text()  # the kill did happen, after Twilio took it
    assert _texts_twilio_received(twilio) == {f"Reminder {n}": 1 for n in range(total)}
    reminder = Message.objects.get(dedupe_key="batch:5")
    assert (reminder.status, reminder.provider_id) == ("sent", killed_sid)
    assert reminder.attempts == 2  # claimed again after the lease, reconciled, not sent
    assert any(query.get("To") == "+12125550005" for query in twilio.lists)
    assert Message.objects.filter(status="sent").count() == total
    app.control.purge()
