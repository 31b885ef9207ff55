import Contracts
import Foundation
import Persistence

/// `notification.create_webhook`: the secret is made here, answered once, stored sealed.
struct CreateWebhookHandler: MessageHandler {
    let settings: NotificationSettings
    let webhooks: WebhookStore
    let service: String
    var messageType: String { Self.scoped(CreateWebhook.messageType, to: service) }

    func handle(_ message: Envelope<CreateWebhook>, context: HandlerContext) async throws -> WebhookSummary {
        let organizationId = try message.requireOrganization()
        var request = message.data
        request.url = request.url.trimmingCharacters(in: .whitespaces)
        guard request.url.utf8.count <= 2048 else {
            throw ConveneError(code: "notification.invalid_webhook", message: "the URL is longer than 2,048 bytes")
        }
        do { try settings.webhookPolicy.checkURL(request.url) } catch {
            throw ConveneError(code: "notification.invalid_webhook", message: "\(error)")
        }
        if let problem = WebhookEvents.validate(request.eventTypes) {
            throw ConveneError(code: "notification.invalid_webhook", message: problem)
        }
        if let email = request.contactEmail, !Mailbox.isValid(email) {
            throw ConveneError(code: "notification.invalid_webhook", message: "contactEmail is not an email address")
        }
        return try await webhooks.insert(organizationId: organizationId, request: request, secret: StandardWebhook.newSecret(),
                                         in: context.transaction)
    }
}

/// `notification.list_webhooks`
struct ListWebhooksHandler: MessageHandler {
    let webhooks: WebhookStore
    let service: String
    var messageType: String { Self.scoped(ListWebhooks.messageType, to: service) }

    func handle(_ message: Envelope<ListWebhooks>, context: HandlerContext) async throws -> [WebhookSummary] {
        try await webhooks.list(organizationId: try message.requireOrganization(), in: context.transaction)
    }
}

/// `notification.update_webhook`
struct UpdateWebhookHandler: MessageHandler {
    let webhooks: WebhookStore
    let service: String
    var messageType: String { Self.scoped(UpdateWebhook.messageType, to: service) }

    func handle(_ message: Envelope<UpdateWebhook>, context: HandlerContext) async throws -> WebhookSummary {
        if let types = message.data.eventTypes, let problem = WebhookEvents.validate(types) {
            throw ConveneError(code: "notification.invalid_webhook", message: problem)
        }
        guard let updated = try await webhooks.update(message.data, organizationId: try message.requireOrganization(),
                                                      in: context.transaction)
        else { throw ConveneError(code: "notification.not_found", message: "no such webhook") }
        return updated
    }
}

/// `notification.delete_webhook`
struct DeleteWebhookHandler: MessageHandler {
    let webhooks: WebhookStore
    let service: String
    var messageType: String { Self.scoped(DeleteWebhook.messageType, to: service) }

    func handle(_ message: Envelope<DeleteWebhook>, context: HandlerContext) async throws -> Empty {
        guard try await webhooks.delete(message.data.id, organizationId: try message.requireOrganization(), in: context.transaction)
        else { throw ConveneError(code: "notification.not_found", message: "no such webhook") }
        return Empty()
    }
}
