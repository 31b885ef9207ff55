import Contracts
import Crypto
import Foundation
import Persistence
import Secrets
@testable import PlatformBridge
import Testing
import TestSupport

@Suite("Platform bridge webhooks and settings", .serialized)
struct WebhookAndSettingsTests {
    static func hex(_ key: String, _ text: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: SymmetricKey(data: Data(key.utf8)))
            .map { String(format: "%02x", $0) }.joined()
    }

    /// A Zoom webhook as Zoom sends it, signed here (or not) with `secret`.
    static func zoomCallback(_ body: String, secret: String, at time: Date = Date()) -> PlatformCallback {
        let ts = String(Int(time.timeIntervalSince1970))
        return PlatformCallback(platform: "zoom", headers: [
            ["Content-Type", "application/json"], ["x-zm-request-timestamp", ts],
            ["x-zm-signature", "v0=" + hex(secret, "v0:\(ts):\(body)")],
        ], body: Data(body.utf8).base64EncodedString())
    }

    static func json(_ answer: CallbackAnswer) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(base64Encoded: answer.body) ?? Data())) as? [String: Any] ?? [:]
    }

    @Test("a forged or stale Zoom webhook is refused with 401 and changes nothing; a valid one emits platform.meeting_started")
    func zoomEvents() async throws {
        try await BridgeHarness.with { h in
            try await h.setUpPlatforms(configure: ["zoom"])
            let id = "mtg-" + UUID().uuidString.prefix(8).lowercased()
            try await h.deliver(MeetingScheduled(meetingId: id, sequence: 1, meeting: BridgeHarness.plan(platforms: ["zoom"])))
            let provisioned = try await h.waitForEvents(MeetingProvisioned.messageType, meetingId: id, count: 1)
            let zoomId = try #require(provisioned.first?["platformMeetingId"] as? String)
            let started = #"{"event":"meeting.started","event_ts":1764554400000,"payload":{"account_id":"\#(h.zoomAccount)","object":{"id":\#(zoomId),"start_time":"2026-12-01T02:00:00Z"}}}"#

            let forged = try await h.ask(Self.zoomCallback(started, secret: "guessed"), as: CallbackAnswer.self).get()
            #expect(forged.status == 401)
            let stale = try await h.ask(Self.zoomCallback(started, secret: h.zoomWebhookSecret, at: Date().addingTimeInterval(-600)),
                                        as: CallbackAnswer.self).get()
            #expect(stale.status == 401)
            #expect(try await h.events(PlatformMeetingStarted.messageType, meetingId: id).isEmpty)

            let valid = try await h.ask(Self.zoomCallback(started, secret: h.zoomWebhookSecret), as: CallbackAnswer.self).get()
            #expect(valid.status == 200)
            let events = try await h.events(PlatformMeetingStarted.messageType, meetingId: id)
            #expect(events.count == 1)
            #expect(events.first?["platform"] as? String == "zoom")
            #expect(events.first?["at"] as? String == "2026-12-01T02:00:00Z")
            // Zoom resends the same event: acknowledged, nothing new.
            #expect(try await h.ask(Self.zoomCallback(started, secret: h.zoomWebhookSecret), as: CallbackAnswer.self).get().status == 200)
            #expect(try await h.events(PlatformMeetingStarted.messageType, meetingId: id).count == 1)

            let joined = #"{"event":"meeting.participant_joined","event_ts":1764554460000,"payload":{"account_id":"\#(h.zoomAccount)","object":{"id":\#(zoomId),"participant":{"user_name":"李雷","email":"li@example.com","join_time":"2026-12-01T02:01:00Z"}}}}"#
            #expect(try await h.ask(Self.zoomCallback(joined, secret: h.zoomWebhookSecret), as: CallbackAnswer.self).get().status == 200)
            #expect(try await h.events(PlatformParticipantJoined.messageType, meetingId: id).first?["name"] as? String == "李雷")
            let recorded = #"{"event":"recording.completed","event_ts":1764558000000,"payload":{"account_id":"\#(h.zoomAccount)","object":{"id":\#(zoomId),"share_url":"https://zoom.us/rec/share/abc","recording_files":[{"file_type":"MP4","file_size":2048}]}}}"#
            #expect(try await h.ask(Self.zoomCallback(recorded, secret: h.zoomWebhookSecret), as: CallbackAnswer.self).get().status == 200)
            #expect(try await h.events(PlatformRecordingReady.messageType, meetingId: id).first?["shareUrl"] as? String
                    == "https://zoom.us/rec/share/abc")
        }
    }

    @Test("Zoom's URL validation is answered with the plain token and its HMAC; an unsigned one is refused")
    func urlValidation() async throws {
        try await BridgeHarness.with { h in
            try await h.setUpPlatforms(configure: ["zoom"])
            let body = #"{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}"#
            let answer = try await h.ask(Self.zoomCallback(body, secret: h.zoomWebhookSecret), as: CallbackAnswer.self).get()
            #expect(answer.status == 200)
            let json = Self.json(answer)
            #expect(json["plainToken"] as? String == "qgg8vlvZRS6UYooatFL8Aw")
            #expect(json["encryptedToken"] as? String == Self.hex(h.zoomWebhookSecret, "qgg8vlvZRS6UYooatFL8Aw"))
            #expect(try await h.ask(Self.zoomCallback(body, secret: "nope"), as: CallbackAnswer.self).get().status == 401)
        }
    }

    @Test("credentials are sealed at rest and shown without secrets")
    func credentials() async throws {
        try await BridgeHarness.with { h in
            try await h.setUpPlatforms()
            let listed = try await h.ask(ListPlatformCredentials(), as: [PlatformCredentialStatus].self).get()
            #expect(listed.map(\.platform) == ["dingtalk", "tencent", "zoom"])
            #expect(listed.first { $0.platform == "zoom" }?.webhookVerification == true)
            let text = String(describing: listed)
            for secret in [h.zoomSecret, h.zoomWebhookSecret, h.tencentSecretKey, h.dingtalkSecret] {
                #expect(!text.contains(secret))
            }
            let stored = try await h.pool.withConnection { try await $0.query("SELECT sealed, public::text AS public FROM credentials") }
                .rows.map { (try $0.string("sealed")) + (try $0.string("public")) }.joined()
            for secret in [h.zoomSecret, h.zoomWebhookSecret, h.tencentSecretKey, h.dingtalkSecret] {
                #expect(!stored.contains(secret))
            }
            // Another organization sees none of them.
            #expect(try await h.ask(ListPlatformCredentials(), as: [PlatformCredentialStatus].self, organizationId: "org-x").get().isEmpty)
            _ = try await h.ask(RemovePlatformCredentials(platform: "tencent"), as: Empty.self).get()
            #expect(try await h.ask(ListPlatformCredentials(), as: [PlatformCredentialStatus].self).get().map(\.platform)
                    == ["dingtalk", "zoom"])
        }
    }

    @Test("a live stream keeps its push address secret and announces the watch link")
    func liveStream() async throws {
        try await BridgeHarness.with { h in
            let id = "mtg-" + UUID().uuidString.prefix(8).lowercased()
            try await h.deliver(MeetingScheduled(meetingId: id, sequence: 1, meeting: BridgeHarness.plan(platforms: [])))
            let push = "rtmp://live-push.bilivideo.com/live-bvc/"
            let key = "?streamname=live_1_2&key=" + PaymentContracts.random(24)
            var view: LiveStreamView?
            _ = await eventually {
                view = try? await h.ask(SetLiveStream(meetingId: id, provider: "bilibili", pushUrl: push, streamKey: key,
                                                      watchUrl: "https://live.bilibili.com/21452505"), as: LiveStreamView.self).get()
                return view != nil
            }
            #expect(view?.pushConfigured == true)
            #expect(try await h.ask(GetLiveStream(meetingId: id), as: LiveStreamView.self).get().watchUrl == "https://live.bilibili.com/21452505")
            let events = try await h.events(LiveStreamSet.messageType, meetingId: id)
            #expect(events.first?["watchUrl"] as? String == "https://live.bilibili.com/21452505")
            #expect(!(try await h.outboxText()).contains(key))
            // Another organization's meeting is not found.
            await #expect(throws: ConveneError.self) {
                try await h.ask(SetLiveStream(meetingId: id, provider: "bilibili", pushUrl: push, watchUrl: "https://live.bilibili.com/1"),
                                as: LiveStreamView.self, organizationId: "org-x").get()
            }
        }
    }
}

