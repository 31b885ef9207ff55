import Contracts
import Foundation
@testable import Notification
import Testing

@Suite("What templates see besides the data: money, codes, blanks")
struct TemplateContextTests {
    @Test("amounts read as people write them: symbol where unambiguous, else the code; grouped; the currency's decimals")
    func money() {
        #expect(MoneyDisplay.format(amountMinor: 128_000, currency: "CNY", locale: "zh-CN") == "¥1,280.00")
        #expect(MoneyDisplay.format(amountMinor: 128_000, currency: "CNY", locale: "en") == "CNY 1,280.00")
        #expect(MoneyDisplay.format(amountMinor: 1250, currency: "USD", locale: "zh-CN") == "US$12.50")
        #expect(MoneyDisplay.format(amountMinor: 1250, currency: "USD", locale: "en") == "US$12.50")
        #expect(MoneyDisplay.format(amountMinor: 99, currency: "EUR", locale: "en") == "€0.99")
        #expect(MoneyDisplay.format(amountMinor: 5, currency: "CNY", locale: "zh") == "¥0.05")
        #expect(MoneyDisplay.format(amountMinor: 0, currency: "CNY", locale: "zh-CN") == "¥0.00")
        #expect(MoneyDisplay.format(amountMinor: 123_456_789, currency: "CNY", locale: "zh-CN") == "¥1,234,567.89")
        #expect(MoneyDisplay.format(amountMinor: 5000, currency: "JPY", locale: "en") == "JPY 5,000", "no decimals")
        #expect(MoneyDisplay.format(amountMinor: 1234, currency: "KWD", locale: "en") == "KWD 1.234", "three decimals")
        #expect(MoneyDisplay.format(amountMinor: -1250, currency: "USD", locale: "en") == "-US$12.50")
        #expect(MoneyDisplay.format(amountMinor: 12800, currency: "XYZ", locale: "en") == "12800 XYZ (minor units)",
                "an unknown exponent is not guessed")
    }

    @Test("every money object gets a display, whether its amount is a number or (from JSON data) text")
    func moneyObjects() {
        let context = TemplateLibrary.templateContext([
            "price": ["amountMinor": "128000", "currency": "CNY"],
            "lines": [["amount": ["amountMinor": 1250, "currency": "USD"]]],
            "given": ["amountMinor": "1", "currency": "CNY", "display": "one fen"],
            "notMoney": ["amountMinor": "12", "currency": "yuan"],
            "fraction": ["amountMinor": "12.5", "currency": "CNY"],
        ], locale: "zh-CN")
        #expect((context["price"] as? [String: Any])?["display"] as? String == "¥1,280.00")
        let line = (context["lines"] as? [Any])?.first as? [String: Any]
        #expect((line?["amount"] as? [String: Any])?["display"] as? String == "US$12.50")
        #expect((context["given"] as? [String: Any])?["display"] as? String == "one fen", "the data's own key wins")
        #expect((context["notMoney"] as? [String: Any])?["display"] == nil)
        #expect((context["fraction"] as? [String: Any])?["display"] == nil)
    }

    @Test("a code value gets a flag to test it by; prose, ids and the data's own keys do not")
    func codes() {
        let context = TemplateLibrary.templateContext([
            "status": "pending_review", "method": "wechat_pay", "title": "Annual Meeting", "id": "5c0e-11",
            "reason": "withdrawal", "reasonIs": "kept",
        ], locale: "en")
        #expect((context["statusIs"] as? [String: Bool]) == ["pending_review": true])
        #expect((context["methodIs"] as? [String: Bool]) == ["wechat_pay": true])
        #expect(context["titleIs"] == nil && context["idIs"] == nil)
        #expect(context["reasonIs"] as? String == "kept")
    }

    @Test("an empty or blank text (JSON null arrives as one) renders as nothing and is false in a section")
    func blanks() throws {
        let library = try TemplateLibrary(directory: TemplateTests.directory)
        let base: [String: Any] = ["recipientName": "Ann", "conferenceTitle": "Annual Meeting"]
        for blank in ["", "  \n", JSONValue.null.plain] {
            var data = base
            data["category"] = blank
            data["link"] = blank
            let message = try library.render("registration.confirmed", locale: "en", data: data)
            #expect(message.text.contains("is confirmed.\n") && !message.text.contains("Your registration"), "\(message.text)")
            #expect(try #require(message.html).contains("href") == false)
        }
        var given = base
        given["category"] = "Student"
        given["link"] = "https://convene.example/r/1"
        let message = try library.render("registration.confirmed", locale: "en", data: given)
        #expect(message.text.contains("is confirmed (Student).") && message.text.contains("Your registration: https://convene.example/r/1"))
    }
}
