import Crypto
import Foundation
import _CryptoExtras

/// Decimal amounts as providers write them ("123.45" yuan) and our integer minor units,
/// converted exactly: string arithmetic, no floating point.
enum DecimalAmount {
    /// `12345` with 2 decimals → `"123.45"`; `1` → `"0.01"`. Nil for a negative amount.
    static func format(minorUnits: Int, decimals: Int = 2) -> String? {
        guard minorUnits >= 0, decimals >= 0 else { return nil }
        guard decimals > 0 else { return String(minorUnits) }
        var digits = String(minorUnits)
        if digits.count <= decimals { digits = String(repeating: "0", count: decimals + 1 - digits.count) + digits }
        let split = digits.index(digits.endIndex, offsetBy: -decimals)
        return digits[..<split] + "." + digits[split...]
    }

    /// `"123.45"` → `12345`; `"100"` → `10000`; `"0.1"` → `10`. Nil for a sign, exponent, more
    /// than `decimals` decimals, any other character, or an overflow.
    static func parse(_ text: String, decimals: Int = 2) -> Int? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0]
        let fraction = parts.count > 1 ? parts[1] : ""
        guard !whole.isEmpty, whole.utf8.allSatisfy(Self.isDigit) else { return nil }
        if parts.count > 1 {
            guard !fraction.isEmpty, fraction.count <= decimals, fraction.utf8.allSatisfy(Self.isDigit) else { return nil }
        }
        let padded = fraction + String(repeating: "0", count: decimals - fraction.count)
        var value = 0
        for byte in (whole + padded).utf8 {
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
        }
        return value
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
}

/// RSA keys as providers hand them out: PEM (PKCS#1 or PKCS#8 / SPKI), or Alipay's bare base64.
enum RSAKeys {
    static func privateKey(_ text: String, name: String) throws(PaymentProviderError) -> _RSA.Signing.PrivateKey {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        do {
            if trimmed.hasPrefix("-----BEGIN") { return try _RSA.Signing.PrivateKey(pemRepresentation: trimmed) }
            guard let der = Data(base64Encoded: trimmed, options: .ignoreUnknownCharacters) else {
                throw PaymentProviderError.misconfigured("\(name) is neither PEM nor base64")
            }
            return try _RSA.Signing.PrivateKey(derRepresentation: der)
        } catch {
            throw .misconfigured("\(name) is not a readable RSA private key of at least 2048 bits")
        }
    }

    static func publicKey(_ text: String, name: String) throws(PaymentProviderError) -> _RSA.Signing.PublicKey {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        do {
            if trimmed.hasPrefix("-----BEGIN") { return try _RSA.Signing.PublicKey(pemRepresentation: trimmed) }
            guard let der = Data(base64Encoded: trimmed, options: .ignoreUnknownCharacters) else {
                throw PaymentProviderError.misconfigured("\(name) is neither PEM nor base64")
            }
            return try _RSA.Signing.PublicKey(derRepresentation: der)
        } catch {
            throw .misconfigured("\(name) is not a readable RSA public key of at least 2048 bits")
        }
    }

    /// Base64 of SHA256-with-RSA, PKCS#1 v1.5 (WeChat Pay's and Alipay's RSA2).
    static func sign(_ message: [UInt8], with key: _RSA.Signing.PrivateKey) throws(PaymentProviderError) -> String {
        do {
            return try key.signature(for: message, padding: .insecurePKCS1v1_5).rawRepresentation.base64EncodedString()
        } catch {
            throw .misconfigured("signing failed with the configured private key")
        }
    }

    /// Whether `signature` (base64) is SHA256-with-RSA, PKCS#1 v1.5, of `message` under `key`.
    static func isValid(signature: String, for message: [UInt8], with key: _RSA.Signing.PublicKey) -> Bool {
        guard let raw = Data(base64Encoded: signature), !raw.isEmpty else { return false }
        return key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: raw), for: message, padding: .insecurePKCS1v1_5)
    }
}

/// `application/x-www-form-urlencoded`, as Alipay and Stripe take and send it.
enum FormCoding {
    /// RFC 3986 unreserved characters stay; every other byte is percent-encoded (space as `%20`).
    static func percentEncode(_ text: String, keeping extra: Set<UInt8> = []) -> String {
        var output = ""
        output.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if isUnreserved(byte) || extra.contains(byte) {
                output.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                output += "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 0xF, radix: 16, uppercase: true)
            }
        }
        return output
    }

    /// `k=v&k=v` in the given order.
    static func encode(_ pairs: [(key: String, value: String)], keepingBracketsInKeys: Bool = false) -> String {
        let brackets: Set<UInt8> = keepingBracketsInKeys ? [UInt8(ascii: "["), UInt8(ascii: "]")] : []
        return pairs.map { percentEncode($0.key, keeping: brackets) + "=" + percentEncode($0.value) }.joined(separator: "&")
    }

    /// Decodes a form body in order (`+` is a space). Nil when an escape is broken or a name or
    /// value is not UTF-8.
    static func decode(_ body: [UInt8]) -> [(key: String, value: String)]? {
        var pairs: [(key: String, value: String)] = []
        for field in body.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let parts = field.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = unescape(parts[0]), let value = unescape(parts.count > 1 ? parts[1] : []) else { return nil }
            pairs.append((key, value))
        }
        return pairs
    }

    private static func unescape(_ bytes: ArraySlice<UInt8>) -> String? {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.endIndex, let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) else { return nil }
                output.append(high << 4 | low)
                index += 3
            } else {
                output.append(byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                index += 1
            }
        }
        return String(validating: output, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }
}

/// China Standard Time (UTC+8, no daylight saving), which WeChat Pay and Alipay write their times in.
enum ChinaTime {
    static let offset = 8 * 3600

    private static var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: offset)!
        return calendar
    }

    /// Alipay's `yyyy-MM-dd HH:mm:ss`.
    static func alipayString(_ date: Date) -> String {
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
    }

    /// WeChat Pay's RFC 3339 `yyyy-MM-ddTHH:mm:ss+08:00`.
    static func rfc3339String(_ date: Date) -> String {
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d+08:00", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
    }

    /// Alipay's `yyyy-MM-dd HH:mm:ss` (`gmt_refund` adds `.SSS`, dropped here), read as China time.
    static func parseAlipay(_ text: String) -> Date? {
        var text = Substring(text)
        if text.count > 19, text.dropFirst(19).first == ".", text.dropFirst(20).allSatisfy(\.isASCII),
           text.dropFirst(20).allSatisfy(\.isNumber) {
            text = text.prefix(19)
        }
        let parts = text.split(whereSeparator: { $0 == "-" || $0 == " " || $0 == ":" })
        guard parts.count == 6, text.count == 19 else { return nil }
        let numbers = parts.compactMap { Int($0) }
        guard numbers.count == 6 else { return nil }
        let components = DateComponents(year: numbers[0], month: numbers[1], day: numbers[2],
                                        hour: numbers[3], minute: numbers[4], second: numbers[5])
        guard components.isValidDate(in: calendar) else { return nil }
        return calendar.date(from: components)
    }

    /// RFC 3339 with an offset (`2026-11-22T09:30:00+08:00`), as WeChat Pay writes times.
    static func parseRFC3339(_ text: String) -> Date? {
        try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: false))
    }
}

enum ConstantTime {
    static func equals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }
}

enum Nonce {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")

    /// Random upper-case letters and digits.
    static func make(length: Int = 32) -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
    }
}
