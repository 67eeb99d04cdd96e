"""A store's first import of its history from CSV exports: clients with their consents,
then orders, through the same services as the API (`customer_upsert_bulk`,
`consents_record`, `order_ingest_bulk`).

Why the standard `csv` module and not tablib (the catalog's import library): tablib
loads a whole file into memory before the first row is read, and an export of years
of orders runs to millions of lines. `csv.DictReader` streams it: memory stays flat
and rows are written in chunks, each chunk in one transaction with the run's progress,
so an interrupted import resumes at the first chunk not committed.

Clients file (one row per client; header names as below, any order, extra columns
ignored):
    customer_id (required: the id the POS knows them by), first_name, last_name, email,
    phone, birthday, anniversary, joined_at, associate (employee code), home_store
    (code; default the run's store), and per consent channel (email, sms, whatsapp,
    phone, push) ``<channel>_consent`` (yes / no / empty: never asked),
    ``<channel>_consent_at`` (when it was given), ``<channel>_consent_source`` (as the
    other tool says it: pos, web, client, email platform, sms... ; kept) and
    ``<channel>_consent_wording``.

Orders file (one row per order line, the lines of an order on consecutive rows):
    order_id, customer_id, placed_at, sku, unit_price (required); quantity (1),
    line_total, size, colour, description, channel (store), store (the run's store),
    associate, currency (USD), subtotal, discount, tax, total (default: the lines'
    sum), status (completed).
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from rest_framework.exceptions import ValidationError
from rest_framework.fields import empty

from clienteling.stores.models import Store
from customers.api import CustomerBulkUpsertApi, OrderBulkIngestApi
from customers.models import Source, consent_channel_choices
from customers.services.consent import ConsentChange, consents_record
from customers.services.ingest import customer_upsert_bulk, order_ingest_bulk

from .models import ImportRun, RefusedRow

CLIENT_COLUMNS = {"customer_id"}
ORDER_COLUMNS = {"order_id", "customer_id", "placed_at", "sku", "unit_price"}
CLIENT_CHUNK_ROWS = 1000
ORDER_CHUNK_LINES = 5000

YES = {"yes", "y", "true", "1", "granted", "subscribed", "opt-in", "opted in", "oui"}
NO = {"no", "n", "false", "0", "revoked", "unsubscribed", "opt-out", "opted out", "non"}
# How other tools name where a consent came from, onto ours. Sources a member of staff
# answers for (an associate, a questionnaire) become "import": the person is not known
# here. What the other tool said is kept in the consent's wording either way.
CONSENT_SOURCES = {
    "pos": Source.POS,
    "till": Source.POS,
    "store": Source.POS,
    "in store": Source.POS,
    "web": Source.ECOMMERCE,
    "online": Source.ECOMMERCE,
    "ecommerce": Source.ECOMMERCE,
    "e-commerce": Source.ECOMMERCE,
    "shop": Source.ECOMMERCE,
    "client": Source.CLIENT,
    "self": Source.CLIENT,
    "email platform": Source.EMAIL_PLATFORM,
    "email_platform": Source.EMAIL_PLATFORM,
    "newsletter": Source.EMAIL_PLATFORM,
    "sms": Source.SMS_REPLY,
    "sms reply": Source.SMS_REPLY,
    "sms_reply": Source.SMS_REPLY,
}


class _Validator:
    """The API's input serializer, built once and run on each item, as DRF's own list
    serializer does (`run_validation` per child): building a serializer per row deep-copies
    its fields every time, which cost two thirds of an import's time."""

    def __init__(self, serializer_class) -> None:
        self.serializer = serializer_class()

    def __call__(self, data: dict) -> tuple[dict | None, dict | None]:
        try:
            return self.serializer.run_validation(data), None
        except ValidationError as error:
            detail = error.detail
            return None, detail if isinstance(detail, dict) else {"non_field_errors": detail}


class _OrderHead(OrderBulkIngestApi.InputSerializer):
    """The API's order serializer without its lines: the rules `_OrderHeadCheck` applies
    to an order's own fields (the lines are checked by `_line`)."""

    lines = None


# What an export holds when nothing is wrong: checked here in a few microseconds, as
# the API's serializer would accept it and with the value it would give. Anything else
# (and every date) goes through the serializer's own field, for its exact answer.
_AMOUNT = re.compile(r"\d{1,10}(?:\.\d{1,2})?", re.ASCII)
_SLUG = re.compile(r"[-a-zA-Z0-9_]+")
_CURRENCY = re.compile(r"[A-Z]{3}")
_CENT = Decimal("0.01")


