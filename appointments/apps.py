from django.apps import AppConfig


class AppointmentsConfig(AppConfig):
    """Time and place: appointments, stylist availability, fitting rooms, makeover sessions.

    Its models arrive with the fitting-room and appointment issues; the app is installed
    now so the layers of ARCHITECTURE.md exist from the first commit.
    """

    name = "appointments"
    verbose_name = "Appointments and fitting rooms"
