import Contracts
import Foundation
@testable import Gateway
import HTTPClient
import Testing
import TestSupport

extension EndToEnd {
/// Paid registrations from sign-up to a confirmation email, through the gateway, registration,
/// payment (against the contract server's WeChat Pay, Alipay and Stripe, which call back through
/// the gateway) and notification.
@Suite("Paid registration, end to end", .serialized)
struct PaidRegistrationTests {
    var stack: GatewayStack { get throws { try #require(GatewayStack.current, "the suite trait starts the stack") } }

    /// A published conference with one paid category (¥100.00) and every payment method.
    func paidConference() async throws -> (id: String, organizer: String) {
        let stack = try stack
        let organizer = try await stack.token(account: UUID().uuidString.lowercased(), roles: [.user, .meetingAdmin])
        let id = try await RegistrationFlowTests().conference(organizer: organizer, settings: [
            "form": ["fields": [["key": "affiliation", "type": "text", "label": ["en": "Affiliation"], "required": true]]],
            "categories": [["key": "regular", "names": ["zh-CN": "正式代表", "en": "Regular"],
                            "fee": ["regular": ["amountMinor": 10000, "currency": "CNY"]]]],
            "reviewRequired": false, "waitlistEnabled": false, "paymentWindowMinutes": 30,
            "paymentMethods": ["wechat_pay", "alipay", "stripe", "bank_transfer"],
        ])
        return (id, organizer)
    }

    struct Participant {
        var email: String
        var token: String
    }

    /// A participant who signed up and signed in.
    func signUp() async throws -> Participant {
        let stack = try stack
        let email = "payer-\(UUID().uuidString.prefix(8).lowercased())@example.org"
        let created = try await stack.call(.post, "/v1/accounts", body: AccountTests.json([
            "email": email, "password": "correct horse battery", "name": "李雷", "locale": "zh-CN"]))
        #expect(created.status == 201)
        let session = try await stack.call(.post, "/v1/auth/login", body: AccountTests.json(["email": email, "password": "correct horse battery"]))
        return Participant(email: email, token: try session.decode(TokenPair.self).accessToken)
    }

    /// Registers and waits for the order payment created for it.
    func register(_ participant: Participant, for conference: String) async throws -> (registration: String, order: OrderView) {
        let stack = try stack
        let submitted = try await stack.call(.post, "/v1/conferences/\(conference)/registrations", token: participant.token,
                                             body: AccountTests.json(["category": "regular", "answers": ["affiliation": "复旦大学"],
                                                                      "invoice": ["title": "复旦大学", "taxId": "12100000425006117P"]]))
        #expect(submitted.status == 201)
        let registration = try submitted.decode(RegistrationView.self)
        #expect(registration.status == "awaiting_payment" && registration.price.amountMinor == 10000)
        var order: OrderView?
        _ = await eventually(timeout: .seconds(30)) {
            order = try? await stack.call(.get, "/v1/me/registrations/\(registration.id)/order", token: participant.token)
                .decode(OrderView.self)
            return order != nil
        }
        return (registration.id, try #require(order, "payment made no order for the registration"))
    }

    func checkout(_ participant: Participant, _ registration: String, method: String) async throws -> CheckoutView {
        let response = try await stack.call(.post, "/v1/me/registrations/\(registration)/payment", token: participant.token,
                                            body: AccountTests.json(["method": method]))
        #expect(response.status == 200, "\(String(decoding: response.body, as: UTF8.self))")
        return try response.decode(CheckoutView.self)
    }

    func status(_ participant: Participant, _ registration: String) async throws -> String {
        try await stack.call(.get, "/v1/me/registrations/\(registration)", token: participant.token).decode(RegistrationView.self).status
    }

    func confirmed(_ participant: Participant, _ registration: String) async -> Bool {
        await eventually(timeout: .seconds(30)) { (try? await status(participant, registration)) == "confirmed" }
    }

    /// Whether an email to `address` arrived at the test SMTP server.
    func mailArrived(to address: String, containing text: String) async throws -> Bool {
        let maildir = try TestStack.environment("CONVENE_MAILDIR")
        return await eventually(timeout: .seconds(30)) {
            for folder in ["new", "cur"] {
                let path = maildir + "/" + folder
                for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
                    guard let data = FileManager.default.contents(atPath: path + "/" + name) else { continue }
                    let mail = String(decoding: data, as: UTF8.self)
                    if mail.contains(address) && mail.contains(text) { return true }
                }
            }
            return false
        }
    }

    /// Runs a provider's trigger (a payer paying) with its notification held, and answers the
    /// notification's id.
    func pay(_ path: String) async throws -> String {
        try await stack.contracts.trigger(path)
    }

    /// Hands a provider's notification to this stack's gateway exactly as the provider sent it
    /// (headers and raw body), as the provider would; answers what the gateway answered.
    func forward(_ provider: String, notification id: String, tamper: String? = nil) async throws -> HTTPResponse {
        let stack = try stack
        let captured = try await stack.contracts.deliver(provider, notification: id, tamper: tamper)
        let route = provider == "wechatpay" ? "wechat_pay" : provider
        var request = HTTPRequest(method: .post, url: stack.baseURL + "/v1/payments/callbacks/\(route)", body: Array(captured.body.utf8))
        let hopByHop: Set<String> = ["host", "content-length", "connection", "accept-encoding", "user-agent", "transfer-encoding"]
        for (name, value) in captured.headers where !hopByHop.contains(name.lowercased()) { request.setHeader(name, value) }
        return try await stack.client.execute(request)
    }

    @Test("WeChat Pay: sign-up, registration, QR checkout, the signed callback (sent 3 times) confirms once, and the confirmation email arrives")
    func wechatPay() async throws {
        let (conference, _) = try await paidConference()
        let participant = try await signUp()
        let (registration, order) = try await register(participant, for: conference)
        let checkout = try await checkout(participant, registration, method: "wechat_pay")
        #expect(checkout.qrCode?.hasPrefix("weixin://wxpay/bizpayurl") == true)
        let notification = try await pay("/_admin/wechatpay/transactions/\(order.orderNumber)/pay?mchid=\(try stack.payments.mchid)")
        let forged = try await forward("wechatpay", notification: notification, tamper: "signature")
        #expect(forged.status >= 400, "a forged callback is refused")
        #expect(try await status(participant, registration) == "awaiting_payment", "and changes nothing")
        var statuses: [Int] = []
        for _ in 0..<3 { statuses.append(try await forward("wechatpay", notification: notification).status) }
        #expect(statuses.allSatisfy { (200..<300).contains($0) }, "each delivery acknowledged: \(statuses)")
        #expect(await confirmed(participant, registration))
        let paid = try await stack.call(.get, "/v1/me/registrations/\(registration)/order", token: participant.token).decode(OrderView.self)
        #expect(paid.status == "paid" && paid.receiptNumber != nil && paid.invoice?.taxId == "12100000425006117P")
        #expect(try await mailArrived(to: participant.email, containing: "Subject:"))
    }

    @Test("Alipay and Stripe: each provider's signed callback through the gateway confirms the registration")
    func alipayAndStripe() async throws {
        let (conference, _) = try await paidConference()
        let alipayPayer = try await signUp()
        let (alipayRegistration, alipayOrder) = try await register(alipayPayer, for: conference)
        let alipayCheckout = try await checkout(alipayPayer, alipayRegistration, method: "alipay")
        #expect(alipayCheckout.qrCode != nil && alipayCheckout.redirectUrl != nil)
        let alipayNotification = try await pay("/_admin/alipay/trades/\(alipayOrder.orderNumber)/pay?app_id=\(try stack.payments.alipayAppId)")
        let alipayAnswer = try await forward("alipay", notification: alipayNotification)
        #expect(alipayAnswer.bodyString == "success", "Alipay is answered exactly `success`")
        #expect(await confirmed(alipayPayer, alipayRegistration))

        let stripePayer = try await signUp()
        let (stripeRegistration, _) = try await register(stripePayer, for: conference)
        let stripeCheckout = try await checkout(stripePayer, stripeRegistration, method: "stripe")
        let session = try #require(stripeCheckout.redirectUrl?.split(separator: "/").last.map(String.init))
        let stripeNotification = try await pay("/_admin/stripe/checkout/sessions/\(session)/complete")
        let stripeAnswer = try await forward("stripe", notification: stripeNotification)
        #expect((200..<300).contains(stripeAnswer.status), "\(stripeAnswer.bodyString)")
        #expect(await confirmed(stripePayer, stripeRegistration))
    }

    @Test("bank transfer: the organizer imports a statement with the transfer's reference and the registration is confirmed")
    func bankTransfer() async throws {
        let stack = try stack
        let (conference, organizer) = try await paidConference()
        let payer = try await signUp()
        let (registration, _) = try await register(payer, for: conference)
        let checkout = try await checkout(payer, registration, method: "bank_transfer")
        let reference = try #require(checkout.bankTransfer?.reference)
        var request = HTTPRequest(method: .post, url: stack.baseURL + "/v1/organizations/\(stack.organizationId)/payments/bank-statements",
                                  body: Array("date,amount,currency,remark\n2026-11-22,100.00,CNY,会议注册费 \(reference)\n".utf8))
        request.setHeader("Content-Type", "text/csv")
        request.setHeader("Authorization", "Bearer " + organizer)
        let report = try await stack.client.execute(request)
        #expect(report.status == 200, "\(String(decoding: report.body, as: UTF8.self))")
        #expect(try report.decode(BankStatementReport.self).rows.map(\.outcome) == ["matched"])
        #expect(await confirmed(payer, registration))
    }

    @Test("money that arrives after the participant withdrew is refunded automatically: never kept without a seat")
    func latePaymentRefunded() async throws {
        let stack = try stack
        let (conference, _) = try await paidConference()
        let payer = try await signUp()
        let (registration, order) = try await register(payer, for: conference)
        _ = try await checkout(payer, registration, method: "wechat_pay")
        let withdrawn = try await stack.call(.post, "/v1/me/registrations/\(registration)/withdraw", token: payer.token, body: "{}")
        #expect(try withdrawn.decode(RegistrationView.self).status == "withdrawn")
        // The payer had already scanned the code: the money arrives anyway.
        let notification = try await pay("/_admin/wechatpay/transactions/\(order.orderNumber)/pay?mchid=\(stack.payments.mchid)")
        #expect((200..<300).contains(try await forward("wechatpay", notification: notification).status))
        let refunded = await eventually(timeout: .seconds(30)) {
            let requests = (try? await stack.contracts.requests("wechatpay")) ?? []
            return requests.contains { ($0["path"] as? String)?.hasPrefix("/v3/refund/domestic/refunds") == true
                && (($0["body"] as? String) ?? "").contains(order.orderNumber) }
        }
        #expect(refunded, "payment asked WeChat Pay to refund the late payment")
        #expect(try await status(payer, registration) == "withdrawn", "no seat comes back with the money")
    }
}
}
