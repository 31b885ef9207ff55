#!/usr/bin/python3
"""Demo payment accounts for `make run`: a WeChat Pay merchant, an Alipay app and a Stripe account
at the local contract server, with keys made once per stack folder (kept in DIR, mode 600).
Prints the payment service's settings as KEY=VALUE lines (PEM values with \\n escaped):

    demo_payment.py --contracts URL --gateway URL --dir DIR

Needs python3-cryptography (installed with the stack).
"""

import argparse
import json
import os
import secrets
import string
import sys
import urllib.request

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def key(path):
    """The RSA key at path, made on first use."""
    if not os.path.exists(path):
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
            f.write(pem)
    with open(path, "rb") as f:
        return serialization.load_pem_private_key(f.read(), password=None)


def pem(private):
    return private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode()


def public_pem(private):
    return private.public_key().public_bytes(serialization.Encoding.PEM,
                                             serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def stored(path, make):
    """A value kept in path, made on first use (ids and secrets stay the same across runs)."""
    if not os.path.exists(path):
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(make())
    with open(path) as f:
        return f.read().strip()


def post(url, body):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--contracts", required=True)
    parser.add_argument("--gateway", required=True)
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    os.makedirs(args.dir, mode=0o700, exist_ok=True)
    alphabet = string.ascii_letters + string.digits

    def random_text(n):
        return "".join(secrets.choice(alphabet) for _ in range(n))

    merchant = key(os.path.join(args.dir, "wechatpay-merchant.pem"))
    app = key(os.path.join(args.dir, "alipay-app.pem"))
    api_v3 = stored(os.path.join(args.dir, "wechatpay-apiv3-key"), lambda: random_text(32))
    stripe_secret = stored(os.path.join(args.dir, "stripe-secret-key"), lambda: "sk_test_" + random_text(24))
    stripe_webhook = stored(os.path.join(args.dir, "stripe-webhook-secret"), lambda: "whsec_" + random_text(24))

    wechat = post(args.contracts + "/_admin/wechatpay/merchants", {
        "mchid": "1900000001", "appid": "wxdemo0000000001", "serialNo": "DEMO0000000000000001",
        "publicKeyPem": public_pem(merchant), "apiV3Key": api_v3})
    alipay = post(args.contracts + "/_admin/alipay/apps", {"appId": "2021000000000001", "appPublicKeyPem": public_pem(app)})
    post(args.contracts + "/_admin/stripe/accounts", {
        "secretKey": stripe_secret, "webhookSecret": stripe_webhook,
        "webhookUrl": args.gateway + "/v1/payments/callbacks/stripe"})

    settings = {
        "PAYMENT_PUBLIC_URL": args.gateway,
        "WECHATPAY_URL": args.contracts, "WECHATPAY_MCHID": "1900000001", "WECHATPAY_APPID": "wxdemo0000000001",
        "WECHATPAY_SERIAL_NO": "DEMO0000000000000001", "WECHATPAY_PRIVATE_KEY": pem(merchant), "WECHATPAY_APIV3_KEY": api_v3,
        "WECHATPAY_PLATFORM_SERIAL": wechat["platformSerial"], "WECHATPAY_PLATFORM_PUBLIC_KEY": wechat["platformPublicKeyPem"],
        "ALIPAY_GATEWAY_URL": args.contracts + "/gateway.do", "ALIPAY_APP_ID": "2021000000000001",
        "ALIPAY_PRIVATE_KEY": pem(app), "ALIPAY_PUBLIC_KEY": alipay["alipayPublicKeyPem"],
        "STRIPE_URL": args.contracts + "/stripe", "STRIPE_SECRET_KEY": stripe_secret, "STRIPE_WEBHOOK_SECRET": stripe_webhook,
        "BANK_ACCOUNT_NAME": "Convene 演示学会", "BANK_NAME": "中国工商银行北京海淀支行", "BANK_ACCOUNT_NUMBER": "0200 0049 0920 0000 000",
    }
    for name, value in settings.items():
        sys.stdout.write(f"{name}={value}\0")


if __name__ == "__main__":
    main()
