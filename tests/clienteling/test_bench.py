"""The benchmark's parts that can be checked fast and for real (never its speed).

Figures from wrk's output and their ratios, the table and the JSON, the scenario
registry, the data set decision, the Lua script, and the bulk-ingest payload posted to
the real API; the child steps (prepare, query counts, cleanup) on a small data set.
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest

from clienteling.bench import child, dataset, scenarios, wrk
from clienteling.bench.payloads import (
    BATCH_PLACEHOLDER,
    CustomerRef,
    ProductRef,
    order_bodies,
    order_payload,
)
from clienteling.bench.report import BatchOutcome, HttpOutcome, Report
from clienteling.bench.runner import answer_problem
from clienteling.bench.scenarios import (
    Budget,
    Context,
    Kind,
    RequestSpec,
    batch_scenario,
    http_scenario,
)
from clienteling.bench.server import bench_environment
from clienteling.bench.stats import LoadResult, parse_wrk_output, ratio
from clienteling.integrations.models import IntegrationToken, key_digest
from customers.models import Customer, Order, OrderLine
from tests.factories import (
    AppointmentKindFactory,
    CustomerFactory,
    OrderFactory,
    ProductFactory,
    StaffMemberFactory,
    working_week,
)

WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:8000/livez/
  1 threads and 2 connections
BENCH-JSON {"requests":30000,"duration_us":10000000,"bytes":4500000,"errors":{"connect":0,"read":0,"write":0,"status":100,"timeout":0},"latency_us":{"p50":500,"p90":900,"p95":1000,"p99":2500,"mean":610.5,"max":8000}}
"""


def _load(*, p95_ms: float, rps: float, p50_ms: float = 1.0, errors: int = 0) -> LoadResult:
    return LoadResult(
        requests=int(rps * 10) + errors,
        errors=errors,
        seconds=10.0,
        connections=2,
        p50_ms=p50_ms,
        p90_ms=p95_ms,
        p95_ms=p95_ms,
        p99_ms=p95_ms,
        mean_ms=p50_ms,
        max_ms=p95_ms,
    )


# --- figures ------------------------------------------------------------------------


def test_wrk_output_becomes_milliseconds_and_served_requests_per_second():
    result = LoadResult.from_wrk(parse_wrk_output(WRK_OUTPUT), connections=2)

    assert result.p50_ms == 0.5
    assert result.p95_ms == 1.0
    assert result.p99_ms == 2.5
    assert result.errors == 100
    # Failed answers never count as throughput.
    assert result.requests_per_second == pytest.approx(2990.0)
    assert result.units_per_second(1000) == pytest.approx(2_990_000.0)


def test_wrk_output_without_our_result_line_is_an_error():
    with pytest.raises(ValueError, match="no result line"):
        parse_wrk_output("Running 10s test @ http://127.0.0.1/\n")


def test_ratio_is_a_share_of_throughput_and_a_multiple_of_p95():
    bare = _load(p95_ms=2.0, rps=4000)
    page = _load(p95_ms=30.0, rps=200)

    against = ratio(page, bare)

    assert against.throughput == pytest.approx(0.05)
    assert against.latency_p95 == pytest.approx(15.0)
    assert str(against) == "5.0% req/s, 15× p95"
    assert ratio(page, _load(p95_ms=0.0, rps=0)) is None


def test_budget_verdict_needs_every_figure_it_names():
    budget = Budget("p95 < 50 ms, ≤ 3 queries", p95_ms=50, max_queries=3)

    assert budget.verdict(p95_ms=40, queries=3) is True
    assert budget.verdict(p95_ms=60, queries=3) is False
    assert budget.verdict(p95_ms=40, queries=4) is False
    assert budget.verdict(p95_ms=40) is None  # queries not measured
    assert Budget("no figure").verdict(p95_ms=1) is None


# --- table and JSON -----------------------------------------------------------------


