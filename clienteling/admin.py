"""Managers' actions on clients' data and books: export, erase, merge duplicates, hand a
book to a colleague.

Composed here, in the top layer, like the operations they call (`clienteling.privacy`):
exporting or merging a client reaches into appointments, which `customers/admin.py` may
not import, and reassigning a book from the StaffMember admin writes on clients, which
`clienteling/stores/admin.py` (the bottom layer) may not import. So the two admins are
extended and registered again here; the admin site imports this module last
(`clienteling` is the last installed app), after both originals are registered.

Every action checks, besides the admin permission, that the user manages the clients'
store (or is a superuser), and answers bad input with a message or the form again,
never an error page.
"""

from __future__ import annotations

import io
import json
import zipfile

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from appointments.models import Appointment, MakeoverMedia
from clienteling.core.errors import ApplicationError
from clienteling.stores.admin import StaffMemberAdmin as StaffMemberAdminBase
from clienteling.stores.models import StaffMember
from clienteling.stores.scoping import managed_store_ids
from customers.admin import CustomerAdmin as CustomerAdminBase
from customers.models import Customer
from customers.services import book_reassign, customer_is_erased, manages_store

from .privacy import customer_erase, customer_export, customer_merge

# Several clients export as a zip of one file each; more than this at once is refused
# (each file is built in memory, and a bulk dump of clients is not an access request).
EXPORT_MAX_CLIENTS = 20
# A confirmation page carries the ids it acts on: Django refuses a POST of more than
# DATA_UPLOAD_MAX_NUMBER_FIELDS (1,000) fields. Whole books go by the StaffMember action.
ASSIGN_MAX_CLIENTS = 500


