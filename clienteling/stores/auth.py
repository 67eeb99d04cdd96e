"""The authentication backend that loads the signed-in person's staff record and store with
their user: one query per request instead of two (issue 20). Every page asks who is
signing in (`request_staff`); the session's user and their staff record are read
together by the backend the session names, and `request_staff` then finds it there.

The behaviour is Django's and Axes's otherwise: the same checks (`user_can_authenticate`,
an inactive user is nobody), the same lockouts.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class StaffModelBackend(ModelBackend):
    """Django's ModelBackend, the user read with their staff record and store.

    Sessions started before it named `django.contrib.auth.backends.ModelBackend`: they
    end once, at the deployment that brings it (their people sign in again)."""

    def get_user(self, user_id):
        model = get_user_model()
        try:
            user = model._default_manager.select_related("staff__store").get(pk=user_id)
        except model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