def _report() -> Report:
    page = scenarios.HttpScenario(
        name="card",
        title="client card",
        kind=Kind.PAGE,
        request=lambda context: RequestSpec("GET", "/"),
        budget=Budget("p95 ≤ 80 ms", p95_ms=80),
    )
    job = scenarios.BatchScenario(
        name="job", title="a job", run=dict, budget=Budget("≤ 60 s", seconds=60, peak_mb=500)
    )
    return Report(
        date="2026-11-22T10:00:00+00:00",
        cpu_count=2,
        counts={
            "customers.customer": 100_000,
            "customers.order": 250_000,
            "customers.orderline": 1_000_000,
            "customers.engagementevent": 1_300_000,
        },
        loading={"reused": False, "seconds": 95.5, "phases": {"seed_demo": 90.0}},
        versions={"postgresql": "15.20", "django": "5.2.19"},
        settings={
            "duration_s": 10,
            "warmup_s": 2,
            "connections": 2,
            "gunicorn_workers": 2,
            "load_tool": "wrk 4.1.0",
        },
        http=[
            HttpOutcome(http_scenario("bare"), load=_load(p95_ms=1.0, rps=3000), queries=0),
            HttpOutcome(http_scenario("admin-search"), load=_load(p95_ms=100.0, rps=30), queries=6),
            HttpOutcome(page, load=_load(p95_ms=25.0, rps=150, errors=3), queries=5),
            HttpOutcome(http_scenario("ingest-new"), load=_load(p95_ms=400, rps=4), queries=14),
            HttpOutcome(http_scenario("ingest-resend"), failure="the first request answered 500"),
        ],
        batch=[
            BatchOutcome(job, seconds=12.5, items=100_000, unit="clients", peak_rss_mb=85.2),
        ],
        wall_seconds=300.0,
    )


def test_table_prints_every_figure_with_its_ratios_and_budget():
    table = _report().table()

    assert "2 cores" in table
    assert "100,000 clients, 250,000 orders, 1,000,000 order lines" in table
    assert "loaded in 95.5 s" in table
    card = next(line for line in table.splitlines() if line.startswith("client card"))
    # p50, p95, req/s, queries, share of bare · p95 multiple, then against the admin.
    assert card.split()[2:6] == ["1.00", "25.0", "150", "req/s"]
    assert "5.0% · 25×" in card
    assert "500% · 0.25×" in card
    assert "p95 ≤ 80 ms: ok" in card
    ingest = next(line for line in table.splitlines() if line.startswith("bulk order ingest, new"))
    assert "4,000 lines/s" in ingest
    assert "12.5 s" in table and "1 clients/s" not in table
    assert "8,000 clients/s" in table
    assert "≤ 60 s: ok" in table
    assert "client card: 3 of 1,503 requests failed" in table
    assert "bulk order ingest, re-sent: FAILED: the first request answered 500" in table


def test_json_holds_the_same_figures_as_the_table(tmp_path):
    path = tmp_path / "out" / "bench.json"
    _report().write_json(path)

    data = json.loads(path.read_text())

    assert data["cpu_count"] == 2
    assert data["data"]["clients"] == 100_000
    assert data["data"]["order_lines"] == 1_000_000
    assert data["data"]["reasons"] is None
    by_name = {entry["name"]: entry for entry in data["http"]}
    assert by_name["card"]["load"]["p95_ms"] == 25.0
    assert by_name["card"]["rate_per_second"] == 150.0
    assert by_name["card"]["vs_bare"] == {"throughput": 0.05, "latency_p95": 25.0}
    assert by_name["card"]["vs_admin_search"] == {"throughput": 5.0, "latency_p95": 0.25}
    assert by_name["card"]["budget"] == {"text": "p95 ≤ 80 ms", "within": True}
    assert by_name["ingest-new"]["rate_per_second"] == 4000.0
    assert by_name["ingest-new"]["vs_admin_search"] is None  # the API is no page
    assert by_name["bare"]["vs_bare"] is None
    assert by_name["ingest-resend"]["failure"] == "the first request answered 500"
    assert data["batch"][0]["rate_per_second"] == 8000.0
    assert data["batch"][0]["budget"]["within"] is True


# --- registry -----------------------------------------------------------------------


