"""Credentials in connection URLs: detect and mask every form (stdlib only, any layer).

A database or MongoDB URL can carry a secret as ``user:password@host``, as a query argument
(``?password=...``, ``sslpassword``, ``passfile``, ``token``, ...) or both. lisflow never
prints or writes such a URL unmasked; :func:`has_credentials` decides whether a URL may be
stored (in a Firework spec, a report) at all.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

#: Query argument names that hold (or point to) a secret, lower case.
SECRET_QUERY_KEYS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "pass",
        "sslpassword",
        "passfile",
        "secret",
        "token",
        "access_token",
        "api_key",
        "apikey",
        "key",
        "sslkey",
        "authmechanismproperties",
    }
)
MASK = "***"
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^:@/?#\s]*):[^@/\s]*@")
_QUERY = re.compile(r"(?P<key>[?&;][A-Za-z_]+)=(?P<value>[^&;#\s]*)")


def mask_url(text: str) -> str:
    """``text`` (a URL or a message holding URLs) with every password and secret query value
    replaced by ``***``: ``postgresql://u:***@h/db?password=***``."""
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", str(text))

    def query(match: re.Match) -> str:
        key = match["key"]
        name = key[1:].lower()
        return f"{key}={MASK}" if name in SECRET_QUERY_KEYS else match.group(0)

    return _QUERY.sub(query, text)


def has_credentials(url: str | None) -> bool:
    """Whether ``url`` carries a password in any form (user info or query argument)."""
    if not url:
        return False
    try:
        parts = urlsplit(str(url))
    except ValueError:
        return True  # unparsable: treat as secret
    if parts.password is not None or "@" in parts.netloc:
        return True
    return any(key.lower() in SECRET_QUERY_KEYS for key, _ in parse_qsl(parts.query))
