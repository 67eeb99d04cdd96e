"""Delivery in batches (issue 20's fan-out): claimed together, checked against the one
policy in a fixed number of queries, sent, recorded; still once per message."""

from __future__ import annotations

import datetime
import threading

import pytest
import time_machine
from django.db import connections

from clienteling.channels import SendResult
from clienteling.channels.sms import FileSmsTransport
from customers.models import (
    Contact,
    ContactPreferences,
    Message,
    Reason,
    Suppression,
)
from customers.services import outreach
from customers.services.outreach import messages_deliver, messages_sweep
from customers.services.policy import policy_facts, policy_facts_batch
from customers.services.suppression import address_digest
from tests.factories import (
    BounceFactory,
    ConsentEventFactory,
    CustomerFactory,
    MessageFactory,
    ReasonFactory,
)

NOON_NY = datetime.datetime(2026, 11, 20, 17, 0, tzinfo=datetime.UTC)


@pytest.fixture
def sms_outbox(settings, tmp_path):
    settings.SMS_TRANSPORT = "clienteling.channels.sms.FileSmsTransport"
    settings.SMS_FILE_PATH = tmp_path
    return FileSmsTransport(tmp_path)


def _client(store, n: int, *, sms=True, email=True, **fields):
    customer = CustomerFactory(
        home_store=store, phone=f"+1212555{n:04d}", email=f"client{n}@example.com", **fields
    )
    for channel, granted in (("sms", sms), ("email", email)):
        if granted is not None:
            ConsentEventFactory(
                customer=customer,
                channel=channel,
                granted=granted,
                recorded_at=NOON_NY - datetime.timedelta(days=30),
            )
    return customer


def _due(customer, key: str, channel="sms", **fields) -> Message:
    return MessageFactory(
        customer=customer,
        channel=channel,
        body=f"Reminder {key}",
        subject="Running low?",
        dedupe_key=key,
        scheduled_for=NOON_NY - datetime.timedelta(minutes=1),
        **{"is_marketing": False, **fields},
    )


@pytest.mark.django_db
def test_a_batch_with_mixed_policy_outcomes_records_each_as_one_at_a_time_would(
    store, sms_outbox, mailoutbox
):
    with time_machine.travel(NOON_NY, tick=False):
        fine = _due(_client(store, 1), "fine")
        by_email = _due(_client(store, 2), "by-email", channel="email")
        never_agreed = _due(_client(store, 3, sms=None), "never-agreed")
        quiet = _client(store, 4)
        ContactPreferences.objects.create(
            customer=quiet, quiet_hours_start=datetime.time(11), quiet_hours_end=datetime.time(14)
        )  # noon in New York: quiet until 14:00
        in_quiet_hours = _due(quiet, "quiet")
        bounced_client = _client(store, 5)
        BounceFactory(channel="sms", address=bounced_client.phone)
        bounced = _due(bounced_client, "bounced")
        stopped_client = _client(store, 6)
        Suppression.objects.create(
            channel="sms", digest=address_digest(stopped_client.phone), reason="stop"
        )
        stopped = _due(stopped_client, "stopped")
        closed = _due(
            _client(store, 7),
            "closed",
            reason=ReasonFactory(state=Reason.State.RESOLVED, closed_note="they bought it again"),
        )
        # One marketing message a week for this client: the batch's first goes, the
        # second is refused, as it would be after the first was sent on its own.
        capped = _client(store, 8)
        ContactPreferences.objects.create(customer=capped, max_messages_per_week=1)
        first_offer = _due(capped, "offer-1", is_marketing=True)
        second_offer = _due(capped, "offer-2", is_marketing=True)
        batch = [fine, by_email, never_agreed, in_quiet_hours, bounced, stopped, closed]
        batch += [first_offer, second_offer]

        outcomes = messages_deliver(message_ids=[message.pk for message in batch])

    assert outcomes == {
        fine.pk: "sent",
        by_email.pk: "sent",
        never_agreed.pk: "suppressed",
        in_quiet_hours.pk: "later",
        bounced.pk: "suppressed",
        stopped.pk: "suppressed",
        closed.pk: "suppressed",
        first_offer.pk: "sent",
        second_offer.pk: "suppressed",
    }
    rows = {row.pk: row for row in Message.objects.filter(pk__in=outcomes)}
    assert [
        rows[m.pk].suppressed_reason for m in (never_agreed, bounced, closed, second_offer)
    ] == [
        "Never agreed to text messages.",
        "The mobile number bounced: update it first.",
        "No longer needed: they bought it again",
        "Already had 1 message this week (at most 1).",
    ]
    assert rows[stopped.pk].suppressed_reason.startswith("This mobile number asked for no more")
    waiting = rows[in_quiet_hours.pk]
    assert (waiting.status, waiting.scheduled_for, waiting.attempts, waiting.claimed_at) == (
        "queued",
        datetime.datetime(2026, 11, 20, 19, 0, tzinfo=datetime.UTC),  # 14:00 in New York
        0,
        None,
    )
    for message in (fine, by_email, first_offer):
        sent = rows[message.pk]
        assert (sent.status, sent.sent_at, sent.attempts, sent.claimed_at) == (
            "sent",
            NOON_NY,
            1,
            None,
        )
        assert sent.provider_id
    assert sorted(sms["body"] for sms in sms_outbox.read()) == [
        "Reminder fine",
        "Reminder offer-1",
    ]
    assert [sms["provider_id"] for sms in sms_outbox.read()] == [
        rows[fine.pk].provider_id,
        rows[first_offer.pk].provider_id,
    ]
    assert [(email.to, email.body) for email in mailoutbox] == [
        (["client2@example.com"], "Reminder by-email")
    ]
    assert mailoutbox[0].extra_headers["Message-ID"] == "<by-email@clienteling>"
    assert "List-Unsubscribe" in mailoutbox[0].extra_headers
    # Nothing goes twice: a second run of the same batch takes nothing.
    with time_machine.travel(NOON_NY, tick=False):
        again = messages_deliver(message_ids=[message.pk for message in batch])
    assert set(again.values()) == {"skipped"}
    assert len(sms_outbox.read()) == 2