def test_registry_names_are_unique_slugs_and_references_come_first():
    names = scenarios.all_names()

    assert len(names) == len(set(names))
    assert all(name == name.lower() and " " not in name for name in names)
    assert [s.name for s in scenarios.HTTP_SCENARIOS[:2]] == ["bare", "admin-search"]
    assert http_scenario("bare").kind == Kind.CEILING
    assert http_scenario("admin-search").kind == Kind.ADMIN


def test_choosing_a_page_also_runs_both_references_and_an_api_the_bare_one():
    http, batch = scenarios.select(["today"])
    assert [s.name for s in http] == ["bare", "admin-search", "today"]
    assert batch == []

    http, _ = scenarios.select(["ingest-new"])
    assert [s.name for s in http] == ["bare", "ingest-new"]

    http, batch = scenarios.select(["totals-refresh"])
    assert http == []
    assert [s.name for s in batch] == ["totals-refresh"]

    with pytest.raises(ValueError, match="unknown scenario"):
        scenarios.select(["nope"])


def test_rotating_bodies_get_new_ids_or_repeat_their_own():
    spec = RequestSpec("POST", "/x/", bodies=(f"a-{BATCH_PLACEHOLDER}", f"b-{BATCH_PLACEHOLDER}"))
    assert [spec.body_for(n, "m") for n in range(3)] == ["a-m-0", "b-m-1", "a-m-2"]

    resend = RequestSpec.from_dict({**spec.as_dict(), "repeat_bodies": True})
    assert [resend.body_for(n, "m") for n in range(3)] == ["a-r0", "b-r1", "a-r0"]


def test_lua_script_sets_headers_and_writes_one_body_per_line(tmp_path):
    spec = RequestSpec(
        "POST",
        "/api/",
        headers={"Authorization": 'Token "k"'},
        bodies=('{"a":1}', '{"b":"é"}'),
    )

    script = wrk.write_script(spec, tmp_path, "ingest").read_text()

    assert 'wrk.method = "POST"' in script
    assert 'wrk.headers["Authorization"] = "Token \\34k\\34"' in script
    assert "REPEAT_BODIES = false" in script
    assert "function done(summary, latency, requests)" in script
    assert (tmp_path / "ingest.bodies").read_text().splitlines() == ['{"a":1}', '{"b":"é"}']
    assert wrk.lua_string("é") == '"\\195\\169"'


def test_data_set_is_reused_only_with_the_same_size_and_loader():
    marker = {"customers": 100_000, "fingerprint": "abc"}

    assert dataset.decide(marker, mode="auto", customers=100_000, fingerprint="abc")[0]
    assert not dataset.decide(marker, mode="auto", customers=1_000, fingerprint="abc")[0]
    assert not dataset.decide(marker, mode="auto", customers=100_000, fingerprint="new")[0]
    assert not dataset.decide(None, mode="auto", customers=100_000, fingerprint="abc")[0]
    assert dataset.decide(marker, mode="reuse", customers=5, fingerprint="new")[0]
    assert not dataset.decide(marker, mode="rebuild", customers=100_000, fingerprint="abc")[0]
    with pytest.raises(dataset.DatasetError):
        dataset.decide(None, mode="reuse", customers=5, fingerprint="abc")


def test_reports_read_from_a_replica_only_when_one_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_REPLICA_URL", "postgres://elsewhere/not-the-bench")
    primary = "postgres://postgres@127.0.0.1:5432/clienteling_bench"
    replica = "postgres://postgres@127.0.0.1:5433/clienteling_bench"

    # An inherited replica never leaks into a run that did not ask for one.
    assert "DATABASE_REPLICA_URL" not in bench_environment(database_url=primary, var_dir=tmp_path)
    env = bench_environment(database_url=primary, var_dir=tmp_path, replica_url=replica)
    assert env["DATABASE_URL"] == primary
    assert env["DATABASE_REPLICA_URL"] == replica
    assert "performance" in scenarios.all_names()


def test_only_a_bench_database_is_ever_dropped():
    with pytest.raises(dataset.DatasetError, match="Refusing"):
        dataset.recreate_database("postgres://postgres@127.0.0.1:5432/clienteling")


