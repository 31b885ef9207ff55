import Contracts
import Foundation
import HTTPClient

/// Why a provider call or callback failed. Messages never carry keys, signatures, the
/// `Authorization` header or a payer's details.
enum PaymentProviderError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A callback's signature is missing, malformed, from an unknown key or does not verify.
    case signatureInvalid(String)
    /// A genuine callback addressed to another app or merchant than ours.
    case callbackMisaddressed(String)
    /// A callback's signed timestamp is too far from now (a replay, or a clock that is off).
    case callbackStale
    /// A callback verified but its content cannot be read (or does not decrypt).
    case callbackMalformed(String)
    /// The provider refused the request: its own error code and message.
    case providerRejected(code: String, message: String)
    /// The provider could not be reached or failed on its side (5xx, 429, timeout, connection
    /// error). The outcome is unknown; the request may be repeated as it is.
    case providerUnavailable(String)
    /// An answer whose signature does not verify, or a 2xx answer that cannot be read, lacks what
    /// it must contain, or is not about our order.
    case providerResponseInvalid(String)
    /// What we asked for cannot be sent to this provider (unsupported currency, non-positive amount…).
    case invalidRequest(String)
    /// The adapter's configuration is unusable (unreadable key, bad URL).
    case misconfigured(String)

    /// Stable code, as in `ConveneError.code`.
    var code: String {
        switch self {
        case .signatureInvalid: "payment.signature_invalid"
        case .callbackMisaddressed: "payment.callback_misaddressed"
        case .callbackStale: "payment.callback_stale"
        case .callbackMalformed: "payment.callback_malformed"
        case .providerRejected: "payment.provider_rejected"
        case .providerUnavailable: "payment.provider_unavailable"
        case .providerResponseInvalid: "payment.provider_response_invalid"
        case .invalidRequest: "payment.invalid_request"
        case .misconfigured: "payment.provider_misconfigured"
        }
    }

    /// Whether the same request may succeed later.
    var isTransient: Bool {
        if case .providerUnavailable = self { true } else { false }
    }

    var description: String {
        switch self {
        case .signatureInvalid(let reason): "\(code): \(reason)"
        case .callbackMisaddressed(let reason): "\(code): \(reason)"
        case .callbackStale: "\(code): the callback's timestamp is too far from now"
        case .callbackMalformed(let reason): "\(code): \(reason)"
        case .providerRejected(let providerCode, let message): "\(code): \(providerCode): \(message)"
        case .providerUnavailable(let reason): "\(code): \(reason)"
        case .providerResponseInvalid(let reason): "\(code): \(reason)"
        case .invalidRequest(let reason): "\(code): \(reason)"
        case .misconfigured(let reason): "\(code): \(reason)"
        }
    }

    var conveneError: ConveneError {
        var details: [String: String]?
        if case .providerRejected(let providerCode, _) = self { details = ["providerCode": providerCode] }
        return ConveneError(code: code, message: description, details: details, retryable: isTransient)
    }

    /// A transport failure of `HTTPExecuting`, as a provider error.
    static func transport(_ error: any Error) -> PaymentProviderError {
        if let error = error as? PaymentProviderError { return error }
        if error is CancellationError { return .providerUnavailable("cancelled") }
        guard let http = error as? HTTPClientError else { return .providerUnavailable("\(type(of: error))") }
        switch http {
        case .invalidURL, .invalidRequest, .protocolNotAllowed, .addressRefused:
            return .misconfigured("the request could not be sent: \(http)")
        case .responseTooLarge:
            return .providerResponseInvalid("\(http)")
        case .connectFailed, .timedOut, .httpStatus, .transport:
            return .providerUnavailable("\(http)")
        }
    }
}
