import Contracts
import Foundation
@testable import Gateway
import HTTPClient
import Messaging
import Testing
import TestSupport

extension EndToEnd {
/// Attendees synced from a DingTalk department, end to end: the gateway asks platform-bridge for
/// the members (the contract server's DingTalk), registration applies them; invitations and
/// cancellations reach the SMTP sink.
@Suite("Attendee sync from a DingTalk department, end to end", .serialized)
struct AttendeeSyncEndToEndTests {
    var stack: GatewayStack { get throws { try #require(GatewayStack.current, "the suite trait starts the stack") } }

    static func user(_ id: String, _ name: String, _ email: String?) -> [String: Any] {
        var user: [String: Any] = ["userid": id, "unionid": "union-" + id, "name": name, "mobile": "1380000" + String(id.suffix(4))]
        if let email { user["email"] = email }
        return user
    }

    @Test("a first sync adds the department's members and invites them; a re-sync after the department changed adds the newcomer, removes the leaver (who is sent a CANCEL) and keeps the attendee added by hand")
    func syncAddsAndRemoves() async throws {
        let stack = try stack
        let contracts = try PaymentContracts()
        let attendeeMail = AttendeeTests()
        let organization = "org-" + UUID().uuidString.prefix(8).lowercased()
        let tag = PaymentContracts.random(8).lowercased()
        let admin = try await stack.token(account: UUID().uuidString.lowercased(), organization: organization, roles: [.user, .orgAdmin])
        let organizer = try await stack.token(account: UUID().uuidString.lowercased(), organization: organization,
                                              roles: [.user, .meetingAdmin])

        // The meeting, announced as scheduling does, in this organization.
        let meetingId = UUID().uuidString.lowercased()
        let topic = "部门同步 \(tag)"
        let start = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 2 * 86_400).rounded())
        let plan = MeetingPlan(type: "internal", topic: topic, description: nil, startsAt: start, endsAt: start.addingTimeInterval(3600),
                               timeZone: "Asia/Shanghai", location: "5 号会议室",
                               host: MeetingHost(accountId: "acc-host", name: "王经理", email: "host-\(tag)@example.com", locale: "zh-CN"),
                               platforms: ["tencent"], recommendedPlatform: "tencent")
        let publisher = Publisher(.init(amqp: try TestStack.amqp(name: "attendee-sync-e2e-pub")), logger: TestStack.logger)
        let envelope = Envelope(id: UUID(), type: MeetingScheduled.messageType, source: "attendee-sync-e2e", organizationId: organization,
                                data: MeetingScheduled(meetingId: meetingId, sequence: 1, meeting: plan))
        try await publisher.publish(try OutgoingMessage.envelope(envelope, exchange: Exchange.events))
        await publisher.shutdown(grace: .seconds(2))
        let base = "/v1/organizations/\(organization)/meetings/\(meetingId)/attendees"
        let known = await eventually(timeout: .seconds(30)) { (try? await stack.call(.get, base, token: organizer))?.status == 200 }
        #expect(known, "registration keeps a copy of the meeting;\n\(stack.logTails())")

        let sync = base + "/sync"
        let body = #"{"source":"dingtalk_department","departmentId":"42"}"#
        let unconfigured = try await stack.call(.post, sync, token: organizer, body: body)
        #expect(unconfigured.status == 422 && unconfigured.problem?.code == "platform.credentials_missing", "\(unconfigured.bodyString)")

        // The organization's DingTalk app, with department 42: two members with addresses, one without.
        let key = "ding" + PaymentContracts.random(10), secret = "sec" + PaymentContracts.random(20)
        let a = "a-\(tag)@example.com", b = "b-\(tag)@example.com", c = "c-\(tag)@example.com", hand = "hand-\(tag)@example.com"
        try await contracts.post("/_admin/dingtalk-open/apps", ["appKey": key, "appSecret": secret, "departments": [
            "42": [Self.user("u-\(tag)-0001", "张三", a), Self.user("u-\(tag)-0002", "李四", b), Self.user("u-\(tag)-0003", "王五", nil)],
        ]])
        let set = try await stack.call(.put, "/v1/organizations/\(organization)/platforms/dingtalk/credentials", token: admin,
                                       body: #"{"appKey":"\#(key)","appSecret":"\#(secret)","creatorUnionId":"union-host"}"#)
        #expect(set.status == 200, "\(set.bodyString)")

        let added = try await stack.call(.post, base, token: organizer, body: #"{"name":"手工添加","email":"\#(hand)","role":"optional"}"#)
        #expect(added.status == 201, "\(added.bodyString)")

        let badRole = try await stack.call(.post, sync, token: organizer,
                                           body: #"{"source":"dingtalk_department","departmentId":"42","role":"boss"}"#)
        #expect(badRole.status == 422 && badRole.problem?.code == "gateway.invalid_body")
        let unknown = try await stack.call(.post, sync, token: organizer, body: #"{"source":"dingtalk_department","departmentId":"99"}"#)
        #expect(unknown.status == 422 && unknown.problem?.code == "platform.unknown_department", "\(unknown.bodyString)")

        // First sync: two added and invited, the member without an address skipped.
        let first = try await stack.call(.post, sync, token: organizer, body: body)
        #expect(first.status == 200, "\(first.bodyString)")
        let report = try first.decode(AttendeeSyncReport.self)
        #expect(report.source == "dingtalk_department:42")
        #expect(report.added == 2 && report.updated == 0 && report.removed == 0 && report.skipped == 1, "\(report)")
        #expect(report.rows.first { $0.outcome == "skipped" }?.reason == "missing_email")
        var list = try await stack.call(.get, base, token: organizer).decode(AttendeePage.self).items
        #expect(Set(list.map(\.email)) == [hand, a, b])
        let synced = try #require(list.first { $0.email == a })
        #expect(synced.name == "张三" && synced.role == "required" && synced.dingtalkUserId == "u-\(tag)-0001" && synced.phone == "13800000001")
        for address in [a, b] {
            var mails: [AttendeeTests.Mail] = []
            let arrived = await eventually(timeout: .seconds(60)) {
                mails = (try? await attendeeMail.mails(to: address, topic: topic)) ?? []
                return !mails.isEmpty
            }
            #expect(arrived, "the invitation reached \(address);\n\(stack.logTails())")
            #expect(mails.count == 1 && mails[0].calendar?.contains("METHOD:REQUEST") == true)
        }

        // The department changes: 李四 leaves, 赵六 joins, 张三 is renamed.
        let d = "d-\(tag)@example.com"
        try await contracts.post("/_admin/dingtalk-open/apps", ["appKey": key, "appSecret": secret, "departments": [
            "42": [Self.user("u-\(tag)-0001", "张三丰", a), Self.user("u-\(tag)-0004", "赵六", d), Self.user("u-\(tag)-0003", "王五", nil)],
        ]])
        let second = try await stack.call(.post, sync, token: organizer, body: body)
        #expect(second.status == 200, "\(second.bodyString)")
        let resync = try second.decode(AttendeeSyncReport.self)
        #expect(resync.added == 1 && resync.updated == 1 && resync.removed == 1 && resync.skipped == 1, "\(resync)")
        #expect(resync.rows.first { $0.outcome == "removed" }?.email == b)
        list = try await stack.call(.get, base, token: organizer).decode(AttendeePage.self).items
        #expect(Set(list.map(\.email)) == [hand, a, d], "the attendee added by hand stays")
        #expect(list.first { $0.email == a }?.name == "张三丰" && list.first { $0.email == a }?.id == synced.id)
        #expect(!list.contains(where: { $0.email == c }), "the member without an address was not added")

        let cancelled = await eventually(timeout: .seconds(60)) {
            let mails = (try? await attendeeMail.mails(to: b, topic: topic)) ?? []
            return mails.contains { $0.calendar?.contains("METHOD:CANCEL") == true }
        }
        #expect(cancelled, "the member who left was sent the cancelling calendar entry;\n\(stack.logTails())")
        let invitedNewcomer = await eventually(timeout: .seconds(60)) {
            !((try? await attendeeMail.mails(to: d, topic: topic)) ?? []).isEmpty
        }
        #expect(invitedNewcomer, "the newcomer was invited")
        #expect(try await attendeeMail.mails(to: hand, topic: topic).allSatisfy { $0.calendar?.contains("METHOD:CANCEL") != true })
    }
}
}
