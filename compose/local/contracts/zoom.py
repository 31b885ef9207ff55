"""Zoom stand-in: Server-to-Server OAuth, meetings, signed webhooks.

Provider API (production: token at https://zoom.us, API at https://api.zoom.us;
here both under /zoom):
  POST   /zoom/oauth/token?grant_type=account_credentials&account_id={accountId}
         Authorization: Basic base64(clientId:clientSecret)
         -> 200 {access_token, token_type: "bearer", expires_in, scope, api_url}
  POST   /zoom/v2/users/{userId|me}/meetings   Bearer -> 201 meeting
  GET    /zoom/v2/meetings/{id}                Bearer -> 200 meeting
  PATCH  /zoom/v2/meetings/{id}                Bearer -> 204
  DELETE /zoom/v2/meetings/{id}                Bearer -> 204
Errors: {"code", "message"} (API), {"reason", "error"} (OAuth).

Admin API:
  POST   /_admin/zoom/accounts  {"accountId", "clientId", "clientSecret", "webhookSecret"?,
                                 "tokenTtl"?: seconds (default 3600)} -> 201
  GET    /_admin/zoom/accounts/{accountId}            {"tokenRequests", "meetings": [...]} (no secrets)
  POST   /_admin/zoom/accounts/{accountId}/failures   a failure script (meeting_common.py)
  DELETE /_admin/zoom/accounts/{accountId}/failures   clear it
  POST   /_admin/zoom/webhooks/send     {"accountId", "url", "event", "object"?, "tamper"?: "signature"|"stale"}
         -> 200 {"status", "body", "error", "request": {"headers", "body"}}
  POST   /_admin/zoom/webhooks/validate {"accountId", "url"}
         -> 200 {"validated", "status", "body", "error"}: endpoint.url_validation, the answer checked
"""

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import time

from common import (Router, deliver, empty_response, error, json_response, now_ms, parse_admin_json,
                    is_http_url, random_digits, random_string)
from meeting_common import ScriptedFailures, take_failure

NAME = "zoom"
STALE_SECONDS = 600
ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z?$")
WEBHOOK_EVENTS = ("meeting.started", "meeting.ended", "meeting.participant_joined", "meeting.participant_left",
                  "recording.completed")


def zoom_error(status, code, message):
    return json_response(status, {"code": code, "message": message})


def hex_hmac(secret, text):
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


