from django.apps import AppConfig


class QaAppConfig(AppConfig):
    name = "qa_app"
    verbose_name = "QA and audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_save

        from qa_app import lockout  # noqa: F401  (connects the lockout audit receiver)
        from qa_app.services import tenant_created

        # sessions_app creates tenants and cannot know about qa_app; qa_app adds its defaults.
        post_save.connect(tenant_created, sender="sessions_app.Tenant", dispatch_uid="qa_app.tenant_created")
