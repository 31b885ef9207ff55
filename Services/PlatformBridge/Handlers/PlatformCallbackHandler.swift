import Contracts
import Crypto
import Foundation
import Persistence

/// Verifies a platform's webhook and turns it into Convene events. Per platform a verifier:
/// Zoom's is implemented; Tencent Meeting's and DingTalk's signing schemes are unverified
/// (external-apis.md), so their callbacks are refused until one is added here.
protocol WebhookVerifier: Sendable {
    /// `method` is `GET` or `POST`; `query` the raw query string.
    func handle(method: String, query: String, headers: [String: String], body: [UInt8],
                context: HandlerContext) async throws -> CallbackAnswer
}

/// `platform-bridge.platform_callback`: the raw request from the gateway; the answer goes back to
/// the platform as is.
struct PlatformCallbackHandler: MessageHandler {
    let service: String
    let verifiers: [String: any WebhookVerifier]
    var messageType: String { "\(service).platform_callback" }

    func handle(_ message: Envelope<PlatformCallback>, context: HandlerContext) async throws -> CallbackAnswer {
        guard let verifier = verifiers[message.data.platform] else {
            return .json(404, ["error": "callbacks of \(message.data.platform) are not supported"])
        }
        guard let body = Data(base64Encoded: message.data.body) else { return .json(400, ["error": "body is not base64"]) }
        var headers: [String: String] = [:]
        for pair in message.data.headers where pair.count == 2 { headers[pair[0].lowercased()] = pair[1] }
        return try await verifier.handle(method: (message.data.method ?? "POST").uppercased(), query: message.data.query ?? "",
                                         headers: headers, body: Array(body), context: context)
    }
}

extension CallbackAnswer {
    static func json(_ status: Int, _ object: [String: String]) -> CallbackAnswer {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return CallbackAnswer(status: status, contentType: "application/json", body: data.base64EncodedString())
    }

    static func text(_ status: Int, _ text: String) -> CallbackAnswer {
        CallbackAnswer(status: status, contentType: "text/plain; charset=utf-8", body: Data(text.utf8).base64EncodedString())
    }
}

/// Zoom: URL validation, then signed events (x-zm-signature over the raw body with the
/// organization's secret token, found by the payload's account id; timestamps within 5 minutes).
struct ZoomWebhookVerifier: WebhookVerifier {
    let credentials: CredentialStore
    let clock: @Sendable () -> Date
    let provisions = ProvisionStore()

    func handle(method: String, query: String, headers: [String: String], body: [UInt8],
                context: HandlerContext) async throws -> CallbackAnswer {
        guard method == "POST" else { return .json(405, ["error": "Zoom posts its events"]) }
        let tx = context.transaction
        // Only what finds the key is read before the signature is checked: the account id.
        guard let event = ZoomWebhook.decode(body) else { return .json(400, ["error": "not a Zoom event"]) }
        let candidates = try await credentials.zoomWebhookSecrets(
            accountId: event.event == "endpoint.url_validation" ? nil : (event.payload?.account_id ?? ""),
            in: tx)
        let now = clock()
        var stale = false
        var matched: (organizationId: String, secret: String)?
        for candidate in candidates {
            guard let secret = candidate.credentials.webhookSecretToken else { continue }
            switch ZoomWebhook.verify(secretToken: secret, timestamp: headers["x-zm-request-timestamp"],
                                      signature: headers["x-zm-signature"], body: body, now: now) {
            case .valid: matched = (candidate.organizationId, secret)
            case .stale: stale = true
            case .badSignature: continue
            }
            if matched != nil { break }
        }
        guard let matched else {
            context.logger.warning("Zoom webhook refused", metadata: ["reason": "\(stale ? "stale timestamp" : "bad signature")",
                                                                     "event": "\(event.event)"])
            return .json(401, ["error": stale ? "timestamp too far from now" : "signature does not verify"])
        }
        if event.event == "endpoint.url_validation" {
            guard let plain = event.payload?.plainToken, !plain.isEmpty else { return .json(400, ["error": "no plainToken"]) }
            return .json(200, ZoomWebhook.validationAnswer(plainToken: plain, secretToken: matched.secret))
        }
        let digest = Hex.encode(Array(SHA256.hash(data: Data(body))))
        guard try await provisions.firstDelivery(platform: MeetingPlatformName.zoom, digest: digest, in: tx) else {
            return .json(200, [:])      // a resend: acted on already
        }
        let fact = ZoomWebhook.fact(of: event, receivedAt: now)
        guard let platformMeetingId = fact.platformMeetingId,
              let meetingId = try await provisions.meetingId(platform: MeetingPlatformName.zoom, platformMeetingId: platformMeetingId,
                                                            organizationId: matched.organizationId, in: tx) else {
            context.logger.info("Zoom event about no meeting of Convene", metadata: ["event": "\(event.event)"])
            return .json(200, [:])
        }
        try await PlatformFacts.publish(fact, meetingId: meetingId, platform: MeetingPlatformName.zoom,
                                        organizationId: matched.organizationId, context: context)
        context.logger.info("Zoom event", metadata: ["event": "\(event.event)", "meetingId": "\(meetingId)"])
        return .json(200, [:])
    }
}

