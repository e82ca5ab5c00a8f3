"""The WSGI application that gunicorn serves (``gunicorn config.wsgi``), with the process tuned
as ``config.runtime`` describes once every view module is loaded."""

import os

from django.core.wsgi import get_wsgi_application

from config.runtime import tune_garbage_collection

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()


def _load_views() -> None:
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports every view module, so the freeze covers them


_load_views()
tune_garbage_collection()
