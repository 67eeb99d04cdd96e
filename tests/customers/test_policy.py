"""The send-time policy: examples that read like the rules, then a property-based search
for any case where a message would go out against them."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from customers.services.policy import PolicyFacts, evaluate_policy, next_allowed_time

UTC = datetime.UTC
GRANTED = (True, datetime.datetime(2026, 1, 1, tzinfo=UTC))
REVOKED = (False, datetime.datetime(2026, 3, 3, tzinfo=UTC))


def facts(**overrides) -> PolicyFacts:
    base = {
        "time_zone": "America/New_York",
        "addresses": {"email": "claire@example.com", "sms": "+12125550142"},
        "consents": {"email": GRANTED, "sms": GRANTED},
    }
    return PolicyFacts(**{**base, **overrides})


NOON_NY = datetime.datetime(2026, 11, 20, 17, 0, tzinfo=UTC)  # 12:00 in New York


def test_consented_message_at_noon_goes_now():
    decision = evaluate_policy(facts(), channel="sms", is_marketing=True, topic="", at=NOON_NY)
    assert (decision.allowed, decision.send_at, decision.reason) == (True, NOON_NY, "")


def test_the_preferred_channel_is_used_when_none_is_named():
    assert (
        evaluate_policy(
            facts(preferred_channel="sms"), channel=None, is_marketing=True, topic="", at=NOON_NY
        ).channel
        == "sms"
    )
    only_email = facts(preferred_channel="sms", consents={"email": GRANTED, "sms": REVOKED})
    assert (
        evaluate_policy(only_email, channel=None, is_marketing=True, topic="", at=NOON_NY).channel
        == "email"
    )


@pytest.mark.parametrize(
    ("overrides", "channel", "reason"),
    [
        ({"consents": {"sms": REVOKED}}, "sms", "Said no to text messages on 03 Mar 2026."),
        ({"consents": {}}, "email", "Never agreed to email."),
        ({"addresses": {"email": "claire@example.com"}}, "sms", "No mobile number on file."),
        ({"bounced": frozenset({"email"})}, "email", "The email address bounced: update it first."),
        (
            {"topics_declined": frozenset({"offers"})},
            "email",
            "Turned down messages about offers and points.",
        ),
        (
            {"marketing_sent_last_7_days": 2},
            "email",
            "Already had 2 messages this week (at most 2).",
        ),
    ],
)
def test_suppressions_say_why(overrides, channel, reason):
    decision = evaluate_policy(
        facts(**overrides), channel=channel, is_marketing=True, topic="offers", at=NOON_NY
    )
    assert (decision.allowed, decision.reason) == (False, reason)


def test_service_messages_are_not_capped():
    capped = facts(marketing_sent_last_7_days=5)
    assert evaluate_policy(
        capped, channel="email", is_marketing=False, topic="", at=NOON_NY
    ).allowed


def test_quiet_hours_make_the_message_wait_until_they_end():
    late = datetime.datetime(2026, 11, 21, 3, 30, tzinfo=UTC)  # 22:30 in New York
    decision = evaluate_policy(
        facts(quiet_start=datetime.time(21), quiet_end=datetime.time(9)),
        channel="email",
        is_marketing=True,
        topic="",
        at=late,
    )
    assert decision.allowed and decision.later
    assert decision.send_at == datetime.datetime(2026, 11, 21, 14, 0, tzinfo=UTC)  # 09:00 New York
    assert decision.reason == "Quiet time for the client: it goes Sat 21 Nov at 09:00 their time."


def test_no_sms_before_8_local_time_in_another_time_zone():
    # 05:00 in Paris is 23:00 the evening before in New York.
    early_paris = datetime.datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
    decision = evaluate_policy(
        facts(time_zone="Europe/Paris"), channel="sms", is_marketing=True, topic="", at=early_paris
    )
    assert decision.send_at == datetime.datetime(2026, 11, 20, 7, 0, tzinfo=UTC)  # 08:00 Paris


def test_the_sms_window_holds_across_daylight_saving_changes():
    # 8 March 2026: New York springs forward at 02:00. 06:30 UTC is 01:30 EST.
    before_change = datetime.datetime(2026, 3, 8, 6, 30, tzinfo=UTC)
    decision = evaluate_policy(
        facts(), channel="sms", is_marketing=True, topic="", at=before_change
    )
    local = decision.send_at.astimezone(zoneinfo.ZoneInfo("America/New_York"))
    assert (local.hour, local.minute, local.utcoffset()) == (8, 0, datetime.timedelta(hours=-4))
    # 1 November 2026: clocks fall back; 21:30 EST after the change waits for 08:00 EST.
    autumn = datetime.datetime(2026, 11, 2, 2, 30, tzinfo=UTC)  # 21:30 EST on 1 Nov
    local = evaluate_policy(
        facts(), channel="sms", is_marketing=True, topic="", at=autumn
    ).send_at.astimezone(zoneinfo.ZoneInfo("America/New_York"))
    assert (local.day, local.hour, local.utcoffset()) == (2, 8, datetime.timedelta(hours=-5))


def test_a_stricter_store_window_applies():
    at = datetime.datetime(2026, 11, 20, 14, 0, tzinfo=UTC)  # 09:00 New York
    decision = evaluate_policy(
        facts(sms_window=(datetime.time(10), datetime.time(19))),
        channel="sms",
        is_marketing=True,
        topic="",
        at=at,
    )
    assert decision.send_at == datetime.datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


ZONES = [
    "America/New_York",
    "Europe/Paris",
    "Europe/London",
    "Asia/Tokyo",
    "Australia/Sydney",
    "America/Los_Angeles",
]
times = st.times().map(lambda t: t.replace(second=0, microsecond=0))
consent_states = st.sampled_from([None, GRANTED, REVOKED])


@st.composite
def client_facts(draw):
    consents = {}
    for channel in ("email", "sms"):
        state = draw(consent_states)
        if state is not None:
            consents[channel] = state
    quiet = draw(st.one_of(st.none(), st.tuples(times, times)))
    opens = draw(
        st.times(max_value=datetime.time(11)).map(lambda t: t.replace(second=0, microsecond=0))
    )
    closes = draw(
        st.times(min_value=datetime.time(13)).map(lambda t: t.replace(second=0, microsecond=0))
    )
    return PolicyFacts(
        time_zone=draw(st.sampled_from(ZONES)),
        addresses={
            "email": draw(st.sampled_from(["", "a@example.com"])),
            "sms": draw(st.sampled_from(["", "+12125550142"])),
        },
        consents=consents,
        preferred_channel=draw(st.sampled_from(["", "email", "sms", "phone"])),
        topics_declined=frozenset(
            draw(st.lists(st.sampled_from(["offers", "events", "replenishment"]), max_size=3))
        ),
        quiet_start=quiet[0] if quiet else None,
        quiet_end=quiet[1] if quiet else None,
        max_marketing_per_week=draw(st.integers(0, 4)),
        marketing_sent_last_7_days=draw(st.integers(0, 6)),
        bounced=frozenset(draw(st.lists(st.sampled_from(["email", "sms"]), max_size=2))),
        sms_window=(max(opens, datetime.time(8)), min(closes, datetime.time(21))),
    )


def _in_quiet(local: datetime.time, start, end) -> bool:
    if start is None or end is None or start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


@settings(max_examples=1500, deadline=None)
@given(
    f=client_facts(),
    channel=st.sampled_from([None, "email", "sms", "phone"]),
    is_marketing=st.booleans(),
    topic=st.sampled_from(["", "offers", "events", "replenishment"]),
    at=st.datetimes(
        min_value=datetime.datetime(2026, 1, 1),
        max_value=datetime.datetime(2027, 12, 31),
        timezones=st.just(UTC),
    ),
)
def test_no_message_ever_goes_out_against_the_policy(f, channel, is_marketing, topic, at):
    decision = evaluate_policy(f, channel=channel, is_marketing=is_marketing, topic=topic, at=at)
    if not decision.allowed:
        assert decision.reason
        return
    sent_on = decision.channel
    assert sent_on in ("email", "sms")
    assert f.consents.get(sent_on, (False, None))[0] is True
    assert f.addresses[sent_on]
    assert sent_on not in f.bounced
    assert not (topic and topic in f.topics_declined)
    if is_marketing:
        assert f.marketing_sent_last_7_days < f.max_marketing_per_week
    assert decision.send_at >= at
    local = decision.send_at.astimezone(zoneinfo.ZoneInfo(f.time_zone))
    clock = local.time().replace(tzinfo=None)
    assert not _in_quiet(clock, f.quiet_start, f.quiet_end)
    if sent_on == "sms":
        assert datetime.time(8) <= clock < datetime.time(21)
        assert f.sms_window[0] <= clock < f.sms_window[1]


def test_next_allowed_time_with_no_window_at_all_is_refused():
    impossible = facts(quiet_start=datetime.time(7), quiet_end=datetime.time(22))
    with pytest.raises(ValueError):
        next_allowed_time(impossible, "sms", NOON_NY)
