import Foundation
import Secrets
import ServiceKit

/// The notification service's own settings (docs/configuration.md).
struct NotificationSettings: Sendable {
    var smtpURL: String
    var smtpUsername: String?
    var smtpPassword: String?
    var smtpRequireTLS: Bool
    /// SMTP connections kept open and reused; as many as deliveries run at once.
    var smtpConnections: Int
    var from: Mailbox
    var replyTo: Mailbox?
    var templatesDirectory: String?
    var rulesFile: String?
    var blobDirectory: String?
    /// Seals robot credentials and webhook secrets at rest.
    var secrets: SecretBox
    /// Back-off between attempts of a delivery (email and robots); its length is the number of retries.
    var retryDelays: [Duration]
    var dingTalkRobotURL: String
    var weComRobotURL: String
    /// Messages per robot per rolling minute (both providers allow 20).
    var robotRateLimit: Int
    var webhookRetryDelays: [Duration]
    /// An endpoint failing for this long without a success is disabled.
    var webhookDisableAfter: Duration
    var webhookTimeout: Duration
    var webhookPolicy: AddressPolicy
    /// A delivery still `sending` after this long lost its outcome (the service stopped mid-send).
    var sendingTimeout: Duration
    /// Sends in flight at most, and the most deliveries one claim takes.
    var deliveryConcurrency: Int
    var deliveryBatch: Int
    /// How long the recorder waits for more outcomes to write together.
    var recordLinger: Duration
    /// How often idle workers look for work without a NOTIFY (one may be missed on a reconnect).
    var deliveryPollInterval: Duration
    var schedulerInterval: Duration

    init(_ environment: [String: String], retryDelays: [Duration]) throws {
        var env = EnvironmentReader(environment)
        func optional(_ key: String) -> String? { environment[key].flatMap { $0.isEmpty ? nil : $0 } }
        smtpURL = env.required("SMTP_URL")
        env.check(smtpURL.isEmpty || smtpURL.hasPrefix("smtp://") || smtpURL.hasPrefix("smtps://"),
                  "SMTP_URL must start with smtp:// or smtps://")
        smtpUsername = optional("SMTP_USERNAME")
        smtpPassword = optional("SMTP_PASSWORD")
        smtpRequireTLS = env.oneOf("SMTP_REQUIRE_TLS", ["true", "false"], default: "false") == "true"
        smtpConnections = env.int("SMTP_CONNECTIONS", default: 8, in: 1...64)
        let fromAddress = env.string("MAIL_FROM", default: "noreply@convene.local")
        env.check(Mailbox.isValid(fromAddress), "MAIL_FROM must be an email address")
        from = Mailbox(name: env.string("MAIL_FROM_NAME", default: "Convene"), address: fromAddress)
        if let reply = optional("MAIL_REPLY_TO") {
            env.check(Mailbox.isValid(reply), "MAIL_REPLY_TO must be an email address")
            replyTo = Mailbox(name: nil, address: reply)
        }
        templatesDirectory = optional("TEMPLATES_DIR")
        rulesFile = optional("RULES_FILE")
        blobDirectory = optional("BLOB_DIR")

        let key = env.required("NOTIFICATION_SECRET_KEY")
        let previous = (optional("NOTIFICATION_SECRET_KEYS_PREVIOUS") ?? "").split(separator: ",").map { String($0).trimmed }
        var box: SecretBox?
        if !key.isEmpty {
            do { box = try SecretBox(current: key, previous: previous) } catch {
                env.check(false, "NOTIFICATION_SECRET_KEY / NOTIFICATION_SECRET_KEYS_PREVIOUS: \(error)")
            }
        }
        self.retryDelays = retryDelays
        dingTalkRobotURL = env.string("DINGTALK_ROBOT_URL", default: "https://oapi.dingtalk.com/robot/send")
        weComRobotURL = env.string("WECOM_ROBOT_URL", default: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send")
        robotRateLimit = env.int("ROBOT_RATE_LIMIT", default: 20, in: 1...1000)
        webhookRetryDelays = env.durations("WEBHOOK_RETRY_DELAYS", default: [
            .seconds(5), .seconds(300), .seconds(1800), .seconds(7200), .seconds(18_000), .seconds(36_000), .seconds(36_000),
        ])
        webhookDisableAfter = env.duration("WEBHOOK_DISABLE_AFTER", default: .seconds(3 * 86_400))
        webhookTimeout = env.duration("WEBHOOK_TIMEOUT", default: .seconds(10))
        var policy = AddressPolicy()
        policy.allowHTTP = env.oneOf("WEBHOOK_ALLOW_HTTP", ["true", "false"], default: "false") == "true"
        for block in (optional("WEBHOOK_ALLOWED_NETWORKS") ?? "").split(separator: ",") {
            if let parsed = IPBlock(String(block).trimmed) { policy.allowList.append(parsed) } else {
                env.check(false, "WEBHOOK_ALLOWED_NETWORKS: \(block) is not a CIDR block")
            }
        }
        webhookPolicy = policy
        sendingTimeout = env.duration("SENDING_TIMEOUT", default: .seconds(600))
        schedulerInterval = env.duration("SCHEDULER_INTERVAL", default: .seconds(1))
        deliveryConcurrency = env.int("DELIVERY_CONCURRENCY", default: 64, in: 1...1000)
        deliveryBatch = env.int("DELIVERY_BATCH", default: 32, in: 1...500)
        recordLinger = env.duration("DELIVERY_RECORD_LINGER", default: .milliseconds(20))
        deliveryPollInterval = env.duration("DELIVERY_POLL_INTERVAL", default: .seconds(2))
        try env.validate()
        guard let box else { throw SecretBox.Failure(description: "NOTIFICATION_SECRET_KEY is required") }
        secrets = box
    }
}

extension String {
    fileprivate var trimmed: String { trimmingCharacters(in: .whitespaces) }
}