class Module(ScriptedFailures):
    failure_param = "account"
    credential_noun = "account"

    def failure_credentials(self):
        return self.accounts

    name = NAME
    prefixes = ("/zoom/", "/_admin/zoom/")

    def __init__(self, ctx):
        self.lock = threading.Lock()
        self.store = ctx.store(NAME)
        state = self.store.load({})
        self.accounts = state.get("accounts", {})      # accountId -> settings, tokenRequests
        self.tokens = state.get("tokens", {})          # token -> {"account", "expiresAt"}
        self.meetings = state.get("meetings", {})      # id (str) -> meeting (with "_account", "_deleted")
        self.failures = {}                             # accountId -> script
        self.router = Router([
            ("POST", "/zoom/oauth/token", self.token),
            ("POST", "/zoom/v2/users/{user}/meetings", self.create),
            ("GET", "/zoom/v2/meetings/{id}", self.get),
            ("PATCH", "/zoom/v2/meetings/{id}", self.update),
            ("DELETE", "/zoom/v2/meetings/{id}", self.delete),
            ("POST", "/_admin/zoom/accounts", self.admin_account),
            ("GET", "/_admin/zoom/accounts/{account}", self.admin_show),
            ("POST", "/_admin/zoom/accounts/{account}/failures", self.admin_fail),
            ("DELETE", "/_admin/zoom/accounts/{account}/failures", self.admin_clear_failures),
            ("POST", "/_admin/zoom/webhooks/send", self.admin_webhook),
            ("POST", "/_admin/zoom/webhooks/validate", self.admin_validate),
        ])

    def handle(self, req):
        return self.router.dispatch(req)

    def reset(self):
        with self.lock:
            self.accounts.clear()
            self.tokens.clear()
            self.meetings.clear()
            self.failures.clear()
            self._save()

    def _save(self):
        self.store.save({"accounts": self.accounts, "tokens": self.tokens, "meetings": self.meetings})

    def _failure(self, account, kind):
        status = take_failure(self.failures.get(account, []), kind)
        if status is None:
            return None
        if status >= 500:
            return zoom_error(status, status, "Internal Error (scripted)")
        return zoom_error(status, 300, "Request refused (scripted)")

    # --- OAuth -------------------------------------------------------------

    def token(self, req):
        if req.q("grant_type") != "account_credentials":
            return json_response(400, {"reason": "Unsupported grant type", "error": "unsupported_grant_type"})
        account_id = req.q("account_id")
        auth = req.header("authorization", "")
        if not auth.startswith("Basic "):
            return json_response(400, {"reason": "Invalid client_id or client_secret", "error": "invalid_client"})
        try:
            client_id, client_secret = base64.b64decode(auth[6:], validate=True).decode().split(":", 1)
        except (ValueError, UnicodeDecodeError):
            return json_response(400, {"reason": "Invalid client_id or client_secret", "error": "invalid_client"})
        req.secrets.add(client_secret)
        with self.lock:
            account = self.accounts.get(account_id or "")
            if account is None or account["clientId"] != client_id \
                    or not hmac.compare_digest(account["clientSecret"], client_secret):
                req.note = "verified=false"
                return json_response(400, {"reason": "Invalid client_id or client_secret", "error": "invalid_client"})
            account["tokenRequests"] += 1
            failed = self._failure(account_id, "token")
            if failed:
                self._save()
                return failed
            token = "zt_" + random_string(40)
            ttl = account.get("tokenTtl", 3600)
            self.tokens[token] = {"account": account_id, "expiresAt": time.time() + ttl}
            self.tokens = {t: v for t, v in self.tokens.items() if v["expiresAt"] > time.time() - 3600}
            self._save()
        req.secrets.add(token)
        req.note = "verified=true"
        return json_response(200, {"access_token": token, "token_type": "bearer", "expires_in": ttl,
                                   "scope": "meeting:write:admin meeting:read:admin", "api_url": req.base_url() + "/zoom"})

    def _authorize(self, req):
        """(account id, None) for a valid bearer token, else (None, error Response); caller holds the lock."""
        auth = req.header("authorization", "")
        if not auth.startswith("Bearer "):
            return None, zoom_error(401, 124, "Invalid access token.")
        token = auth[7:]
        req.secrets.add(token)
        entry = self.tokens.get(token)
        if entry is None:
            return None, zoom_error(401, 124, "Invalid access token.")
        if entry["expiresAt"] <= time.time():
            return None, zoom_error(401, 124, "Access token is expired.")
        return entry["account"], None

    # --- Meetings ----------------------------------------------------------

    @staticmethod
    def _check_fields(data, creating):
        if "topic" in data and not (isinstance(data["topic"], str) and 0 < len(data["topic"]) <= 200):
            return "topic must be a string of 1 to 200 characters"
        if creating and "topic" not in data:
            return "topic is required"
        if "type" in data and data["type"] not in (1, 2, 3, 8):
            return "type must be 1, 2, 3 or 8"
        if creating and data.get("type", 2) in (2, 8) and "start_time" not in data:
            return "start_time is required for a scheduled meeting"
        if "start_time" in data and not (isinstance(data["start_time"], str) and TIME_RE.match(data["start_time"])):
            return "start_time must be yyyy-MM-ddTHH:mm:ssZ"
        if "duration" in data and not (isinstance(data["duration"], int) and not isinstance(data["duration"], bool)
                                       and 1 <= data["duration"] <= 1440):
            return "duration must be minutes from 1 to 1440"
        if "password" in data and not (isinstance(data["password"], str) and re.match(r"^[A-Za-z0-9@_*-]{1,10}$",
                                                                                     data["password"])):
            return "password: at most 10 characters of A-Z a-z 0-9 @ - _ *"
        if "agenda" in data and not (isinstance(data["agenda"], str) and len(data["agenda"]) <= 2000):
            return "agenda must be a string of at most 2000 characters"
        if "settings" in data and not isinstance(data["settings"], dict):
            return "settings must be an object"
        return None

    @staticmethod
    def _json_object(req):
        """The request's JSON object body, or (None, Zoom's answer to anything else)."""
        try:
            data = req.json()
        except (ValueError, UnicodeDecodeError):
            data = None
        if not isinstance(data, dict):
            return None, zoom_error(400, 300, "Request Body should be a valid JSON object.")
        return data, None

    def create(self, req):
        data, err = self._json_object(req)
        if err:
            return err
        with self.lock:
            account, err = self._authorize(req)
            if err:
                return err
            failed = self._failure(account, "create")
            if failed:
                return failed
            problem = self._check_fields(data, creating=True)
            if problem:
                return zoom_error(400, 300, problem)
            user = req.params["user"]
            meeting_id = int("8" + random_digits(10))
            password = data.get("password") or random_string(6, "0123456789")
            host_id = "h" + random_string(21) if user == "me" else user
            meeting = {
                "id": meeting_id, "uuid": base64.b64encode(secrets.token_bytes(16)).decode(), "host_id": host_id,
                "topic": data["topic"], "type": data.get("type", 2), "status": "waiting",
                "start_time": data.get("start_time"), "duration": data.get("duration", 60),
                "timezone": data.get("timezone", "UTC"), "agenda": data.get("agenda", ""),
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "password": password,
                "join_url": f"https://zoom.us/j/{meeting_id}?pwd={random_string(32)}",
                "start_url": f"https://zoom.us/s/{meeting_id}?zak={random_string(48)}",
                "settings": data.get("settings", {}),
                "_account": account, "_user": user, "_deleted": False, "_updates": 0,
            }
            self.meetings[str(meeting_id)] = meeting
            self._save()
            answer = {k: v for k, v in meeting.items() if not k.startswith("_")}
        req.note = f"meeting={meeting_id}"
        return json_response(201, answer)

    def _own_meeting(self, req, account):
        meeting = self.meetings.get(req.params["id"])
        if meeting is None or meeting["_account"] != account or meeting["_deleted"]:
            return None, zoom_error(404, 3001, f"Meeting does not exist: {req.params['id']}.")
        return meeting, None

    def get(self, req):
        with self.lock:
            account, err = self._authorize(req)
            if err:
                return err
            failed = self._failure(account, "get")
            if failed:
                return failed
            meeting, err = self._own_meeting(req, account)
            if err:
                return err
            return json_response(200, {k: v for k, v in meeting.items() if not k.startswith("_")})

    def update(self, req):
        data, err = self._json_object(req)
        if err:
            return err
        with self.lock:
            account, err = self._authorize(req)
            if err:
                return err
            failed = self._failure(account, "update")
            if failed:
                return failed
            meeting, err = self._own_meeting(req, account)
            if err:
                return err
            problem = self._check_fields(data, creating=False)
            if problem:
                return zoom_error(400, 300, problem)
            for key in ("topic", "type", "start_time", "duration", "timezone", "agenda", "password", "settings"):
                if key in data:
                    meeting[key] = data[key]
            meeting["_updates"] += 1
            self._save()
        return empty_response(204)

    def delete(self, req):
        with self.lock:
            account, err = self._authorize(req)
            if err:
                return err
            failed = self._failure(account, "cancel")
            if failed:
                return failed
            meeting, err = self._own_meeting(req, account)
            if err:
                return err
            meeting["_deleted"] = True
            self._save()
        return empty_response(204)

    # --- Admin -------------------------------------------------------------

    def admin_account(self, req):
        data, err = parse_admin_json(req)
        if err:
            return err
        for key in ("clientSecret", "webhookSecret"):
            if isinstance(data.get(key), str):
                req.secrets.add(data[key])
        for key in ("accountId", "clientId", "clientSecret"):
            if not isinstance(data.get(key), str) or not ID_RE.match(data[key]):
                return error(400, f"{key}: 1 to 128 characters of A-Z a-z 0-9 _ -")
        webhook = data.get("webhookSecret")
        if webhook is not None and not (isinstance(webhook, str) and ID_RE.match(webhook)):
            return error(400, "webhookSecret: 1 to 128 characters of A-Z a-z 0-9 _ - (or absent)")
        ttl = data.get("tokenTtl", 3600)
        if not (isinstance(ttl, int) and not isinstance(ttl, bool) and 1 <= ttl <= 86400):
            return error(400, "tokenTtl must be seconds from 1 to 86400")
        with self.lock:
            old = self.accounts.get(data["accountId"], {})
            self.accounts[data["accountId"]] = {
                "clientId": data["clientId"], "clientSecret": data["clientSecret"], "webhookSecret": webhook,
                "tokenTtl": ttl, "tokenRequests": old.get("tokenRequests", 0)}
            self.failures.pop(data["accountId"], None)
            self._save()
        return json_response(201, {"accountId": data["accountId"], "oauthBase": req.base_url() + "/zoom",
                                   "apiBase": req.base_url() + "/zoom"})

    def admin_show(self, req):
        with self.lock:
            account = self.accounts.get(req.params["account"])
            if account is None:
                return error(404, "no such account")
            meetings = [{k: v for k, v in m.items() if k not in ("_account",)}
                        for m in self.meetings.values() if m["_account"] == req.params["account"]]
            return json_response(200, {"accountId": req.params["account"], "tokenRequests": account["tokenRequests"],
                                       "failures": self.failures.get(req.params["account"], []),
                                       "meetings": [{("deleted" if k == "_deleted" else "updates" if k == "_updates"
                                                     else "userId" if k == "_user" else k): v
                                                    for k, v in m.items()} for m in meetings]})

    def _signed(self, secret, body, tamper):
        ts = str(int(time.time()) - (STALE_SECONDS if tamper == "stale" else 0))   # Unix seconds
        signature = "v0=" + hex_hmac(secret, f"v0:{ts}:{body.decode()}")
        if tamper == "signature":
            signature = "v0=" + hex_hmac(secret + "x", f"v0:{ts}:{body.decode()}")
        return {"Content-Type": "application/json; charset=utf-8", "x-zm-request-timestamp": ts,
                "x-zm-signature": signature, "User-Agent": "Zoom Marketplace/1.0a"}

    def _webhook_account(self, data):
        account = self.accounts.get(data.get("accountId") or "")
        if account is None:
            return None, error(404, "no such account")
        if not account.get("webhookSecret"):
            return None, error(409, "the account has no webhookSecret")
        if not is_http_url(data.get("url")):
            return None, error(400, "url must be an http(s) URL")
        return account, None

    def admin_webhook(self, req):
        data, err = parse_admin_json(req)
        if err:
            return err
        event = data.get("event")
        if event not in WEBHOOK_EVENTS:
            return error(400, "event must be one of " + ", ".join(WEBHOOK_EVENTS))
        tamper = data.get("tamper")
        if tamper not in (None, "signature", "stale"):
            return error(400, "tamper must be null, \"signature\" or \"stale\"")
        obj = data.get("object", {})
        if not isinstance(obj, dict):
            return error(400, "object must be a JSON object")
        with self.lock:
            account, err = self._webhook_account(data)
            if err:
                return err
            secret = account["webhookSecret"]
        body = json.dumps({"event": event, "event_ts": now_ms(),
                           "payload": {"account_id": data["accountId"], "object": obj}},
                          separators=(",", ":")).encode()
        headers = self._signed(secret, body, tamper)
        result = deliver(data["url"], body, headers)
        return json_response(200, {**result, "request": {"headers": headers, "body": body.decode()}})

    def admin_validate(self, req):
        data, err = parse_admin_json(req)
        if err:
            return err
        with self.lock:
            account, err = self._webhook_account(data)
            if err:
                return err
            secret = account["webhookSecret"]
        plain = random_string(22)
        body = json.dumps({"payload": {"plainToken": plain}, "event_ts": now_ms(), "event": "endpoint.url_validation"},
                          separators=(",", ":")).encode()
        result = deliver(data["url"], body, self._signed(secret, body, None))
        validated = False
        if result["status"] == 200 and result["body"]:
            try:
                answer = json.loads(result["body"])
                validated = answer.get("plainToken") == plain and hmac.compare_digest(
                    str(answer.get("encryptedToken", "")), hex_hmac(secret, plain))
            except (ValueError, AttributeError):
                validated = False
        return json_response(200, {"validated": validated, "plainToken": plain, **result})