class _OrderHeadCheck:
    """An order's own fields from an export, checked as `_OrderHead` checks them (same
    answers, values and messages: tests/integrations/test_history_import.py holds the two
    together) for a fraction of the cost: running the serializer on each of an export's
    orders was a fifth of an import's time."""

    def __init__(self) -> None:
        self.serializer = _OrderHead()
        self.fields = self.serializer.fields
        self.customer_fields = self.fields["customer"].fields

    @staticmethod
    def _text(value: str, limit: int) -> bool:
        return 0 < len(value) <= limit and "\x00" not in value

    @staticmethod
    def _check(field, value: Any, fast: Any, into: dict, name: str, errors: dict) -> None:
        """`fast`: the value as the field gives it when it is plainly valid, else None
        (the field itself answers, with its messages)."""
        if fast is not None:
            into[name] = fast
            return
        try:
            into[name] = field.run_validation(value)
        except ValidationError as error:
            errors[name] = error.detail

    def __call__(self, item: dict[str, Any]) -> tuple[dict | None, dict | None]:
        fields, check, text = self.fields, self._check, self._text
        data: dict[str, Any] = {}
        errors: dict[str, Any] = {}
        for name in ("channel", "status"):
            value = item.get(name, empty)
            fast = fields[name].choice_strings_to_values.get(value) if value is not empty else None
            check(fields[name], value, fast, data, name, errors)
        value = item["external_id"]
        check(
            fields["external_id"],
            value,
            value if text(value, 64) else None,
            data,
            "external_id",
            errors,
        )
        customer: dict[str, Any] = {}
        customer_errors: dict[str, Any] = {}
        reference = item["customer"]
        value = str(reference["source"])
        source = self.customer_fields["source"]
        check(
            source,
            value,
            source.choice_strings_to_values.get(value),
            customer,
            "source",
            customer_errors,
        )
        value = reference["external_id"]
        check(
            self.customer_fields["external_id"],
            value,
            value if text(value, 64) else None,
            customer,
            "external_id",
            customer_errors,
        )
        data["customer"] = customer
        if customer_errors:
            errors["customer"] = customer_errors
        if "store" in item:
            value = item["store"]
            fast = value if len(value) <= 32 and _SLUG.fullmatch(value) else None
            check(fields["store"], value, fast, data, "store", errors)
        if "associate" in item:
            value = item["associate"]
            check(
                fields["associate"],
                value,
                value if text(value, 32) else None,
                data,
                "associate",
                errors,
            )
        check(fields["placed_at"], item.get("placed_at", empty), None, data, "placed_at", errors)
        value = item.get("currency", empty)
        fast = value if value is not empty and _CURRENCY.fullmatch(value) else None
        check(fields["currency"], value, fast, data, "currency", errors)
        for name in ("subtotal", "discount", "tax", "total"):
            field = fields[name]
            if name in item:
                value = item[name]
                fast = Decimal(value).quantize(_CENT) if _AMOUNT.fullmatch(value) else None
                check(field, value, fast, data, name, errors)
            elif field.default is not empty:
                data[name] = field.get_default()
            elif field.required:
                check(field, empty, None, data, name, errors)
        if errors:
            return None, errors
        try:
            return self.serializer.validate(data), None
        except ValidationError as error:
            return None, error.detail


LINE_TEXT_LIMITS = {"sku": 64, "size": 16, "colour": 60, "description": 200}


def _decimal(value: str, *, digits: int) -> tuple[Decimal | None, str | None]:
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None, "A valid number is required."
    if not number.is_finite():
        return None, "A valid number is required."
    if number < 0:
        return None, "Ensure this value is greater than or equal to 0."
    if number != number.quantize(Decimal("0.01")):
        return None, "Ensure that there are no more than 2 decimal places."
    if abs(number) >= Decimal(10) ** (digits - 2):
        return None, f"Ensure that there are no more than {digits} digits in total."
    return number.quantize(Decimal("0.01")), None


