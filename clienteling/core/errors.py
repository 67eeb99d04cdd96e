"""Errors that services raise and every interface maps to a clear answer (never a 500)."""

from __future__ import annotations


class ApplicationError(Exception):
    """A request the business rules refuse; `field` names the input at fault, if any."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def as_dict(self) -> dict[str, list[str]]:
        return {self.field or "non_field_errors": [self.message]}
