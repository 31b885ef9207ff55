import Contracts
import Foundation

/// Order numbers: `CV` + the UTC date `yyyyMMdd` + 10 random upper-case letters or digits, e.g.
/// `CV20261122K3Q9ZP2M7A` (20 characters). WeChat Pay allows 6–32 of `A-Z a-z 0-9 _ - | *`,
/// Alipay 1–64 of `A-Z a-z 0-9 _`: this fits both, and is unguessable enough to be shown.
enum OrderNumber {
    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")

    static func make(at date: Date, using generator: inout some RandomNumberGenerator) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        let day = String(format: "%04d%02d%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
        let random = String((0..<10).map { _ in alphabet.randomElement(using: &generator)! })
        return "CV" + day + random
    }

    static func make(at date: Date = Date()) -> String {
        var generator = SystemRandomNumberGenerator()
        return make(at: date, using: &generator)
    }

    /// What every provider accepts as its merchant order number.
    static func isValid(_ text: String) -> Bool {
        (6...32).contains(text.utf8.count)
            && text.utf8.allSatisfy { (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) || $0 == 95 }
    }
}

/// Bank transfer references: `CV-XXXX-XXXX` over an alphabet without look-alikes (no 0/O,
/// 1/I/L), so a payer can type it into a bank's remark field and staff can read it back.
enum BankReference {
    static let alphabet = Array("23456789ABCDEFGHJKMNPQRSTUVWXYZ")
    private static let allowed = Set(alphabet)

    static func make(using generator: inout some RandomNumberGenerator) -> String {
        let chars = (0..<8).map { _ in alphabet.randomElement(using: &generator)! }
        return "CV-" + String(chars[0..<4]) + "-" + String(chars[4..<8])
    }

    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        return make(using: &generator)
    }

    static func isValid(_ text: String) -> Bool { normalize(text) == text }

    /// `cv xxxx xxxx`, `CVXXXXXXXX`, `Cv-xxxx-xxxx` → `CV-XXXX-XXXX`; nil when it is not one.
    static func normalize(_ text: String) -> String? {
        let upper = Array(text.uppercased().filter { !$0.isWhitespace })
        return find(in: upper).flatMap { $0.range.count == upper.count ? $0.reference : nil }
    }

    /// The references written in a bank remark, in order, found case-insensitively with or without
    /// the dashes (a space is accepted in their place).
    static func references(in remark: String) -> [String] {
        var found: [String] = []
        var chars = Array(remark.uppercased())
        while let match = find(in: chars) {
            if !found.contains(match.reference) { found.append(match.reference) }
            chars = Array(chars[match.range.upperBound...])
        }
        return found
    }

    private static func find(in chars: [Character]) -> (reference: String, range: Range<Int>)? {
        var start = 0
        while start + 10 <= chars.count {
            if chars[start] == "C", chars[start + 1] == "V", start == 0 || !isWordCharacter(chars[start - 1]),
               let match = match(chars, from: start + 2) {
                return (match.reference, start..<match.end)
            }
            start += 1
        }
        return nil
    }

    private static func match(_ chars: [Character], from index: Int) -> (reference: String, end: Int)? {
        var i = index
        var groups: [String] = []
        for _ in 0..<2 {
            if i < chars.count, chars[i] == "-" || chars[i] == " " { i += 1 }
            guard i + 4 <= chars.count else { return nil }
            let group = chars[i..<i + 4]
            guard group.allSatisfy(allowed.contains) else { return nil }
            groups.append(String(group))
            i += 4
        }
        if i < chars.count, isWordCharacter(chars[i]) { return nil }
        return ("CV-" + groups[0] + "-" + groups[1], i)
    }

    private static func isWordCharacter(_ c: Character) -> Bool { c.isLetter || c.isNumber }
}

/// Receipt numbers: per organization and year, `2026-000123`.
enum ReceiptNumber {
    static func format(year: Int, sequence: Int) -> String {
        String(format: "%04d-%06d", year, sequence)
    }
}

/// The order's life: `pending` until paid (`paid`), waived, cancelled or expired; money that
/// arrives for an expired or cancelled order makes it `paid_late` (registration refunds it).
enum OrderStatus: String, Sendable, Codable {
    case pending, paid, paidLate = "paid_late", waived, cancelled, expired, refunded
    case partiallyRefunded = "partially_refunded"

    /// Money was received for it.
    var hasMoney: Bool { [.paid, .paidLate, .refunded, .partiallyRefunded].contains(self) }
}

/// The methods a participant may pay with.
enum PaymentMethod: String, Sendable, CaseIterable {
    case wechatPay = "wechat_pay"
    case alipay
    case stripe
    case bankTransfer = "bank_transfer"

    var provider: PaymentProviderKind? { PaymentProviderKind(rawValue: rawValue) }
}

/// Checks of money against an order.
enum AmountRules {
    /// A payment matches when amount and currency are the order's exactly.
    static func matches(paid amount: Int, currency: String?, order: Money) -> Bool {
        Int64(amount) == order.amountMinor && (currency ?? order.currency).uppercased() == order.currency
    }

    /// What may still be refunded.
    static func refundable(paid: Int64, refunded: Int64) -> Int64 { max(0, paid - refunded) }

    /// nil when the refund may go ahead; otherwise why not.
    static func refundProblem(amount: Money, paid: Money, alreadyRefunded: Int64) -> String? {
        guard amount.currency == paid.currency else { return "the refund is in \(amount.currency), the payment in \(paid.currency)" }
        guard amount.amountMinor > 0 else { return "a refund is a positive amount" }
        let left = refundable(paid: paid.amountMinor, refunded: alreadyRefunded)
        guard amount.amountMinor <= left else {
            return "\(amount) is more than what is left to refund (\(paid.withAmount(left)))"
        }
        return nil
    }

    /// `1200.00`, `1,200.00`, `1200` in major units of `currency` → minor units; nil when the text
    /// has more decimals than the currency or is not a non-negative amount.
    static func parseMajor(_ text: String, currency: String) -> Int64? {
        guard let exponent = Currency.exponent(currency) else { return nil }
        let cleaned = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: ",", with: "")
        let parts = cleaned.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, whole.allSatisfy(\.isASCII), whole.allSatisfy(\.isNumber),
              whole.count <= 15 else { return nil }
        let fraction = parts.count > 1 ? parts[1] : ""
        guard fraction.count <= exponent, fraction.allSatisfy({ $0.isASCII && $0.isNumber }),
              parts.count == 1 || !fraction.isEmpty else { return nil }
        var value = Int64(whole)!
        for _ in 0..<exponent { value *= 10 }
        if !fraction.isEmpty {
            var minor = Int64(fraction)!
            for _ in 0..<(exponent - fraction.count) { minor *= 10 }
            value += minor
        }
        return value
    }

    /// Minor units as major-unit text without the currency: `1200.00`.
    static func formatMajor(_ minor: Int64, currency: String) -> String {
        let money = (try? Money(amountMinor: minor, currency: currency))?.description ?? "\(minor)"
        return String(money.split(separator: " ").first ?? "")
    }
}
