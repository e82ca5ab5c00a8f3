from django.apps import AppConfig


class QaAppConfig(AppConfig):
    name = "qa_app"
    verbose_name = "QA and audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from qa_app import lockout  # noqa: F401  (connects the lockout audit receiver)
