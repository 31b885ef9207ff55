"""What the online-meeting stand-ins (zoom.py, tencent_meeting.py, dingtalk_open.py)
share: scripted failures per credential, and the admin answers about them.

A failure script belongs to one credential (a Zoom account, a Tencent Meeting app,
a DingTalk app), so tests running side by side against one server never use up
each other's failures. Scripted:

    {"status": 500, "count": 2}                 the next 2 calls answer 500
    {"status": 400, "count": 1, "on": "create"}  only calls of that kind ("token",
                                                 "create", "update", "cancel", "users")
    {"down": true}                               every call answers 503 until cleared

A scripted failure is answered in the provider's own error shape (the module's
`failure_response(status)`), so the client sees what it would see from the real
platform.
"""

from common import empty_response, error, json_response, parse_admin_json

FAILURE_KINDS = ("token", "create", "update", "cancel", "get", "users")
MAX_COUNT = 1000


def parse_failure(data):
    """A failure script entry from an admin body, or (None, error Response)."""
    if data.get("down") is True:
        return {"down": True, "status": 503, "count": None, "on": data.get("on")}, None
    status = data.get("status")
    if not (isinstance(status, int) and not isinstance(status, bool) and 400 <= status <= 599):
        return None, error(400, "status must be an HTTP error status from 400 to 599 (or send {\"down\": true})")
    count = data.get("count", 1)
    if not (isinstance(count, int) and not isinstance(count, bool) and 1 <= count <= MAX_COUNT):
        return None, error(400, f"count must be an integer from 1 to {MAX_COUNT}")
    on = data.get("on")
    if on is not None and on not in FAILURE_KINDS:
        return None, error(400, "on must be one of " + ", ".join(FAILURE_KINDS) + " (or absent: any call)")
    return {"down": False, "status": status, "count": count, "on": on}, None


def take_failure(script, kind):
    """The status to answer for this call if a scripted failure applies (caller holds
    the module's lock), using up one of its count; None to go on normally."""
    for entry in list(script):
        if entry["on"] is not None and entry["on"] != kind:
            continue
        if entry["down"]:
            return entry["status"]
        entry["count"] -= 1
        if entry["count"] <= 0:
            script.remove(entry)
        return entry["status"]
    return None


class ScriptedFailures:
    """The admin routes that add and clear a credential's failure script. A stand-in mixes
    this in and says which route parameter names the credential (`failure_param`), what it
    calls one (`credential_noun`) and where its credentials are (`failure_credentials()`);
    it keeps `self.failures` and `self.lock`."""

    failure_param = "app"
    credential_noun = "app"

    def failure_credentials(self):
        raise NotImplementedError

    def admin_fail(self, req):
        data, err = parse_admin_json(req)
        if err:
            return err
        entry, err = parse_failure(data)
        if err:
            return err
        key = req.params[self.failure_param]
        with self.lock:
            if key not in self.failure_credentials():
                return error(404, f"no such {self.credential_noun}")
            self.failures.setdefault(key, []).append(entry)
        return json_response(201, entry)

    def admin_clear_failures(self, req):
        with self.lock:
            self.failures.pop(req.params[self.failure_param], None)
        return empty_response(204)
