import Contracts
import Hummingbird

/// An error answer as `application/problem+json` (RFC 9457):
/// `{"type": "https://convene.dev/problems/<code>", "title", "status", "code", "detail"}`.
/// The `code` is stable; the `detail` is for people.
struct Problem: Error, Sendable, Equatable {
    var status: HTTPResponse.Status
    var code: String
    var detail: String
    var headers: HTTPFields = [:]
    /// Per-field problems of a request that failed validation.
    var errors: [FieldProblem]?

    init(_ status: HTTPResponse.Status, code: String, detail: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers
    }

    static let typeBase = "https://convene.dev/problems/"
    static let contentType = "application/problem+json"

    struct Body: Codable, Sendable, Equatable {
        var type: String
        var title: String
        var status: Int
        var code: String
        var detail: String
        var errors: [FieldProblem]?
    }

    var body: Body {
        Body(type: Self.typeBase + code, title: status.reasonPhrase, status: status.code, code: code, detail: detail,
             errors: errors)
    }

    func response() -> Response {
        var headers = headers
        headers[.contentType] = Self.contentType
        headers[.cacheControl] = "no-store"
        let bytes = (try? ConveneJSON.encode(body)) ?? Array(#"{"status":500}"#.utf8)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// One field's problem: `{"field": "email", "code": "invalid_email", "message": "…"}`.
struct FieldProblem: Codable, Sendable, Equatable {
    var field: String
    var code: String
    var message: String
}

// MARK: The gateway's own problems

extension Problem {
    static let tokenRequired = Problem(
        .unauthorized, code: "gateway.token_required", detail: "this endpoint requires a bearer access token or API key",
        headers: [.wwwAuthenticate: #"Bearer realm="convene""#])
    static let invalidToken = Problem(
        .unauthorized, code: "gateway.invalid_token", detail: "the access token or API key is invalid, expired or revoked",
        headers: [.wwwAuthenticate: #"Bearer realm="convene", error="invalid_token""#])

    /// An API key on a route for signed-in accounts (the caller's own account, the organization's
    /// administration, API keys themselves).
    static let accountRequired = Problem(
        .forbidden, code: "gateway.account_required",
        detail: "this endpoint is for signed-in accounts; an API key cannot use it")

    /// An API key without the scope the route needs.
    static func insufficientScope(_ scope: APIKeyScope) -> Problem {
        Problem(.forbidden, code: "gateway.insufficient_scope", detail: "this API key lacks the scope \(scope.rawValue)",
                headers: [.wwwAuthenticate: #"Bearer realm="convene", error="insufficient_scope", scope="\#(scope.rawValue)""#])
    }

    /// Over the caller's request rate (`RateLimitMiddleware`).
    static func rateLimited(_ decision: RateLimiter.Decision) -> Problem {
        Problem(.tooManyRequests, code: "gateway.rate_limited",
                detail: "too many requests; try again in \(decision.resetAfter) seconds",
                headers: [.retryAfter: String(decision.resetAfter)])
    }

    /// A handler's 404: `detail` names what was not found ("no such conference").
    static func notFound(_ detail: String) -> Problem {
        Problem(.notFound, code: "gateway.not_found", detail: detail)
    }

    /// The router's 404 for a path, or a method on a path, that the gateway does not serve. No
    /// handler answers with this detail, so a client (and `OpenAPITests`) can tell a missing
    /// endpoint from a handler's missing resource, which has the same status and code.
    static let unknownRoute = Problem(.notFound, code: "gateway.not_found", detail: "no such resource")

    static func invalidQuery(_ detail: String) -> Problem {
        Problem(.unprocessableContent, code: "gateway.invalid_query", detail: detail)
    }

    static let internalError = Problem(
        .internalServerError, code: "gateway.internal_error",
        detail: "something went wrong on our side; quote the X-Request-Id header when reporting it")
}

// MARK: Errors of the services

extension Problem {
    /// The HTTP status for a `ConveneError` code: `*.not_found` 404; `*.invalid_*`, `*.unknown_*`,
    /// `*.too_many` and `convene.invalid_payload` 422; `*_exists`, `*.invalid_state`,
    /// `*.illegal_transition`, `*.capacity_full`, `*.closed`, `*.offer_expired` and the payment
    /// states (`already_paid`, `order_closed`, `order_expired`, `method_unavailable`,
    /// `amount_mismatch`) and `room_conflict` 409; `*_required` (a missing field) 422; `convene.timeout` 504;
    /// `convene.unavailable` 503; anything else 500.
    static func status(forCode code: String) -> HTTPResponse.Status {
        switch code {
        case "convene.timeout": return .gatewayTimeout
        case "convene.unavailable": return .serviceUnavailable
        case "convene.invalid_payload": return .unprocessableContent
        default: break
        }
        // The runtime's other codes (malformed envelope, unknown type, invalid reply, …) are faults
        // between the gateway and a service, never the caller's.
        guard !code.hasPrefix("convene."), let dot = code.firstIndex(of: "."), code.index(after: dot) < code.endIndex
        else { return .internalServerError }
        let name = code[code.index(after: dot)...]
        if name == "not_found" { return .notFound }
        if name == "exists" || name.hasSuffix("_exists") { return .conflict }
        // The request is fine but the resource's state refuses it now.
        if ["invalid_state", "illegal_transition", "capacity_full", "closed", "offer_expired", "already_paid", "order_closed",
            "order_expired", "method_unavailable", "amount_mismatch", "refund_not_manual", "no_receipt", "room_conflict"].contains(name) {
            return .conflict
        }
        if name.hasSuffix("_required") && !name.hasPrefix("organization") { return .unprocessableContent }
        if name.hasPrefix("invalid_") || name.hasPrefix("unknown_") || name == "too_many" { return .unprocessableContent }
        return .internalServerError
    }

    /// The answer for a service's refusal. A 500 says nothing of what happened inside.
    init(_ error: ConveneError) {
        let status = Self.status(forCode: error.code)
        switch status {
        case .internalServerError:
            self = .internalError
        case .gatewayTimeout:
            self.init(status, code: error.code, detail: "the service did not answer in time; try again")
        case .serviceUnavailable:
            self.init(status, code: error.code, detail: "the service is unavailable; try again later",
                      headers: [.retryAfter: "5"])
        default:
            self.init(status, code: error.code, detail: error.message)
            // A service's validation answer names fields in `details`.
            if status == .unprocessableContent, let details = error.details, !details.isEmpty {
                errors = details.keys.sorted().map { FieldProblem(field: $0, code: "invalid", message: details[$0]!) }
            }
        }
    }

    /// Whatever a route threw, as a problem.
    static func from(_ error: any Error) -> Problem {
        switch error {
        case let problem as Problem: return problem
        case let error as ConveneError: return Problem(error)
        case let error as HTTPError where error.status == .notFound: return .unknownRoute
        case let error as any HTTPResponseError where error.status.kind == .clientError:
            return Problem(error.status, code: "gateway.bad_request", detail: error.status.reasonPhrase)
        default: return .internalError
        }
    }
}
