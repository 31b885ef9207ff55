"""Tests of the Alipay gateway stand-in (alipay.py).

    /usr/bin/python3 -m unittest discover -s compose/local/contracts

Requests are signed, answers and notifications verified here with the
cryptography package directly, independently of the module's own helpers.
"""

import base64
import datetime
import json
import os
import sys
import tempfile
import time
import unittest
import urllib.parse
import uuid

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import server  # noqa: E402
from common import Request  # noqa: E402
from test_contracts import Receiver, ServerCase  # noqa: E402

APP_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
CHINA = datetime.timezone(datetime.timedelta(hours=8))


def public_pem(private_key):
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def beijing(t=None):
    return datetime.datetime.fromtimestamp(time.time() if t is None else t, CHINA).strftime("%Y-%m-%d %H:%M:%S")


def content_of(params, exclude=("sign",)):
    return "&".join(f"{k}={params[k]}" for k in sorted(params) if k not in exclude and params[k] != "")


def rsa_sign(private_key, text):
    return base64.b64encode(private_key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def rsa_verifies(public_key, text, signature_b64):
    try:
        public_key.verify(base64.b64decode(signature_b64), text.encode(), padding.PKCS1v15(), hashes.SHA256())
        return True
    except InvalidSignature:
        return False


class AlipayCase(ServerCase):
    APP_ID = "2021000123456789"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        status, _, body, _ = cls.call(cls, "POST", "/_admin/alipay/apps",
                                      {"appId": cls.APP_ID, "appPublicKeyPem": public_pem(APP_KEY)})
        assert status == 201, body
        cls.alipay_key = serialization.load_pem_public_key(body["alipayPublicKeyPem"].encode())

    def setUp(self):
        self.receiver = Receiver(default=(200, b"success"))
        self.addCleanup(self.receiver.close)

    def params(self, method, biz, key=APP_KEY, drop=(), **extra):
        p = {"app_id": self.APP_ID, "method": method, "format": "JSON", "charset": "utf-8", "sign_type": "RSA2",
             "timestamp": beijing(), "version": "1.0", "biz_content": json.dumps(biz, ensure_ascii=False)}
        p.update(extra)
        for name in drop:
            p.pop(name, None)
        if "sign" not in extra:
            p["sign"] = rsa_sign(key, content_of(p))
        return p

    def send(self, params, how="body", http_method="POST"):
        """(status, raw body) of a gateway call with `params` placed as `how` says."""
        if how == "body":
            return self._send(http_method, "/gateway.do", urllib.parse.urlencode(params))
        if how == "query":
            return self._send(http_method, "/gateway.do?" + urllib.parse.urlencode(params), None)
        common = {k: v for k, v in params.items() if k != "biz_content"}          # as the Alipay SDKs do
        return self._send(http_method, "/gateway.do?" + urllib.parse.urlencode(common),
                          urllib.parse.urlencode({"biz_content": params["biz_content"]}))

    def _send(self, method, path, form):
        headers = {"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"} if form is not None else {}
        status, _, _, raw = self.call(method, path, raw=form.encode() if form is not None else None, headers=headers)
        return status, raw

    def answer(self, raw, method):
        """The inner answer object, after checking the Alipay signature over its exact text."""
        text = raw.decode()
        key = method.replace(".", "_") + "_response"
        prefix = '{"' + key + '":'
        if not text.startswith(prefix):
            prefix = '{"error_response":'
        self.assertTrue(text.startswith(prefix), text)
        end = text.rindex(',"sign":"')
        inner = text[len(prefix):end]
        sign = json.loads(text)["sign"]
        self.assertTrue(rsa_verifies(self.alipay_key, inner, sign), "the answer's sign does not verify")
        self.assertEqual(json.loads(inner), json.loads(text)[prefix[2:-2]])
        return json.loads(inner)

    def ali(self, method, biz, how="body", **kw):
        status, raw = self.send(self.params(method, biz, **kw), how)
        self.assertEqual(status, 200)
        return self.answer(raw, method)

    def new_no(self):
        return "reg_" + uuid.uuid4().hex[:16]

    def precreate(self, no=None, amount="88.88", notify=True, **extra):
        no = no or self.new_no()
        if notify:
            extra.setdefault("notify_url", self.receiver.url("/ali/notify"))
        ans = self.ali("alipay.trade.precreate", {"out_trade_no": no, "total_amount": amount,
                                                  "subject": "Convene 2025 参会费"}, **extra)
        self.assertEqual(ans["code"], "10000", ans)
        return no, ans

    def pay(self, no, **options):
        status, _, answer, _ = self.call("POST", f"/_admin/alipay/trades/{no}/pay", options)
        self.assertEqual(status, 200, answer)
        return answer

    def notify_params(self, request):
        self.assertEqual(request["headers"]["content-type"], "application/x-www-form-urlencoded; charset=utf-8")
        return dict(urllib.parse.parse_qsl(request["body"].decode(), keep_blank_values=True))

    def notify_verifies(self, params):
        return rsa_verifies(self.alipay_key, content_of(params, exclude=("sign", "sign_type")), params["sign"])


class AlipayGatewayTests(AlipayCase):
    def test_precreate_answers_signed_qr_code(self):
        no, ans = self.precreate()
        self.assertEqual((ans["msg"], ans["out_trade_no"]), ("Success", no))
        self.assertRegex(ans["qr_code"], r"^https://qr\.alipay\.com/[a-z0-9]+$")

    def test_parameters_in_query_body_or_both_and_get(self):
        for how in ("body", "query", "split"):
            no = self.new_no()
            ans = self.ali("alipay.trade.precreate", {"out_trade_no": no, "total_amount": 1, "subject": "x"}, how=how)
            self.assertEqual(ans["code"], "10000", (how, ans))
        params = self.params("alipay.trade.precreate", {"out_trade_no": self.new_no(), "total_amount": "1.5",
                                                        "subject": "x"})
        status, raw = self.send(params, "query", http_method="GET")
        self.assertEqual(self.answer(raw, "alipay.trade.precreate")["code"], "10000")

    def test_wrong_signature_is_refused(self):
        biz = {"out_trade_no": self.new_no(), "total_amount": "1.00", "subject": "x"}
        ans = self.ali("alipay.trade.precreate", biz, key=OTHER_KEY)
        self.assertEqual((ans["code"], ans["msg"], ans["sub_code"]), ("40002", "Invalid Arguments", "isv.invalid-signature"))
        self.assertIn("app_id=" + self.APP_ID, ans["sub_msg"])            # the string the gateway checked
        # A parameter changed after signing.
        params = self.params("alipay.trade.precreate", biz)
        params["biz_content"] = params["biz_content"].replace("1.00", "0.01")
        self.assertEqual(self.answer(self.send(params)[1], "alipay.trade.precreate")["sub_code"], "isv.invalid-signature")
        # Empty parameters are left out of the signed string; non-empty ones are not.
        params = self.params("alipay.trade.precreate", biz, notify_url="")
        self.assertEqual(self.answer(self.send(params)[1], "alipay.trade.precreate")["code"], "10000")
        params = self.params("alipay.trade.precreate", {**biz, "out_trade_no": self.new_no()})
        params["return_url"] = "https://example.com/r"
        self.assertEqual(self.answer(self.send(params)[1], "alipay.trade.precreate")["sub_code"], "isv.invalid-signature")

    def test_unencoded_plus_in_a_query_sign_is_refused(self):
        while True:
            params = self.params("alipay.trade.precreate",
                                 {"out_trade_no": self.new_no(), "total_amount": "1", "subject": "x"})
            if "+" in params["sign"]:
                break
        query = "&".join(f"{k}={urllib.parse.quote(v, safe='') if k != 'sign' else v}" for k, v in params.items())
        status, _, _, raw = self.call("GET", "/gateway.do?" + query)
        self.assertEqual(self.answer(raw, "alipay.trade.precreate")["sub_code"], "isv.invalid-signature")

    def test_timestamp_window_in_beijing_time(self):
        biz = lambda: {"out_trade_no": self.new_no(), "total_amount": "1", "subject": "x"}  # noqa: E731
        for ts in (beijing(time.time() - 16 * 60), beijing(time.time() + 16 * 60),
                   datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M:%S")):        # UTC is 8 hours off
            ans = self.ali("alipay.trade.precreate", biz(), timestamp=ts)
            self.assertEqual((ans["code"], ans["sub_code"]), ("40002", "isv.invalid-timestamp"), ts)
        ans = self.ali("alipay.trade.precreate", biz(), timestamp=datetime.datetime.now(CHINA).isoformat())
        self.assertEqual(ans["sub_code"], "isv.invalid-timestamp")
        self.assertEqual(self.ali("alipay.trade.precreate", biz(), timestamp=beijing(time.time() - 14 * 60))["code"],
                         "10000")

    def test_common_parameter_checks(self):
        biz = {"out_trade_no": self.new_no(), "total_amount": "1", "subject": "x"}
        cases = [
            ({"app_id": "2021999999999999"}, "40002", "isv.invalid-app-id"),
            ({"drop": ("app_id",)}, "40001", "isv.missing-app-id"),
            ({"drop": ("sign_type",)}, "40001", "isv.missing-signature-type"),
            ({"sign_type": "RSA"}, "40002", "isv.invalid-signature-type"),
            ({"drop": ("timestamp",)}, "40001", "isv.missing-timestamp"),
            ({"drop": ("version",)}, "40001", "isv.missing-version"),
            ({"version": "2.0"}, "40002", "isv.invalid-version"),
            ({"charset": "GBK"}, "40002", "isv.invalid-charset"),
            ({"drop": ("charset",)}, "40001", "isv.missing-charset"),
            ({"format": "XML"}, "40002", "isv.invalid-format"),
            ({"sign": ""}, "40001", "isv.missing-signature"),
            ({"notify_url": "ftp://x/y"}, "40002", "isv.invalid-parameter"),
        ]
        for change, code, sub_code in cases:
            ans = self.ali("alipay.trade.precreate", biz, **change)
            self.assertEqual((ans["code"], ans["sub_code"]), (code, sub_code), change)
            self.assertEqual(ans["msg"], {"40001": "Missing Required Arguments", "40002": "Invalid Arguments"}[code])
        # No method: error_response.
        status, raw = self.send(self.params("alipay.trade.precreate", biz, drop=("method",)))
        self.assertTrue(raw.startswith(b'{"error_response":'))
        self.assertEqual(self.answer(raw, "none")["sub_code"], "isv.missing-method")
        status, raw = self.send(self.params("alipay.trade.pay", biz))
        self.assertEqual(self.answer(raw, "none")["sub_code"], "isv.invalid-method")
        # The format may be left out (it defaults to JSON).
        self.assertEqual(self.ali("alipay.trade.precreate", biz, drop=("format",))["code"], "10000")

    def test_biz_content_checks(self):
        for biz in ({"out_trade_no": self.new_no(), "total_amount": "0.001", "subject": "x"},
                    {"out_trade_no": self.new_no(), "total_amount": "0", "subject": "x"},
                    {"out_trade_no": self.new_no(), "total_amount": "100000000.01", "subject": "x"},
                    {"out_trade_no": self.new_no(), "total_amount": "abc", "subject": "x"},
                    {"out_trade_no": self.new_no(), "total_amount": "1"},
                    {"out_trade_no": self.new_no(), "total_amount": "1", "subject": "a&b"},
                    {"out_trade_no": "bad-no!", "total_amount": "1", "subject": "x"},
                    {"out_trade_no": self.new_no(), "total_amount": "1", "subject": "x", "timeout_express": "16d"},
                    {"total_amount": "1", "subject": "x"}, []):
            ans = self.ali("alipay.trade.precreate", biz)
            self.assertEqual((ans["code"], ans["sub_code"]), ("40002", "isv.invalid-parameter"), biz)
        ans = self.ali("alipay.trade.precreate", {"out_trade_no": self.new_no(), "total_amount": "100000000",
                                                  "subject": "x", "timeout_express": "90m"})
        self.assertEqual(ans["code"], "10000")

    def test_same_out_trade_no(self):
        no, first = self.precreate(amount="10")
        self.assertEqual(self.precreate(no, amount="10.00")[1]["qr_code"], first["qr_code"])
        ans = self.ali("alipay.trade.precreate", {"out_trade_no": no, "total_amount": "10.01", "subject": "Convene 2025 参会费"})
        self.assertEqual((ans["code"], ans["sub_code"]), ("40004", "ACQ.CONTEXT_INCONSISTENT"))
        self.pay(no, notify=False)
        ans = self.ali("alipay.trade.precreate", {"out_trade_no": no, "total_amount": "10", "subject": "Convene 2025 参会费"})
        self.assertEqual((ans["code"], ans["sub_code"]), ("40004", "ACQ.TRADE_HAS_SUCCESS"))

    def test_query(self):
        ans = self.ali("alipay.trade.query", {"out_trade_no": "nosuchtrade"})
        self.assertEqual((ans["code"], ans["msg"], ans["sub_code"]), ("40004", "Business Failed", "ACQ.TRADE_NOT_EXIST"))
        no = self.precreate(amount=12.5)[0]
        ans = self.ali("alipay.trade.query", {"out_trade_no": no})
        self.assertEqual((ans["code"], ans["trade_status"], ans["total_amount"], ans["out_trade_no"]),
                         ("10000", "WAIT_BUYER_PAY", "12.50", no))
        self.assertNotIn("buyer_pay_amount", ans)
        self.pay(no, notify=False)
        ans = self.ali("alipay.trade.query", {"out_trade_no": no})
        self.assertEqual((ans["trade_status"], ans["buyer_pay_amount"]), ("TRADE_SUCCESS", "12.50"))
        self.assertRegex(ans["trade_no"], r"^\d{28}$")
        self.assertEqual(self.ali("alipay.trade.query", {"trade_no": ans["trade_no"]}), ans)

    def test_close(self):
        no = self.precreate()[0]
        ans = self.ali("alipay.trade.close", {"out_trade_no": no})
        self.assertEqual((ans["code"], ans["out_trade_no"]), ("10000", no))
        self.assertEqual(self.ali("alipay.trade.query", {"out_trade_no": no})["trade_status"], "TRADE_CLOSED")
        ans = self.ali("alipay.trade.precreate", {"out_trade_no": no, "total_amount": "88.88", "subject": "Convene 2025 参会费"})
        self.assertEqual(ans["sub_code"], "ACQ.TRADE_HAS_CLOSE")
        status, _, _, _ = self.call("POST", f"/_admin/alipay/trades/{no}/pay", {})
        self.assertEqual(status, 409)
        no = self.precreate()[0]
        self.pay(no, notify=False)
        ans = self.ali("alipay.trade.close", {"out_trade_no": no})
        self.assertEqual((ans["code"], ans["sub_code"]), ("40004", "ACQ.TRADE_STATUS_ERROR"))
        self.assertEqual(self.ali("alipay.trade.close", {"out_trade_no": "nosuch"})["sub_code"], "ACQ.TRADE_NOT_EXIST")

    def test_refunds(self):
        no = self.precreate(amount="100")[0]
        refund = lambda amount, request_no: self.ali("alipay.trade.refund", {  # noqa: E731
            "out_trade_no": no, "refund_amount": amount, "out_request_no": request_no, "refund_reason": "cancelled"})
        self.assertEqual(refund("1", "r1")["sub_code"], "ACQ.TRADE_STATUS_ERROR")            # not paid
        self.pay(no, notify=False)
        ans = refund("30", "r1")
        self.assertEqual((ans["code"], ans["fund_change"], ans["refund_fee"], ans["out_trade_no"]),
                         ("10000", "Y", "30.00", no))
        again = refund("30.00", "r1")                           # out_request_no is the idempotency key
        self.assertEqual((again["code"], again["fund_change"], again["refund_fee"]), ("10000", "N", "30.00"))
        self.assertEqual(refund("31", "r1")["code"], "40004")
        ans = refund("70.01", "r2")
        self.assertEqual((ans["code"], ans["sub_code"]), ("40004", "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"))
        self.assertEqual(self.ali("alipay.trade.query", {"out_trade_no": no})["trade_status"], "TRADE_SUCCESS")
        ans = refund("70", "r2")
        self.assertEqual((ans["fund_change"], ans["refund_fee"]), ("Y", "100.00"))
        self.assertEqual(self.ali("alipay.trade.query", {"out_trade_no": no})["trade_status"], "TRADE_CLOSED")
        self.assertEqual(refund("0.01", "r3")["sub_code"], "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL")
        q = self.ali("alipay.trade.fastpay.refund.query", {"out_trade_no": no, "out_request_no": "r2"})
        self.assertEqual((q["code"], q["refund_amount"], q["refund_status"]), ("10000", "70.00", "REFUND_SUCCESS"))
        q = self.ali("alipay.trade.fastpay.refund.query", {"out_trade_no": no, "out_request_no": "r9"})
        self.assertEqual(q["code"], "10000")
        self.assertNotIn("refund_status", q)
        ans = self.ali("alipay.trade.refund", {"out_trade_no": "nosuch", "refund_amount": "1"})
        self.assertEqual(ans["sub_code"], "ACQ.TRADE_NOT_EXIST")

    def test_page_pay(self):
        no = self.new_no()
        biz = {"out_trade_no": no, "total_amount": "66.60", "subject": "Convene 参会费",
               "product_code": "FAST_INSTANT_TRADE_PAY"}
        params = self.params("alipay.trade.page.pay", biz, notify_url=self.receiver.url("/ali/page"),
                             return_url="https://convene.example/paid")
        status, _, _, raw = self.call("GET", "/gateway.do?" + urllib.parse.urlencode(params))
        self.assertEqual(status, 200)
        page = raw.decode()
        self.assertIn(no, page)
        self.assertIn("66.60", page)
        self.assertIn("https://convene.example/paid", page)
        self.assertEqual(self.ali("alipay.trade.query", {"out_trade_no": no})["trade_status"], "WAIT_BUYER_PAY")
        # POST works too; errors are an HTML page naming the sub_code.
        other = self.new_no()
        status, raw = self.send(self.params("alipay.trade.page.pay", {**biz, "out_trade_no": other}))
        self.assertEqual(status, 200)
        self.assertIn(other.encode(), raw)
        self.assertNotIn(b"sub_code", raw)
        status, _, _, raw = self.call("GET", "/gateway.do?" + urllib.parse.urlencode(
            self.params("alipay.trade.page.pay", biz, key=OTHER_KEY)))
        self.assertIn(b"isv.invalid-signature", raw)
        status, _, _, raw = self.call("GET", "/gateway.do?" + urllib.parse.urlencode(
            self.params("alipay.trade.page.pay", {**biz, "product_code": "QR_CODE_OFFLINE"})))
        self.assertIn(b"isv.invalid-parameter", raw)
        # Paying it notifies the page pay's notify_url.
        answer = self.pay(no)
        self.assertEqual(answer["deliveries"][0]["status"], 200)
        self.assertEqual(self.receiver.requests()[0]["path"], "/ali/page")

    def test_requests_are_recorded_and_log_is_masked(self):
        params = self.params("alipay.trade.query", {"out_trade_no": "whatever"}, key=OTHER_KEY)
        self.send(params, "query")
        last = self.call("GET", "/_admin/alipay/requests")[2]["requests"][-1]
        self.assertEqual((last["method"], last["verified"], last["status"]), ("POST", False, 200))
        self.assertTrue(last["path"].startswith("/gateway.do?"))
        self.assertIn("验签出错", last["error"])
        no = self.precreate()[0]
        last = self.call("GET", "/_admin/alipay/requests")[2]["requests"][-1]
        self.assertEqual((last["verified"], last["error"]), (True, None))
        self.assertIn(no, last["body"])
        log = self.wait_for_log("method=alipay.trade.query verified=false code=40002 sub_code=isv.invalid-signature")
        self.assertNotIn(params["sign"][:12], log)
        self.assertNotIn(urllib.parse.quote(params["sign"], safe="")[:12], log)


class AlipayNotifyTests(AlipayCase):
    def test_notify_is_a_signed_form(self):
        no = self.precreate(amount="88.8")[0]
        answer = self.pay(no)
        self.assertEqual(answer["deliveries"], [{"status": 200, "body": "success", "error": None, "acknowledged": True}])
        [request] = self.receiver.requests()
        self.assertEqual(request["path"], "/ali/notify")
        p = self.notify_params(request)
        self.assertTrue(self.notify_verifies(p))
        self.assertEqual((p["notify_type"], p["app_id"], p["out_trade_no"], p["trade_status"], p["total_amount"],
                          p["receipt_amount"], p["buyer_pay_amount"], p["sign_type"], p["charset"], p["version"]),
                         ("trade_status_sync", self.APP_ID, no, "TRADE_SUCCESS", "88.80", "88.80", "88.80",
                          "RSA2", "utf-8", "1.0"))
        self.assertEqual(p["notify_id"], answer["event"]["id"])
        self.assertEqual(request["body"].decode(), answer["event"]["body"])
        for field in ("notify_time", "gmt_create", "gmt_payment", "trade_no"):
            self.assertTrue(p[field], field)
        sent = datetime.datetime.strptime(p["notify_time"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA).timestamp()
        self.assertLess(abs(sent - time.time()), 5)
        # sign_type is not part of the signed string; the rest is.
        self.assertFalse(rsa_verifies(self.alipay_key, content_of(p), p["sign"]))
        changed = dict(p, total_amount="88.81")
        self.assertFalse(self.notify_verifies(changed))
        # A key that is not Alipay's does not verify it.
        other = OTHER_KEY.public_key()
        self.assertFalse(rsa_verifies(other, content_of(p, exclude=("sign", "sign_type")), p["sign"]))

    def test_tampered_signature(self):
        no = self.precreate()[0]
        self.pay(no, tamper="signature")
        p = self.notify_params(self.receiver.requests()[0])
        self.assertFalse(self.notify_verifies(p))
        self.assertEqual(p["total_amount"], "88.88")

    def test_stale_notify_time(self):
        no = self.precreate()[0]
        self.pay(no, tamper="stale")
        p = self.notify_params(self.receiver.requests()[0])
        self.assertTrue(self.notify_verifies(p))
        sent = datetime.datetime.strptime(p["notify_time"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA).timestamp()
        self.assertAlmostEqual(time.time() - sent, 600, delta=5)

    def test_amount_tamper(self):
        no = self.precreate(amount="88.88")[0]
        self.pay(no, tamper="amount")
        p = self.notify_params(self.receiver.requests()[0])
        self.assertTrue(self.notify_verifies(p))
        self.assertEqual((p["total_amount"], p["buyer_pay_amount"]), ("88.89", "88.89"))
        self.assertEqual(self.ali("alipay.trade.query", {"out_trade_no": no})["total_amount"], "88.88")

    def test_acknowledged_only_by_exactly_success(self):
        self.receiver.answers = [(200, b"SUCCESS"), (200, b"success\n"), (500, b"success"), (200, b"success")]
        no = self.precreate()[0]
        answer = self.pay(no, times=4)
        self.assertEqual([d["acknowledged"] for d in answer["deliveries"]], [False, False, False, True])
        self.assertEqual(len({self.notify_params(r)["notify_id"] for r in self.receiver.requests()}), 1)

    def test_missed_callback_then_resend(self):
        no = self.precreate()[0]
        answer = self.pay(no, notify=False)
        self.assertEqual((answer["deliveries"], self.receiver.requests()), ([], []))
        self.assertEqual(self.ali("alipay.trade.query", {"out_trade_no": no})["trade_status"], "TRADE_SUCCESS")
        notes = self.call("GET", "/_admin/alipay/notifications")[2]["notifications"]
        note = next(n for n in notes if n["id"] == answer["event"]["id"])
        self.assertEqual((note["type"], note["url"], note["deliveries"]), ("TRADE_SUCCESS", self.receiver.url("/ali/notify"), []))
        status, _, resent, _ = self.call("POST", f"/_admin/alipay/notifications/{note['id']}/resend", {"times": 2})
        self.assertEqual([d["acknowledged"] for d in resent["deliveries"]], [True, True])
        for request in self.receiver.requests():
            p = self.notify_params(request)
            self.assertTrue(self.notify_verifies(p))
            self.assertEqual(p["notify_id"], note["id"])

    def test_trade_without_notify_url(self):
        no = self.precreate(notify=False)[0]
        self.assertEqual(self.pay(no), {"event": None, "deliveries": []})


class AlipayAdminTests(unittest.TestCase):
    def test_app_registration_and_reset(self):
        with tempfile.TemporaryDirectory() as d:
            app = server.App(d, ["alipay"])
            post = lambda body: app.handle(Request("POST", "/_admin/alipay/apps", {}, json.dumps(body).encode()))  # noqa: E731
            self.assertEqual(post({"appId": "2021", "appPublicKeyPem": "nope"}).status, 400)
            self.assertEqual(post({"appId": "", "appPublicKeyPem": public_pem(APP_KEY)}).status, 400)
            # The bare base64 the Alipay console shows is accepted too.
            bare = "".join(public_pem(APP_KEY).strip().splitlines()[1:-1])
            first = post({"appId": "2021000000000001", "appPublicKeyPem": bare})
            self.assertEqual(first.status, 201)
            key = json.loads(first.body)["alipayPublicKeyPem"]
            again = server.App(d, ["alipay"])
            self.assertIn("2021000000000001", again.modules[0].apps)
            again.handle(Request("POST", "/_admin/reset", {}, b""))
            self.assertEqual(server.App(d, ["alipay"]).modules[0].apps, {})
            same = json.loads(again.handle(Request("GET", "/_admin/alipay/key", {}, b"")).body)
            self.assertEqual(same["alipayPublicKeyPem"], key)


if __name__ == "__main__":
    unittest.main()
