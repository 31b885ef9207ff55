"""Tests of the online-meeting stand-ins: zoom.py, tencent_meeting.py, dingtalk_open.py.

    /usr/bin/python3 -m unittest discover -s compose/local/contracts

Signatures are computed here with hmac directly, independently of the modules' helpers.
"""

import base64
import hashlib
import hmac
import json
import os
import random
import sys
import time
import unittest
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from test_contracts import Receiver, ServerCase  # noqa: E402


def uid(prefix):
    return prefix + uuid.uuid4().hex[:12]


class ZoomTests(ServerCase):
    def setUp(self):
        self.account, self.client, self.secret, self.hook = uid("acc"), uid("cli"), uid("sec"), uid("whs")
        status, _, body, _ = self.call("POST", "/_admin/zoom/accounts", {
            "accountId": self.account, "clientId": self.client, "clientSecret": self.secret, "webhookSecret": self.hook})
        self.assertEqual(status, 201, body)

    def token(self, secret=None, account=None):
        basic = base64.b64encode(f"{self.client}:{secret or self.secret}".encode()).decode()
        return self.call("POST", f"/zoom/oauth/token?grant_type=account_credentials&account_id={account or self.account}",
                         headers={"Authorization": "Basic " + basic})

    def bearer(self):
        status, _, body, _ = self.token()
        self.assertEqual(status, 200, body)
        return {"Authorization": "Bearer " + body["access_token"]}

    def create(self, headers, **changes):
        meeting = {"topic": "Board meeting", "type": 2, "start_time": "2026-12-01T02:00:00Z", "duration": 60,
                   "timezone": "Asia/Shanghai", **changes}
        return self.call("POST", "/zoom/v2/users/me/meetings", meeting, headers=headers)

    def show(self):
        return self.call("GET", f"/_admin/zoom/accounts/{self.account}")[2]

    def test_token_needs_the_client_secret_and_is_counted(self):
        status, _, body, _ = self.token(secret="wrong")
        self.assertEqual(status, 400)
        self.assertEqual(body["error"], "invalid_client")
        status, _, body, _ = self.token()
        self.assertEqual(status, 200)
        self.assertEqual(body["token_type"], "bearer")
        self.assertEqual(body["expires_in"], 3600)
        self.assertEqual(self.show()["tokenRequests"], 1)     # the refused one is not counted
        self.assertNotIn(self.secret, self.log.text())

    def test_meetings_need_a_valid_bearer_token(self):
        status, _, body, _ = self.create({"Authorization": "Bearer nope"})
        self.assertEqual(status, 401)
        self.assertEqual(body["code"], 124)

    def test_create_update_delete(self):
        headers = self.bearer()
        status, _, meeting, _ = self.create(headers)
        self.assertEqual(status, 201, meeting)
        for key in ("id", "uuid", "join_url", "start_url", "password", "host_id"):
            self.assertIn(key, meeting)
        self.assertIsInstance(meeting["id"], int)
        status, _, _, _ = self.call("PATCH", f"/zoom/v2/meetings/{meeting['id']}", {"topic": "Moved"}, headers=headers)
        self.assertEqual(status, 204)
        status, _, got, _ = self.call("GET", f"/zoom/v2/meetings/{meeting['id']}", headers=headers)
        self.assertEqual(got["topic"], "Moved")
        status, _, _, _ = self.call("DELETE", f"/zoom/v2/meetings/{meeting['id']}", headers=headers)
        self.assertEqual(status, 204)
        status, _, body, _ = self.call("DELETE", f"/zoom/v2/meetings/{meeting['id']}", headers=headers)
        self.assertEqual(status, 404)
        self.assertEqual(body["code"], 3001)
        [shown] = self.show()["meetings"]
        self.assertTrue(shown["deleted"])
        self.assertEqual(shown["updates"], 1)

    def test_a_scheduled_meeting_needs_a_start_time(self):
        status, _, body, _ = self.create(self.bearer(), start_time=None)
        self.assertEqual(status, 400)

    def test_scripted_failures_belong_to_one_account(self):
        headers = self.bearer()
        status, _, _, _ = self.call("POST", f"/_admin/zoom/accounts/{self.account}/failures",
                                    {"status": 500, "count": 2, "on": "create"})
        self.assertEqual(status, 201)
        self.assertEqual(self.create(headers)[0], 500)
        self.assertEqual(self.create(headers)[0], 500)
        self.assertEqual(self.create(headers)[0], 201)
        self.call("POST", f"/_admin/zoom/accounts/{self.account}/failures", {"down": True})
        self.assertEqual(self.create(headers)[0], 503)
        self.assertEqual(self.token()[0], 503)
        self.call("DELETE", f"/_admin/zoom/accounts/{self.account}/failures")
        self.assertEqual(self.create(headers)[0], 201)

    def test_webhook_is_signed_with_the_secret_token(self):
        receiver = Receiver()
        try:
            status, _, answer, _ = self.call("POST", "/_admin/zoom/webhooks/send", {
                "accountId": self.account, "url": receiver.url("/zoom"), "event": "meeting.started",
                "object": {"id": 123, "start_time": "2026-12-01T02:00:00Z"}})
            self.assertEqual(status, 200, answer)
            self.assertEqual(answer["status"], 200)
            [got] = receiver.requests()
            ts = got["headers"]["x-zm-request-timestamp"]
            self.assertLess(abs(int(ts) - time.time()), 5)
            expected = "v0=" + hmac.new(self.hook.encode(), b"v0:" + ts.encode() + b":" + got["body"],
                                        hashlib.sha256).hexdigest()
            self.assertEqual(got["headers"]["x-zm-signature"], expected)
            body = json.loads(got["body"])
            self.assertEqual(body["payload"]["account_id"], self.account)
            self.assertEqual(body["payload"]["object"]["id"], 123)
            self.call("POST", "/_admin/zoom/webhooks/send", {
                "accountId": self.account, "url": receiver.url("/zoom"), "event": "meeting.ended", "tamper": "signature"})
            forged = receiver.requests()[1]
            self.assertNotEqual(forged["headers"]["x-zm-signature"], "v0=" + hmac.new(
                self.hook.encode(), b"v0:" + forged["headers"]["x-zm-request-timestamp"].encode() + b":" + forged["body"],
                hashlib.sha256).hexdigest())
        finally:
            receiver.close()

    def test_url_validation_checks_the_encrypted_token(self):
        def answer(request):
            plain = json.loads(request["body"])["payload"]["plainToken"]
            token = hmac.new(self.hook.encode(), plain.encode(), hashlib.sha256).hexdigest()
            return 200, json.dumps({"plainToken": plain, "encryptedToken": token}).encode()
        good, bad = Receiver(on_request=answer), Receiver(default=(200, b'{"plainToken":"x","encryptedToken":"y"}'))
        try:
            status, _, result, _ = self.call("POST", "/_admin/zoom/webhooks/validate",
                                             {"accountId": self.account, "url": good.url()})
            self.assertEqual(status, 200)
            self.assertTrue(result["validated"], result)
            status, _, result, _ = self.call("POST", "/_admin/zoom/webhooks/validate",
                                             {"accountId": self.account, "url": bad.url()})
            self.assertFalse(result["validated"])
        finally:
            good.close()
            bad.close()


