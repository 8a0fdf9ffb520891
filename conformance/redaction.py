"""Token redaction: one scrubber that knows every encoded form of every token, for text, bytes and JSON data.

A server may echo a token in any form: raw, HTML-escaped (`&amp;`, `&#x27;`, `&#39;`, `&apos;`, numeric
entities), JSON-escaped (`\\u0027`, `\\"`, `\\/`), percent-encoded (`quote`, `quote_plus`), in a Python repr
(`\\'`, `\\xNN`), reversed, or base64-encoded (standard or URL-safe, at any of the three byte offsets: the
stable middle part of the encoding is matched). Each character of a token matches any of its escaped forms,
so mixed encodings are caught too. Every match becomes REDACTED.

Tokens shorter than MIN_ANYWHERE characters are still scrubbed (however short: a garbled sentence is better
than a token on the screen), but only where they stand alone (not inside a longer word: scrubbing `ab`
from every `about` would wreck the output), and not in their reversed or base64 forms (the stable part of a
short token's base64 is a few characters common in any text).

A public token (PUBLIC_TOKENS: `PUBLIC`, which dxpy sends when no token is configured) is no secret: it is
never scrubbed, though a case, a recording or a user may pass it where tokens go. It is also an ordinary
value of the API (the authorized user "everyone", the invitee that makes a project public): scrubbing it
would rewrite answers that hold no token at all.
"""

from __future__ import annotations

import base64
import functools
import html
import re
from collections.abc import Iterable
from typing import Any, overload

from .model import REDACTED

MIN_ANYWHERE = 8
# Values longer than this are searched for the tokens' literal parts before the pattern runs (Redactor).
LARGE = 4096
# Tokens everyone knows, never secret (see the module docstring).
PUBLIC_TOKENS = frozenset({"PUBLIC"})
_WORD = "A-Za-z0-9"
# Characters an HTML, JSON, URL or repr encoder leaves as they are: they match only themselves.
_PLAIN = re.compile(r"[A-Za-z0-9]")
_JSON_SHORT = {'"': '\\"', "\\": "\\\\", "/": "\\/", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
               "\t": "\\t"}
