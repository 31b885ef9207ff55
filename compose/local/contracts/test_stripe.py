"""Tests of the Stripe stand-in (stripe_api.py).

    /usr/bin/python3 -m unittest discover -s compose/local/contracts

Webhook signatures are checked here with hmac directly, independently of the
module's own helpers.
"""

import base64
import hashlib
import hmac
import json
import os
import sys
import tempfile
import time
import unittest
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import server  # noqa: E402
import stripe_api  # noqa: E402
from common import Request  # noqa: E402
from test_contracts import Receiver, ServerCase  # noqa: E402


def stripe_signature_ok(secret, header, raw, tolerance=300, now=None):
    """Stripe's verification: some v1 = hex(HMAC-SHA256(secret, "{t}.{raw}")), t within tolerance."""
    parts = [p.split("=", 1) for p in header.split(",")]
    t = next(int(v) for k, v in parts if k == "t")
    expected = hmac.new(secret.encode(), f"{t}.".encode() + raw, hashlib.sha256).hexdigest()
    matched = any(k == "v1" and hmac.compare_digest(v, expected) for k, v in parts)
    fresh = abs((time.time() if now is None else now) - t) <= tolerance
    return matched, fresh, t


class StripeCase(ServerCase):
    WEBHOOK_SECRET = "whsec_" + "Tq1kLm0ZpX9" * 3

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.receiver = Receiver()
        cls.key = "sk_test_" + uuid.uuid4().hex
        status, _, body, _ = cls.call(cls, "POST", "/_admin/stripe/accounts", {
            "secretKey": cls.key, "webhookSecret": cls.WEBHOOK_SECRET, "webhookUrl": cls.receiver.url("/stripe/hook")})
        assert status == 201, body

    @classmethod
    def tearDownClass(cls):
        cls.receiver.close()
        super().tearDownClass()

    def setUp(self):
        with self.receiver.lock:
            self.receiver.received.clear()
            self.receiver.answers.clear()

    def stripe(self, method, path, params=None, key=None, idempotency_key=None, auth=None, raw=None):
        """(status, headers, JSON) of a Stripe API call; params are (name, value) pairs."""
        headers = {"Authorization": auth if auth is not None else f"Bearer {key or self.key}"}
        if auth == "":
            del headers["Authorization"]
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        body = raw
        if params is not None and method == "POST":
            body = urllib.parse.urlencode(params).encode()
        if body is not None:
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        if params is not None and method == "GET":
            path += "?" + urllib.parse.urlencode(params)
        status, hdrs, answer, _ = self.call(method, "/stripe" + path, raw=body, headers=headers)
        return status, hdrs, answer

    def session_params(self, **changes):
        params = {
            "mode": "payment",
            "line_items[0][price_data][currency]": "cny",
            "line_items[0][price_data][unit_amount]": "9900",
            "line_items[0][price_data][product_data][name]": "Convene 2025 registration",
            "line_items[0][quantity]": "2",
            "success_url": "https://convene.example/paid?session={CHECKOUT_SESSION_ID}",
            "cancel_url": "https://convene.example/cancelled",
            "client_reference_id": "reg_42",
            "metadata[registration]": "reg_42",
            "metadata[meeting]": "m_7",
            "customer_email": "ada@example.com",
        }
        for k, v in changes.items():
            if v is None:
                params.pop(k, None)
            else:
                params[k] = v
        return list(params.items())

    def create(self, params=None, **kw):
        status, _, session = self.stripe("POST", "/v1/checkout/sessions", params or self.session_params(), **kw)
        self.assertEqual(status, 200, session)
        return session

    def admin(self, path, body=None):
        status, _, answer, _ = self.call("POST", path, body if body is not None else {})
        return status, answer

    def complete(self, sid, **options):
        status, answer = self.admin(f"/_admin/stripe/checkout/sessions/{sid}/complete", options)
        self.assertEqual(status, 200, answer)
        return answer

    def error_of(self, answer):
        return answer["error"]["type"], answer["error"].get("param"), answer["error"].get("code")


