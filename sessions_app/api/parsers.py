"""A JSON parser that enforces the API's body limit itself.

DRF reads the request stream directly, which bypasses Django's DATA_UPLOAD_MAX_MEMORY_SIZE, so the
limit is checked here and answered with a 413 in the error envelope.
"""

from io import BytesIO

from django.conf import settings
from rest_framework import exceptions, parsers, status

from sessions_app.input_bounds import is_ascii_digits


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"
    default_detail = "The request body is too large."


class LimitedJSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_MAX_BODY_BYTES
        request = (parser_context or {}).get("request")
        length = request.META.get("CONTENT_LENGTH") if request is not None else None
        if length and is_ascii_digits(length) and int(length) > limit:
            raise PayloadTooLarge(f"The request body exceeds {limit} bytes.")
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise PayloadTooLarge(f"The request body exceeds {limit} bytes.")
        try:
            return super().parse(BytesIO(body), media_type, parser_context)
        except RecursionError:  # nesting beyond the interpreter's stack: refused, not a crash
            raise exceptions.ParseError("JSON nesting is too deep.") from None
