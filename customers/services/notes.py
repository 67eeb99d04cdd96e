from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from clienteling.core.errors import ApplicationError

from ..models import Customer, Note

NOTE_MAX_LENGTH = 5000


def note_text_clean(text: str) -> str:
    """The note's text as it is kept; ApplicationError (field "text") if it cannot be."""
    return _clean_text(text)


def _clean_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise ApplicationError("Write something before saving the note.", field="text")
    if len(text) > NOTE_MAX_LENGTH:
        raise ApplicationError(f"Keep notes under {NOTE_MAX_LENGTH} characters.", field="text")
    return text


@transaction.atomic
def note_add(
    *, customer: Customer, author: AbstractBaseUser, text: str, pinned: bool = False
) -> Note:
    """Add a note to a client's card."""
    return Note.objects.create(
        customer=customer, author=author, text=_clean_text(text), pinned=pinned
    )


@transaction.atomic
def note_update(*, note: Note, text: str) -> Note:
    """Change a note's text; the author stays who wrote it first."""
    note.text = _clean_text(text)
    note.save(update_fields=["text", "updated_at"])
    return note


def note_set_pinned(*, note: Note, pinned: bool) -> Note:
    """Pin a note to the top of the card, or unpin it."""
    Note.objects.filter(pk=note.pk).update(pinned=pinned)
    note.pinned = pinned
    return note
