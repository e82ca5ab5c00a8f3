"""The API's query-string contract: the OpenAPI schema is the list of what a request may send.

A parameter the operation does not document is refused (``?stauts=failed`` would otherwise return
every session, and an export of a typo is every row of the tenant), and so is a documented one
sent empty (``?until=$UNSET`` would otherwise filter nothing). Both are 400 naming the parameter.
The allowed names come from the generated schema itself, so the documentation and the check can't
drift apart.
"""

import functools
import re

from rest_framework.exceptions import ValidationError

_CONVERTER = re.compile(r"<(?:[^>:]+:)?([^>]+)>")
_METHODS = ("get", "post", "put", "patch", "delete")


@functools.cache
def documented_query_parameters() -> dict[tuple[str, str], dict[str, bool]]:
    """``{("/api/v1/voice-sessions", "GET"): {"status": False, "cursor": True, …}}`` from the
    schema: each documented name, and whether it may be sent empty (``allowEmptyValue``)."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    documented = {}
    for path, item in schema["paths"].items():
        for method in _METHODS:
            if method in item:
                documented[(path, method.upper())] = {
                    p["name"]: bool(p.get("allowEmptyValue"))
                    for p in item[method].get("parameters", [])
                    if p.get("in") == "query"
                }
    return documented


def operation_key(request) -> tuple[str, str] | None:
    match = getattr(request, "resolver_match", None)
    if match is None or not match.route:
        return None
    method = "GET" if request.method == "HEAD" else request.method
    return "/" + _CONVERTER.sub(r"{\1}", match.route), method


def query_problems(request) -> dict[str, list[str]]:
    key = operation_key(request)
    allowed = documented_query_parameters().get(key) if key else None
    if allowed is None:  # not a documented operation (OPTIONS, the schema itself)
        return {}
    problems = {}
    for name in request.query_params:
        if name not in allowed:
            listed = ", ".join(sorted(allowed)) or "none"
            problems[name] = [f"{name} is not a parameter of this endpoint (it takes: {listed})."]
        elif not allowed[name] and not any(request.query_params.getlist(name)):
            problems[name] = [f"{name} is empty; send a value or leave the parameter out."]
    return problems


class QueryContractMixin:
    """Checked after authentication, so an anonymous caller learns nothing but 401."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        problems = query_problems(request)
        if problems:
            raise ValidationError(problems)
