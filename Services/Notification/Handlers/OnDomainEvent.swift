import Contracts
import Foundation
import Messaging
import Persistence

/// Every event of the other services that the notification service hears (one handler per
/// producer pattern, e.g. `registration.#`): the event rules turn it into notifications, and
/// the organization's webhooks that subscribe to its type get it as an outgoing webhook.
struct OnDomainEvent: MessageHandler {
    let pattern: String
    let rules: RuleBook
    let intake: NotificationIntake
    let webhooks: WebhookStore
    let settingsStore = SettingsStore()
    let store = DeliveryStore()

    var messageType: String { pattern }
    /// Rules match on the shape of each version themselves; webhooks forward any version.
    var versions: ClosedRange<Int> { 1...Int(Int32.max) }

    func handle(_ message: Envelope<JSONValue>, context: HandlerContext) async throws -> Empty {
        try await applyRules(to: message, context: context)
        try await forwardToWebhooks(message, context: context)
        return Empty()
    }

    private func applyRules(to message: Envelope<JSONValue>, context: HandlerContext) async throws {
        let matching = rules.rules(for: message.type, data: message.data)
        guard !matching.isEmpty else { return }
        let tx = context.transaction
        let overrides = try await settingsStore.ruleSettings(organizationId: message.organizationId, in: tx)
        let eventId = message.id.uuidString.lowercased()
        let templateData: [String: JSONValue] = if case .object(let object) = message.data { object } else { [:] }
        for rule in matching {
            let override = overrides[rule.id]
            guard override?.enabled ?? true else {
                context.logger.debug("rule switched off by the organization", metadata: ["rule": "\(rule.id)"])
                continue
            }
            let channels = override?.channels ?? rule.channels
            var recipients = RuleBook.recipients(in: message.data, at: rule.audience)
            let robotKinds = channels.compactMap(RobotKind.init(rawValue:))
            recipients += try await intake.robots.ids(ofKinds: robotKinds, organizationId: message.organizationId, in: tx)
                .map { SendNotification.Recipient(robot: $0) }
            guard !recipients.isEmpty else {
                context.logger.notice("rule found nobody to tell in the event", metadata: ["rule": "\(rule.id)"])
                continue
            }
            var data = templateData
            if let pointer = rule.link, case .string(let link)? = message.data.resolve(pointer: pointer) { data["link"] = .string(link) }
            let request = SendNotification(category: rule.category, transactional: rule.transactional, templateKey: rule.template,
                                           data: data, recipients: recipients,
                                           channels: channels)
            try await intake.accept(request, sourceKey: "rule:\(rule.id):\(eventId)", organizationId: message.organizationId,
                                    correlationId: message.correlationId, sink: EventSink(context))
        }
    }

    private func forwardToWebhooks(_ message: Envelope<JSONValue>, context: HandlerContext) async throws {
        guard let organizationId = message.organizationId else { return }
        let tx = context.transaction
        let subscribed = try await webhooks.enabled(organizationId: organizationId, in: tx)
            .filter { WebhookEvents.matches($0.eventTypes, event: message.type) }
        guard !subscribed.isEmpty else { return }
        let eventId = message.id.uuidString.lowercased()
        let envelope = String(decoding: try ConveneJSON.encode(message), as: UTF8.self)
        guard let notification = try await store.insertNotification(.init(
            sourceKey: "webhook:\(eventId)", category: "webhook", transactional: true, templateKey: message.type,
            dataJSON: envelope, locale: nil, attachments: nil, organizationId: organizationId,
            correlationId: message.correlationId), in: tx)
        else { return }
        for webhook in subscribed {
            try await store.insertDelivery(id: UUID(), notification: notification, channel: Channel.webhook,
                                           recipient: webhook.id.uuidString.lowercased(), name: nil, locale: nil,
                                           status: "queued", error: nil, in: tx)
        }
    }
}
