"""Tencent Meeting (腾讯会议) REST API stand-in: signed requests, meetings.

Provider API (production base https://api.meeting.qq.com; here /tencent):
  POST /tencent/v1/meetings                       -> 200 {meeting_number, meeting_info_list: [...]}
  GET  /tencent/v1/meetings/{meeting_id}?userid=&instanceid=  -> 200 {meeting_number, meeting_info_list}
  PUT  /tencent/v1/meetings/{meeting_id}          -> 200 {meeting_number, meeting_info_list: [{meeting_id, meeting_code}]}
  POST /tencent/v1/meetings/{meeting_id}/cancel   -> 200 {}

Every call carries X-TC-Key (SecretId), X-TC-Timestamp (Unix seconds, within 300 s),
X-TC-Nonce (a positive integer), X-TC-Signature, AppId, optionally SdkId, and
X-TC-Registered: 1. The signature is

    headerStr    = "X-TC-Key={id}&X-TC-Nonce={nonce}&X-TC-Timestamp={ts}"
    stringToSign = METHOD + "\\n" + headerStr + "\\n" + URI (path and query, as sent) + "\\n" + body
    signature    = Base64( lowercase-hex( HMAC-SHA256(SecretKey, stringToSign) ) )

Errors: {"error_info": {"error_code", "new_error_code", "message"}}.

Admin API:
  POST   /_admin/tencent/apps  {"secretId", "secretKey", "appId", "sdkId"?, "callbackToken"?} -> 201
  POST   /_admin/tencent/apps/{secretId}/callbacks/verify {"url"}
         -> 200 {"verified", "status", "body", "error"}: the GET URL check (check_str), the answer checked
  POST   /_admin/tencent/apps/{secretId}/callbacks/send {"url", "event", "meetingId", "meetingCode"?,
         "operator"?: {"userid", "user_name"}, "operateTime"?: ms, "tamper"?: "signature"|"stale"}
         -> 200 {"status", "body", "error", "request": {"headers", "body"}}

Callbacks (event subscription): headers `timestamp` (Unix seconds), `nonce`, `signature` =
lowercase hex SHA-1 of the four strings token, timestamp, nonce and data (check_str for the GET
check) sorted and joined; the POST body is {"data": base64(JSON event)}, the receiver answers
`successfully received callback`; the GET check answers the base64-decoded check_str. (The
scheme follows Tencent Meeting's callback documentation; Convene treats it as unverified.)
  GET    /_admin/tencent/apps/{secretId}            {"meetings": [...], "requests", "refused"} (no secrets)
  POST   /_admin/tencent/apps/{secretId}/failures   a failure script (meeting_common.py)
  DELETE /_admin/tencent/apps/{secretId}/failures
"""

import base64
import hashlib
import hmac
import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from common import (Router, deliver, error, is_http_url, json_response, now_ms, parse_admin_json,
                    random_digits, random_string)
from meeting_common import ScriptedFailures, take_failure

NAME = "tencent_meeting"
WINDOW = 300
ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
SECONDS_RE = re.compile(r"^\d{9,11}$")


def tc_error(status, code, message):
    return json_response(status, {"error_info": {"error_code": code, "new_error_code": 9000000 + code, "message": message}})


