import Crypto
import Foundation

/// Stripe's form bodies: nested parameters in bracket notation
/// (`line_items[0][price_data][unit_amount]=…`, `metadata[order]=…`).
enum StripeForm {
    indirect enum Value: Sendable {
        case string(String)
        case object([(String, Value)])
        case array([Value])
    }

    /// The flat `name=value` pairs, in order: objects become `name[key]`, arrays `name[index]`.
    static func flatten(_ parameters: [(String, Value)]) -> [(key: String, value: String)] {
        var pairs: [(key: String, value: String)] = []
        func walk(_ name: String, _ value: Value) {
            switch value {
            case .string(let text): pairs.append((name, text))
            case .object(let members): for (key, member) in members { walk(name.isEmpty ? key : "\(name)[\(key)]", member) }
            case .array(let items): for (index, item) in items.enumerated() { walk("\(name)[\(index)]", item) }
            }
        }
        for (name, value) in parameters { walk(name, value) }
        return pairs
    }

    /// The `application/x-www-form-urlencoded` body. Brackets stay readable in names, as Stripe's
    /// own libraries send them; everything else outside RFC 3986's unreserved set is escaped.
    static func encode(_ parameters: [(String, Value)]) -> String {
        FormCoding.encode(flatten(parameters), keepingBracketsInKeys: true)
    }
}

/// Stripe's webhook signature: `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]`, each
/// `v1` a hex HMAC-SHA256 of `"{t}.{raw body}"` keyed with the endpoint's `whsec_…` secret
/// (its text as it is, not decoded).
enum StripeWebhookSignature {
    static func signature(secret: String, timestamp: Int64, body: [UInt8]) -> String {
        var signed = Array("\(timestamp).".utf8)
        signed += body
        let mac = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Array(secret.utf8)))
        return mac.map { byte in (byte < 16 ? "0" : "") + String(byte, radix: 16) }.joined()
    }

    /// `t` and every `v1` of the header; nil unless it has one numeric `t` and at least one `v1`.
    static func parse(_ header: String) -> (timestamp: Int64, signatures: [String])? {
        var timestamp: Int64?
        var signatures: [String] = []
        for item in header.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let key = parts[0].trimmingCharacters(in: .whitespaces)
            let value = parts[1].trimmingCharacters(in: .whitespaces)
            if key == "t" {
                guard timestamp == nil, let seconds = Int64(value) else { return nil }
                timestamp = seconds
            } else if key == "v1" {
                signatures.append(value)
            }
        }
        guard let timestamp, !signatures.isEmpty else { return nil }
        return (timestamp, signatures)
    }

    /// Throws `signatureInvalid` for a missing or malformed header or no matching `v1`
    /// (compared in constant time), then `callbackStale` when `t` is more than `tolerance` from `now`.
    static func verify(header: String?, body: [UInt8], secret: String, now: Date,
                       tolerance: TimeInterval) throws(PaymentProviderError) {
        guard let header, let parsed = parse(header) else {
            throw .signatureInvalid("the Stripe-Signature header is missing or malformed")
        }
        let expected = Array(signature(secret: secret, timestamp: parsed.timestamp, body: body).utf8)
        var matched = false
        for candidate in parsed.signatures where ConstantTime.equals(Array(candidate.lowercased().utf8), expected) {
            matched = true
        }
        guard matched else { throw .signatureInvalid("no v1 signature matches") }
        guard abs(now.timeIntervalSince1970 - TimeInterval(parsed.timestamp)) <= tolerance else { throw .callbackStale }
    }
}
