import Foundation
import _CryptoExtras

/// Alipay's RSA2: SHA256-with-RSA (PKCS#1 v1.5), base64, over every non-empty parameter except
/// the excluded ones, sorted by name and joined `k=v&k=v` with raw (not URL-encoded) values.
enum AlipaySignature {
    /// The text that is signed. Requests exclude `sign`; notifications exclude `sign` and `sign_type`.
    static func canonical(_ parameters: [(key: String, value: String)], excluding: Set<String> = ["sign"]) -> String {
        parameters
            .filter { !$0.value.isEmpty && !excluding.contains($0.key) }
            .sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
            .map { "\($0.key)=\($0.value)" }
            .joined(separator: "&")
    }

    static func sign(_ parameters: [(key: String, value: String)],
                     with key: _RSA.Signing.PrivateKey) throws(PaymentProviderError) -> String {
        try RSAKeys.sign(Array(canonical(parameters).utf8), with: key)
    }

    /// Whether a notification's parameters carry a valid `sign` (RSA2) from Alipay's key.
    static func verifyNotification(_ parameters: [(key: String, value: String)], with key: _RSA.Signing.PublicKey) -> Bool {
        guard let sign = parameters.first(where: { $0.key == "sign" })?.value, !sign.isEmpty else { return false }
        let text = canonical(parameters, excluding: ["sign", "sign_type"])
        return RSAKeys.isValid(signature: sign, for: Array(text.utf8), with: key)
    }
}

/// Reads the top level of a JSON object without re-serializing anything: each member's value
/// is kept as the exact bytes it has in the body, which is what Alipay signs in its answers.
enum RawJSONObject {
    /// Member name → the raw bytes of its value. Nil when the text is not one object, a member
    /// name repeats, or a value is unbalanced.
    static func members(_ body: [UInt8]) -> [String: ArraySlice<UInt8>]? {
        var index = skipSpace(body, 0)
        guard index < body.count, body[index] == UInt8(ascii: "{") else { return nil }
        index = skipSpace(body, index + 1)
        var members: [String: ArraySlice<UInt8>] = [:]
        if index < body.count, body[index] == UInt8(ascii: "}") {
            return skipSpace(body, index + 1) == body.count ? members : nil
        }
        while true {
            guard index < body.count, body[index] == UInt8(ascii: "\""), let nameEnd = stringEnd(body, index) else { return nil }
            guard let name = try? JSONDecoder().decode(String.self, from: Data(body[index..<nameEnd])) else { return nil }
            index = skipSpace(body, nameEnd)
            guard index < body.count, body[index] == UInt8(ascii: ":") else { return nil }
            let valueStart = skipSpace(body, index + 1)
            guard let valueEnd = valueEnd(body, valueStart), members[name] == nil else { return nil }
            members[name] = body[valueStart..<valueEnd]
            index = skipSpace(body, valueEnd)
            guard index < body.count else { return nil }
            if body[index] == UInt8(ascii: ",") {
                index = skipSpace(body, index + 1)
            } else if body[index] == UInt8(ascii: "}") {
                return skipSpace(body, index + 1) == body.count ? members : nil
            } else {
                return nil
            }
        }
    }

    private static func skipSpace(_ body: [UInt8], _ start: Int) -> Int {
        var index = start
        while index < body.count, [0x20, 0x09, 0x0A, 0x0D].contains(body[index]) { index += 1 }
        return index
    }

    /// The index just past the string starting at `start` (a quote).
    private static func stringEnd(_ body: [UInt8], _ start: Int) -> Int? {
        var index = start + 1
        while index < body.count {
            switch body[index] {
            case UInt8(ascii: "\\"): index += 2
            case UInt8(ascii: "\""): return index + 1
            default: index += 1
            }
        }
        return nil
    }

    /// The index just past the value starting at `start`: a string, a balanced object or array,
    /// or a scalar running to the next `,`, `}`, `]` or space.
    private static func valueEnd(_ body: [UInt8], _ start: Int) -> Int? {
        guard start < body.count else { return nil }
        switch body[start] {
        case UInt8(ascii: "\""):
            return stringEnd(body, start)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var index = start
            while index < body.count {
                switch body[index] {
                case UInt8(ascii: "\""):
                    guard let end = stringEnd(body, index) else { return nil }
                    index = end
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return index + 1 }
                default:
                    break
                }
                index += 1
            }
            return nil
        default:
            var index = start
            while index < body.count, ![UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x09, 0x0A, 0x0D]
                .contains(body[index]) { index += 1 }
            return index > start ? index : nil
        }
    }
}
