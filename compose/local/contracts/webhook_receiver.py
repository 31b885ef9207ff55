"""A receiver of Convene's outgoing webhooks ("another system"), checking them the
way the Standard Webhooks specification tells receivers to
(https://www.standardwebhooks.com/, spec/standard-webhooks.md):

  webhook-id:        the message id
  webhook-timestamp: unix seconds; refused when more than 5 minutes from now
  webhook-signature: space-separated "v1,<base64>" entries; valid when one equals
                     base64(HMAC-SHA256(key=base64decode(secret minus "whsec_"),
                                        msg="{id}.{timestamp}.{raw body}"))

Receiving:
  POST /hooks/{name}   401 + JSON error when the signature/timestamp is wrong,
                       400 when the (verified) body is not JSON, otherwise the
                       next status of the endpoint's `respond` list (then 204).

Admin API:
  POST   /_admin/webhooks/endpoints                  {"name", "secret", "respond"?, "redirectTo"?} -> 201
  DELETE /_admin/webhooks/endpoints/{name}           the endpoint is removed (deliveries then get 404)
  GET    /_admin/webhooks/endpoints/{name}/requests  -> {"requests": [{"receivedAt", "headers", "body",
                                                         "verified", "error", "status"}]}
  DELETE /_admin/webhooks/endpoints/{name}/requests  clears them
"""

import base64
import binascii
import hashlib
import hmac
import re
import threading
import time

from common import (Router, empty_response, error, json_response, now_ms,
                    parse_admin_json)

NAME = "webhook_receiver"

TOLERANCE_SECONDS = 5 * 60
MAX_STORED = 1000
NAME_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class InvalidSecret(ValueError):
    pass


def secret_key(secret):
    """The HMAC key of a `whsec_<base64>` secret (the prefix is optional)."""
    if not isinstance(secret, str):
        raise InvalidSecret("secret must be a string")
    encoded = secret[len("whsec_"):] if secret.startswith("whsec_") else secret
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidSecret("secret must be whsec_ followed by base64") from None
    if not key:
        raise InvalidSecret("secret is empty")
    return key


def signature(secret, msg_id, timestamp, body):
    """The `v1,<base64>` signature a sender puts in webhook-signature."""
    signed = f"{msg_id}.{timestamp}.".encode("utf-8") + body
    mac = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode("ascii")


def verify(secret, msg_id, timestamp, signature_header, body, now=None, tolerance=TOLERANCE_SECONDS):
    """None when the request is authentic and fresh, else why not.

    `body` is the raw body (bytes), exactly as received; `now` is unix seconds.
    """
    if not msg_id:
        return "missing webhook-id header"
    if not timestamp:
        return "missing webhook-timestamp header"
    if not signature_header:
        return "missing webhook-signature header"
    if len(timestamp) > 12 or not timestamp.isascii() or not timestamp.isdigit():
        return "invalid webhook-timestamp header"
    now = int(time.time()) if now is None else now
    if now - int(timestamp) > tolerance:
        return "message timestamp too old"
    if int(timestamp) - now > tolerance:
        return "message timestamp too new"
    expected = signature(secret, msg_id, timestamp, body).encode("ascii")
    matched = False
    for candidate in signature_header.split(" "):
        if not candidate.startswith("v1,"):
            continue                                # other schemes (v1a, …) are not ours
        if hmac.compare_digest(expected, candidate.encode("utf-8")):
            matched = True
    return None if matched else "no matching signature"


