import Contracts
import Foundation
import Messaging
import Persistence

/// Turns a request to tell people something into deliveries, once per source key: one per
/// recipient and channel that applies to them. Used by `notification.send`, by the event rules
/// and by the service's own notices.
///
/// The in-app inbox is written right here (it is the service's own table); email and robots are
/// left `queued` for the delivery workers.
struct NotificationIntake: Sendable {
    let templates: TemplateLibrary
    let robots: RobotStore
    let store = DeliveryStore()
    let inbox = InboxStore()
    /// For `notification.send` from outside; the rules address everyone their event names.
    static let maxRecipients = 1000

    /// Checks what a caller of `notification.send` may get wrong, before anything is recorded.
    func validate(_ request: SendNotification) throws {
        guard templates.locales[request.templateKey] != nil else {
            throw ConveneError(code: "notification.unknown_template", message: "no template \(request.templateKey)")
        }
        guard !request.channels.isEmpty, Set(request.channels).isSubset(of: Channel.all) else {
            throw ConveneError(code: "notification.unknown_channel",
                               message: "channels must be among \(Channel.all.sorted()), got \(request.channels)")
        }
        guard (1...Self.maxRecipients).contains(request.recipients.count) else {
            throw ConveneError(code: "notification.recipients", message: "between 1 and \(Self.maxRecipients) recipients")
        }
        for attachment in request.attachments ?? [] {
            guard (attachment.calendar != nil) != (attachment.blobKey != nil) else {
                throw ConveneError(code: "notification.attachment", message: "an attachment is either a calendar or a blob")
            }
            if let event = attachment.calendar, let problem = CalendarInvite.problem(in: event) {
                throw ConveneError(code: "notification.attachment", message: problem)
            }
            if let key = attachment.blobKey, !BlobStore.isValidKey(key) {
                throw ConveneError(code: "notification.attachment", message: "\(key) is not a blob key")
            }
        }
    }

    /// Returns false when the source key was seen before (nothing new is recorded).
    @discardableResult
    func accept(_ request: SendNotification, sourceKey: String, organizationId: String?, correlationId: String?,
                sink: EventSink) async throws -> Bool {
        let tx = sink.transaction
        let data = String(decoding: try ConveneJSON.encode(request.data), as: UTF8.self)
        let people = request.recipients.filter { $0.robot == nil }
        let optedOut = request.transactional ? [] : try await store.optedOut(
            people.flatMap { [$0.email, $0.accountId].compactMap { $0 } }, category: request.category, in: tx)
        let robotKinds = try await robots.kinds(of: request.recipients.compactMap(\.robot), organizationId: organizationId, in: tx)

        let planned = request.recipients.flatMap { recipient in
            plans(for: recipient, channels: request.channels, robotKinds: robotKinds, optedOut: optedOut,
                  category: request.category).map { (id: UUID(), recipient: recipient, plan: $0) }
        }
        // One statement records the request and its deliveries; a recipient listed twice gets one.
        guard let inserted = try await store.insert(.init(
            sourceKey: sourceKey, category: request.category, transactional: request.transactional,
            templateKey: request.templateKey, dataJSON: data, locale: request.locale, attachments: request.attachments,
            organizationId: organizationId, correlationId: correlationId), deliveries: planned.map {
            DeliveryStore.NewDelivery(id: $0.id, channel: $0.plan.channel, recipient: $0.plan.address, name: $0.recipient.name,
                                      locale: $0.recipient.locale, status: $0.plan.status, error: $0.plan.reason)
        }, in: tx)
        else {
            sink.logger.info("notification already accepted", metadata: ["sourceKey": "\(sourceKey)"])
            return false
        }
        for (id, recipient, plan) in planned where inserted.contains(id) {
            switch plan.status {
            case "queued" where plan.channel == Channel.inbox:
                try await deliverToInbox(id, account: plan.address, recipient: recipient, request: request,
                                         organizationId: organizationId, sink: sink)
            case "queued":
                break
            default:
                try await sink.publish(NotificationFailed(
                    deliveryId: id.uuidString.lowercased(), channel: plan.channel, recipient: plan.address,
                    templateKey: request.templateKey, reason: plan.reason ?? plan.status, permanent: true),
                    organizationId: organizationId)
            }
        }
        return true
    }

    struct Plan: Equatable {
        var channel: String
        var address: String
        /// `queued`, or settled at once: `failed` / `skipped` with the reason.
        var status: String
        var reason: String?
    }

    /// What each requested channel means for one recipient. A robot takes only its own channel;
    /// a person takes email and the inbox when they have the address for it. A person with no
    /// address for any requested channel is reported once, as is a robot that is not the
    /// organization's.
    func plans(for recipient: SendNotification.Recipient, channels: [String], robotKinds: [String: RobotKind],
               optedOut: Set<String>, category: String) -> [Plan] {
        if let robot = recipient.robot {
            guard let kind = robotKinds[robot.lowercased()] else {
                return [Plan(channel: channels.first { RobotKind(rawValue: $0) != nil } ?? channels[0], address: robot,
                             status: "failed", reason: "no robot \(robot) in this organization")]
            }
            return channels.contains(kind.rawValue) ? [Plan(channel: kind.rawValue, address: robot.lowercased(), status: "queued")] : []
        }
        let isOptedOut = [recipient.email, recipient.accountId].contains { $0.map { optedOut.contains($0.lowercased()) } == true }
        var plans: [Plan] = []
        for channel in channels {
            let address: String? = switch channel {
            case Channel.email: recipient.email
            case Channel.inbox: recipient.accountId
            default: nil
            }
            guard let address else { continue }
            if channel == Channel.email, !Mailbox.isValid(address) {
                plans.append(Plan(channel: channel, address: address, status: "failed", reason: "invalid email address"))
            } else if isOptedOut {
                plans.append(Plan(channel: channel, address: address, status: "skipped",
                                  reason: "recipient opted out of \(category)"))
            } else {
                plans.append(Plan(channel: channel, address: address, status: "queued"))
            }
        }
        if plans.isEmpty, let first = channels.first(where: { RobotKind(rawValue: $0) == nil }) {
            plans.append(Plan(channel: first, address: recipient.email ?? recipient.accountId ?? "", status: "failed",
                              reason: "no address for \(channels.filter { RobotKind(rawValue: $0) == nil }.joined(separator: ", "))"))
        }
        return plans
    }

    /// The inbox is this service's own table: the item is written in the same transaction and
    /// the delivery is done.
    private func deliverToInbox(_ id: UUID, account: String, recipient: SendNotification.Recipient, request: SendNotification,
                                organizationId: String?, sink: EventSink) async throws {
        let tx = sink.transaction
        let data = request.data.mapValues(\.plain).merging(["recipientName": recipient.name ?? ""]) { given, _ in given }
        let rendered = try templates.render(request.templateKey, locale: recipient.locale ?? request.locale, data: data)
        let link: String? = if case .string(let value)? = request.data["link"] { value } else { nil }
        try await inbox.insert(deliveryId: id, accountId: account, organizationId: organizationId, category: request.category,
                               title: rendered.subject, body: rendered.text, link: link, in: tx)
        try await store.finish(id, status: "sent", error: nil, answer: "stored in the inbox", in: tx)
        try await sink.publish(NotificationDelivered(
            deliveryId: id.uuidString.lowercased(), channel: Channel.inbox, recipient: account,
            templateKey: request.templateKey, attempts: 1), organizationId: organizationId)
    }
}
