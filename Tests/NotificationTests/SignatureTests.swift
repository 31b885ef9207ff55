import Crypto
import Foundation
@testable import Notification
import Testing

@Suite("Signatures for outgoing webhooks and robots")
struct SignatureTests {
    @Test("Standard Webhooks signatures match the specification's published example")
    func standardWebhooksVector() throws {
        let key = try StandardWebhook.key(fromSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        let body = Array(#"{"test": 2432232314}"#.utf8)
        let signature = StandardWebhook.signature(key: key, id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: body)
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test("a receiver accepts our signature and refuses a changed body, another secret or a stale timestamp")
    func verification() throws {
        let secret = StandardWebhook.newSecret()
        #expect(secret.hasPrefix("whsec_"))
        let key = try StandardWebhook.key(fromSecret: secret)
        let body = Array(#"{"type":"registration.confirmed"}"#.utf8)
        let headers = StandardWebhook.headers(key: key, id: "msg_1", timestamp: 1_795_339_800, body: body)
        let signature = try #require(headers.first { $0.name == "webhook-signature" }?.value)
        #expect(StandardWebhook.verify(key: key, id: "msg_1", timestamp: 1_795_339_800, signatures: "v1,bogus " + signature,
                                       body: body, now: 1_795_339_860))
        #expect(!StandardWebhook.verify(key: key, id: "msg_1", timestamp: 1_795_339_800, signatures: signature,
                                        body: body + [0x20], now: 1_795_339_860))
        let other = try StandardWebhook.key(fromSecret: StandardWebhook.newSecret())
        #expect(!StandardWebhook.verify(key: other, id: "msg_1", timestamp: 1_795_339_800, signatures: signature,
                                        body: body, now: 1_795_339_860))
        #expect(!StandardWebhook.verify(key: key, id: "msg_1", timestamp: 1_795_339_800, signatures: signature,
                                        body: body, now: 1_795_339_800 + 301))
        #expect(throws: StandardWebhook.InvalidSecret.self) { try StandardWebhook.key(fromSecret: "whsec_short") }
    }

    @Test("DingTalk robot signing matches an independent HMAC and is URL-encoded in the query")
    func dingTalk() {
        // Computed with Python's hmac/base64 for the same inputs.
        #expect(DingTalkRobotSignature.sign(secret: "SEC000", timestampMilliseconds: 1_700_000_000_000)
                == "ltBBey5eZrWKh1cPzFIdz3v3xpkc4Tjx4lLsPSHqdtA=")
        let url = DingTalkRobotSignature.signedURL("https://oapi.dingtalk.com/robot/send?access_token=abc", secret: "SEC000",
                                                   timestampMilliseconds: 1_700_000_000_000)
        #expect(url == "https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1700000000000&sign=ltBBey5eZrWKh1cPzFIdz3v3xpkc4Tjx4lLsPSHqdtA%3D")
    }
}
