import Contracts
import Foundation
@testable import Gateway
import HTTPClient
import Messaging
import Testing
import TestSupport

extension EndToEnd {
/// Online meeting platforms through the gateway: an organization's Zoom credentials, a meeting
/// provisioned by platform-bridge on the contract server's Zoom, and Zoom's signed webhooks sent
/// by the contract server to the gateway's callback route.
@Suite("Meeting platforms, end to end", .serialized)
struct PlatformTests {
    var stack: GatewayStack { get throws { try #require(GatewayStack.current, "the suite trait starts the stack") } }

    @Test("an organization's Zoom: credentials set and shown without secrets, a meeting provisioned, URL validation passed, a forged webhook refused with 401 and a signed one turned into platform.meeting_started")
    func zoomThroughTheGateway() async throws {
        let stack = try stack
        let contracts = try PaymentContracts()
        let organization = "org-" + UUID().uuidString.prefix(8).lowercased()
        let admin = try await stack.token(account: UUID().uuidString.lowercased(), organization: organization, roles: [.user, .orgAdmin])
        let member = try await stack.token(account: UUID().uuidString.lowercased(), organization: organization, roles: [.user])
        let account = "acc" + PaymentContracts.random(10), client = "cli" + PaymentContracts.random(10)
        let secret = "sec" + PaymentContracts.random(24), hook = "whs" + PaymentContracts.random(24)
        try await contracts.post("/_admin/zoom/accounts", ["accountId": account, "clientId": client, "clientSecret": secret,
                                                           "webhookSecret": hook])
        let credentials = #"{"accountId":"\#(account)","clientId":"\#(client)","clientSecret":"\#(secret)","webhookSecretToken":"\#(hook)"}"#
        let path = "/v1/organizations/\(organization)/platforms"

        #expect(try await stack.call(.put, path + "/zoom/credentials", token: member, body: credentials).status == 403)
        let set = try await stack.call(.put, path + "/zoom/credentials", token: admin, body: credentials)
        #expect(set.status == 200, "\(set.bodyString)")
        #expect(!set.bodyString.contains(secret) && !set.bodyString.contains(hook))
        let wrongPlatformField = try await stack.call(.put, path + "/dingtalk/credentials", token: admin, body: credentials)
        #expect(wrongPlatformField.status == 422)
        let listed = try await stack.call(.get, path, token: admin)
        #expect(listed.status == 200 && listed.bodyString.contains(account) && !listed.bodyString.contains(secret))

        // A meeting scheduled on Zoom (as scheduling announces it) gets provisioned.
        let probe = try await EventProbe.start(bindings: [PlatformMeetingStarted.messageType])
        defer { Task { await probe.probe.close() } }
        let meetingId = UUID().uuidString.lowercased()
        let start = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 86_400).rounded())
        let plan = MeetingPlan(type: "internal", topic: "周例会", startsAt: start, endsAt: start.addingTimeInterval(3600),
                               timeZone: "Asia/Shanghai", host: MeetingHost(accountId: "host", name: "王芳", email: "host@example.com"),
                               platforms: ["zoom"], recommendedPlatform: "zoom")
        let publisher = Publisher(.init(amqp: try TestStack.amqp(name: "platform-e2e-pub")), logger: TestStack.logger)
        try await publisher.publish(try OutgoingMessage.envelope(Envelope(MeetingScheduled(meetingId: meetingId, sequence: 1, meeting: plan),
                                                                          source: "scheduling", organizationId: organization),
                                                                 exchange: Exchange.events))
        await publisher.shutdown(grace: .seconds(2))
        var zoomMeetingId: String?
        let provisioned = try await eventually(timeout: .seconds(30)) {
            let answer = try await stack.call(.get, "/v1/organizations/\(organization)/meetings/\(meetingId)/platforms", token: admin)
            guard answer.status == 200 else { return false }
            let page = try answer.decode(ItemList<PlatformMeetingStatus>.self)
            zoomMeetingId = page.items.first { $0.status == "provisioned" }?.platformMeetingId
            return zoomMeetingId != nil
        }
        #expect(provisioned, "the meeting was never provisioned on Zoom")
        let zoomId = try #require(zoomMeetingId)

        // Zoom checks the endpoint, then sends events: through the gateway to platform-bridge.
        let callback = stack.baseURL + "/v1/platforms/callbacks/zoom"
        let validation = try await contracts.post("/_admin/zoom/webhooks/validate", ["accountId": account, "url": callback])
        #expect(validation["validated"] as? Bool == true, "\(validation)")
        let forged = try await contracts.post("/_admin/zoom/webhooks/send", [
            "accountId": account, "url": callback, "event": "meeting.started", "tamper": "signature",
            "object": ["id": Int(zoomId)!, "start_time": "2026-12-01T02:00:00Z"]])
        #expect(forged["status"] as? Int == 401, "\(forged)")
        let stale = try await contracts.post("/_admin/zoom/webhooks/send", [
            "accountId": account, "url": callback, "event": "meeting.started", "tamper": "stale",
            "object": ["id": Int(zoomId)!, "start_time": "2026-12-01T02:00:00Z"]])
        #expect(stale["status"] as? Int == 401, "\(stale)")
        let signed = try await contracts.post("/_admin/zoom/webhooks/send", [
            "accountId": account, "url": callback, "event": "meeting.started",
            "object": ["id": Int(zoomId)!, "start_time": "2026-12-01T02:00:00Z"]])
        #expect(signed["status"] as? Int == 200, "\(signed)")
        let event = try await probe.next(type: PlatformMeetingStarted.messageType, organizationId: organization, about: meetingId)
        let started = try ConveneJSON.decode(Envelope<PlatformMeetingStarted>.self, from: event)
        #expect(started.data.meetingId == meetingId && started.data.platform == "zoom")
        // Only the signed one: the forged and the stale ones changed nothing.
        try await Task.sleep(for: .seconds(1))
        #expect(probe.probe.deliveries.filter { String(decoding: $0.body, as: UTF8.self).contains(meetingId) }.count == 1)
    }