def callback_signature(token, timestamp, nonce, data):
    """Tencent Meeting's callback signature: SHA-1 of the four strings sorted and joined."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, data])).encode()).hexdigest()


CALLBACK_EVENTS = ("meeting.started", "meeting.end", "meeting.participant-joined", "meeting.participant-left",
                   "meeting.created", "meeting.updated", "meeting.canceled")


def signature(secret_key, method, secret_id, nonce, timestamp, uri, body):
    header = f"X-TC-Key={secret_id}&X-TC-Nonce={nonce}&X-TC-Timestamp={timestamp}"
    text = f"{method}\n{header}\n{uri}\n{body}"
    digest = hmac.new(secret_key.encode(), text.encode(), hashlib.sha256).hexdigest()
    return base64.b64encode(digest.encode()).decode()


class Module(ScriptedFailures):
    failure_param = "app"
    credential_noun = "app"

    def failure_credentials(self):
        return self.apps

    name = NAME
    prefixes = ("/tencent/", "/_admin/tencent/")

    def __init__(self, ctx):
        self.lock = threading.Lock()
        self.store = ctx.store(NAME)
        state = self.store.load({})
        self.apps = state.get("apps", {})              # secretId -> settings and counters
        self.meetings = state.get("meetings", {})      # meeting_id -> meeting (with "_app", "_state")
        self.failures = {}
        self.router = Router([
            ("POST", "/tencent/v1/meetings", self.create),
            ("GET", "/tencent/v1/meetings/{id}", self.get),
            ("PUT", "/tencent/v1/meetings/{id}", self.update),
            ("POST", "/tencent/v1/meetings/{id}/cancel", self.cancel),
            ("POST", "/_admin/tencent/apps", self.admin_app),
            ("GET", "/_admin/tencent/apps/{app}", self.admin_show),
            ("POST", "/_admin/tencent/apps/{app}/failures", self.admin_fail),
            ("DELETE", "/_admin/tencent/apps/{app}/failures", self.admin_clear_failures),
            ("POST", "/_admin/tencent/apps/{app}/callbacks/verify", self.admin_callback_verify),
            ("POST", "/_admin/tencent/apps/{app}/callbacks/send", self.admin_callback_send),
        ])

    def handle(self, req):
        return self.router.dispatch(req)

    def reset(self):
        with self.lock:
            self.apps.clear()
            self.meetings.clear()
            self.failures.clear()
            self._save()

    def _save(self):
        self.store.save({"apps": self.apps, "meetings": self.meetings})

    # --- verification --------------------------------------------------------

    def _verify(self, req, kind):
        """(secretId, JSON body or None, None) for a correctly signed request of a registered app,
        else (None, None, error Response). Caller holds the lock."""
        secret_id = req.header("x-tc-key", "")
        app = self.apps.get(secret_id)
        if app is None:
            req.note = "verified=false unknown-key"
            return None, None, tc_error(401, 200001, "X-TC-Key is invalid")
        app["requests"] += 1
        ts, nonce, sig = req.header("x-tc-timestamp", ""), req.header("x-tc-nonce", ""), req.header("x-tc-signature", "")
        req.secrets.add(sig)
        problem = None
        if not re.match(r"^\d{1,12}$", ts) or abs(time.time() - int(ts)) > WINDOW:
            problem = (200002, "X-TC-Timestamp is missing or more than 300 seconds away")
        elif not re.match(r"^[1-9]\d{0,18}$", nonce):
            problem = (200004, "X-TC-Nonce must be a positive integer")
        elif req.header("appid", "") != app["appId"]:
            problem = (200005, "AppId does not match the key")
        elif app.get("sdkId") and req.header("sdkid", "") != app["sdkId"]:
            problem = (200006, "SdkId does not match the key")
        elif req.header("x-tc-registered", "") != "1":
            problem = (200007, "X-TC-Registered must be 1")
        else:
            body = req.body.decode("utf-8", errors="replace") if req.method != "GET" else ""
            expected = signature(app["secretKey"], req.method, secret_id, nonce, ts, req.target, body)
            if not hmac.compare_digest(expected, sig):
                problem = (200003, "signature verification failed")
        if problem:
            app["refused"] += 1
            req.note = f"verified=false {problem[0]}"
            return None, None, tc_error(401, *problem)
        req.note = "verified=true"
        status = take_failure(self.failures.get(secret_id, []), kind)
        if status is not None:
            return None, None, tc_error(status, 500000 if status >= 500 else 190300, "scripted failure")
        data = None
        if req.method != "GET":
            try:
                data = req.json()
            except (ValueError, UnicodeDecodeError):
                return None, None, tc_error(400, 190001, "body is not JSON")
            if not isinstance(data, dict):
                return None, None, tc_error(400, 190001, "body must be a JSON object")
        return secret_id, data, None

    @staticmethod
    def _operator(data, query=None):
        userid = (query or {}).get("userid") if query else data.get("userid")
        instanceid = (query or {}).get("instanceid") if query else data.get("instanceid")
        if not isinstance(userid, str) or not userid:
            return "userid is required"
        if str(instanceid) not in ("1", "2", "3", "4", "5", "6", "7", "8", "9"):
            return "instanceid must be a device type from 1 to 9"
        return None

    @staticmethod
    def _times(data, required):
        for key in ("start_time", "end_time"):
            if key in data or required:
                if not (isinstance(data.get(key), str) and SECONDS_RE.match(data[key])):
                    return f"{key} must be Unix seconds as a string"
        if "start_time" in data and "end_time" in data and int(data["end_time"]) <= int(data["start_time"]):
            return "end_time must be after start_time"
        if "password" in data and data["password"] is not None and not (isinstance(data["password"], str)
                                                                        and re.match(r"^\d{4,6}$", data["password"])):
            return "password must be 4 to 6 digits"
        if "subject" in data and not (isinstance(data["subject"], str) and 0 < len(data["subject"]) <= 255):
            return "subject must be 1 to 255 characters"
        return None

    @staticmethod
    def _info(meeting):
        return {k: v for k, v in meeting.items() if not k.startswith("_")}

    # --- API -------------------------------------------------------------------

    def create(self, req):
        with self.lock:
            secret_id, data, err = self._verify(req, "create")
            if err:
                return err
            problem = self._operator(data) or self._times(data, required=True)
            if problem is None and "subject" not in data:
                problem = "subject is required"
            if problem is None and data.get("type", 0) not in (0, 1):
                problem = "type must be 0 (scheduled) or 1 (quick)"
            if problem:
                return tc_error(400, 190001, problem)
            meeting_id = random_digits(19).lstrip("0") or "1"
            code = random_digits(9)
            meeting = {
                "subject": data["subject"], "meeting_id": meeting_id, "meeting_code": code, "type": data.get("type", 0),
                "join_url": f"https://meeting.tencent.com/dm/{random_string(12)}",
                "hosts": data.get("hosts", [{"userid": data["userid"]}]), "start_time": data["start_time"],
                "end_time": data["end_time"], "password": data.get("password"),
                "settings": data.get("settings", {}), "time_zone": data.get("time_zone"), "location": data.get("location"),
                "_app": secret_id, "_state": "scheduled", "_creator": data["userid"], "_updates": 0,
            }
            self.meetings[meeting_id] = meeting
            self._save()
            info = self._info(meeting)
        req.note += f" meeting={meeting_id}"
        return json_response(200, {"meeting_number": 1, "meeting_info_list": [info]})

    def _own(self, req, secret_id):
        meeting = self.meetings.get(req.params["id"])
        if meeting is None or meeting["_app"] != secret_id:
            return None, tc_error(404, 9061, "meeting does not exist")
        return meeting, None

    def get(self, req):
        with self.lock:
            secret_id, _, err = self._verify(req, "get")
            if err:
                return err
            problem = self._operator(None, {k: v[0] for k, v in req.query.items()})
            if problem:
                return tc_error(400, 190001, problem)
            meeting, err = self._own(req, secret_id)
            if err:
                return err
            info = {**self._info(meeting), "status": "MEETING_STATE_CANCELLED" if meeting["_state"] == "cancelled"
                    else "MEETING_STATE_INIT"}
            return json_response(200, {"meeting_number": 1, "meeting_info_list": [info]})

    def update(self, req):
        with self.lock:
            secret_id, data, err = self._verify(req, "update")
            if err:
                return err
            problem = self._operator(data) or self._times(data, required=False)
            if problem:
                return tc_error(400, 190001, problem)
            meeting, err = self._own(req, secret_id)
            if err:
                return err
            if meeting["_state"] == "cancelled":
                return tc_error(400, 9003, "the meeting was cancelled")
            for key in ("subject", "start_time", "end_time", "password", "settings", "time_zone", "location", "hosts"):
                if key in data:
                    meeting[key] = data[key]
            meeting["_updates"] += 1
            self._save()
            return json_response(200, {"meeting_number": 1, "meeting_info_list": [
                {"meeting_id": meeting["meeting_id"], "meeting_code": meeting["meeting_code"]}]})

    def cancel(self, req):
        with self.lock:
            secret_id, data, err = self._verify(req, "cancel")
            if err:
                return err
            problem = self._operator(data)
            if problem is None and not isinstance(data.get("reason_code"), int):
                problem = "reason_code is required (an integer)"
            if problem:
                return tc_error(400, 190001, problem)
            meeting, err = self._own(req, secret_id)
            if err:
                return err
            meeting["_state"] = "cancelled"
            self._save()
        return json_response(200, {})

    # --- admin -------------------------------------------------------------

    def admin_app(self, req):
        data, err = parse_admin_json(req)
        if err:
            return err
        if isinstance(data.get("secretKey"), str):
            req.secrets.add(data["secretKey"])
        for key in ("secretId", "secretKey", "appId"):
            if not isinstance(data.get(key), str) or not ID_RE.match(data[key]):
                return error(400, f"{key}: 1 to 128 characters of A-Z a-z 0-9 _ -")
        sdk = data.get("sdkId")
        if sdk is not None and not (isinstance(sdk, str) and ID_RE.match(sdk)):
            return error(400, "sdkId: 1 to 128 characters of A-Z a-z 0-9 _ - (or absent)")
        token = data.get("callbackToken")
        if token is not None and not (isinstance(token, str) and ID_RE.match(token)):
            return error(400, "callbackToken: 1 to 128 characters of A-Z a-z 0-9 _ - (or absent)")
        if token:
            req.secrets.add(token)
        with self.lock:
            old = self.apps.get(data["secretId"], {})
            self.apps[data["secretId"]] = {"secretKey": data["secretKey"], "appId": data["appId"], "sdkId": sdk,
                                           "callbackToken": token,
                                           "requests": old.get("requests", 0), "refused": old.get("refused", 0)}
            self.failures.pop(data["secretId"], None)
            self._save()
        return json_response(201, {"secretId": data["secretId"], "apiBase": req.base_url() + "/tencent"})

    def admin_show(self, req):
        with self.lock:
            app = self.apps.get(req.params["app"])
            if app is None:
                return error(404, "no such app")
            meetings = [{**self._info(m), "state": m["_state"], "creator": m["_creator"], "updates": m["_updates"]}
                        for m in self.meetings.values() if m["_app"] == req.params["app"]]
            return json_response(200, {"secretId": req.params["app"], "appId": app["appId"], "requests": app["requests"],
                                       "refused": app["refused"], "meetings": meetings})

    # --- callbacks ---------------------------------------------------------

    def _callback_app(self, req, data):
        app = self.apps.get(req.params["app"])
        if app is None:
            return None, error(404, "no such app")
        if not app.get("callbackToken"):
            return None, error(409, "the app has no callbackToken")
        if not is_http_url(data.get("url")):
            return None, error(400, "url must be an http(s) URL")
        return app, None

    @staticmethod
    def _headers(token, data, tamper):
        ts = str(int(time.time()) - (600 if tamper == "stale" else 0))
        nonce = random_digits(9)
        sig = callback_signature(token + ("x" if tamper == "signature" else ""), ts, nonce, data)
        return {"timestamp": ts, "nonce": nonce, "signature": sig, "Content-Type": "application/json"}

    def admin_callback_verify(self, req):
        data, err = parse_admin_json(req)
        if err:
            return err
        with self.lock:
            app, err = self._callback_app(req, data)
            if err:
                return err
            token = app["callbackToken"]
        plain = random_string(16)
        check = base64.b64encode(plain.encode()).decode()
        headers = self._headers(token, check, None)
        del headers["Content-Type"]
        url = data["url"] + ("&" if "?" in data["url"] else "?") + "check_str=" + urllib.parse.quote(check, safe="")
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers, method="GET"), timeout=10) as resp:
                status, body = resp.status, resp.read(4096).decode("utf-8", errors="replace")
            problem = None
        except urllib.error.HTTPError as e:
            status, body, problem = e.code, (e.read(4096).decode("utf-8", errors="replace") if e.fp else ""), None
        except (urllib.error.URLError, OSError, ValueError) as e:
            status, body, problem = None, None, f"{e.__class__.__name__}: {getattr(e, 'reason', e)}"
        return json_response(200, {"verified": status == 200 and body == plain, "status": status, "body": body, "error": problem})

    def admin_callback_send(self, req):
        data, err = parse_admin_json(req)
        if err:
            return err
        event = data.get("event")
        if event not in CALLBACK_EVENTS:
            return error(400, "event must be one of " + ", ".join(CALLBACK_EVENTS))
        tamper = data.get("tamper")
        if tamper not in (None, "signature", "stale"):
            return error(400, "tamper must be null, \"signature\" or \"stale\"")
        meeting_id = data.get("meetingId")
        if not isinstance(meeting_id, str) or not meeting_id:
            return error(400, "meetingId is required")
        operator = data.get("operator", {"userid": "host1", "user_name": "host"})
        operate_time = data.get("operateTime", now_ms())
        if not (isinstance(operate_time, int) and not isinstance(operate_time, bool) and operate_time > 0):
            return error(400, "operateTime must be milliseconds since the epoch")
        with self.lock:
            app, err = self._callback_app(req, data)
            if err:
                return err
            token = app["callbackToken"]
            meeting = self.meetings.get(meeting_id, {})
        payload = {"event": event, "trace_id": random_string(16), "payload": [{
            "operate_time": operate_time, "operator": operator,
            "meeting_info": {"meeting_id": meeting_id, "meeting_code": data.get("meetingCode", meeting.get("meeting_code", "")),
                             "subject": meeting.get("subject", ""), "start_time": int(meeting.get("start_time", "0") or 0),
                             "end_time": int(meeting.get("end_time", "0") or 0), "meeting_type": 0},
        }]}
        encoded = base64.b64encode(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()).decode()
        body = json.dumps({"data": encoded}, separators=(",", ":")).encode()
        headers = self._headers(token, encoded, tamper)
        result = deliver(data["url"], body, headers)
        return json_response(200, {**result, "request": {"headers": headers, "body": body.decode()}})
