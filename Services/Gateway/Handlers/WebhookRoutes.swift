import Contracts
import Foundation
import Hummingbird

/// An organization's outgoing webhooks; organization administrators only. The signing secret is
/// answered once, when the webhook is created.
struct WebhookRoutes {
    let service: ServiceClient

    struct CreateBody: JSONRequestBody {
        var url: String
        var eventTypes: [String]
        var description: String?
        var contactEmail: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case url, eventTypes, description, contactEmail }
        typealias Fields = CodingKeys
    }

    struct UpdateBody: JSONRequestBody {
        var enabled: Bool?
        var eventTypes: [String]?
        enum CodingKeys: String, CodingKey, CaseIterable { case enabled, eventTypes }
        typealias Fields = CodingKeys
    }

    func register(on routes: RouterGroup<GatewayRequestContext>) {
        // GET /v1/organizations/{org}/webhooks → {"items": [WebhookSummary]} (never a secret)
        routes.get("organizations/:org/webhooks") { _, context -> Response in
            let organizationId = try context.administeredOrganization()
            let webhooks = try await service.call(ListWebhooks(), as: [WebhookSummary].self, organizationId: organizationId,
                                                  context: context)
            return try JSONResponse.make(ItemList(items: webhooks.map(\.withoutSecret)))
        }
        // POST /v1/organizations/{org}/webhooks → 201 WebhookSummary with its secret
        routes.post("organizations/:org/webhooks") { request, context -> Response in
            let organizationId = try context.administeredOrganization()
            let principal = try context.requirePrincipal()
            let body = try await JSONBody.decode(CreateBody.self, from: request)
            let create = CreateWebhook(url: body.url, eventTypes: body.eventTypes, description: body.description,
                                       contactEmail: body.contactEmail ?? principal.email, createdBy: principal.accountId)
            let created = try await service.call(create, as: WebhookSummary.self, organizationId: organizationId, context: context)
            return try JSONResponse.make(created, status: .created,
                                         headers: [.location: "/v1/organizations/\(organizationId.pathEscaped)/webhooks/\(created.id)"])
        }
        // PATCH /v1/organizations/{org}/webhooks/{id} {"enabled"?, "eventTypes"?} → WebhookSummary
        routes.patch("organizations/:org/webhooks/:id") { request, context -> Response in
            let organizationId = try context.administeredOrganization()
            let id = try context.resourceId("id", kind: "webhook")
            let body = try await JSONBody.decode(UpdateBody.self, from: request)
            let updated = try await service.call(UpdateWebhook(id: id, enabled: body.enabled, eventTypes: body.eventTypes),
                                                 as: WebhookSummary.self, organizationId: organizationId, context: context)
            return try JSONResponse.make(updated.withoutSecret)
        }
        // DELETE /v1/organizations/{org}/webhooks/{id} → 204
        routes.delete("organizations/:org/webhooks/:id") { _, context -> Response in
            let organizationId = try context.administeredOrganization()
            let id = try context.resourceId("id", kind: "webhook")
            _ = try await service.call(DeleteWebhook(id: id), as: Empty.self, organizationId: organizationId, context: context)
            return JSONResponse.noContent()
        }
    }
}

extension WebhookSummary {
    var withoutSecret: WebhookSummary {
        var summary = self
        summary.secret = nil
        return summary
    }
}
