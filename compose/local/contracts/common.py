"""Shared pieces of the contract server: requests, answers, routing, state files,
rate windows and log masking. Provider modules import from here; server.py does
the HTTP side. Standard library only (Debian's /usr/bin/python3, no packages).
"""

import collections
import json
import os
import re
import threading
import time
import urllib.parse

# Query parameters whose values are secrets (or signatures) in some provider's
# API: never logged in full.
SENSITIVE_QUERY = frozenset({
    "access_token", "key", "sign", "token", "secret", "signature", "password",
    "client_secret", "app_secret", "appsecret",
})


def now_ms():
    return int(time.time() * 1000)


# Of these, nothing at all is shown; of other secrets (tokens, keys) the first 4 characters.
FULLY_MASKED_QUERY = frozenset({"sign", "signature", "secret", "password", "client_secret", "app_secret", "appsecret"})


def mask(value, keep=4):
    """A log-safe form of a secret: its first `keep` characters at most, never all of it."""
    if not value:
        return value
    if keep and len(value) >= 12:
        return value[:keep] + "***"
    return "***"


class Request:
    """One HTTP request as a module sees it."""

    def __init__(self, method, target, headers, body, client="-"):
        self.method = method
        self.target = target
        split = urllib.parse.urlsplit(target)
        self.path = split.path or "/"
        self.raw_query = split.query
        # parse_qs decodes %XX and turns '+' into a space, like the providers'
        # servlet containers: an unencoded base64 '+' in a signature is lost.
        self.query = urllib.parse.parse_qs(split.query, keep_blank_values=True)
        self.headers = headers          # lower-case name -> value (repeats joined with ", ")
        self.body = body                # raw bytes
        self.client = client
        self.params = {}                # path parameters of the matched route
        self.secrets = set()            # values to mask wherever they appear in the log line
        self.note = ""                  # extra words for the log line (e.g. "errcode=0")

    def q(self, name):
        """The first value of query parameter `name`, or None."""
        values = self.query.get(name)
        return values[0] if values else None

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    def json(self):
        """The body parsed as JSON (UTF-8). Raises ValueError when it is not JSON."""
        return json.loads(self.body.decode("utf-8"))

    def base_url(self):
        return "http://" + self.header("host", "127.0.0.1")

    def log_target(self):
        """The request target with secrets masked, for the log."""
        path = self.path
        for secret in sorted(self.secrets, key=len, reverse=True):
            if secret:
                path = path.replace(urllib.parse.quote(secret, safe=""), mask(secret))
                path = path.replace(secret, mask(secret))
        if not self.raw_query:
            return path
        parts = []
        for name, value in urllib.parse.parse_qsl(self.raw_query, keep_blank_values=True):
            if name.lower() in FULLY_MASKED_QUERY:
                value = mask(value, keep=0)
            elif name.lower() in SENSITIVE_QUERY or value in self.secrets:
                value = mask(value)
            parts.append(f"{name}={value}")
        return path + "?" + "&".join(parts)


class Response:
    def __init__(self, status, body=b"", content_type=None, headers=None, delay=0.0):
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        if content_type and body:
            self.headers["Content-Type"] = content_type
        self.delay = delay              # seconds to wait before answering (outside any lock)


def json_response(status, obj, headers=None, delay=0.0):
    body = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(status, body, "application/json; charset=utf-8", headers, delay)


def empty_response(status, headers=None, delay=0.0):
    return Response(status, b"", None, headers, delay)


def error(status, message, **extra):
    """The contract server's own (non-provider) error shape."""
    return json_response(status, {"error": message, **extra})


class Router:
    """Routes (METHOD, "/literal/{param}/…") to handlers; `secret` names path
    parameters that are masked in the log."""

    def __init__(self, routes):
        self.routes = []
        self.literals = set()
        for method, pattern, handler, *rest in routes:
            secret = rest[0] if rest else ()
            segments = pattern.strip("/").split("/")
            self.routes.append((method, segments, handler, tuple(secret)))
            self.literals.update(s for s in segments if not s.startswith("{"))

    @staticmethod
    def _match(segments, parts):
        if len(segments) != len(parts):
            return None
        params = {}
        for seg, part in zip(segments, parts):
            if seg.startswith("{"):
                if not part:
                    return None
                params[seg[1:-1]] = part
            elif seg != part:
                return None
        return params

    def dispatch(self, req):
        parts = [urllib.parse.unquote(p) for p in req.path.strip("/").split("/")]
        allowed = []
        for method, segments, handler, secret in self.routes:
            params = self._match(segments, parts)
            if params is None:
                continue
            for name in secret:
                req.secrets.add(params[name])
            if method != req.method:
                allowed.append(method)
                continue
            req.params = params
            return handler(req)
        if not allowed:
            # An unknown path may still carry a token (a typo in an admin URL):
            # mask every segment that is not a literal of some route.
            req.secrets.update(p for p in parts if p and p not in self.literals)
            return error(404, "no such endpoint", path=req.log_target())
        return error(405, "method not allowed", allowed=sorted(set(allowed)))


class Store:
    """One module's state as a JSON file in the state folder (written atomically,
    mode 600: it holds robot secrets)."""

    def __init__(self, state_dir, name):
        self.path = os.path.join(state_dir, name + ".json") if state_dir else None

    def load(self, default):
        if not self.path or not os.path.exists(self.path):
            return default
        try:
            with open(self.path, encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError):
            return default

    def save(self, data):
        if not self.path:
            return
        tmp = f"{self.path}.tmp.{os.getpid()}.{threading.get_ident()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False)
        os.replace(tmp, self.path)


class RateWindow:
    """Accepted events per key in a rolling window (callers hold their lock)."""

    def __init__(self, window_seconds=60.0):
        self.window = window_seconds
        self.events = collections.defaultdict(collections.deque)

    def try_acquire(self, key, limit, now=None):
        """Record one event for `key` unless `limit` events already happened in the window."""
        now = time.monotonic() if now is None else now
        q = self.events[key]
        while q and now - q[0] >= self.window:
            q.popleft()
        if len(q) >= limit:
            return False
        q.append(now)
        return True

    def forget(self, key):
        self.events.pop(key, None)

    def clear(self):
        self.events.clear()


class Context:
    """What the server hands each module."""

    def __init__(self, state_dir):
        self.state_dir = state_dir

    def store(self, name):
        return Store(self.state_dir, name)


TOKEN_RE = re.compile(r"^[A-Za-z0-9._~-]{1,256}$")


def parse_admin_json(req):
    """The JSON object of an admin request, or an error Response."""
    try:
        data = req.json()
    except (ValueError, UnicodeDecodeError):
        return None, error(400, "body is not JSON")
    if not isinstance(data, dict):
        return None, error(400, "body must be a JSON object")
    return data, None
