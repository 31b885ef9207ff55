/// An amount in integer minor units of an ISO 4217 currency (`{"amountMinor": 12800,
/// "currency": "CNY"}` is ¥128.00). The same shape as Payment's `Money`
/// (Services/Payment/Domain/FeeSchedule.swift), which validates currencies and knows their
/// exponents; registration only carries prices and refunds that payment's rules produced.
struct Money: Codable, Sendable, Hashable, CustomStringConvertible {
    var amountMinor: Int64
    var currency: String

    init(amountMinor: Int64, currency: String) {
        self.amountMinor = amountMinor
        self.currency = currency
    }

    static func zero(_ currency: String) -> Money { Money(amountMinor: 0, currency: currency) }

    var isZero: Bool { amountMinor == 0 }
    var isPositive: Bool { amountMinor > 0 }

    var description: String { "\(amountMinor) \(currency) (minor units)" }
}
