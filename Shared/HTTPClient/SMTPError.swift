/// Why a mail could not be handed to the SMTP server.
public struct SMTPError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The sender, a recipient or the message cannot be sent as given (CR/LF, no recipient).
        case invalidInput
        /// The client's URL or options are unusable (bad scheme, ...): an operator must fix them.
        case invalidConfiguration
        /// The server could not be resolved or refused the connection.
        case connectFailed
        case timedOut
        /// `requireTLS` is set but the server does not offer STARTTLS.
        case tlsUnavailable
        /// The server refused the username / password.
        case authenticationFailed
        /// The server answered MAIL FROM, RCPT TO or DATA with an error reply (`responseCode`).
        case rejected
        /// Any other failure (`curlCode`).
        case transport
    }

    public let kind: Kind
    /// The server's last reply code (`CURLINFO_RESPONSE_CODE`), e.g. 550; nil when it never answered.
    public let responseCode: Int?
    /// The libcurl error code, nil for failures found before any transfer.
    public let curlCode: Int?
    public let message: String

    public init(kind: Kind, responseCode: Int? = nil, curlCode: Int? = nil, message: String) {
        self.kind = kind
        self.responseCode = responseCode
        self.curlCode = curlCode
        self.message = message
    }

    /// Sending this message again will fail again: a 5xx reply to MAIL FROM / RCPT TO / DATA
    /// (unknown mailbox, message refused), or input that cannot be sent. Everything else
    /// (4xx replies, connect failures, timeouts, TLS or credential problems an operator can fix)
    /// is worth retrying later.
    public var isPermanent: Bool {
        switch kind {
        case .invalidInput: true
        case .rejected: (responseCode ?? 0) >= 500
        default: false
        }
    }

    public var isTransient: Bool { !isPermanent }

    public var description: String {
        let code = responseCode.map { " (SMTP \($0))" } ?? ""
        return "SMTP \(kind)\(code): \(message)"
    }
}