_REPR_SHORT = {"'": "\\'", "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _hex_cases(text: str) -> set[str]:
    return {text, text.upper(), text.lower()}


def char_forms(char: str) -> set[str]:
    """Every way an encoder may have written one character of a token (the character itself included)."""
    forms = {char}
    if _PLAIN.fullmatch(char):
        return forms
    code = ord(char)
    # HTML: html.escape with and without quote=, the named and numeric entities of both XML and HTML.
    forms |= {html.escape(char, quote=True), html.escape(char, quote=False), f"&#{code};"}
    forms |= {f"&#x{hex_}" for hex_ in _hex_cases(f"{code:x};")} | {f"&#X{hex_}" for hex_ in _hex_cases(f"{code:x};")}
    if char == "'":
        forms |= {"&apos;", "&#39;", "&#039;"}
    if char == '"':
        forms |= {"&quot;", "&#34;", "&#034;"}
    # JSON (ensure_ascii writes \uXXXX, astral characters as a surrogate pair) and Python reprs.
    units = char.encode("utf-16-be")
    json_form = "".join(f"\\u{int.from_bytes(units[i:i + 2], 'big'):04x}" for i in range(0, len(units), 2))
    forms |= _hex_cases(json_form) | {json_form.replace("\\u", "\\U")}
    forms |= {_JSON_SHORT.get(char, char), _REPR_SHORT.get(char, char)}
    utf8 = char.encode("utf-8")
    forms |= _hex_cases("".join(f"\\x{byte:02x}" for byte in utf8))
    if code >= 0x80:
        forms.add(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
    # Percent-encoding (quote, quote_plus: a space may be a +).
    forms |= _hex_cases("".join(f"%{byte:02x}" for byte in utf8))
    if char == " ":
        forms.add("+")
    return {form for form in forms if form}


def _char_pattern(char: str) -> str:
    forms = sorted(char_forms(char), key=lambda form: (-len(form), form))
    return re.escape(char) if len(forms) == 1 else "(?:" + "|".join(map(re.escape, forms)) + ")"


def base64_middles(token: str) -> set[str]:
    """The part of the base64 encoding of `token` that does not depend on the bytes around it, for each of the
    three offsets the token may start at (standard and URL-safe alphabets)."""
    data = token.encode("utf-8")
    middles = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + data).decode("ascii")
        first = -(-8 * offset // 6)                 # the first character made of the token's bits only
        last = (8 * (offset + len(data))) // 6      # one past the last such character
        middle = encoded[first:last]
        if middle:
            middles |= {middle, middle.translate(str.maketrans("+/", "-_"))}
    return middles


def match_length(token: str) -> int:
    """The fewest characters (or bytes) a match of token_pattern(token) spans: each character of the token is at
    least one character in any of its forms, and a long token's reversed form is as long as it; its base64
    middles may be shorter."""
    if len(token) < MIN_ANYWHERE:
        return len(token)
    return min(len(token), *(len(middle) for middle in base64_middles(token)))


def token_anchors(token: str) -> set[str]:
    """Literal strings one of which every match of token_pattern(token) holds: the token's longest run of
    characters no encoder changes (letters and digits match only themselves), and, for a token matched reversed
    and in base64 too, that run reversed and each base64 middle. Empty for a token without a letter or digit."""
    runs = re.findall(r"[A-Za-z0-9]+", token)
    if not runs:
        return set()
    longest = max(runs, key=len)
    if len(token) < MIN_ANYWHERE:
        return {longest}
    return {longest, longest[::-1], *base64_middles(token)}


def token_pattern(token: str) -> str:
    """The regular expression (text) of every form of one token."""
    escaped = "".join(_char_pattern(char) for char in token)
    if len(token) < MIN_ANYWHERE:
        return f"(?<![{_WORD}]){escaped}(?![{_WORD}])"
    literals = sorted({token[::-1], *base64_middles(token)}, key=lambda form: (-len(form), form))
    return "|".join([escaped, *map(re.escape, literals)])


class Redactor:
    """`Redactor(tokens).scrub(text_or_bytes)` replaces every form of every token by REDACTED; `scrub_json`
    does the same to every string (keys included) of a JSON value. Empty or None tokens and public tokens
    (PUBLIC_TOKENS) are ignored."""

    def __init__(self, tokens: Iterable[str | None] = ()):
        secret = {t for t in tokens if t and t not in PUBLIC_TOKENS}
        self.tokens: tuple[str, ...] = tuple(sorted(secret, key=lambda t: (-len(t), t)))
        text = "|".join(token_pattern(token) for token in self.tokens)
        self._text = re.compile(text) if text else None
        self._bytes = re.compile(text.encode("utf-8")) if text else None
        # The shortest text any form of any token can be (match_length): a shorter one (most header values, many
        # answers) holds no token, and is not run through the pattern (a few microseconds each, many per call).
        self._shortest = min((match_length(token) for token in self.tokens), default=0)
        # Literal parts one of which every form of every token holds (token_anchors), for large values (an
        # upload, a download): a substring search over megabytes is many times faster than the pattern, whose
        # many first characters it must try at every position. None: a token without such a part.
        anchors = [token_anchors(token) for token in self.tokens]
        self._anchors = tuple(set().union(*anchors)) if anchors and all(anchors) else None
        self._byte_anchors = tuple(a.encode("utf-8") for a in self._anchors) if self._anchors else None

    def _cannot_hold(self, value: str | bytes) -> bool:
        """Whether `value` is surely free of every token: too short, or large and without any anchor."""
        if len(value) < self._shortest:
            return True
        anchors = self._anchors if isinstance(value, str) else self._byte_anchors
        return len(value) > LARGE and anchors is not None and not any(anchor in value for anchor in anchors)

    def __bool__(self) -> bool:
        return bool(self.tokens)

    @overload
    def scrub(self, value: str) -> str: ...

    @overload
    def scrub(self, value: bytes) -> bytes: ...

    def scrub(self, value: str | bytes) -> str | bytes:
        if self._text is None or self._cannot_hold(value):
            return value
        if isinstance(value, str):
            return self._text.sub(REDACTED, value)
        return self._bytes.sub(REDACTED.encode("ascii"), value)

    def scrub_json(self, value: Any) -> Any:
        """A JSON value (dicts, lists, strings, numbers) with every string scrubbed; any other leaf is written as
        its str(), scrubbed, as json.dumps(default=str) would write it. Parts with nothing to scrub are returned
        as they are, not copied (a run's results document is hundreds of MB in memory): only the dicts and lists
        on the way to a scrubbed string are new. The value given is never changed."""
        if self._text is None:
            return value
        if isinstance(value, str):
            return self._text.sub(REDACTED, value) if not self._cannot_hold(value) and self._text.search(value) else value
        if isinstance(value, dict):
            items = [(self.scrub_json(k) if isinstance(k, str) else k, self.scrub_json(v)) for k, v in value.items()]
            same = all(k2 is k and v2 is v for (k, v), (k2, v2) in zip(value.items(), items, strict=True))
            return value if same else dict(items)
        if isinstance(value, list | tuple):
            scrubbed = [self.scrub_json(item) for item in value]
            same = isinstance(value, list) and all(a is b for a, b in zip(value, scrubbed, strict=True))
            return value if same else scrubbed
        if value is None or isinstance(value, bool | int | float):
            return value
        return self.scrub(str(value))   # what json.dumps(default=str) would write for it

    def contains(self, value: str | bytes) -> bool:
        """Whether any form of any token is in `value`."""
        if self._text is None or self._cannot_hold(value):
            return False
        return bool((self._text if isinstance(value, str) else self._bytes).search(value))


def token_of(authorization: str) -> str | None:
    """The secret part of an Authorization value (`Bearer abc` -> `abc`, `abc` -> `abc`)."""
    scheme, _, rest = authorization.strip().partition(" ")
    return rest.strip() or scheme or None


@functools.lru_cache(maxsize=64)
def _cached(tokens: tuple[str, ...]) -> Redactor:
    return Redactor(tokens)


def redactor(tokens: Iterable[str | None]) -> Redactor:
    """The Redactor of these tokens (built once per set of tokens: its patterns are compiled)."""
    return _cached(tuple(sorted({t for t in tokens if t})))


__all__ = ["MIN_ANYWHERE", "PUBLIC_TOKENS", "REDACTED", "Redactor", "base64_middles", "char_forms", "match_length", "redactor",
           "token_anchors", "token_of", "token_pattern"]
