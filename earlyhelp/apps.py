from django.apps import AppConfig


class EarlyHelpConfig(AppConfig):
    name = "earlyhelp"
    verbose_name = "Accounts and organisations"
