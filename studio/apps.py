from django.apps import AppConfig


class StudioConfig(AppConfig):
    name = "studio"
    verbose_name = "Studio (accounts and audit log)"
    default_auto_field = "django.db.models.BigAutoField"
