"""Stripe API stand-in: Checkout Sessions, refunds and signed webhook events.
(Named stripe_api, not stripe, so that it never shadows the stripe package.)

Provider API (production base URL https://api.stripe.com; here under /stripe,
since /v1/ is Tencent Meeting's too):
  POST /stripe/v1/checkout/sessions              -> 200 checkout.session
  GET  /stripe/v1/checkout/sessions/{id}         -> 200 checkout.session
  POST /stripe/v1/checkout/sessions/{id}/expire  -> 200 checkout.session (open ones only)
  POST /stripe/v1/refunds                        -> 200 refund
  GET  /stripe/v1/refunds/{id}, GET /stripe/v1/payment_intents/{id}
  GET  /stripe/pay/{id}                          the "hosted" checkout page (HTML)
`Authorization: Bearer sk_…` (or Basic with the key as user); form-encoded bodies
with bracket notation; `Idempotency-Key` on POSTs. Errors are
{"error": {"type", "message", "param"?, "code"?}}.

Admin API:
  POST /_admin/stripe/accounts  {"secretKey", "webhookSecret", "webhookUrl"?} -> 201
  POST /_admin/stripe/checkout/sessions/{id}/complete   {"notify","tamper","times"} (all optional)
  POST /_admin/stripe/checkout/sessions/{id}/expire     (same body)
  GET  /_admin/stripe/notifications
  POST /_admin/stripe/notifications/{id}/resend         {"tamper"?, "times"?}
  GET  /_admin/stripe/requests
"""

import base64
import binascii
import copy
import hashlib
import hmac
import html
import json
import re
import threading
import time
import urllib.parse

from common import (Outbox, PaymentAdmin, Response, Router, error, is_http_url, json_response, keep_request,
                    mask, now_ms, parse_admin_json, parse_optional_admin_json,
                    parse_trigger_options, random_string)

NAME = "stripe_api"

API_VERSION = "2024-06-20"
IDEMPOTENCY_WINDOW = 24 * 3600      # seconds a key is remembered
STALE_SECONDS = 600                 # tamper "stale": t is 10 minutes old
EXPIRES_MIN, EXPIRES_MAX = 30 * 60, 24 * 3600
EXPIRES_GRACE = 5                   # seconds of slack on those bounds (clocks, transit)

SECRET_KEY_RE = re.compile(r"^(sk|rk)_(test|live)_[A-Za-z0-9]{8,247}$")
KEY_RE = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
CURRENCY_RE = re.compile(r"^[a-zA-Z]{3}$")

SESSION_PARAMS = {
    "mode", "line_items", "success_url", "cancel_url", "client_reference_id", "metadata", "expires_at",
    "customer_email", "payment_method_types", "locale", "submit_type", "payment_intent_data",
    "billing_address_collection", "allow_promotion_codes", "customer_creation", "expand",
}
REFUND_PARAMS = {"payment_intent", "charge", "amount", "reason", "metadata", "expand"}
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")


class ParamError(Exception):
    def __init__(self, param, message, code="parameter_invalid", status=400):
        super().__init__(message)
        self.param, self.message, self.code, self.status = param, message, code, status


def stripe_error(status, message, type_="invalid_request_error", param=None, code=None):
    err = {"type": type_, "message": message}
    if param:
        err["param"] = param
    if code:
        err["code"] = code
    return json_response(status, {"error": err})


def parse_form(text):
    """A Stripe form body (bracket notation) as nested dicts and lists:
    `line_items[0][price_data][currency]=cny&metadata[registration]=r1`."""
    root = {}
    for key, value in urllib.parse.parse_qsl(text, keep_blank_values=True):
        m = KEY_RE.match(key)
        if not m:
            raise ParamError(key, f"Invalid parameter name: {key}")
        parts = [m.group(1)] + re.findall(r"\[([^\[\]]*)\]", m.group(2))
        node = root
        for i, part in enumerate(parts):
            if part == "":                      # a[]=x: append
                part = str(len(node))
            if i == len(parts) - 1:
                if part in node:
                    raise ParamError(key, f"Received duplicate or conflicting values for {key}")
                node[part] = value
            else:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise ParamError(key, f"Received conflicting values for {key}")
                node = child
    return {k: _listify(v, k) for k, v in root.items()}