@pytest.mark.django_db
@pytest.mark.parametrize("size", [5, 50])
def test_a_batch_takes_the_same_queries_whatever_its_size(
    size, store, sms_outbox, mailoutbox, django_assert_num_queries
):
    with time_machine.travel(NOON_NY, tick=False):
        ids = []
        for n in range(size):
            channel = "sms" if n % 2 else "email"
            ids.append(_due(_client(store, n), f"k{n}", channel=channel, is_marketing=True).pk)
        # Claim, load, consent, this week's marketing, bounces and suppressions, then one
        # UPDATE per channel recording what was sent.
        with django_assert_num_queries(7):
            outcomes = messages_deliver(message_ids=ids)
    assert set(outcomes.values()) == {"sent"}
    assert len(sms_outbox.read()) + len(mailoutbox) == size


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_on_the_same_due_set_deliver_each_message_once(store, sms_outbox):
    """Two workers (threads, each with its own database connection) are handed the same
    due messages at the same moment, one in order and one in reverse, round after round."""
    total = 120
    messages = [_due(_client(store, n), f"race:{n}") for n in range(total)]
    ids = [message.pk for message in messages]
    halves = [ids[i : i + 40] for i in range(0, total, 40)]
    results: list[dict[int, str]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def worker(order):
        try:
            for chunk in halves:
                start.wait()
                results.append(messages_deliver(message_ids=order(chunk)))
        except BaseException as error:  # reported by the test
            errors.append(error)
            start.abort()
        finally:
            connections.close_all()

    with time_machine.travel(NOON_NY, tick=True):
        threads = [
            threading.Thread(target=worker, args=(list,)),
            threading.Thread(target=worker, args=(lambda chunk: chunk[::-1],)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert not errors
    sent = [pk for outcome in results for pk, what in outcome.items() if what == "sent"]
    assert sorted(sent) == sorted(ids)  # each message sent by exactly one of the two
    assert sorted(sms["body"] for sms in sms_outbox.read()) == sorted(
        f"Reminder race:{n}" for n in range(total)
    )
    assert set(Message.objects.values_list("status", "attempts")) == {("sent", 1)}


@pytest.mark.django_db
def test_the_sweep_hands_due_messages_out_in_batches(store, sms_outbox, monkeypatch, settings):
    from customers import tasks

    handed: list[list[int]] = []
    monkeypatch.setattr(tasks.messages_deliver, "delay", handed.append)
    settings.SMS_TRANSPORT = "clienteling.channels.sms.FileSmsTransport"
    with time_machine.travel(NOON_NY, tick=False):
        for n in range(outreach.DELIVERY_BATCH + 5):
            _due(_client(store, n, email=None), f"b{n}")
        result = messages_sweep()
    assert (result["enqueued"], result["tasks"]) == (outreach.DELIVERY_BATCH + 5, 2)
    assert [len(batch) for batch in handed] == [outreach.DELIVERY_BATCH, 5]

    handed.clear()
    settings.SMS_TRANSPORT = "clienteling.channels.http.HttpSmsTransport"
    with time_machine.travel(NOON_NY, tick=False):
        messages_sweep()
    # A provider that takes one message a request: smaller batches, more workers busy.
    assert {len(batch) for batch in handed} == {outreach.PROVIDER_BATCH, 5}


class _TakenOverTransport:
    """Sends one at a time; while it sends the first message, the sweep takes the
    second back (its claim ran out) and another worker claims it."""

    sent: list[str] = []

    def send(self, message):
        if not self.sent:
            second = Message.objects.get(dedupe_key="slow:1")
            Message.objects.filter(pk=second.pk).update(status="queued", claimed_at=None)
            assert outreach._claim(second.pk, second.scheduled_for)  # the other worker
        self.sent.append(message.dedupe_key)
        return SendResult(provider_id=f"P-{message.dedupe_key}")


@pytest.mark.django_db
def test_a_claim_taken_over_mid_batch_is_left_to_whoever_has_it(store, settings):
    settings.SMS_TRANSPORT = f"{__name__}._TakenOverTransport"
    _TakenOverTransport.sent = []
    with time_machine.travel(NOON_NY, tick=True):
        first = _due(_client(store, 1), "slow:0")
        second = _due(_client(store, 2), "slow:1")
        outcomes = messages_deliver(message_ids=[first.pk, second.pk])
    assert outcomes == {first.pk: "sent", second.pk: "skipped"}
    assert _TakenOverTransport.sent == ["slow:0"]
    second.refresh_from_db()
    assert (second.status, second.attempts) == ("sending", 2)  # the other worker's claim


@pytest.mark.django_db
def test_the_batch_facts_are_the_facts_of_one_client_at_a_time(store, other_store):
    """A client's facts in a batch of six varied clients are their facts alone (what
    `policy_facts`, a batch of one, finds): nothing of one client leaks into another's."""
    with time_machine.travel(NOON_NY, tick=False):
        plain = _client(store, 1)
        revoked = _client(store, 2)
        ConsentEventFactory(customer=revoked, channel="sms", granted=False, recorded_at=NOON_NY)
        never = _client(other_store, 3, sms=None, email=None)
        fussy = _client(store, 4, time_zone="Europe/London")
        ContactPreferences.objects.create(
            customer=fussy,
            preferred_channel="email",
            topics_declined=["offers"],
            quiet_hours_start=datetime.time(21),
            quiet_hours_end=datetime.time(8),
            max_messages_per_week=3,
        )
        BounceFactory(channel="email", address=fussy.email)
        Suppression.objects.create(channel="sms", digest=address_digest(fussy.phone))
        for _ in range(2):
            MessageFactory(customer=fussy, is_marketing=True, status="sent", sent_at=NOON_NY)
        chatty = _client(store, 5)
        ConsentEventFactory(customer=chatty, channel="whatsapp", granted=True, recorded_at=NOON_NY)
        Contact.objects.create(
            customer=chatty,
            channel="whatsapp",
            direction=Contact.Direction.INBOUND,
            outcome=Contact.Outcome.REACHED,
            body="Hello",
            occurred_at=NOON_NY - datetime.timedelta(hours=2),
        )
        no_address = _client(store, 6)
        no_address.email, no_address.phone = "", ""
        no_address.save()
        clients = [plain, revoked, never, fussy, chatty, no_address]
        loaded = list(
            type(plain)
            .objects.select_related("home_store", "contact_preferences")
            .filter(pk__in=[client.pk for client in clients])
        )
        batch = policy_facts_batch(
            loaded, now=NOON_NY, count_marketing_for={client.pk for client in clients}
        )
        for client in loaded:
            assert batch[client.pk] == policy_facts(client, now=NOON_NY), client
    assert batch[fussy.pk].marketing_sent_last_7_days == 2
    assert batch[fussy.pk].bounced == {"email"}
    assert batch[fussy.pk].suppressed == {"sms"}
    assert set(batch[chatty.pk].last_wrote) == {"whatsapp"}


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_killing_workers_mid_batch_sends_each_text_once_and_loses_nothing(store, settings):
    """The sweep's batches on real worker processes, killed with SIGKILL while they send
    (rows claimed by the dead batches stay "sending"), then started again: Twilio (the
    fake) takes repeats, so what it received is what clients got."""
    import os
    import signal
    import time

    from clienteling.celery import app
    from tests.conftest import wait_for
    from tests.customers.test_tasks import (
        _sweep_until_all_sent,
        _texts_twilio_received,
        _twilio_batch,
        _worker_process,
    )
    from tests.fake_twilio import FakeTwilio

    app.control.purge()
    total = 3 * outreach.PROVIDER_BATCH
    with FakeTwilio() as twilio:
        twilio.delay_seconds = 0.1
        env = _twilio_batch(store, settings, twilio, total)
        app.control.purge()  # not the tasks queueing enqueued: only the sweep's batches
        assert messages_sweep()["tasks"] == 3
        worker = _worker_process(env)
        try:
            wait_for(lambda: len(twilio.received) >= outreach.PROVIDER_BATCH // 2, timeout=60)
        finally:
            os.killpg(worker.pid, signal.SIGKILL)  # mid-batch, no goodbye
            worker.wait(10)
        assert len(twilio.received) < total
        assert Message.objects.filter(status="sending").exists()  # the dead batches' claims
        time.sleep(0.5)
        _sweep_until_all_sent(env, settings)

    assert Message.objects.filter(status="sent").count() == total  # nothing lost
    assert _texts_twilio_received(twilio) == {f"Reminder {n}": 1 for n in range(total)}
    sids = set(Message.objects.values_list("provider_id", flat=True))
    assert sids == {sms["sid"] for sms in twilio.messages}
    app.control.purge()