def tc_headers(secret_id, secret_key, app_id, method, uri, body, timestamp=None, nonce=None, registered="1"):
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = str(nonce or random.randint(1, 2**31))
    text = f"{method}\nX-TC-Key={secret_id}&X-TC-Nonce={nonce}&X-TC-Timestamp={ts}\n{uri}\n{body}"
    sig = base64.b64encode(hmac.new(secret_key.encode(), text.encode(), hashlib.sha256).hexdigest().encode()).decode()
    return {"X-TC-Key": secret_id, "X-TC-Timestamp": ts, "X-TC-Nonce": nonce, "X-TC-Signature": sig,
            "AppId": app_id, "X-TC-Registered": registered, "Content-Type": "application/json"}


class TencentMeetingTests(ServerCase):
    def setUp(self):
        self.sid, self.skey, self.app = uid("AKID"), uid("key"), uid("2000")
        status, _, body, _ = self.call("POST", "/_admin/tencent/apps",
                                       {"secretId": self.sid, "secretKey": self.skey, "appId": self.app})
        self.assertEqual(status, 201, body)

    def api(self, method, path, data=None, key=None, **options):
        body = json.dumps(data) if data is not None else ""
        uri = "/tencent" + path
        headers = tc_headers(self.sid, key or self.skey, self.app, method, uri, body, **options)
        return self.call(method, uri, raw=body.encode() if data is not None else None, headers=headers)

    def meeting(self, **changes):
        start = int(time.time()) + 86400
        return {"userid": "host1", "instanceid": 1, "subject": "周会", "type": 0, "start_time": str(start),
                "end_time": str(start + 3600), **changes}

    def test_a_signed_request_creates_a_meeting(self):
        status, _, body, _ = self.api("POST", "/v1/meetings", self.meeting())
        self.assertEqual(status, 200, body)
        [info] = body["meeting_info_list"]
        for key in ("meeting_id", "meeting_code", "join_url", "subject"):
            self.assertIn(key, info)
        status, _, body, _ = self.api("GET", f"/v1/meetings/{info['meeting_id']}?userid=host1&instanceid=1")
        self.assertEqual(status, 200, body)
        status, _, body, _ = self.api("PUT", f"/v1/meetings/{info['meeting_id']}", {"userid": "host1", "instanceid": 1,
                                                                                      "subject": "改期"})
        self.assertEqual(status, 200, body)
        status, _, body, _ = self.api("POST", f"/v1/meetings/{info['meeting_id']}/cancel",
                                      {"userid": "host1", "instanceid": 1, "reason_code": 1})
        self.assertEqual(status, 200, body)
        [shown] = self.call("GET", f"/_admin/tencent/apps/{self.sid}")[2]["meetings"]
        self.assertEqual(shown["state"], "cancelled")
        self.assertEqual(shown["subject"], "改期")

    def test_a_wrong_secret_key_is_refused(self):
        status, _, body, _ = self.api("POST", "/v1/meetings", self.meeting(), key="not-the-key")
        self.assertEqual(status, 401)
        self.assertEqual(body["error_info"]["error_code"], 200003)
        self.assertEqual(self.call("GET", f"/_admin/tencent/apps/{self.sid}")[2]["refused"], 1)

    def test_a_stale_timestamp_is_refused(self):
        status, _, body, _ = self.api("POST", "/v1/meetings", self.meeting(), timestamp=int(time.time()) - 301)
        self.assertEqual(status, 401)
        self.assertEqual(body["error_info"]["error_code"], 200002)

    def test_the_registered_header_and_app_id_are_required(self):
        status, _, body, _ = self.api("POST", "/v1/meetings", self.meeting(), registered="0")
        self.assertEqual(status, 401)
        self.assertEqual(body["error_info"]["error_code"], 200007)

    def test_a_changed_body_breaks_the_signature(self):
        data = self.meeting()
        body = json.dumps(data)
        headers = tc_headers(self.sid, self.skey, self.app, "POST", "/tencent/v1/meetings", body)
        status, _, answer, _ = self.call("POST", "/tencent/v1/meetings", raw=body.replace('"type": 0', '"type": 1').encode(),
                                         headers=headers)
        self.assertEqual(status, 401)

    def test_scripted_failure(self):
        self.call("POST", f"/_admin/tencent/apps/{self.sid}/failures", {"status": 502, "count": 1})
        self.assertEqual(self.api("POST", "/v1/meetings", self.meeting())[0], 502)
        self.assertEqual(self.api("POST", "/v1/meetings", self.meeting())[0], 200)


