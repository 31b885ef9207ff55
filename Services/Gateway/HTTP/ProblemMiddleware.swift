import Contracts
import Hummingbird
import Logging

/// The outermost middleware: gives the request its correlation id (the client's `X-Request-Id`
/// when it is sane, a new one otherwise), echoes it in the response, and turns whatever a route
/// threw into an `application/problem+json` answer.
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let requestId = Self.sanitized(request.headers[.requestId]) ?? UUID().uuidString.lowercased()
        context.requestId = requestId
        context.logger[metadataKey: "requestId"] = "\(requestId)"
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            let problem = Problem.from(error)
            if problem.status.code >= 500 {
                context.logger.error("request failed", metadata: [
                    "method": "\(request.method)", "path": "\(request.uri.path)", "status": "\(problem.status.code)",
                    "error": "\(error)",
                ])
            } else {
                context.logger.debug("request refused", metadata: [
                    "method": "\(request.method)", "path": "\(request.uri.path)", "code": "\(problem.code)",
                ])
            }
            response = problem.response()
        }
        response.headers[.requestId] = requestId
        return response
    }

    /// A client's request id is kept when it is 1 to 128 characters of letters, digits and
    /// `-_.:`; anything else (it ends up in logs and messages) is replaced.
    static func sanitized(_ value: String?) -> String? {
        guard let value, (1...128).contains(value.utf8.count),
              value.utf8.allSatisfy({ isAllowed($0) }) else { return nil }
        return value
    }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: ":"):
            return true
        default:
            return false
        }
    }
}
