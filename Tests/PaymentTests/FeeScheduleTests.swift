import Contracts
import Foundation
@testable import Payment
import Testing

@Suite("Fee schedule")
struct FeeScheduleTests {
    let earlyBirdEnds = ISO8601.parse("2026-09-01T00:00:00Z")!

    func money(_ minor: Int64, _ currency: String = "CNY") throws -> Money { try Money(amountMinor: minor, currency: currency) }

    func schedule() throws -> FeeSchedule {
        FeeSchedule(perCategory: [
            "regular": Fee(regular: try money(1_200_00), earlyBird: .init(price: try money(980_00), until: earlyBirdEnds)),
            "student": Fee(regular: try money(600_00)),
            "speaker": Fee(regular: try money(0)),
        ])
    }

    @Test("a currency is three upper-case letters, checked on creation and when decoding")
    func currencyCodes() throws {
        for bad in ["cny", "CN", "CNYY", "C1Y", "", "ＣＮＹ", "US$"] {
            let code: String? = {
                do { _ = try Money(amountMinor: 1, currency: bad); return nil } catch let error as ConveneError { return error.code } catch { return "\(error)" }
            }()
            #expect(code == "payment.invalid_currency", "\(bad)")
        }
        #expect(try money(1, "XTS").currency == "XTS")
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(Money.self, from: Data(#"{"amountMinor":100,"currency":"usd"}"#.utf8))
        }
        let decoded = try JSONDecoder().decode(Money.self, from: Data(#"{"amountMinor":12800,"currency":"CNY"}"#.utf8))
        #expect(decoded == (try money(128_00)))
    }

    @Test("minor-unit exponents follow ISO 4217: two for CNY, USD and EUR, none for JPY and KRW, three for KWD")
    func exponents() throws {
        for code in ["CNY", "USD", "EUR", "GBP", "HKD", "SGD"] { #expect(Currency.exponent(code) == 2, "\(code)") }
        for code in ["JPY", "KRW", "VND", "CLP", "ISK"] { #expect(Currency.exponent(code) == 0, "\(code)") }
        for code in ["KWD", "BHD", "OMR", "JOD", "TND"] { #expect(Currency.exponent(code) == 3, "\(code)") }
        #expect(Currency.exponent("XTS") == nil)
        #expect(Currency.exponents.keys.allSatisfy(Currency.isCode))
        #expect(try money(12_800).description == "128.00 CNY")
        #expect(try money(5, "USD").description == "0.05 USD")
        #expect(try money(-1_050, "EUR").description == "-10.50 EUR")
        #expect(try money(5_000, "JPY").description == "5000 JPY")
        #expect(try money(1_234, "KWD").description == "1.234 KWD")
        #expect(try money(7, "XTS").description == "7 XTS (minor units)")
    }

    @Test("the early-bird price applies strictly before its date; from that instant on, the regular price")
    func earlyBirdBoundary() throws {
        let fees = try schedule()
        #expect(try fees.price(category: "regular", at: earlyBirdEnds.addingTimeInterval(-1)) == (try money(980_00)))
        #expect(try fees.price(category: "regular", at: earlyBirdEnds) == (try money(1_200_00)))
        #expect(try fees.price(category: "regular", at: earlyBirdEnds.addingTimeInterval(86_400)) == (try money(1_200_00)))
        #expect(try fees.price(category: "student", at: earlyBirdEnds.addingTimeInterval(-86_400)) == (try money(600_00)))
    }

    @Test("a free category costs zero and skips payment; an unknown category is an error")
    func freeAndUnknown() throws {
        let fees = try schedule()
        #expect(try fees.price(category: "speaker", at: earlyBirdEnds).isZero)
        #expect(try !fees.requiresPayment(category: "speaker", at: earlyBirdEnds))
        #expect(try fees.requiresPayment(category: "student", at: earlyBirdEnds))
        do {
            _ = try fees.price(category: "vip", at: earlyBirdEnds)
            Issue.record("vip has no fee")
        } catch let error as ConveneError {
            #expect(error.code == "payment.unknown_category")
            #expect(error.details == ["category": "vip"])
        }
    }

    @Test("validation reports every problem: early bird above regular, mixed currencies, negative amounts, unsupported currencies")
    func validation() throws {
        #expect(try schedule().validate() == [])
        #expect(FeeSchedule(perCategory: [:]).validate().map(\.code) == ["no_categories"])
        let bad = FeeSchedule(perCategory: [
            "a": Fee(regular: try money(100_00), earlyBird: .init(price: try money(120_00), until: earlyBirdEnds)),
            "b": Fee(regular: try money(100_00), earlyBird: .init(price: try money(50_00, "USD"), until: earlyBirdEnds)),
            "c": Fee(regular: try money(-1)),
            "d": Fee(regular: try money(100, "XTS")),
            "e": Fee(regular: try money(100_00), earlyBird: .init(price: try money(100_00), until: earlyBirdEnds)),
            "f": Fee(regular: try money(0), earlyBird: .init(price: try money(-5), until: earlyBirdEnds)),
        ])
        #expect(bad.validate().map { "\($0.path) \($0.code)" } == [
            "perCategory.a.earlyBird.price early_bird_above_regular",
            "perCategory.b.earlyBird.price.currency currency_mismatch",
            "perCategory.c.regular negative_amount",
            "perCategory.d.regular.currency unsupported_currency",
            "perCategory.f.earlyBird.price negative_amount",
        ])
    }

    @Test("a schedule round-trips through Convene's JSON")
    func json() throws {
        let fees = try schedule()
        let decoded = try ConveneJSON.decode(FeeSchedule.self, from: ConveneJSON.encode(fees))
        #expect(decoded == fees)
    }
}
