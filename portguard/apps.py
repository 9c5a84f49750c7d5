from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PortguardConfig(AppConfig):
    name = "portguard"
    verbose_name = "PortGuard"

    def ready(self) -> None:
        # Not at the top: this module is imported while the app registry is being filled,
        # before the auth models that roles.py uses can be.
        from .roles import sync_roles  # noqa: PLC0415

        post_migrate.connect(sync_roles, dispatch_uid="portguard.sync_roles")
