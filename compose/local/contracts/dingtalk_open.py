"""DingTalk open platform stand-in (the app APIs, not the custom robot): access
tokens, scheduled conferences and the department member list.

Provider API (production https://api.dingtalk.com and https://oapi.dingtalk.com;
here both under /dingtalk):
  POST /dingtalk/v1.0/oauth2/accessToken  {"appKey", "appSecret"} -> 200 {"accessToken", "expireIn"}
  POST /dingtalk/v1.0/conference/scheduleConferences   {creatorUnionId, title, startTime, endTime}
       -> 200 {"scheduleConferenceId", "roomCode", "url", "phones": [...]}
  PUT  /dingtalk/v1.0/conference/scheduleConferences   {creatorUnionId, scheduleConferenceId, title?, startTime?, endTime?}
       -> 200 {"success": true}
  POST /dingtalk/v1.0/conference/scheduleConferences/cancel {creatorUnionId, scheduleConferenceId}
       -> 200 {"success": true}
  POST /dingtalk/topapi/v2/user/list?access_token=…   {"dept_id", "cursor", "size"}
       -> 200 {"errcode": 0, "errmsg": "ok", "result": {"has_more", "next_cursor", "list": [...]}}
New-style calls carry `x-acs-dingtalk-access-token`; their errors are
{"code", "message", "requestid"} with a 4xx/5xx status. Legacy (oapi) calls answer 200
with errcode/errmsg.

Admin API:
  POST   /_admin/dingtalk-open/apps  {"appKey", "appSecret", "tokenTtl"?, "departments"?: {"<dept_id>": [user, …]}}
         a user: {"userid", "unionid", "name", "email"?, "mobile"?, "title"?}
  GET    /_admin/dingtalk-open/apps/{appKey}            {"tokenRequests", "conferences": [...]} (no secrets)
  POST   /_admin/dingtalk-open/apps/{appKey}/failures   a failure script (meeting_common.py)
  DELETE /_admin/dingtalk-open/apps/{appKey}/failures
"""

import hmac
import re
import threading
import time
import uuid

from common import Router, error, json_response, parse_admin_json, random_digits, random_string
from meeting_common import ScriptedFailures, take_failure

NAME = "dingtalk_open"
ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
MAX_PAGE = 100


def dt_error(status, code, message):
    return json_response(status, {"code": code, "message": message, "requestid": uuid.uuid4().hex.upper()})


def _ms(value):
    return isinstance(value, int) and not isinstance(value, bool) and 10**12 <= value < 10**14


