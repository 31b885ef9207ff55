"""Tests of the contract server's own checks.

    /usr/bin/python3 -m unittest discover -s compose/local/contracts

Each test class starts a server on a free loopback port in a thread, with a
throw-away state folder. Signatures are computed here independently of the
modules' own helpers.
"""

import base64
import hashlib
import hmac
import http.client
import json
import os
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import server  # noqa: E402
import webhook_receiver  # noqa: E402
from common import Request  # noqa: E402


def b64_hmac(key, msg):
    return base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode("ascii")


def dingtalk_sign(secret, timestamp):
    return b64_hmac(secret.encode(), f"{timestamp}\n{secret}".encode())


class LogCollector:
    """Collects the server's log lines (instead of cluttering the test output)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.lines = []

    def write(self, text):
        with self.lock:
            self.lines.append(text)

    def flush(self):
        pass

    def text(self):
        with self.lock:
            return "".join(self.lines)


class Receiver:
    """A tiny HTTP receiver on a free loopback port: plays the merchant's notify URL
    for the payment modules' callbacks. Records every request; answers from
    `answers` (a list of (status, body bytes), used up in order), then `default`;
    `on_request(request)`, when set, runs first (outside the lock) and may answer
    instead by returning (status, body)."""

    def __init__(self, answers=None, default=(200, b""), on_request=None):
        self.lock = threading.Lock()
        self.received = []
        self.answers = list(answers or [])
        self.default = default
        self.on_request = on_request
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                request = {"path": self.path, "body": body,
                           "headers": {k.lower(): v for k, v in self.headers.items()}}
                custom = receiver.on_request(request) if receiver.on_request else None
                with receiver.lock:
                    receiver.received.append(request)
                    if custom is not None:
                        status, answer = custom
                    else:
                        status, answer = receiver.answers.pop(0) if receiver.answers else receiver.default
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, path="/notify"):
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def requests(self):
        with self.lock:
            return list(self.received)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class ServerCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.log = LogCollector()
        server.LOG_SINK = cls.log
        cls.tmp = tempfile.TemporaryDirectory()
        cls.server = server.make_server("127.0.0.1", 0, cls.tmp.name)
        cls.port = cls.server.server_address[1]
        cls.thread = threading.Thread(target=cls.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        cls.thread.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()
        cls.tmp.cleanup()
        server.LOG_SINK = None

    def wait_for_log(self, text, timeout=5.0):
        """The log once it contains `text`: the server writes a request's line after
        sending the answer, so a test that got the answer may be ahead of it."""
        deadline = time.monotonic() + timeout
        while text not in self.log.text() and time.monotonic() < deadline:
            time.sleep(0.01)
        log = self.log.text()
        self.assertIn(text, log)
        return log

    def call(self, method, path, body=None, headers=None, raw=None):
        """(status, headers, parsed JSON (None when the answer is not JSON), raw body bytes)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            hdrs = dict(headers or {})
            data = raw
            if body is not None:
                data = json.dumps(body).encode()
                hdrs.setdefault("Content-Type", "application/json; charset=utf-8")
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            payload = resp.read()
            headers = {k.lower(): v for k, v in resp.getheaders()}
            parsed = json.loads(payload) if payload and "json" in headers.get("content-type", "") else None
            return resp.status, headers, parsed, payload
        finally:
            conn.close()


