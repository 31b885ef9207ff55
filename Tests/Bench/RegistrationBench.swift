import ArgumentParser
import Contracts
import Crypto
import Foundation
import HTTPClient
import Logging

/// (f) Registrations per second end to end: HTTP submit through the gateway → registration
/// (seat decided under the conference's lock, outbox) → answer, for a free category, offered at a
/// fixed rate for a fixed time (open loop: a slow answer does not slow the arrivals down).
extension Bench {
    func registrations(logger: Logger) async throws {
        // Twice: a category without any seat limit (its submissions share the conference's lock)
        // and the same with an overall limit that leaves room for all (each seat decided under the
        // conference's exclusive lock, one transaction after another).
        try await registrations(capacity: nil, logger: logger)
        try await registrations(capacity: registrationRate * registrationSeconds + 1, logger: logger)
    }

    private func registrations(capacity: Int?, logger: Logger) async throws {
        let env = ProcessInfo.processInfo.environment
        guard let gateway = env["BENCH_GATEWAY_URL"], let secret = env["GATEWAY_TOKEN_SECRET"] else {
            throw ValidationError("BENCH_GATEWAY_URL and GATEWAY_TOKEN_SECRET must be set for the registration measurement")
        }
        let client = CurlHTTPClient(configuration: .init(timeout: .seconds(30), maxConnections: 64))
        let tokens = JWTMaker(secret: Array(secret.utf8))
        let organization = "bench-" + UUID().uuidString.prefix(8).lowercased()
        let organizer = tokens.make(subject: UUID().uuidString.lowercased(), organization: organization, roles: ["meeting_admin"])
        let conference = try await freeConference(gateway, organization: organization, organizer: organizer, capacity: capacity,
                                                  client: client)
        let total = registrationRate * registrationSeconds
        let participants = (0..<total).map { index in
            tokens.make(subject: UUID().uuidString.lowercased(), organization: nil, roles: ["participant"],
                        email: "bench-\(index)@bench.example")
        }
        let body = Array(#"{"category":"regular","answers":{"affiliation":"Bench University"}}"#.utf8)
        let outcome = await OpenLoop(rate: registrationRate, count: total).run { index in
            var request = HTTPRequest(method: .post, url: "\(gateway)/v1/conferences/\(conference)/registrations", body: body)
            request.setHeader("Content-Type", "application/json")
            request.setHeader("Authorization", "Bearer " + participants[index])
            let response = try? await client.execute(request)
            return response?.status == 201 && response.map { String(decoding: $0.body, as: UTF8.self) }?
                .contains(#""status":"confirmed""#) == true
        }
        let limit = capacity.map { "overall limit of \($0) seats" } ?? "no seat limit"
        print("| (f) free registrations (\(limit)), HTTP submit → confirmed, offered at \(registrationRate)/s for \(registrationSeconds) s"
              + " (\(outcome.failed) failed) | " + outcome.cells)
    }

    /// A published conference open for registration, one free category; with `capacity`, an
    /// overall seat limit.
    private func freeConference(_ gateway: String, organization: String, organizer: String, capacity: Int?,
                                client: CurlHTTPClient) async throws -> String {
        try await benchConference(gateway, organization: organization, organizer: organizer, settings: """
            {"form":{"fields":[{"key":"affiliation","type":"text","label":{"en":"Affiliation"}}]},
             "categories":[{"key":"regular","names":{"en":"Regular"},"fee":{"regular":{"amountMinor":0,"currency":"CNY"}}}],
             "reviewRequired":false,"waitlistEnabled":false,"paymentMethods":[]\(capacity.map { ",\"overallCapacity\":\($0)" } ?? "")}
            """, client: client)
    }

    /// A published conference open for registration with these registration settings.
    func benchConference(_ gateway: String, organization: String, organizer: String, settings: String,
                         client: CurlHTTPClient) async throws -> String {
        func call(_ method: HTTPMethod, _ path: String, _ json: String) async throws -> HTTPResponse {
            var request = HTTPRequest(method: method, url: gateway + path, body: Array(json.utf8))
            request.setHeader("Content-Type", "application/json")
            request.setHeader("Authorization", "Bearer " + organizer)
            return try await client.execute(request)
        }
        let now = Date()
        func iso(_ offset: TimeInterval) -> String { ISO8601.format(now.addingTimeInterval(offset)) }
        let created = try await call(.post, "/v1/organizations/\(organization)/conferences", """
            {"title":"Bench conference","startsAt":"\(iso(30 * 86400))","endsAt":"\(iso(31 * 86400))","timeZone":"Asia/Shanghai",
             "venue":"Bench hall","registrationOpensAt":"\(iso(-3600))","registrationClosesAt":"\(iso(29 * 86400))",
             "languages":["en"],"contactEmail":"bench@bench.example"}
            """)
        guard created.status == 201, case .object(let object) = try ConveneJSON.decode(JSONValue.self, from: created.body),
              case .string(let id)? = object["id"] else {
            throw ValidationError("creating the bench conference failed: \(created.status) \(String(decoding: created.body, as: UTF8.self))")
        }
        _ = try await call(.post, "/v1/organizations/\(organization)/conferences/\(id)/publish", "{}")
        // Registration learns of the conference from scheduling's event.
        for _ in 0..<100 {
            if try await call(.put, "/v1/organizations/\(organization)/conferences/\(id)/registration-settings", settings).status == 200 {
                return id
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ValidationError("registration never learned of the bench conference")
    }
}

/// HS256 access tokens as the gateway issues them, made with its key.
struct JWTMaker: Sendable {
    let secret: [UInt8]

    func make(subject: String, organization: String?, roles: [String], email: String? = nil) -> String {
        var claims: [String: JSONValue] = [
            "sub": .string(subject), "roles": .array(roles.map(JSONValue.string)), "iss": .string("convene"),
            "aud": .array([.string("convene-api")]), "exp": .number(Date().timeIntervalSince1970.rounded() + 7200),
        ]
        if let organization { claims["org"] = .string(organization) }
        if let email { claims["email"] = .string(email) }
        let header = Self.base64URL(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        let payload = Self.base64URL((try? ConveneJSON.encode(claims)) ?? [])
        let signature = HMAC<SHA256>.authenticationCode(for: Array("\(header).\(payload)".utf8), using: SymmetricKey(data: secret))
        return "\(header).\(payload).\(Self.base64URL(Array(signature)))"
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