class EraseForm(forms.Form):
    confirm_name = forms.CharField(
        label="Type the client's full name to confirm", max_length=201, required=True
    )

    def __init__(self, *args, customer: Customer, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.customer = customer

    def clean_confirm_name(self) -> str:
        typed = " ".join(self.cleaned_data["confirm_name"].split())
        if typed.casefold() != " ".join(self.customer.full_name.split()).casefold():
            raise ValidationError("That is not the client's name: nothing was erased.")
        return typed


class MergeForm(forms.Form):
    survivor = forms.TypedChoiceField(
        label="Keep this record (the other one is merged into it, then deleted)",
        coerce=int,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, clients: list[Customer], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["survivor"].choices = [
            (client.pk, f"#{client.pk} {client.full_name}") for client in clients
        ]


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: StaffMember) -> str:
        return f"{obj.display_name} ({obj.get_role_display().lower()}, {obj.store.name})"


class ReassignForm(forms.Form):
    to_staff = StaffChoiceField(queryset=StaffMember.objects.none(), label="Give the clients to")

    def __init__(self, *args, staff: QuerySet[StaffMember], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_staff"].queryset = staff


def _confirmation(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    template: str,
    *,
    action: str,
    selected: list[int],
    **context,
) -> TemplateResponse:
    """An action's confirmation page: it posts back to the changelist with the same
    action and rows, plus `confirm` and the form's fields."""
    return TemplateResponse(
        request,
        template,
        {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.model._meta,
            "action": action,
            "selected": selected,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "changelist_url": reverse(
                f"admin:{model_admin.model._meta.app_label}_"
                f"{model_admin.model._meta.model_name}_changelist"
            ),
            **context,
        },
    )


def _posted(request: HttpRequest) -> dict | None:
    """The confirmation's answer, or None when the action was just chosen in the list."""
    return request.POST if request.POST.get("confirm") == "yes" else None


def _assignable_staff(request: HttpRequest) -> QuerySet[StaffMember]:
    """Active associates and stylists a user may hand clients to: of the store they
    manage, or of every store for a superuser."""
    staff = StaffMember.objects.active().associates().select_related("user", "store")
    stores = managed_store_ids(request.user)
    if stores is None:
        return staff.order_by("store__name", "user__first_name", "user__last_name")
    return staff.filter(store_id__in=stores)


admin.site.unregister(Customer)


@admin.register(Customer)
class CustomerAdmin(CustomerAdminBase):
    actions = [
        *CustomerAdminBase.actions,
        "export_json",
        "erase",
        "merge_duplicates",
        "assign_to_associate",
    ]

    def _refuse_other_stores(
        self, request: HttpRequest, clients: list[Customer], verb: str
    ) -> bool:
        stores = {client.home_store_id for client in clients}
        if all(manages_store(user=request.user, store_id=store_id) for store_id in stores):
            return False
        self.message_user(
            request, f"You can {verb} only clients of the store you manage.", messages.ERROR
        )
        return True

    @admin.action(description="Export as JSON (one file per client)", permissions=["view"])
    def export_json(self, request: HttpRequest, queryset: QuerySet[Customer]):
        clients = list(
            queryset.select_related("home_store").order_by("pk")[: EXPORT_MAX_CLIENTS + 1]
        )
        if not clients:
            # Another store's clients are not in this manager's list, so not in the action.
            self.message_user(request, "Choose clients of your store to export.", messages.ERROR)
            return None
        if len(clients) > EXPORT_MAX_CLIENTS:
            self.message_user(
                request,
                f"Export at most {EXPORT_MAX_CLIENTS} clients at once: nothing was exported.",
                messages.ERROR,
            )
            return None
        if self._refuse_other_stores(request, clients, "export"):
            return None
        files = {
            f"client-{client.pk}.json": json.dumps(
                customer_export(customer=client, request=request), indent=2, ensure_ascii=False
            )
            for client in clients
        }
        if len(files) == 1:
            [(name, text)] = files.items()
            response = HttpResponse(text, content_type="application/json; charset=utf-8")
        else:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for file_name, text in files.items():
                    archive.writestr(file_name, text)
            name = f"clients-{timezone.localdate():%Y-%m-%d}.zip"
            response = HttpResponse(buffer.getvalue(), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["Cache-Control"] = "private, no-store"
        return response

    @admin.action(description="Erase this client…", permissions=["change"])
    def erase(self, request: HttpRequest, queryset: QuerySet[Customer]):
        clients = list(queryset.select_related("home_store")[:2])
        if len(clients) != 1:
            self.message_user(request, "Choose exactly one client to erase.", messages.WARNING)
            return None
        customer = clients[0]
        if self._refuse_other_stores(request, clients, "erase"):
            return None
        form = EraseForm(_posted(request), customer=customer)
        if form.is_valid():
            try:
                counts = customer_erase(customer=customer, by=request.user, request=request)
            except ApplicationError as error:
                self.message_user(request, error.message, messages.ERROR)
                return None
            # No name in the message: it is kept in the session until shown.
            self.message_user(
                request,
                f"Client #{customer.pk} erased. {counts.get('orders_kept', 0)} order(s) and "
                f"{counts.get('appointments_kept', 0)} appointment(s) stay as anonymous "
                "figures; everything that described the person is gone.",
                messages.SUCCESS,
            )
            return None
        return _confirmation(
            self,
            request,
            "admin/customers/customer_erase.html",
            action="erase",
            selected=[customer.pk],
            title="Erase this client?",
            customer=customer,
            already_erased=customer_is_erased(customer),
            form=form,
            orders=customer.orders.count(),
            appointments=Appointment.objects.filter(customer=customer).count(),
            media=MakeoverMedia.objects.filter(session__customer=customer).count(),
        )

    @admin.action(description="Merge two duplicates…", permissions=["change"])
    def merge_duplicates(self, request: HttpRequest, queryset: QuerySet[Customer]):
        clients = list(queryset.select_related("home_store").order_by("pk")[:3])
        if len(clients) != 2:
            self.message_user(
                request,
                "Choose exactly two clients: the two records of one person.",
                messages.WARNING,
            )
            return None
        if self._refuse_other_stores(request, clients, "merge"):
            return None
        if clients[0].home_store_id != clients[1].home_store_id and not request.user.is_superuser:
            self.message_user(
                request,
                "These clients belong to different stores: only an administrator can merge them.",
                messages.ERROR,
            )
            return None
        form = MergeForm(_posted(request), clients=clients)
        if form.is_valid():
            survivor, duplicate = sorted(
                clients, key=lambda client: client.pk != form.cleaned_data["survivor"]
            )
            try:
                survivor = customer_merge(
                    survivor=survivor, duplicate=duplicate, by=request.user, request=request
                )
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                self.message_user(
                    request,
                    f"Client #{duplicate.pk} merged into #{survivor.pk}: its history is here now.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:customers_customer_change", args=[survivor.pk])
                )
        return _confirmation(
            self,
            request,
            "admin/customers/customer_merge.html",
            action="merge_duplicates",
            selected=[client.pk for client in clients],
            title="Merge two records of one client",
            clients=clients,
            form=form,
        )

    @admin.action(description="Assign to associate…", permissions=["change"])
    def assign_to_associate(self, request: HttpRequest, queryset: QuerySet[Customer]):
        ids = list(queryset.order_by("pk").values_list("pk", flat=True)[: ASSIGN_MAX_CLIENTS + 1])
        if len(ids) > ASSIGN_MAX_CLIENTS:
            self.message_user(
                request,
                f"Choose at most {ASSIGN_MAX_CLIENTS} clients here; to hand over a whole "
                "book, use “Reassign their clients to…” on the associate.",
                messages.WARNING,
            )
            return None
        form = ReassignForm(_posted(request), staff=_assignable_staff(request))
        if form.is_valid():
            to_staff = form.cleaned_data["to_staff"]
            try:
                moved = book_reassign(
                    from_staff=None, to_staff=to_staff, customer_ids=ids, by=request.user
                )
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                self.message_user(
                    request,
                    f"{moved} client(s) now with {to_staff.display_name}.",
                    messages.SUCCESS,
                )
                return None
        return _confirmation(
            self,
            request,
            "admin/customers/book_reassign.html",
            action="assign_to_associate",
            selected=ids,
            title="Assign clients to an associate",
            summary=f"{len(ids)} client(s) selected.",
            form=form,
        )


admin.site.unregister(StaffMember)


@admin.register(StaffMember)
class StaffMemberAdmin(StaffMemberAdminBase):
    actions = [*StaffMemberAdminBase.actions, "reassign_clients"]

    def has_reassign_permission(self, request: HttpRequest) -> bool:
        # It writes on clients: the manager needs to be allowed to change them too.
        return self.has_change_permission(request) and request.user.has_perm(
            "customers.change_customer"
        )

    @admin.action(description="Reassign their clients to…", permissions=["reassign"])
    def reassign_clients(self, request: HttpRequest, queryset: QuerySet[StaffMember]):
        members = list(queryset.select_related("user", "store")[:2])
        if len(members) != 1:
            self.message_user(
                request, "Choose one person whose clients to reassign.", messages.WARNING
            )
            return None
        from_staff = members[0]
        if not manages_store(user=request.user, store_id=from_staff.store_id):
            self.message_user(
                request, "You can reassign only the books of your own store.", messages.ERROR
            )
            return None
        staff = _assignable_staff(request).exclude(pk=from_staff.pk)
        if not request.user.is_superuser:
            staff = staff.filter(store_id=from_staff.store_id)
        form = ReassignForm(_posted(request), staff=staff)
        if form.is_valid():
            to_staff = form.cleaned_data["to_staff"]
            try:
                moved = book_reassign(from_staff=from_staff, to_staff=to_staff, by=request.user)
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                self.message_user(
                    request,
                    f"{moved} client(s) of {from_staff.display_name} now with "
                    f"{to_staff.display_name}.",
                    messages.SUCCESS,
                )
                return None
        book = Customer.objects.filter(assigned_associate=from_staff).count()
        return _confirmation(
            self,
            request,
            "admin/customers/book_reassign.html",
            action="reassign_clients",
            selected=[from_staff.pk],
            title=f"Reassign the clients of {from_staff.display_name}",
            summary=(
                f"{from_staff.display_name} looks after {book} client(s): all of them go to the "
                "person you choose. To move only some, select them in the client list and "
                "use “Assign to associate…”."
            ),
            form=form,
        )
