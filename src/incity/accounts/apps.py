from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "incity.accounts"
    label = "accounts"
    verbose_name = "Accounts, organisations and access"

    def ready(self) -> None:
        from incity.accounts import receivers  # noqa: F401  (sign-in audit hooks)