class DingTalkOpenTests(ServerCase):
    def setUp(self):
        self.key, self.secret = uid("ding"), uid("sec")
        users = [{"userid": f"u{i}", "unionid": f"union{i}", "name": f"员工{i}"} for i in range(5)]
        status, _, body, _ = self.call("POST", "/_admin/dingtalk-open/apps", {
            "appKey": self.key, "appSecret": self.secret, "departments": {"42": users}})
        self.assertEqual(status, 201, body)

    def token(self, secret=None):
        return self.call("POST", "/dingtalk/v1.0/oauth2/accessToken", {"appKey": self.key, "appSecret": secret or self.secret})

    def headers(self):
        status, _, body, _ = self.token()
        self.assertEqual(status, 200, body)
        self.assertEqual(body["expireIn"], 7200)
        return {"x-acs-dingtalk-access-token": body["accessToken"]}

    def test_token_and_conference_lifecycle(self):
        self.assertEqual(self.token(secret="wrong")[0], 400)
        headers = self.headers()
        start = int(time.time() * 1000) + 3_600_000
        status, _, conf, _ = self.call("POST", "/dingtalk/v1.0/conference/scheduleConferences", {
            "creatorUnionId": "union0", "title": "季度会", "startTime": start, "endTime": start + 3_600_000}, headers=headers)
        self.assertEqual(status, 200, conf)
        for key in ("scheduleConferenceId", "roomCode", "url"):
            self.assertIn(key, conf)
        status, _, body, _ = self.call("PUT", "/dingtalk/v1.0/conference/scheduleConferences", {
            "creatorUnionId": "union0", "scheduleConferenceId": conf["scheduleConferenceId"], "title": "改"},
            headers=headers)
        self.assertEqual(status, 200, body)
        status, _, body, _ = self.call("POST", "/dingtalk/v1.0/conference/scheduleConferences/cancel", {
            "creatorUnionId": "union0", "scheduleConferenceId": conf["scheduleConferenceId"]}, headers=headers)
        self.assertEqual(status, 200, body)
        shown = self.call("GET", f"/_admin/dingtalk-open/apps/{self.key}")[2]
        self.assertEqual(shown["tokenRequests"], 1)
        self.assertEqual(shown["conferences"][0]["state"], "cancelled")

    def test_calls_need_the_token(self):
        status, _, body, _ = self.call("POST", "/dingtalk/v1.0/conference/scheduleConferences", {
            "creatorUnionId": "union0", "title": "x", "startTime": 1, "endTime": 2},
            headers={"x-acs-dingtalk-access-token": "nope"})
        self.assertEqual(status, 401)
        self.assertEqual(body["code"], "InvalidAuthentication")

    def test_department_members_page_by_cursor(self):
        token = self.headers()["x-acs-dingtalk-access-token"]
        status, _, page, _ = self.call("POST", f"/dingtalk/topapi/v2/user/list?access_token={token}",
                                       {"dept_id": 42, "cursor": 0, "size": 3})
        self.assertEqual(page["errcode"], 0)
        self.assertTrue(page["result"]["has_more"])
        self.assertEqual(len(page["result"]["list"]), 3)
        status, _, page, _ = self.call("POST", f"/dingtalk/topapi/v2/user/list?access_token={token}",
                                       {"dept_id": 42, "cursor": page["result"]["next_cursor"], "size": 3})
        self.assertFalse(page["result"]["has_more"])
        self.assertEqual([u["userid"] for u in page["result"]["list"]], ["u3", "u4"])
        status, _, page, _ = self.call("POST", "/dingtalk/topapi/v2/user/list?access_token=bad", {"dept_id": 42})
        self.assertEqual(page["errcode"], 40014)

    def test_scripted_failure(self):
        headers = self.headers()
        self.call("POST", f"/_admin/dingtalk-open/apps/{self.key}/failures", {"status": 403, "count": 1, "on": "create"})
        start = int(time.time() * 1000) + 3_600_000
        body = {"creatorUnionId": "union0", "title": "x", "startTime": start, "endTime": start + 60_000}
        self.assertEqual(self.call("POST", "/dingtalk/v1.0/conference/scheduleConferences", body, headers=headers)[0], 403)
        self.assertEqual(self.call("POST", "/dingtalk/v1.0/conference/scheduleConferences", body, headers=headers)[0], 200)


