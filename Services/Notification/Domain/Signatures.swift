import Crypto
import Foundation

/// Outgoing webhooks signed the Standard Webhooks way, so receivers can use its libraries:
/// `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>` over
/// `{id}.{timestamp}.{body}`.
enum StandardWebhook {
    struct InvalidSecret: Error, CustomStringConvertible {
        var description: String { "a webhook secret is `whsec_` followed by base64 of 24 to 64 random bytes" }
    }

    /// The signing key of a `whsec_…` secret.
    static func key(fromSecret secret: String) throws -> SymmetricKey {
        let encoded = secret.hasPrefix("whsec_") ? String(secret.dropFirst(6)) : secret
        guard let bytes = Data(base64Encoded: encoded), (24...64).contains(bytes.count) else { throw InvalidSecret() }
        return SymmetricKey(data: bytes)
    }

    /// A new secret to hand to the subscriber once.
    static func newSecret() -> String {
        "whsec_" + Data(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }).base64EncodedString()
    }

    static func signature(key: SymmetricKey, id: String, timestamp: Int64, body: [UInt8]) -> String {
        var signed = Array("\(id).\(timestamp).".utf8)
        signed += body
        let mac = HMAC<SHA256>.authenticationCode(for: signed, using: key)
        return "v1," + Data(mac).base64EncodedString()
    }

    static func headers(key: SymmetricKey, id: String, timestamp: Int64, body: [UInt8]) -> [(name: String, value: String)] {
        [("webhook-id", id), ("webhook-timestamp", String(timestamp)),
         ("webhook-signature", signature(key: key, id: id, timestamp: timestamp, body: body))]
    }

    /// What a receiver checks: one of the space-separated signatures matches (constant time)
    /// and the timestamp is within `tolerance` seconds of `now`.
    static func verify(key: SymmetricKey, id: String, timestamp: Int64, signatures: String, body: [UInt8],
                       now: Int64, tolerance: Int64 = 300) -> Bool {
        guard abs(now - timestamp) <= tolerance else { return false }
        var signed = Array("\(id).\(timestamp).".utf8)
        signed += body
        for candidate in signatures.split(separator: " ") where candidate.hasPrefix("v1,") {
            guard let mac = Data(base64Encoded: String(candidate.dropFirst(3))) else { continue }
            if HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: signed, using: key) { return true }
        }
        return false
    }
}

/// DingTalk custom robots with a signing secret take `timestamp` (ms) and
/// `sign = urlencode(base64(HMAC-SHA256(secret, "{timestamp}\n{secret}")))` in the query.
enum DingTalkRobotSignature {
    static func sign(secret: String, timestampMilliseconds: Int64) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(timestampMilliseconds)\n\(secret)".utf8),
                                                 using: SymmetricKey(data: Array(secret.utf8)))
        return Data(mac).base64EncodedString()
    }

    /// The webhook URL with `timestamp` and the URL-encoded `sign` appended.
    static func signedURL(_ webhook: String, secret: String, timestampMilliseconds: Int64) -> String {
        let sign = sign(secret: secret, timestampMilliseconds: timestampMilliseconds)
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let encoded = sign.addingPercentEncoding(withAllowedCharacters: allowed) ?? sign
        let separator = webhook.contains("?") ? "&" : "?"
        return "\(webhook)\(separator)timestamp=\(timestampMilliseconds)&sign=\(encoded)"
    }
}
