import Contracts
import Foundation
import HTTPClient
@testable import Payment
import Testing
import TestSupport

/// The service end to end in-process: commands and requests through the broker, state in its
/// own schema, the providers played by the contract server.
@Suite("Payment service", .serialized)
struct PaymentFlowTests {
    /// Runs `body` against a started harness and always stops it.
    func withHarness(settings: [String: String] = [:], timers: Bool = true,
                     _ body: (PaymentHarness) async throws -> Void) async throws {
        let harness = try await PaymentHarness(settings: settings, timers: timers)
        try await harness.start()
        do { try await body(harness) } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }

    func paidOnce(_ h: PaymentHarness, _ registrationId: String) async throws -> [String: Any] {
        #expect(try await eventually(timeout: .seconds(10)) { try await h.order(registrationId: registrationId)?.status == "paid" })
        let succeeded = try await h.events("payment.succeeded", registrationId: registrationId)
        #expect(succeeded.count == 1)
        return succeeded.first ?? [:]
    }

    @Test("WeChat Pay: order, QR checkout, signed callback → paid with a receipt; a callback replayed 3 times confirms once")
    func wechatPay() async throws {
        try await withHarness { h in
            let (registrationId, order) = try await h.createOrder()
            #expect(try await h.events("payment.order_created", registrationId: registrationId).count == 1)
            let view = try await h.checkout(registrationId, accountId: order.accountId, method: "wechat_pay")
            #expect(view.qrCode?.hasPrefix("weixin://wxpay/bizpayurl") == true)
            #expect(view.orderNumber == order.orderNumber)
            let again = try await h.checkout(registrationId, accountId: order.accountId, method: "wechat_pay")
            #expect(again == view)
            let created = try await h.contracts.requests("wechatpay").filter {
                ($0["path"] as? String) == "/v3/pay/transactions/native" && (($0["body"] as? String)?.contains(order.orderNumber) ?? false)
            }
            #expect(created.count == 1, "the same checkout twice is one provider order")

            let id = try await h.contracts.trigger("/_admin/wechatpay/transactions/\(order.orderNumber)/pay?mchid=\(h.accounts.mchid)")
            let request = try await h.contracts.deliver("wechatpay", notification: id)
            for _ in 0..<3 {
                let answer = try await h.callback("wechat_pay", request)
                #expect([200, 204].contains(answer.status))
            }
            let succeeded = try await paidOnce(h, registrationId)
            #expect(succeeded["method"] as? String == "wechat_pay")
            let receipt = try #require(succeeded["receiptNumber"] as? String)
            #expect(receipt.wholeMatch(of: /\d{4}-\d{6}/) != nil)
            #expect(try await h.order(registrationId: registrationId)?.receiptNumber == receipt)
        }
    }

    @Test("Alipay: order, precreate QR and page-pay URL, signed notify → paid with a receipt")
    func alipay() async throws {
        try await withHarness { h in
            let (registrationId, order) = try await h.createOrder(amountMinor: 120_000)
            let view = try await h.checkout(registrationId, accountId: order.accountId, method: "alipay")
            #expect(view.qrCode?.hasPrefix("https://qr.alipay.com/") == true)
            #expect(view.redirectUrl?.contains("alipay.trade.page.pay") == true)
            let id = try await h.contracts.trigger("/_admin/alipay/trades/\(order.orderNumber)/pay?app_id=\(h.accounts.alipayAppId)")
            let request = try await h.contracts.deliver("alipay", notification: id)
            let answer = try await h.callback("alipay", request)
            #expect(answer.status == 200)
            #expect(Data(base64Encoded: answer.body).map { String(decoding: $0, as: UTF8.self) } == "success")
            _ = try await h.callback("alipay", request)
            let succeeded = try await paidOnce(h, registrationId)
            #expect(succeeded["method"] as? String == "alipay")
            #expect((succeeded["amount"] as? [String: Any])?["amountMinor"] as? Int == 120_000)
            #expect(succeeded["receiptNumber"] as? String != nil)
        }
    }

