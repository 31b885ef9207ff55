import Contracts
import Foundation
@testable import Payment
import Testing

@Suite("Payment rules")
struct PaymentRulesTests {
    @Test("order numbers are CV + the UTC date + 10 random letters or digits, and fit WeChat Pay and Alipay")
    func orderNumbers() {
        let number = OrderNumber.make(at: fixedNow)
        #expect(number.hasPrefix("CV20261122"))
        #expect(number.count == 20)
        #expect(OrderNumber.isValid(number))
        #expect(number.wholeMatch(of: /CV\d{8}[0-9A-Z]{10}/) != nil)
        #expect(Set((0..<200).map { _ in OrderNumber.make() }).count == 200)
        #expect(!OrderNumber.isValid("CV1"))
        #expect(!OrderNumber.isValid("CV-2026-1122-ABC"))
    }

    @Test("bank references use an alphabet without look-alike characters")
    func bankReferenceAlphabet() {
        for _ in 0..<200 {
            let reference = BankReference.make()
            #expect(reference.wholeMatch(of: /CV-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}/) != nil)
            #expect(BankReference.isValid(reference))
        }
        for ambiguous in ["0", "O", "1", "I", "L"] { #expect(!BankReference.alphabet.contains(Character(ambiguous))) }
    }

    @Test("references are found in a remark case-insensitively, with dashes, spaces or nothing between the groups")
    func referencesInRemarks() {
        #expect(BankReference.references(in: "fee cv-abcd-efgh thanks") == ["CV-ABCD-EFGH"])
        #expect(BankReference.references(in: "CV ABCD EFGH") == ["CV-ABCD-EFGH"])
        #expect(BankReference.references(in: "ref:CVABCDEFGH") == ["CV-ABCD-EFGH"])
        #expect(BankReference.references(in: "CV-ABCD-EFGH and cv-wxyz-2345") == ["CV-ABCD-EFGH", "CV-WXYZ-2345"])
        #expect(BankReference.references(in: "CV-ABCD-EFGHJ") == [], "a longer word is not a reference")
        #expect(BankReference.references(in: "XCV-ABCD-EFGH") == [])
        #expect(BankReference.references(in: "CV-AB0D-EFGH") == [], "0 is not in the alphabet")
        #expect(BankReference.normalize("cv abcd efgh") == "CV-ABCD-EFGH")
        #expect(BankReference.normalize("pay CV-ABCD-EFGH") == nil)
    }

    @Test("a bank statement CSV: quoted fields, Chinese headers, default currency, per-row problems")
    func statementParsing() throws {
        let csv = "\u{FEFF}交易日期,收入金额,摘要\r\n2026-11-20,\"1,200.00\",\"会议费 CV-ABCD-EFGH, \"\"李雷\"\"\"\r\n2026-11-21,12.345,x\r\n,,\r\n2026-11-22,5,CV-WXYZ-2345\r\n"
        let rows = try BankStatement.parse(csv)
        #expect(rows.count == 3)
        guard case .line(let first) = rows[0] else { Issue.record("not a line"); return }
        #expect(first.line == 2)
        #expect(first.amountMinor == 120_000)
        #expect(first.currency == "CNY")
        #expect(first.remark == "会议费 CV-ABCD-EFGH, \"李雷\"")
        #expect(first.references == ["CV-ABCD-EFGH"])
        guard case .invalid(let line, _) = rows[1] else { Issue.record("not invalid"); return }
        #expect(line == 3)
        guard case .line(let last) = rows[2] else { Issue.record("not a line"); return }
        #expect(last.amountMinor == 500)
        #expect(throws: BankStatement.Failure.self) { try BankStatement.parse("a,b,c\n1,2,3\n") }
    }

    @Test("amounts in major units follow the currency's decimals")
    func majorUnits() {
        #expect(AmountRules.parseMajor("1200.00", currency: "CNY") == 120_000)
        #expect(AmountRules.parseMajor("1200.5", currency: "CNY") == 120_050)
        #expect(AmountRules.parseMajor("1200", currency: "JPY") == 1200)
        #expect(AmountRules.parseMajor("1200.5", currency: "JPY") == nil)
        #expect(AmountRules.parseMajor("1.2345", currency: "CNY") == nil)
        #expect(AmountRules.parseMajor("-5", currency: "CNY") == nil)
        #expect(AmountRules.parseMajor("12.", currency: "CNY") == nil)
        #expect(AmountRules.formatMajor(120_050, currency: "CNY") == "1200.50")
    }

    @Test("a payment matches only the order's exact amount and currency")
    func amountChecks() throws {
        let order = try Money(amountMinor: 12_800, currency: "CNY")
        #expect(AmountRules.matches(paid: 12_800, currency: "CNY", order: order))
        #expect(AmountRules.matches(paid: 12_800, currency: "cny", order: order))
        #expect(!AmountRules.matches(paid: 12_801, currency: "CNY", order: order))
        #expect(!AmountRules.matches(paid: 12_800, currency: "USD", order: order))
    }

    @Test("never refund more than was paid minus what is refunded")
    func refundLimits() throws {
        let paid = try Money(amountMinor: 10_000, currency: "USD")
        #expect(AmountRules.refundProblem(amount: paid.withAmount(10_000), paid: paid, alreadyRefunded: 0) == nil)
        #expect(AmountRules.refundProblem(amount: paid.withAmount(7_000), paid: paid, alreadyRefunded: 3_000) == nil)
        #expect(AmountRules.refundProblem(amount: paid.withAmount(7_001), paid: paid, alreadyRefunded: 3_000) != nil)
        #expect(AmountRules.refundProblem(amount: paid.withAmount(0), paid: paid, alreadyRefunded: 0) != nil)
        #expect(AmountRules.refundProblem(amount: try Money(amountMinor: 1, currency: "EUR"), paid: paid, alreadyRefunded: 0) != nil)
    }

    @Test("CSV export fields are quoted when needed and formulas neutralised; receipts escape every value")
    func exportAndReceipt() throws {
        #expect(CSV.line(["a", "b,c", "say \"hi\"", "=SUM(A1)"]) == "a,\"b,c\",\"say \"\"hi\"\"\",'=SUM(A1)\r\n")
        let html = ReceiptRenderer.html(ReceiptContent(
            receiptNumber: "2026-000001", orderNumber: "CV20261122AAAAAAAAAA", description: "<script>alert(1)</script>",
            amount: try Money(amountMinor: 12_800, currency: "CNY"), method: "alipay", paidAt: fixedNow,
            payer: Payer(accountId: "a", email: "a@example.com", name: "O'Brien & Co", locale: "en"),
            invoice: InvoiceDetails(title: "\"Quoted\" Ltd", taxId: "91110000")))
        #expect(!html.contains("<script>"))
        #expect(html.contains("&lt;script&gt;"))
        #expect(html.contains("O&#39;Brien &amp; Co"))
        #expect(html.contains("128.00 CNY"))
        #expect(ReceiptNumber.format(year: 2026, sequence: 123) == "2026-000123")
    }

    @Test("settings: a provider is enabled with all its settings, refused half configured; public URL required")
    func settings() throws {
        #expect(try PaymentSettings([:]).configuredMethods.isEmpty)
        // The local stacks export base URLs only: nothing is enabled, nothing refused.
        #expect(try PaymentSettings(["WECHATPAY_URL": "http://127.0.0.1:35081", "ALIPAY_GATEWAY_URL": "http://127.0.0.1:35081/gateway.do",
                                     "STRIPE_URL": "http://127.0.0.1:35081/stripe"]).configuredMethods.isEmpty)
        #expect(try PaymentSettings(["STRIPE_SECRET_KEY": "sk_test_secretvalue", "STRIPE_WEBHOOK_SECRET": "whsec_x",
                                     "PAYMENT_PUBLIC_URL": "https://convene.example"]).stripe?.url == "https://api.stripe.com")
        #expect(throws: ConveneError.self) { try PaymentSettings(["STRIPE_URL": "https://api.stripe.com", "STRIPE_SECRET_KEY": "sk_test_x"]) }
        #expect(throws: ConveneError.self) {
            try PaymentSettings(["STRIPE_URL": "https://api.stripe.com", "STRIPE_SECRET_KEY": "sk_test_x", "STRIPE_WEBHOOK_SECRET": "whsec_x"])
        }
        let settings = try PaymentSettings(["STRIPE_URL": "https://api.stripe.com", "STRIPE_SECRET_KEY": "sk_test_secretvalue",
                                            "STRIPE_WEBHOOK_SECRET": "whsec_x", "PAYMENT_PUBLIC_URL": "https://convene.example/",
                                            "BANK_ACCOUNT_NAME": "A", "BANK_NAME": "B", "BANK_ACCOUNT_NUMBER": "1",
                                            "RECONCILE_AFTER": "5m"])
        #expect(settings.configuredMethods == ["stripe", "bank_transfer"])
        #expect(settings.notifyURL(.stripe) == "https://convene.example/v1/payments/callbacks/stripe")
        #expect(settings.reconcileAfter == .seconds(300))
        #expect(!"\(settings)".contains("sk_test_secretvalue"))
        do {
            _ = try PaymentSettings(["ALIPAY_APP_ID": "1", "WECHATPAY_APIV3_KEY": "short"])
            Issue.record("half-configured providers accepted")
        } catch let error as ConveneError {
            #expect(error.message.contains("Alipay is half configured"))
            #expect(error.message.contains("WeChat Pay is half configured"))
            #expect(!error.message.contains("short"))
        }
    }

    @Test("Stripe session expiry is the order's, clamped to 31 minutes … 23 hours from the intent")
    func stripeExpiry() throws {
        func order(expiresIn seconds: TimeInterval) throws -> Order {
            Order(id: UUID(), orderNumber: "CV20261122AAAAAAAAAA", registrationId: "r", conferenceId: "c", organizationId: nil,
                  payer: Payer(accountId: "a", email: "a@b.c", name: "n", locale: "en"), description: "d",
                  amount: try Money(amountMinor: 1, currency: "USD"), methods: ["stripe"], status: .pending,
                  bankReference: "CV-AAAA-AAAA", expiresAt: fixedNow.addingTimeInterval(seconds), invoice: nil, createdAt: fixedNow)
        }
        #expect(StartCheckoutHandler.providerExpiry(.stripe, order: try order(expiresIn: 60), intentAt: fixedNow)
                == fixedNow.addingTimeInterval(31 * 60))
        #expect(StartCheckoutHandler.providerExpiry(.stripe, order: try order(expiresIn: 7200), intentAt: fixedNow)
                == fixedNow.addingTimeInterval(7200))
        #expect(StartCheckoutHandler.providerExpiry(.stripe, order: try order(expiresIn: 5 * 86_400), intentAt: fixedNow)
                == fixedNow.addingTimeInterval(23 * 3600))
        #expect(StartCheckoutHandler.providerExpiry(.wechatPay, order: try order(expiresIn: 60), intentAt: fixedNow)
                == fixedNow.addingTimeInterval(60))
    }
}
