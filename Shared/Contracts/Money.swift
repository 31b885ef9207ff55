import Foundation

/// An amount in integer minor units of an ISO 4217 currency: `Money(amountMinor: 12800,
/// currency: "CNY")` is ¥128.00, `Money(amountMinor: 5000, currency: "JPY")` is ¥5,000.
/// The currency is always three upper-case ASCII letters (checked on creation and decoding).
public struct Money: Codable, Sendable, Hashable, CustomStringConvertible {
    public var amountMinor: Int64
    /// Checked when the value is made: only another amount in the same currency can be derived.
    public let currency: String

    public init(amountMinor: Int64, currency: String) throws {
        guard Currency.isCode(currency) else {
            throw ConveneError(code: "payment.invalid_currency",
                               message: "\"\(currency)\" is not an ISO 4217 code (three upper-case letters)")
        }
        self.amountMinor = amountMinor
        self.currency = currency
    }

    enum CodingKeys: String, CodingKey { case amountMinor, currency }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let currency = try c.decode(String.self, forKey: .currency)
        guard Currency.isCode(currency) else {
            throw DecodingError.dataCorruptedError(forKey: .currency, in: c,
                                                   debugDescription: "\"\(currency)\" is not an ISO 4217 code")
        }
        self.currency = currency
        amountMinor = try c.decode(Int64.self, forKey: .amountMinor)
    }

    public static func zero(_ currency: String) throws -> Money { try Money(amountMinor: 0, currency: currency) }

    /// Another amount in this (already checked) currency.
    public func withAmount(_ amountMinor: Int64) -> Money {
        var money = self
        money.amountMinor = amountMinor
        return money
    }

    public var isZero: Bool { amountMinor == 0 }
    public var isPositive: Bool { amountMinor > 0 }

    /// The amount in major units as text, e.g. `128.00 CNY`, `5000 JPY`; minor units when the
    /// currency's exponent is unknown.
    public var description: String {
        guard let exponent = Currency.exponent(currency) else { return "\(amountMinor) \(currency) (minor units)" }
        guard exponent > 0 else { return "\(amountMinor) \(currency)" }
        let magnitude = amountMinor.magnitude
        var scale: UInt64 = 1
        for _ in 0..<exponent { scale *= 10 }
        let fraction = String(magnitude % scale)
        let padded = String(repeating: "0", count: exponent - fraction.count) + fraction
        return "\(amountMinor < 0 ? "-" : "")\(magnitude / scale).\(padded) \(currency)"
    }
}

/// ISO 4217 minor-unit exponents of the currencies Convene expects to charge in.
public enum Currency {
    public static let exponents: [String: Int] = [
        // Three decimals.
        "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
        // None.
        "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0, "RWF": 0,
        "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
        // Two.
        "AED": 2, "AUD": 2, "BRL": 2, "CAD": 2, "CHF": 2, "CNY": 2, "CZK": 2, "DKK": 2, "EGP": 2, "EUR": 2,
        "GBP": 2, "HKD": 2, "HUF": 2, "IDR": 2, "ILS": 2, "INR": 2, "MOP": 2, "MXN": 2, "MYR": 2, "NOK": 2,
        "NZD": 2, "PHP": 2, "PKR": 2, "PLN": 2, "RUB": 2, "SAR": 2, "SEK": 2, "SGD": 2, "THB": 2, "TRY": 2,
        "TWD": 2, "USD": 2, "ZAR": 2,
    ]

    /// Digits after the decimal point, or nil for a currency not in the table.
    public static func exponent(_ code: String) -> Int? { exponents[code] }

    /// Three upper-case ASCII letters.
    public static func isCode(_ code: String) -> Bool {
        code.utf8.count == 3 && code.utf8.allSatisfy { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }
    }
}

/// The registration fee of one category: the regular price, and optionally a lower early-bird
/// price that applies strictly before `until`.
public struct Fee: Codable, Sendable, Equatable {
    public struct EarlyBird: Codable, Sendable, Equatable {
        public var price: Money
        public var until: Date
        public init(price: Money, until: Date) {
            self.price = price
            self.until = until
        }
    }

    public var regular: Money
    public var earlyBird: EarlyBird?

    public init(regular: Money, earlyBird: EarlyBird? = nil) {
        self.regular = regular
        self.earlyBird = earlyBird
    }

    /// The price at `date`: early bird while `date < until`, regular from `until` on.
    public func price(at date: Date) -> Money {
        if let earlyBird, date < earlyBird.until { return earlyBird.price }
        return regular
    }
}

/// The fees of one conference by registration category. A price of zero means the category is
/// free: the registration skips payment.
public struct FeeSchedule: Codable, Sendable, Equatable {
    public var perCategory: [String: Fee]

    public init(perCategory: [String: Fee]) { self.perCategory = perCategory }

    /// The price of `category` at `date`; `payment.unknown_category` for a category without a fee.
    public func price(category: String, at date: Date) throws -> Money {
        guard let fee = perCategory[category] else {
            throw ConveneError(code: "payment.unknown_category", message: "no fee for the category \"\(category)\"",
                               details: ["category": category])
        }
        return fee.price(at: date)
    }

    /// Whether a registration in `category` at `date` has anything to pay.
    public func requiresPayment(category: String, at date: Date) throws -> Bool {
        try price(category: category, at: date).amountMinor > 0
    }

    /// Every problem, as `(path, code, message)`. Codes: `no_categories`, `invalid_category`
    /// (an empty name), `negative_amount`, `unsupported_currency` (not in the exponent table),
    /// `currency_mismatch` (early bird in another currency than the regular price),
    /// `early_bird_above_regular`.
    public func validate() -> [FeeProblem] {
        var problems: [FeeProblem] = []
        func problem(_ path: String, _ code: String, _ message: String) {
            problems.append(FeeProblem(path: path, code: code, message: message))
        }
        if perCategory.isEmpty { problem("perCategory", "no_categories", "at least one category needs a fee") }
        for (category, fee) in perCategory.sorted(by: { $0.key < $1.key }) {
            let path = "perCategory.\(category)"
            if category.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                problem(path, "invalid_category", "a category has a name")
            }
            var prices = [("regular", fee.regular)]
            if let earlyBird = fee.earlyBird { prices.append(("earlyBird.price", earlyBird.price)) }
            for (name, money) in prices {
                if money.amountMinor < 0 { problem("\(path).\(name)", "negative_amount", "a price is zero or more") }
                if Currency.exponent(money.currency) == nil {
                    problem("\(path).\(name).currency", "unsupported_currency", "\(money.currency) is not a supported currency")
                }
            }
            if let earlyBird = fee.earlyBird {
                if earlyBird.price.currency != fee.regular.currency {
                    problem("\(path).earlyBird.price.currency", "currency_mismatch",
                            "the early-bird price is in \(earlyBird.price.currency), the regular one in \(fee.regular.currency)")
                } else if earlyBird.price.amountMinor > fee.regular.amountMinor {
                    problem("\(path).earlyBird.price", "early_bird_above_regular",
                            "the early-bird price (\(earlyBird.price)) is above the regular one (\(fee.regular))")
                }
            }
        }
        return problems
    }
}

/// One problem with a fee schedule.
public struct FeeProblem: Codable, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var code: String
    public var message: String

    public init(path: String, code: String, message: String) {
        self.path = path
        self.code = code
        self.message = message
    }

    public var description: String { "\(path): \(code): \(message)" }
}
