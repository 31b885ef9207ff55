"""DingTalk custom robot (群自定义机器人) stand-in.

Provider API (what Convene calls, base URL https://oapi.dingtalk.com in production):
  POST /robot/send?access_token=T[&timestamp=MS&sign=S]
  Always HTTP 200 with {"errcode": N, "errmsg": "..."}, like DingTalk.

Admin API (what a developer does in the DingTalk group settings):
  POST   /_admin/dingtalk/robots                      {"accessToken", "secret"?, "keywords"?, "perMinute"?} -> 201
  DELETE /_admin/dingtalk/robots/{accessToken}         the robot is removed (sends then get 300001)
  GET    /_admin/dingtalk/robots/{accessToken}/messages -> {"messages": [{"receivedAt", "body"}]}
  DELETE /_admin/dingtalk/robots/{accessToken}/messages clears them (and the rate window)
"""

import base64
import hashlib
import hmac
import threading

from common import (TOKEN_RE, RateWindow, Router, error, json_response, now_ms,
                    parse_admin_json)

NAME = "dingtalk_robot"

TIMESTAMP_TOLERANCE_MS = 3600 * 1000     # DingTalk: the timestamp must be within 1 hour of its clock
DEFAULT_PER_MINUTE = 20                  # 20 messages per minute per robot
MAX_STORED = 1000                        # kept messages per robot (oldest dropped)


