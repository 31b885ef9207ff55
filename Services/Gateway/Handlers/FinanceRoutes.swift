import Contracts
import Foundation
import HTTPTypes
import Hummingbird

/// Receipts (for the payer, through the emailed link, and for staff) and the finance team's
/// side of payment: the paid-orders export for accounting, refunds, and settling the refunds of
/// bank transfers that staff pay back by hand.
struct FinanceRoutes {
    let service: ServiceClient

    struct SettleBody: JSONRequestBody {
        var note: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case note }
        typealias Fields = CodingKeys
    }

    /// `GET /v1/receipts/{orderNumber}?token=…`: the link in the payment email. A wrong token
    /// answers 404 like an unknown order, so the link reveals nothing else.
    func registerPublic(on router: Router<GatewayRequestContext>) {
        router.get("v1/receipts/:orderNumber") { request, context -> Response in
            guard let order = context.parameters.get("orderNumber"), (6...32).contains(order.count),
                  order.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }),
                  let token = try QueryParameters(request).string("token", maxLength: 64) else {
                throw Problem.notFound("no such receipt")
            }
            let receipt = try await service.call(GetReceipt(orderNumber: order, token: token), as: ReceiptDocument.self,
                                                 organizationId: nil, context: context)
            return Self.page(receipt)
        }
    }

    func register(on routes: RouterGroup<GatewayRequestContext>) {
        // GET /v1/me/registrations/{id}/receipt → text/html
        routes.get("me/registrations/:id/receipt") { _, context -> Response in
            let principal = try context.requirePrincipal()
            let id = try context.resourceId("id", kind: "registration")
            let receipt = try await service.call(GetReceipt(registrationId: id, accountId: principal.accountId),
                                                 as: ReceiptDocument.self, organizationId: nil, context: context)
            return Self.page(receipt)
        }
        routes.get("organizations/:org/registrations/:id/receipt") { _, context -> Response in
            let organizationId = try context.organizerOrganization(.paymentsRead)
            let id = try context.resourceId("id", kind: "registration")
            let receipt = try await service.call(GetReceipt(registrationId: id), as: ReceiptDocument.self,
                                                 organizationId: organizationId, context: context)
            return Self.page(receipt)
        }
        // GET /v1/organizations/{org}/payments/paid-orders.csv[?conference=&from=&to=]
        routes.get("organizations/:org/payments/paid-orders.csv") { request, context -> Response in
            let organizationId = try context.organizerOrganization(.paymentsRead)
            let query = QueryParameters(request)
            let conference = try query.string("conference", maxLength: 36).map { raw throws(Problem) -> String in
                guard let id = UUID(uuidString: raw) else { throw Problem.invalidQuery("conference must be a conference id") }
                return id.uuidString.lowercased()
            }
            let from = try Self.instant(query, "from"), to = try Self.instant(query, "to")
            if let from, let to, from >= to { throw Problem.invalidQuery("from must be before to") }
            let export = try await service.call(ListPaidOrders(conferenceId: conference, from: from, to: to),
                                                as: PaidOrdersExport.self, organizationId: organizationId, context: context)
            return Response(status: .ok, headers: [
                .contentType: "text/csv; charset=utf-8", .cacheControl: "no-store",
                .contentDisposition: "attachment; filename=\"paid-orders.csv\"",
            ], body: .init(byteBuffer: ByteBuffer(string: export.csv)))
        }
        // GET /v1/organizations/{org}/payments/refunds[?status=manual&limit=]
        routes.get("organizations/:org/payments/refunds") { request, context -> Response in
            let organizationId = try context.organizerOrganization(.paymentsRead)
            let query = QueryParameters(request)
            let refunds = try await service.call(
                ListRefunds(status: try query.string("status", maxLength: 32), limit: try query.int("limit", default: 100, in: 1...500)),
                as: [RefundView].self, organizationId: organizationId, context: context)
            return try JSONResponse.make(ItemList(items: refunds))
        }
        // POST /v1/organizations/{org}/payments/refunds/{refundNumber}/settle {"note"} → RefundView
        routes.post("organizations/:org/payments/refunds/:refundNumber/settle") { request, context -> Response in
            let organizationId = try context.organizerOrganization(.paymentsWrite)
            let principal = try context.caller()
            guard let number = context.parameters.get("refundNumber"), (1...64).contains(number.count) else {
                throw Problem.notFound("no such refund")
            }
            let body = try await JSONBody.decode(SettleBody.self, from: request)
            return try await service.respond(SettleManualRefund(refundNumber: number, settledBy: principal.accountId, note: body.note),
                                             as: RefundView.self, organizationId: organizationId, context: context)
        }
    }

    /// A receipt is a complete HTML document of escaped values: it may style itself inline and
    /// nothing else (no scripts, frames or outside resources), and is not cached or referred on.
    static func page(_ receipt: ReceiptDocument) -> Response {
        Response(status: .ok, headers: [
            .contentType: "text/html; charset=utf-8", .cacheControl: "private, no-store",
            .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
            HTTPField.Name("Referrer-Policy")!: "no-referrer", HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        ], body: .init(byteBuffer: ByteBuffer(string: receipt.html)))
    }

    /// `2026-11-01` (midnight UTC) or an RFC 3339 date-time.
    static func instant(_ query: QueryParameters, _ name: String) throws(Problem) -> Date? {
        guard let raw = try query.string(name, maxLength: 40) else { return nil }
        if let date = ISO8601.parse(raw) ?? ISO8601.parse(raw + "T00:00:00Z") { return date }
        throw Problem.invalidQuery("\(name) must be a date (2026-11-01) or a date-time (2026-11-01T08:00:00Z)")
    }
}
