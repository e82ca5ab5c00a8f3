"""Body fields that take JSON as it is typed: a string field refuses 12, a number field "12".

DRF coerces on input (``"12"`` for an integer, ``1`` or ``"yes"`` for a boolean, ``2.5`` for a
string), which is right for form data and wrong for a JSON API: the schema says ``integer`` and a
writer that sends a string has a bug the API should name, not hide. Every API body is JSON
(``LimitedJSONParser`` is the only parser), so each field here accepts exactly the JSON types its
schema declares and refuses the rest with a 400 naming the field. Query parameters are strings by
nature and are parsed by the filter sets, not by these fields.
"""

from __future__ import annotations

from rest_framework import serializers

# The characters ``str.strip`` (and so DRF's trimming) removes, spelled out for a schema pattern:
# a pattern's ``\s`` means ECMAScript's set, which differs (it has U+FEFF and lacks U+0085).
WHITESPACE = (
    "\\u0009-\\u000d\\u001c-\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
)
NOT_BLANK_PATTERN = f"[^{WHITESPACE}]"


class _JSONTyped:
    json_types: tuple[type, ...] = (str,)
    json_type_name = "a string"

    def to_internal_value(self, data):
        # ``type(...) in`` rather than isinstance: True is an int to Python and not to JSON Schema.
        if type(data) not in self.json_types:
            raise serializers.ValidationError(f"Must be {self.json_type_name}.", code="invalid_type")
        return super().to_internal_value(data)


class CharField(_JSONTyped, serializers.CharField):
    pass


class RegexField(_JSONTyped, serializers.RegexField):
    pass


class SlugField(_JSONTyped, serializers.SlugField):
    pass


class ChoiceField(_JSONTyped, serializers.ChoiceField):
    pass


class DateTimeField(_JSONTyped, serializers.DateTimeField):
    pass


class IntegerField(_JSONTyped, serializers.IntegerField):
    json_types = (int,)
    json_type_name = "an integer"


class FloatField(_JSONTyped, serializers.FloatField):
    json_types = (int, float)
    json_type_name = "a number"


class BooleanField(_JSONTyped, serializers.BooleanField):
    json_types = (bool,)
    json_type_name = "true or false"


class StrictBody(serializers.Serializer):
    """A request body that refuses a field it doesn't know, naming it: ``{"verdcit": "pass"}``
    would otherwise store an evaluation without the verdict its writer meant to send.

    Read-only fields are accepted and ignored, so a document read from the API can be sent back
    as it is. The schema says ``additionalProperties: false`` (``schema.StrictBodyExtension``).
    """

    def to_internal_value(self, data):
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(key for key in data if key not in self.fields)
            if unknown:
                raise serializers.ValidationError({unknown[0]: ["Unknown field."]})
            data = {key: value for key, value in data.items() if key in writable}
        return super().to_internal_value(data)