class DingTalkRobotTests(ServerCase):
    SECRET = "SEC0123456789abcdef0123456789abcdef"
    MSG = {"msgtype": "markdown", "markdown": {"title": "Reminder", "text": "## Board meeting at 10:00"}}

    def setUp(self):
        self.token = f"tok{time.monotonic_ns()}"
        status, _, body, _ = self.call("POST", "/_admin/dingtalk/robots",
                                       {"accessToken": self.token, "secret": self.SECRET})
        self.assertEqual(status, 201, body)

    def send(self, msg=None, timestamp=None, sign=None, encode=True, token=None):
        q = f"/robot/send?access_token={token or self.token}"
        if timestamp is not None:
            q += f"&timestamp={timestamp}"
        if sign is not None:
            q += "&sign=" + (urllib.parse.quote(sign, safe="") if encode else sign)
        status, _, body, _ = self.call("POST", q, msg if msg is not None else self.MSG)
        self.assertEqual(status, 200)      # DingTalk answers 200 and puts the outcome in errcode
        return body

    def signed(self, msg=None, ts=None):
        ts = ts if ts is not None else int(time.time() * 1000)
        return self.send(msg, ts, dingtalk_sign(self.SECRET, ts))

    def messages(self):
        status, _, body, _ = self.call("GET", f"/_admin/dingtalk/robots/{self.token}/messages")
        self.assertEqual(status, 200)
        return body["messages"]

    def test_signature_matches_the_published_shape(self):
        import dingtalk_robot
        # The same vector as Tests/NotificationTests/SignatureTests.swift.
        self.assertEqual(dingtalk_robot.sign("SEC000", 1700000000000), "ltBBey5eZrWKh1cPzFIdz3v3xpkc4Tjx4lLsPSHqdtA=")

    def test_good_signature_is_accepted_and_stored(self):
        before = int(time.time() * 1000)
        self.assertEqual(self.signed(), {"errcode": 0, "errmsg": "ok"})
        msgs = self.messages()
        self.assertEqual(len(msgs), 1)
        self.assertEqual(msgs[0]["body"], self.MSG)
        self.assertGreaterEqual(msgs[0]["receivedAt"], before)

    def test_log_shows_no_token_secret_or_signature(self):
        ts = int(time.time() * 1000)
        sig = dingtalk_sign(self.SECRET, ts)
        self.assertEqual(self.send(timestamp=ts, sign=sig)["errcode"], 0)
        log = self.wait_for_log(f"timestamp={ts}")
        self.assertIn("errcode=0", log)
        for secret in (self.token, self.SECRET, sig, urllib.parse.quote(sig, safe=""), sig[:8]):
            self.assertNotIn(secret, log)

    def test_text_message_is_accepted(self):
        self.assertEqual(self.signed({"msgtype": "text", "text": {"content": "hello"}})["errcode"], 0)

    def test_wrong_signature_is_refused(self):
        ts = int(time.time() * 1000)
        self.assertEqual(self.send(timestamp=ts, sign=dingtalk_sign("SECother", ts))["errcode"], 310000)
        self.assertEqual(self.send(timestamp=ts, sign=dingtalk_sign(self.SECRET, ts + 1))["errcode"], 310000)
        self.assertEqual(self.send(timestamp=ts)["errcode"], 310000)             # no sign
        self.assertEqual(self.send(sign=dingtalk_sign(self.SECRET, ts))["errcode"], 310000)   # no timestamp
        self.assertEqual(self.messages(), [])

    def test_unencoded_plus_in_sign_is_refused(self):
        # A '+' left unencoded in the query arrives as a space, as at DingTalk.
        ts = int(time.time() * 1000)
        while "+" not in dingtalk_sign(self.SECRET, ts):
            ts += 1
        body = self.send(timestamp=ts, sign=dingtalk_sign(self.SECRET, ts), encode=False)
        self.assertEqual(body, {"errcode": 310000, "errmsg": "sign not match"})
        self.assertEqual(self.send(timestamp=ts, sign=dingtalk_sign(self.SECRET, ts))["errcode"], 0)

    def test_stale_timestamp_is_refused(self):
        ts = int(time.time() * 1000) - 3601 * 1000
        self.assertEqual(self.signed(ts=ts), {"errcode": 310000, "errmsg": "invalid timestamp"})
        ts = int(time.time() * 1000) + 3601 * 1000
        self.assertEqual(self.signed(ts=ts)["errcode"], 310000)
        ts = int(time.time() * 1000) - 3500 * 1000          # within the hour: fine
        self.assertEqual(self.signed(ts=ts)["errcode"], 0)

    def test_unknown_token(self):
        self.assertEqual(self.send(token="nosuchtoken"), {"errcode": 300001, "errmsg": "token is not exist"})

    def test_unsigned_robot_needs_no_signature(self):
        token = f"plain{time.monotonic_ns()}"
        self.assertEqual(self.call("POST", "/_admin/dingtalk/robots", {"accessToken": token})[0], 201)
        self.assertEqual(self.send(token=token)["errcode"], 0)

    def test_bad_body(self):
        self.assertEqual(self.signed({"msgtype": "markdown", "markdown": {"text": "no title"}})["errcode"], 40035)
        self.assertEqual(self.signed({"msgtype": "markdown", "markdown": {"title": "t", "text": ""}})["errcode"], 40035)
        self.assertEqual(self.signed({"msgtype": "text", "text": {}})["errcode"], 40035)
        ts = int(time.time() * 1000)
        q = f"/robot/send?access_token={self.token}&timestamp={ts}&sign=" + \
            urllib.parse.quote(dingtalk_sign(self.SECRET, ts), safe="")
        status, _, body, _ = self.call("POST", q, raw=b"{not json", headers={"Content-Type": "application/json"})
        self.assertEqual((status, body["errcode"]), (200, 40035))
        self.assertEqual(self.messages(), [])

    def test_keywords(self):
        token = f"kw{time.monotonic_ns()}"
        self.call("POST", "/_admin/dingtalk/robots", {"accessToken": token, "keywords": ["Convene"]})
        self.assertEqual(self.send(token=token)["errcode"], 310000)
        msg = {"msgtype": "text", "text": {"content": "Convene: meeting moved"}}
        self.assertEqual(self.send(msg, token=token)["errcode"], 0)

    def test_21st_message_in_a_minute_is_refused_and_not_stored(self):
        for i in range(20):
            self.assertEqual(self.signed()["errcode"], 0, f"message {i + 1}")
        self.assertEqual(self.signed(), {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"})
        self.assertEqual(len(self.messages()), 20)
        # Clearing the messages also forgets the rate window.
        self.assertEqual(self.call("DELETE", f"/_admin/dingtalk/robots/{self.token}/messages")[0], 200)
        self.assertEqual(self.messages(), [])
        self.assertEqual(self.signed()["errcode"], 0)

    def test_concurrent_sends_are_all_stored(self):
        token = f"conc{time.monotonic_ns()}"
        self.call("POST", "/_admin/dingtalk/robots", {"accessToken": token, "perMinute": 100})
        results = []

        def one(i):
            msg = {"msgtype": "text", "text": {"content": f"m{i}"}}
            try:
                results.append(self.send(msg, token=token)["errcode"])
            except Exception as e:      # noqa: BLE001 — reported by the assertion below
                results.append(repr(e))

        threads = [threading.Thread(target=one, args=(i,)) for i in range(30)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(results, [0] * 30)
        _, _, body, _ = self.call("GET", f"/_admin/dingtalk/robots/{token}/messages")
        self.assertEqual(sorted(m["body"]["text"]["content"] for m in body["messages"]),
                         sorted(f"m{i}" for i in range(30)))


class WeComRobotTests(ServerCase):
    def setUp(self):
        self.key = f"693a91f6-{time.monotonic_ns()}"
        self.assertEqual(self.call("POST", "/_admin/wecom/robots", {"key": self.key})[0], 201)

    def send(self, msg, key=None):
        status, _, body, _ = self.call("POST", f"/cgi-bin/webhook/send?key={key or self.key}", msg)
        self.assertEqual(status, 200)
        return body

    def md(self, content):
        return {"msgtype": "markdown", "markdown": {"content": content}}

    def messages(self):
        return self.call("GET", f"/_admin/wecom/robots/{self.key}/messages")[2]["messages"]

    def test_unknown_key(self):
        self.assertEqual(self.send(self.md("hi"), key="nosuchkey")["errcode"], 93000)
        status, _, body, _ = self.call("POST", "/cgi-bin/webhook/send", self.md("hi"))
        self.assertEqual((status, body["errcode"]), (200, 93000))

    def test_success_is_stored(self):
        self.assertEqual(self.send(self.md("**Board meeting** at 10:00")), {"errcode": 0, "errmsg": "ok"})
        self.assertEqual(self.send({"msgtype": "text", "text": {"content": "plain"}})["errcode"], 0)
        msgs = self.messages()
        self.assertEqual([m["body"] for m in msgs],
                         [self.md("**Board meeting** at 10:00"), {"msgtype": "text", "text": {"content": "plain"}}])
        self.assertEqual(self.call("DELETE", f"/_admin/wecom/robots/{self.key}/messages")[0], 200)
        self.assertEqual(self.messages(), [])

    def test_bad_bodies(self):
        self.assertEqual(self.send(self.md(""))["errcode"], 44004)
        self.assertEqual(self.send({"msgtype": "markdown"})["errcode"], 40008)
        self.assertEqual(self.send({"msgtype": "voice", "voice": {}})["errcode"], 40008)
        status, _, body, _ = self.call("POST", f"/cgi-bin/webhook/send?key={self.key}", raw=b"nope")
        self.assertEqual(body["errcode"], 47001)
        self.assertEqual(self.messages(), [])

    def test_content_length_limit_in_utf8_bytes(self):
        self.assertEqual(self.send(self.md("会" * 1365 + "a"))["errcode"], 0)        # 4096 bytes
        self.assertEqual(self.send(self.md("会" * 1366))["errcode"], 40058)          # 4098 bytes
        self.assertEqual(self.send({"msgtype": "text", "text": {"content": "a" * 2049}})["errcode"], 40058)
        self.assertEqual(len(self.messages()), 1)

    def test_21st_message_in_a_minute_is_refused(self):
        for _ in range(20):
            self.assertEqual(self.send(self.md("x"))["errcode"], 0)
        self.assertEqual(self.send(self.md("x")), {"errcode": 45009, "errmsg": "api freq out of limit"})
        self.assertEqual(len(self.messages()), 20)


class WebhookVerificationTests(unittest.TestCase):
    """The verification function itself, against the Standard Webhooks spec's example."""

    SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    TS = "1614265330"
    BODY = b'{"test": 2432232314}'
    SIG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

    def test_published_example_verifies(self):
        self.assertIsNone(webhook_receiver.verify(self.SECRET, self.ID, self.TS, self.SIG, self.BODY, now=1614265330))
        self.assertEqual(webhook_receiver.signature(self.SECRET, self.ID, self.TS, self.BODY), self.SIG)
        # Several signatures (key rotation): one match is enough.
        self.assertIsNone(webhook_receiver.verify(self.SECRET, self.ID, self.TS, "v1,bm9wZQ== " + self.SIG,
                                                  self.BODY, now=1614265330))

    def test_published_example_refusals(self):
        v = webhook_receiver.verify
        self.assertEqual(v(self.SECRET, self.ID, self.TS, self.SIG, self.BODY + b" ", now=1614265330),
                         "no matching signature")
        self.assertEqual(v(self.SECRET, "msg_other", self.TS, self.SIG, self.BODY, now=1614265330),
                         "no matching signature")
        self.assertEqual(v("whsec_" + base64.b64encode(b"x" * 24).decode(), self.ID, self.TS, self.SIG,
                           self.BODY, now=1614265330), "no matching signature")
        self.assertEqual(v(self.SECRET, self.ID, self.TS, "v1a," + self.SIG[3:], self.BODY, now=1614265330),
                         "no matching signature")
        self.assertEqual(v(self.SECRET, self.ID, self.TS, self.SIG, self.BODY, now=1614265330 + 301),
                         "message timestamp too old")
        self.assertEqual(v(self.SECRET, self.ID, self.TS, self.SIG, self.BODY, now=1614265330 - 301),
                         "message timestamp too new")
        self.assertIsNone(v(self.SECRET, self.ID, self.TS, self.SIG, self.BODY, now=1614265330 + 300))
        self.assertEqual(v(self.SECRET, self.ID, self.TS, None, self.BODY), "missing webhook-signature header")
        self.assertEqual(v(self.SECRET, self.ID, "soon", self.SIG, self.BODY), "invalid webhook-timestamp header")


class WebhookReceiverTests(ServerCase):
    KEY = os.urandom(32)
    SECRET = "whsec_" + base64.b64encode(KEY).decode()

    def setUp(self):
        self.name = f"n{time.monotonic_ns()}"
        self.register()

    def register(self, **extra):
        status, _, body, _ = self.call("POST", "/_admin/webhooks/endpoints",
                                       {"name": self.name, "secret": self.SECRET, **extra})
        self.assertEqual(status, 201, body)
        return body

    def deliver(self, payload=b'{"type":"registration.confirmed","data":{"id":"r1"}}', ts=None,
                sig=None, msg_id="msg_1"):
        ts = str(int(time.time()) if ts is None else ts)
        if sig is None:
            sig = "v1," + b64_hmac(self.KEY, f"{msg_id}.{ts}.".encode() + payload)
        headers = {"webhook-id": msg_id, "webhook-timestamp": ts, "webhook-signature": sig,
                   "Content-Type": "application/json"}
        return self.call("POST", f"/hooks/{self.name}", raw=payload, headers=headers)

    def requests(self):
        status, _, body, _ = self.call("GET", f"/_admin/webhooks/endpoints/{self.name}/requests")
        self.assertEqual(status, 200)
        return body["requests"]

    def test_correct_signature_is_accepted(self):
        status, _, body, raw = self.deliver()
        self.assertEqual((status, raw), (204, b""))
        [r] = self.requests()
        self.assertTrue(r["verified"])
        self.assertIsNone(r["error"])
        self.assertEqual(r["status"], 204)
        self.assertEqual(r["body"], '{"type":"registration.confirmed","data":{"id":"r1"}}')
        self.assertEqual(r["headers"]["webhook-id"], "msg_1")
        self.assertIn("content-type", r["headers"])

    def test_wrong_signature_is_refused(self):
        status, _, body, _ = self.deliver(sig="v1," + b64_hmac(b"another key", b"msg_1.1.{}"))
        self.assertEqual(status, 401)
        self.assertEqual(body["error"], "no matching signature")
        status, _, _, _ = self.call("POST", f"/hooks/{self.name}", raw=b"{}", headers={"Content-Type": "application/json"})
        self.assertEqual(status, 401)
        reqs = self.requests()
        self.assertEqual([(r["verified"], r["status"]) for r in reqs], [(False, 401), (False, 401)])
        self.assertEqual(reqs[1]["error"], "missing webhook-id header")

    def test_stale_timestamp_is_refused(self):
        status, _, body, _ = self.deliver(ts=int(time.time()) - 301)
        self.assertEqual((status, body["error"]), (401, "message timestamp too old"))
        status, _, body, _ = self.deliver(ts=int(time.time()) + 400)
        self.assertEqual((status, body["error"]), (401, "message timestamp too new"))

    def test_body_must_be_json(self):
        status, _, body, _ = self.deliver(payload=b"not json")
        self.assertEqual(status, 400)
        [r] = self.requests()
        self.assertEqual((r["verified"], r["error"], r["status"]), (True, "body is not JSON", 400))

    def test_follows_its_respond_list(self):
        self.register(respond=[503, 503, 200])
        statuses = [self.deliver(msg_id=f"msg_{i}")[0] for i in range(5)]
        self.assertEqual(statuses, [503, 503, 200, 204, 204])
        self.assertEqual([r["status"] for r in self.requests()], statuses)
        # Refused deliveries do not use up the list.
        self.register(respond=[500])
        self.assertEqual(self.deliver(sig="v1,AAAA")[0], 401)
        self.assertEqual(self.deliver()[0], 500)

    def test_delay(self):
        self.register(respond=[{"status": 200, "delayMs": 300}])
        t0 = time.monotonic()
        self.assertEqual(self.deliver()[0], 200)
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)

    def test_redirect(self):
        self.register(redirectTo="http://169.254.169.254/latest/meta-data/")
        status, headers, _, _ = self.deliver()
        self.assertEqual(status, 307)
        self.assertEqual(headers["location"], "http://169.254.169.254/latest/meta-data/")
        self.assertEqual(self.requests()[0]["status"], 307)

    def test_clear_and_unknown(self):
        self.deliver()
        self.assertEqual(self.call("DELETE", f"/_admin/webhooks/endpoints/{self.name}/requests")[0], 200)
        self.assertEqual(self.requests(), [])
        self.assertEqual(self.call("POST", "/hooks/nosuch", raw=b"{}")[0], 404)
        self.assertEqual(self.call("POST", "/_admin/webhooks/endpoints", {"name": "x", "secret": "whsec_!!"})[0], 400)


class ServerTests(ServerCase):
    def test_health_and_unknown_paths(self):
        status, _, body, _ = self.call("GET", "/_admin/health")
        self.assertEqual((status, body["status"]), (200, "ok"))
        self.assertEqual(set(body["modules"]), set(server.MODULES))
        self.assertLessEqual({"dingtalk_robot", "wecom_robot", "webhook_receiver", "wechatpay", "alipay", "stripe_api"},
                            set(body["modules"]))
        self.assertEqual(self.call("GET", "/nothing/here")[0], 404)
        self.assertEqual(self.call("GET", "/robot/send")[0], 405)

    def test_log_target_masks_secrets(self):
        token = "0123456789abcdef0123456789abcdef"
        sign = "ltBBey5eZrWKh1cPzFIdz3v3xpkc4Tjx4lLsPSHqdtA="
        req = Request("POST", f"/robot/send?access_token={token}&timestamp=1700000000000&sign="
                      + urllib.parse.quote(sign, safe=""), {}, b"")
        line = req.log_target()
        self.assertNotIn(token, line)
        self.assertNotIn(sign[:12], line)
        self.assertIn("timestamp=1700000000000", line)
        req = Request("GET", f"/_admin/dingtalk/robots/{token}/messages", {}, b"")
        import dingtalk_robot
        dingtalk_robot.Module(server.Context(None)).handle(req)
        self.assertNotIn(token, req.log_target())

    def test_state_survives_a_restart(self):
        with tempfile.TemporaryDirectory() as d:
            app = server.App(d)
            req = Request("POST", "/_admin/wecom/robots", {}, b'{"key":"k1"}')
            self.assertEqual(app.handle(req).status, 201)
            again = server.App(d)
            req = Request("POST", "/cgi-bin/webhook/send?key=k1", {},
                          json.dumps({"msgtype": "text", "text": {"content": "hi"}}).encode())
            self.assertEqual(json.loads(again.handle(req).body)["errcode"], 0)
            self.assertEqual(oct(os.stat(os.path.join(d, "wecom_robot.json")).st_mode & 0o777), "0o600")


if __name__ == "__main__":
    unittest.main()