/// Tencent Meeting: the GET URL check (answer the decoded `check_str`), then signed POST events
/// (`{"data": base64(JSON)}`, answered `successfully received callback`). Callbacks name no
/// organization: the one whose callback token verifies the signature is the one.
struct TencentWebhookVerifier: WebhookVerifier {
    let credentials: CredentialStore
    let clock: @Sendable () -> Date
    let provisions = ProvisionStore()

    struct Body: Decodable { var data: String }

    func handle(method: String, query: String, headers: [String: String], body: [UInt8],
                context: HandlerContext) async throws -> CallbackAnswer {
        let tx = context.transaction
        let data: String
        if method == "GET" {
            guard let check = TencentWebhook.checkString(query: query) else { return .text(400, "check_str is missing") }
            data = check
        } else {
            guard let parsed = try? JSONDecoder().decode(Body.self, from: Data(body)) else { return .text(400, "not a Tencent Meeting event") }
            data = parsed.data
        }
        let now = clock()
        var stale = false
        var organizationId: String?
        for candidate in try await credentials.tencentWebhookTokens(in: tx) {
            switch TencentWebhook.verify(token: candidate.token, timestamp: headers["timestamp"], nonce: headers["nonce"],
                                         signature: headers["signature"], data: data, now: now) {
            case .valid: organizationId = candidate.organizationId
            case .stale: stale = true
            case .badSignature: continue
            }
            if organizationId != nil { break }
        }
        guard let organizationId else {
            context.logger.warning("Tencent Meeting callback refused", metadata: ["reason": "\(stale ? "stale timestamp" : "bad signature")"])
            return .text(401, stale ? "timestamp too far from now" : "signature does not verify")
        }
        if method == "GET" {
            guard let plain = Data(base64Encoded: data) else { return .text(400, "check_str is not base64") }
            return .text(200, String(decoding: plain, as: UTF8.self))
        }
        guard let event = TencentWebhook.decode(data: data) else { return .text(400, "data is not a Tencent Meeting event") }
        let digest = Hex.encode(Array(SHA256.hash(data: Data(body))))
        guard try await provisions.firstDelivery(platform: MeetingPlatformName.tencent, digest: digest, in: tx) else {
            return .text(200, "successfully received callback")
        }
        let tencent = MeetingPlatformName.tencent
        for fact in TencentWebhook.facts(of: event, receivedAt: now) {
            guard let platformMeetingId = fact.platformMeetingId,
                  let meetingId = try await provisions.meetingId(platform: tencent, platformMeetingId: platformMeetingId,
                                                                organizationId: organizationId, in: tx) else { continue }
            try await PlatformFacts.publish(fact, meetingId: meetingId, platform: tencent, organizationId: organizationId,
                                            context: context)
            context.logger.info("Tencent Meeting event", metadata: ["event": "\(event.event)", "meetingId": "\(meetingId)"])
        }
        return .text(200, "successfully received callback")
    }
}

/// The Convene event each verified platform fact becomes, whichever platform said it.
enum PlatformFacts {
    static func publish(_ fact: ZoomWebhook.Fact, meetingId: String, platform: String, organizationId: String,
                        context: HandlerContext) async throws {
        switch fact {
        case .started(_, let at):
            try await context.publish(PlatformMeetingStarted(meetingId: meetingId, platform: platform, at: at), organizationId: organizationId)
        case .ended(_, let at):
            try await context.publish(PlatformMeetingEnded(meetingId: meetingId, platform: platform, at: at), organizationId: organizationId)
        case .joined(_, let name, let email, let userId, let at):
            try await context.publish(PlatformParticipantJoined(PlatformParticipant(
                meetingId: meetingId, platform: platform, name: name, email: email, platformUserId: userId, at: at)),
                                      organizationId: organizationId)
        case .left(_, let name, let email, let userId, let at):
            try await context.publish(PlatformParticipantLeft(PlatformParticipant(
                meetingId: meetingId, platform: platform, name: name, email: email, platformUserId: userId, at: at)),
                                      organizationId: organizationId)
        case .recording(_, let shareUrl, let files):
            try await context.publish(PlatformRecordingReady(meetingId: meetingId, platform: platform, shareUrl: shareUrl, files: files),
                                      organizationId: organizationId)
        case .ignored:
            break
        }
    }
}
