import Foundation
import ServiceKit

/// The notification service's own settings (docs/configuration.md).
struct NotificationSettings: Sendable {
    var smtpURL: String
    var smtpUsername: String?
    var smtpPassword: String?
    var smtpRequireTLS: Bool
    var from: Mailbox
    var replyTo: Mailbox?
    var templatesDirectory: String?
    /// Attempts of a delivery after the first before it counts as failed; matches RETRY_DELAYS.
    var retries: Int

    init(_ environment: [String: String], retries: Int) throws {
        var env = EnvironmentReader(environment)
        smtpURL = env.required("SMTP_URL")
        env.check(smtpURL.isEmpty || smtpURL.hasPrefix("smtp://") || smtpURL.hasPrefix("smtps://"),
                  "SMTP_URL must start with smtp:// or smtps://")
        smtpUsername = environment["SMTP_USERNAME"].flatMap { $0.isEmpty ? nil : $0 }
        smtpPassword = environment["SMTP_PASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
        smtpRequireTLS = env.oneOf("SMTP_REQUIRE_TLS", ["true", "false"], default: "false") == "true"
        let fromAddress = env.string("MAIL_FROM", default: "noreply@convene.local")
        env.check(Mailbox.isValid(fromAddress), "MAIL_FROM must be an email address")
        from = Mailbox(name: env.string("MAIL_FROM_NAME", default: "Convene"), address: fromAddress)
        if let reply = environment["MAIL_REPLY_TO"], !reply.isEmpty {
            env.check(Mailbox.isValid(reply), "MAIL_REPLY_TO must be an email address")
            replyTo = Mailbox(name: nil, address: reply)
        }
        templatesDirectory = environment["TEMPLATES_DIR"]
        self.retries = retries
        try env.validate()
    }
}
