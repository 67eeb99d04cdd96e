"""History imports in the admin: progress, and the refused rows as a CSV download."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from clienteling.stores.scoping import ReadOnlyAdminMixin, StoreScopedAdmin

from .models import ImportRun
from .services import refused_rows_csv


@admin.register(ImportRun)
class ImportRunAdmin(ReadOnlyAdminMixin, StoreScopedAdmin):
    store_path = "store"
    list_display = [
        "file_name",
        "kind",
        "store",
        "rows_done",
        "rows_saved",
        "rows_refused",
        "started_at",
        "finished_at",
        "report",
    ]
    list_select_related = ["store"]
    list_filter = ["kind", "store"]
    readonly_fields = ["report"]

    def get_urls(self):
        return [
            path(
                "<int:run_id>/refused.csv",
                self.admin_site.admin_view(self.refused_csv),
                name="history_import_importrun_refused",
            ),
            *super().get_urls(),
        ]

    @admin.display(description="refused rows")
    def report(self, obj: ImportRun) -> str:
        if not obj.rows_refused:
            return "none"
        url = reverse("admin:history_import_importrun_refused", args=[obj.pk])
        return format_html('<a href="{}">Download ({} rows)</a>', url, obj.rows_refused)

    def refused_csv(self, request: HttpRequest, run_id: int) -> HttpResponse:
        if not self.has_view_permission(request):
            return HttpResponse(status=403)
        # A manager downloads their own store's refusals only (the list's own scoping).
        run = get_object_or_404(self.get_queryset(request), pk=run_id)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="refused-rows-{run.pk}.csv"'
        refused_rows_csv(run, response)
        return response