@Suite("Platform bridge department members")
struct DepartmentMemberTests {
    @Test("a DingTalk department's members are listed across pages; an unknown department is not found")
    func members() async throws {
        try await BridgeHarness.with { h in
            try await h.setUpPlatforms(configure: ["dingtalk"])
            let users: [[String: Any]] = (0..<130).map { ["userid": "u\($0)", "unionid": "union\($0)", "name": "员工\($0)",
                                                          "email": $0 == 0 ? "zhang@example.com" : ""] }
            try await h.contracts.post("/_admin/dingtalk-open/apps", ["appKey": h.dingtalkKey, "appSecret": h.dingtalkSecret,
                                                                      "departments": ["42": users]])
            let members = try await h.ask(ListDepartmentMembers(departmentId: 42), as: [PlatformMember].self).get()
            #expect(members.count == 130)
            #expect(members.first == PlatformMember(userId: "u0", unionId: "union0", name: "员工0", email: "zhang@example.com",
                                                    mobile: nil, title: nil))
            #expect(members.last?.userId == "u129")
            #expect(try await h.ask(ListDepartmentMembers(departmentId: 7), as: [PlatformMember].self).error?.code == "platform.not_found")
            #expect(try await h.ask(ListDepartmentMembers(departmentId: 42), as: [PlatformMember].self, organizationId: "org-x").error?.code
                    == "platform.credentials_missing")
        }
    }
}