def test_a_first_answer_with_item_errors_makes_the_scenario_fail():
    assert answer_problem(200, b'{"saved": [], "errors": []}', 200) is None
    assert "refused" in answer_problem(207, b'{"errors": [{"index": 0}]}', 207)
    assert "answered 302" in answer_problem(302, b"", 200)


# --- the ingest payload against the real API ----------------------------------------


def test_payload_builder_makes_orders_of_distinct_clients():
    payload = order_payload(
        customers=[CustomerRef(f"C-{n}", "nyc-soho") for n in range(3)],
        products=[ProductRef("SKU-1", Decimal("10.50")), ProductRef("SKU-2", Decimal("4.50"))],
        batch="b1",
        run_id="run",
        orders=3,
        lines_per_order=4,
        placed_at=datetime.datetime(2026, 11, 1, 12, tzinfo=datetime.UTC),
    )

    orders = payload["orders"]
    assert [order["customer"]["external_id"] for order in orders] == ["C-0", "C-1", "C-2"]
    assert orders[0]["external_id"] == "bench-run-b1-0000"
    assert orders[0]["total"] == "30.00"
    assert len(orders[0]["lines"]) == 4
    assert orders[0]["placed_at"] == "2026-11-01T12:00:00Z"
    with pytest.raises(ValueError, match="need 200 clients"):
        order_bodies(
            customers=[CustomerRef("C", "s")] * 100,
            products=[ProductRef("S", Decimal(1))],
            run_id="r",
            bodies=2,
        )


@pytest.fixture
def pos_clients(store):
    """100 clients the POS knows, and a catalog: enough for one body of 100 orders."""
    ProductFactory.create_batch(12)
    return Customer.objects.bulk_create(
        Customer(first_name="Client", last_name=f"N{n}", home_store=store, pos_customer_id=f"P{n}")
        for n in range(100)
    )


def _context(data, token="") -> Context:
    shared = {"api_token": token, "session_cookie": "sessionid", "sessions": {}}
    return Context(run_id="t1", shared=shared, data=data)


def _post(api_client, spec: RequestSpec, number: int):
    return api_client.generic(
        "POST", spec.path, spec.body_for(number, "p"), content_type="application/json"
    )


@pytest.mark.django_db
def test_ingest_payload_is_accepted_by_the_real_api(api_client, pos_clients, associate):
    scenario = http_scenario("ingest-new")
    data = scenario.prepare(None)
    spec = scenario.request(_context(data))

    response = _post(api_client, spec, 0)

    assert response.status_code == 200, response.json()
    assert len(response.json()["saved"]) == 100
    assert OrderLine.objects.count() == scenario.units_per_request == 1000
    # The next request of the rotation carries new external ids.
    assert _post(api_client, spec, 1).status_code == 200
    assert Order.objects.filter(external_id__startswith="bench-t1-p-").count() == 200


@pytest.mark.django_db
def test_resent_payload_takes_the_upsert_path(api_client, pos_clients):
    scenario = http_scenario("ingest-resend")
    spec = scenario.request(_context(scenario.prepare(None)))

    first = _post(api_client, spec, 0)
    again = _post(api_client, spec, len(spec.bodies))  # the same body, the same ids

    assert first.status_code == again.status_code == 200
    assert {item["created"] for item in again.json()["saved"]} == {False}
    assert OrderLine.objects.count() == 1000


# --- the child steps on a small data set --------------------------------------------


