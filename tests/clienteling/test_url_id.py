"""`{% url_id %}` is `{% url %}` for one id, without reversing on every row."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.urls import reverse, set_script_prefix

from clienteling.templatetags.rows import url_for_id


@pytest.mark.parametrize(
    "name", ["customers:detail", "customers:contact", "customers:reason-actions"]
)
@pytest.mark.parametrize("pk", [1, 42, 987_654_321, 10**12])
def test_it_is_the_reversed_url(name, pk):
    assert url_for_id(name, pk) == reverse(name, args=[pk])


def test_a_script_prefix_is_kept():
    try:
        set_script_prefix("/shop/")
        assert url_for_id("customers:detail", 7) == reverse("customers:detail", args=[7])
        assert url_for_id("customers:detail", 7).startswith("/shop/")
    finally:
        set_script_prefix("/")
    assert url_for_id("customers:detail", 7) == "/clients/7/"


def test_the_tag_renders_it():
    rendered = Template('{% load rows %}{% url_id "customers:detail" pk %}').render(
        Context({"pk": 5})
    )
    assert rendered == reverse("customers:detail", args=[5])


def test_an_id_that_is_not_a_number_is_refused():
    with pytest.raises(ValueError):
        url_for_id("customers:detail", "5/../admin")
