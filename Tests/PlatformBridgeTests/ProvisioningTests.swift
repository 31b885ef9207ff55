import Contracts
import Foundation
@testable import PlatformBridge
import Testing
import TestSupport

/// Provisioning against the real broker, database and the contract server's platforms.
@Suite("Platform bridge provisioning", .serialized)
struct ProvisioningTests {
    static func meetingId() -> String { "mtg-" + UUID().uuidString.prefix(8).lowercased() }

    @Test("a meeting on all three platforms gets three join links, the host's start URL kept out of messages")
    func allThree() async throws {
        try await BridgeHarness.with { h in
            try await h.setUpPlatforms()
            let id = Self.meetingId()
            try await h.deliver(MeetingScheduled(meetingId: id, sequence: 1, meeting: BridgeHarness.plan(platforms: ["zoom", "tencent", "dingtalk"])))
            let provisioned = try await h.waitForEvents(MeetingProvisioned.messageType, meetingId: id, count: 3)
            #expect(Set(provisioned.compactMap { $0["platform"] as? String }) == ["zoom", "tencent", "dingtalk"])
            for platform in MeetingPlatformName.all {
                let event = try #require(provisioned.first { $0["platform"] as? String == platform })
                let meetings = try await h.platformMeetings(platform)
                #expect(meetings.count == 1, "\(platform): \(meetings)")
                let url = meetings.first?["join_url"] as? String ?? meetings.first?["url"] as? String
                #expect(event["joinUrl"] as? String == url)
                #expect(event["sequence"] as? Int == 1)
            }
            let zoom = try #require(try await h.platformMeetings("zoom").first)
            let startURL = try #require(zoom["start_url"] as? String)
            #expect(!(try await h.outboxText()).contains(startURL))
            #expect(!(try await h.outboxText()).contains("zak="))
            let stored = try await h.provision(id, "zoom")
            let sealed = try #require(stored["start_url_sealed"] ?? nil)
            #expect(!sealed.contains("zoom.us"))
            #expect(try await h.events(ProvisioningFailed.messageType, meetingId: id).isEmpty)
            // The organizer's view: every platform provisioned, the recommended one marked.
            let statuses = try await h.ask(GetMeetingPlatforms(meetingId: id), as: [PlatformMeetingStatus].self).get()
            #expect(statuses.map(\.status) == ["provisioned", "provisioned", "provisioned"])
            #expect(statuses.filter(\.recommended).map(\.platform) == ["zoom"])
            // Another organization does not see it.
            await #expect(throws: ConveneError.self) {
                try await h.ask(GetMeetingPlatforms(meetingId: id), as: [PlatformMeetingStatus].self, organizationId: "org-other").get()
            }
        }
    }

    @Test("a platform that refuses does not block the others, and provisioning_failed names the host")
    func oneRefuses() async throws {
        try await BridgeHarness.with { h in
            try await h.setUpPlatforms()
            try await h.fail("tencent", ["status": 400, "count": 1, "on": "create"])
            let id = Self.meetingId()
            try await h.deliver(MeetingScheduled(meetingId: id, sequence: 1, meeting: BridgeHarness.plan(platforms: ["zoom", "tencent", "dingtalk"])))
            let provisioned = try await h.waitForEvents(MeetingProvisioned.messageType, meetingId: id, count: 2)
            let failed = try await h.waitForEvents(ProvisioningFailed.messageType, meetingId: id, count: 1)
            #expect(Set(provisioned.compactMap { $0["platform"] as? String }) == ["zoom", "dingtalk"])
            #expect(failed.count == 1)
            #expect(failed.first?["platform"] as? String == "tencent")
            #expect(failed.first?["reason"] as? String == "platform.rejected")
            #expect((failed.first?["host"] as? [String: Any])?["email"] as? String == "host@example.com")
            #expect(try await h.provision(id, "tencent")["status"] == "failed")
        }
    }

    @Test("a redelivered meeting_scheduled does not create a second platform meeting")
    func redelivery() async throws {
        try await BridgeHarness.with { h in
            try await h.setUpPlatforms()
            let id = Self.meetingId()
            let event = MeetingScheduled(meetingId: id, sequence: 1, meeting: BridgeHarness.plan(platforms: ["zoom", "tencent", "dingtalk"]))
            let messageId = UUID()
            try await h.deliver(event, id: messageId)
            _ = try await h.waitForEvents(MeetingProvisioned.messageType, meetingId: id, count: 3)
            // The same message again (a broker redelivery) and the same fact in a new message.
            try await h.deliver(event, id: messageId)
            try await h.deliver(event)
            try await Task.sleep(for: .seconds(2))
            for platform in MeetingPlatformName.all {
                #expect(try await h.platformMeetings(platform).count == 1, "\(platform)")
            }
            #expect(try await h.events(MeetingProvisioned.messageType, meetingId: id).count == 3)
        }
    }

    @Test("a transient 500 is retried with back-off and then succeeds")
    func transientRetried() async throws {
        try await BridgeHarness.with { h in
            try await h.setUpPlatforms(configure: ["zoom"])
            try await h.fail("zoom", ["status": 500, "count": 2, "on": "create"])
            let id = Self.meetingId()
            try await h.deliver(MeetingScheduled(meetingId: id, sequence: 1, meeting: BridgeHarness.plan(platforms: ["zoom"])))
            let provisioned = try await h.waitForEvents(MeetingProvisioned.messageType, meetingId: id, count: 1)
            #expect(provisioned.count == 1)
            #expect(try await h.platformMeetings("zoom").count == 1)
            #expect(try await h.events(ProvisioningFailed.messageType, meetingId: id).isEmpty)
        }
    }

    @Test("a platform down beyond the retries ends as platform.unavailable; the others go on")
    func downBeyondRetries() async throws {
        try await BridgeHarness.with { h in
            try await h.setUpPlatforms(configure: ["zoom", "dingtalk"])
            try await h.fail("dingtalk", ["down": true])
            let id = Self.meetingId()
            try await h.deliver(MeetingScheduled(meetingId: id, sequence: 1, meeting: BridgeHarness.plan(platforms: ["zoom", "dingtalk"])))
            let failed = try await h.waitForEvents(ProvisioningFailed.messageType, meetingId: id, count: 1)
            #expect(failed.first?["platform"] as? String == "dingtalk")
            #expect(failed.first?["reason"] as? String == "platform.unavailable")
            // The first attempt and the two retries of PLATFORM_RETRY_DELAYS.
            #expect(try await h.provision(id, "dingtalk")["attempts"] == "3")
            #expect(try await h.waitForEvents(MeetingProvisioned.messageType, meetingId: id, count: 1).first?["platform"] as? String == "zoom")
        }
    }

    @Test("the Zoom and DingTalk tokens are requested once for several meetings")
    func oneToken() async throws {
        try await BridgeHarness.with { h in
            try await h.setUpPlatforms(configure: ["zoom", "dingtalk"])
            let ids = (0..<5).map { _ in Self.meetingId() }
            for id in ids {
                try await h.deliver(MeetingScheduled(meetingId: id, sequence: 1, meeting: BridgeHarness.plan(platforms: ["zoom", "dingtalk"])))
            }
            for id in ids { _ = try await h.waitForEvents(MeetingProvisioned.messageType, meetingId: id, count: 2) }
            #expect(try await h.platformMeetings("zoom").count == 5)
            #expect(try await h.zoom()["tokenRequests"] as? Int == 1)
            #expect(try await h.dingtalk()["tokenRequests"] as? Int == 1)
        }
    }

    @Test("a wrong Tencent SecretKey is refused by the platform and ends as provisioning_failed")
    func wrongTencentKey() async throws {
        try await BridgeHarness.with { h in
            try await h.setUpPlatforms(configure: ["tencent"], tencentKey: "not-the-secret-key")
            let id = Self.meetingId()
            try await h.deliver(MeetingScheduled(meetingId: id, sequence: 1, meeting: BridgeHarness.plan(platforms: ["tencent"])))
            let failed = try await h.waitForEvents(ProvisioningFailed.messageType, meetingId: id, count: 1)
            #expect(failed.first?["reason"] as? String == "platform.auth_failed")
            #expect(try await h.tencent()["refused"] as? Int == 1)
            #expect(try await h.platformMeetings("tencent").isEmpty)
            #expect(!(try await h.outboxText()).contains("not-the-secret-key"))
        }
    }

    @Test("wrong Zoom and DingTalk app secrets end as platform.auth_failed, with no token issued")
    func wrongAppSecrets() async throws {
        try await BridgeHarness.with { h in
            try await h.setUpPlatforms(configure: [])
            _ = try await h.ask(SetPlatformCredentials(platform: "zoom", zoom: ZoomCredentials(
                accountId: h.zoomAccount, clientId: h.zoomClient, clientSecret: "wrong-secret")), as: PlatformCredentialStatus.self).get()
            _ = try await h.ask(SetPlatformCredentials(platform: "dingtalk", dingtalk: DingTalkCredentials(
                appKey: h.dingtalkKey, appSecret: "wrong-secret", creatorUnionId: "u")), as: PlatformCredentialStatus.self).get()
            let id = ProvisioningTests.meetingId()
            try await h.deliver(MeetingScheduled(meetingId: id, sequence: 1, meeting: BridgeHarness.plan(platforms: ["zoom", "dingtalk"])))
            let failed = try await h.waitForEvents(ProvisioningFailed.messageType, meetingId: id, count: 2)
            #expect(Set(failed.compactMap { $0["reason"] as? String }) == ["platform.auth_failed"])
            #expect(try await h.zoom()["tokenRequests"] as? Int == 0)
            #expect(try await h.dingtalk()["tokenRequests"] as? Int == 0)
            #expect(!(try await h.outboxText()).contains("wrong-secret"))
        }
    }

    @Test("missing credentials fail at once with platform.credentials_missing")
    func credentialsMissing() async throws {
        try await BridgeHarness.with { h in
            let id = Self.meetingId()
            try await h.deliver(MeetingScheduled(meetingId: id, sequence: 1, meeting: BridgeHarness.plan(platforms: ["dingtalk"])))
            let failed = try await h.waitForEvents(ProvisioningFailed.messageType, meetingId: id, count: 1)
            #expect(failed.first?["reason"] as? String == "platform.credentials_missing")
            #expect(try await h.provision(id, "dingtalk")["attempts"] == "1")
        }
    }

    @Test("a reschedule updates every platform, a dropped platform is cancelled and an added one created; older news is ignored")
    func reschedule() async throws {
        try await BridgeHarness.with { h in
            try await h.setUpPlatforms()
            let id = Self.meetingId()
            let plan = BridgeHarness.plan(platforms: ["zoom", "tencent"])
            try await h.deliver(MeetingScheduled(meetingId: id, sequence: 1, meeting: plan))
            _ = try await h.waitForEvents(MeetingProvisioned.messageType, meetingId: id, count: 2)
            var moved = plan
            moved.startsAt = plan.startsAt.addingTimeInterval(7200)
            moved.endsAt = plan.endsAt.addingTimeInterval(7200)
            moved.topic = "改期：季度经营分析会"
            moved.platforms = ["zoom", "dingtalk"]
            try await h.deliver(MeetingUpdated(meetingId: id, sequence: 2, meeting: moved))
            let all = try await h.waitForEvents(MeetingProvisioned.messageType, meetingId: id, count: 4)
            #expect(Set(all.filter { $0["sequence"] as? Int == 2 }.compactMap { $0["platform"] as? String }) == ["zoom", "dingtalk"])
            let removed = try await h.waitForEvents(PlatformMeetingRemoved.messageType, meetingId: id, count: 1)
            #expect(removed.first?["platform"] as? String == "tencent")
            let zoom = try #require(try await h.platformMeetings("zoom").first)
            #expect(zoom["topic"] as? String == "改期：季度经营分析会")
            #expect(zoom["start_time"] as? String == ISO8601.format(moved.startsAt))
            #expect(try await h.platformMeetings("tencent").first?["state"] as? String == "cancelled")
            #expect(try await h.platformMeetings("dingtalk").count == 1)
            // Sequence 1 again, late: nothing changes.
            try await h.deliver(MeetingUpdated(meetingId: id, sequence: 1, meeting: plan))
            try await Task.sleep(for: .seconds(1))
            #expect(try await h.platformMeetings("zoom").first?["topic"] as? String == "改期：季度经营分析会")
            #expect(try await h.events(MeetingProvisioned.messageType, meetingId: id).count == 4)
            // Cancelled: deleted on every platform it is on.
            try await h.deliver(MeetingCancelled(meetingId: id, kind: "internal", sequence: 3, reason: "postponed"))
            let gone = try await h.waitForEvents(PlatformMeetingRemoved.messageType, meetingId: id, count: 3)
            #expect(Set(gone.compactMap { $0["platform"] as? String }) == ["tencent", "zoom", "dingtalk"])
            #expect(try await h.platformMeetings("zoom").first?["deleted"] as? Bool == true)
            #expect(try await h.platformMeetings("dingtalk").first?["state"] as? String == "cancelled")
        }
    }
}

