"""An import of a CSV export: how far it went (to resume it) and every row refused."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from clienteling.stores.models import Store


class ImportRun(models.Model):
    """One file imported for one store. A run that stopped (a crash, Ctrl-C, a deploy)
    resumes where it was: the same file (by its SHA-256) finds its run and skips the
    rows already done; the ingest is idempotent anyway, so a chunk done twice is harmless."""

    class Kind(models.TextChoices):
        CLIENTS = "clients", "Clients and consents"
        ORDERS = "orders", "Orders"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(max_length=255)
    file_hash = models.CharField(max_length=64, help_text="SHA-256 of the file.")
    rows_done = models.PositiveIntegerField(default=0, help_text="Data rows read so far.")
    rows_saved = models.PositiveIntegerField(default=0)
    rows_refused = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            # One run per file and store: running the same file again resumes it.
            models.UniqueConstraint(
                fields=["kind", "store", "file_hash"], name="history_import_once_per_file"
            ),
            models.CheckConstraint(
                condition=Q(rows_saved__lte=models.F("rows_done"))
                & Q(rows_refused__lte=models.F("rows_done")),
                name="history_import_counts_within_rows_done",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.file_name}"

    @property
    def is_finished(self) -> bool:
        return self.finished_at is not None


class RefusedRow(models.Model):
    """A row of the file that was not imported, and why (field messages)."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="refusals")
    row_number = models.PositiveIntegerField(help_text="Data row, 1 = the first after the header.")
    reference = models.CharField(max_length=100, blank=True, help_text="The row's id in the file.")
    reasons = models.JSONField()

    class Meta:
        ordering = ["run", "row_number"]
        constraints = [
            models.UniqueConstraint(fields=["run", "row_number"], name="history_refusal_once")
        ]

    def __str__(self) -> str:
        return f"Row {self.row_number} of run {self.run_id}"
