import Contracts
import Hummingbird
import Messaging

/// Requests to the services on behalf of an HTTP request: over the broker with `RPC_TIMEOUT`,
/// the request's id as correlation id and the tenant in the envelope. A refusal comes back as
/// the service's `ConveneError`, which `ProblemMiddleware` turns into a problem answer.
struct ServiceClient: Sendable {
    let rpc: RPCClient
    let timeout: Duration

    func call<Payload: MessagePayload, Answer: Codable & Sendable>(
        _ payload: Payload, as answer: Answer.Type, organizationId: String?, context: GatewayRequestContext
    ) async throws -> Answer {
        let reply = try await rpc.request(Payload.messageType, payload, as: Answer.self, timeout: timeout,
                                          organizationId: organizationId, correlationId: context.requestId)
        return try reply.get()
    }

    /// Forwards `payload` and answers the service's reply as JSON with `status`.
    func respond<Payload: MessagePayload, Answer: Codable & Sendable>(
        _ payload: Payload, as answer: Answer.Type, organizationId: String?, context: GatewayRequestContext,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        try JSONResponse.make(try await call(payload, as: answer, organizationId: organizationId, context: context), status: status)
    }
}
