"""Tests of the WeChat Pay v3 stand-in (wechatpay.py).

    /usr/bin/python3 -m unittest discover -s compose/local/contracts

Requests are signed, answers and notifications verified and decrypted here with
the cryptography package directly, independently of the module's own helpers.
"""

import base64
import json
import os
import sys
import tempfile
import time
import unittest
import uuid

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import server  # noqa: E402
from common import Request  # noqa: E402
from test_contracts import Receiver, ServerCase  # noqa: E402

MERCHANT_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(private_key):
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def rsa_sign(private_key, message):
    return base64.b64encode(private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def rsa_verifies(public_key, message, signature_b64):
    try:
        public_key.verify(base64.b64decode(signature_b64), message, padding.PKCS1v15(), hashes.SHA256())
        return True
    except InvalidSignature:
        return False


class WeChatPayCase(ServerCase):
    MCHID = "1900009191"
    APPID = "wxd678efh567hg6787"
    SERIAL = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
    API_V3_KEY = "a7cde1ef52e0d6d2fa8b6c1e2f9a3b4c"        # 32 bytes

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        status, _, body, _ = cls.call(cls, "POST", "/_admin/wechatpay/merchants", {
            "mchid": cls.MCHID, "appid": cls.APPID, "serialNo": cls.SERIAL,
            "publicKeyPem": public_pem(MERCHANT_KEY), "apiV3Key": cls.API_V3_KEY,
        })
        assert status == 201, body
        cls.platform_serial = body["platformSerial"]
        cls.platform_key = serialization.load_pem_public_key(body["platformPublicKeyPem"].encode())

    def setUp(self):
        self.receiver = Receiver()
        self.addCleanup(self.receiver.close)

    def wx(self, method, path, body=None, key=MERCHANT_KEY, mchid=None, serial=None, ts=None, nonce=None,
           signed_body=None, content_type="application/json", auth=None):
        """A signed WeChat Pay API call: (status, headers, JSON, raw)."""
        raw = json.dumps(body, ensure_ascii=False).encode() if body is not None else b""
        ts = str(int(time.time()) if ts is None else ts)
        nonce = nonce or uuid.uuid4().hex.upper()
        message = f"{method}\n{path}\n{ts}\n{nonce}\n".encode() + (raw if signed_body is None else signed_body) + b"\n"
        if auth is None:
            auth = (f'WECHATPAY2-SHA256-RSA2048 mchid="{mchid or self.MCHID}",nonce_str="{nonce}",'
                    f'signature="{rsa_sign(key, message)}",timestamp="{ts}",serial_no="{serial or self.SERIAL}"')
        headers = {"Accept": "application/json"}
        if auth:
            headers["Authorization"] = auth
        if body is not None and content_type:
            headers["Content-Type"] = content_type
        return self.call(method, path, raw=raw if body is not None else None, headers=headers)

    def order(self, no=None, **changes):
        body = {
            "appid": self.APPID, "mchid": self.MCHID, "description": "Convene 2025 — 参会费",
            "out_trade_no": no or f"reg_{uuid.uuid4().hex[:20]}", "notify_url": self.receiver.url("/wx/notify"),
            "amount": {"total": 9900, "currency": "CNY"},
        }
        body.update(changes)
        return body

    def create(self, no=None, **changes):
        body = self.order(no, **changes)
        status, _, answer, _ = self.wx("POST", "/v3/pay/transactions/native", body)
        self.assertEqual(status, 200, answer)
        return body["out_trade_no"], answer

    def query(self, no):
        return self.wx("GET", f"/v3/pay/transactions/out-trade-no/{no}?mchid={self.MCHID}")

    def admin(self, path, body=None):
        status, _, answer, _ = self.call("POST", path, body if body is not None else {})
        return status, answer

    def pay(self, no, **options):
        status, answer = self.admin(f"/_admin/wechatpay/transactions/{no}/pay", options)
        self.assertEqual(status, 200, answer)
        return answer

    def assert_signed_by_platform(self, headers, raw):
        self.assertEqual(headers["wechatpay-serial"], self.platform_serial)
        message = f"{headers['wechatpay-timestamp']}\n{headers['wechatpay-nonce']}\n".encode() + raw + b"\n"
        self.assertTrue(rsa_verifies(self.platform_key, message, headers["wechatpay-signature"]),
                        "the answer's Wechatpay-Signature does not verify with the platform key")

    def decrypt(self, resource):
        self.assertEqual(resource["algorithm"], "AEAD_AES_256_GCM")
        plain = AESGCM(self.API_V3_KEY.encode()).decrypt(
            resource["nonce"].encode(), base64.b64decode(resource["ciphertext"]),
            resource["associated_data"].encode())
        return json.loads(plain)

    def notification(self, request):
        """(body, plaintext, signature verifies?) of a notification the receiver got."""
        h, raw = request["headers"], request["body"]
        message = f"{h['wechatpay-timestamp']}\n{h['wechatpay-nonce']}\n".encode() + raw + b"\n"
        verifies = rsa_verifies(self.platform_key, message, h["wechatpay-signature"])
        body = json.loads(raw)
        return body, self.decrypt(body["resource"]), verifies


class WeChatPayRequestTests(WeChatPayCase):
    def test_good_request_creates_an_order_and_the_answer_is_signed(self):
        body = self.order()
        status, headers, answer, raw = self.wx("POST", "/v3/pay/transactions/native", body)
        self.assertEqual(status, 200, answer)
        self.assertRegex(answer["code_url"], r"^weixin://wxpay/bizpayurl\?pr=[A-Za-z0-9]+$")
        self.assert_signed_by_platform(headers, raw)
        self.assertTrue(self.platform_serial.startswith("PUB_KEY_ID_"))
        status, headers, tx, raw = self.query(body["out_trade_no"])
        self.assertEqual(status, 200, tx)
        self.assert_signed_by_platform(headers, raw)
        self.assertEqual((tx["trade_state"], tx["out_trade_no"], tx["appid"], tx["mchid"]),
                         ("NOTPAY", body["out_trade_no"], self.APPID, self.MCHID))
        self.assertEqual(tx["amount"]["total"], 9900)
        self.assertNotIn("transaction_id", tx)

    def test_error_answers_are_signed_too(self):
        status, headers, answer, raw = self.query("nosuchorder1")
        self.assertEqual((status, answer["code"]), (404, "ORDER_NOT_EXIST"))
        self.assert_signed_by_platform(headers, raw)
        status, headers, answer, raw = self.wx("POST", "/v3/pay/transactions/native", self.order(), key=OTHER_KEY)
        self.assertEqual(status, 401)
        self.assert_signed_by_platform(headers, raw)

    def test_wrong_signature_is_refused(self):
        body = self.order()
        status, _, answer, _ = self.wx("POST", "/v3/pay/transactions/native", body, key=OTHER_KEY)
        self.assertEqual((status, answer["code"]), (401, "SIGN_ERROR"))
        self.assertEqual(answer["detail"]["sign_information"]["url"], "/v3/pay/transactions/native")
        # Signed over another body than the one sent.
        status, _, answer, _ = self.wx("POST", "/v3/pay/transactions/native", body, signed_body=b"{}")
        self.assertEqual((status, answer["code"]), (401, "SIGN_ERROR"))
        # The query string is part of what is signed.
        no = self.create()[0]
        path = f"/v3/pay/transactions/out-trade-no/{no}?mchid={self.MCHID}"
        ts, nonce = str(int(time.time())), uuid.uuid4().hex
        sig = rsa_sign(MERCHANT_KEY, f"GET\n/v3/pay/transactions/out-trade-no/{no}\n{ts}\n{nonce}\n\n".encode())
        auth = (f'WECHATPAY2-SHA256-RSA2048 mchid="{self.MCHID}",nonce_str="{nonce}",signature="{sig}",'
                f'timestamp="{ts}",serial_no="{self.SERIAL}"')
        self.assertEqual(self.wx("GET", path, auth=auth)[0], 401)
        self.assertEqual(self.query(no)[0], 200)
        self.assertEqual(self.query(no.replace("reg", "xyz"))[0], 404)

    def test_stale_timestamp_is_refused(self):
        # 10 s beyond the tolerance: the server reads its clock a moment later than this test, and
        # at 301 a second boundary in between once made "+301" exactly 300 away (accepted).
        for ts in (int(time.time()) - 310, int(time.time()) + 310):
            status, _, answer, _ = self.wx("POST", "/v3/pay/transactions/native", self.order(), ts=ts)
            self.assertEqual((status, answer["code"]), (401, "SIGN_ERROR"))
            self.assertIn("5 minutes", answer["message"])
        status, _, answer, _ = self.wx("POST", "/v3/pay/transactions/native", self.order(), ts=int(time.time()) - 250)
        self.assertEqual(status, 200, answer)

    def test_replayed_nonce_is_refused(self):
        no = self.create()[0]
        path = f"/v3/pay/transactions/out-trade-no/{no}?mchid={self.MCHID}"
        self.assertEqual(self.wx("GET", path, nonce="NONCE" + no)[0], 200)
        status, _, answer, _ = self.wx("GET", path, nonce="NONCE" + no)
        self.assertEqual((status, answer["code"]), (401, "SIGN_ERROR"))
        self.assertIn("nonce", answer["message"])
        # A refused request does not use its nonce up.
        self.assertEqual(self.wx("GET", path, nonce="N2" + no, key=OTHER_KEY)[0], 401)
        self.assertEqual(self.wx("GET", path, nonce="N2" + no)[0], 200)

    def test_unknown_merchant_wrong_serial_and_missing_authorization(self):
        status, _, answer, _ = self.wx("POST", "/v3/pay/transactions/native", self.order(mchid="1999999999"),
                                       mchid="1999999999")
        self.assertEqual((status, answer["code"]), (401, "SIGN_ERROR"))
        status, _, answer, _ = self.wx("POST", "/v3/pay/transactions/native", self.order(), serial="ABCDEF0123")
        self.assertEqual((status, answer["code"]), (401, "SIGN_ERROR"))
        self.assertIn("serial_no", answer["message"])
        self.assertEqual(self.wx("POST", "/v3/pay/transactions/native", self.order(), auth="")[0], 401)
        self.assertEqual(self.wx("POST", "/v3/pay/transactions/native", self.order(),
                                 auth='WECHATPAY2-SHA256-RSA2048 mchid="1900009191"')[0], 401)
        self.assertEqual(self.wx("POST", "/v3/pay/transactions/native", self.order(), auth="Bearer x")[0], 401)

    def test_appid_of_another_merchant_is_refused(self):
        status, _, answer, _ = self.wx("POST", "/v3/pay/transactions/native", self.order(appid="wx0000000000000000"))
        self.assertEqual((status, answer["code"]), (400, "APPID_MCHID_NOT_MATCH"))
        # The body's mchid must be the signer's.
        status, _, answer, _ = self.wx("POST", "/v3/pay/transactions/native", self.order(mchid="1999999999"))
        self.assertEqual((status, answer["code"]), (400, "PARAM_ERROR"))

    def test_parameter_errors(self):
        cases = [
            {"out_trade_no": "short"}, {"out_trade_no": "has space in it"}, {"out_trade_no": "x" * 33},
            {"amount": {"total": 0, "currency": "CNY"}}, {"amount": {"total": 1.5, "currency": "CNY"}},
            {"amount": {"total": 100, "currency": "USD"}}, {"amount": 100},
            {"notify_url": "ftp://example.com/n"}, {"notify_url": "https://example.com/n?x=1"},
            {"description": ""}, {"time_expire": "2030-01-01 10:00:00"}, {"time_expire": "2001-01-01T10:00:00+08:00"},
        ]
        for change in cases:
            status, _, answer, _ = self.wx("POST", "/v3/pay/transactions/native", self.order(**change))
            self.assertEqual((status, answer["code"]), (400, "PARAM_ERROR"), change)
        body = self.order()
        del body["notify_url"]
        self.assertEqual(self.wx("POST", "/v3/pay/transactions/native", body)[2]["code"], "PARAM_ERROR")
        status, _, answer, _ = self.wx("POST", "/v3/pay/transactions/native", self.order(), content_type="text/plain")
        self.assertEqual((status, answer["code"]), (400, "PARAM_ERROR"))
        # Well-formed extras are fine.
        status, _, answer, _ = self.wx("POST", "/v3/pay/transactions/native",
                                       self.order(time_expire="2099-06-08T10:34:56+08:00", attach="r=42"))
        self.assertEqual(status, 200, answer)

    def test_same_out_trade_no_same_body_same_code_url_different_body_refused(self):
        body = self.order()
        first = self.wx("POST", "/v3/pay/transactions/native", body)[2]
        again = self.wx("POST", "/v3/pay/transactions/native", body)[2]
        self.assertEqual(first, again)
        for change in ({"amount": {"total": 9901, "currency": "CNY"}}, {"description": "something else"}):
            status, _, answer, _ = self.wx("POST", "/v3/pay/transactions/native", {**body, **change})
            self.assertEqual((status, answer["code"]), (400, "INVALID_REQUEST"))
            self.assertIn("out_trade_no", answer["message"])
            self.assertIn("used", answer["message"])

    def test_paid_order_cannot_be_created_again_or_closed(self):
        no = self.create()[0]
        self.pay(no, notify=False)
        status, _, tx, _ = self.query(no)
        self.assertEqual(tx["trade_state"], "SUCCESS")
        self.assertRegex(tx["transaction_id"], r"^\d{28}$")
        self.assertEqual(tx["amount"]["payer_total"], 9900)
        self.assertTrue(tx["payer"]["openid"])
        self.assertRegex(tx["success_time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$")
        status, _, answer, _ = self.wx("POST", "/v3/pay/transactions/native", self.order(no))
        self.assertEqual((status, answer["code"]), (400, "ORDERPAID"))
        status, _, answer, _ = self.wx("POST", f"/v3/pay/transactions/out-trade-no/{no}/close", {"mchid": self.MCHID})
        self.assertEqual((status, answer["code"]), (400, "ORDERPAID"))
        status, _, same, _ = self.wx("GET", f"/v3/pay/transactions/id/{tx['transaction_id']}?mchid={self.MCHID}")
        self.assertEqual(same, tx)

    def test_close(self):
        no = self.create()[0]
        status, headers, answer, raw = self.wx("POST", f"/v3/pay/transactions/out-trade-no/{no}/close",
                                               {"mchid": self.MCHID})
        self.assertEqual((status, raw), (204, b""))
        self.assert_signed_by_platform(headers, raw)
        self.assertEqual(self.query(no)[2]["trade_state"], "CLOSED")
        status, _, answer, _ = self.wx("POST", "/v3/pay/transactions/native", self.order(no))
        self.assertEqual((status, answer["code"]), (400, "ORDERCLOSED"))
        self.assertEqual(self.admin(f"/_admin/wechatpay/transactions/{no}/pay")[0], 409)
        status, _, answer, _ = self.wx("POST", "/v3/pay/transactions/out-trade-no/nosuchorder/close",
                                       {"mchid": self.MCHID})
        self.assertEqual((status, answer["code"]), (404, "ORDER_NOT_EXIST"))

    def test_query_needs_the_mchid(self):
        no = self.create()[0]
        status, _, answer, _ = self.wx("GET", f"/v3/pay/transactions/out-trade-no/{no}")
        self.assertEqual((status, answer["code"]), (400, "PARAM_ERROR"))

    def refund(self, no, out_refund_no, refund, total=9900, **extra):
        body = {"out_trade_no": no, "out_refund_no": out_refund_no, "reason": "cancelled",
                "amount": {"refund": refund, "total": total, "currency": "CNY"}, **extra}
        return self.wx("POST", "/v3/refund/domestic/refunds", body)

    def test_refunds(self):
        no = self.create()[0]
        status, _, answer, _ = self.refund(no, f"rf_{no}_1", 100)
        self.assertEqual((status, answer["code"]), (400, "INVALID_REQUEST"))          # not paid yet
        tx = self.pay(no, notify=False)["event"]["plaintext"]
        status, _, r1, _ = self.refund(no, f"rf_{no}_1", 4000, notify_url=self.receiver.url("/wx/refund"))
        self.assertEqual(status, 200, r1)
        self.assertEqual((r1["status"], r1["out_trade_no"], r1["transaction_id"], r1["amount"]["refund"]),
                         ("PROCESSING", no, tx["transaction_id"], 4000))
        self.assertRegex(r1["refund_id"], r"^\d{29}$")
        # out_refund_no is the idempotency key.
        self.assertEqual(self.refund(no, f"rf_{no}_1", 4000, notify_url=self.receiver.url("/wx/refund"))[2], r1)
        status, _, answer, _ = self.refund(no, f"rf_{no}_1", 4001)
        self.assertEqual((status, answer["code"]), (400, "INVALID_REQUEST"))
        # More than what is left, or a wrong total.
        status, _, answer, _ = self.refund(no, f"rf_{no}_2", 5901)
        self.assertEqual((status, answer["code"]), (400, "NOT_ENOUGH"))
        status, _, answer, _ = self.refund(no, f"rf_{no}_2", 100, total=9901)
        self.assertEqual((status, answer["code"]), (400, "INVALID_REQUEST"))
        status, _, r2, _ = self.wx("POST", "/v3/refund/domestic/refunds", {
            "transaction_id": tx["transaction_id"], "out_refund_no": f"rf_{no}_2",
            "amount": {"refund": 5900, "total": 9900, "currency": "CNY"}})
        self.assertEqual(status, 200, r2)
        self.assertEqual(self.refund(no, f"rf_{no}_3", 1)[2]["code"], "NOT_ENOUGH")
        self.assertEqual(self.query(no)[2]["trade_state"], "REFUND")
        status, _, answer, _ = self.refund("nosuchorder", "rf_x", 1)
        self.assertEqual((status, answer["code"]), (404, "RESOURCE_NOT_EXISTS"))
        # Settling: PROCESSING -> SUCCESS, with a REFUND.SUCCESS notification when it had a notify_url.
        answer = self.admin(f"/_admin/wechatpay/refunds/rf_{no}_1/settle")[1]
        self.assertEqual([d["status"] for d in answer["deliveries"]], [200])
        self.assertEqual(self.wx("GET", f"/v3/refund/domestic/refunds/rf_{no}_1")[2]["status"], "SUCCESS")
        [request] = self.receiver.requests()
        self.assertEqual(request["path"], "/wx/refund")
        body, plain, verifies = self.notification(request)
        self.assertTrue(verifies)
        self.assertEqual((body["event_type"], body["resource"]["associated_data"]), ("REFUND.SUCCESS", "refund"))
        self.assertEqual((plain["refund_status"], plain["out_refund_no"], plain["amount"]["refund"]),
                         ("SUCCESS", f"rf_{no}_1", 4000))
        answer = self.admin(f"/_admin/wechatpay/refunds/rf_{no}_2/settle")[1]
        self.assertEqual((answer["event"], answer["deliveries"]), (None, []))         # no notify_url
        self.assertEqual(self.admin(f"/_admin/wechatpay/refunds/rf_{no}_2/settle")[0], 409)
        status, _, answer, _ = self.wx("GET", "/v3/refund/domestic/refunds/nosuch")
        self.assertEqual((status, answer["code"]), (404, "RESOURCE_NOT_EXISTS"))

    def test_requests_are_recorded(self):
        no = self.create()[0]
        self.wx("GET", f"/v3/pay/transactions/out-trade-no/{no}?mchid={self.MCHID}", key=OTHER_KEY)
        reqs = self.call("GET", "/_admin/wechatpay/requests")[2]["requests"]
        create = next(r for r in reqs if r["method"] == "POST" and no in r["body"])
        self.assertEqual((create["path"], create["verified"], create["status"]),
                         ("/v3/pay/transactions/native", True, 200))
        last = reqs[-1]
        self.assertEqual((last["path"], last["verified"], last["status"]),
                         (f"/v3/pay/transactions/out-trade-no/{no}?mchid={self.MCHID}", False, 401))
        self.assertIn("signature", last["error"])

    def test_log_shows_no_keys_or_signatures(self):
        body = self.order()
        raw = json.dumps(body).encode()
        ts, nonce = str(int(time.time())), "LOGNONCE" + uuid.uuid4().hex
        sig = rsa_sign(MERCHANT_KEY, f"POST\n/v3/pay/transactions/native\n{ts}\n{nonce}\n".encode() + raw + b"\n")
        self.assertEqual(self.wx("POST", "/v3/pay/transactions/native", body, ts=ts, nonce=nonce)[0], 200)
        self.pay(body["out_trade_no"])
        self.wx("GET", "/v3/pay/transactions/out-trade-no/logcheck1?mchid=" + self.MCHID)
        log = self.wait_for_log("/v3/pay/transactions/out-trade-no/logcheck1?mchid=1900009191\" 404 "
                                "verified=true code=ORDER_NOT_EXIST")
        for secret in (self.API_V3_KEY, sig[:16], "BEGIN PUBLIC KEY"):
            self.assertNotIn(secret, log)


class WeChatPayNotificationTests(WeChatPayCase):
    def test_payment_notification_decrypts_and_verifies(self):
        no = self.create()[0]
        answer = self.pay(no)
        self.assertEqual(answer["deliveries"], [{"status": 200, "body": "", "error": None, "acknowledged": True}])
        [request] = self.receiver.requests()
        self.assertEqual(request["path"], "/wx/notify")
        self.assertTrue(request["headers"]["content-type"].startswith("application/json"))
        self.assertEqual(request["headers"]["wechatpay-serial"], self.platform_serial)
        self.assertLess(abs(int(request["headers"]["wechatpay-timestamp"]) - time.time()), 5)
        body, plain, verifies = self.notification(request)
        self.assertTrue(verifies)
        self.assertEqual(body["id"], answer["event"]["id"])
        self.assertEqual(request["body"].decode(), answer["event"]["body"])
        self.assertEqual((body["event_type"], body["resource_type"], body["summary"]),
                         ("TRANSACTION.SUCCESS", "encrypt-resource", "支付成功"))
        self.assertEqual((body["resource"]["associated_data"], body["resource"]["original_type"]),
                         ("transaction", "transaction"))
        self.assertEqual(len(body["resource"]["nonce"]), 12)
        self.assertRegex(body["create_time"], r"\+08:00$")
        uuid.UUID(body["id"])
        self.assertEqual((plain["out_trade_no"], plain["trade_state"], plain["amount"]["total"],
                          plain["amount"]["payer_total"], plain["mchid"], plain["appid"]),
                         (no, "SUCCESS", 9900, 9900, self.MCHID, self.APPID))
        self.assertTrue(plain["transaction_id"] and plain["payer"]["openid"] and plain["success_time"])
        # The plaintext is what a query answers.
        self.assertEqual(self.query(no)[2], plain)
        # The wrong key does not open it.
        with self.assertRaises(Exception):
            AESGCM(b"b" * 32).decrypt(body["resource"]["nonce"].encode(),
                                      base64.b64decode(body["resource"]["ciphertext"]), b"transaction")

    def test_tampered_signature_does_not_verify(self):
        no = self.create()[0]
        self.pay(no, tamper="signature")
        body, plain, verifies = self.notification(self.receiver.requests()[0])
        self.assertFalse(verifies)
        self.assertEqual(plain["amount"]["total"], 9900)

    def test_stale_notification_is_correctly_signed_10_minutes_ago(self):
        no = self.create()[0]
        self.pay(no, tamper="stale")
        request = self.receiver.requests()[0]
        self.assertAlmostEqual(time.time() - int(request["headers"]["wechatpay-timestamp"]), 600, delta=5)
        self.assertTrue(self.notification(request)[2])

    def test_amount_tamper_is_correctly_signed_but_one_fen_more(self):
        no = self.create()[0]
        answer = self.pay(no, tamper="amount")
        body, plain, verifies = self.notification(self.receiver.requests()[0])
        self.assertTrue(verifies)
        self.assertEqual((plain["amount"]["total"], plain["amount"]["payer_total"]), (9901, 9901))
        self.assertEqual(body["id"], answer["event"]["id"])
        self.assertEqual(self.query(no)[2]["amount"]["total"], 9900)      # the order itself is unchanged

    def test_times_sends_the_same_notification_again(self):
        no = self.create()[0]
        answer = self.pay(no, times=3)
        self.assertEqual([d["status"] for d in answer["deliveries"]], [200, 200, 200])
        bodies = [self.notification(r)[0] for r in self.receiver.requests()]
        self.assertEqual(len({b["id"] for b in bodies}), 1)
        self.assertEqual(len({r["headers"]["wechatpay-nonce"] for r in self.receiver.requests()}), 3)

    def test_missed_callback_then_resend(self):
        no = self.create()[0]
        answer = self.pay(no, notify=False)
        self.assertEqual(answer["deliveries"], [])
        self.assertEqual(self.receiver.requests(), [])
        self.assertEqual(self.query(no)[2]["trade_state"], "SUCCESS")
        notes = self.call("GET", "/_admin/wechatpay/notifications")[2]["notifications"]
        note = next(n for n in notes if n["id"] == answer["event"]["id"])
        self.assertEqual((note["type"], note["url"], note["deliveries"]),
                         ("TRANSACTION.SUCCESS", self.receiver.url("/wx/notify"), []))
        status, resent = self.admin(f"/_admin/wechatpay/notifications/{note['id']}/resend")
        self.assertEqual(status, 200, resent)
        self.assertEqual(resent["deliveries"][0]["status"], 200)
        body, plain, verifies = self.notification(self.receiver.requests()[0])
        self.assertTrue(verifies)
        self.assertEqual((body["id"], plain["out_trade_no"]), (note["id"], no))
        status, resent = self.admin(f"/_admin/wechatpay/notifications/{note['id']}/resend", {"tamper": "signature"})
        self.assertFalse(self.notification(self.receiver.requests()[1])[2])
        notes = self.call("GET", "/_admin/wechatpay/notifications")[2]["notifications"]
        note = next(n for n in notes if n["id"] == answer["event"]["id"])
        self.assertEqual([d["tamper"] for d in note["deliveries"]], [None, "signature"])
        self.assertEqual(note["deliveries"][0]["request"]["body"], note["body"])
        self.assertEqual(self.admin("/_admin/wechatpay/notifications/nosuch/resend")[0], 404)

    def test_receiver_failures_are_reported(self):
        self.receiver.answers = [(500, b'{"code":"FAIL","message":"busy"}')]
        no = self.create()[0]
        answer = self.pay(no)
        self.assertEqual(answer["deliveries"], [{"status": 500, "body": '{"code":"FAIL","message":"busy"}',
                                                 "error": None, "acknowledged": False}])
        closed = Receiver()
        url = closed.url("/gone")
        closed.close()
        no = self.create(notify_url=url)[0]
        [delivery] = self.pay(no)["deliveries"]
        self.assertIsNone(delivery["status"])
        self.assertTrue(delivery["error"])
        self.assertFalse(delivery["acknowledged"])

    def test_receiver_may_call_back_while_being_notified(self):
        # A merchant commonly queries the order before acknowledging: the trigger must
        # not hold anything the query needs.
        seen = []

        def on_request(request):
            no = self.notification(request)[1]["out_trade_no"]
            status, _, tx, _ = self.query(no)
            seen.append((status, tx["trade_state"]))
            return (204, b"")

        self.receiver.on_request = on_request
        no = self.create()[0]
        answer = self.pay(no)
        self.assertEqual(seen, [(200, "SUCCESS")])
        self.assertEqual(answer["deliveries"][0]["status"], 204)
        self.assertTrue(answer["deliveries"][0]["acknowledged"])
        self.assertNotIn("deliveries", answer["event"])

    def test_bad_trigger_requests(self):
        self.assertEqual(self.admin("/_admin/wechatpay/transactions/nosuchorder/pay")[0], 404)
        no = self.create()[0]
        self.assertEqual(self.admin(f"/_admin/wechatpay/transactions/{no}/pay", {"tamper": "other"})[0], 400)
        self.assertEqual(self.admin(f"/_admin/wechatpay/transactions/{no}/pay", {"times": 0})[0], 400)
        self.pay(no, notify=False)
        self.assertEqual(self.admin(f"/_admin/wechatpay/transactions/{no}/pay")[0], 409)


class WeChatPayAdminTests(unittest.TestCase):
    def merchant(self, **changes):
        body = {"mchid": "1900000001", "appid": "wx1", "serialNo": "ABC123",
                "publicKeyPem": public_pem(MERCHANT_KEY), "apiV3Key": "k" * 32, **changes}
        return Request("POST", "/_admin/wechatpay/merchants", {}, json.dumps(body).encode())

    def test_registration_checks(self):
        app = server.App(None, ["wechatpay"])
        self.assertEqual(app.handle(self.merchant(apiV3Key="k" * 31)).status, 400)
        self.assertEqual(app.handle(self.merchant(apiV3Key="密" * 11)).status, 400)           # 33 bytes
        self.assertEqual(app.handle(self.merchant(publicKeyPem="nope")).status, 400)
        small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
        self.assertEqual(app.handle(self.merchant(publicKeyPem=public_pem(small))).status, 400)
        self.assertEqual(app.handle(self.merchant(mchid="")).status, 400)
        self.assertEqual(app.handle(self.merchant()).status, 201)

    def test_platform_key_persists_and_reset_forgets_merchants(self):
        with tempfile.TemporaryDirectory() as d:
            app = server.App(d, ["wechatpay"])
            first = json.loads(app.handle(self.merchant()).body)
            self.assertRegex(first["platformSerial"], r"^PUB_KEY_ID_\d{34}$")
            again = server.App(d, ["wechatpay"])
            platform = json.loads(again.handle(Request("GET", "/_admin/wechatpay/platform", {}, b"")).body)
            self.assertEqual(platform, first)
            self.assertEqual(oct(os.stat(os.path.join(d, "wechatpay.json")).st_mode & 0o777), "0o600")
            again.handle(Request("POST", "/_admin/reset", {}, b""))
            self.assertEqual(again.modules[0].merchants, {})
            third = server.App(d, ["wechatpay"])
            self.assertEqual(third.modules[0].merchants, {})
            platform = json.loads(third.handle(Request("GET", "/_admin/wechatpay/platform", {}, b"")).body)
            self.assertEqual(platform, first)


if __name__ == "__main__":
    unittest.main()