@Suite("Platform bridge key rotation")
struct KeyRotationTests {
    @Test("after a key rotation every secret is sealed again with the new key and still opens")
    func reseal() async throws {
        try await BridgeHarness.with { h in
            try await h.setUpPlatforms(configure: ["zoom"])
            let id = "mtg-" + UUID().uuidString.prefix(8).lowercased()
            try await h.deliver(MeetingScheduled(meetingId: id, sequence: 1, meeting: BridgeHarness.plan(platforms: ["zoom"])))
            _ = try await h.waitForEvents(MeetingProvisioned.messageType, meetingId: id, count: 1)
            let old = h.parts.settings.secrets
            let newKey = SecretBox.generateKey()
            let rotated = try SecretBox(current: newKey, previous: [])
            // As an operator rotates: the new key, the old one among the previous ones.
            let environment = ["PLATFORM_SECRET_KEY": newKey, "PLATFORM_SECRET_KEYS_PREVIOUS": h.secretKey]
            let settings = try PlatformBridgeSettings(environment)
            #expect(try await Resealer(secrets: settings.secrets, logger: TestStack.logger).reseal(pool: h.pool) == 2)
            let credentials = try await CredentialStore(secrets: rotated).pool(h.pool) { store, tx in
                try await store.open(platform: "zoom", organizationId: h.organizationId, in: tx)
            }
            guard case .zoom(let zoom)? = credentials else { Issue.record("Zoom credentials do not open with the new key"); return }
            #expect(zoom.clientSecret == h.zoomSecret)
            #expect(try await CredentialStore(secrets: old).pool(h.pool) { store, tx in
                try? await store.open(platform: "zoom", organizationId: h.organizationId, in: tx)
            } == nil)
            // Nothing left for a second run.
            #expect(try await Resealer(secrets: settings.secrets, logger: TestStack.logger).reseal(pool: h.pool) == 0)
        }
    }
}

extension CredentialStore {
    func pool<T: Sendable>(_ pool: PGPool, _ body: @Sendable (CredentialStore, Transaction) async throws -> T) async throws -> T {
        try await pool.withTransaction { tx in try await body(self, tx) }
    }
}

@Suite("Platform bridge Tencent Meeting callbacks", .serialized)
struct TencentCallbackTests {
    /// SHA-1 of token, timestamp, nonce and data sorted and joined, computed here independently.
    static func signature(_ token: String, _ ts: String, _ nonce: String, _ data: String) -> String {
        Insecure.SHA1.hash(data: Data([token, ts, nonce, data].sorted().joined().utf8)).map { String(format: "%02x", $0) }.joined()
    }

