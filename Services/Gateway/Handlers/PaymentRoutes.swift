import Contracts
import Foundation
import HTTPTypes
import Hummingbird

/// Paying for a registration, the providers' callbacks, and the finance side for organizers.
struct PaymentRoutes {
    let service: ServiceClient

    static let providers: Set<String> = ["wechat_pay", "alipay", "stripe"]
    static let maximumStatementBytes = 2 * 1024 * 1024

    struct CheckoutBody: JSONRequestBody {
        var method: String
        enum CodingKeys: String, CodingKey, CaseIterable { case method }
        typealias Fields = CodingKeys
    }

    struct BankTransferBody: JSONRequestBody {
        var reference: String
        var amount: Money
        enum CodingKeys: String, CodingKey, CaseIterable { case reference, amount }
        typealias Fields = CodingKeys
    }

    struct WaiveBody: JSONRequestBody {
        var reason: String
        enum CodingKeys: String, CodingKey, CaseIterable { case reason }
        typealias Fields = CodingKeys
    }

    /// `POST /v1/payments/callbacks/{provider}`: the raw body and headers go to `payment`, which
    /// verifies the signature before reading anything; the provider gets the answer it expects.
    func registerPublic(on router: Router<GatewayRequestContext>) {
        router.post("v1/payments/callbacks/:provider") { request, context -> Response in
            guard let provider = context.parameters.get("provider"), Self.providers.contains(provider) else {
                throw Problem.notFound("no such payment provider")
            }
            let (headers, body) = try await ProviderCallbackForwarding.raw(request)
            let answer = try await service.call(ProviderCallback(provider: provider, headers: headers, body: body),
                                                as: CallbackAnswer.self, organizationId: nil, context: context)
            return ProviderCallbackForwarding.response(answer)
        }
    }

    func register(on routes: RouterGroup<GatewayRequestContext>) {
        // POST /v1/me/registrations/{id}/payment {"method"} → CheckoutView (QR code, redirect or bank details)
        routes.post("me/registrations/:id/payment") { request, context -> Response in
            let principal = try context.requirePrincipal()
            let id = try context.resourceId("id", kind: "registration")
            let body = try await JSONBody.decode(CheckoutBody.self, from: request)
            return try await service.respond(StartCheckout(registrationId: id, accountId: principal.accountId, method: body.method),
                                             as: CheckoutView.self, organizationId: nil, context: context)
        }
        // GET /v1/me/registrations/{id}/order → OrderView
        routes.get("me/registrations/:id/order") { _, context -> Response in
            let principal = try context.requirePrincipal()
            let id = try context.resourceId("id", kind: "registration")
            return try await service.respond(GetOrder(registrationId: id, accountId: principal.accountId), as: OrderView.self,
                                             organizationId: nil, context: context)
        }

        // Organizers
        routes.get("organizations/:org/registrations/:id/order") { _, context -> Response in
            let organizationId = try context.organizerOrganization(.paymentsRead)
            let id = try context.resourceId("id", kind: "registration")
            return try await service.respond(GetOrder(registrationId: id, accountId: nil), as: OrderView.self,
                                             organizationId: organizationId, context: context)
        }
        routes.post("organizations/:org/registrations/:id/waive") { request, context -> Response in
            let organizationId = try context.organizerOrganization(.paymentsWrite)
            let principal = try context.caller()
            let id = try context.resourceId("id", kind: "registration")
            let body = try await JSONBody.decode(WaiveBody.self, from: request)
            return try await service.respond(WaiveOrder(registrationId: id, reason: body.reason, waivedBy: principal.accountId),
                                             as: OrderView.self, organizationId: organizationId, context: context)
        }
        routes.post("organizations/:org/payments/bank-transfers") { request, context -> Response in
            let organizationId = try context.organizerOrganization(.paymentsWrite)
            let principal = try context.caller()
            let body = try await JSONBody.decode(BankTransferBody.self, from: request)
            return try await service.respond(ConfirmBankTransfer(reference: body.reference, amount: body.amount,
                                                                 confirmedBy: principal.accountId),
                                             as: OrderView.self, organizationId: organizationId, context: context)
        }
        // POST /v1/organizations/{org}/payments/bank-statements (text/csv) → BankStatementReport
        routes.post("organizations/:org/payments/bank-statements") { request, context -> Response in
            let organizationId = try context.organizerOrganization(.paymentsWrite)
            let principal = try context.caller()
            let type = request.headers[.contentType]?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard type == "text/csv" else {
                throw Problem(.unsupportedMediaType, code: "gateway.unsupported_media_type", detail: "send the statement as text/csv")
            }
            var request = request
            let body: ByteBuffer
            do {
                body = try await request.collectBody(upTo: Self.maximumStatementBytes)
            } catch {
                throw Problem(.contentTooLarge, code: "gateway.body_too_large", detail: "a statement is at most 2 MiB")
            }
            guard let csv = String(validating: body.readableBytesView, as: UTF8.self) else {
                throw Problem(.unprocessableContent, code: "gateway.invalid_body", detail: "the statement must be UTF-8 text")
            }
            return try await service.respond(ImportBankStatement(csv: csv, importedBy: principal.accountId),
                                             as: BankStatementReport.self, organizationId: organizationId, context: context)
        }
    }
}