class StripeApiTests(StripeCase):
    def test_checkout_session(self):
        before = int(time.time())
        s = self.create()
        self.assertRegex(s["id"], r"^cs_test_[A-Za-z0-9]{58}$")
        self.assertEqual((s["object"], s["mode"], s["status"], s["payment_status"], s["payment_intent"]),
                         ("checkout.session", "payment", "open", "unpaid", None))
        self.assertEqual((s["amount_total"], s["currency"], s["client_reference_id"], s["customer_email"]),
                         (19800, "cny", "reg_42", "ada@example.com"))
        self.assertEqual(s["metadata"], {"registration": "reg_42", "meeting": "m_7"})
        self.assertEqual(s["url"], f"http://127.0.0.1:{self.port}/stripe/pay/{s['id']}")
        self.assertAlmostEqual(s["expires_at"], before + 24 * 3600, delta=5)
        self.assertGreaterEqual(s["created"], before)
        self.assertEqual(self.stripe("GET", f"/v1/checkout/sessions/{s['id']}")[2], s)
        status, headers, _, page = self.call("GET", f"/stripe/pay/{s['id']}")
        self.assertEqual(status, 200)
        self.assertIn(b"198.00 CNY", page)
        self.assertIn("text/html", headers["content-type"])

    def test_bracket_notation_with_several_items(self):
        params = self.session_params(**{
            "line_items[1][price_data][currency]": "CNY", "line_items[1][price_data][unit_amount]": "500",
            "line_items[1][price_data][product_data][name]": "Dinner", "line_items[1][quantity]": "3",
            "payment_method_types[0]": "card", "payment_method_types[1]": "alipay",
            "payment_intent_data[metadata][registration]": "reg_42"})
        s = self.create(params)
        self.assertEqual(s["amount_total"], 19800 + 1500)
        self.assertEqual(s["payment_method_types"], ["card", "alipay"])
        # Unencoded brackets parse the same.
        raw = "&".join(f"{k}={urllib.parse.quote(v, safe='')}" for k, v in self.session_params()).encode()
        status, _, s = self.stripe("POST", "/v1/checkout/sessions", raw=raw)
        self.assertEqual((status, s["amount_total"]), (200, 19800))

    def test_authentication(self):
        status, _, answer = self.stripe("POST", "/v1/checkout/sessions", self.session_params(), key="sk_test_nosuchkey123")
        self.assertEqual(status, 401)
        self.assertEqual(answer["error"], {"type": "invalid_request_error",
                                           "message": "Invalid API Key provided: sk_t***"})
        status, _, answer = self.stripe("GET", "/v1/checkout/sessions/cs_test_x", auth="")
        self.assertEqual(status, 401)
        self.assertIn("did not provide an API key", answer["error"]["message"])
        basic = "Basic " + base64.b64encode(f"{self.key}:".encode()).decode()
        status, _, s = self.stripe("POST", "/v1/checkout/sessions", self.session_params(), auth=basic)
        self.assertEqual(status, 200, s)
        # Another account's session does not exist for this one.
        other = "sk_test_" + uuid.uuid4().hex
        self.call("POST", "/_admin/stripe/accounts", {"secretKey": other, "webhookSecret": self.WEBHOOK_SECRET})
        status, _, answer = self.stripe("GET", f"/v1/checkout/sessions/{s['id']}", key=other)
        self.assertEqual((status, answer["error"]["code"]), (404, "resource_missing"))
        log = self.wait_for_log('/v1/checkout/sessions/' + s["id"] + '" 404')
        self.assertNotIn(self.key, log)
        self.assertNotIn(other, log)
        self.assertNotIn("sk_test_nosuchkey123", log)

    def test_missing_and_invalid_parameters(self):
        cases = [
            ({"mode": None}, "mode", "parameter_missing"),
            ({"mode": "subscription"}, "mode", "parameter_invalid"),
            ({"mode": "rent"}, "mode", "parameter_invalid"),
            ({"success_url": None}, "success_url", "parameter_missing"),
            ({"success_url": "not a url"}, "success_url", "url_invalid"),
            ({"line_items[0][quantity]": None}, "line_items[0][quantity]", "parameter_missing"),
            ({"line_items[0][quantity]": "0"}, "line_items[0][quantity]", "parameter_invalid"),
            ({"line_items[0][price_data][unit_amount]": "99.5"}, "line_items[0][price_data][unit_amount]",
             "parameter_invalid_integer"),
            ({"line_items[0][price_data][unit_amount]": None}, "line_items[0][price_data][unit_amount]",
             "parameter_missing"),
            ({"line_items[0][price_data][product_data][name]": None}, "line_items[0][price_data]", "parameter_missing"),
            ({"line_items[0][price_data][currency]": "yuan"}, "line_items[0][price_data][currency]", "parameter_invalid"),
            ({"customer_email": "nobody"}, "customer_email", "email_invalid"),
            ({"colour": "red"}, "colour", "parameter_unknown"),
            ({"line_items[0][price_data][colour]": "red"}, "line_items[0][price_data][colour]", "parameter_unknown"),
            ({"metadata[a][b]": "nested"}, "metadata[a]", "parameter_invalid"),
            ({"expires_at": str(int(time.time()) + 20 * 60)}, "expires_at", "parameter_invalid"),
            ({"expires_at": str(int(time.time()) + 25 * 3600)}, "expires_at", "parameter_invalid"),
            ({"line_items[2][quantity]": "1"}, "line_items", "parameter_invalid"),
        ]
        for change, param, code in cases:
            status, _, answer = self.stripe("POST", "/v1/checkout/sessions", self.session_params(**change))
            self.assertEqual(status, 400, change)
            self.assertEqual(self.error_of(answer), ("invalid_request_error", param, code), change)
        params = self.session_params() + [("line_items[1][price_data][currency]", "usd"),
                                          ("line_items[1][price_data][unit_amount]", "1"),
                                          ("line_items[1][price_data][product_data][name]", "x"),
                                          ("line_items[1][quantity]", "1")]
        status, _, answer = self.stripe("POST", "/v1/checkout/sessions", params)
        self.assertEqual((status, answer["error"]["param"]), (400, "line_items"))
        for raw in (b"mode=payment&line_items[0=x", b"mode=payment&mode=payment", b"mode=payment&mode[x]=1"):
            status, _, answer = self.stripe("POST", "/v1/checkout/sessions", raw=raw)
            self.assertEqual(status, 400, raw)
        status, _, answer, _ = self.call("POST", "/stripe/v1/checkout/sessions", {"mode": "payment"},
                                         headers={"Authorization": f"Bearer {self.key}"})
        self.assertEqual(status, 400)                          # JSON is not what Stripe takes
        self.assertIn("form-encoded", answer["error"]["message"])
        # Within the bounds is fine.
        s = self.create(self.session_params(expires_at=str(int(time.time()) + 31 * 60)))
        self.assertEqual(s["status"], "open")

    def test_form_parser(self):
        form = stripe_api.parse_form("a[0][b]=1&a[1][b]=2&m[k]=v&t[]=x&t[]=y&plain=p%20q")
        self.assertEqual(form, {"a": [{"b": "1"}, {"b": "2"}], "m": {"k": "v"}, "t": ["x", "y"], "plain": "p q"})
        with self.assertRaises(stripe_api.ParamError):
            stripe_api.parse_form("a[0]=1&a[2]=2")

    def test_idempotency(self):
        key = "idem-" + uuid.uuid4().hex
        status, headers, first = self.stripe("POST", "/v1/checkout/sessions", self.session_params(), idempotency_key=key)
        self.assertEqual(status, 200)
        self.assertNotIn("idempotent-replayed", headers)
        status, headers, again = self.stripe("POST", "/v1/checkout/sessions", self.session_params(), idempotency_key=key)
        self.assertEqual((status, again), (200, first))
        self.assertEqual(headers["idempotent-replayed"], "true")
        # The parameters' order does not matter; their values do.
        status, _, again = self.stripe("POST", "/v1/checkout/sessions", list(reversed(self.session_params())),
                                       idempotency_key=key)
        self.assertEqual(again["id"], first["id"])
        status, _, answer = self.stripe("POST", "/v1/checkout/sessions",
                                        self.session_params(**{"line_items[0][quantity]": "3"}), idempotency_key=key)
        self.assertEqual((status, answer["error"]["type"]), (400, "idempotency_error"))
        self.assertIn(key, answer["error"]["message"])
        other = self.create(idempotency_key="idem-" + uuid.uuid4().hex)
        self.assertNotEqual(other["id"], first["id"])
        # A request that failed validation is not remembered: the key can be used for a good one.
        key2 = "idem-" + uuid.uuid4().hex
        self.assertEqual(self.stripe("POST", "/v1/checkout/sessions", self.session_params(mode=None),
                                     idempotency_key=key2)[0], 400)
        self.assertEqual(self.stripe("POST", "/v1/checkout/sessions", self.session_params(), idempotency_key=key2)[0], 200)

    def test_expire_api(self):
        s = self.create()
        status, _, expired = self.stripe("POST", f"/v1/checkout/sessions/{s['id']}/expire")
        self.assertEqual((status, expired["status"]), (200, "expired"))
        status, _, answer = self.stripe("POST", f"/v1/checkout/sessions/{s['id']}/expire")
        self.assertEqual((status, answer["error"]["type"]), (400, "invalid_request_error"))
        self.assertIn('"expired"', answer["error"]["message"])
        self.assertEqual(self.admin(f"/_admin/stripe/checkout/sessions/{s['id']}/complete")[0], 409)
        # The event is queued, not sent: tests send it with resend.
        notes = self.call("GET", "/_admin/stripe/notifications")[2]["notifications"]
        note = notes[-1]
        self.assertEqual((note["type"], note["deliveries"], note["data"]["data"]["object"]["id"]),
                         ("checkout.session.expired", [], s["id"]))
        self.assertEqual(self.receiver.requests(), [])
        status, answer = self.admin(f"/_admin/stripe/notifications/{note['id']}/resend")
        self.assertEqual(answer["deliveries"][0]["status"], 200)
        self.assertEqual(json.loads(self.receiver.requests()[0]["body"])["id"], note["id"])
        status, _, answer = self.stripe("GET", "/v1/checkout/sessions/cs_test_nosuch")
        self.assertEqual((status, answer["error"]["code"]), (404, "resource_missing"))

    def test_refunds(self):
        s = self.create()
        status, _, answer = self.stripe("POST", "/v1/refunds", [("payment_intent", "pi_nosuch")])
        self.assertEqual((status, self.error_of(answer)), (400, ("invalid_request_error", "payment_intent",
                                                                 "resource_missing")))
        self.assertEqual(self.stripe("POST", "/v1/refunds", [("amount", "1")])[0], 400)
        pi = self.complete(s["id"], notify=False)["event"]["data"]["data"]["object"]["payment_intent"]
        self.assertRegex(pi, r"^pi_[A-Za-z0-9]{24}$")
        status, _, intent = self.stripe("GET", f"/v1/payment_intents/{pi}")
        self.assertEqual((intent["amount"], intent["status"]), (19800, "succeeded"))
        key = "refund-" + uuid.uuid4().hex
        status, headers, r1 = self.stripe("POST", "/v1/refunds", [("payment_intent", pi), ("amount", "5000")],
                                          idempotency_key=key)
        self.assertEqual(status, 200, r1)
        self.assertRegex(r1["id"], r"^re_")
        self.assertEqual((r1["object"], r1["amount"], r1["currency"], r1["payment_intent"], r1["status"]),
                         ("refund", 5000, "cny", pi, "succeeded"))
        status, headers, again = self.stripe("POST", "/v1/refunds", [("payment_intent", pi), ("amount", "5000")],
                                             idempotency_key=key)
        self.assertEqual((again, headers.get("idempotent-replayed")), (r1, "true"))
        self.assertEqual(self.stripe("GET", f"/v1/refunds/{r1['id']}")[2], r1)
        status, _, answer = self.stripe("POST", "/v1/refunds", [("payment_intent", pi), ("amount", "14801")])
        self.assertEqual((status, self.error_of(answer)), (400, ("invalid_request_error", "amount", "amount_too_large")))
        status, _, r2 = self.stripe("POST", "/v1/refunds", [("payment_intent", pi)])        # the rest
        self.assertEqual((status, r2["amount"]), (200, 14800))
        status, _, answer = self.stripe("POST", "/v1/refunds", [("payment_intent", pi), ("amount", "1")])
        self.assertEqual((status, answer["error"]["code"]), (400, "charge_already_refunded"))
        # Each refund queued a charge.refunded event.
        notes = [n for n in self.call("GET", "/_admin/stripe/notifications")[2]["notifications"]
                 if n["type"] == "charge.refunded" and n["data"]["data"]["object"]["payment_intent"] == pi]
        self.assertEqual([n["data"]["data"]["object"]["amount_refunded"] for n in notes], [5000, 19800])
        charge = notes[-1]["data"]["data"]["object"]
        self.assertEqual((charge["object"], charge["refunded"], charge["amount"]), ("charge", True, 19800))
        self.assertEqual([r["id"] for r in charge["refunds"]["data"]], [r2["id"], r1["id"]])
        status, answer = self.admin(f"/_admin/stripe/notifications/{notes[0]['id']}/resend")
        body = self.receiver.requests()[0]["body"]
        self.assertEqual(json.loads(body)["data"]["object"]["amount_refunded"], 5000)
        self.assertTrue(stripe_signature_ok(self.WEBHOOK_SECRET,
                                            self.receiver.requests()[0]["headers"]["stripe-signature"], body)[0])

    def test_requests_are_recorded(self):
        self.stripe("POST", "/v1/checkout/sessions", self.session_params(), key="sk_test_wrongwrongwrong")
        s = self.create()
        reqs = self.call("GET", "/_admin/stripe/requests")[2]["requests"]
        bad, good = reqs[-2], reqs[-1]
        self.assertEqual((bad["verified"], bad["status"], bad["error"]),
                         (False, 401, "Invalid API Key provided: sk_t***"))
        self.assertEqual((good["verified"], good["status"], good["path"]), (True, 200, "/stripe/v1/checkout/sessions"))
        self.assertIn("client_reference_id=reg_42", good["body"])
        self.assertEqual(good["account"], "sk_t***")
        self.assertTrue(s["id"])


