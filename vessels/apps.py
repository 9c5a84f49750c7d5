from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VesselsConfig(AppConfig):
    name = "vessels"
    verbose_name = _("Wharves and vessels")
