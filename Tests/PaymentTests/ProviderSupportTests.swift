import Foundation
import HTTPClient
@testable import Payment
import Testing

@Suite("Payment providers: shared pieces")
struct ProviderSupportTests {
    @Test("minor units format as yuan with exactly two decimals")
    func formatYuan() {
        #expect(DecimalAmount.format(minorUnits: 1) == "0.01")
        #expect(DecimalAmount.format(minorUnits: 10) == "0.10")
        #expect(DecimalAmount.format(minorUnits: 100) == "1.00")
        #expect(DecimalAmount.format(minorUnits: 12345) == "123.45")
        #expect(DecimalAmount.format(minorUnits: 0) == "0.00")
        #expect(DecimalAmount.format(minorUnits: 9_007_199_254_740_993) == "90071992547409.93")
        #expect(DecimalAmount.format(minorUnits: -1) == nil)
        #expect(DecimalAmount.format(minorUnits: 500, decimals: 0) == "500")
    }

    @Test("yuan parse to minor units without floating point; signs, exponents, a third decimal and junk are refused")
    func parseYuan() {
        #expect(DecimalAmount.parse("100") == 10000)
        #expect(DecimalAmount.parse("0.1") == 10)
        #expect(DecimalAmount.parse("0.01") == 1)
        #expect(DecimalAmount.parse("123.45") == 12345)
        #expect(DecimalAmount.parse("007.50") == 750)
        #expect(DecimalAmount.parse("90071992547409.93") == 9_007_199_254_740_993)
        for text in ["1.234", "-1", "+1", "abc", "", ".5", "1.", "1e2", " 1", "1,00", "1.2.3", "１", "99999999999999999999"] {
            #expect(DecimalAmount.parse(text) == nil, "\(text)")
        }
    }

    @Test("form bodies decode in order with + as space and percent escapes; broken escapes and non-UTF-8 are refused")
    func formDecoding() throws {
        let pairs = try #require(FormCoding.decode(Array("a=1&b=x+y%2Bz&c=&d&e=%E4%BD%A0%E5%A5%BD".utf8)))
        #expect(pairs.map(\.key) == ["a", "b", "c", "d", "e"])
        #expect(pairs.map(\.value) == ["1", "x y+z", "", "", "你好"])
        #expect(FormCoding.decode(Array("a=%2".utf8)) == nil)
        #expect(FormCoding.decode(Array("a=%zz".utf8)) == nil)
        #expect(FormCoding.decode(Array("a=%FF".utf8)) == nil)
    }

    @Test("form encoding keeps unreserved characters and escapes the rest, UTF-8 byte by byte")
    func formEncoding() {
        #expect(FormCoding.encode([("a b", "x&y=z"), ("k", "你"), ("u", "A-Z_a.z~0")]) == "a%20b=x%26y%3Dz&k=%E4%BD%A0&u=A-Z_a.z~0")
    }

    @Test("headers are found whatever their case; the first of a repeated name wins")
    func headers() {
        let headers = ProviderHeaders([("Stripe-Signature", "one"), ("stripe-signature", "two"), ("X", "y")])
        #expect(headers["STRIPE-SIGNATURE"] == "one")
        #expect(headers["x"] == "y")
        #expect(headers["missing"] == nil)
    }

    @Test("China time is UTC+8 in Alipay's and WeChat Pay's formats, and reads back")
    func chinaTime() {
        #expect(ChinaTime.alipayString(fixedNow) == "2026-11-22 17:30:00")
        #expect(ChinaTime.rfc3339String(fixedNow) == "2026-11-22T17:30:00+08:00")
        #expect(ChinaTime.parseAlipay("2026-11-22 17:30:00") == fixedNow)
        #expect(ChinaTime.parseRFC3339("2026-11-22T17:30:00+08:00") == fixedNow)
        #expect(ChinaTime.parseRFC3339("2026-11-22T09:30:00Z") == fixedNow)
        #expect(ChinaTime.parseAlipay("2026-02-30 10:00:00") == nil)
        #expect(ChinaTime.parseAlipay("yesterday") == nil)
    }

    @Test("error codes are stable; only provider_unavailable is retryable; a rejection keeps the provider's code in details")
    func errorCodes() {
        let cases: [(PaymentProviderError, String)] = [
            (.signatureInvalid("x"), "payment.signature_invalid"),
            (.callbackMisaddressed("x"), "payment.callback_misaddressed"),
            (.callbackStale, "payment.callback_stale"),
            (.callbackMalformed("x"), "payment.callback_malformed"),
            (.providerRejected(code: "ORDERPAID", message: "paid"), "payment.provider_rejected"),
            (.providerUnavailable("x"), "payment.provider_unavailable"),
            (.providerResponseInvalid("x"), "payment.provider_response_invalid"),
            (.invalidRequest("x"), "payment.invalid_request"),
            (.misconfigured("x"), "payment.provider_misconfigured"),
        ]
        for (error, code) in cases {
            #expect(error.code == code)
            #expect(error.conveneError.code == code)
            #expect(error.conveneError.retryable == (code == "payment.provider_unavailable"))
        }
        #expect(PaymentProviderError.providerRejected(code: "ORDERPAID", message: "paid").conveneError.details == ["providerCode": "ORDERPAID"])
    }

    @Test("transport failures: timeouts and refused connections are transient, a refused address or bad URL is configuration")
    func transportMapping() {
        #expect(PaymentProviderError.transport(HTTPClientError.timedOut).isTransient)
        #expect(PaymentProviderError.transport(HTTPClientError.connectFailed("refused")).isTransient)
        #expect(PaymentProviderError.transport(HTTPClientError.transport(code: 56, message: "reset")).isTransient)
        #expect(PaymentProviderError.transport(CancellationError()).isTransient)
        #expect(PaymentProviderError.transport(HTTPClientError.invalidURL).code == "payment.provider_misconfigured")
        #expect(PaymentProviderError.transport(HTTPClientError.addressRefused("10.0.0.1")).code == "payment.provider_misconfigured")
        #expect(PaymentProviderError.transport(HTTPClientError.responseTooLarge(limit: 1)).code == "payment.provider_response_invalid")
    }
}

@Suite("Payment providers: secrets stay out of descriptions")
struct RedactionTests {
    @Test("printing or dumping a configuration or an adapter shows no key, secret or PEM")
    func noSecretsShown() throws {
        let client = RecordingHTTPClient { _ in HTTPResponse(status: 500) }
        let wechat = WeChatFixture.configuration()
        let alipay = AlipayFixture.configuration()
        let stripe = StripeConfiguration(apiURL: "https://stripe.test", secretKey: StripeFixture.secretKey,
                                         webhookSecret: StripeFixture.webhookSecret, successURL: "https://x.test/ok",
                                         cancelURL: "https://x.test/no")
        let values: [Any] = [wechat, try WeChatPay(configuration: wechat, client: client), alipay,
                             try Alipay(configuration: alipay, client: client), stripe, try Stripe(configuration: stripe, client: client)]
        let secrets = [WeChatFixture.apiV3Key, "PRIVATE KEY", "PUBLIC KEY", StripeFixture.secretKey, StripeFixture.webhookSecret,
                       String(alipay.alipayPublicKey.prefix(40))]
        for value in values {
            var dumped = ""
            dump(value, to: &dumped)
            for text in ["\(value)", String(reflecting: value), dumped] {
                for secret in secrets {
                    #expect(!text.contains(secret), "\(type(of: value)) shows a secret")
                }
            }
        }
        #expect("\(wechat)".contains(WeChatFixture.mchid))
    }
}
