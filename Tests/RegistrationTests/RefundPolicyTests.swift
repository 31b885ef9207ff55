import Contracts
import Foundation
@testable import Registration
import Testing

@Suite("Refund policy")
struct RefundPolicyTests {
    let start = date("2026-11-22T01:00:00Z")  // 09:00 in Shanghai
    let shanghai = TimeZone(identifier: "Asia/Shanghai")!

    /// 100 % until 30 days before the start, 50 % until 7 days before, then nothing.
    var tiered: RefundPolicy { .beforeStart(start, timeZone: shanghai, percentages: [(30, 100), (7, 50)]) }

    func withdrawal(_ policy: RefundPolicy, paid: Int64 = 100_00, refunded: Int64 = 0, at: Date) throws -> Int64 {
        try policy.refund(for: .withdrawal, paid: cny(paid), alreadyRefunded: cny(refunded), at: at).amountMinor
    }

    @Test("tiers are counted in calendar days before the start in the conference's time zone")
    func tierDates() {
        #expect(tiered.tiers == [
            .init(until: date("2026-10-23T01:00:00Z"), basisPoints: 10_000),
            .init(until: date("2026-11-15T01:00:00Z"), basisPoints: 5_000),
        ])
        #expect(tiered.afterwardsBasisPoints == 0)
        // Across a daylight-saving change, a calendar day is not 24 hours.
        // Berlin leaves summer time on 2026-10-25: two days before Monday 10:00 CET is Saturday 10:00 CEST.
        let berlin = RefundPolicy.beforeStart(date("2026-10-26T09:00:00Z"), timeZone: TimeZone(identifier: "Europe/Berlin")!,
                                              percentages: [(2, 100)])
        #expect(berlin.tiers[0].until == date("2026-10-24T08:00:00Z"))
    }

    @Test("a tier applies strictly before its date: exactly at the date the next tier applies")
    func boundaries() throws {
        let thirtyDays = date("2026-10-23T01:00:00Z"), sevenDays = date("2026-11-15T01:00:00Z")
        #expect(try withdrawal(tiered, at: date("2026-06-01T00:00:00Z")) == 100_00)
        #expect(try withdrawal(tiered, at: thirtyDays.addingTimeInterval(-1)) == 100_00)
        #expect(try withdrawal(tiered, at: thirtyDays) == 50_00)
        #expect(try withdrawal(tiered, at: sevenDays.addingTimeInterval(-1)) == 50_00)
        #expect(try withdrawal(tiered, at: sevenDays) == 0)
        #expect(try withdrawal(tiered, at: start.addingTimeInterval(86_400)) == 0)
    }

    @Test("full and none policies give everything or nothing back, whenever")
    func fullAndNone() throws {
        for at in [date("2020-01-01T00:00:00Z"), start, date("2030-01-01T00:00:00Z")] {
            #expect(try withdrawal(.full, at: at) == 100_00)
            #expect(try withdrawal(.none, at: at) == 0)
        }
    }

    @Test("shares in whole percent or basis points are rounded down to the minor unit")
    func roundingDown() throws {
        let half = RefundPolicy(tiers: [], afterwardsBasisPoints: 5_000)
        #expect(try withdrawal(half, paid: 999, at: start) == 499)
        let third = RefundPolicy(tiers: [], afterwardsBasisPoints: 3_333)
        #expect(try withdrawal(third, paid: 100, at: start) == 33)
        #expect(try withdrawal(third, paid: 1, at: start) == 0)
        let almostAll = RefundPolicy(tiers: [], afterwardsBasisPoints: 9_999)
        #expect(try withdrawal(almostAll, paid: 12_345, at: start) == 12_343)
        #expect(try withdrawal(half, paid: Int64.max, at: start) == Int64.max / 2, "no overflow on huge amounts")
        let yen = try half.refund(for: .withdrawal, paid: try Money(amountMinor: 5_001, currency: "JPY"),
                                  alreadyRefunded: try .zero("JPY"), at: start)
        #expect(try yen == Money(amountMinor: 2_500, currency: "JPY"))
    }

    @Test("cancellation by the organizer and late payments are always refunded in full")
    func fullForOrganizer() throws {
        for reason in [RefundReason.cancellation, .latePayment, .duplicatePayment] {
            #expect(try RefundPolicy.none.refund(for: reason, paid: cny(100_00), alreadyRefunded: cny(0), at: start) == cny(100_00))
        }
    }

    @Test("a refund never exceeds what was paid minus what was already refunded")
    func neverMoreThanPaid() throws {
        #expect(try withdrawal(.full, paid: 100_00, refunded: 30_00, at: start) == 70_00)
        #expect(try withdrawal(.full, paid: 100_00, refunded: 100_00, at: start) == 0)
        #expect(try withdrawal(.full, paid: 100_00, refunded: 150_00, at: start) == 0)
        let half = RefundPolicy(tiers: [], afterwardsBasisPoints: 5_000)
        #expect(try withdrawal(half, paid: 100_00, refunded: 30_00, at: start) == 50_00)
        #expect(try withdrawal(half, paid: 100_00, refunded: 80_00, at: start) == 20_00)
        #expect(try RefundPolicy.full.refund(for: .cancellation, paid: cny(100_00), alreadyRefunded: cny(99_99), at: start) == cny(1))
        #expect(try withdrawal(.full, paid: 0, at: start) == 0)
        #expect(errorCode { try RefundPolicy.full.refund(for: .withdrawal, paid: cny(100), alreadyRefunded: Money(amountMinor: 5, currency: "USD"), at: start) }
            == "registration.currency_mismatch")
    }

    @Test("a policy reads percent or basis points, writes basis points, and is validated")
    func jsonAndValidation() throws {
        let json = #"{"tiers":[{"until":"2026-10-23T01:00:00Z","percent":100},{"until":"2026-11-15T01:00:00Z","basisPoints":2550}],"afterwardsBasisPoints":0}"#
        let policy = try ConveneJSON.decode(RefundPolicy.self, from: Array(json.utf8))
        #expect(policy.tiers.map(\.basisPoints) == [10_000, 2_550])
        #expect(policy.validate() == [])
        let written = String(decoding: try ConveneJSON.encode(policy), as: UTF8.self)
        #expect(written.contains(#""basisPoints":10000"#) && !written.contains("percent"))
        let bad = RefundPolicy(tiers: [.percent(50, until: start), .percent(101, until: start)], afterwardsBasisPoints: -1)
        #expect(bad.validate().map { "\($0.path) \($0.code)" } == [
            "tiers[1].basisPoints invalid_percentage", "tiers[1].until tiers_out_of_order", "afterwardsBasisPoints invalid_percentage",
        ])
    }
}
