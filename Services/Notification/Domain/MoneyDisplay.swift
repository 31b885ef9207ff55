import Contracts
import Foundation

/// An amount as a person reads it in a message: the currency's minor units (ISO 4217 exponent)
/// as a decimal with thousands separators, behind a symbol where the symbol is unambiguous to
/// the reader, else behind the currency code — `¥1,280.00` (Chinese), `CNY 1,280.00` (English),
/// `US$12.50`, `€12.50`, `JPY 5,000`.
enum MoneyDisplay {
    /// Symbols nobody mistakes for another currency's, in any of our locales.
    static let symbols = ["USD": "US$", "EUR": "€", "GBP": "£", "HKD": "HK$"]

    static func format(amountMinor: Int64, currency: String, locale: String) -> String {
        guard let exponent = Currency.exponent(currency) else { return "\(amountMinor) \(currency) (minor units)" }
        let sign = amountMinor < 0 ? "-" : ""
        let number = decimal(amountMinor.magnitude, exponent: exponent)
        if currency == "CNY", locale.lowercased().hasPrefix("zh") { return sign + "¥" + number }
        if let symbol = symbols[currency] { return sign + symbol + number }
        return sign + currency + " " + number
    }

    /// The `display` of a template value that is a money object (`amountMinor`, `currency`),
    /// whether the amount came as a number or, from JSON data, as its text; nil for anything else.
    static func format(_ value: [String: Any], locale: String) -> String? {
        guard let currency = value["currency"] as? String, Currency.isCode(currency),
              let amountMinor = integer(value["amountMinor"]) else { return nil }
        return format(amountMinor: amountMinor, currency: currency, locale: locale)
    }

    private static func integer(_ value: Any?) -> Int64? {
        switch value {
        case let text as String: Int64(text)
        case let number as any BinaryInteger: Int64(exactly: number)
        case let number as Double: Int64(exactly: number)
        default: nil
        }
    }

    /// `123456` with exponent 2 → `1,234.56`.
    private static func decimal(_ magnitude: UInt64, exponent: Int) -> String {
        var scale: UInt64 = 1
        for _ in 0..<exponent { scale *= 10 }
        var whole = String(magnitude / scale)
        var grouped = ""
        while whole.count > 3 {
            grouped = "," + whole.suffix(3) + grouped
            whole.removeLast(3)
        }
        grouped = whole + grouped
        guard exponent > 0 else { return grouped }
        let fraction = String(magnitude % scale)
        return grouped + "." + String(repeating: "0", count: exponent - fraction.count) + fraction
    }
}