@Suite("Platform bridge provisioning under concurrency and crashes", .serialized)
struct ProvisioningDurabilityTests {
    @Test("two workers on one schema create each platform meeting exactly once")
    func twoWorkers() async throws {
        try await BridgeHarness.with { h in
            try await h.setUpPlatforms(configure: ["zoom", "tencent"])
            let second = h.parts.worker(service: h.name, pool: h.pool, logger: TestStack.logger)
            let running = Task { try await second.run() }
            defer { running.cancel() }
            let ids = (0..<12).map { _ in "mtg-" + UUID().uuidString.prefix(8).lowercased() }
            for id in ids {
                try await h.deliver(MeetingScheduled(meetingId: id, sequence: 1, meeting: BridgeHarness.plan(platforms: ["zoom", "tencent"])))
            }
            for id in ids { _ = try await h.waitForEvents(MeetingProvisioned.messageType, meetingId: id, count: 2) }
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await h.platformMeetings("zoom").count == 12)
            #expect(try await h.platformMeetings("tencent").count == 12)
            #expect(try await h.events(MeetingProvisioned.messageType).count == 24)
        }
    }

    @Test("a row left working by a crashed worker is taken up again once its lease ran out")
    func expiredLease() async throws {
        try await BridgeHarness.with(worker: false) { h in
            try await h.setUpPlatforms(configure: ["zoom"])
            let id = "mtg-" + UUID().uuidString.prefix(8).lowercased()
            try await h.deliver(MeetingScheduled(meetingId: id, sequence: 1, meeting: BridgeHarness.plan(platforms: ["zoom"])))
            #expect(await eventually { (try? await h.provision(id, "zoom")["status"]) == "pending" })
            // As a worker that claimed the row and died before calling Zoom leaves it.
            try await h.pool.withConnection {
                _ = try await $0.query("""
                    UPDATE provisions SET status = 'working', attempts = 1, lease_until = now() + interval '1 hour'
                    WHERE meeting_id = $1
                    """, [.text(id)])
            }
            try await h.worker.round()
            #expect(try await h.provision(id, "zoom")["status"] == "working", "a live lease is left alone")
            #expect(try await h.platformMeetings("zoom").isEmpty)
            try await h.pool.withConnection {
                _ = try await $0.query("UPDATE provisions SET lease_until = now() - interval '1 second' WHERE meeting_id = $1",
                                       [.text(id)])
            }
            try await h.worker.round()
            #expect(try await h.provision(id, "zoom")["status"] == "provisioned")
            #expect(try await h.platformMeetings("zoom").count == 1)
            #expect(try await h.events(MeetingProvisioned.messageType, meetingId: id).count == 1)
        }
    }
}
