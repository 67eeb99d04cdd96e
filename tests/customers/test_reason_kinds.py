"""One spec per reason kind: a kind missing from the registry, or half-specified, fails here
rather than silently (a missing topic would skip the client's topic opt-out)."""

from __future__ import annotations

import dataclasses

import pytest
from django.template import Context
from django.template import Engine as TemplateEngine

from customers.drafts import draft_message
from customers.models import Reason, Topic
from customers.reason_kinds import REASON_KINDS, Engine, ReasonKindSpec, reason_kind
from customers.services.wording import reason_wording_context
from tests.factories import CustomerFactory

KINDS = list(Reason.Kind.values)


def test_every_reason_kind_has_a_spec():
    missing = set(KINDS) - set(REASON_KINDS)
    assert not missing, f"add a ReasonKindSpec to customers/reason_kinds.py for {sorted(missing)}"


def test_the_registry_lists_only_reason_kinds():
    unknown = set(REASON_KINDS) - set(KINDS)
    assert not unknown, f"not a Reason.Kind: {sorted(unknown)}"


@pytest.mark.parametrize("spec_class", [ReasonKindSpec, Engine])
def test_every_field_of_a_spec_must_be_given(spec_class):
    # No defaults: "no topic" or "no engine" is written down, never left out by accident.
    defaulted = [
        field.name
        for field in dataclasses.fields(spec_class)
        if field.default is not dataclasses.MISSING
        or field.default_factory is not dataclasses.MISSING
    ]
    assert defaulted == []


@pytest.mark.parametrize("kind", KINDS)
def test_spec_is_complete(kind):
    spec = reason_kind(kind)
    assert isinstance(spec, ReasonKindSpec)
    # The score is value (40) + urgency + likelihood (25), at most 100.
    assert type(spec.urgency) is int and 0 < spec.urgency <= 35
    # A badge reads whole on a phone row: a word or two.
    assert spec.badge.strip() and len(spec.badge) <= 14
    assert spec.topic is None or spec.topic in Topic.values
    assert type(spec.is_marketing) is bool
    assert type(spec.client_initiated) is bool
    assert isinstance(spec.draft, str) and spec.draft.strip()
    if spec.engine is not None:
        candidates, resolve = spec.engine.functions()
        assert callable(candidates)
        assert resolve is None or callable(resolve)


# The templates' engine, except that a variable nobody supplies prints a marker instead of
# nothing: a typo in a draft ({{ frist_name }}) would otherwise vanish silently.
STRICT_ENGINE = TemplateEngine(
    autoescape=False, libraries={}, string_if_invalid="UNKNOWN VARIABLE %s"
)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", KINDS)
def test_draft_renders_with_what_draft_message_supplies(kind, store):
    customer = CustomerFactory(first_name="Claire", home_store=store)
    reason = Reason(customer=customer, kind=kind)
    supplied = reason_wording_context(customer=customer, reason=reason, associate="Ana Lee")
    strict = STRICT_ENGINE.from_string(reason_kind(kind).draft).render(
        Context(supplied, autoescape=False)
    )
    assert "UNKNOWN VARIABLE" not in strict
    draft = draft_message(customer=customer, reason=reason, sender_name="Ana Lee")
    assert draft == strict.strip()
    assert "Claire" in draft
    assert draft.endswith("– Ana Lee")
    # A stray brace or tag survives into the text.
    assert "{" not in draft and "}" not in draft and "%" not in draft


def test_a_draft_naming_a_variable_nobody_supplies_is_caught():
    supplied = {"first_name": "Claire", "associate": "Ana Lee"}
    text = STRICT_ENGINE.from_string("Hi {{ frist_name }}, – {{ associate }}").render(
        Context(supplied, autoescape=False)
    )
    assert "UNKNOWN VARIABLE frist_name" in text


def test_an_unknown_kind_fails_loudly():
    with pytest.raises(KeyError, match=r"customers/reason_kinds\.py"):
        reason_kind("carrier_pigeon")


def test_other_apps_opening_an_unknown_kind_fail_loudly():
    # Appointments name kinds by value ("client_replied"): a typo fails on the first call.
    from customers.services.reasons import reasons_open

    with pytest.raises(KeyError, match=r"customers/reason_kinds\.py"):
        reasons_open(kind="client_repiled", candidates=[])