    @Test("Stripe: order, Checkout Session, signed webhook → paid with a receipt; a refund event we did not ask for changes nothing")
    func stripe() async throws {
        try await withHarness { h in
            let (registrationId, order) = try await h.createOrder(amountMinor: 9_900, currency: "USD", methods: ["stripe"])
            let view = try await h.checkout(registrationId, accountId: order.accountId, method: "stripe")
            let url = try #require(view.redirectUrl)
            let sessionId = try #require(url.split(separator: "/").last.map(String.init))
            #expect(sessionId.hasPrefix("cs_"))
            let id = try await h.contracts.trigger("/_admin/stripe/checkout/sessions/\(sessionId)/complete")
            let request = try await h.contracts.deliver("stripe", notification: id)
            let answer = try await h.callback("stripe", request)
            #expect(answer.status == 200)
            let succeeded = try await paidOnce(h, registrationId)
            #expect(succeeded["method"] as? String == "stripe")
            #expect(succeeded["receiptNumber"] as? String != nil)

            // A refund made in Stripe's dashboard (not through us) arrives as charge.refunded: acknowledged, nothing changes.
            let intent = try #require(try await h.stripePaymentIntent(registrationId))
            let response = try await h.contracts.http.execute(HTTPRequest(
                method: .post, url: h.contracts.base + "/stripe/v1/refunds",
                headers: [("Authorization", "Bearer \(h.accounts.stripeSecretKey)"), ("Content-Type", "application/x-www-form-urlencoded")],
                body: Array("payment_intent=\(intent)&amount=100".utf8)))
            #expect(response.status == 200)
            let refundEvent = try #require(try await h.contracts.notifications("stripe").last {
                $0["type"] as? String == "charge.refunded" && (($0["body"] as? String)?.contains(intent) ?? false)
            }?["id"] as? String)
            let answer2 = try await h.callback("stripe", try await h.contracts.deliver("stripe", notification: refundEvent))
            #expect(answer2.status == 200)
            #expect(try await h.order(registrationId: registrationId)?.status == "paid")
            #expect(try await h.events("payment.refunded").isEmpty)
            #expect(try await h.events("payment.succeeded", registrationId: registrationId).count == 1)
        }
    }

    @Test("forged and stale callbacks get the provider's failure answer and change nothing")
    func forgedAndStale() async throws {
        try await withHarness { h in
            let (registrationId, order) = try await h.createOrder()
            _ = try await h.checkout(registrationId, accountId: order.accountId, method: "wechat_pay")
            let id = try await h.contracts.trigger("/_admin/wechatpay/transactions/\(order.orderNumber)/pay?mchid=\(h.accounts.mchid)")
            for tamper in ["signature", "stale"] {
                let answer = try await h.callback("wechat_pay", try await h.contracts.deliver("wechatpay", notification: id, tamper: tamper))
                #expect(answer.status == 401, "\(tamper)")
            }
            let (stripeRegistration, stripeOrder) = try await h.createOrder(methods: ["stripe"])
            let view = try await h.checkout(stripeRegistration, accountId: stripeOrder.accountId, method: "stripe")
            let session = try #require(view.redirectUrl?.split(separator: "/").last.map(String.init))
            let stripeId = try await h.contracts.trigger("/_admin/stripe/checkout/sessions/\(session)/complete")
            for tamper in ["signature", "stale"] {
                let answer = try await h.callback("stripe", try await h.contracts.deliver("stripe", notification: stripeId, tamper: tamper))
                #expect(answer.status == 400, "\(tamper)")
            }
            let forged = try await h.contracts.deliver("alipay", notification: try await alipayPaid(h), tamper: "signature")
            #expect(try await h.callback("alipay", forged).status == 401)

            try await Task.sleep(for: .milliseconds(300))
            #expect(try await h.order(registrationId: registrationId)?.status == "pending")
            #expect(try await h.order(registrationId: stripeRegistration)?.status == "pending")
            #expect(try await h.events("payment.succeeded").isEmpty)
            #expect(try await h.count("SELECT count(*) AS n FROM provider_events") == 0)
        }
    }

    /// An Alipay order paid at Alipay (its notification held); returns the notification id.
    func alipayPaid(_ h: PaymentHarness) async throws -> String {
        let (registrationId, order) = try await h.createOrder()
        _ = try await h.checkout(registrationId, accountId: order.accountId, method: "alipay")
        return try await h.contracts.trigger("/_admin/alipay/trades/\(order.orderNumber)/pay?app_id=\(h.accounts.alipayAppId)")
    }

    @Test("a correctly signed callback with the wrong amount gets a failure answer and leaves the order pending")
    func wrongAmount() async throws {
        try await withHarness { h in
            let (registrationId, order) = try await h.createOrder()
            _ = try await h.checkout(registrationId, accountId: order.accountId, method: "wechat_pay")
            let id = try await h.contracts.trigger("/_admin/wechatpay/transactions/\(order.orderNumber)/pay?mchid=\(h.accounts.mchid)")
            let answer = try await h.callback("wechat_pay", try await h.contracts.deliver("wechatpay", notification: id, tamper: "amount"))
            #expect(answer.status >= 400)
            #expect(try await h.order(registrationId: registrationId)?.status == "pending")
            #expect(try await h.events("payment.succeeded").isEmpty)
            // The genuine notification, sent again, still completes it.
            let genuine = try await h.callback("wechat_pay", try await h.contracts.deliver("wechatpay", notification: id))
            #expect([200, 204].contains(genuine.status))
            _ = try await paidOnce(h, registrationId)
        }
    }

    @Test("a missed callback is recovered by reconciliation")
    func reconciliation() async throws {
        try await withHarness(settings: ["RECONCILE_AFTER": "1s"]) { h in
            let (registrationId, order) = try await h.createOrder()
            _ = try await h.checkout(registrationId, accountId: order.accountId, method: "alipay")
            _ = try await h.contracts.trigger("/_admin/alipay/trades/\(order.orderNumber)/pay?app_id=\(h.accounts.alipayAppId)")
            let succeeded = try await paidOnce(h, registrationId)
            #expect(succeeded["method"] as? String == "alipay")
            #expect(succeeded["receiptNumber"] as? String != nil)
        }
    }

    @Test("an unpaid order expires (payment.order_expired, provider order closed); a transfer arriving later still emits payment.succeeded")
    func expiryAndLatePayment() async throws {
        try await withHarness { h in
            let (registrationId, order) = try await h.createOrder(expiresIn: 4)
            _ = try await h.checkout(registrationId, accountId: order.accountId, method: "wechat_pay")
            let bank = try await h.checkout(registrationId, accountId: order.accountId, method: "bank_transfer")
            #expect(try await eventually(timeout: .seconds(15)) { try await h.order(registrationId: registrationId)?.status == "expired" })
            #expect(try await h.events("payment.order_expired", registrationId: registrationId).count == 1)
            #expect(try await eventually(timeout: .seconds(10)) {
                try await h.contracts.requests("wechatpay").contains {
                    ($0["path"] as? String) == "/v3/pay/transactions/out-trade-no/\(order.orderNumber)/close" && $0["status"] as? Int == 204
                }
            })
            let reference = try #require(bank.bankTransfer?.reference)
            let report = try await h.ask(ImportBankStatement(csv: "date,amount,currency,remark\n2026-11-22,128.00,CNY,fee \(reference.lowercased())\n",
                                                             importedBy: "staff-1"), as: BankStatementReport.self).get()
            #expect(report.rows.map(\.outcome) == ["matched"])
            #expect(try await h.order(registrationId: registrationId)?.status == "paid_late")
            let succeeded = try await h.events("payment.succeeded", registrationId: registrationId)
            #expect(succeeded.count == 1)
            #expect(succeeded.first?["method"] as? String == "bank_transfer")
        }
    }

    @Test("money arriving for a cancelled order is recorded as paid_late and reported, never kept silently")
    func cancelledThenPaid() async throws {
        try await withHarness(timers: false) { h in
            let (registrationId, order) = try await h.createOrder()
            _ = try await h.checkout(registrationId, accountId: order.accountId, method: "wechat_pay")
            try await h.command(CancelOrder(registrationId: registrationId))
            #expect(try await eventually { try await h.order(registrationId: registrationId)?.status == "cancelled" })
            // The close did not reach WeChat Pay yet (timers stopped) and the payer paid.
            let id = try await h.contracts.trigger("/_admin/wechatpay/transactions/\(order.orderNumber)/pay?mchid=\(h.accounts.mchid)")
            let answer = try await h.callback("wechat_pay", try await h.contracts.deliver("wechatpay", notification: id))
            #expect([200, 204].contains(answer.status))
            #expect(try await h.order(registrationId: registrationId)?.status == "paid_late")
            #expect(try await h.events("payment.succeeded", registrationId: registrationId).count == 1)
        }
    }

    @Test("refunds, full and partial, reach the provider with their idempotency key and settle once")
    func refunds() async throws {
        try await withHarness { h in
            // Stripe, partial twice: settled at once.
            let (registrationId, order) = try await h.createOrder(amountMinor: 10_000, currency: "USD", methods: ["stripe"])
            let view = try await h.checkout(registrationId, accountId: order.accountId, method: "stripe")
            let session = try #require(view.redirectUrl?.split(separator: "/").last.map(String.init))
            let id = try await h.contracts.trigger("/_admin/stripe/checkout/sessions/\(session)/complete")
            _ = try await h.callback("stripe", try await h.contracts.deliver("stripe", notification: id))
            _ = try await paidOnce(h, registrationId)
            let usd = { (minor: Int64) in try Money(amountMinor: minor, currency: "USD") }
            let first = "RF" + PaymentContracts.random(10)
            try await h.command(RequestRefund(registrationId: registrationId, refundNumber: first, amount: try usd(3_000), reason: "withdrawal"))
            try await h.command(RequestRefund(registrationId: registrationId, refundNumber: first, amount: try usd(3_000), reason: "withdrawal"))
            #expect(try await eventually(timeout: .seconds(10)) { try await h.refundStatus(first) == "succeeded" })
            let stripeRefunds = try await h.contracts.requests("stripe").filter {
                ($0["path"] as? String) == "/stripe/v1/refunds"
                    && (($0["headers"] as? [String: String])?.first { $0.key.lowercased() == "idempotency-key" }?.value == "convene-refund-\(first)")
            }
            #expect(stripeRefunds.count == 1)
            // More than what is left is refused without asking Stripe.
            let tooMuch = "RF" + PaymentContracts.random(10)
            try await h.command(RequestRefund(registrationId: registrationId, refundNumber: tooMuch, amount: try usd(7_001), reason: "withdrawal"))
            #expect(try await eventually { try await h.refundStatus(tooMuch) == "failed" })
            #expect(try await h.events("payment.refund_failed", registrationId: registrationId).count == 1)
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await h.events("payment.refunded", registrationId: registrationId).count == 1)
            #expect(try await h.order(registrationId: registrationId)?.status == "partially_refunded")

            // WeChat Pay, in full: accepted (PROCESSING), settled by its REFUND.SUCCESS notification.
            let (wechatRegistration, wechatOrder) = try await h.createOrder()
            _ = try await h.checkout(wechatRegistration, accountId: wechatOrder.accountId, method: "wechat_pay")
            let paid = try await h.contracts.trigger("/_admin/wechatpay/transactions/\(wechatOrder.orderNumber)/pay?mchid=\(h.accounts.mchid)")
            _ = try await h.callback("wechat_pay", try await h.contracts.deliver("wechatpay", notification: paid))
            _ = try await paidOnce(h, wechatRegistration)
            let full = "RF" + PaymentContracts.random(10)
            try await h.command(RequestRefund(registrationId: wechatRegistration, refundNumber: full,
                                              amount: try Money(amountMinor: 12_800, currency: "CNY"), reason: "cancellation"))
            #expect(try await eventually(timeout: .seconds(10)) { try await h.refundStatus(full) == "processing" })
            let settled = try await h.contracts.trigger("/_admin/wechatpay/refunds/\(full)/settle?mchid=\(h.accounts.mchid)")
            let answer = try await h.callback("wechat_pay", try await h.contracts.deliver("wechatpay", notification: settled))
            #expect([200, 204].contains(answer.status))
            #expect(try await h.refundStatus(full) == "succeeded")
            #expect(try await h.order(registrationId: wechatRegistration)?.status == "refunded")
            let refunded = try await h.events("payment.refunded", registrationId: wechatRegistration)
            #expect(refunded.count == 1)
            #expect(refunded.first?["refundNumber"] as? String == full)
            let requests = try await h.contracts.requests("wechatpay").filter {
                ($0["path"] as? String) == "/v3/refund/domestic/refunds" && (($0["body"] as? String)?.contains(full) ?? false)
            }
            #expect(!requests.isEmpty)
        }
    }

    @Test("bank transfer: instructions with the reference; a statement import completes the order; the same import twice changes nothing")
    func bankTransfer() async throws {
        try await withHarness { h in
            let (registrationId, order) = try await h.createOrder(amountMinor: 120_000)
            let view = try await h.checkout(registrationId, accountId: order.accountId, method: "bank_transfer")
            let instructions = try #require(view.bankTransfer)
            #expect(instructions.reference == order.bankReference)
            #expect(instructions.accountNumber == "6222 0000 1111 2222")
            let spaced = instructions.reference.replacingOccurrences(of: "-", with: " ").lowercased()
            let csv = """
                日期,金额,币种,附言
                2026-11-20,"1,200.00",CNY,"registration \(spaced), Li Lei"
                2026-11-20,99.00,CNY,no reference here
                2026-11-21,1200.00,CNY,CV-ZZZZ-ZZZZ
                2026-11-21,12.00,CNY,\(order.bankReference)
                2026-11-21,abc,CNY,x

                """
            let report = try await h.ask(ImportBankStatement(csv: csv, importedBy: "staff-1"), as: BankStatementReport.self).get()
            #expect(report.rows.map(\.outcome) == ["matched", "no_reference", "unknown_reference", "amount_mismatch", "invalid"])
            #expect(report.rows.first?.orderNumber == order.orderNumber)
            let again = try await h.ask(ImportBankStatement(csv: csv, importedBy: "staff-1"), as: BankStatementReport.self).get()
            #expect(again.rows.first?.outcome == "already_paid")
            _ = try await paidOnce(h, registrationId)
            #expect(try await h.order(registrationId: registrationId)?.method == "bank_transfer")
        }
    }

    @Test("another account cannot start a checkout on someone's order, nor see it")
    func objectLevelAuthorization() async throws {
        try await withHarness { h in
            let (registrationId, order) = try await h.createOrder()
            let reply = try await h.ask(StartCheckout(registrationId: registrationId, accountId: "acct-intruder", method: "wechat_pay"),
                                        as: CheckoutView.self)
            #expect(reply.error?.code == "payment.not_found")
            let view = try await h.ask(GetOrder(registrationId: registrationId, accountId: "acct-intruder"), as: OrderView.self)
            #expect(view.error?.code == "payment.not_found")
            let own = try await h.ask(GetOrder(registrationId: registrationId, accountId: order.accountId), as: OrderView.self).get()
            #expect(own.orderNumber == order.orderNumber)
            let unavailable = try await h.ask(StartCheckout(registrationId: registrationId, accountId: order.accountId, method: "paypal"),
                                              as: CheckoutView.self)
            #expect(unavailable.error?.code == "payment.method_unavailable")
            #expect(try await h.contracts.requests("wechatpay").allSatisfy { !(($0["body"] as? String)?.contains(order.orderNumber) ?? false) })
        }
    }

    @Test("a second create_order for the registration is a no-op; waiver, receipt and the accounting export")
    func idempotentOrderWaiverReceiptExport() async throws {
        try await withHarness { h in
            let (registrationId, order) = try await h.createOrder()
            try await h.command(CreateOrder(registrationId: registrationId, conferenceId: "conf-1",
                                            payer: Payer(accountId: order.accountId, email: "x@example.com", name: "X", locale: "en"),
                                            amount: try Money(amountMinor: 12_800, currency: "CNY"), description: "again",
                                            expiresAt: Date().addingTimeInterval(3600), methods: ["alipay"], invoice: nil))
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await h.count("SELECT count(*) AS n FROM orders WHERE registration_id = $1", [registrationId]) == 1)

            let (waivedRegistration, _) = try await h.createOrder()
            let waived = try await h.ask(WaiveOrder(registrationId: waivedRegistration, reason: "speaker", waivedBy: "staff-1"),
                                         as: OrderView.self).get()
            #expect(waived.status == "waived")
            let event = try #require(try await h.events("payment.succeeded", registrationId: waivedRegistration).first)
            #expect(event["method"] as? String == "waiver")
            #expect(event["receiptNumber"] == nil)

            let reference = order.bankReference
            _ = try await h.ask(ConfirmBankTransfer(reference: reference, amount: try Money(amountMinor: 12_800, currency: "CNY"),
                                                    confirmedBy: "staff-2"), as: OrderView.self).get()
            let paid = try #require(try await h.order(registrationId: registrationId))
            let receiptNumber = try #require(paid.receiptNumber)
            let receipt = try await h.ask(GetReceipt(orderNumber: paid.orderNumber, accountId: order.accountId), as: ReceiptDocument.self).get()
            #expect(receipt.receiptNumber == receiptNumber)
            #expect(receipt.html.contains("Li &lt;Lei&gt;"))
            #expect(!receipt.html.contains("<Lei>"))
            let other = try await h.ask(GetReceipt(orderNumber: paid.orderNumber, accountId: "acct-intruder"), as: ReceiptDocument.self)
            #expect(other.error?.code == "payment.not_found")
            let export = try await h.ask(ListPaidOrders(conferenceId: "conf-1"), as: PaidOrdersExport.self).get()
            #expect(export.count == 1)
            #expect(export.csv.hasPrefix("order_number,receipt_number,paid_at,method,amount,currency"))
            #expect(export.csv.contains("\(paid.orderNumber),\(receiptNumber),"))
            #expect(export.csv.contains(",bank_transfer,128.00,CNY,Li <Lei>,"))
            let elsewhere = try await h.ask(ListPaidOrders(), as: PaidOrdersExport.self, organizationId: "org-other").get()
            #expect(elsewhere.count == 0)
        }
    }
    @Test("a checkout whose result was lost (a crash after the provider call) is asked for again and is the same provider order")
    func checkoutAfterCrash() async throws {
        try await withHarness { h in
            let (registrationId, order) = try await h.createOrder(methods: ["wechat_pay", "stripe"])
            let wechat = try await h.checkout(registrationId, accountId: order.accountId, method: "wechat_pay")
            let stripe = try await h.checkout(registrationId, accountId: order.accountId, method: "stripe")
            // What a crash between the provider's answer and recording it leaves: the intent only.
            _ = try await h.count("""
                WITH lost AS (UPDATE checkouts SET status = 'creating', qr_code = NULL, redirect_url = NULL RETURNING 1)
                SELECT count(*) AS n FROM lost
                """)
            let wechatAgain = try await h.checkout(registrationId, accountId: order.accountId, method: "wechat_pay")
            let stripeAgain = try await h.checkout(registrationId, accountId: order.accountId, method: "stripe")
            #expect(wechatAgain.qrCode == wechat.qrCode)
            #expect(stripeAgain.redirectUrl == stripe.redirectUrl)
            let sessions = try await h.contracts.requests("stripe").filter {
                ($0["path"] as? String) == "/stripe/v1/checkout/sessions" && (($0["body"] as? String)?.contains(order.orderNumber) ?? false)
            }
            #expect(sessions.count == 2)
            #expect(sessions.allSatisfy { $0["status"] as? Int == 200 })
            #expect(try await h.count("SELECT count(*) AS n FROM checkouts WHERE status = 'ready'") == 2)
        }
    }
}
