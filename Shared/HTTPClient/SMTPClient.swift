import Logging

/// Hands complete RFC 5322 messages to an SMTP server through libcurl.
///
/// Each of `maxConnections` workers owns a thread and an easy handle that keeps its SMTP
/// connection open between messages. The password is never logged, printed or dumped.
public struct SMTPClient: Sendable, CustomStringConvertible, CustomReflectable {
    /// `smtp://host:port` (add `requireTLS` for STARTTLS) or `smtps://host:port` (implicit TLS).
    public let url: String
    public let username: String?
    private let password: String?
    /// Insist on STARTTLS for `smtp://` (`CURLUSESSL_ALL`): never send in clear text.
    public let requireTLS: Bool
    /// Total time for one message.
    public let timeout: Duration
    public let connectTimeout: Duration
    private let pool: CurlWorkerPool
    private let logger: Logger

    public init(
        url: String,
        username: String? = nil,
        password: String? = nil,
        requireTLS: Bool = false,
        timeout: Duration = .seconds(30),
        connectTimeout: Duration = .seconds(10),
        maxConnections: Int = 1,
        logger: Logger = Logger(label: "convene.smtp-client")
    ) {
        self.url = url
        self.username = username
        self.password = password
        self.requireTLS = requireTLS
        self.timeout = timeout
        self.connectTimeout = connectTimeout
        self.logger = logger
        pool = CurlWorkerPool(size: maxConnections, name: "smtp")
    }

    /// Sends `message` (headers and body, CRLF line ends, already built) to `recipients`.
    /// Returns once the server accepted it for delivery (its reply to DATA).
    /// Throws `SMTPError` (see `isPermanent`) or `CancellationError`.
    public func send(from sender: String, recipients: [String], message: [UInt8]) async throws {
        try validate(sender: sender, recipients: recipients)
        let settings = SMTPTransferSettings(
            url: url, username: username, password: password, requireTLS: requireTLS,
            timeout: timeout, connectTimeout: connectTimeout
        )
        let started = ContinuousClock.now
        do {
            let reply = try await withCancellationSignal { signal in
                try await pool.withWorker { worker in
                    try await worker.sendMail(from: sender, recipients: recipients, message: message,
                                              settings: settings, cancellation: signal)
                }
            }
            logger.debug("Mail handed to SMTP server", metadata: [
                "smtp.server": "\(LogRedaction.url(url))",
                "smtp.recipients": "\(recipients.count)",
                "smtp.reply": "\(reply.map(String.init) ?? "-")",
                "bytes": "\(message.count)",
                "duration_ms": "\(started.duration(to: .now).curlTimeoutMilliseconds)",
            ])
        } catch {
            logger.debug("Mail not sent", metadata: [
                "smtp.server": "\(LogRedaction.url(url))",
                "error": "\(error)",
            ])
            throw error
        }
    }

    private func validate(sender: String, recipients: [String]) throws(SMTPError) {
        let lower = url.lowercased()
        guard lower.hasPrefix("smtp://") || lower.hasPrefix("smtps://"),
              url.utf8.allSatisfy({ $0 > 0x20 && $0 != 0x7F })
        else {
            throw SMTPError(kind: .invalidConfiguration, message: "SMTP URL must be smtp://host:port or smtps://host:port")
        }
        guard !recipients.isEmpty else {
            throw SMTPError(kind: .invalidInput, message: "no recipients")
        }
        // An empty sender is the null reverse-path `<>` of bounces; recipients must be addresses.
        guard Self.isSafeAddress(sender, allowEmpty: true) else {
            throw SMTPError(kind: .invalidInput, message: "invalid sender address")
        }
        for recipient in recipients where !Self.isSafeAddress(recipient, allowEmpty: false) {
            throw SMTPError(kind: .invalidInput, message: "invalid recipient address \"\(recipient.filter { !$0.isNewline })\"")
        }
    }

    /// No CR, LF, NUL, space or angle brackets: they would let an address inject SMTP commands.
    private static func isSafeAddress(_ address: String, allowEmpty: Bool) -> Bool {
        if address.isEmpty { return allowEmpty }
        return address.utf8.allSatisfy { byte in
            byte > 0x20 && byte != 0x7F && byte != UInt8(ascii: "<") && byte != UInt8(ascii: ">")
        }
    }

    public var description: String {
        "SMTPClient(url: \(LogRedaction.url(url)), username: \(username ?? "nil"), password: \(password == nil ? "nil" : "<redacted>"), requireTLS: \(requireTLS))"
    }

    public var customMirror: Mirror {
        Mirror(self, children: [
            "url": LogRedaction.url(url),
            "username": username as Any,
            "password": password == nil ? "nil" : "<redacted>",
            "requireTLS": requireTLS,
        ])
    }
}
