"""A store's first import of its history from CSV exports: clients with their consents
(channel, yes/no, source and date kept), then orders, through the ingest services;
resumable; every refused row says why."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.exceptions import ValidationError

from clienteling.integrations.history import services
from clienteling.integrations.history.models import ImportRun, RefusedRow
from customers.models import AuditEvent, ConsentEvent, Customer, Order, OrderLine
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

CLIENT_HEADER = [
    "customer_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "birthday",
    "joined_at",
    "associate",
    "email_consent",
    "email_consent_at",
    "email_consent_source",
    "email_consent_wording",
    "sms_consent",
    "sms_consent_at",
    "sms_consent_source",
]
ORDER_HEADER = [
    "order_id",
    "customer_id",
    "placed_at",
    "total",
    "sku",
    "quantity",
    "unit_price",
    "size",
    "description",
]


def _write(path: Path, header: list[str], rows: list[list]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def clients_csv(tmp_path, associate):
    return _write(
        tmp_path / "clients.csv",
        CLIENT_HEADER,
        [
            [
                "C-1",
                "Claire",
                "Dubois",
                "Claire@Example.com",
                "+1 212 555 0142",
                "1985-04-12",
                "2019-03-01",
                associate.employee_code,
                "yes",
                "2019-03-01T10:00:00Z",
                "web",
                "Yes to news by email",
                "no",
                "2021-06-01",
                "sms",
            ],
            ["C-2", "Ana", "", "", "", "", "", "", "", "", "", "", "", "", ""],
            ["C-3", "", "Nameless", "", "", "", "", "", "", "", "", "", "", "", ""],
            ["C-4", "Zoe", "Bad", "not-an-email", "", "", "", "", "maybe", "", "", "", "", "", ""],
            [
                "C-5",
                "Max",
                "Future",
                "",
                "",
                "",
                "",
                "",
                "yes",
                "2999-01-01",
                "pos",
                "",
                "",
                "",
                "",
            ],
            [
                "C-6",
                "Lea",
                "Staff",
                "",
                "",
                "",
                "",
                "",
                "yes",
                "2020-01-01",
                "associate",
                "",
                "",
                "",
                "",
            ],
        ],
    )


@pytest.fixture
def orders_csv(tmp_path):
    ProductFactory(sku="DRS-1", price=Decimal("150.00"))
    return _write(
        tmp_path / "orders.csv",
        ORDER_HEADER,
        [
            ["S-1", "C-1", "2020-05-01T15:00:00Z", "", "DRS-1", "2", "150.00", "38", ""],
            ["S-1", "C-1", "2020-05-01T15:00:00Z", "", "OLD-SKU", "1", "40.00", "", "Old belt"],
            ["S-2", "C-2", "2021-01-01", "90.00", "OLD-SKU", "1", "90.00", "", ""],
            ["S-3", "C-404", "2021-01-01", "", "DRS-1", "1", "150.00", "", ""],
            ["S-4", "C-1", "yesterday", "", "DRS-1", "1", "150.00", "", ""],
            ["S-4", "C-1", "yesterday", "", "DRS-1", "1", "-3", "", ""],
        ],
    )


def test_clients_come_with_their_consents_as_recorded_elsewhere(clients_csv, store, associate):
    run = services.history_import_clients(path=clients_csv, store=store)

    assert (run.rows_done, run.rows_saved, run.rows_refused) == (6, 3, 3)
    assert run.is_finished
    claire = Customer.objects.get(pos_customer_id="C-1")
    assert (claire.email, str(claire.phone), claire.joined_via) == (
        "claire@example.com",
        "+12125550142",
        "import",
    )
    assert claire.home_store == store and claire.assigned_associate == associate
    consents = {c.channel: c for c in ConsentEvent.objects.filter(customer=claire)}
    email, sms = consents["email"], consents["sms"]
    assert (email.granted, email.source, email.recorded_at.isoformat()) == (
        True,
        "ecommerce",
        "2019-03-01T10:00:00+00:00",
    )
    assert email.wording == "Yes to news by email (recorded as “web” in the previous tool)"
    assert (sms.granted, sms.source, sms.recorded_at.date().isoformat()) == (
        False,
        "sms_reply",
        "2021-06-01",
    )
    # A consent an associate took elsewhere: the person is unknown here, kept as an import.
    lea = Customer.objects.get(pos_customer_id="C-6")
    assert ConsentEvent.objects.get(customer=lea).source == "import"
    # Through the consent service: each one is in the audit trail.
    assert AuditEvent.objects.filter(action="consent").count() == 3
    reasons = {r.reference: r.reasons for r in RefusedRow.objects.filter(run=run)}
    assert set(reasons) == {"C-3", "C-4", "C-5"}
    assert "first_name" in reasons["C-3"]
    assert set(reasons["C-4"]) == {"email", "email_consent"}
    assert reasons["C-5"] == {"email_consent_at": ["A consent cannot be recorded in the future."]}
    assert not Customer.objects.filter(pos_customer_id__in=["C-3", "C-4", "C-5"]).exists()


def test_orders_follow_with_lines_of_unknown_skus_kept(clients_csv, orders_csv, store):
    services.history_import_clients(path=clients_csv, store=store)

    run = services.history_import_orders(path=orders_csv, store=store)

    assert (run.rows_done, run.rows_saved, run.rows_refused) == (6, 3, 3)
    s1 = Order.objects.get(external_id="S-1")
    assert (s1.channel, s1.store, s1.total) == ("store", store, Decimal("340.00"))
    assert list(OrderLine.objects.filter(order=s1).values_list("sku", "quantity")) == [
        ("DRS-1", 2),
        ("OLD-SKU", 1),
    ]
    assert Customer.objects.get(pos_customer_id="C-1").lifetime_value == Decimal("340.00")
    refused = {(r.row_number, r.reference): r.reasons for r in run.refusals.all()}
    assert set(refused) == {(4, "S-3"), (5, "S-4"), (6, "S-4")}
    assert "customer" in refused[(4, "S-3")]
    assert "placed_at" in refused[(5, "S-4")] and "lines" in refused[(6, "S-4")]


def test_an_interrupted_import_resumes_where_it_stopped(clients_csv, store, monkeypatch):
    monkeypatch.setattr(services, "CLIENT_CHUNK_ROWS", 2)
    calls = {"n": 0}
    real = services._clients_chunk

    def crash_on_second_chunk(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "_clients_chunk", crash_on_second_chunk)
    with pytest.raises(KeyboardInterrupt):
        services.history_import_clients(path=clients_csv, store=store)
    run = ImportRun.objects.get()
    assert (run.rows_done, run.is_finished) == (2, False)
    assert Customer.objects.count() == 2

    monkeypatch.setattr(services, "_clients_chunk", real)
    resumed = services.history_import_clients(path=clients_csv, store=store)

    assert resumed.pk == run.pk
    assert (resumed.rows_done, resumed.rows_saved, resumed.rows_refused) == (6, 3, 3)
    assert Customer.objects.count() == 3
    # A finished file run again does nothing more.
    again = services.history_import_clients(path=clients_csv, store=store)
    assert again.pk == run.pk and ConsentEvent.objects.count() == 3


def test_the_command_imports_both_files_and_writes_the_refused_rows(
    clients_csv, orders_csv, store, tmp_path
):
    report = tmp_path / "refused.csv"
    out = io.StringIO()

    call_command(
        "import_history",
        "--store",
        store.code,
        "--clients",
        str(clients_csv),
        "--orders",
        str(orders_csv),
        "--report",
        str(report),
        stdout=out,
    )

    assert "clients: finished — 3 rows saved, 3 refused" in out.getvalue()
    assert "orders: finished — 3 rows saved, 3 refused" in out.getvalue()
    rows = list(csv.DictReader(report.open(encoding="utf-8")))
    assert {row["id"] for row in rows} == {"C-3", "C-4", "C-5", "S-3", "S-4"}
    assert all(row["why"] and row["file"] in ("clients.csv", "orders.csv") for row in rows)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--store", "nyc-soho"], "Give --clients"),
        (["--store", "nope", "--clients", "x.csv"], "No store"),
        (["--store", "nyc-soho", "--clients", "/nonexistent/x.csv"], "Cannot read"),
    ],
)
def test_the_command_says_what_is_wrong(store, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("import_history", *args)


def test_a_file_without_the_required_columns_is_refused_whole(tmp_path, store):
    path = _write(tmp_path / "o.csv", ["order_id", "sku"], [["S-1", "X"]])

    with pytest.raises(CommandError, match="lacks the column"):
        call_command("import_history", "--store", store.code, "--orders", str(path))
    assert not Order.objects.exists()


def test_the_admin_offers_the_refused_rows_as_a_download(clients_csv, store, client):
    run = services.history_import_clients(path=clients_csv, store=store)
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))

    listing = client.get(reverse("admin:history_import_importrun_changelist"))
    download = client.get(reverse("admin:history_import_importrun_refused", args=[run.pk]))

    assert "Download (3 rows)" in listing.content.decode()
    assert download["Content-Type"].startswith("text/csv")
    body = download.content.decode()
    assert body.splitlines()[0] == "file,row,id,field,why"
    assert "C-5,email_consent_at,A consent cannot be recorded in the future." in body


@pytest.mark.parametrize(
    "row",
    [
        {"sku": "A", "unit_price": "10"},
        {"sku": "A", "unit_price": "10.5", "quantity": "3", "line_total": "31.50"},
        {"sku": "A", "unit_price": "0", "size": "38", "colour": "Black", "description": "Belt"},
        {"sku": "", "unit_price": "10"},
        {"sku": "A" * 65, "unit_price": "10"},
        {"sku": "A\x00", "unit_price": "10"},
        {"sku": "A", "unit_price": "-1"},
        {"sku": "A", "unit_price": "1.234"},
        {"sku": "A", "unit_price": "NaN"},
        {"sku": "A", "unit_price": "12345678.00"},
        {"sku": "A", "unit_price": "99999999.99"},
        {"sku": "A", "unit_price": "ten"},
        {"sku": "A", "unit_price": ""},
        {"sku": "A", "unit_price": "1", "quantity": "0"},
        {"sku": "A", "unit_price": "1", "quantity": "10001"},
        {"sku": "A", "unit_price": "1", "quantity": "1.5"},
        {"sku": "A", "unit_price": "1", "size": "X" * 17},
        {"sku": "A", "unit_price": "1", "line_total": "-2"},
    ],
)
def test_an_exports_line_is_checked_as_the_api_checks_one(row):
    from customers.api import OrderLineInputSerializer

    line, errors = services._line(row)
    api = OrderLineInputSerializer(data={key: value for key, value in row.items() if value})

    assert bool(errors) == (not api.is_valid()), (errors, api.errors)
    if not errors:
        assert line == {**api.validated_data}
    else:
        assert set(errors) == set(api.errors)


@pytest.mark.parametrize(
    "head",
    [
        {},
        {"channel": "online"},
        {"channel": "online", "store": "nyc-soho"},
        {"channel": "fax"},
        {"order_id": "S" * 65},
        {"order_id": "S\x00"},
        {"customer_id": ""},
        {"customer_id": "C" * 65},
        {"store": "not a slug!"},
        {"store": "s" * 33},
        {"associate": "A" * 33},
        {"associate": "E-7"},
        {"placed_at": "yesterday"},
        {"placed_at": ""},
        {"placed_at": "2021-01-01"},
        {"placed_at": "2020-05-01 15:00"},
        {"placed_at": "2020-05-01T15:00:00+02:00"},
        {"currency": "usd"},
        {"currency": "EUR"},
        {"status": "lost"},
        {"status": "returned"},
        {"total": "-5"},
        {"total": "1.230"},
        {"total": "12345678901"},
        {"total": "1e2"},
        {"total": "٣"},
        {"subtotal": "10", "discount": "2.5", "tax": "0.50", "total": "8.50"},
        {"tax": "ten", "currency": "EU"},
    ],
)
def test_an_exports_order_is_checked_as_the_api_checks_one(head, store):
    row = {
        "order_id": "S-1",
        "customer_id": "C-1",
        "placed_at": "2020-05-01T15:00:00Z",
        "sku": "A",
        "unit_price": "10",
        **head,
    }
    item = services._order_item([(2, row)], store)
    try:
        expected = services._OrderHead().run_validation(item), None
    except ValidationError as error:
        expected = None, error.detail

    assert services._OrderHeadCheck()(item) == expected