def _listify(node, name):
    if not isinstance(node, dict):
        return node
    node = {k: _listify(v, f"{name}[{k}]") for k, v in node.items()}
    if node and all(k.isdigit() for k in node):
        by_index = {int(k): v for k, v in node.items()}
        if sorted(by_index) != list(range(len(by_index))):
            raise ParamError(name, f"Invalid array: the indexes of {name} must run 0, 1, 2, …")
        return [by_index[i] for i in range(len(by_index))]
    return node


def _missing(param):
    return ParamError(param, f"Missing required param: {param}.", "parameter_missing")


def _int_param(value, param, minimum=None, maximum=None):
    if not isinstance(value, str) or not re.match(r"^-?\d{1,18}$", value):
        raise ParamError(param, f"Invalid integer: {value if isinstance(value, str) else '(object)'}",
                         "parameter_invalid_integer")
    n = int(value)
    if minimum is not None and n < minimum:
        raise ParamError(param, f"This value must be greater than or equal to {minimum}.")
    if maximum is not None and n > maximum:
        raise ParamError(param, f"This value must be less than or equal to {maximum}.")
    return n


def _string_param(value, param, max_len=5000):
    if not isinstance(value, str):
        raise ParamError(param, f"Invalid string: {param} must be a string")
    if len(value) > max_len:
        raise ParamError(param, f"Invalid string: must be at most {max_len} characters")
    return value


def _metadata(value, param="metadata"):
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise ParamError(param, "Invalid object: metadata must be a hash (metadata[key]=value)")
    if len(value) > 50:
        raise ParamError(param, "Metadata can have at most 50 keys.")
    out = {}
    for k, v in value.items():
        if not isinstance(v, str):
            raise ParamError(f"{param}[{k}]", "Metadata values must be strings (no nested objects).")
        if len(k) > 40:
            raise ParamError(f"{param}[{k}]", "Metadata keys can be at most 40 characters.")
        if len(v) > 500:
            raise ParamError(f"{param}[{k}]", "Metadata values can be at most 500 characters.")
        if v != "":                         # an empty value unsets the key
            out[k] = v
    return out


def _url(value, param):
    if not is_http_url(value, 5000):
        raise ParamError(param, "Not a valid URL", "url_invalid")
    return value


def _unknown(params, allowed, prefix=""):
    for k in params:
        if k not in allowed:
            name = f"{prefix}[{k}]" if prefix else k
            raise ParamError(name, f"Received unknown parameter: {name}", "parameter_unknown")


def _id(prefix):
    return prefix + random_string(24)


