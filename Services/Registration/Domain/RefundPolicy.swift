import Contracts
import Foundation

/// Why money goes back to a participant.
enum RefundReason: String, Codable, Sendable, CaseIterable {
    /// The participant withdrew: the conference's refund policy decides how much.
    case withdrawal
    /// The organizer cancelled the registration: always everything not yet refunded.
    case cancellation
    /// A payment arrived for a registration that no longer waits for one (its order expired, it
    /// was withdrawn, cancelled or never had a seat): all of that payment goes back.
    case latePayment = "late_payment"
    /// A second payment for a registration that was already confirmed: all of it goes back.
    case duplicatePayment = "duplicate_payment"
}

/// How much of what a participant paid comes back when they withdraw, by the date they do:
/// tiers in date order, each applying to withdrawals strictly before its `until` (at exactly
/// `until` the next tier applies, as the early-bird price ends at its `until`); after the last
/// tier, `afterwardsBasisPoints`. A full policy is no tiers and 100 % afterwards, a none policy
/// no tiers and 0 %. Percentages are basis points (10 000 = 100 %); amounts are rounded down to
/// the minor unit, and a refund never exceeds what was paid minus what was already refunded.
struct RefundPolicy: Codable, Sendable, Equatable {
    struct Tier: Codable, Sendable, Equatable {
        /// The tier applies to withdrawals before this instant.
        var until: Date
        /// 0…10 000.
        var basisPoints: Int

        init(until: Date, basisPoints: Int) {
            self.until = until
            self.basisPoints = basisPoints
        }

        static func percent(_ percent: Int, until: Date) -> Tier { Tier(until: until, basisPoints: percent * 100) }

        enum CodingKeys: String, CodingKey { case until, basisPoints, percent }

        /// Either `basisPoints` or a whole `percent`.
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            until = try c.decode(Date.self, forKey: .until)
            if let basisPoints = try c.decodeIfPresent(Int.self, forKey: .basisPoints) {
                self.basisPoints = basisPoints
            } else {
                basisPoints = try c.decode(Int.self, forKey: .percent) * 100
            }
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(until, forKey: .until)
            try c.encode(basisPoints, forKey: .basisPoints)
        }
    }

    static let full = RefundPolicy(tiers: [], afterwardsBasisPoints: 10_000)
    static let none = RefundPolicy(tiers: [], afterwardsBasisPoints: 0)

    var tiers: [Tier]
    /// Applies at and after the last tier's `until` (or always, without tiers).
    var afterwardsBasisPoints: Int

    init(tiers: [Tier], afterwardsBasisPoints: Int = 0) {
        self.tiers = tiers
        self.afterwardsBasisPoints = afterwardsBasisPoints
    }

    /// Tiers counted in calendar days before the conference starts, in its time zone: e.g.
    /// `[(30, 100), (7, 50)]` is everything back until 30 days before, half until 7 days before,
    /// then `afterwardsPercent`.
    static func beforeStart(_ start: Date, timeZone: TimeZone, percentages: [(daysBefore: Int, percent: Int)],
                            afterwardsPercent: Int = 0) -> RefundPolicy {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let tiers = percentages
            .map { tier in
                Tier.percent(tier.percent, until: calendar.date(byAdding: .day, value: -tier.daysBefore, to: start) ?? start)
            }
            .sorted { $0.until < $1.until }
        return RefundPolicy(tiers: tiers, afterwardsBasisPoints: afterwardsPercent * 100)
    }

    /// The share refunded for a withdrawal at `date`, in basis points.
    func basisPoints(at date: Date) -> Int {
        tiers.first { date < $0.until }?.basisPoints ?? afterwardsBasisPoints
    }

    /// What to give back, in the currency of `paid`: a withdrawal by the tier at `date`, any other
    /// reason all of it; never more than `paid - alreadyRefunded`, never less than zero.
    func refund(for reason: RefundReason, paid: Money, alreadyRefunded: Money, at date: Date) throws -> Money {
        guard alreadyRefunded.currency == paid.currency || alreadyRefunded.isZero else {
            throw ConveneError(code: "registration.currency_mismatch",
                               message: "paid in \(paid.currency) but refunded in \(alreadyRefunded.currency)")
        }
        let share = reason == .withdrawal ? Swift.min(Swift.max(basisPoints(at: date), 0), 10_000) : 10_000
        let paidMinor = Swift.max(paid.amountMinor, 0)
        // floor(paid × share / 10 000) without overflowing Int64.
        let amount = (paidMinor / 10_000) * Int64(share) + (paidMinor % 10_000) * Int64(share) / 10_000
        let remaining = Swift.max(paidMinor - Swift.max(alreadyRefunded.amountMinor, 0), 0)
        return paid.withAmount(Swift.min(amount, remaining))
    }

    /// Codes: `invalid_percentage` (outside 0…100 %), `tiers_out_of_order` (each `until` must be
    /// later than the one before).
    func validate() -> [ValidationProblem] {
        var problems: [ValidationProblem] = []
        for (index, tier) in tiers.enumerated() {
            if !(0...10_000).contains(tier.basisPoints) {
                problems.append(ValidationProblem(path: "tiers[\(index)].basisPoints", code: "invalid_percentage",
                                                  message: "a refund share is 0 to 10000 basis points (0–100 %)"))
            }
            if index > 0, tier.until <= tiers[index - 1].until {
                problems.append(ValidationProblem(path: "tiers[\(index)].until", code: "tiers_out_of_order",
                                                  message: "each tier ends later than the one before it"))
            }
        }
        if !(0...10_000).contains(afterwardsBasisPoints) {
            problems.append(ValidationProblem(path: "afterwardsBasisPoints", code: "invalid_percentage",
                                              message: "a refund share is 0 to 10000 basis points (0–100 %)"))
        }
        return problems
    }
}
