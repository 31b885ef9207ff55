import Contracts
import Foundation
import HTTPClient
import Logging
import Persistence

/// How each channel sends one claimed delivery. Nothing here throws: every failure becomes a
/// `DeliveryResult` that says whether trying again makes sense.
struct DeliveryChannels: Sendable {
    let settings: NotificationSettings
    let templates: TemplateLibrary
    let smtp: SMTPClient
    /// For robots: the providers' fixed addresses (from configuration), short timeouts.
    let robotClient: any HTTPExecuting
    /// For webhooks: the SSRF guard checks every address at connect time; no redirects.
    let webhookClient: any HTTPExecuting
    let robots: RobotStore
    let webhooks: WebhookStore
    let blobs: BlobStore?

    init(settings: NotificationSettings, templates: TemplateLibrary, smtp: SMTPClient, robots: RobotStore,
         webhooks: WebhookStore, logger: Logger) {
        self.settings = settings
        self.templates = templates
        self.smtp = smtp
        self.robots = robots
        self.webhooks = webhooks
        blobs = settings.blobDirectory.map(BlobStore.init(directory:))
        robotClient = CurlHTTPClient(configuration: .init(connectTimeout: .seconds(5), timeout: .seconds(10),
                                                          maxBodySize: 64 * 1024, followRedirects: false), logger: logger)
        let policy = settings.webhookPolicy
        webhookClient = CurlHTTPClient(configuration: .init(
            connectTimeout: .seconds(5), timeout: settings.webhookTimeout, maxBodySize: 64 * 1024, followRedirects: false,
            maxConnections: 8, allowedProtocols: policy.allowHTTP ? "http,https" : "https",
            addressFilter: { policy.allows($0) }), logger: logger)
    }

    func send(_ delivery: DeliveryStore.Claimed) async -> DeliveryResult {
        do {
            switch delivery.channel {
            case Channel.email: return try await email(delivery)
            case Channel.webhook: return try await webhook(delivery)
            default:
                guard let kind = RobotKind(rawValue: delivery.channel) else {
                    return .permanent(reason: "unknown channel \(delivery.channel)")
                }
                return try await robot(delivery, kind: kind)
            }
        } catch let missing as TemplateLibrary.Missing {
            return .permanent(reason: "\(missing)")
        } catch let blob as BlobStore.Failure {
            return .permanent(reason: "attachment: \(blob)")
        } catch {
            return .transportFailure(error)
        }
    }

    private func rendered(_ delivery: DeliveryStore.Claimed) throws -> RenderedMessage {
        let data = delivery.data.mapValues(\.plain)
            .merging(["recipientName": delivery.recipientName ?? delivery.recipient]) { given, _ in given }
        return try templates.render(delivery.templateKey, locale: delivery.locale, data: data)
    }

    private func email(_ delivery: DeliveryStore.Claimed) async throws -> DeliveryResult {
        let message = try rendered(delivery)
        var calendar: (ics: String, method: String)?
        var files: [EmailMessage.Attachment] = []
        for attachment in delivery.attachments {
            if let event = attachment.calendar, calendar == nil {
                let invite = CalendarInvite(event, stamp: Date())
                calendar = (invite.render(), invite.method.rawValue)
            } else if let key = attachment.blobKey {
                guard let blobs else { return .permanent(reason: "attachment \(key): BLOB_DIR is not set") }
                files.append(.init(filename: attachment.filename ?? key, contentType: attachment.contentType ?? "application/octet-stream",
                                   data: try blobs.get(key)))
            }
        }
        let domain = settings.from.address.split(separator: "@").last.map(String.init) ?? "convene"
        let email = EmailMessage(
            from: settings.from, to: [Mailbox(name: delivery.recipientName, address: delivery.recipient)],
            replyTo: settings.replyTo, subject: message.subject, text: message.text, html: message.html,
            calendar: calendar, attachments: files, messageID: "\(delivery.id.uuidString.lowercased())@\(domain)", date: Date())
        try await smtp.send(from: settings.from.address, recipients: [delivery.recipient], message: email.render())
        return .sent(answer: "accepted by the SMTP server")
    }

    private func robot(_ delivery: DeliveryStore.Claimed, kind: RobotKind) async throws -> DeliveryResult {
        guard let (storedKind, credentials) = delivery.robot, storedKind == kind else {
            return .permanent(reason: "the robot was removed")
        }
        let message = try rendered(delivery)
        let base = kind == .dingtalk ? settings.dingTalkRobotURL : settings.weComRobotURL
        let request = try RobotAPI.request(kind: kind, base: base, credentials: credentials, title: message.subject,
                                           markdown: message.markdown ?? message.text, now: Date())
        let response = try await robotClient.execute(request)
        return RobotAPI.interpret(kind: kind, status: response.status, body: response.body)
    }

    /// The event as it was published, signed the Standard Webhooks way. `webhook-id` is the
    /// event's id, the same on every attempt, so the receiver can drop repeats.
    private func webhook(_ delivery: DeliveryStore.Claimed) async throws -> DeliveryResult {
        guard let target = delivery.webhook else { return .permanent(reason: "the webhook was deleted") }
        do { try settings.webhookPolicy.checkURL(target.url) } catch { return .permanent(reason: "\(error)") }
        let body = Array(delivery.dataText.utf8)
        let eventId = delivery.data["id"].flatMap { if case .string(let value) = $0 { value } else { nil } }
            ?? delivery.id.uuidString.lowercased()
        let key = try StandardWebhook.key(fromSecret: target.secret)
        var request = HTTPRequest(method: .post, url: target.url, headers: [("Content-Type", "application/json")], body: body)
        for header in StandardWebhook.headers(key: key, id: eventId, timestamp: Int64(Date().timeIntervalSince1970), body: body) {
            request.addHeader(header.name, header.value)
        }
        let response = try await webhookClient.execute(request)
        return DeliveryResult.webhookAnswer(status: response.status, body: response.body)
    }
}
