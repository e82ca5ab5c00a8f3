"""The WSGI application that gunicorn serves (``gunicorn config.wsgi``), with the process tuned
as ``config.runtime`` describes once every view module is loaded."""

import os
from importlib import import_module

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from config.runtime import tune_garbage_collection

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()


# The URLconf imports every view module; loaded now, the freeze covers them.
import_module(settings.ROOT_URLCONF)
tune_garbage_collection()
