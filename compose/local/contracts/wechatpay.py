"""WeChat Pay API v3 (微信支付 APIv3) stand-in: Native (QR) orders, queries, closing,
refunds, and signed + encrypted payment/refund notifications.

Provider API (production base URL https://api.mch.weixin.qq.com):
  POST /v3/pay/transactions/native                          -> 200 {"code_url"}
  GET  /v3/pay/transactions/out-trade-no/{no}?mchid=M       -> 200 transaction
  GET  /v3/pay/transactions/id/{transaction_id}?mchid=M     -> 200 transaction
  POST /v3/pay/transactions/out-trade-no/{no}/close         -> 204
  POST /v3/refund/domestic/refunds                          -> 200 refund (PROCESSING)
  GET  /v3/refund/domestic/refunds/{out_refund_no}          -> 200 refund
Every request must carry `Authorization: WECHATPAY2-SHA256-RSA2048 mchid="…",
nonce_str="…",timestamp="…",serial_no="…",signature="…"` (RSA-SHA256 of
"METHOD\\nPATH?QUERY\\ntimestamp\\nnonce\\nbody\\n" with the merchant's key); failures
are 401 {"code": "SIGN_ERROR"}. Every answer carries Wechatpay-Timestamp/-Nonce/
-Serial/-Signature (the platform key over "timestamp\\nnonce\\nbody\\n").

Admin API (what a merchant does in the WeChat Pay console, and what the buyer does):
  POST /_admin/wechatpay/merchants  {"mchid","appid","serialNo","publicKeyPem","apiV3Key"}
                                    -> 201 {"platformSerial","platformPublicKeyPem"}
  GET  /_admin/wechatpay/platform   -> {"platformSerial","platformPublicKeyPem"}
  POST /_admin/wechatpay/transactions/{out_trade_no}/pay  {"notify","tamper","times"} (all optional)
  POST /_admin/wechatpay/refunds/{out_refund_no}/settle   (same body)
  GET  /_admin/wechatpay/notifications
  POST /_admin/wechatpay/notifications/{id}/resend        {"tamper"?, "times"?}
  GET  /_admin/wechatpay/requests
"""

import base64
import copy
import datetime
import json
import re
import threading
import time
import uuid

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from common import (Outbox, PaymentAdmin, Router, RsaKeyPair, empty_response, error, is_http_url,
                    json_response, keep_request, load_rsa_public_key, now_ms,
                    parse_admin_json, parse_optional_admin_json, parse_trigger_options,
                    public_key_pem, random_digits, random_string, rsa_verify)

NAME = "wechatpay"

TIMESTAMP_TOLERANCE = 300           # seconds: WeChat refuses requests signed more than 5 minutes away
NONCE_WINDOW = 300                  # a nonce_str may not come again within 5 minutes
STALE_SECONDS = 600                 # tamper "stale": the notification is signed 10 minutes in the past
CHINA = datetime.timezone(datetime.timedelta(hours=8))

OUT_TRADE_NO_RE = re.compile(r"^[A-Za-z0-9_*|-]{6,32}$")
OUT_REFUND_NO_RE = re.compile(r"^[A-Za-z0-9_*|@-]{1,64}$")
ID_RE = re.compile(r"^[A-Za-z0-9]{1,32}$")
SERIAL_RE = re.compile(r"^[A-Za-z0-9_]{1,64}$")
AUTH_RE = re.compile(r"^WECHATPAY2-SHA256-RSA2048\s+(.+)$", re.S)
AUTH_FIELD_RE = re.compile(r'(\w+)="([^"]*)"')

STATE_DESC = {"NOTPAY": "订单未支付", "SUCCESS": "支付成功", "CLOSED": "订单已关闭", "REFUND": "转入退款"}


def rfc3339(t=None):
    """WeChat's time format: 2024-05-20T13:29:35+08:00."""
    t = time.time() if t is None else t
    return datetime.datetime.fromtimestamp(int(t), CHINA).isoformat()


def parse_rfc3339(value):
    """Unix seconds of an RFC 3339 date-time with an offset, or None."""
    if not isinstance(value, str) or not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$", value):
        return None
    try:
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def wx_error(status, code, message, **extra):
    return json_response(status, {"code": code, "message": message, **extra})


