"""Alipay open platform (支付宝开放平台) gateway stand-in: QR (precreate) and PC page
payments, queries, closing, refunds, and RSA2-signed async notifications.

Provider API (production gateway https://openapi.alipay.com/gateway.do):
  POST /gateway.do   parameters form-encoded in the body and/or the query string
  GET  /gateway.do   the same in the query string (how a browser opens page pay)
Common parameters app_id, method, format=JSON, charset=utf-8, sign_type=RSA2,
timestamp ("yyyy-MM-dd HH:mm:ss", Beijing time, within 15 minutes), version=1.0,
biz_content (JSON) and sign: base64(SHA256withRSA) of every non-empty parameter but
`sign`, sorted by name, joined "k=v&k=v" (raw values), by the app's private key.
Answers are HTTP 200 {"<method with _>_response": {...}, "sign": "..."}; the sign
is over the exact text of the inner object, by the Alipay key.

Methods: alipay.trade.precreate, alipay.trade.page.pay (HTML cashier page),
alipay.trade.query, alipay.trade.close, alipay.trade.refund,
alipay.trade.fastpay.refund.query.

Admin API:
  POST /_admin/alipay/apps  {"appId", "appPublicKeyPem"} -> 201 {"alipayPublicKeyPem"}
  GET  /_admin/alipay/key   -> {"alipayPublicKeyPem"}
  POST /_admin/alipay/trades/{out_trade_no}/pay           {"notify","tamper","times"} (all optional)
  GET  /_admin/alipay/notifications
  POST /_admin/alipay/notifications/{id}/resend           {"tamper"?, "times"?}
  GET  /_admin/alipay/requests
"""

import datetime
import decimal
import html
import json
import re
import secrets
import threading
import time
import urllib.parse

from common import (Outbox, PaymentAdmin, Response, Router, RsaKeyPair, error, is_http_url, json_response,
                    keep_request, load_rsa_public_key, now_ms, parse_admin_json,
                    parse_optional_admin_json, parse_trigger_options, public_key_pem,
                    random_digits, random_string, rsa_verify)

NAME = "alipay"

TIMESTAMP_TOLERANCE = 15 * 60       # seconds between the request's timestamp and the gateway's clock
STALE_SECONDS = 600                 # tamper "stale": notify_time 10 minutes in the past
CHINA = datetime.timezone(datetime.timedelta(hours=8))
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

APP_ID_RE = re.compile(r"^[A-Za-z0-9]{1,32}$")
OUT_TRADE_NO_RE = re.compile(r"^[A-Za-z0-9_]{1,64}$")
OUT_REQUEST_NO_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
AMOUNT_RE = re.compile(r"^\d{1,9}(\.\d{1,2})?$")
TIMEOUT_RE = re.compile(r"^(\d{1,4})([mhdc])$")
CENT = decimal.Decimal("0.01")
MAX_AMOUNT = decimal.Decimal("100000000")

METHODS = ("alipay.trade.precreate", "alipay.trade.page.pay", "alipay.trade.query", "alipay.trade.close",
           "alipay.trade.refund", "alipay.trade.fastpay.refund.query")
MESSAGES = {"10000": "Success", "40001": "Missing Required Arguments", "40002": "Invalid Arguments",
            "40004": "Business Failed"}


class AliError(Exception):
    def __init__(self, code, sub_code, sub_msg):
        super().__init__(sub_msg)
        self.code, self.sub_code, self.sub_msg = code, sub_code, sub_msg


def beijing_time(t=None):
    t = time.time() if t is None else t
    return datetime.datetime.fromtimestamp(int(t), CHINA).strftime(TIME_FORMAT)