class StripeWebhookTests(StripeCase):
    def test_completed_event_is_signed(self):
        s = self.create()
        answer = self.complete(s["id"])
        self.assertEqual(answer["deliveries"], [{"status": 200, "body": "", "error": None, "acknowledged": True}])
        [request] = self.receiver.requests()
        self.assertEqual(request["path"], "/stripe/hook")
        self.assertTrue(request["headers"]["content-type"].startswith("application/json"))
        matched, fresh, _ = stripe_signature_ok(self.WEBHOOK_SECRET, request["headers"]["stripe-signature"],
                                                request["body"])
        self.assertTrue(matched and fresh)
        self.assertFalse(stripe_signature_ok("whsec_other", request["headers"]["stripe-signature"], request["body"])[0])
        event = json.loads(request["body"])
        self.assertEqual(request["body"].decode(), answer["event"]["body"])
        self.assertRegex(event["id"], r"^evt_")
        self.assertEqual((event["object"], event["type"], event["api_version"], event["livemode"],
                          event["pending_webhooks"]),
                         ("event", "checkout.session.completed", "2024-06-20", False, 1))
        obj = event["data"]["object"]
        self.assertEqual((obj["id"], obj["status"], obj["payment_status"], obj["amount_total"],
                          obj["client_reference_id"], obj["metadata"]["registration"]),
                         (s["id"], "complete", "paid", 19800, "reg_42", "reg_42"))
        self.assertRegex(obj["payment_intent"], r"^pi_")
        self.assertEqual(self.stripe("GET", f"/v1/checkout/sessions/{s['id']}")[2]["status"], "complete")
        self.assertEqual(self.admin(f"/_admin/stripe/checkout/sessions/{s['id']}/complete")[0], 409)

    def test_tampered_signature(self):
        s = self.create()
        self.complete(s["id"], tamper="signature")
        request = self.receiver.requests()[0]
        matched, fresh, _ = stripe_signature_ok(self.WEBHOOK_SECRET, request["headers"]["stripe-signature"],
                                                request["body"])
        self.assertEqual((matched, fresh), (False, True))

    def test_stale_signature(self):
        s = self.create()
        self.complete(s["id"], tamper="stale")
        request = self.receiver.requests()[0]
        matched, fresh, t = stripe_signature_ok(self.WEBHOOK_SECRET, request["headers"]["stripe-signature"],
                                                request["body"])
        self.assertEqual((matched, fresh), (True, False))
        self.assertAlmostEqual(time.time() - t, 600, delta=5)

    def test_amount_tamper(self):
        s = self.create()
        answer = self.complete(s["id"], tamper="amount")
        request = self.receiver.requests()[0]
        self.assertTrue(stripe_signature_ok(self.WEBHOOK_SECRET, request["headers"]["stripe-signature"],
                                            request["body"])[0])
        event = json.loads(request["body"])
        self.assertEqual(event["id"], answer["event"]["id"])
        self.assertEqual(event["data"]["object"]["amount_total"], 19801)
        self.assertEqual(self.stripe("GET", f"/v1/checkout/sessions/{s['id']}")[2]["amount_total"], 19800)

    def test_times_and_receiver_answers(self):
        self.receiver.answers = [(500, b"oops"), (204, b"")]
        s = self.create()
        answer = self.complete(s["id"], times=3)
        self.assertEqual([(d["status"], d["acknowledged"]) for d in answer["deliveries"]],
                         [(500, False), (204, True), (200, True)])
        self.assertEqual(answer["deliveries"][0]["body"], "oops")
        self.assertEqual(len({json.loads(r["body"])["id"] for r in self.receiver.requests()}), 1)

    def test_missed_callback_then_resend_out_of_order(self):
        s1, s2 = self.create(), self.create()
        held = self.complete(s1["id"], notify=False)
        self.assertEqual(held["deliveries"], [])
        self.complete(s2["id"])
        status, answer = self.admin(f"/_admin/stripe/notifications/{held['event']['id']}/resend", {"tamper": "stale"})
        self.assertEqual(status, 200)
        first, second = self.receiver.requests()
        self.assertEqual(json.loads(first["body"])["data"]["object"]["id"], s2["id"])
        self.assertEqual(json.loads(second["body"])["id"], held["event"]["id"])
        self.assertEqual(stripe_signature_ok(self.WEBHOOK_SECRET, second["headers"]["stripe-signature"],
                                             second["body"])[:2], (True, False))
        notes = self.call("GET", "/_admin/stripe/notifications")[2]["notifications"]
        note = next(n for n in notes if n["id"] == held["event"]["id"])
        self.assertEqual([d["tamper"] for d in note["deliveries"]], ["stale"])
        self.assertNotIn("_secret", note)
        self.assertNotIn(self.WEBHOOK_SECRET, json.dumps(notes))

    def test_admin_expire(self):
        s = self.create()
        answer = self.admin(f"/_admin/stripe/checkout/sessions/{s['id']}/expire")[1]
        self.assertEqual(answer["deliveries"][0]["status"], 200)
        event = json.loads(self.receiver.requests()[0]["body"])
        self.assertEqual((event["type"], event["data"]["object"]["status"]), ("checkout.session.expired", "expired"))
        self.assertEqual(self.stripe("GET", f"/v1/checkout/sessions/{s['id']}")[2]["status"], "expired")
        self.assertEqual(self.admin(f"/_admin/stripe/checkout/sessions/{s['id']}/expire")[0], 409)
        self.assertEqual(self.admin("/_admin/stripe/checkout/sessions/cs_test_nosuch/complete")[0], 404)

    def test_account_without_webhook_url(self):
        key = "sk_test_" + uuid.uuid4().hex
        self.assertEqual(self.call("POST", "/_admin/stripe/accounts",
                                   {"secretKey": key, "webhookSecret": self.WEBHOOK_SECRET})[0], 201)
        s = self.create(key=key)
        self.assertEqual(self.complete(s["id"]), {"event": None, "deliveries": []})
        self.assertEqual(self.receiver.requests(), [])