class Module(PaymentAdmin):
    name = NAME
    prefixes = ("/stripe/", "/_admin/stripe/")

    def __init__(self, ctx):
        self.lock = threading.Lock()
        self.store = ctx.store(NAME)
        state = self.store.load({})
        self.accounts = state.get("accounts", {})          # secretKey -> settings + idempotency
        self.sessions = state.get("sessions", {})          # id -> {"account", "object"}
        self.intents = state.get("intents", {})            # pi id -> {"account", "session", "charge", refunds...}
        self.requests = state.get("requests", [])
        self.outbox = Outbox(self.lock, self._save, self._render, lambda r: r["status"] is not None
                             and 200 <= r["status"] < 300)
        self.outbox.items = state.get("notifications", [])
        self.api = Router([
            ("POST", "/stripe/v1/checkout/sessions", self.create_session),
            ("GET", "/stripe/v1/checkout/sessions/{id}", self.get_session),
            ("POST", "/stripe/v1/checkout/sessions/{id}/expire", self.expire_session),
            ("POST", "/stripe/v1/refunds", self.create_refund),
            ("GET", "/stripe/v1/refunds/{id}", self.get_refund),
            ("GET", "/stripe/v1/payment_intents/{id}", self.get_intent),
        ])
        self.pages = Router([("GET", "/stripe/pay/{id}", self.checkout_page)])
        self.admin = Router([
            ("POST", "/_admin/stripe/accounts", self.admin_account),
            ("POST", "/_admin/stripe/checkout/sessions/{id}/complete", self.admin_complete),
            ("POST", "/_admin/stripe/checkout/sessions/{id}/expire", self.admin_expire),
            ("GET", "/_admin/stripe/notifications", self.admin_notifications),
            ("POST", "/_admin/stripe/notifications/{id}/resend", self.admin_resend),
            ("GET", "/_admin/stripe/requests", self.admin_requests),
        ])

    def reset(self):
        with self.lock:
            self.accounts.clear()
            self.sessions.clear()
            self.intents.clear()
            self.requests.clear()
            self.outbox.items.clear()
            self._save()

    def _save(self):
        self.store.save({"accounts": self.accounts, "sessions": self.sessions, "intents": self.intents,
                         "notifications": self.outbox.items, "requests": self.requests})

    # --- API ---------------------------------------------------------------

    def handle(self, req):
        if req.path.startswith("/_admin/"):
            return self.admin.dispatch(req)
        if req.path.startswith("/stripe/pay/"):
            return self.pages.dispatch(req)
        with self.lock:
            key, problem = self._authenticate(req)
            if problem:
                resp = stripe_error(401, problem)
            else:
                req.account_key = key
                resp = self._api(req)
            keep_request(self.requests, req, resp.status, problem is None, problem,
                         account=mask(key) if key else None)
            self._save()
        resp.headers["Request-Id"] = "req_" + random_string(14)
        resp.headers["Stripe-Version"] = API_VERSION
        outcome = ""
        if resp.status >= 400:
            try:
                outcome = " type=" + json.loads(resp.body)["error"]["type"]
            except (ValueError, KeyError, TypeError):
                pass
        replayed = " replayed=true" if resp.headers.get("Idempotent-Replayed") else ""
        req.note = f"verified={str(problem is None).lower()}{outcome}{replayed}"
        return resp

    def _authenticate(self, req):
        header = (req.header("authorization") or "").strip()
        if not header:
            return None, ("You did not provide an API key. You need to provide your API key in the Authorization "
                          "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').")
        scheme, _, value = header.partition(" ")
        key = None
        if scheme.lower() == "bearer":
            key = value.strip()
        elif scheme.lower() == "basic":
            try:
                key = base64.b64decode(value.strip(), validate=True).decode("utf-8").split(":", 1)[0]
            except (binascii.Error, ValueError):
                key = None
        if not key:
            return None, "Invalid Authorization header: use 'Authorization: Bearer YOUR_SECRET_KEY'."
        req.secrets.add(key)
        if key not in self.accounts:
            return None, f"Invalid API Key provided: {mask(key)}"
        return key, None

    def _api(self, req):
        account = self.accounts[req.account_key]
        if req.method == "POST":
            ctype = req.header("content-type", "").lower()
            if req.body and "application/x-www-form-urlencoded" not in ctype:
                return stripe_error(400, "Invalid request: Stripe takes form-encoded bodies "
                                         "(Content-Type: application/x-www-form-urlencoded), not " + (ctype or "none"))
            text = req.body.decode("utf-8", errors="replace")
        else:
            text = req.raw_query
        try:
            req.form = parse_form(text)
        except ParamError as e:
            return stripe_error(e.status, e.message, param=e.param, code=e.code)
        idem = req.header("idempotency-key") if req.method == "POST" else None
        fingerprint = None
        if idem is not None:
            if not idem or len(idem) > 255:
                return stripe_error(400, "Idempotency-Key must be 1 to 255 characters.", "invalid_request_error")
            now = time.time()
            stored = account.setdefault("idempotency", {})
            for k in [k for k, v in stored.items() if now - v["created"] > IDEMPOTENCY_WINDOW]:
                del stored[k]
            fingerprint = json.dumps([req.method, req.path, req.form], sort_keys=True)
            entry = stored.get(idem)
            if entry is not None:
                if entry["fingerprint"] != fingerprint:
                    return stripe_error(400, "Keys for idempotent requests can only be used with the same parameters "
                                             f"they were first used with. Try using a key other than '{idem}' if you "
                                             "meant to execute a different request.", "idempotency_error")
                return Response(entry["status"], entry["body"].encode("utf-8"), "application/json",
                                {"Idempotent-Replayed": "true", "Idempotency-Key": idem})
        try:
            resp = self.api.dispatch(req)
        except ParamError as e:
            resp = stripe_error(e.status, e.message, param=e.param, code=e.code)
        if idem is not None:
            resp.headers["Idempotency-Key"] = idem
            if 200 <= resp.status < 300:    # failed validation is not saved, as at Stripe
                account["idempotency"][idem] = {"fingerprint": fingerprint, "status": resp.status,
                                                "body": resp.body.decode("utf-8"), "created": time.time()}
        return resp

    # sessions

    def create_session(self, req):
        p = req.form
        _unknown(p, SESSION_PARAMS)
        mode = p.get("mode")
        if mode is None:
            raise _missing("mode")
        if mode not in ("payment", "setup", "subscription"):
            raise ParamError("mode", "Invalid mode: must be one of payment, setup, or subscription")
        if mode != "payment":
            raise ParamError("mode", "This stand-in models mode=payment only.")
        items = p.get("line_items")
        if items is None:
            raise ParamError("line_items", "You must provide line_items when mode is payment.", "parameter_missing")
        if not isinstance(items, list) or not items or len(items) > 100:
            raise ParamError("line_items", "Invalid array: line_items takes 1 to 100 items (line_items[0][…])")
        currency, total = None, 0
        for i, item in enumerate(items):
            name = f"line_items[{i}]"
            if not isinstance(item, dict):
                raise ParamError(name, f"Invalid object: {name} must be a hash")
            _unknown(item, {"price_data", "quantity", "price", "adjustable_quantity", "tax_rates"}, name)
            if "price" in item:
                raise ParamError(f"{name}[price]", f"No such price: '{item['price']}' (this stand-in takes price_data)",
                                 "resource_missing")
            pd = item.get("price_data")
            if pd is None:
                raise ParamError(name, f"You must specify either `price` or `price_data` in {name}.", "parameter_missing")
            if not isinstance(pd, dict):
                raise ParamError(f"{name}[price_data]", "Invalid object")
            _unknown(pd, {"currency", "unit_amount", "unit_amount_decimal", "product_data", "product",
                          "tax_behavior"}, f"{name}[price_data]")
            if "recurring" in pd:
                raise ParamError(f"{name}[price_data][recurring]", "recurring prices need mode=subscription")
            cur = pd.get("currency")
            if cur is None:
                raise _missing(f"{name}[price_data][currency]")
            if not isinstance(cur, str) or not CURRENCY_RE.match(cur):
                raise ParamError(f"{name}[price_data][currency]", f"Invalid currency: {cur}")
            cur = cur.lower()
            if currency is not None and cur != currency:
                raise ParamError("line_items", "All line items must use the same currency.")
            currency = cur
            if "unit_amount" not in pd:
                raise _missing(f"{name}[price_data][unit_amount]")
            unit = _int_param(pd["unit_amount"], f"{name}[price_data][unit_amount]", 0, 99999999)
            product = pd.get("product_data")
            if product is None:
                raise ParamError(f"{name}[price_data]", "You must specify either `product` or `product_data` "
                                                        f"in {name}[price_data].", "parameter_missing")
            if not isinstance(product, dict):
                raise ParamError(f"{name}[price_data][product_data]", "Invalid object")
            _unknown(product, {"name", "description", "images", "metadata", "tax_code"}, f"{name}[price_data][product_data]")
            if not product.get("name"):
                raise _missing(f"{name}[price_data][product_data][name]")
            if "quantity" not in item:
                raise _missing(f"{name}[quantity]")
            quantity = _int_param(item["quantity"], f"{name}[quantity]", 1, 999999)
            total += unit * quantity
        if "success_url" not in p:
            raise _missing("success_url")
        success_url = _url(p["success_url"], "success_url")
        cancel_url = _url(p["cancel_url"], "cancel_url") if "cancel_url" in p else None
        ref = _string_param(p["client_reference_id"], "client_reference_id", 200) if "client_reference_id" in p else None
        email = None
        if "customer_email" in p:
            email = _string_param(p["customer_email"], "customer_email", 800)
            if not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", email):
                raise ParamError("customer_email", f"Invalid email address: {email}", "email_invalid")
        metadata = _metadata(p.get("metadata"))
        now = int(time.time())
        expires_at = now + EXPIRES_MAX
        if "expires_at" in p:
            expires_at = _int_param(p["expires_at"], "expires_at")
            if expires_at < now + EXPIRES_MIN - EXPIRES_GRACE:
                raise ParamError("expires_at", "The `expires_at` timestamp must be at least 30 minutes from "
                                               "Checkout Session creation.")
            if expires_at > now + EXPIRES_MAX + EXPIRES_GRACE:
                raise ParamError("expires_at", "The `expires_at` timestamp must be less than 24 hours from "
                                               "Checkout Session creation.")
        methods = p.get("payment_method_types", ["card"])
        if not (isinstance(methods, list) and methods and all(isinstance(m, str) and m for m in methods)):
            raise ParamError("payment_method_types", "Invalid array: payment_method_types[0]=card …")
        intent_data = p.get("payment_intent_data", {})
        if not isinstance(intent_data, dict):
            raise ParamError("payment_intent_data", "Invalid object")
        _unknown(intent_data, {"metadata", "description", "statement_descriptor"}, "payment_intent_data")
        intent_metadata = _metadata(intent_data.get("metadata"), "payment_intent_data[metadata]")
        sid = "cs_test_" + random_string(58)
        session = {
            "id": sid, "object": "checkout.session", "url": f"{req.base_url()}/stripe/pay/{sid}",
            "mode": "payment", "status": "open", "payment_status": "unpaid", "amount_subtotal": total,
            "amount_total": total, "currency": currency, "client_reference_id": ref, "customer_email": email,
            "customer_details": None, "metadata": metadata, "payment_intent": None,
            "payment_method_types": methods, "success_url": success_url, "cancel_url": cancel_url,
            "expires_at": expires_at, "created": now, "livemode": False, "locale": p.get("locale"),
            "ui_mode": "hosted",
        }
        self.sessions[sid] = {"account": req.account_key, "object": session, "intentMetadata": intent_metadata,
                              "description": intent_data.get("description")}
        return json_response(200, session)

    def _session(self, sid, account_key=None):
        entry = self.sessions.get(sid)
        if entry is None or (account_key is not None and entry["account"] != account_key):
            raise ParamError("session", f"No such checkout.session: '{sid}'", "resource_missing", 404)
        self._expire_if_due(entry)
        return entry

    def _expire_if_due(self, entry):
        s = entry["object"]
        if s["status"] == "open" and time.time() >= s["expires_at"]:
            s["status"] = "expired"
            self._event(entry["account"], "checkout.session.expired", s)

    def get_session(self, req):
        return json_response(200, self._session(req.params["id"], req.account_key)["object"])

    def expire_session(self, req):
        entry = self._session(req.params["id"], req.account_key)
        s = entry["object"]
        if s["status"] != "open":
            raise ParamError(None, 'Only Checkout Sessions with a status in ["open"] can be expired. '
                                   f'This Checkout Session has a status of "{s["status"]}".', None)
        s["status"] = "expired"
        self._event(entry["account"], "checkout.session.expired", s)        # queued: see README
        return json_response(200, s)

    # refunds

    def _charge(self, intent):
        refunded = sum(r["amount"] for r in intent["refunds"])
        return {
            "id": intent["charge"], "object": "charge", "amount": intent["amount"], "amount_captured": intent["amount"],
            "amount_refunded": refunded, "currency": intent["currency"], "captured": True, "paid": True,
            "payment_intent": intent["id"], "refunded": refunded == intent["amount"], "status": "succeeded",
            "created": intent["created"], "livemode": False, "metadata": {},
            "refunds": {"object": "list", "data": list(reversed(intent["refunds"])), "has_more": False,
                        "total_count": len(intent["refunds"]), "url": f"/v1/charges/{intent['charge']}/refunds"},
        }

    def _intent_view(self, intent):
        return {"id": intent["id"], "object": "payment_intent", "amount": intent["amount"],
                "amount_received": intent["amount"], "currency": intent["currency"], "status": "succeeded",
                "latest_charge": intent["charge"], "metadata": intent["metadata"],
                "description": intent.get("description"), "created": intent["created"], "livemode": False}

    def create_refund(self, req):
        p = req.form
        _unknown(p, REFUND_PARAMS)
        if "payment_intent" in p:
            intent = self.intents.get(p["payment_intent"]) if isinstance(p["payment_intent"], str) else None
            param = "payment_intent"
        elif "charge" in p:
            intent = next((i for i in self.intents.values() if i["charge"] == p["charge"]), None)
            param = "charge"
        else:
            raise ParamError(None, "One of the following params should be provided for this request: "
                                   "payment_intent or charge.", "parameter_missing")
        if intent is None or intent["account"] != req.account_key:
            raise ParamError(param, f"No such {param}: '{p[param]}'", "resource_missing")
        refunded = sum(r["amount"] for r in intent["refunds"])
        remaining = intent["amount"] - refunded
        amount = _int_param(p["amount"], "amount", 1) if "amount" in p else remaining
        if remaining <= 0:
            raise ParamError(None, f"Charge {intent['charge']} has already been refunded.", "charge_already_refunded")
        if amount > remaining:
            raise ParamError("amount", f"Refund amount ({amount} {intent['currency']}) is greater than unrefunded "
                                       f"amount on charge ({remaining} {intent['currency']})", "amount_too_large")
        reason = p.get("reason")
        if reason is not None and reason not in REFUND_REASONS:
            raise ParamError("reason", "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer")
        refund = {
            "id": _id("re_"), "object": "refund", "amount": amount, "balance_transaction": _id("txn_"),
            "charge": intent["charge"], "created": int(time.time()), "currency": intent["currency"],
            "metadata": _metadata(p.get("metadata")), "payment_intent": intent["id"], "reason": reason,
            "receipt_number": None, "status": "succeeded",
        }
        intent["refunds"].append(refund)
        self._event(intent["account"], "charge.refunded", self._charge(intent))     # queued: see README
        return json_response(200, refund)

    def get_refund(self, req):
        for intent in self.intents.values():
            if intent["account"] == req.account_key:
                for refund in intent["refunds"]:
                    if refund["id"] == req.params["id"]:
                        return json_response(200, refund)
        raise ParamError("id", f"No such refund: '{req.params['id']}'", "resource_missing", 404)

    def get_intent(self, req):
        intent = self.intents.get(req.params["id"])
        if intent is None or intent["account"] != req.account_key:
            raise ParamError("intent", f"No such payment_intent: '{req.params['id']}'", "resource_missing", 404)
        return json_response(200, self._intent_view(intent))

    def checkout_page(self, req):
        with self.lock:
            entry = self.sessions.get(req.params["id"])
            if entry is None:
                return Response(404, b"<!DOCTYPE html><html><body><h1>Something went wrong</h1>"
                                     b"<p>The page you were looking for could not be found.</p></body></html>",
                                "text/html; charset=utf-8")
            self._expire_if_due(entry)
            s = dict(entry["object"])
        amount = f"{s['amount_total'] / 100:.2f} {s['currency'].upper()}"
        page = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>Stripe Checkout (stand-in)</title></head>'
                f'<body><h1>Checkout (stand-in)</h1><p>Session <code id="session">{html.escape(s["id"])}</code></p>'
                f'<p>Pay <b id="amount">{amount}</b></p><p>Status: <b id="status">{s["status"]}</b></p>'
                f'<p>Complete it with <code>POST /_admin/stripe/checkout/sessions/{html.escape(s["id"])}/complete</code>.</p>'
                + (f'<p><a href="{html.escape(s["cancel_url"])}">cancel</a></p>' if s.get("cancel_url") else "")
                + '</body></html>')
        return Response(200, page.encode("utf-8"), "text/html; charset=utf-8")

    # --- events ------------------------------------------------------------

    def _event(self, account_key, event_type, obj):
        """Record an event (caller holds the lock) when the account has a webhook URL;
        None otherwise. Not sent here: triggers and resend send."""
        account = self.accounts.get(account_key)
        if account is None or not account.get("webhookUrl"):
            return None
        event = {
            "id": _id("evt_"), "object": "event", "api_version": API_VERSION, "created": int(time.time()),
            "data": {"object": copy.deepcopy(obj)}, "livemode": False, "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None}, "type": event_type,
        }
        note = {"id": event["id"], "type": event_type, "url": account["webhookUrl"], "createdAt": now_ms(),
                "body": json.dumps(event, indent=2, ensure_ascii=False), "data": event,
                "_secret": account["webhookSecret"]}
        self.outbox.add(note)
        return note

    def _render(self, note, tamper):
        body = note["body"]
        if tamper == "amount":
            event = copy.deepcopy(note["data"])
            obj = event["data"]["object"]
            if obj.get("object") == "charge":
                obj["amount_refunded"] += 1
            else:
                obj["amount_total"] += 1
                obj["amount_subtotal"] += 1
            body = json.dumps(event, indent=2, ensure_ascii=False)
        raw = body.encode("utf-8")
        t = int(time.time()) - (STALE_SECONDS if tamper == "stale" else 0)
        secret = note["_secret"] + ("tampered" if tamper == "signature" else "")
        v1 = hmac.new(secret.encode("utf-8"), f"{t}.".encode("ascii") + raw, hashlib.sha256).hexdigest()
        return {"Content-Type": "application/json; charset=utf-8", "Stripe-Signature": f"t={t},v1={v1}",
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"}, raw

    # --- admin -------------------------------------------------------------

    def admin_account(self, req):
        data, err = parse_admin_json(req)
        if err:
            return err
        key, secret, url = data.get("secretKey"), data.get("webhookSecret"), data.get("webhookUrl")
        for v in (key, secret):
            if isinstance(v, str):
                req.secrets.add(v)
        if not isinstance(key, str) or not SECRET_KEY_RE.match(key):
            return error(400, "secretKey: sk_test_ (or sk_live_, rk_…) followed by at least 8 letters or digits")
        if not isinstance(secret, str) or not re.match(r"^whsec_[A-Za-z0-9+/=_-]{8,}$", secret):
            return error(400, "webhookSecret: whsec_ followed by at least 8 characters")
        if url is not None and not is_http_url(url):
            return error(400, "webhookUrl must be an http(s) URL (or absent: no webhook endpoint)")
        with self.lock:
            old = self.accounts.get(key, {})
            self.accounts[key] = {"webhookSecret": secret, "webhookUrl": url,
                                  "idempotency": old.get("idempotency", {})}
            self._save()
        return json_response(201, {"webhookUrl": url, "apiBase": f"{req.base_url()}/stripe"})

    def _admin_session(self, req):
        entry = self.sessions.get(req.params["id"])
        if entry is None:
            return None, error(404, "no such checkout session")
        self._expire_if_due(entry)
        if entry["object"]["status"] != "open":
            return None, error(409, f"the session is {entry['object']['status']}, not open")
        return entry, None

    def admin_complete(self, req):
        data, err = parse_optional_admin_json(req)
        if err:
            return err
        opts, err = parse_trigger_options(data)
        if err:
            return err
        with self.lock:
            entry, err = self._admin_session(req)
            if err:
                self._save()
                return err
            s = entry["object"]
            pi = _id("pi_")
            self.intents[pi] = {
                "id": pi, "account": entry["account"], "session": s["id"], "charge": _id("ch_"),
                "amount": s["amount_total"], "currency": s["currency"], "created": int(time.time()),
                "metadata": entry.get("intentMetadata", {}), "description": entry.get("description"), "refunds": [],
            }
            s.update(status="complete", payment_status="paid", payment_intent=pi,
                     customer_details={"email": s.get("customer_email") or "buyer@example.com", "name": "Test Buyer"})
            note = self._event(entry["account"], "checkout.session.completed", s)
            self._save()
        return self.outbox.answer(note, opts)

    def admin_expire(self, req):
        data, err = parse_optional_admin_json(req)
        if err:
            return err
        opts, err = parse_trigger_options(data)
        if err:
            return err
        with self.lock:
            entry, err = self._admin_session(req)
            if err:
                self._save()
                return err
            entry["object"]["status"] = "expired"
            note = self._event(entry["account"], "checkout.session.expired", entry["object"])
            self._save()
        return self.outbox.answer(note, opts)



