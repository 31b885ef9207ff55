import Contracts
import Foundation
@testable import Gateway
import HTTPClient
import Testing
import TestSupport

extension EndToEnd {
/// Receipts and the finance side of payment, through the gateway: the receipt link in the
/// payment email, duplicate payments refunded on their own, and bank refunds settled by staff.
@Suite("Receipts, duplicate payments and manual refunds, end to end", .serialized)
struct FinanceTests {
    var stack: GatewayStack { get throws { try #require(GatewayStack.current, "the suite trait starts the stack") } }
    let paid = PaidRegistrationTests()

    /// Every base64 body part of the mails to `address` (text, HTML, attachments), decoded.
    func mailParts(to address: String) throws -> [String] {
        let maildir = try TestStack.environment("CONVENE_MAILDIR")
        var parts: [String] = []
        for folder in ["new", "cur"] {
            let path = maildir + "/" + folder
            for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
                guard let data = FileManager.default.contents(atPath: path + "/" + name) else { continue }
                let mail = String(decoding: data, as: UTF8.self)
                guard mail.contains(address) else { continue }
                var block = ""
                for line in mail.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
                    if !line.isEmpty && line.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+/=".contains($0)) }) {
                        block += line
                    } else if !block.isEmpty {
                        if let decoded = Data(base64Encoded: block) { parts.append(String(decoding: decoded, as: UTF8.self)) }
                        block = ""
                    }
                }
            }
        }
        return parts
    }