class ApiError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def encrypt_resource(api_v3_key, plaintext, associated_data, nonce=None):
    """The "resource" of a notification: AEAD_AES_256_GCM with the merchant's APIv3 key."""
    nonce = nonce or random_string(12)
    sealed = AESGCM(api_v3_key.encode("utf-8")).encrypt(
        nonce.encode("ascii"), plaintext.encode("utf-8"), associated_data.encode("utf-8"))
    return {"algorithm": "AEAD_AES_256_GCM", "ciphertext": base64.b64encode(sealed).decode("ascii"),
            "nonce": nonce, "associated_data": associated_data}


def _dumps(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


class Module(PaymentAdmin):
    name = NAME
    prefixes = ("/v3/", "/_admin/wechatpay/")

    def __init__(self, ctx):
        self.lock = threading.Lock()
        self.store = ctx.store(NAME)
        state = self.store.load({})
        self.platform = state.get("platform")          # {"privateKeyPem", "serial"}, made on first need
        self._platform_key = None
        self.merchants = state.get("merchants", {})    # mchid -> settings
        self.orders = state.get("orders", {})          # "mchid/out_trade_no" -> order
        self.refunds = state.get("refunds", {})        # "mchid/out_refund_no" -> refund
        self.requests = state.get("requests", [])
        self.outbox = Outbox(self.lock, self._save, self._render, lambda r: r["status"] in (200, 204))
        self.outbox.items = state.get("notifications", [])
        self.nonces = {}                               # (mchid, nonce) -> unix seconds first seen
        self._keys = {}                                # mchid -> loaded public key
        self.api = Router([
            ("POST", "/v3/pay/transactions/native", self.create_native),
            ("GET", "/v3/pay/transactions/out-trade-no/{no}", self.query_by_out_trade_no),
            ("GET", "/v3/pay/transactions/id/{id}", self.query_by_transaction_id),
            ("POST", "/v3/pay/transactions/out-trade-no/{no}/close", self.close),
            ("POST", "/v3/refund/domestic/refunds", self.create_refund),
            ("GET", "/v3/refund/domestic/refunds/{no}", self.query_refund),
        ])
        self.admin = Router([
            ("POST", "/_admin/wechatpay/merchants", self.admin_merchant),
            ("GET", "/_admin/wechatpay/platform", self.admin_platform),
            ("POST", "/_admin/wechatpay/transactions/{no}/pay", self.admin_pay),
            ("POST", "/_admin/wechatpay/refunds/{no}/settle", self.admin_settle),
            ("GET", "/_admin/wechatpay/notifications", self.admin_notifications),
            ("POST", "/_admin/wechatpay/notifications/{id}/resend", self.admin_resend),
            ("GET", "/_admin/wechatpay/requests", self.admin_requests),
        ])

    def reset(self):
        """Forget merchants, orders, refunds, notifications and requests. The
        platform key stays: it is WeChat's own, not a merchant's."""
        with self.lock:
            self.merchants.clear()
            self.orders.clear()
            self.refunds.clear()
            self.requests.clear()
            self.outbox.items.clear()
            self.nonces.clear()
            self._keys.clear()
            self._save()

    def _save(self):
        self.store.save({
            "platform": self.platform, "merchants": self.merchants, "orders": self.orders,
            "refunds": self.refunds, "notifications": self.outbox.items, "requests": self.requests,
        })

    # --- keys --------------------------------------------------------------

    def _platform(self):
        """The platform key pair (caller holds the lock); generated once, then persisted."""
        if self._platform_key is None:
            if self.platform:
                self._platform_key = RsaKeyPair.from_pem(self.platform["privateKeyPem"])
            else:
                self._platform_key = RsaKeyPair.generate()
                self.platform = {"privateKeyPem": self._platform_key.private_pem(),
                                 "serial": "PUB_KEY_ID_" + random_digits(34)}
                self._save()
        return self._platform_key

    def _platform_info(self):
        key = self._platform()
        return {"platformSerial": self.platform["serial"], "platformPublicKeyPem": key.public_pem()}

    def _merchant_key(self, mchid):
        if mchid not in self._keys:
            self._keys[mchid] = load_rsa_public_key(self.merchants[mchid]["publicKeyPem"])
        return self._keys[mchid]

    def _signed_headers(self, body, timestamp=None, broken=False):
        """Wechatpay-* headers over `body` (bytes) with the platform key."""
        platform = self._platform()
        ts = str(int(time.time()) if timestamp is None else timestamp)
        nonce = random_string(32)
        message = f"{ts}\n{nonce}\n".encode("utf-8") + body + b"\n"
        if broken:
            message += b"tampered"
        return {
            "Wechatpay-Timestamp": ts, "Wechatpay-Nonce": nonce,
            "Wechatpay-Serial": self.platform["serial"],
            "Wechatpay-Signature": platform.sign(message),
            "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
        }

    # --- provider ----------------------------------------------------------

    def handle(self, req):
        if req.path.startswith("/_admin/"):
            return self.admin.dispatch(req)
        with self.lock:
            mchid, problem = self._authenticate(req)
            if problem:
                resp = wx_error(401, "SIGN_ERROR", problem["message"], **problem.get("extra", {}))
            elif req.method == "POST" and "application/json" not in req.header("content-type", "").lower():
                resp = wx_error(400, "PARAM_ERROR", "Content-Type must be application/json")
            else:
                req.mchid = mchid
                try:
                    resp = self.api.dispatch(req)
                except ApiError as e:
                    resp = wx_error(e.status, e.code, e.message)
            headers = self._signed_headers(resp.body)
            headers["Request-ID"] = str(uuid.uuid4())
            resp.headers.update(headers)
            keep_request(self.requests, req, resp.status, problem is None,
                         problem["message"] if problem else None, mchid=mchid)
            self._save()
        code = ""
        if resp.status >= 400 and resp.body:
            try:
                code = " code=" + json.loads(resp.body).get("code", "")
            except ValueError:
                pass
        req.note = f"verified={str(problem is None).lower()}{code}"
        return resp

    def _authenticate(self, req):
        """(mchid, None) for a correctly signed request, else (mchid or None, problem)."""
        def refuse(message, mchid=None, **extra):
            return mchid, {"message": message, "extra": extra}

        header = req.header("authorization")
        if not header:
            return refuse("Authorization header is missing")
        m = AUTH_RE.match(header.strip())
        if not m:
            return refuse("Authorization must use the WECHATPAY2-SHA256-RSA2048 scheme")
        fields = dict(AUTH_FIELD_RE.findall(m.group(1)))
        for name in ("mchid", "nonce_str", "timestamp", "serial_no", "signature"):
            if not fields.get(name):
                return refuse(f"Authorization lacks {name}")
        mchid = fields["mchid"]
        merchant = self.merchants.get(mchid)
        if merchant is None:
            return refuse(f"mchid {mchid} is not a known merchant")
        if fields["serial_no"] != merchant["serialNo"]:
            return refuse("serial_no does not match the merchant's registered certificate serial", mchid)
        ts = fields["timestamp"]
        if not (ts.isascii() and ts.isdigit() and len(ts) <= 12):
            return refuse("timestamp must be unix seconds", mchid)
        now = time.time()
        if abs(now - int(ts)) > TIMESTAMP_TOLERANCE:
            return refuse("timestamp is more than 5 minutes from the server's clock", mchid)
        nonce = fields["nonce_str"]
        message = f"{req.method}\n{req.target}\n{ts}\n{nonce}\n".encode("utf-8") + req.body + b"\n"
        if not rsa_verify(self._merchant_key(mchid), message, fields["signature"]):
            shown = message.decode("utf-8", errors="replace")
            return refuse("错误的签名，验签失败 (signature does not verify with the merchant's public key)", mchid,
                          detail={"sign_information": {
                              "method": req.method, "url": req.target,
                              "sign_message_length": len(message),
                              "truncated_sign_message": shown[:200],
                          }})
        for key, seen in list(self.nonces.items()):
            if now - seen > NONCE_WINDOW:
                del self.nonces[key]
        if (mchid, nonce) in self.nonces:
            return refuse("nonce_str was already used in the last 5 minutes (replayed request)", mchid)
        self.nonces[(mchid, nonce)] = now
        return mchid, None

    def _body(self, req):
        try:
            data = req.json()
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "PARAM_ERROR", "body is not JSON") from None
        if not isinstance(data, dict):
            raise ApiError(400, "PARAM_ERROR", "body must be a JSON object")
        return data

    def _check_mchid(self, req, value, where="body"):
        if not isinstance(value, str) or not value:
            raise ApiError(400, "PARAM_ERROR", f"mchid is missing from the {where}")
        if value != req.mchid:
            raise ApiError(400, "PARAM_ERROR", "mchid does not match the mchid of the Authorization header")

    def create_native(self, req):
        data = self._body(req)
        self._check_mchid(req, data.get("mchid"))
        merchant = self.merchants[req.mchid]
        appid = data.get("appid")
        if not isinstance(appid, str) or not appid:
            raise ApiError(400, "PARAM_ERROR", "appid is missing")
        description = data.get("description")
        if not isinstance(description, str) or not description.strip() or len(description) > 127:
            raise ApiError(400, "PARAM_ERROR", "description must be 1 to 127 characters")
        no = data.get("out_trade_no")
        if not isinstance(no, str) or not OUT_TRADE_NO_RE.match(no):
            raise ApiError(400, "PARAM_ERROR", "out_trade_no must be 6 to 32 characters of A-Z a-z 0-9 _ - | *")
        notify_url = data.get("notify_url")
        if not is_http_url(notify_url, 256) or "?" in notify_url:
            raise ApiError(400, "PARAM_ERROR", "notify_url must be an http(s) URL of at most 256 characters, without a query")
        amount = data.get("amount")
        if not isinstance(amount, dict):
            raise ApiError(400, "PARAM_ERROR", "amount must be an object")
        total = amount.get("total")
        if not _int(total) or total <= 0:
            raise ApiError(400, "PARAM_ERROR", "amount.total must be a positive integer (fen)")
        if amount.get("currency", "CNY") != "CNY":
            raise ApiError(400, "PARAM_ERROR", "amount.currency must be CNY")
        expires = None
        if "time_expire" in data:
            expires = parse_rfc3339(data["time_expire"])
            if expires is None:
                raise ApiError(400, "PARAM_ERROR", "time_expire must be an RFC 3339 date-time with an offset, "
                                                   "e.g. 2024-06-08T10:34:56+08:00")
            if expires <= time.time():
                raise ApiError(400, "PARAM_ERROR", "time_expire is in the past")
        if appid != merchant["appid"]:
            raise ApiError(400, "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配 (appid does not belong to this mchid)")
        key = f"{req.mchid}/{no}"
        order = self.orders.get(key)
        if order is not None:
            if order["state"] in ("SUCCESS", "REFUND"):
                raise ApiError(400, "ORDERPAID", "该订单已支付 (the order is already paid)")
            if order["state"] == "CLOSED":
                raise ApiError(400, "ORDERCLOSED", "订单已关闭 (the order is closed)")
            if order["request"] != data:
                raise ApiError(400, "INVALID_REQUEST",
                               "商户订单号重复: this out_trade_no was already used with different parameters")
            return json_response(200, {"code_url": order["code_url"]})
        self.orders[key] = {
            "mchid": req.mchid, "appid": appid, "out_trade_no": no, "description": description,
            "notify_url": notify_url, "total": total, "attach": data.get("attach", ""),
            "time_expire": expires, "request": data, "state": "NOTPAY", "createdAt": now_ms(),
            "code_url": "weixin://wxpay/bizpayurl?pr=" + random_string(9),
            "transaction_id": None, "success_time": None, "openid": None,
        }
        return json_response(200, {"code_url": self.orders[key]["code_url"]})

    def _transaction(self, order):
        """A transaction as WeChat shows it (query answer, notification plaintext)."""
        t = {
            "appid": order["appid"], "mchid": order["mchid"], "out_trade_no": order["out_trade_no"],
            "trade_state": order["state"], "trade_state_desc": STATE_DESC[order["state"]],
            "attach": order.get("attach", ""),
            "amount": {"total": order["total"], "currency": "CNY", "payer_currency": "CNY"},
        }
        if order.get("transaction_id"):
            t.update({
                "transaction_id": order["transaction_id"], "trade_type": "NATIVE", "bank_type": "OTHERS",
                "success_time": order["success_time"], "payer": {"openid": order["openid"]},
            })
            t["amount"]["payer_total"] = order["total"]
        return t

    def _order_for_query(self, req, no):
        self._check_mchid(req, req.q("mchid"), "query (?mchid=)")
        order = self.orders.get(f"{req.mchid}/{no}")
        if order is None:
            raise ApiError(404, "ORDER_NOT_EXIST", "订单不存在 (no such order)")
        return order

    def query_by_out_trade_no(self, req):
        return json_response(200, self._transaction(self._order_for_query(req, req.params["no"])))

    def query_by_transaction_id(self, req):
        self._check_mchid(req, req.q("mchid"), "query (?mchid=)")
        for order in self.orders.values():
            if order["mchid"] == req.mchid and order.get("transaction_id") == req.params["id"]:
                return json_response(200, self._transaction(order))
        raise ApiError(404, "ORDER_NOT_EXIST", "订单不存在 (no such order)")

    def close(self, req):
        data = self._body(req)
        self._check_mchid(req, data.get("mchid"))
        order = self.orders.get(f"{req.mchid}/{req.params['no']}")
        if order is None:
            raise ApiError(404, "ORDER_NOT_EXIST", "订单不存在 (no such order)")
        if order["state"] in ("SUCCESS", "REFUND"):
            raise ApiError(400, "ORDERPAID", "该订单已支付 (the order is already paid)")
        order["state"] = "CLOSED"
        return empty_response(204)

    def _refund_view(self, refund):
        r = {
            "refund_id": refund["refund_id"], "out_refund_no": refund["out_refund_no"],
            "transaction_id": refund["transaction_id"], "out_trade_no": refund["out_trade_no"],
            "channel": "ORIGINAL", "user_received_account": "支付用户零钱", "funds_account": "AVAILABLE",
            "status": refund["status"], "create_time": refund["create_time"],
            "amount": {
                "total": refund["total"], "refund": refund["refund"], "payer_total": refund["total"],
                "payer_refund": refund["refund"], "settlement_total": refund["total"],
                "settlement_refund": refund["refund"], "discount_refund": 0, "currency": "CNY",
            },
        }
        if refund.get("success_time"):
            r["success_time"] = refund["success_time"]
        return r

    def create_refund(self, req):
        data = self._body(req)
        no = data.get("out_refund_no")
        if not isinstance(no, str) or not OUT_REFUND_NO_RE.match(no):
            raise ApiError(400, "PARAM_ERROR", "out_refund_no must be 1 to 64 characters of A-Z a-z 0-9 _ - | * @")
        if "out_trade_no" in data:
            order = self.orders.get(f"{req.mchid}/{data['out_trade_no']}") \
                if isinstance(data["out_trade_no"], str) else None
        elif "transaction_id" in data:
            order = next((o for o in self.orders.values() if o["mchid"] == req.mchid and o.get("transaction_id")
                          and o["transaction_id"] == data["transaction_id"]), None)
        else:
            raise ApiError(400, "PARAM_ERROR", "give out_trade_no or transaction_id")
        reason = data.get("reason")
        if reason is not None and (not isinstance(reason, str) or len(reason) > 80):
            raise ApiError(400, "PARAM_ERROR", "reason must be a string of at most 80 characters")
        notify_url = data.get("notify_url")
        if notify_url is not None and (not is_http_url(notify_url, 256) or "?" in notify_url):
            raise ApiError(400, "PARAM_ERROR", "notify_url must be an http(s) URL of at most 256 characters, without a query")
        amount = data.get("amount")
        if not isinstance(amount, dict):
            raise ApiError(400, "PARAM_ERROR", "amount must be an object")
        refund, total = amount.get("refund"), amount.get("total")
        if not _int(refund) or refund <= 0:
            raise ApiError(400, "PARAM_ERROR", "amount.refund must be a positive integer (fen)")
        if not _int(total) or total <= 0:
            raise ApiError(400, "PARAM_ERROR", "amount.total must be a positive integer (fen)")
        if amount.get("currency") != "CNY":
            raise ApiError(400, "PARAM_ERROR", "amount.currency must be CNY")
        if order is None:
            raise ApiError(404, "RESOURCE_NOT_EXISTS", "订单不存在 (no such order)")
        existing = self.refunds.get(f"{req.mchid}/{no}")
        if existing is not None:
            if existing["out_trade_no"] != order["out_trade_no"] or existing["refund"] != refund:
                raise ApiError(400, "INVALID_REQUEST",
                               "this out_refund_no was already used for another order or amount")
            return json_response(200, self._refund_view(existing))
        if order["state"] not in ("SUCCESS", "REFUND"):
            raise ApiError(400, "INVALID_REQUEST", "订单状态不正确 (the order is not paid)")
        if total != order["total"]:
            raise ApiError(400, "INVALID_REQUEST", "amount.total does not match the order's total")
        refunded = sum(r["refund"] for r in self.refunds.values()
                       if r["mchid"] == req.mchid and r["out_trade_no"] == order["out_trade_no"])
        if refunded + refund > order["total"]:
            raise ApiError(400, "NOT_ENOUGH", f"退款金额超过订单可退金额 (already refunded {refunded} of "
                                              f"{order['total']} fen; {refund} more is too much)")
        record = {
            "mchid": req.mchid, "out_refund_no": no, "refund_id": "50" + random_digits(27),
            "out_trade_no": order["out_trade_no"], "transaction_id": order["transaction_id"],
            "reason": reason, "notify_url": notify_url, "refund": refund, "total": order["total"],
            "status": "PROCESSING", "create_time": rfc3339(), "success_time": None,
        }
        self.refunds[f"{req.mchid}/{no}"] = record
        order["state"] = "REFUND"
        return json_response(200, self._refund_view(record))

    def query_refund(self, req):
        refund = self.refunds.get(f"{req.mchid}/{req.params['no']}")
        if refund is None:
            raise ApiError(404, "RESOURCE_NOT_EXISTS", "退款单不存在 (no such refund)")
        return json_response(200, self._refund_view(refund))

    # --- notifications -----------------------------------------------------

    def _new_notification(self, mchid, event_type, url, plaintext, associated_data, summary):
        """A stored notification (caller holds the lock)."""
        merchant = self.merchants[mchid]
        plain_text = _dumps(plaintext)
        resource = encrypt_resource(merchant["apiV3Key"], plain_text, associated_data)
        resource["original_type"] = associated_data
        body = {
            "id": str(uuid.uuid4()), "create_time": rfc3339(), "resource_type": "encrypt-resource",
            "event_type": event_type, "summary": summary, "resource": resource,
        }
        note = {
            "id": body["id"], "type": event_type, "url": url, "createdAt": now_ms(),
            "body": _dumps(body), "data": body, "plaintext": plaintext, "_mchid": mchid,
        }
        self.outbox.add(note)
        return note

    def _render(self, note, tamper):
        body = note["body"]
        if tamper == "amount":
            plaintext = copy.deepcopy(note["plaintext"])
            amount = plaintext["amount"]
            # The amount the event is about: the refund of a refund, else the order total.
            for k in (("refund", "payer_refund") if "refund" in amount else ("total", "payer_total")):
                if k in amount:
                    amount[k] += 1
            data = copy.deepcopy(note["data"])
            merchant = self.merchants.get(note["_mchid"], {})
            resource = encrypt_resource(merchant.get("apiV3Key", "0" * 32), _dumps(plaintext),
                                        data["resource"]["associated_data"])
            resource["original_type"] = data["resource"]["original_type"]
            data["resource"] = resource
            body = _dumps(data)
        raw = body.encode("utf-8")
        ts = int(time.time()) - (STALE_SECONDS if tamper == "stale" else 0)
        headers = {"Content-Type": "application/json", "User-Agent": "Mozilla/4.0"}
        headers.update(self._signed_headers(raw, ts, broken=(tamper == "signature")))
        return headers, raw

    # --- admin -------------------------------------------------------------

    def admin_merchant(self, req):
        data, err = parse_admin_json(req)
        if err:
            return err
        mchid, appid, serial = data.get("mchid"), data.get("appid"), data.get("serialNo")
        api_v3_key = data.get("apiV3Key")
        if isinstance(api_v3_key, str):
            req.secrets.add(api_v3_key)
        if not isinstance(mchid, str) or not ID_RE.match(mchid):
            return error(400, "mchid: 1 to 32 letters or digits")
        if not isinstance(appid, str) or not ID_RE.match(appid):
            return error(400, "appid: 1 to 32 letters or digits")
        if not isinstance(serial, str) or not SERIAL_RE.match(serial):
            return error(400, "serialNo: 1 to 64 letters, digits or _ (the merchant certificate's serial)")
        if not isinstance(api_v3_key, str) or len(api_v3_key.encode("utf-8")) != 32:
            return error(400, "apiV3Key must be exactly 32 bytes")
        try:
            key = load_rsa_public_key(data.get("publicKeyPem"))
        except ValueError as e:
            return error(400, f"publicKeyPem: {e}")
        with self.lock:
            self.merchants[mchid] = {"appid": appid, "serialNo": serial, "publicKeyPem": public_key_pem(key),
                                     "apiV3Key": api_v3_key}
            self._keys[mchid] = key
            info = self._platform_info()
            self._save()
        return json_response(201, info)

    def admin_platform(self, req):
        with self.lock:
            return json_response(200, self._platform_info())

    def _find_order(self, req, no):
        matches = [o for o in self.orders.values()
                   if o["out_trade_no"] == no and (req.q("mchid") is None or o["mchid"] == req.q("mchid"))]
        if not matches:
            return None, error(404, "no such order")
        if len(matches) > 1:
            return None, error(409, "several merchants have this out_trade_no: add ?mchid=")
        return matches[0], None

    def admin_pay(self, req):
        data, err = parse_optional_admin_json(req)
        if err:
            return err
        opts, err = parse_trigger_options(data)
        if err:
            return err
        with self.lock:
            order, err = self._find_order(req, req.params["no"])
            if err:
                return err
            if order["state"] != "NOTPAY":
                return error(409, f"the order is {order['state']}, not NOTPAY")
            if order.get("time_expire") and order["time_expire"] <= time.time():
                return error(409, "the order expired (time_expire has passed)")
            order.update(state="SUCCESS", transaction_id="420000" + random_digits(4)
                         + time.strftime("%Y%m%d", time.gmtime()) + random_digits(10),
                         success_time=rfc3339(), openid="o" + random_string(27))
            note = self._new_notification(order["mchid"], "TRANSACTION.SUCCESS", order["notify_url"],
                                          self._transaction(order), "transaction", "支付成功")
            self._save()
        return self.outbox.answer(note, opts)

    def admin_settle(self, req):
        data, err = parse_optional_admin_json(req)
        if err:
            return err
        opts, err = parse_trigger_options(data)
        if err:
            return err
        with self.lock:
            matches = [r for r in self.refunds.values() if r["out_refund_no"] == req.params["no"]
                       and (req.q("mchid") is None or r["mchid"] == req.q("mchid"))]
            if len(matches) != 1:
                return error(404 if not matches else 409,
                             "no such refund" if not matches else "several merchants have this out_refund_no: add ?mchid=")
            refund = matches[0]
            if refund["status"] != "PROCESSING":
                return error(409, f"the refund is {refund['status']}, not PROCESSING")
            refund.update(status="SUCCESS", success_time=rfc3339())
            note = None
            if refund.get("notify_url"):
                plaintext = {
                    "mchid": refund["mchid"], "out_trade_no": refund["out_trade_no"],
                    "transaction_id": refund["transaction_id"], "out_refund_no": refund["out_refund_no"],
                    "refund_id": refund["refund_id"], "refund_status": "SUCCESS",
                    "success_time": refund["success_time"], "user_received_account": "支付用户零钱",
                    "amount": {"total": refund["total"], "refund": refund["refund"],
                               "payer_total": refund["total"], "payer_refund": refund["refund"]},
                }
                note = self._new_notification(refund["mchid"], "REFUND.SUCCESS", refund["notify_url"],
                                              plaintext, "refund", "退款成功")
            self._save()
        return self.outbox.answer(note, opts)