@pytest.mark.django_db
def test_prepare_signs_in_picks_data_and_queries_are_counted(pos_clients, associate, store):
    Customer.objects.filter(pk__in=[c.pk for c in pos_clients[:5]]).update(
        assigned_associate=associate
    )
    leftover = OrderFactory(customer=pos_clients[0], external_id="bench-old-1", total="50.00")
    Customer.objects.filter(pk=pos_clients[0].pk).update(lifetime_value=50, order_count=1)
    working_week(StaffMemberFactory(store=store, role="stylist"))
    AppointmentKindFactory(name="In-store try-on")

    every_page = [s.name for s in scenarios.HTTP_SCENARIOS]
    prepared = child.prepare({"scenarios": every_page})

    assert not Order.objects.filter(pk=leftover.pk).exists()
    assert prepared["cleanup"] == {"orders_removed": 1}
    assert Customer.objects.get(pk=pos_clients[0].pk).order_count == 0
    assert prepared["failures"] == {}
    assert prepared["shared"]["associate"] == "alice"  # the biggest book: no demo `ava` here
    assert (
        IntegrationToken.objects.usable()
        .filter(key_digest=key_digest(prepared["shared"]["api_token"]))
        .exists()
    )
    assert prepared["data"]["admin-search"]["last_name"].startswith("N")
    assert prepared["data"]["client-card"]["customer_id"] in {c.pk for c in pos_clients[:5]}
    assert prepared["counts"]["customers.customer"] == 100
    assert prepared["versions"]["postgresql"]

    specs = {
        name: http_scenario(name).request(
            Context(run_id="t2", shared=prepared["shared"], data=prepared["data"][name])
        )
        for name in every_page
    }
    counted = child.count_queries({"requests": {n: s.as_dict() for n, s in specs.items()}})

    assert counted["bare"] == {"queries": 0, "status": 200}
    assert {name: result["status"] for name, result in counted.items()} == {
        name: spec.expect_status for name, spec in specs.items()
    }
    assert counted["room-poll"] == {"queries": 1, "status": 204}  # nothing new: 204, cheaply
    assert counted["today"]["queries"] > 0
    assert counted["free-times"]["queries"] > 0


@pytest.mark.django_db
def test_totals_refresh_job_covers_every_client(store):
    customer = CustomerFactory(home_store=store)
    OrderFactory(customer=customer, total="120.00", subtotal="120.00")

    result = batch_scenario("totals-refresh").run()

    assert result == {"items": 1, "unit": "clients"}
    assert Customer.objects.get(pk=customer.pk).lifetime_value == Decimal("120.00")


@pytest.mark.django_db
def test_reasons_refresh_job_reports_what_it_opened(store):
    CustomerFactory(home_store=store)

    result = batch_scenario("reasons-refresh").run()

    assert result["items"] == 1
    assert set(result["details"]) == {"opened", "closed"}


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_reminder_fanout_delivers_every_due_message_through_real_workers(store, monkeypatch):
    from django.db import connection

    from customers.models import ConsentEvent, Message

    for n in range(12):
        customer = CustomerFactory(home_store=store, phone=f"+1212555{n:04d}")
        # Half agreed to texts, the other half to emails: both transports are used.
        ConsentEvent.objects.create(
            customer=customer, channel="sms" if n % 2 else "email", granted=True, source="associate"
        )
    # The fan-out's worker processes read the environment: point them at the test database.
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "tests.settings")
    monkeypatch.setenv(
        "DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}"
    )

    result = batch_scenario("reminder-fanout").run({"reminders": 10})

    details = result["details"]
    assert result["items"] == 10
    assert details["sms"] + details["email"] == 10
    assert details["sent"] + details["suppressed"] + details["deferred"] == 10
    # What the workers sent is in the transports' files, once each.
    assert details["sms_lines"] + details["emails"] == details["sent"]
    assert details["sms_lines"] > 0
    assert details["emails"] > 0
    assert result["peak_rss_mb"] > 0
    assert not Message.objects.exists()  # the data set is left as it was


@pytest.mark.django_db
def test_the_superusers_session_passes_the_second_factor_as_production_asks(
    pos_clients, associate, settings
):
    settings.TWO_FACTOR_REQUIRED = True
    prepared = child.prepare({"scenarios": ["admin-search", "room-poll"]})
    specs = {
        name: http_scenario(name).request(
            Context(run_id="t3", shared=prepared["shared"], data=prepared["data"][name])
        )
        for name in ("admin-search", "room-poll")
    }

    counted = child.count_queries({"requests": {n: s.as_dict() for n, s in specs.items()}})

    assert counted["admin-search"]["status"] == 200
    assert counted["room-poll"] == {"queries": 1, "status": 204}