class Module(ScriptedFailures):
    failure_param = "app"
    credential_noun = "app"

    def failure_credentials(self):
        return self.apps

    name = NAME
    prefixes = ("/dingtalk/", "/_admin/dingtalk-open/")

    def __init__(self, ctx):
        self.lock = threading.Lock()
        self.store = ctx.store(NAME)
        state = self.store.load({})
        self.apps = state.get("apps", {})
        self.tokens = state.get("tokens", {})
        self.conferences = state.get("conferences", {})
        self.failures = {}
        self.router = Router([
            ("POST", "/dingtalk/v1.0/oauth2/accessToken", self.token),
            ("POST", "/dingtalk/v1.0/conference/scheduleConferences", self.create),
            ("PUT", "/dingtalk/v1.0/conference/scheduleConferences", self.update),
            ("POST", "/dingtalk/v1.0/conference/scheduleConferences/cancel", self.cancel),
            ("POST", "/dingtalk/topapi/v2/user/list", self.user_list),
            ("POST", "/_admin/dingtalk-open/apps", self.admin_app),
            ("GET", "/_admin/dingtalk-open/apps/{app}", self.admin_show),
            ("POST", "/_admin/dingtalk-open/apps/{app}/failures", self.admin_fail),
            ("DELETE", "/_admin/dingtalk-open/apps/{app}/failures", self.admin_clear_failures),
        ])

    def handle(self, req):
        return self.router.dispatch(req)

    def reset(self):
        with self.lock:
            self.apps.clear()
            self.tokens.clear()
            self.conferences.clear()
            self.failures.clear()
            self._save()

    def _save(self):
        self.store.save({"apps": self.apps, "tokens": self.tokens, "conferences": self.conferences})

    def _failure(self, app, kind):
        status = take_failure(self.failures.get(app, []), kind)
        if status is None:
            return None
        if status >= 500:
            return dt_error(status, "ServiceUnavailable", "服务暂不可用 (scripted)")
        return dt_error(status, "Forbidden.AccessDenied", "请求被拒绝 (scripted)")

    @staticmethod
    def _json(req):
        try:
            data = req.json()
        except (ValueError, UnicodeDecodeError):
            return None, dt_error(400, "InvalidParameter", "body is not JSON")
        if not isinstance(data, dict):
            return None, dt_error(400, "InvalidParameter", "body must be a JSON object")
        return data, None

    def token(self, req):
        data, err = self._json(req)
        if err:
            return err
        key, secret = data.get("appKey"), data.get("appSecret")
        if isinstance(secret, str):
            req.secrets.add(secret)
        with self.lock:
            app = self.apps.get(key if isinstance(key, str) else "")
            if app is None or not isinstance(secret, str) or not hmac.compare_digest(app["appSecret"], secret):
                req.note = "verified=false"
                return dt_error(400, "invalidClientIdOrSecret", "无效的clientId或者clientSecret")
            app["tokenRequests"] += 1
            failed = self._failure(key, "token")
            if failed:
                self._save()
                return failed
            token = random_string(32, "0123456789abcdef")
            ttl = app.get("tokenTtl", 7200)
            self.tokens[token] = {"app": key, "expiresAt": time.time() + ttl}
            self.tokens = {t: v for t, v in self.tokens.items() if v["expiresAt"] > time.time() - 3600}
            self._save()
        req.secrets.add(token)
        req.note = "verified=true"
        return json_response(200, {"accessToken": token, "expireIn": ttl})

    def _authorize(self, token, req):
        """The app of a valid token, or None (caller holds the lock)."""
        if not token:
            return None
        req.secrets.add(token)
        entry = self.tokens.get(token)
        if entry is None or entry["expiresAt"] <= time.time():
            return None
        return entry["app"]

    def _api(self, req, kind):
        """(app, body, None) for a new-style call with a valid token, else (None, None, error)."""
        data, err = self._json(req)
        if err:
            return None, None, err
        app = self._authorize(req.header("x-acs-dingtalk-access-token"), req)
        if app is None:
            return None, None, dt_error(401, "InvalidAuthentication", "不合法的access_token")
        failed = self._failure(app, kind)
        if failed:
            return None, None, failed
        union = data.get("creatorUnionId")
        if not isinstance(union, str) or not union:
            return None, None, dt_error(400, "MissingcreatorUnionId", "creatorUnionId is mandatory for this action.")
        return app, data, None

    def create(self, req):
        with self.lock:
            app, data, err = self._api(req, "create")
            if err:
                return err
            title = data.get("title")
            if not (isinstance(title, str) and 0 < len(title) <= 128):
                return dt_error(400, "InvalidParameter.Title", "title must be 1 to 128 characters")
            if not (_ms(data.get("startTime")) and _ms(data.get("endTime"))):
                return dt_error(400, "InvalidParameter.Time", "startTime and endTime are milliseconds since the epoch")
            if data["endTime"] <= data["startTime"]:
                return dt_error(400, "InvalidParameter.Time", "endTime must be after startTime")
            conference_id = uuid.uuid4().hex
            conference = {
                "scheduleConferenceId": conference_id, "roomCode": random_digits(9),
                "url": f"https://meeting.dingtalk.com/j/{random_string(10)}",
                "phones": ["4008-xxx-xxx"], "title": title, "startTime": data["startTime"], "endTime": data["endTime"],
                "_app": app, "_creator": data["creatorUnionId"], "_state": "scheduled", "_updates": 0,
            }
            self.conferences[conference_id] = conference
            self._save()
            answer = {k: v for k, v in conference.items() if k in ("scheduleConferenceId", "roomCode", "url", "phones")}
        req.note = f"conference={conference_id}"
        return json_response(200, answer)

    def _own(self, app, data):
        conference = self.conferences.get(data.get("scheduleConferenceId") or "")
        if conference is None or conference["_app"] != app:
            return None, dt_error(404, "conferenceNotFound", "会议不存在")
        if conference["_creator"] != data["creatorUnionId"]:
            return None, dt_error(403, "Forbidden.NotCreator", "只有创建者可以操作")
        return conference, None

    def update(self, req):
        with self.lock:
            app, data, err = self._api(req, "update")
            if err:
                return err
            conference, err = self._own(app, data)
            if err:
                return err
            if conference["_state"] == "cancelled":
                return dt_error(400, "conferenceCancelled", "会议已取消")
            for key in ("startTime", "endTime"):
                if key in data and not _ms(data[key]):
                    return dt_error(400, "InvalidParameter.Time", f"{key} is milliseconds since the epoch")
            for key in ("title", "startTime", "endTime"):
                if key in data:
                    conference[key] = data[key]
            if conference["endTime"] <= conference["startTime"]:
                return dt_error(400, "InvalidParameter.Time", "endTime must be after startTime")
            conference["_updates"] += 1
            self._save()
        return json_response(200, {"success": True})

    def cancel(self, req):
        with self.lock:
            app, data, err = self._api(req, "cancel")
            if err:
                return err
            conference, err = self._own(app, data)
            if err:
                return err
            conference["_state"] = "cancelled"
            self._save()
        return json_response(200, {"success": True})

    def user_list(self, req):
        """The legacy (oapi) department member list: 200 with errcode, as oapi answers."""
        with self.lock:
            app = self._authorize(req.q("access_token"), req)
            if app is None:
                return json_response(200, {"errcode": 40014, "errmsg": "不合法的access_token"})
            status = take_failure(self.failures.get(app, []), "users")
            if status is not None:
                return json_response(status, {"errcode": -1, "errmsg": "系统繁忙 (scripted)"})
            try:
                data = req.json()
            except (ValueError, UnicodeDecodeError):
                return json_response(200, {"errcode": 40035, "errmsg": "缺少参数 json"})
            dept = data.get("dept_id") if isinstance(data, dict) else None
            cursor, size = (data.get("cursor", 0), data.get("size", 100)) if isinstance(data, dict) else (0, 0)
            if not (isinstance(dept, int) and isinstance(cursor, int) and isinstance(size, int) and 1 <= size <= MAX_PAGE):
                return json_response(200, {"errcode": 40035, "errmsg": "不合法的参数 (dept_id, cursor, size 1-100)"})
            members = self.apps[app].get("departments", {}).get(str(dept))
            if members is None:
                return json_response(200, {"errcode": 60003, "errmsg": "部门不存在"})
            page = members[cursor:cursor + size]
            more = cursor + size < len(members)
        return json_response(200, {"errcode": 0, "errmsg": "ok", "request_id": uuid.uuid4().hex,
                                   "result": {"has_more": more, "next_cursor": cursor + size if more else None,
                                              "list": [{**u, "dept_id_list": [dept]} for u in page]}})

    # --- admin -------------------------------------------------------------

    def admin_app(self, req):
        data, err = parse_admin_json(req)
        if err:
            return err
        if isinstance(data.get("appSecret"), str):
            req.secrets.add(data["appSecret"])
        for key in ("appKey", "appSecret"):
            if not isinstance(data.get(key), str) or not ID_RE.match(data[key]):
                return error(400, f"{key}: 1 to 128 characters of A-Z a-z 0-9 _ -")
        ttl = data.get("tokenTtl", 7200)
        if not (isinstance(ttl, int) and not isinstance(ttl, bool) and 1 <= ttl <= 86400):
            return error(400, "tokenTtl must be seconds from 1 to 86400")
        departments = data.get("departments", {})
        if not isinstance(departments, dict) or not all(
                re.match(r"^\d{1,18}$", k) and isinstance(v, list) and all(
                    isinstance(u, dict) and isinstance(u.get("userid"), str) and isinstance(u.get("unionid"), str)
                    and isinstance(u.get("name"), str) for u in v) for k, v in departments.items()):
            return error(400, "departments: {\"<numeric dept id>\": [{\"userid\", \"unionid\", \"name\", …}]}")
        with self.lock:
            old = self.apps.get(data["appKey"], {})
            self.apps[data["appKey"]] = {"appSecret": data["appSecret"], "tokenTtl": ttl, "departments": departments,
                                         "tokenRequests": old.get("tokenRequests", 0)}
            self.failures.pop(data["appKey"], None)
            self._save()
        return json_response(201, {"appKey": data["appKey"], "apiBase": req.base_url() + "/dingtalk"})

    def admin_show(self, req):
        with self.lock:
            app = self.apps.get(req.params["app"])
            if app is None:
                return error(404, "no such app")
            conferences = [{**{k: v for k, v in c.items() if not k.startswith("_")}, "creatorUnionId": c["_creator"],
                            "state": c["_state"], "updates": c["_updates"]}
                           for c in self.conferences.values() if c["_app"] == req.params["app"]]
            return json_response(200, {"appKey": req.params["app"], "tokenRequests": app["tokenRequests"],
                                       "conferences": conferences})