def _parse_respond(value):
    """[{"status", "delayMs"}] from the admin's `respond` list, or raise ValueError."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError("respond must be a list")
    out = []
    for item in value:
        if isinstance(item, int) and not isinstance(item, bool):
            item = {"status": item}
        if not isinstance(item, dict):
            raise ValueError("respond entries are status codes or {\"status\", \"delayMs\"}")
        status, delay = item.get("status"), item.get("delayMs", 0)
        if not (isinstance(status, int) and not isinstance(status, bool) and 200 <= status <= 599):
            raise ValueError("respond: status codes from 200 to 599")
        if not (isinstance(delay, int) and not isinstance(delay, bool) and 0 <= delay <= 120000):
            raise ValueError("respond: delayMs from 0 to 120000")
        out.append({"status": status, "delayMs": delay})
    return out


class Module:
    name = NAME
    prefixes = ("/hooks/", "/_admin/webhooks/")

    def __init__(self, ctx):
        self.lock = threading.Lock()
        self.store = ctx.store(NAME)
        self.endpoints = self.store.load({"endpoints": {}}).get("endpoints", {})
        self.router = Router([
            ("POST", "/hooks/{name}", self.receive),
            ("POST", "/_admin/webhooks/endpoints", self.admin_create),
            ("DELETE", "/_admin/webhooks/endpoints/{name}", self.admin_delete),
            ("GET", "/_admin/webhooks/endpoints/{name}/requests", self.admin_requests),
            ("DELETE", "/_admin/webhooks/endpoints/{name}/requests", self.admin_clear),
        ])

    def handle(self, req):
        return self.router.dispatch(req)

    def reset(self):
        with self.lock:
            self.endpoints.clear()
            self._save()

    def _save(self):
        self.store.save({"endpoints": self.endpoints})

    # --- admin -------------------------------------------------------------

    def admin_create(self, req):
        data, err = parse_admin_json(req)
        if err:
            return err
        name = data.get("name")
        if not isinstance(name, str) or not NAME_RE.match(name):
            return error(400, "name: 1 to 64 characters of A-Z a-z 0-9 . _ -")
        secret = data.get("secret")
        if isinstance(secret, str):
            req.secrets.add(secret)
        try:
            secret_key(secret)
        except InvalidSecret as e:
            return error(400, str(e))
        try:
            respond = _parse_respond(data.get("respond"))
        except ValueError as e:
            return error(400, str(e))
        redirect = data.get("redirectTo")
        if redirect is not None and not (isinstance(redirect, str) and re.match(r"^https?://", redirect)):
            return error(400, "redirectTo must be an http(s) URL")
        with self.lock:
            old = self.endpoints.get(name, {})
            self.endpoints[name] = {
                "secret": secret, "respond": respond, "redirectTo": redirect,
                "requests": old.get("requests", []),
            }
            self._save()
        return json_response(201, {
            "name": name, "url": f"{req.base_url()}/hooks/{name}",
            "respond": respond, "redirectTo": redirect,
        })

    def admin_delete(self, req):
        with self.lock:
            if self.endpoints.pop(req.params["name"], None) is None:
                return error(404, "no such endpoint")
            self._save()
        return json_response(200, {"deleted": True})

    def admin_requests(self, req):
        with self.lock:
            ep = self.endpoints.get(req.params["name"])
            if ep is None:
                return error(404, "no such endpoint")
            requests = list(ep["requests"])
        return json_response(200, {"requests": requests})

    def admin_clear(self, req):
        with self.lock:
            ep = self.endpoints.get(req.params["name"])
            if ep is None:
                return error(404, "no such endpoint")
            n = len(ep["requests"])
            ep["requests"] = []
            self._save()
        return json_response(200, {"deleted": n})

    # --- receiving ---------------------------------------------------------

    def receive(self, req):
        with self.lock:
            ep = self.endpoints.get(req.params["name"])
            if ep is None:
                return error(404, "no such endpoint")
            problem = verify(ep["secret"], req.header("webhook-id"), req.header("webhook-timestamp"),
                             req.header("webhook-signature"), req.body)
            verified = problem is None
            delay = 0
            if ep.get("redirectTo"):
                # A redirecting endpoint (SSRF bait): answers 307 whatever it gets.
                status = 307
                resp = json_response(307, {"redirect": ep["redirectTo"]}, {"Location": ep["redirectTo"]})
            elif not verified:
                status = 401
                resp = error(401, problem)
            else:
                try:
                    req.json()
                    problem = None
                except (ValueError, UnicodeDecodeError):
                    problem = "body is not JSON"
                if problem:
                    status = 400
                    resp = error(400, problem)
                else:
                    step = ep["respond"].pop(0) if ep["respond"] else {"status": 204, "delayMs": 0}
                    status, delay = step["status"], step["delayMs"] / 1000.0
                    if status == 204:
                        resp = empty_response(204)
                    elif status < 300:
                        resp = json_response(status, {"received": True})
                    else:
                        resp = error(status, f"scripted answer {status}")
            ep["requests"].append({
                "receivedAt": now_ms(),
                "headers": dict(req.headers),
                "body": req.body.decode("utf-8", errors="replace"),
                "verified": verified,
                "error": problem,
                "status": status,
            })
            del ep["requests"][:-MAX_STORED]
            self._save()
        req.note = f"verified={str(verified).lower()}" + (f" ({problem})" if problem else "")
        resp.delay = delay
        return resp
