"""WeCom (企业微信) group robot stand-in.

Provider API (production base URL https://qyapi.weixin.qq.com):
  POST /cgi-bin/webhook/send?key=K
  Always HTTP 200 with {"errcode": N, "errmsg": "..."}, like WeCom. The key in
  the URL is the robot's only secret (no signature).

Admin API:
  POST   /_admin/wecom/robots                 {"key", "perMinute"?} -> 201
  DELETE /_admin/wecom/robots/{key}           the robot is removed (sends then get 93000)
  GET    /_admin/wecom/robots/{key}/messages  -> {"messages": [{"receivedAt", "body"}]}
  DELETE /_admin/wecom/robots/{key}/messages  clears them (and the rate window)
"""

import threading

from common import (TOKEN_RE, RateWindow, Router, error, json_response, now_ms,
                    parse_admin_json)

NAME = "wecom_robot"

DEFAULT_PER_MINUTE = 20                          # 20 messages per minute per robot
MAX_BYTES = {"markdown": 4096, "text": 2048}     # content limits, UTF-8 bytes
MAX_STORED = 1000


def answer(req, errcode, errmsg):
    req.note = f"errcode={errcode}" + ("" if errcode == 0 else f" ({errmsg})")
    return json_response(200, {"errcode": errcode, "errmsg": errmsg})


def check_message(body):
    """(errcode, errmsg) for a body WeCom would refuse, or None."""
    if not isinstance(body, dict):
        return 47001, "data format error: body must be a JSON object"
    msgtype = body.get("msgtype")
    if msgtype not in MAX_BYTES:
        return 40008, f"invalid message type {msgtype!r} (this stand-in accepts text, markdown)"
    part = body.get(msgtype)
    if not isinstance(part, dict):
        return 40008, f"invalid message: {msgtype} must be an object"
    content = part.get("content")
    if not isinstance(content, str) or content.strip() == "":
        return 44004, "empty content"
    size = len(content.encode("utf-8"))
    if size > MAX_BYTES[msgtype]:
        return 40058, f"{msgtype}.content exceed max length {MAX_BYTES[msgtype]} (got {size} bytes)"
    if msgtype == "text":
        for field in ("mentioned_list", "mentioned_mobile_list"):
            v = part.get(field)
            if v is not None and not (isinstance(v, list) and all(isinstance(x, str) for x in v)):
                return 40058, f"text.{field} must be a list of strings"
    return None


class Module:
    name = NAME
    prefixes = ("/cgi-bin/webhook/", "/_admin/wecom/")

    def __init__(self, ctx):
        self.lock = threading.Lock()
        self.store = ctx.store(NAME)
        self.robots = self.store.load({"robots": {}}).get("robots", {})
        self.rate = RateWindow(60.0)
        self.router = Router([
            ("POST", "/cgi-bin/webhook/send", self.send),
            ("POST", "/_admin/wecom/robots", self.admin_create),
            ("DELETE", "/_admin/wecom/robots/{key}", self.admin_delete, ["key"]),
            ("GET", "/_admin/wecom/robots/{key}/messages", self.admin_messages, ["key"]),
            ("DELETE", "/_admin/wecom/robots/{key}/messages", self.admin_clear, ["key"]),
        ])

    def handle(self, req):
        return self.router.dispatch(req)

    def reset(self):
        with self.lock:
            self.robots.clear()
            self.rate.clear()
            self._save()

    def _save(self):
        self.store.save({"robots": self.robots})

    # --- admin -------------------------------------------------------------

    def admin_create(self, req):
        data, err = parse_admin_json(req)
        if err:
            return err
        key = data.get("key")
        if isinstance(key, str):
            req.secrets.add(key)
        if not isinstance(key, str) or not TOKEN_RE.match(key):
            return error(400, "key: 1 to 256 characters of A-Z a-z 0-9 . _ ~ - (WeCom's are UUIDs)")
        per_minute = data.get("perMinute", DEFAULT_PER_MINUTE)
        if not (isinstance(per_minute, int) and not isinstance(per_minute, bool) and 1 <= per_minute <= 10000):
            return error(400, "perMinute must be an integer from 1 to 10000")
        with self.lock:
            old = self.robots.get(key, {})
            self.robots[key] = {"perMinute": per_minute, "messages": old.get("messages", [])}
            self.rate.forget(key)
            self._save()
        return json_response(201, {
            "key": key, "perMinute": per_minute,
            "webhook": f"{req.base_url()}/cgi-bin/webhook/send?key={key}",
        })

    def admin_delete(self, req):
        key = req.params["key"]
        with self.lock:
            if self.robots.pop(key, None) is None:
                return error(404, "no such robot")
            self.rate.forget(key)
            self._save()
        return json_response(200, {"deleted": True})

    def admin_messages(self, req):
        with self.lock:
            robot = self.robots.get(req.params["key"])
            if robot is None:
                return error(404, "no such robot")
            messages = list(robot["messages"])
        return json_response(200, {"messages": messages})

    def admin_clear(self, req):
        key = req.params["key"]
        with self.lock:
            robot = self.robots.get(key)
            if robot is None:
                return error(404, "no such robot")
            n = len(robot["messages"])
            robot["messages"] = []
            self.rate.forget(key)
            self._save()
        return json_response(200, {"deleted": n})

    # --- provider ----------------------------------------------------------

    def send(self, req):
        key = req.q("key")
        if key:
            req.secrets.add(key)
        with self.lock:
            robot = self.robots.get(key) if key else None
            if robot is None:
                return answer(req, 93000, "invalid webhook url")
            try:
                body = req.json()
            except (ValueError, UnicodeDecodeError):
                return answer(req, 47001, "data format error: body is not JSON")
            refused = check_message(body)
            if refused:
                return answer(req, *refused)
            limit = robot.get("perMinute", DEFAULT_PER_MINUTE)
            if not self.rate.try_acquire(key, limit):
                return answer(req, 45009, "api freq out of limit")
            robot["messages"].append({"receivedAt": now_ms(), "body": body})
            del robot["messages"][:-MAX_STORED]
            self._save()
        return answer(req, 0, "ok")
