import Contracts
import Foundation
@testable import Gateway
import Hummingbird
import Testing

@Suite("Problem answers")
struct ProblemTests {
    @Test("service error codes map to HTTP statuses by their shape", arguments: [
        ("notification.not_found", 404),
        ("registration.not_found", 404),
        ("notification.invalid_webhook", 422),
        ("notification.invalid_robot", 422),
        ("notification.invalid_cursor", 422),
        ("notification.invalid_preference", 422),
        ("notification.unknown_channel", 422),
        ("notification.too_many", 422),
        ("scheduling.invalid_state", 409),
        ("registration.illegal_transition", 409),
        ("registration.capacity_full", 409),
        ("registration.closed", 409),
        ("registration.offer_expired", 409),
        ("registration.comment_required", 422),
        ("payment.method_unavailable", 409),
        ("payment.order_expired", 409),
        ("convene.invalid_payload", 422),
        ("notification.robot_exists", 409),
        ("registration.exists", 409),
        ("convene.timeout", 504),
        ("convene.unavailable", 503),
        ("notification.organization_required", 500),
        ("convene.unknown_type", 500),
        ("convene.malformed_envelope", 500),
        ("convene.invalid_reply", 500),
        ("payment.signature_invalid", 500),
        ("nodot", 500),
        ("trailing.", 500),
    ])
    func statusForCode(code: String, status: Int) {
        #expect(Problem.status(forCode: code).code == status)
    }

    @Test("a client error keeps the service's code and message")
    func clientError() {
        let problem = Problem(ConveneError(code: "notification.invalid_webhook", message: "only https URLs are accepted"))
        #expect(problem.status == .unprocessableContent)
        #expect(problem.body == Problem.Body(type: "https://convene.dev/problems/notification.invalid_webhook",
                                             title: "Unprocessable Content", status: 422,
                                             code: "notification.invalid_webhook", detail: "only https URLs are accepted"))
    }

    @Test("an unexpected service error answers 500 without its message")
    func internalError() {
        let problem = Problem(ConveneError(code: "notification.database", message: "relation \"secret_table\" does not exist"))
        #expect(problem.status == .internalServerError)
        #expect(problem.code == "gateway.internal_error")
        #expect(!problem.detail.contains("secret_table"))
    }

    @Test("timeouts and an unreachable service say so without internals")
    func timeoutAndUnavailable() {
        let timeout = Problem(.timeout("notification.list_inbox did not answer within 5 seconds"))
        #expect(timeout.status == .gatewayTimeout)
        #expect(timeout.code == "convene.timeout")
        #expect(!timeout.detail.contains("list_inbox"))
        let unavailable = Problem(.unavailable("no service consumes notification.list_inbox"))
        #expect(unavailable.status == .serviceUnavailable)
        #expect(unavailable.headers[.retryAfter] != nil)
    }

    @Test("anything else thrown becomes a generic 500; the router's not-found a 404 problem")
    func otherErrors() {
        struct Oops: Error {}
        #expect(Problem.from(Oops()) == .internalError)
        #expect(Problem.from(HTTPError(.notFound)) == .unknownRoute)
        #expect(Problem.unknownRoute.status == .notFound && Problem.unknownRoute.code == "gateway.not_found")
        #expect(Problem.from(Problem.invalidToken) == .invalidToken)
        #expect(Problem.from(ConveneError(code: "notification.not_found", message: "no such webhook")).status == .notFound)
    }

    @Test("the answer is application/problem+json with the documented members")
    func response() throws {
        let response = Problem.tokenRequired.response()
        #expect(response.status == .unauthorized)
        #expect(response.headers[.contentType] == "application/problem+json")
        #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
        let encoded = try ConveneJSON.encode(Problem.tokenRequired.body)
        let object = try JSONSerialization.jsonObject(with: Data(encoded)) as? [String: Any]
        #expect(Set(object?.keys.map { $0 } ?? []) == ["type", "title", "status", "code", "detail"])
        #expect(object?["type"] as? String == "https://convene.dev/problems/gateway.token_required")
        #expect(object?["status"] as? Int == 401)
    }

    @Test("a client's request id is kept only when it is short and plain")
    func requestIds() {
        #expect(ProblemMiddleware.sanitized("abc-123_x.y:z") == "abc-123_x.y:z")
        #expect(ProblemMiddleware.sanitized("") == nil)
        #expect(ProblemMiddleware.sanitized("has space") == nil)
        #expect(ProblemMiddleware.sanitized("new\nline") == nil)
        #expect(ProblemMiddleware.sanitized(String(repeating: "a", count: 129)) == nil)
        #expect(ProblemMiddleware.sanitized(nil) == nil)
    }

    @Test("JSON media types are recognised, parameters ignored")
    func mediaTypes() {
        #expect(JSONBody.isJSON("application/json"))
        #expect(JSONBody.isJSON("Application/JSON; charset=utf-8"))
        #expect(JSONBody.isJSON("application/merge-patch+json"))
        #expect(!JSONBody.isJSON("text/plain"))
        #expect(!JSONBody.isJSON("application/x-www-form-urlencoded"))
    }

    @Test("an organization administrator's scope: 404 for another organization, 403 without the role")
    func adminScope() {
        let admin = Principal(accountId: "a", organizationId: "org-1", roles: [.orgAdmin], email: nil, locale: nil)
        let member = Principal(accountId: "b", organizationId: "org-1", roles: [.user, .meetingAdmin], email: nil, locale: nil)
        let operator_ = Principal(accountId: "c", organizationId: "org-9", roles: [.systemAdmin], email: nil, locale: nil)
        #expect(throws: Never.self) { try admin.requireAdmin(of: "org-1") }
        #expect(throws: Never.self) { try operator_.requireAdmin(of: "org-1") }
        #expect(throws: Problem.notFound("no such organization")) { try admin.requireAdmin(of: "org-2") }
        #expect(throws: Problem.notFound("no such organization")) { try member.requireAdmin(of: "org-2") }
        #expect(performing: { try member.requireAdmin(of: "org-1") }, throws: { ($0 as? Problem)?.status == .forbidden })
    }
}
