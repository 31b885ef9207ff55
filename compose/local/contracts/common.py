"""Shared pieces of the contract server: requests, answers, routing, state files,
rate windows, log masking, RSA keys and outgoing callbacks. Provider modules
import from here; server.py does the HTTP side. Standard library plus
python3-cryptography (Debian's /usr/bin/python3 with that Debian package).
"""

import base64
import binascii
import collections
import json
import os
import re
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

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


# --- RSA (the payment providers' signatures) ---------------------------------


class RsaKeyPair:
    """One of the server's own RSA-2048 key pairs (a provider's platform key)."""

    def __init__(self, private_key):
        self.private_key = private_key

    @classmethod
    def generate(cls):
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048))

    @classmethod
    def from_pem(cls, pem):
        return cls(serialization.load_pem_private_key(pem.encode("ascii"), password=None))

    def private_pem(self):
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode("ascii")

    def public_pem(self):
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")

    def sign(self, data):
        """base64(SHA256withRSA, PKCS#1 v1.5) of `data` (bytes)."""
        sig = self.private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(sig).decode("ascii")


def load_rsa_public_key(text, min_bits=2048):
    """An RSA public key from PEM (SubjectPublicKeyInfo or PKCS#1) or from the bare
    base64 of the DER (as the Alipay console shows it). Raises ValueError."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("public key must be a non-empty PEM string")
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode("ascii"))
        else:
            der = base64.b64decode("".join(text.split()), validate=True)
            key = serialization.load_der_public_key(der)
    except (ValueError, TypeError, binascii.Error, UnicodeEncodeError) as e:
        raise ValueError(f"not a readable public key ({e.__class__.__name__})") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("public key must be an RSA key")
    if key.key_size < min_bits:
        raise ValueError(f"RSA key must have at least {min_bits} bits (got {key.key_size})")
    return key


def public_key_pem(key):
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def rsa_verify(public_key, data, signature_b64):
    """True when `signature_b64` is base64(SHA256withRSA PKCS#1 v1.5 of `data`) by
    the holder of `public_key`."""
    if not isinstance(signature_b64, str) or not signature_b64:
        return False
    try:
        sig = base64.b64decode(signature_b64, validate=True)
        public_key.verify(sig, data, padding.PKCS1v15(), hashes.SHA256())
        return True
    except (binascii.Error, ValueError, InvalidSignature):
        return False


def random_string(n, alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"):
    return "".join(secrets.choice(alphabet) for _ in range(n))


def random_digits(n):
    return random_string(n, "0123456789")


# --- Outgoing callbacks (payment notifications) --------------------------------

DELIVERY_TIMEOUT = 10.0                 # seconds the receiver gets to answer
MAX_RECEIVER_BODY = 2048                # characters of the receiver's answer kept
TAMPER_MODES = (None, "signature", "stale", "amount")
MAX_TIMES = 10


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Providers do not follow redirects from a notify URL: a 3xx is an answer."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def deliver(url, body, headers, timeout=DELIVERY_TIMEOUT):
    """POST `body` (bytes) to `url`: {"status", "body", "error"} — status None when
    no HTTP answer came (the error says why)."""
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
    try:
        with _OPENER.open(request, timeout=timeout) as resp:
            status, raw = resp.status, resp.read(MAX_RECEIVER_BODY * 4)
    except urllib.error.HTTPError as e:
        status, raw = e.code, (e.read(MAX_RECEIVER_BODY * 4) if e.fp else b"")
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", e)
        return {"status": None, "body": None, "error": f"{e.__class__.__name__}: {reason}"}
    return {"status": status, "body": raw.decode("utf-8", errors="replace")[:MAX_RECEIVER_BODY], "error": None}


def parse_trigger_options(data, allow_notify=True):
    """{"notify", "tamper", "times"} of an admin trigger body (all optional), or an
    error Response as the second value."""
    notify = data.get("notify", True)
    if not isinstance(notify, bool) or (not allow_notify and "notify" in data):
        return None, error(400, "notify must be true or false" if allow_notify else "notify is not accepted here")
    tamper = data.get("tamper")
    if tamper not in TAMPER_MODES:
        return None, error(400, "tamper must be null, \"signature\", \"stale\" or \"amount\"")
    times = data.get("times", 1)
    if not (isinstance(times, int) and not isinstance(times, bool) and 1 <= times <= MAX_TIMES):
        return None, error(400, f"times must be an integer from 1 to {MAX_TIMES}")
    return {"notify": notify, "tamper": tamper, "times": times}, None


def parse_optional_admin_json(req):
    """Like parse_admin_json, but an empty body is an empty object."""
    if not req.body.strip():
        return {}, None
    return parse_admin_json(req)


HTTP_URL_RE = re.compile(r"^https?://[^\s/?#]+(/[^\s]*)?$")


def is_http_url(value, max_len=2048):
    return isinstance(value, str) and len(value) <= max_len and bool(HTTP_URL_RE.match(value))


MAX_KEPT = 1000                         # notifications and API requests kept per payment module
MAX_DELIVERIES_KEPT = 50                # delivery attempts kept per notification


class Outbox:
    """The notifications (callbacks) a payment module sent or holds, newest last.

    A notification is a dict: "id", "type", "url" (None = nowhere to send it),
    "createdAt" (unix ms), "body" (the exact text of its untampered form),
    "data" (the same, parsed), "deliveries", and internal keys starting with "_"
    (left out of admin answers). `render(note, tamper)` gives (headers, body bytes)
    for one delivery; `acknowledged(result)` says whether the receiver's answer
    stops the provider's retries. The module's lock guards the list; `send` takes
    it itself and never holds it while waiting for the receiver (who may well
    call back into this server)."""

    def __init__(self, lock, save, render, acknowledged):
        self.lock = lock
        self.save = save
        self.render = render
        self.acknowledged = acknowledged
        self.items = []

    def add(self, note):
        """Store a new notification (caller holds the lock)."""
        note.setdefault("deliveries", [])
        self.items.append(note)
        del self.items[:-MAX_KEPT]

    def find(self, note_id):
        for note in self.items:
            if note["id"] == note_id:
                return note
        return None

    @staticmethod
    def public(note):
        return {k: v for k, v in note.items() if not k.startswith("_")}

    def answer(self, note, opts):
        """The admin answer to a trigger or resend (call it without holding the lock):
        sends `note` as `opts` say ({"notify", "tamper", "times"}), then 200
        {"event": the notification without its deliveries, or None, "deliveries": [...]}."""
        if note is None:
            return json_response(200, {"event": None, "deliveries": []})
        with self.lock:
            event = {k: v for k, v in self.public(note).items() if k != "deliveries"}
        deliveries = []
        if opts["notify"] and event["url"]:
            deliveries = self.send(event["id"], opts["tamper"], opts["times"])
        return json_response(200, {"event": event, "deliveries": deliveries})

    def send(self, note_id, tamper=None, times=1):
        """Deliver a stored notification `times` times: [{"status", "body", "error",
        "acknowledged"}], in order."""
        with self.lock:
            note = self.find(note_id)
            if note is None or not note.get("url"):
                return []
            url = note["url"]
            rendered = [self.render(note, tamper) for _ in range(times)]
        results = []
        for headers, body in rendered:
            result = deliver(url, body, headers)
            result["acknowledged"] = bool(self.acknowledged(result))
            results.append((headers, body, result))
        with self.lock:
            note = self.find(note_id)
            if note is not None:            # (unless a reset came in meanwhile)
                for headers, body, result in results:
                    note["deliveries"].append({
                        "at": now_ms(), "tamper": tamper, **result,
                        "request": {"headers": headers, "body": body.decode("utf-8", errors="replace")},
                    })
                del note["deliveries"][:-MAX_DELIVERIES_KEPT]
                self.save()
        return [r for _, _, r in results]


def keep_request(requests, req, status, verified, problem, **extra):
    """Append one received provider API request to a module's list (caller holds
    its lock): what tests read to check what the client sent."""
    requests.append({
        "receivedAt": now_ms(), "method": req.method, "path": req.target,
        "headers": dict(req.headers), "body": req.body[:16384].decode("utf-8", errors="replace"),
        "verified": verified, "error": problem, "status": status, **extra,
    })
    del requests[:-MAX_KEPT]


class PaymentAdmin:
    """The admin endpoints every payment stand-in shares: its notifications (sent or held), resending
    one (same id; optionally tampered, several times), and the API requests it received. The
    module provides `lock`, `outbox` and `requests`."""

    def admin_notifications(self, req):
        with self.lock:
            return json_response(200, {"notifications": [self.outbox.public(n) for n in self.outbox.items]})

    def admin_resend(self, req):
        data, err = parse_optional_admin_json(req)
        if err:
            return err
        opts, err = parse_trigger_options(data, allow_notify=False)
        if err:
            return err
        with self.lock:
            note = self.outbox.find(req.params["id"])
            if note is None:
                return error(404, "no such notification")
            if not note["url"]:
                return error(409, "this notification has no URL to go to")
        return self.outbox.answer(note, opts)

    def admin_requests(self, req):
        with self.lock:
            return json_response(200, {"requests": list(self.requests)})