    /// The receipt link of the payment email to `address`, once it arrived.
    func receiptLink(to address: String) async throws -> String? {
        var link: String?
        _ = await eventually(timeout: .seconds(30)) {
            for part in (try? mailParts(to: address)) ?? [] {
                if let match = part.firstMatch(of: /https?:\/\/[^\s"<]+\/v1\/receipts\/[A-Za-z0-9]+\?token=[A-Za-z0-9_-]+/) {
                    link = String(match.output)
                    return true
                }
            }
            return false
        }
        return link
    }

    func refunds(organizer: String, status: String? = nil) async throws -> [RefundView] {
        let query = status.map { "?status=\($0)" } ?? ""
        let response = try await stack.call(.get, "/v1/organizations/\(try stack.organizationId)/payments/refunds\(query)",
                                            token: organizer)
        #expect(response.status == 200, "\(response.bodyString)")
        return try response.decode(ItemList<RefundView>.self).items
    }

    @Test("the payment email links to the numbered receipt: the link opens it without signing in, a changed token does not; the payer and organizers read it signed in, another participant cannot")
    func receiptLink() async throws {
        let stack = try stack
        let (conference, organizer) = try await paid.paidConference()
        let payer = try await paid.signUp()
        let (registration, order) = try await paid.register(payer, for: conference)
        _ = try await paid.checkout(payer, registration, method: "wechat_pay")
        let notification = try await paid.pay("/_admin/wechatpay/transactions/\(order.orderNumber)/pay?mchid=\(stack.payments.mchid)")
        #expect((200..<300).contains(try await paid.forward("wechatpay", notification: notification).status))
        #expect(await paid.confirmed(payer, registration))
        let receiptNumber = try #require(try await stack.call(.get, "/v1/me/registrations/\(registration)/order", token: payer.token)
            .decode(OrderView.self).receiptNumber)

        let link = try #require(try await receiptLink(to: payer.email), "the payment email carries a receipt link")
        let path = String(link[try #require(link.range(of: "/v1/receipts/")).lowerBound...])
        #expect(path.hasPrefix("/v1/receipts/\(order.orderNumber)?token="))
        let opened = try await stack.call(.get, path)
        #expect(opened.status == 200)
        #expect(opened.header(named: "Content-Type")?.hasPrefix("text/html") == true)
        #expect(opened.header(named: "Content-Security-Policy")?.contains("default-src 'none'") == true)
        #expect(opened.bodyString.contains(receiptNumber) && opened.bodyString.contains("12100000425006117P"))

        var changed = path
        changed.replaceSubrange(changed.index(before: changed.endIndex)..., with: path.hasSuffix("A") ? "B" : "A")
        #expect(try await stack.call(.get, changed).status == 404, "a changed token opens nothing")
        #expect(try await stack.call(.get, "/v1/receipts/\(order.orderNumber)").status == 404, "nor does no token")

        let own = try await stack.call(.get, "/v1/me/registrations/\(registration)/receipt", token: payer.token)
        #expect(own.status == 200 && own.bodyString.contains(receiptNumber))
        let staff = try await stack.call(.get, "/v1/organizations/\(stack.organizationId)/registrations/\(registration)/receipt",
                                         token: organizer)
        #expect(staff.status == 200 && staff.bodyString.contains(receiptNumber))
        let stranger = try await paid.signUp()
        #expect(try await stack.call(.get, "/v1/me/registrations/\(registration)/receipt", token: stranger.token).status == 404)
        let otherOrganization = try await stack.token(account: UUID().uuidString.lowercased(),
                                                      organization: UUID().uuidString.lowercased(), roles: [.user, .meetingAdmin])
        #expect(try await stack.call(.get, "/v1/organizations/\(stack.organizationId)/registrations/\(registration)/receipt",
                                     token: otherOrganization).status == 404)

        let export = try await stack.call(.get, "/v1/organizations/\(stack.organizationId)/payments/paid-orders.csv?conference=\(conference)",
                                          token: organizer)
        #expect(export.status == 200 && export.header(named: "Content-Type")?.hasPrefix("text/csv") == true)
        #expect(export.bodyString.contains(order.orderNumber) && export.bodyString.contains(receiptNumber))
        #expect(try await stack.call(.get, "/v1/organizations/\(stack.organizationId)/payments/paid-orders.csv?from=yesterday",
                                     token: organizer).status == 422)
    }

    @Test("money paid a second time for a paid order (Alipay after WeChat Pay) is refunded at Alipay on its own; the order stays paid and the seat confirmed")
    func duplicatePaymentRefunded() async throws {
        let stack = try stack
        let (conference, organizer) = try await paid.paidConference()
        let payer = try await paid.signUp()
        let (registration, order) = try await paid.register(payer, for: conference)
        _ = try await paid.checkout(payer, registration, method: "wechat_pay")
        _ = try await paid.checkout(payer, registration, method: "alipay")
        // The payer pays with both apps, one right after the other; WeChat Pay's notification comes first.
        let wechat = try await paid.pay("/_admin/wechatpay/transactions/\(order.orderNumber)/pay?mchid=\(stack.payments.mchid)")
        let alipay = try await paid.pay("/_admin/alipay/trades/\(order.orderNumber)/pay?app_id=\(stack.payments.alipayAppId)")
        #expect((200..<300).contains(try await paid.forward("wechatpay", notification: wechat).status))
        #expect(await paid.confirmed(payer, registration))
        #expect(try await paid.forward("alipay", notification: alipay).bodyString == "success")

        var refund: RefundView?
        let settled = await eventually(timeout: .seconds(30)) {
            refund = (try? await refunds(organizer: organizer))?.first { $0.orderNumber == order.orderNumber }
            return refund?.status == "succeeded"
        }
        #expect(settled, "the duplicate's refund settles: \(String(describing: refund))")
        #expect(refund?.kind == "duplicate_payment" && refund?.method == "alipay" && refund?.amount.amountMinor == 10000)
        let asked = try await stack.contracts.requests("alipay").filter {
            (($0["body"] as? String) ?? "").contains("alipay.trade.refund") && (($0["body"] as? String) ?? "").contains(order.orderNumber)
        }
        #expect(asked.count >= 1, "Alipay was asked to refund")
        #expect(try await stack.contracts.requests("wechatpay").contains {
            ($0["path"] as? String)?.hasPrefix("/v3/refund/domestic/refunds") == true && (($0["body"] as? String) ?? "").contains(order.orderNumber)
        } == false, "the first payment is not refunded")
        let current = try await stack.call(.get, "/v1/me/registrations/\(registration)/order", token: payer.token).decode(OrderView.self)
        #expect(current.status == "paid" && current.method == "wechat_pay" && current.refunded == nil)
        #expect(try await paid.status(payer, registration) == "confirmed")
    }

    @Test("a bank transfer for an order paid already waits as a manual refund until staff record paying it back, once")
    func manualBankRefund() async throws {
        let stack = try stack
        let (conference, organizer) = try await paid.paidConference()
        let payer = try await paid.signUp()
        let (registration, order) = try await paid.register(payer, for: conference)
        let bank = try await paid.checkout(payer, registration, method: "bank_transfer")
        let reference = try #require(bank.bankTransfer?.reference)
        _ = try await paid.checkout(payer, registration, method: "wechat_pay")
        let wechat = try await paid.pay("/_admin/wechatpay/transactions/\(order.orderNumber)/pay?mchid=\(stack.payments.mchid)")
        #expect((200..<300).contains(try await paid.forward("wechatpay", notification: wechat).status))
        #expect(await paid.confirmed(payer, registration))

        // The transfer arrives as well.
        var request = HTTPRequest(method: .post, url: stack.baseURL + "/v1/organizations/\(stack.organizationId)/payments/bank-statements",
                                  body: Array("date,amount,currency,remark\n2026-11-22,100.00,CNY,注册费 \(reference)\n".utf8))
        request.setHeader("Content-Type", "text/csv")
        request.setHeader("Authorization", "Bearer " + organizer)
        let report = try await stack.client.execute(request)
        #expect(try report.decode(BankStatementReport.self).rows.map(\.outcome) == ["duplicate_payment"])
        let again = try await stack.client.execute(request)
        #expect(try again.decode(BankStatementReport.self).rows.map(\.outcome) == ["already_paid"], "the same row imported again")

        let manual = try await refunds(organizer: organizer, status: "manual").filter { $0.orderNumber == order.orderNumber }
        #expect(manual.count == 1 && manual.first?.kind == "duplicate_payment" && manual.first?.method == "bank_transfer")
        let number = try #require(manual.first?.refundNumber)
        let settle = "/v1/organizations/\(stack.organizationId)/payments/refunds/\(number)/settle"
        let first = try await stack.call(.post, settle, token: organizer, body: #"{"note": "ICBC ref 20261122-0042"}"#)
        #expect(first.status == 200, "\(first.bodyString)")
        #expect(try first.decode(RefundView.self).status == "succeeded")
        let second = try await stack.call(.post, settle, token: organizer, body: "{}")
        #expect(second.status == 200 && (try? second.decode(RefundView.self).settledAt) == (try? first.decode(RefundView.self).settledAt))
        #expect(try await refunds(organizer: organizer, status: "manual").contains { $0.orderNumber == order.orderNumber } == false)
        #expect(try await stack.call(.post, "/v1/organizations/\(stack.organizationId)/payments/refunds/DUP-000000000000000000000000/settle",
                                     token: organizer, body: "{}").status == 404)
        #expect(try await stack.call(.post, settle, token: payer.token, body: "{}").status == 404, "a participant is no organizer of it")
        let current = try await stack.call(.get, "/v1/me/registrations/\(registration)/order", token: payer.token).decode(OrderView.self)
        #expect(current.status == "paid" && current.refunded == nil)
    }
}
}
