import ArgumentParser
import Contracts
import Foundation
import HTTPClient
import Logging

/// (f′) Paid registrations per second end to end: HTTP submit (awaiting payment) → the order
/// payment creates → a WeChat Pay checkout (payment signs its request to the provider, verifies
/// the signed answer) → the payer pays at the provider stand-in, which sends its signed
/// notification to the gateway's callback route → payment verifies and records it →
/// registration confirms. Offered at a fixed rate (open loop); latency from the submission until
/// the registration reads `confirmed` (polled with back-off, so it is rounded up by up to the
/// last pause).
extension Bench {
    func paidRegistrations(logger: Logger) async throws {
        let env = ProcessInfo.processInfo.environment
        guard let gateway = env["BENCH_GATEWAY_URL"], let secret = env["GATEWAY_TOKEN_SECRET"],
              let contracts = env["BENCH_CONTRACTS_URL"], let mchid = env["BENCH_WECHATPAY_MCHID"] else {
            throw ValidationError("BENCH_GATEWAY_URL, GATEWAY_TOKEN_SECRET, BENCH_CONTRACTS_URL and BENCH_WECHATPAY_MCHID must be set "
                                  + "for the paid measurement (compose/local/bench.sh sets them)")
        }
        let client = CurlHTTPClient(configuration: .init(timeout: .seconds(30), maxConnections: 64))
        let tokens = JWTMaker(secret: Array(secret.utf8))
        let organization = "bench-" + UUID().uuidString.prefix(8).lowercased()
        let organizer = tokens.make(subject: UUID().uuidString.lowercased(), organization: organization, roles: ["meeting_admin"])
        let conference = try await benchConference(gateway, organization: organization, organizer: organizer, settings: """
            {"form":{"fields":[{"key":"affiliation","type":"text","label":{"en":"Affiliation"}}]},
             "categories":[{"key":"regular","names":{"en":"Regular"},"fee":{"regular":{"amountMinor":10000,"currency":"CNY"}}}],
             "reviewRequired":false,"waitlistEnabled":false,"paymentWindowMinutes":30,"paymentMethods":["wechat_pay"]}
            """, client: client)

        let total = paidRate * paidSeconds
        let participants = (0..<total).map { index in
            tokens.make(subject: UUID().uuidString.lowercased(), organization: nil, roles: ["participant"],
                        email: "payer-\(index)@bench.example")
        }
        let outcome = await OpenLoop(rate: paidRate, count: total).run { index in
            (try? await payOne(gateway: gateway, contracts: contracts, mchid: mchid, conference: conference,
                               token: participants[index], client: client)) ?? false
        }
        print("| (f′) paid registrations (WeChat Pay), HTTP submit → checkout → signed callback → confirmed, offered at \(paidRate)/s"
              + " for \(paidSeconds) s (\(outcome.failed) failed) | " + outcome.cells)
    }

    /// One participant's whole paid registration; true once it reads `confirmed`.
    private func payOne(gateway: String, contracts: String, mchid: String, conference: String, token: String,
                        client: CurlHTTPClient) async throws -> Bool {
        func call(_ method: HTTPMethod, _ url: String, _ json: String? = nil, authorized: Bool = true) async throws -> HTTPResponse {
            var request = HTTPRequest(method: method, url: url, body: json.map { Array($0.utf8) } ?? [])
            if json != nil { request.setHeader("Content-Type", "application/json") }
            if authorized { request.setHeader("Authorization", "Bearer " + token) }
            return try await client.execute(request)
        }
        func field(_ response: HTTPResponse, _ name: String) -> String? {
            guard case .object(let object)? = try? ConveneJSON.decode(JSONValue.self, from: response.body),
                  case .string(let value)? = object[name] else { return nil }
            return value
        }
        let submitted = try await call(.post, "\(gateway)/v1/conferences/\(conference)/registrations",
                                       #"{"category":"regular","answers":{"affiliation":"Bench University"}}"#)
        guard submitted.status == 201, let id = field(submitted, "id") else { return false }
        // The order is made by payment from registration's event: until then the checkout is 404.
        // Asked again as a client would, backing off (100 ms doubling to 800 ms): a participant's
        // requests stay well inside the gateway's rate limit.
        let deadline = ContinuousClock.now.advanced(by: .seconds(60))
        var pause = Duration.milliseconds(100)
        func backOff() async throws {
            try await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(800))
        }
        var orderNumber: String?
        while orderNumber == nil, ContinuousClock.now < deadline {
            let checkout = try await call(.post, "\(gateway)/v1/me/registrations/\(id)/payment", #"{"method":"wechat_pay"}"#)
            if checkout.status == 200 { orderNumber = field(checkout, "orderNumber") } else { try await backOff() }
        }
        guard let orderNumber else { return false }
        // The payer pays: the stand-in sends its signed notification to the gateway before answering.
        let paid = try await call(.post, "\(contracts)/_admin/wechatpay/transactions/\(orderNumber)/pay?mchid=\(mchid)", "{}",
                                  authorized: false)
        guard paid.status == 200 else { return false }
        pause = .milliseconds(100)
        while ContinuousClock.now < deadline {
            let view = try await call(.get, "\(gateway)/v1/me/registrations/\(id)")
            if field(view, "status") == "confirmed" { return true }
            try await backOff()
        }
        return false
    }
}