    static func callback(_ event: [String: Any], token: String, at time: Date = Date()) throws -> PlatformCallback {
        let data = try JSONSerialization.data(withJSONObject: event).base64EncodedString()
        let ts = String(Int(time.timeIntervalSince1970)), nonce = "84731923"
        let body = try JSONSerialization.data(withJSONObject: ["data": data])
        return PlatformCallback(platform: "tencent", headers: [["timestamp", ts], ["nonce", nonce],
                                                               ["signature", signature(token, ts, nonce, data)]],
                                body: body.base64EncodedString(), method: "POST")
    }

    static func text(_ answer: CallbackAnswer) -> String {
        String(decoding: Data(base64Encoded: answer.body) ?? Data(), as: UTF8.self)
    }

    @Test("Tencent Meeting's URL check is answered with the decoded check_str; a callback signed with the token becomes platform.meeting_started, a forged one is refused with 401")
    func callbacks() async throws {
        try await BridgeHarness.with { h in
            try await h.setUpPlatforms(configure: ["tencent"])
            let check = Data("hello-convene".utf8).base64EncodedString()
            let ts = String(Int(Date().timeIntervalSince1970))
            let query = "check_str=" + (check.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? check)
            let good = try await h.ask(PlatformCallback(platform: "tencent", headers: [
                ["timestamp", ts], ["nonce", "1"], ["signature", Self.signature(h.tencentToken, ts, "1", check)]],
                body: "", method: "GET", query: query), as: CallbackAnswer.self).get()
            #expect(good.status == 200 && Self.text(good) == "hello-convene")
            let bad = try await h.ask(PlatformCallback(platform: "tencent", headers: [
                ["timestamp", ts], ["nonce", "1"], ["signature", Self.signature("guessed", ts, "1", check)]],
                body: "", method: "GET", query: query), as: CallbackAnswer.self).get()
            #expect(bad.status == 401)

            let id = "mtg-" + UUID().uuidString.prefix(8).lowercased()
            try await h.deliver(MeetingScheduled(meetingId: id, sequence: 1, meeting: BridgeHarness.plan(platforms: ["tencent"])))
            let provisioned = try await h.waitForEvents(MeetingProvisioned.messageType, meetingId: id, count: 1)
            let tencentId = try #require(provisioned.first?["platformMeetingId"] as? String)
            let started: [String: Any] = ["event": "meeting.started", "trace_id": "t1", "payload": [[
                "operate_time": 1_764_554_400_000, "operator": ["userid": "host1", "user_name": "王芳"],
                "meeting_info": ["meeting_id": tencentId, "meeting_code": "123456789"]]]]
            let forged = try await h.ask(try Self.callback(started, token: "guessed"), as: CallbackAnswer.self).get()
            #expect(forged.status == 401)
            let stale = try await h.ask(try Self.callback(started, token: h.tencentToken, at: Date().addingTimeInterval(-600)),
                                        as: CallbackAnswer.self).get()
            #expect(stale.status == 401)
            #expect(try await h.events(PlatformMeetingStarted.messageType, meetingId: id).isEmpty)
            let valid = try await h.ask(try Self.callback(started, token: h.tencentToken), as: CallbackAnswer.self).get()
            #expect(valid.status == 200 && Self.text(valid) == "successfully received callback")
            let events = try await h.events(PlatformMeetingStarted.messageType, meetingId: id)
            #expect(events.count == 1)
            #expect(events.first?["platform"] as? String == "tencent")
            #expect(events.first?["at"] as? String == "2025-12-01T02:00:00Z")
            let joined: [String: Any] = ["event": "meeting.participant-joined", "payload": [[
                "operate_time": 1_764_554_460_000, "operator": ["userid": "u7", "user_name": "李雷"],
                "meeting_info": ["meeting_id": tencentId]]]]
            #expect(try await h.ask(try Self.callback(joined, token: h.tencentToken), as: CallbackAnswer.self).get().status == 200)
            #expect(try await h.events(PlatformParticipantJoined.messageType, meetingId: id).first?["platformUserId"] as? String == "u7")
        }
    }
}
