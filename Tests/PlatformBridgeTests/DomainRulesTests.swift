import Contracts
import Crypto
import Foundation
@testable import PlatformBridge
import Testing

@Suite("Platform bridge rules")
struct DomainRulesTests {
    // Computed here independently: Base64 of the lowercase hex HMAC-SHA256.
    static func expectedTencent(_ key: String, _ text: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: SymmetricKey(data: Data(key.utf8)))
        return Data(mac.map { String(format: "%02x", $0) }.joined().utf8).base64EncodedString()
    }

    @Test("the Tencent Meeting signature covers method, headers, URI and body, as documented")
    func tencentSignature() {
        let text = "POST\nX-TC-Key=AKID1&X-TC-Nonce=42&X-TC-Timestamp=1700000000\n/v1/meetings\n{\"a\":1}"
        #expect(TencentSigning.stringToSign(method: "POST", secretId: "AKID1", nonce: "42", timestamp: "1700000000",
                                            uri: "/v1/meetings", body: "{\"a\":1}") == text)
        #expect(TencentSigning.signature(secretKey: "k", method: "POST", secretId: "AKID1", nonce: "42", timestamp: "1700000000",
                                         uri: "/v1/meetings", body: "{\"a\":1}") == Self.expectedTencent("k", text))
        #expect(TencentSigning.signature(secretKey: "other", method: "POST", secretId: "AKID1", nonce: "42", timestamp: "1700000000",
                                         uri: "/v1/meetings", body: "{\"a\":1}") != Self.expectedTencent("k", text))
    }

    @Test("every Tencent call carries the X-TC headers, AppId and X-TC-Registered")
    func tencentHeaders() {
        let headers = TencentSigning.headers(secretId: "AKID1", secretKey: "k", appId: "200", sdkId: "sdk", method: "GET",
                                             uri: "/v1/meetings/1", body: "", now: Date(timeIntervalSince1970: 1_700_000_000),
                                             nonce: 7)
        let named = Dictionary(uniqueKeysWithValues: headers.map { ($0.name, $0.value) })
        #expect(named["X-TC-Key"] == "AKID1")
        #expect(named["X-TC-Timestamp"] == "1700000000")
        #expect(named["X-TC-Nonce"] == "7")
        #expect(named["AppId"] == "200")
        #expect(named["SdkId"] == "sdk")
        #expect(named["X-TC-Registered"] == "1")
        #expect(named["X-TC-Signature"] == Self.expectedTencent(
            "k", "GET\nX-TC-Key=AKID1&X-TC-Nonce=7&X-TC-Timestamp=1700000000\n/v1/meetings/1\n"))
    }

    @Test("a Zoom webhook verifies with its secret token and a fresh timestamp only")
    func zoomVerification() {
        let body = #"{"event":"meeting.started","payload":{"account_id":"A","object":{"id":85012345678}}}"#
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let mac = HMAC<SHA256>.authenticationCode(for: Data("v0:1700000000:\(body)".utf8), using: SymmetricKey(data: Data("tok".utf8)))
        let signature = "v0=" + mac.map { String(format: "%02x", $0) }.joined()
        #expect(ZoomWebhook.signature(secretToken: "tok", timestamp: "1700000000", body: body) == signature)
        #expect(ZoomWebhook.verify(secretToken: "tok", timestamp: "1700000000", signature: signature, body: body, now: now) == .valid)
        #expect(ZoomWebhook.verify(secretToken: "other", timestamp: "1700000000", signature: signature, body: body, now: now)
                == .badSignature)
        #expect(ZoomWebhook.verify(secretToken: "tok", timestamp: "1700000000", signature: signature, body: body + " ", now: now)
                == .badSignature)
        #expect(ZoomWebhook.verify(secretToken: "tok", timestamp: "1700000000", signature: signature, body: body,
                                   now: now.addingTimeInterval(301)) == .stale)
        #expect(ZoomWebhook.verify(secretToken: "tok", timestamp: nil, signature: signature, body: body, now: now) == .badSignature)
    }

    @Test("URL validation answers the plain token and its HMAC in hex")
    func zoomValidation() {
        let answer = ZoomWebhook.validationAnswer(plainToken: "qgg8vlvZRS6UYooatFL8Aw", secretToken: "tok")
        let mac = HMAC<SHA256>.authenticationCode(for: Data("qgg8vlvZRS6UYooatFL8Aw".utf8), using: SymmetricKey(data: Data("tok".utf8)))
        #expect(answer["plainToken"] == "qgg8vlvZRS6UYooatFL8Aw")
        #expect(answer["encryptedToken"] == mac.map { String(format: "%02x", $0) }.joined())
    }

    @Test("Zoom events map to started, ended, participants and recordings")
    func zoomFacts() throws {
        func fact(_ json: String) throws -> ZoomWebhook.Fact {
            let event = try #require(ZoomWebhook.decode(Array(json.utf8)))
            return ZoomWebhook.fact(of: event, receivedAt: Date(timeIntervalSince1970: 0))
        }
        #expect(try fact(#"{"event":"meeting.started","payload":{"object":{"id":85012345678,"start_time":"2026-12-01T02:00:00Z"}}}"#)
                == .started(platformMeetingId: "85012345678", at: ISO8601.parse("2026-12-01T02:00:00Z")!))
        #expect(try fact(#"{"event":"meeting.ended","event_ts":1700000000000,"payload":{"object":{"id":"9"}}}"#)
                == .ended(platformMeetingId: "9", at: Date(timeIntervalSince1970: 1_700_000_000)))
        #expect(try fact(#"{"event":"meeting.participant_joined","payload":{"object":{"id":9,"participant":{"user_name":"李雷","email":"li@example.com","participant_user_id":"u1","join_time":"2026-12-01T02:01:00Z"}}}}"#)
                == .joined(platformMeetingId: "9", name: "李雷", email: "li@example.com", userId: "u1",
                           at: ISO8601.parse("2026-12-01T02:01:00Z")!))
        guard case .recording(let id, let share, let files) = try fact(
            #"{"event":"recording.completed","payload":{"object":{"id":9,"share_url":"https://zoom.us/rec/share/x","recording_files":[{"file_type":"MP4","file_size":1024}]}}}"#)
        else { Issue.record("not a recording"); return }
        #expect(id == "9")
        #expect(share == "https://zoom.us/rec/share/x")
        #expect(files.map(\.type) == ["MP4"])
        #expect(files.first?.sizeBytes == 1024)
        #expect(try fact(#"{"event":"meeting.sharing_started","payload":{"object":{"id":9}}}"#) == .ignored("meeting.sharing_started"))
    }

    @Test("a Tencent Meeting callback verifies by SHA-1 of the sorted token, timestamp, nonce and data, within 5 minutes")
    func tencentCallbackSignature() {
        let sorted = ["tok", "1700000000", "42", "ZGF0YQ=="].sorted().joined()
        let expected = Insecure.SHA1.hash(data: Data(sorted.utf8)).map { String(format: "%02x", $0) }.joined()
        #expect(TencentWebhook.signature(token: "tok", timestamp: "1700000000", nonce: "42", data: "ZGF0YQ==") == expected)
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(TencentWebhook.verify(token: "tok", timestamp: "1700000000", nonce: "42", signature: expected, data: "ZGF0YQ==",
                                      now: now) == .valid)
        #expect(TencentWebhook.verify(token: "other", timestamp: "1700000000", nonce: "42", signature: expected, data: "ZGF0YQ==",
                                      now: now) == .badSignature)
        #expect(TencentWebhook.verify(token: "tok", timestamp: "1700000000", nonce: "42", signature: expected, data: "ZGF0YQ==",
                                      now: now.addingTimeInterval(301)) == .stale)
        #expect(TencentWebhook.checkString(query: "a=1&check_str=aGVsbG8%3D") == "aGVsbG8=")
    }

    @Test("Tencent Meeting events map to started, ended and participants by the operator")
    func tencentFacts() throws {
        let json = #"{"event":"meeting.participant-joined","payload":[{"operate_time":1700000000000,"operator":{"userid":"u1","user_name":"韩梅梅"},"meeting_info":{"meeting_id":"m9"}}]}"#
        let event = try #require(TencentWebhook.decode(data: Data(json.utf8).base64EncodedString()))
        #expect(TencentWebhook.facts(of: event, receivedAt: Date()) == [
            .joined(platformMeetingId: "m9", name: "韩梅梅", email: nil, userId: "u1", at: Date(timeIntervalSince1970: 1_700_000_000))])
        let end = try #require(TencentWebhook.decode(data: Data(#"{"event":"meeting.end","payload":[{"meeting_info":{"meeting_id":"m9"}}]}"#.utf8).base64EncodedString()))
        let at = Date(timeIntervalSince1970: 5)
        #expect(TencentWebhook.facts(of: end, receivedAt: at) == [.ended(platformMeetingId: "m9", at: at)])
        #expect(TencentWebhook.decode(data: "not base64!") == nil)
    }

    @Test("the state machine creates, updates, removes or leaves alone")
    func actions() {
        #expect(ProvisioningRules.action(desired: "present", platformMeetingId: nil, syncedSequence: nil, planSequence: 1) == .create)
        #expect(ProvisioningRules.action(desired: "present", platformMeetingId: "9", syncedSequence: 1, planSequence: 2) == .update)
        #expect(ProvisioningRules.action(desired: "present", platformMeetingId: "9", syncedSequence: 2, planSequence: 2) == .nothing)
        #expect(ProvisioningRules.action(desired: "absent", platformMeetingId: "9", syncedSequence: 2, planSequence: 3) == .remove)
        #expect(ProvisioningRules.action(desired: "absent", platformMeetingId: nil, syncedSequence: nil, planSequence: 3) == .forget)
        #expect(ProvisioningRules.isNewer(2, than: 1))
        #expect(!ProvisioningRules.isNewer(1, than: 1))
        #expect(ProvisioningRules.isNewer(0, than: nil))
    }

    @Test("a plan's platforms lose unknown names and repeats")
    func platforms() {
        let plan = MeetingPlan(type: "internal", topic: "t", startsAt: Date(), endsAt: Date(), timeZone: "Asia/Shanghai",
                               host: MeetingHost(accountId: "a", name: "n", email: "e@example.com"),
                               platforms: ["zoom", "webex", "zoom", "tencent"])
        #expect(ProvisioningRules.platforms(of: plan) == ["zoom", "tencent"])
    }

    @Test("HTTP statuses sort into transient and permanent failures with stable codes")
    func failures() {
        #expect(PlatformFailure.status(503, platform: "Zoom") == .transient("Zoom answered HTTP 503"))
        #expect(PlatformFailure.status(429, platform: "Zoom") == .transient("Zoom answered HTTP 429"))
        guard case .permanent(let auth, _) = PlatformFailure.status(401, platform: "Zoom"),
              case .permanent(let rejected, _) = PlatformFailure.status(400, platform: "Zoom") else {
            Issue.record("4xx must be permanent")
            return
        }
        #expect(auth == "platform.auth_failed")
        #expect(rejected == "platform.rejected")
    }

    @Test("credentials of another platform than the one named are refused, and messages name fields, not values")
    func credentialRules() throws {
        let secret = "s3cr3t-value"
        #expect(throws: ConveneError.self) {
            try CredentialRules.check(SetPlatformCredentials(platform: "tencent", zoom: ZoomCredentials(
                accountId: "a", clientId: "c", clientSecret: secret)))
        }
        do {
            _ = try CredentialRules.check(SetPlatformCredentials(platform: "zoom", zoom: ZoomCredentials(
                accountId: "a", clientId: "c", clientSecret: secret + "\n")))
            Issue.record("a secret with a line break was accepted")
        } catch let error as ConveneError {
            #expect(error.details?.keys.contains("zoom.clientSecret") == true)
            #expect(!error.description.contains(secret))
            #expect(!(error.details ?? [:]).values.contains { $0.contains(secret) })
        }
        guard case .dingtalk = try CredentialRules.check(SetPlatformCredentials(platform: "dingtalk", dingtalk: DingTalkCredentials(
            appKey: "k", appSecret: "s", creatorUnionId: "u"))) else { Issue.record("not DingTalk"); return }
    }

    @Test("a live stream needs an RTMP push address and an https watch link")
    func liveStreamRules() {
        #expect(throws: Never.self) {
            try LiveStreamRules.check(SetLiveStream(meetingId: "m", provider: "bilibili", pushUrl: "rtmp://live-push.bilivideo.com/live-bvc/",
                                                    streamKey: "?streamname=x&key=y", watchUrl: "https://live.bilibili.com/123"))
        }
        #expect(throws: ConveneError.self) {
            try LiveStreamRules.check(SetLiveStream(meetingId: "m", provider: "youtube", pushUrl: "http://x", watchUrl: "http://y"))
        }
    }

    @Test("concurrent callers share one token request, and a cached token is reused until near expiry")
    func tokenCache() async throws {
        let cache = TokenCache(renewBefore: .seconds(300))
        let counter = Counter()
        let tokens = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    try await cache.token(for: "k") { () async throws(PlatformFailure) in
                        await counter.bump()
                        try? await Task.sleep(for: .milliseconds(50))
                        return ("t1", .seconds(3600))
                    }
                }
            }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(Set(tokens) == ["t1"])
        #expect(await counter.value == 1)
        // A token that lives less than twice the renewal margin is renewed half-way: here at once.
        _ = try await cache.token(for: "short") { () async throws(PlatformFailure) in await counter.bump(); return ("s", .zero) }
        _ = try await cache.token(for: "short") { () async throws(PlatformFailure) in await counter.bump(); return ("s", .zero) }
        #expect(await counter.value == 3)
    }
}

actor Counter {
    private(set) var value = 0
    func bump() { value += 1 }
}
