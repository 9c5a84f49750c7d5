from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PortguardConfig(AppConfig):
    name = "portguard"
    verbose_name = "PortGuard"

    def ready(self) -> None:
        from .roles import sync_roles

        post_migrate.connect(sync_roles, dispatch_uid="portguard.sync_roles")