def parse_amount(value):
    """A Decimal of a yuan amount (string or number, at most 2 decimals, 0.01 to
    100000000), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        value = repr(value)
    if not isinstance(value, str) or not AMOUNT_RE.match(value):
        return None
    amount = decimal.Decimal(value)
    if amount < CENT or amount > MAX_AMOUNT:
        return None
    return amount.quantize(CENT)


def yuan(amount):
    return f"{decimal.Decimal(amount).quantize(CENT):.2f}"


def sign_content(params, exclude=("sign",)):
    """The string Alipay signs: non-empty parameters but `exclude`, sorted, k=v joined by &."""
    return "&".join(f"{k}={params[k]}" for k in sorted(params)
                    if k not in exclude and params[k] is not None and params[k] != "")


def _invalid(sub_msg):
    return AliError("40002", "isv.invalid-parameter", sub_msg)


class Module(PaymentAdmin):
    name = NAME
    prefixes = ("/gateway.do", "/_admin/alipay/")

    def __init__(self, ctx):
        self.lock = threading.Lock()
        self.store = ctx.store(NAME)
        state = self.store.load({})
        self.key_state = state.get("alipayKey")        # {"privateKeyPem"}, made on first need
        self._key = None
        self.apps = state.get("apps", {})              # appId -> {"publicKeyPem"}
        self.trades = state.get("trades", {})          # "appId/out_trade_no" -> trade
        self.requests = state.get("requests", [])
        self.outbox = Outbox(self.lock, self._save, self._render,
                             lambda r: r["status"] == 200 and r["body"] == "success")
        self.outbox.items = state.get("notifications", [])
        self._app_keys = {}
        self.admin = Router([
            ("POST", "/_admin/alipay/apps", self.admin_app),
            ("GET", "/_admin/alipay/key", self.admin_key),
            ("POST", "/_admin/alipay/trades/{no}/pay", self.admin_pay),
            ("GET", "/_admin/alipay/notifications", self.admin_notifications),
            ("POST", "/_admin/alipay/notifications/{id}/resend", self.admin_resend),
            ("GET", "/_admin/alipay/requests", self.admin_requests),
        ])
        self.methods = {
            "alipay.trade.precreate": self.precreate,
            "alipay.trade.page.pay": self.page_pay,
            "alipay.trade.query": self.query,
            "alipay.trade.close": self.close,
            "alipay.trade.refund": self.refund,
            "alipay.trade.fastpay.refund.query": self.refund_query,
        }

    def reset(self):
        """Forget apps, trades, notifications and requests; the Alipay key pair stays."""
        with self.lock:
            self.apps.clear()
            self.trades.clear()
            self.requests.clear()
            self.outbox.items.clear()
            self._app_keys.clear()
            self._save()

    def _save(self):
        self.store.save({"alipayKey": self.key_state, "apps": self.apps, "trades": self.trades,
                         "notifications": self.outbox.items, "requests": self.requests})

    def _alipay_key(self):
        if self._key is None:
            if self.key_state:
                self._key = RsaKeyPair.from_pem(self.key_state["privateKeyPem"])
            else:
                self._key = RsaKeyPair.generate()
                self.key_state = {"privateKeyPem": self._key.private_pem()}
                self._save()
        return self._key

    def _app_key(self, app_id):
        if app_id not in self._app_keys:
            self._app_keys[app_id] = load_rsa_public_key(self.apps[app_id]["publicKeyPem"])
        return self._app_keys[app_id]

    # --- gateway -----------------------------------------------------------

    @staticmethod
    def _params(req):
        """The request's parameters: the query string, then a form body (which wins)."""
        pairs = urllib.parse.parse_qsl(req.raw_query, keep_blank_values=True, errors="replace")
        ctype = req.header("content-type", "").lower()
        if req.method == "POST" and req.body and (not ctype or "application/x-www-form-urlencoded" in ctype):
            pairs += urllib.parse.parse_qsl(req.body.decode("utf-8", errors="replace"), keep_blank_values=True)
        return dict(pairs)

    def handle(self, req):
        if req.path.startswith("/_admin/"):
            return self.admin.dispatch(req)
        if req.path != "/gateway.do":
            return error(404, "no such endpoint")
        if req.method not in ("GET", "POST"):
            return error(405, "method not allowed", allowed=["GET", "POST"])
        params = self._params(req)
        method = params.get("method") or ""
        req.verified = False
        with self.lock:
            try:
                resp = self._gateway(req, params)
                outcome = getattr(resp, "note", "")
            except AliError as e:
                outcome = f"code={e.code} sub_code={e.sub_code}"
                if method == "alipay.trade.page.pay":
                    resp = self._error_page(e)
                else:
                    key = method.replace(".", "_") + "_response" if method in METHODS else "error_response"
                    resp = self._answer(key, {"code": e.code, "msg": MESSAGES[e.code],
                                              "sub_code": e.sub_code, "sub_msg": e.sub_msg})
                problem = None if req.verified else e.sub_msg
            else:
                problem = None
            keep_request(self.requests, req, resp.status, req.verified, problem, apiMethod=method,
                         appId=params.get("app_id"))
            self._save()
        req.note = f"method={method or '-'} verified={str(req.verified).lower()} {outcome}"
        return resp

    def _answer(self, key, inner, note="code=10000"):
        """The JSON answer, signed over the exact text of the inner object."""
        inner_text = json.dumps(inner, ensure_ascii=False, separators=(",", ":"))
        sign = self._alipay_key().sign(inner_text.encode("utf-8"))
        body = '{"' + key + '":' + inner_text + ',"sign":"' + sign + '"}'
        resp = Response(200, body.encode("utf-8"), "application/json;charset=utf-8")
        resp.note = note
        return resp

    @staticmethod
    def _error_page(e):
        page = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>支付宝 - 错误</title></head><body>'
                f'<h1>支付宝 Alipay (stand-in): 错误</h1><p>错误代码 <b id="code">{e.code}</b> '
                f'<b id="sub_code">{html.escape(e.sub_code)}</b></p><p id="sub_msg">{html.escape(e.sub_msg)}</p>'
                f'</body></html>')
        return Response(200, page.encode("utf-8"), "text/html;charset=utf-8")

    def _gateway(self, req, params):
        method = params.get("method")
        if not method:
            raise AliError("40001", "isv.missing-method", "缺少方法名参数 (method)")
        if method not in METHODS:
            raise AliError("40002", "isv.invalid-method", f"不存在的方法名 {method} (not modelled by this stand-in)")
        app_id = params.get("app_id")
        if not app_id:
            raise AliError("40001", "isv.missing-app-id", "缺少appId参数 (app_id)")
        if app_id not in self.apps:
            raise AliError("40002", "isv.invalid-app-id", f"无效的AppID参数 (app_id {app_id} is not registered)")
        if params.get("format") not in (None, "JSON", "json"):
            raise AliError("40002", "isv.invalid-format", "无效的数据格式 (format must be JSON)")
        if not params.get("charset"):
            raise AliError("40001", "isv.missing-charset", "缺少字符集参数 (charset)")
        if params["charset"].lower() != "utf-8":
            raise AliError("40002", "isv.invalid-charset", "字符集错误 (this stand-in takes charset=utf-8)")
        if not params.get("sign_type"):
            raise AliError("40001", "isv.missing-signature-type", "缺少签名类型参数 (sign_type)")
        if params["sign_type"] != "RSA2":
            raise AliError("40002", "isv.invalid-signature-type", "无效的签名类型 (sign_type must be RSA2)")
        if not params.get("sign"):
            raise AliError("40001", "isv.missing-signature", "缺少签名参数 (sign)")
        if not params.get("timestamp"):
            raise AliError("40001", "isv.missing-timestamp", "缺少时间戳参数 (timestamp)")
        try:
            ts = datetime.datetime.strptime(params["timestamp"], TIME_FORMAT).replace(tzinfo=CHINA).timestamp()
        except ValueError:
            raise AliError("40002", "isv.invalid-timestamp",
                           "非法的时间戳参数 (timestamp must be yyyy-MM-dd HH:mm:ss, Beijing time)") from None
        if abs(time.time() - ts) > TIMESTAMP_TOLERANCE:
            raise AliError("40002", "isv.invalid-timestamp",
                           "非法的时间戳参数 (timestamp is more than 15 minutes from the gateway's clock; "
                           "it is read as Beijing time, UTC+8)")
        if not params.get("version"):
            raise AliError("40001", "isv.missing-version", "缺少版本参数 (version)")
        if params["version"] != "1.0":
            raise AliError("40002", "isv.invalid-version", "无效的版本 (version must be 1.0)")
        content = sign_content(params)
        if not rsa_verify(self._app_key(app_id), content.encode("utf-8"), params["sign"]):
            raise AliError("40002", "isv.invalid-signature",
                           "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配，网关生成的验签字符串为：" + content)
        req.verified = True
        if params.get("notify_url") and not is_http_url(params["notify_url"], 256):
            raise _invalid("notify_url must be an http(s) URL of at most 256 characters")
        try:
            biz = json.loads(params.get("biz_content") or "")
        except ValueError:
            raise _invalid("biz_content is missing or not JSON") from None
        if not isinstance(biz, dict):
            raise _invalid("biz_content must be a JSON object")
        return self.methods[method](params, biz)

    # --- trades ------------------------------------------------------------

    def _trade(self, app_id, biz, required=True):
        """The trade named by biz_content's out_trade_no or trade_no."""
        no, trade_no = biz.get("out_trade_no"), biz.get("trade_no")
        if not no and not trade_no:
            raise _invalid("give out_trade_no or trade_no")
        if no:
            trade = self.trades.get(f"{app_id}/{no}") if isinstance(no, str) else None
        else:
            trade = next((t for t in self.trades.values() if t["app_id"] == app_id and t["trade_no"] == trade_no), None)
        if trade is None and required:
            raise AliError("40004", "ACQ.TRADE_NOT_EXIST", "交易不存在")
        return trade

    def _new_trade(self, params, biz, kind):
        no = biz.get("out_trade_no")
        if not isinstance(no, str) or not OUT_TRADE_NO_RE.match(no):
            raise _invalid("out_trade_no must be 1 to 64 letters, digits or _")
        amount = parse_amount(biz.get("total_amount"))
        if amount is None:
            raise _invalid("total_amount must be 0.01 to 100000000 yuan with at most 2 decimals")
        subject = biz.get("subject")
        if not isinstance(subject, str) or not subject.strip() or len(subject) > 256:
            raise _invalid("subject must be 1 to 256 characters")
        if any(c in subject for c in "/=&"):
            raise _invalid("subject may not contain / = &")
        timeout = biz.get("timeout_express")
        if timeout is not None:
            m = TIMEOUT_RE.match(timeout) if isinstance(timeout, str) else None
            minutes = int(m.group(1)) * {"m": 1, "h": 60, "d": 1440, "c": 1440}[m.group(2)] if m else 0
            if not 1 <= minutes <= 15 * 1440:
                raise _invalid("timeout_express must be 1m to 15d (e.g. 90m, 2h, 1d, 1c)")
        app_id = params["app_id"]
        trade = self.trades.get(f"{app_id}/{no}")
        if trade is not None:
            if trade["status"] == "TRADE_SUCCESS" or trade["refunds"]:
                raise AliError("40004", "ACQ.TRADE_HAS_SUCCESS", "交易已被支付")
            if trade["status"] == "TRADE_CLOSED":
                raise AliError("40004", "ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
            if trade["total_amount"] != yuan(amount) or trade["subject"] != subject:
                raise AliError("40004", "ACQ.CONTEXT_INCONSISTENT",
                               "交易信息被篡改 (this out_trade_no was used with another amount or subject)")
            if params.get("notify_url"):
                trade["notify_url"] = params["notify_url"]
            return trade
        trade = {
            "app_id": app_id, "out_trade_no": no, "subject": subject, "total_amount": yuan(amount),
            "trade_no": time.strftime("%Y%m%d", time.gmtime(time.time() + 8 * 3600)) + "22001" + random_digits(15),
            "status": "WAIT_BUYER_PAY", "notify_url": params.get("notify_url"), "kind": kind,
            "gmt_create": beijing_time(), "gmt_payment": None, "buyer_id": None, "buyer_logon_id": None,
            "qr_code": "https://qr.alipay.com/" + random_string(22, "abcdefghijklmnopqrstuvwxyz0123456789"),
            "timeout_express": timeout, "return_url": params.get("return_url"), "refunds": {},
        }
        self.trades[f"{app_id}/{no}"] = trade
        return trade

    def precreate(self, params, biz):
        trade = self._new_trade(params, biz, "precreate")
        return self._answer("alipay_trade_precreate_response", {
            "code": "10000", "msg": "Success", "out_trade_no": trade["out_trade_no"], "qr_code": trade["qr_code"]})

    def page_pay(self, params, biz):
        if biz.get("product_code") != "FAST_INSTANT_TRADE_PAY":
            raise _invalid("product_code must be FAST_INSTANT_TRADE_PAY")
        trade = self._new_trade(params, biz, "page")
        e = html.escape
        page = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>支付宝 - 网上支付 安全快速！</title></head>'
                f'<body><h1>支付宝收银台 Alipay cashier (stand-in)</h1>'
                f'<p>商户订单号 out_trade_no: <b id="out_trade_no">{e(trade["out_trade_no"])}</b></p>'
                f'<p>订单名称 subject: <b id="subject">{e(trade["subject"])}</b></p>'
                f'<p>应付金额 total_amount: ¥<b id="total_amount">{trade["total_amount"]}</b></p>'
                f'<p>Pay it with <code>POST /_admin/alipay/trades/{e(trade["out_trade_no"])}/pay</code>.</p>'
                + (f'<p><a href="{e(trade["return_url"])}">return to the merchant</a></p>' if trade["return_url"] else "")
                + '</body></html>')
        resp = Response(200, page.encode("utf-8"), "text/html;charset=utf-8")
        resp.note = "code=10000"
        return resp

    def query(self, params, biz):
        trade = self._trade(params["app_id"], biz)
        inner = {"code": "10000", "msg": "Success", "trade_no": trade["trade_no"],
                 "out_trade_no": trade["out_trade_no"], "trade_status": trade["status"],
                 "total_amount": trade["total_amount"]}
        if trade["gmt_payment"]:
            inner.update(buyer_logon_id=trade["buyer_logon_id"], buyer_user_id=trade["buyer_id"],
                         buyer_pay_amount=trade["total_amount"], receipt_amount=trade["total_amount"],
                         send_pay_date=trade["gmt_payment"])
        return self._answer("alipay_trade_query_response", inner)

    def close(self, params, biz):
        trade = self._trade(params["app_id"], biz)
        if trade["status"] == "TRADE_SUCCESS" or trade["refunds"]:
            raise AliError("40004", "ACQ.TRADE_STATUS_ERROR", "交易状态不合法 (the trade is paid)")
        trade["status"] = "TRADE_CLOSED"
        return self._answer("alipay_trade_close_response", {
            "code": "10000", "msg": "Success", "trade_no": trade["trade_no"], "out_trade_no": trade["out_trade_no"]})

    def refund(self, params, biz):
        trade = self._trade(params["app_id"], biz)
        amount = parse_amount(biz.get("refund_amount"))
        if amount is None:
            raise _invalid("refund_amount must be 0.01 to 100000000 yuan with at most 2 decimals")
        request_no = biz.get("out_request_no", trade["out_trade_no"])
        if not isinstance(request_no, str) or not OUT_REQUEST_NO_RE.match(request_no):
            raise _invalid("out_request_no must be 1 to 64 letters, digits, _ or -")
        reason = biz.get("refund_reason")
        if reason is not None and (not isinstance(reason, str) or len(reason) > 256):
            raise _invalid("refund_reason must be at most 256 characters")
        refunded = sum(decimal.Decimal(r["amount"]) for r in trade["refunds"].values())
        answer = {"code": "10000", "msg": "Success", "trade_no": trade["trade_no"],
                  "out_trade_no": trade["out_trade_no"], "buyer_logon_id": trade["buyer_logon_id"] or ""}
        existing = trade["refunds"].get(request_no)
        if existing is not None:
            if existing["amount"] != yuan(amount):
                raise AliError("40004", "ACQ.INVALID_PARAMETER",
                               "参数无效 (this out_request_no was already used with another refund_amount)")
            answer.update(fund_change="N", refund_fee=yuan(refunded), gmt_refund_pay=existing["gmt"])
            return self._answer("alipay_trade_refund_response", answer)
        if not trade["gmt_payment"]:
            raise AliError("40004", "ACQ.TRADE_STATUS_ERROR", "交易状态不合法 (the trade is not paid)")
        if refunded + amount > decimal.Decimal(trade["total_amount"]):
            raise AliError("40004", "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL",
                           f"退款金额超限 (refunded {yuan(refunded)} of {trade['total_amount']} already)")
        trade["refunds"][request_no] = {"amount": yuan(amount), "reason": reason, "gmt": beijing_time()}
        refunded += amount
        if refunded == decimal.Decimal(trade["total_amount"]):
            trade["status"] = "TRADE_CLOSED"
        answer.update(fund_change="Y", refund_fee=yuan(refunded), gmt_refund_pay=trade["refunds"][request_no]["gmt"])
        return self._answer("alipay_trade_refund_response", answer)

    def refund_query(self, params, biz):
        trade = self._trade(params["app_id"], biz)
        request_no = biz.get("out_request_no")
        if not isinstance(request_no, str) or not request_no:
            raise _invalid("out_request_no is missing")
        answer = {"code": "10000", "msg": "Success", "trade_no": trade["trade_no"],
                  "out_trade_no": trade["out_trade_no"], "out_request_no": request_no}
        refund = trade["refunds"].get(request_no)
        if refund:      # Alipay answers 10000 without refund fields for an unknown refund
            answer.update(total_amount=trade["total_amount"], refund_amount=refund["amount"],
                          refund_status="REFUND_SUCCESS", gmt_refund_pay=refund["gmt"])
        return self._answer("alipay_trade_fastpay_refund_query_response", answer)

    # --- notifications -----------------------------------------------------

    def _notify_params(self, note, tamper):
        params = dict(note["_params"])
        params["notify_time"] = beijing_time(time.time() - (STALE_SECONDS if tamper == "stale" else 0))
        if tamper == "amount":
            more = yuan(decimal.Decimal(params["total_amount"]) + CENT)
            params.update(total_amount=more, receipt_amount=more, buyer_pay_amount=more)
        content = sign_content(params, exclude=("sign", "sign_type"))
        if tamper == "signature":
            content += "&tampered=1"
        params["sign"] = self._alipay_key().sign(content.encode("utf-8"))
        return params

    def _render(self, note, tamper):
        body = urllib.parse.urlencode(self._notify_params(note, tamper)).encode("utf-8")
        return {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                "User-Agent": "Mozilla/4.0"}, body

    def _new_notification(self, trade):
        base = {
            "notify_type": "trade_status_sync", "notify_id": secrets.token_hex(17),
            "app_id": trade["app_id"], "charset": "utf-8", "version": "1.0", "sign_type": "RSA2",
            "trade_no": trade["trade_no"], "out_trade_no": trade["out_trade_no"], "trade_status": trade["status"],
            "total_amount": trade["total_amount"], "receipt_amount": trade["total_amount"],
            "buyer_pay_amount": trade["total_amount"], "subject": trade["subject"], "buyer_id": trade["buyer_id"],
            "gmt_create": trade["gmt_create"], "gmt_payment": trade["gmt_payment"],
        }
        base = {k: v for k, v in base.items() if v is not None}
        note = {"id": base["notify_id"], "type": trade["status"], "url": trade["notify_url"],
                "createdAt": now_ms(), "_params": base}
        first = self._notify_params(note, None)
        note["body"] = urllib.parse.urlencode(first)
        note["data"] = first
        self.outbox.add(note)
        return note

    # --- admin -------------------------------------------------------------

    def admin_app(self, req):
        data, err = parse_admin_json(req)
        if err:
            return err
        app_id = data.get("appId")
        if not isinstance(app_id, str) or not APP_ID_RE.match(app_id):
            return error(400, "appId: 1 to 32 letters or digits (Alipay's are 16 digits)")
        try:
            key = load_rsa_public_key(data.get("appPublicKeyPem"))
        except ValueError as e:
            return error(400, f"appPublicKeyPem: {e}")
        with self.lock:
            self.apps[app_id] = {"publicKeyPem": public_key_pem(key)}
            self._app_keys[app_id] = key
            answer = {"alipayPublicKeyPem": self._alipay_key().public_pem()}
            self._save()
        return json_response(201, answer)

    def admin_key(self, req):
        with self.lock:
            return json_response(200, {"alipayPublicKeyPem": self._alipay_key().public_pem()})

    def admin_pay(self, req):
        data, err = parse_optional_admin_json(req)
        if err:
            return err
        opts, err = parse_trigger_options(data)
        if err:
            return err
        with self.lock:
            matches = [t for t in self.trades.values() if t["out_trade_no"] == req.params["no"]
                       and (req.q("app_id") is None or t["app_id"] == req.q("app_id"))]
            if len(matches) != 1:
                return error(404 if not matches else 409,
                             "no such trade" if not matches else "several apps have this out_trade_no: add ?app_id=")
            trade = matches[0]
            if trade["status"] != "WAIT_BUYER_PAY":
                return error(409, f"the trade is {trade['status']}, not WAIT_BUYER_PAY")
            trade.update(status="TRADE_SUCCESS", gmt_payment=beijing_time(), buyer_id="2088" + random_digits(12),
                         buyer_logon_id="159****" + random_digits(4))
            note = self._new_notification(trade) if trade["notify_url"] else None
            self._save()
        return self.outbox.answer(note, opts)