    @Test("a meeting on a platform the organization has no credentials for: the other platform is provisioned and the host is mailed about the failure")
    func hostMailedOnFailure() async throws {
        let stack = try stack
        let contracts = try PaymentContracts()
        let organization = "org-" + UUID().uuidString.prefix(8).lowercased()
        let admin = try await stack.token(account: UUID().uuidString.lowercased(), organization: organization, roles: [.user, .orgAdmin])
        let key = "ding" + PaymentContracts.random(10), secret = "sec" + PaymentContracts.random(20)
        try await contracts.post("/_admin/dingtalk-open/apps", ["appKey": key, "appSecret": secret])
        let set = try await stack.call(.put, "/v1/organizations/\(organization)/platforms/dingtalk/credentials", token: admin,
                                       body: #"{"appKey":"\#(key)","appSecret":"\#(secret)","creatorUnionId":"union-host"}"#)
        #expect(set.status == 200, "\(set.bodyString)")
        let tag = PaymentContracts.random(8)
        let hostEmail = "host-\(tag.lowercased())@example.com"
        let meetingId = UUID().uuidString.lowercased()
        let start = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 86_400).rounded())
        let plan = MeetingPlan(type: "client", topic: "Client review \(tag)", startsAt: start, endsAt: start.addingTimeInterval(3600),
                               timeZone: "Europe/Berlin", host: MeetingHost(accountId: "host-\(tag)", name: "Anna", email: hostEmail,
                                                                             locale: "en"),
                               platforms: ["dingtalk", "tencent"], recommendedPlatform: "dingtalk")
        let publisher = Publisher(.init(amqp: try TestStack.amqp(name: "platform-e2e-pub")), logger: TestStack.logger)
        try await publisher.publish(try OutgoingMessage.envelope(Envelope(MeetingScheduled(meetingId: meetingId, sequence: 1, meeting: plan),
                                                                          source: "scheduling", organizationId: organization),
                                                                 exchange: Exchange.events))
        await publisher.shutdown(grace: .seconds(2))
        var statuses: [String: String] = [:]
        _ = try await eventually(timeout: .seconds(30)) {
            let answer = try await stack.call(.get, "/v1/organizations/\(organization)/meetings/\(meetingId)/platforms", token: admin)
            guard answer.status == 200 else { return false }
            statuses = Dictionary(uniqueKeysWithValues: try answer.decode(ItemList<PlatformMeetingStatus>.self).items.map { ($0.platform, $0.status) })
            return statuses == ["dingtalk": "provisioned", "tencent": "failed"]
        }
        #expect(statuses == ["dingtalk": "provisioned", "tencent": "failed"])
        #expect(try await PaidRegistrationTests().mailArrived(to: hostEmail, containing: "Client review \(tag)"),
                "the host got no mail about the failed platform")
    }
    @Test("Tencent Meeting through the gateway: the GET URL check passes, a forged callback is refused with 401, a signed one becomes platform.meeting_started")
    func tencentThroughTheGateway() async throws {
        let stack = try stack
        let contracts = try PaymentContracts()
        let organization = "org-" + UUID().uuidString.prefix(8).lowercased()
        let admin = try await stack.token(account: UUID().uuidString.lowercased(), organization: organization, roles: [.user, .orgAdmin])
        let secretId = "AKID" + PaymentContracts.random(10), key = "key" + PaymentContracts.random(20)
        let appId = "2000" + PaymentContracts.random(6), token = "tok" + PaymentContracts.random(20)
        try await contracts.post("/_admin/tencent/apps", ["secretId": secretId, "secretKey": key, "appId": appId, "callbackToken": token])
        let set = try await stack.call(.put, "/v1/organizations/\(organization)/platforms/tencent/credentials", token: admin, body:
            #"{"secretId":"\#(secretId)","secretKey":"\#(key)","appId":"\#(appId)","creatorUserId":"host1","webhookToken":"\#(token)"}"#)
        #expect(set.status == 200 && !set.bodyString.contains(token) && !set.bodyString.contains(key), "\(set.bodyString)")

        let probe = try await EventProbe.start(bindings: [PlatformMeetingStarted.messageType])
        defer { Task { await probe.probe.close() } }
        let meetingId = UUID().uuidString.lowercased()
        let start = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 86_400).rounded())
        let plan = MeetingPlan(type: "internal", topic: "周例会", startsAt: start, endsAt: start.addingTimeInterval(3600),
                               timeZone: "Asia/Shanghai", host: MeetingHost(accountId: "host", name: "王芳", email: "host@example.com"),
                               platforms: ["tencent"])
        let publisher = Publisher(.init(amqp: try TestStack.amqp(name: "platform-e2e-pub")), logger: TestStack.logger)
        try await publisher.publish(try OutgoingMessage.envelope(Envelope(MeetingScheduled(meetingId: meetingId, sequence: 1, meeting: plan),
                                                                          source: "scheduling", organizationId: organization),
                                                                 exchange: Exchange.events))
        await publisher.shutdown(grace: .seconds(2))
        var tencentId: String?
        _ = try await eventually(timeout: .seconds(30)) {
            let answer = try await stack.call(.get, "/v1/organizations/\(organization)/meetings/\(meetingId)/platforms", token: admin)
            guard answer.status == 200 else { return false }
            tencentId = try answer.decode(ItemList<PlatformMeetingStatus>.self).items.first { $0.status == "provisioned" }?.platformMeetingId
            return tencentId != nil
        }
        let platformId = try #require(tencentId, "the meeting was never provisioned on Tencent Meeting")

        let callback = stack.baseURL + "/v1/platforms/callbacks/tencent"
        let check = try await contracts.post("/_admin/tencent/apps/\(secretId)/callbacks/verify", ["url": callback])
        #expect(check["verified"] as? Bool == true, "\(check)")
        let forged = try await contracts.post("/_admin/tencent/apps/\(secretId)/callbacks/send", [
            "url": callback, "event": "meeting.started", "meetingId": platformId, "tamper": "signature"])
        #expect(forged["status"] as? Int == 401, "\(forged)")
        let signed = try await contracts.post("/_admin/tencent/apps/\(secretId)/callbacks/send", [
            "url": callback, "event": "meeting.started", "meetingId": platformId])
        #expect(signed["status"] as? Int == 200 && signed["body"] as? String == "successfully received callback", "\(signed)")
        let event = try await probe.next(type: PlatformMeetingStarted.messageType, organizationId: organization, about: meetingId)
        let started = try ConveneJSON.decode(Envelope<PlatformMeetingStarted>.self, from: event)
        #expect(started.data.meetingId == meetingId && started.data.platform == "tencent")
    }
}
}
