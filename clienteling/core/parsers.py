"""The API's only parser: JSON, refused whole (400, field messages) when it is hostile.

Integrations send JSON and nothing else, so form and multipart parsers are not offered
(the schema then declares application/json only). Two kinds of valid JSON would
otherwise end in a 500 further in:

- nesting deeper than the parser's recursion (RecursionError), or deep enough to
  exhaust it later in validation or rendering;
- a lone surrogate ("\\ud800" with no pair): Python decodes it, but it is not text,
  so PostgreSQL refuses it and an error answer that echoes it cannot be encoded.

Both are refused here, before any view sees the data, with the path of the value at
fault (e.g. "customers[3].first_name") and never the value itself."""

from __future__ import annotations

from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

# The deepest legitimate body is 5 levels ({"orders": [{"lines": [{...}]}]}); the
# margin is wide, and far below Python's recursion limit.
MAX_DEPTH = 32

NON_FIELD = "non_field_errors"
LONE_SURROGATE = "a lone UTF-16 surrogate (a \\u escape in the range D800-DFFF without its pair)"


def _is_text(value: str) -> bool:
    # UTF-8 cannot encode a surrogate code point; a proper pair was already combined
    # into one character by the JSON decoder.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _join(path: str, step: str | int) -> str:
    if isinstance(step, int):
        return f"{path}[{step}]"
    return f"{path}.{step}" if path else step


def _refuse(path: str, message: str) -> ParseError:
    return ParseError({path or NON_FIELD: [message]})


def _too_deep() -> ParseError:
    return _refuse("", f"The JSON body is nested deeper than {MAX_DEPTH} levels.")


def check_body(data: Any) -> None:
    """Raise ParseError if `data` nests deeper than MAX_DEPTH or holds a lone surrogate.

    Iterative, so that checking cannot itself run out of stack; children are pushed in
    reverse, so the first offender in the body is the one named."""
    stack: list[tuple[Any, str, int]] = [(data, "", 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            if not _is_text(value):
                raise _refuse(
                    path,
                    f"This value is not valid text: it holds {LONE_SURROGATE}. "
                    "Send the character as a surrogate pair or as UTF-8.",
                )
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise _too_deep()
            if isinstance(value, dict):
                for key, child in reversed(value.items()):
                    if not _is_text(key):
                        raise _refuse(
                            path,
                            f"A key in this object is not valid text: it holds {LONE_SURROGATE}.",
                        )
                    stack.append((child, _join(path, key), depth + 1))
            else:
                stack.extend(
                    (value[index], _join(path, index), depth + 1)
                    for index in reversed(range(len(value)))
                )


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, answering malformed, too deep or non-text bodies in the API's
    error format ({"field": ["message"]}) instead of a 500 or a bare "detail"."""

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as deep:
            raise _too_deep() from deep
        except ParseError as malformed:
            # DRF's "JSON parse error - ..." or an unsupported charset, as field messages.
            raise _refuse("", str(malformed.detail)) from malformed
        check_body(data)
        return data