def sign(secret, timestamp):
    """base64(HMAC-SHA256(key=secret, msg="{timestamp}\\n{secret}")) — before URL-encoding."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}\n{secret}".encode("utf-8"), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


def answer(req, errcode, errmsg):
    req.note = f"errcode={errcode}" + ("" if errcode == 0 else f" ({errmsg})")
    return json_response(200, {"errcode": errcode, "errmsg": errmsg})


def _invalid(req, why):
    return answer(req, 40035, f"invalid parameter: {why}")


def _nonempty_str(v):
    return isinstance(v, str) and v.strip() != ""


def check_message(body):
    """None when the body is a message this stand-in accepts, else the reason.
    Returns (reason, searchable text)."""
    if not isinstance(body, dict):
        return "body must be a JSON object", ""
    msgtype = body.get("msgtype")
    if msgtype == "markdown":
        md = body.get("markdown")
        if not isinstance(md, dict):
            return "markdown must be an object", ""
        if not _nonempty_str(md.get("title")):
            return "markdown.title is missing or empty", ""
        if not _nonempty_str(md.get("text")):
            return "markdown.text is missing or empty", ""
        text = md["title"] + "\n" + md["text"]
    elif msgtype == "text":
        t = body.get("text")
        if not isinstance(t, dict) or not _nonempty_str(t.get("content")):
            return "text.content is missing or empty", ""
        text = t["content"]
    elif msgtype is None:
        return "msgtype is missing", ""
    else:
        return f"msgtype {msgtype!r} is not supported by this stand-in (text, markdown)", ""
    at = body.get("at")
    if at is not None:
        if not isinstance(at, dict):
            return "at must be an object", ""
        for field in ("atMobiles", "atUserIds"):
            v = at.get(field)
            if v is not None and not (isinstance(v, list) and all(isinstance(x, str) for x in v)):
                return f"at.{field} must be a list of strings", ""
        if "isAtAll" in at and not isinstance(at["isAtAll"], bool):
            return "at.isAtAll must be a boolean", ""
    return None, text


class Module:
    name = NAME
    prefixes = ("/robot/send", "/_admin/dingtalk/")

    def __init__(self, ctx):
        self.lock = threading.Lock()
        self.store = ctx.store(NAME)
        self.robots = self.store.load({"robots": {}}).get("robots", {})
        self.rate = RateWindow(60.0)
        self.router = Router([
            ("POST", "/robot/send", self.send),
            ("POST", "/_admin/dingtalk/robots", self.admin_create),
            ("DELETE", "/_admin/dingtalk/robots/{token}", self.admin_delete, ["token"]),
            ("GET", "/_admin/dingtalk/robots/{token}/messages", self.admin_messages, ["token"]),
            ("DELETE", "/_admin/dingtalk/robots/{token}/messages", self.admin_clear, ["token"]),
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
        token = data.get("accessToken")
        if isinstance(token, str):
            req.secrets.add(token)
        if not isinstance(token, str) or not TOKEN_RE.match(token):
            return error(400, "accessToken: 1 to 256 characters of A-Z a-z 0-9 . _ ~ -")
        secret = data.get("secret")
        if secret is not None and not _nonempty_str(secret):
            return error(400, "secret must be a non-empty string (DingTalk's start with SEC) or absent")
        if secret:
            req.secrets.add(secret)
        keywords = data.get("keywords", [])
        if not (isinstance(keywords, list) and len(keywords) <= 10 and all(_nonempty_str(k) for k in keywords)):
            return error(400, "keywords must be a list of at most 10 non-empty strings")
        per_minute = data.get("perMinute", DEFAULT_PER_MINUTE)
        if not (isinstance(per_minute, int) and not isinstance(per_minute, bool) and 1 <= per_minute <= 10000):
            return error(400, "perMinute must be an integer from 1 to 10000")
        with self.lock:
            old = self.robots.get(token, {})
            self.robots[token] = {
                "secret": secret, "keywords": keywords, "perMinute": per_minute,
                "messages": old.get("messages", []),
            }
            self.rate.forget(token)
            self._save()
        return json_response(201, {
            "accessToken": token, "signed": bool(secret), "keywords": keywords, "perMinute": per_minute,
            "webhook": f"{req.base_url()}/robot/send?access_token={token}",
        })

    def admin_delete(self, req):
        token = req.params["token"]
        with self.lock:
            if self.robots.pop(token, None) is None:
                return error(404, "no such robot")
            self.rate.forget(token)
            self._save()
        return json_response(200, {"deleted": True})

    def admin_messages(self, req):
        with self.lock:
            robot = self.robots.get(req.params["token"])
            if robot is None:
                return error(404, "no such robot")
            messages = list(robot["messages"])
        return json_response(200, {"messages": messages})

    def admin_clear(self, req):
        token = req.params["token"]
        with self.lock:
            robot = self.robots.get(token)
            if robot is None:
                return error(404, "no such robot")
            n = len(robot["messages"])
            robot["messages"] = []
            self.rate.forget(token)
            self._save()
        return json_response(200, {"deleted": n})

    # --- provider ----------------------------------------------------------

    def send(self, req):
        token = req.q("access_token")
        if token:
            req.secrets.add(token)
        with self.lock:
            robot = self.robots.get(token) if token else None
            if robot is None:
                return answer(req, 300001, "token is not exist")
            secret = robot.get("secret")
            if secret:
                req.secrets.add(secret)
                timestamp = req.q("timestamp")
                if not timestamp or len(timestamp) > 16 or not timestamp.isascii() or not timestamp.isdigit():
                    return answer(req, 310000, "invalid timestamp")
                if abs(now_ms() - int(timestamp)) > TIMESTAMP_TOLERANCE_MS:
                    return answer(req, 310000, "invalid timestamp")
                given = req.q("sign") or ""
                # The query is already URL-decoded here; compare in constant time.
                if not hmac.compare_digest(sign(secret, timestamp).encode("utf-8"), given.encode("utf-8")):
                    return answer(req, 310000, "sign not match")
            if "application/json" not in req.header("content-type", "").lower():
                return answer(req, 43004, "invalid HTTP header Content-Type (expected application/json)")
            try:
                body = req.json()
            except (ValueError, UnicodeDecodeError):
                return _invalid(req, "body is not JSON")
            reason, text = check_message(body)
            if reason:
                return _invalid(req, reason)
            keywords = robot.get("keywords") or []
            if keywords and not any(k in text for k in keywords):
                return answer(req, 310000, "keywords not in content")
            limit = robot.get("perMinute", DEFAULT_PER_MINUTE)
            if not self.rate.try_acquire(token, limit):
                return answer(req, 130101, f"send too fast, exceed {limit} times per minute")
            robot["messages"].append({"receivedAt": now_ms(), "body": body})
            del robot["messages"][:-MAX_STORED]
            self._save()
        return answer(req, 0, "ok")