def _line(row: dict[str, str]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """One order line of an export, checked as `OrderLineInputSerializer` checks a line of
    the API (tests/integrations/test_history_import.py holds the two to the same answers)."""
    line: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, limit in LINE_TEXT_LIMITS.items():
        value = row.get(name, "")
        if "\x00" in value:
            errors[name] = ["Null characters are not allowed."]
        elif len(value) > limit:
            errors[name] = [f"Ensure this field has no more than {limit} characters."]
        elif value or name == "sku":
            line[name] = value
    if not row.get("sku"):
        errors["sku"] = ["This field may not be blank."]
    quantity = row.get("quantity") or "1"
    if not quantity.isdigit() or not 1 <= int(quantity) <= 10_000:
        errors["quantity"] = ["A whole number from 1 to 10000."]
    else:
        line["quantity"] = int(quantity)
    price, error = _decimal(row.get("unit_price", ""), digits=10)
    if error:
        errors["unit_price"] = [error]
    else:
        line["unit_price"] = price
    if row.get("line_total"):
        total, error = _decimal(row["line_total"], digits=12)
        if error:
            errors["line_total"] = [error]
        else:
            line["line_total"] = total
    return line, errors


class ImportFileError(Exception):
    """The file cannot be imported at all (missing, not CSV, a required column absent)."""


@dataclass
class RowRefusal:
    row_number: int
    reference: str
    reasons: dict[str, Any]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as error:
        raise ImportFileError(f"Cannot read {path}: {error.strerror}.") from error
    return digest.hexdigest()


def _rows(path: Path, required: set[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """(data row number, row with stripped values and lower-case headers), streamed."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as error:
        raise ImportFileError(f"Cannot read {path}: {error.strerror}.") from error
    with handle:
        reader = csv.DictReader(handle)
        try:
            header = [name.strip().lower() for name in reader.fieldnames or []]
        except (csv.Error, UnicodeDecodeError) as error:
            raise ImportFileError(f"{path.name} is not a UTF-8 CSV file: {error}") from error
        missing = sorted(required - set(header))
        if missing:
            raise ImportFileError(f"{path.name} lacks the column(s): {', '.join(missing)}.")
        reader.fieldnames = header
        number = 0
        try:
            for row in reader:
                number += 1
                yield (
                    number,
                    {
                        key: (value or "").strip()
                        for key, value in row.items()
                        if key is not None and isinstance(value, str)
                    },
                )
        except (csv.Error, UnicodeDecodeError) as error:
            raise ImportFileError(f"{path.name}, row {number + 1}: {error}") from error


def _run_for(*, kind: str, path: Path, store: Store, required: set[str], by=None) -> ImportRun:
    """The run of this file for this store: a new one, or the one to resume. A file that
    cannot be read, or lacks a required column, is refused before any run is made."""
    next(_rows(path, required), None)
    run, _ = ImportRun.objects.get_or_create(
        kind=kind,
        store=store,
        file_hash=file_sha256(path),
        defaults={"file_name": path.name[:255], "started_by": by},
    )
    return run


def _save_chunk(run: ImportRun, *, rows: int, saved: int, refusals: list[RowRefusal]) -> None:
    """Progress and refusals of one chunk, in the chunk's transaction."""
    RefusedRow.objects.bulk_create(
        [
            RefusedRow(
                run=run,
                row_number=refusal.row_number,
                reference=refusal.reference[:100],
                reasons=refusal.reasons,
            )
            for refusal in refusals
        ],
        ignore_conflicts=True,  # a chunk done again after a crash between two commits
    )
    run.rows_done += rows
    run.rows_saved += saved
    run.rows_refused += len(refusals)
    run.save(update_fields=["rows_done", "rows_saved", "rows_refused", "updated_at"])


def _datetime(value: str) -> datetime.datetime | None:
    """An ISO date-time, or a date (midnight, in the current time zone)."""
    if not value:
        return None
    try:
        parsed = parse_datetime(value)
        if parsed is None:
            day = parse_date(value)
            if day is None:
                raise ValueError
            parsed = datetime.datetime.combine(day, datetime.time())
    except ValueError as error:
        raise ValueError(f"“{value}” is not a date (YYYY-MM-DD or ISO 8601).") from error
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


# --- clients ------------------------------------------------------------------------


def _consents(row: dict[str, str], errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    consents = []
    now = timezone.now()
    for channel, _ in consent_channel_choices():
        answer = row.get(f"{channel}_consent", "").lower()
        if not answer:
            continue
        field = f"{channel}_consent"
        if answer not in YES | NO:
            errors[field] = [f"“{answer}” is neither yes nor no."]
            continue
        try:
            at = _datetime(row.get(f"{channel}_consent_at", ""))
        except ValueError as error:
            errors[f"{field}_at"] = [str(error)]
            continue
        if at is not None and at > now:
            errors[f"{field}_at"] = ["A consent cannot be recorded in the future."]
            continue
        said = row.get(f"{channel}_consent_source", "")
        source = CONSENT_SOURCES.get(said.lower(), Source.IMPORT)
        wording = row.get(f"{channel}_consent_wording", "")
        if said:
            wording = f"{wording} (recorded as “{said}” in the previous tool)".strip()
        consents.append(
            {
                "channel": channel,
                "granted": answer in YES,
                "source": source,
                "wording": wording[:2000],
                "at": at,
            }
        )
    return consents


def _client_item(row: dict[str, str], store: Store) -> dict[str, Any]:
    item: dict[str, Any] = {
        "source": Source.POS,
        "external_id": row.get("customer_id", ""),
        "home_store": row.get("home_store") or store.code,
        "joined_via": "import",
    }
    for name in ("first_name", "last_name", "email", "phone", "birthday", "anniversary"):
        if row.get(name):
            item[name] = row[name]
    if row.get("joined_at"):
        item["joined_at"] = row["joined_at"]
    if row.get("associate"):
        item["assigned_associate"] = row["associate"]
    return item


def _clients_chunk(
    run: ImportRun, chunk: list[tuple[int, dict[str, str]]], store: Store
) -> tuple[int, list[RowRefusal]]:
    refusals: list[RowRefusal] = []
    valid: list[tuple[int, dict]] = []
    consents_by_index: dict[int, list[dict]] = {}
    validate = _Validator(CustomerBulkUpsertApi.InputSerializer)
    for number, row in chunk:
        reference = row.get("customer_id", "")
        errors: dict[str, Any] = {}
        consents = _consents(row, errors)
        data, field_errors = validate(_client_item(row, store))
        if field_errors:
            errors.update(field_errors)
        if errors:
            refusals.append(RowRefusal(number, reference, errors))
            continue
        valid.append((number, data))
        consents_by_index[number] = consents
    saved = 0
    with transaction.atomic():
        if valid:
            result = customer_upsert_bulk(items=valid)
            refusals += [
                RowRefusal(error["index"], error["external_id"] or "", error["errors"])
                for error in result.errors
            ]
            consents_record(
                changes=[
                    ConsentChange(
                        customer_id=entry["id"],
                        channel=consent["channel"],
                        granted=consent["granted"],
                        source=consent["source"],
                        wording=consent["wording"],
                        at=consent["at"],
                    )
                    for entry in result.saved
                    for consent in consents_by_index[entry["index"]]
                ]
            )
            saved = len(result.saved)
        _save_chunk(run, rows=len(chunk), saved=saved, refusals=refusals)
    return saved, refusals


# --- orders -------------------------------------------------------------------------


def _money(value: str) -> Decimal | None:
    try:
        return Decimal(value) if value else None
    except InvalidOperation:
        return None


def _order_item(lines: list[tuple[int, dict[str, str]]], store: Store) -> dict[str, Any]:
    first = lines[0][1]
    item: dict[str, Any] = {
        "channel": first.get("channel") or "store",
        "external_id": first.get("order_id", ""),
        "customer": {"source": Source.POS, "external_id": first.get("customer_id", "")},
        "placed_at": first.get("placed_at", ""),
        "currency": first.get("currency") or "USD",
        "status": first.get("status") or "completed",
        "lines": [],
    }
    store_code = first.get("store") or (store.code if item["channel"] == "store" else "")
    if store_code:
        item["store"] = store_code
    for name in ("associate", "subtotal", "discount", "tax", "total"):
        if first.get(name):
            item[name] = first[name]
    computed_total = Decimal("0")
    for _, row in lines:
        line: dict[str, Any] = {
            "sku": row.get("sku", ""),
            "quantity": row.get("quantity") or 1,
            "unit_price": row.get("unit_price", ""),
        }
        for name in ("line_total", "size", "colour", "description"):
            if row.get(name):
                line[name] = row[name]
        item["lines"].append(line)
        price, total = _money(row.get("unit_price", "")), _money(row.get("line_total", ""))
        quantity = _money(row.get("quantity") or "1") or Decimal("1")
        computed_total += total if total is not None else (price or Decimal("0")) * quantity
    item.setdefault("total", str(computed_total.quantize(Decimal("0.01"))))
    return item


def _orders_chunk(
    run: ImportRun, orders: list[list[tuple[int, dict[str, str]]]], store: Store
) -> tuple[int, list[RowRefusal]]:
    refusals: list[RowRefusal] = []
    valid: list[tuple[int, dict]] = []
    rows_of: dict[int, list[int]] = {}
    validate = _OrderHeadCheck()
    for lines in orders:
        number = lines[0][0]
        reference = lines[0][1].get("order_id", "")
        rows_of[number] = [row_number for row_number, _ in lines]
        item = _order_item(lines, store)
        data, errors = validate(item)
        errors = dict(errors or {})
        checked = []
        line_errors = {}
        for position, (_, row) in enumerate(lines):
            line, problems = _line(row)
            if problems:
                line_errors[str(position)] = problems
            checked.append(line)
        if len(checked) > 500:
            line_errors["non_field_errors"] = ["Ensure this field has no more than 500 elements."]
        if line_errors:
            errors["lines"] = line_errors
        if errors:
            refusals += [RowRefusal(n, reference, errors) for n in rows_of[number]]
        else:
            valid.append((number, {**data, "lines": checked}))
    saved = 0
    with transaction.atomic():
        if valid:
            result = order_ingest_bulk(items=valid)
            for error in result.errors:
                refusals += [
                    RowRefusal(n, error["external_id"] or "", error["errors"])
                    for n in rows_of[error["index"]]
                ]
            saved = sum(len(rows_of[entry["index"]]) for entry in result.saved)
        _save_chunk(run, rows=sum(len(lines) for lines in orders), saved=saved, refusals=refusals)
    return saved, refusals


def _order_groups(
    rows: Iterator[tuple[int, dict[str, str]]],
) -> Iterator[list[tuple[int, dict[str, str]]]]:
    """Consecutive rows of one order, together."""
    group: list[tuple[int, dict[str, str]]] = []
    for number, row in rows:
        if group and row.get("order_id", "") != group[0][1].get("order_id", ""):
            yield group
            group = []
        group.append((number, row))
    if group:
        yield group


# --- the import ---------------------------------------------------------------------

Progress = Callable[[ImportRun], None]


def history_import_clients(
    *, path: Path, store: Store, by=None, progress: Progress | None = None
) -> ImportRun:
    """Import (or resume importing) a clients file for `store`."""
    run = _run_for(
        kind=ImportRun.Kind.CLIENTS, path=path, store=store, required=CLIENT_COLUMNS, by=by
    )
    if run.is_finished:
        return run
    chunk: list[tuple[int, dict[str, str]]] = []
    for number, row in _rows(path, CLIENT_COLUMNS):
        if number <= run.rows_done:
            continue  # done before the interruption
        chunk.append((number, row))
        if len(chunk) >= CLIENT_CHUNK_ROWS:
            _clients_chunk(run, chunk, store)
            chunk = []
            if progress:
                progress(run)
    if chunk:
        _clients_chunk(run, chunk, store)
    run.finished_at = timezone.now()
    run.save(update_fields=["finished_at", "updated_at"])
    if progress:
        progress(run)
    return run


def history_import_orders(
    *, path: Path, store: Store, by=None, progress: Progress | None = None
) -> ImportRun:
    """Import (or resume importing) an orders file (one row per line) for `store`.
    Chunks end on an order's last line, so a resumed run never splits an order."""
    run = _run_for(
        kind=ImportRun.Kind.ORDERS, path=path, store=store, required=ORDER_COLUMNS, by=by
    )
    if run.is_finished:
        return run
    pending = (
        (number, row)
        for number, row in _rows(
            path, {"order_id", "customer_id", "placed_at", "sku", "unit_price"}
        )
        if number > run.rows_done
    )
    chunk: list[list[tuple[int, dict[str, str]]]] = []
    lines = 0
    for group in _order_groups(pending):
        chunk.append(group)
        lines += len(group)
        if lines >= ORDER_CHUNK_LINES:
            _orders_chunk(run, chunk, store)
            chunk, lines = [], 0
            if progress:
                progress(run)
    if chunk:
        _orders_chunk(run, chunk, store)
    run.finished_at = timezone.now()
    run.save(update_fields=["finished_at", "updated_at"])
    if progress:
        progress(run)
    return run


REPORT_HEADER = ["file", "row", "id", "field", "why"]


def refused_rows_csv(run: ImportRun, out, *, header: bool = True) -> int:
    """Write the run's refused rows as CSV (file, row, id, field, message): one line per
    message, streamed from the database."""
    writer = csv.writer(out)
    if header:
        writer.writerow(REPORT_HEADER)
    written = 0
    for refusal in run.refusals.order_by("row_number").iterator(chunk_size=2000):
        for field, message in _flatten(refusal.reasons):
            writer.writerow([run.file_name, refusal.row_number, refusal.reference, field, message])
            written += 1
    return written


def _flatten(reasons: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(reasons, dict):
        for key, value in reasons.items():
            yield from _flatten(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(reasons, list):
        for value in reasons:
            yield from _flatten(value, prefix)
    else:
        yield prefix, str(reasons)