if __name__ == "__main__":
    unittest.main()


class TencentCallbackTests(ServerCase):
    TOKEN = "cbtoken" + uuid.uuid4().hex[:10]

    def setUp(self):
        self.sid = uid("AKID")
        status, _, body, _ = self.call("POST", "/_admin/tencent/apps", {
            "secretId": self.sid, "secretKey": uid("key"), "appId": uid("200"), "callbackToken": self.TOKEN})
        self.assertEqual(status, 201, body)

    @staticmethod
    def sig(token, ts, nonce, data):
        return hashlib.sha1("".join(sorted([token, ts, nonce, data])).encode()).hexdigest()

    def test_callbacks_are_signed_with_the_token(self):
        receiver = Receiver(default=(200, b"successfully received callback"))
        try:
            status, _, answer, _ = self.call("POST", f"/_admin/tencent/apps/{self.sid}/callbacks/send", {
                "url": receiver.url("/tencent"), "event": "meeting.started", "meetingId": "123"})
            self.assertEqual(status, 200, answer)
            [got] = receiver.requests()
            h = got["headers"]
            data = json.loads(got["body"])["data"]
            self.assertEqual(h["signature"], self.sig(self.TOKEN, h["timestamp"], h["nonce"], data))
            event = json.loads(base64.b64decode(data))
            self.assertEqual(event["event"], "meeting.started")
            self.assertEqual(event["payload"][0]["meeting_info"]["meeting_id"], "123")
            self.call("POST", f"/_admin/tencent/apps/{self.sid}/callbacks/send", {
                "url": receiver.url("/tencent"), "event": "meeting.end", "meetingId": "123", "tamper": "signature"})
            forged = receiver.requests()[1]
            fh = forged["headers"]
            self.assertNotEqual(fh["signature"], self.sig(self.TOKEN, fh["timestamp"], fh["nonce"], json.loads(forged["body"])["data"]))
        finally:
            receiver.close()

    def test_url_check_wants_the_decoded_check_str(self):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        import threading
        token = self.TOKEN

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                check = query["check_str"][0]
                ok = self.headers["signature"] == TencentCallbackTests.sig(token, self.headers["timestamp"],
                                                                           self.headers["nonce"], check)
                answer = base64.b64decode(check) if ok else b"bad"
                self.send_response(200 if ok else 401)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            url = f"http://127.0.0.1:{server.server_address[1]}/cb"
            status, _, result, _ = self.call("POST", f"/_admin/tencent/apps/{self.sid}/callbacks/verify", {"url": url})
            self.assertEqual(status, 200)
            self.assertTrue(result["verified"], result)
        finally:
            server.shutdown()
            server.server_close()