class StripeAdminTests(unittest.TestCase):
    def test_account_checks_persistence_and_reset(self):
        with tempfile.TemporaryDirectory() as d:
            app = server.App(d, ["stripe_api"])
            post = lambda body: app.handle(Request("POST", "/_admin/stripe/accounts", {},  # noqa: E731
                                                   json.dumps(body).encode()))
            self.assertEqual(post({"secretKey": "pk_test_12345678", "webhookSecret": "whsec_12345678"}).status, 400)
            self.assertEqual(post({"secretKey": "sk_test_12345678", "webhookSecret": "secret"}).status, 400)
            self.assertEqual(post({"secretKey": "sk_test_12345678", "webhookSecret": "whsec_12345678",
                                   "webhookUrl": "ftp://x"}).status, 400)
            self.assertEqual(post({"secretKey": "sk_test_12345678", "webhookSecret": "whsec_12345678",
                                   "webhookUrl": "http://127.0.0.1:9/hook"}).status, 201)
            again = server.App(d, ["stripe_api"])
            self.assertIn("sk_test_12345678", again.modules[0].accounts)
            self.assertEqual(oct(os.stat(os.path.join(d, "stripe_api.json")).st_mode & 0o777), "0o600")
            again.handle(Request("POST", "/_admin/reset", {}, b""))
            self.assertEqual(server.App(d, ["stripe_api"]).modules[0].accounts, {})


if __name__ == "__main__":
    unittest.main()
