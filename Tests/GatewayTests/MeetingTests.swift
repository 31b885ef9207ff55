import Contracts
import Foundation
@testable import Gateway
import HTTPClient
import Messaging
import Testing
import TestSupport

extension EndToEnd {
/// Enterprise meetings and rooms through the gateway and `scheduling`, over the test stack's
/// broker and database.
@Suite("Enterprise meetings, end to end", .serialized)
struct MeetingTests {
    var stack: GatewayStack { get throws { try #require(GatewayStack.current, "the suite trait starts the stack") } }

    struct Room: Decodable { var id: String; var name: String; var capacity: Int; var location: String? }
    struct Material: Decodable { var id: String; var name: String; var contentType: String; var download: String }

    /// A signed-up account acting as a meeting admin of the stack's organization.
    func organizer() async throws -> (token: String, accountId: String) {
        let stack = try stack
        let email = "host-\(UUID().uuidString.prefix(8).lowercased())@example.org"
        let created = try await AccountTests().signUp(email)
        #expect(created.status == 201, "\(created.bodyString)")
        let id = try created.decode(AccountView.self).id
        return (try await stack.token(account: id, roles: [.user, .meetingAdmin], email: email), id)
    }

    static func iso(_ date: Date) -> String { ISO8601.format(date) }

    @Test("an organizer books a room, schedules a meeting hosted by themselves, is refused the same slot with the meeting named, sets its agenda, attaches a slide deck, reschedules and cancels it; times in the viewer's zone")
    func meetingFlow() async throws {
        let stack = try stack
        let (token, accountId) = try await organizer()
        let org = "/v1/organizations/\(stack.organizationId)"
        let roomName = "301-" + UUID().uuidString.prefix(6).lowercased()
        let roomAnswer = try await stack.call(.post, "\(org)/rooms", token: token,
                                              body: AccountTests.json(["name": roomName, "capacity": 12, "location": "3F"]))
        #expect(roomAnswer.status == 201, "\(roomAnswer.bodyString)")
        let room = try roomAnswer.decode(Room.self)
        #expect(try await stack.call(.get, "\(org)/rooms", token: token).bodyString.contains(roomName))
        let renamed = try await stack.call(.patch, "\(org)/rooms/\(room.id)", token: token, body: #"{"capacity": 16}"#)
        #expect(try renamed.decode(Room.self).capacity == 16)

        let start = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 10 * 86_400).rounded())
        let plan: [String: Any] = [
            "type": "internal", "topic": "季度经营分析会", "startsAt": Self.iso(start), "endsAt": Self.iso(start.addingTimeInterval(7200)),
            "timeZone": "Asia/Shanghai", "roomId": room.id, "platforms": ["zoom", "tencent"], "recommendedPlatform": "tencent",
            "expectedAttendees": 10,
        ]
        let created = try await stack.call(.post, "\(org)/meetings", token: token, body: AccountTests.json(plan))
        #expect(created.status == 201, "\(created.bodyString)")
        let meeting = try created.decode(MeetingAnswer.self)
        #expect(meeting.status == "scheduled" && meeting.plan.host.accountId == accountId && meeting.plan.host.name == "张伟")
        #expect(meeting.plan.host.locale == "zh-CN" && meeting.plan.location == "\(roomName), 3F")
        #expect(meeting.local.startsAt.hasSuffix("+08:00"))
        #expect(created.header(named: "Location") == "\(org)/meetings/\(meeting.id)")

        var clash = plan
        clash["topic"] = "评审会"
        clash["startsAt"] = Self.iso(start.addingTimeInterval(3600))
        clash["endsAt"] = Self.iso(start.addingTimeInterval(3 * 3600))
        let refused = try await stack.call(.post, "\(org)/meetings", token: token, body: AccountTests.json(clash))
        #expect(refused.status == 409 && refused.problem?.code == "scheduling.room_conflict")
        #expect(refused.problem?.detail.contains(meeting.id) == true && refused.problem?.detail.contains("季度经营分析会") == true)

        var tooMany = clash
        tooMany["startsAt"] = Self.iso(start.addingTimeInterval(86_400))
        tooMany["endsAt"] = Self.iso(start.addingTimeInterval(86_400 + 3600))
        tooMany["expectedAttendees"] = 40
        tooMany["platforms"] = ["zoom", "zoom"]
        let invalid = try await stack.call(.post, "\(org)/meetings", token: token, body: AccountTests.json(tooMany))
        #expect(invalid.status == 422 && Set(invalid.problem?.errors?.map(\.field) ?? []).isSuperset(of: ["platforms"]), "\(invalid.bodyString)")

        let agenda = try await stack.call(.put, "\(org)/meetings/\(meeting.id)/agenda", token: token, body: AccountTests.json(["items": [
            ["startsAt": Self.iso(start), "endsAt": Self.iso(start.addingTimeInterval(1800)), "topic": "回顾", "owner": "李雷"],
            ["startsAt": Self.iso(start.addingTimeInterval(1800)), "endsAt": Self.iso(start.addingTimeInterval(7200)), "topic": "预算"],
        ]]))
        #expect(agenda.status == 200, "\(agenda.bodyString)")
        #expect(try agenda.decode(MeetingAnswer.self).sequence == meeting.sequence + 1)
        let overlapping = try await stack.call(.put, "\(org)/meetings/\(meeting.id)/agenda", token: token, body: AccountTests.json(["items": [
            ["startsAt": Self.iso(start), "endsAt": Self.iso(start.addingTimeInterval(1800)), "topic": "A"],
            ["startsAt": Self.iso(start.addingTimeInterval(1700)), "endsAt": Self.iso(start.addingTimeInterval(2000)), "topic": "B"],
        ]]))
        #expect(overlapping.status == 422 && overlapping.problem?.errors?.map(\.field) == ["items[1].startsAt"])

        let deck = try SampleFiles.office("ppt")
        let uploaded = try await UploadTests().upload(deck, fileName: "预算汇报.pptx",
                                                      declaredType: "application/octet-stream", token: token)
        #expect(uploaded.status == 201, "\(uploaded.bodyString)")
        let upload = try uploaded.decode(UploadTests.Upload.self)
        let attached = try await stack.call(.post, "\(org)/meetings/\(meeting.id)/materials", token: token,
                                            body: AccountTests.json(["uploadId": upload.id]))
        #expect(attached.status == 201, "\(attached.bodyString)")
        let material = try attached.decode(Material.self)
        #expect(material.name == "预算汇报.pptx" && material.contentType.hasSuffix("presentationml.presentation"))
        let downloaded = try await stack.call(.get, material.download, token: token)
        #expect(downloaded.status == 200 && downloaded.body == deck)
        let outsider = try await stack.token(account: UUID().uuidString.lowercased(), roles: [.user, .meetingAdmin])
        let foreign = try await stack.call(.post, "\(org)/meetings/\(meeting.id)/materials", token: outsider,
                                           body: AccountTests.json(["uploadId": upload.id]))
        #expect(foreign.status == 422, "another account's upload is not attachable")

        let seen = try await stack.call(.get, "\(org)/meetings/\(meeting.id)?tz=Europe/Berlin", token: token)
        let view = try seen.decode(MeetingAnswer.self)
        #expect(view.viewer?.timeZone == "Europe/Berlin" && view.viewer?.agenda.count == 2)
        #expect(view.materials.map(\.id) == [material.id] && view.agenda.map(\.topic) == ["回顾", "预算"])

        // Rescheduled a day later: leaving the room's slot free for the meeting refused before.
        let moved = try await stack.call(.patch, "\(org)/meetings/\(meeting.id)", token: token, body: AccountTests.json([
            "startsAt": Self.iso(start.addingTimeInterval(86_400 * 2)), "endsAt": Self.iso(start.addingTimeInterval(86_400 * 2 + 7200)),
            "platforms": ["dingtalk"]]))
        #expect(moved.status == 422, "the agenda no longer fits: \(moved.bodyString)")
        _ = try await stack.call(.put, "\(org)/meetings/\(meeting.id)/agenda", token: token, body: #"{"items": []}"#)
        let rescheduled = try await stack.call(.patch, "\(org)/meetings/\(meeting.id)", token: token, body: AccountTests.json([
            "startsAt": Self.iso(start.addingTimeInterval(86_400 * 2)), "endsAt": Self.iso(start.addingTimeInterval(86_400 * 2 + 7200)),
            "platforms": ["dingtalk"]]))
        #expect(rescheduled.status == 200, "\(rescheduled.bodyString)")
        let after = try rescheduled.decode(MeetingAnswer.self)
        #expect(after.plan.platforms == ["dingtalk"] && after.plan.recommendedPlatform == "dingtalk" && after.plan.roomId == room.id)
        clash["expectedAttendees"] = 5
        #expect(try await stack.call(.post, "\(org)/meetings", token: token, body: AccountTests.json(clash)).status == 201)

        let list = try await stack.call(.get, "\(org)/meetings?limit=100", token: token)
        #expect(try list.decode(MeetingRoutes.Page.self).items.contains { $0.id == meeting.id })
        let cancelled = try await stack.call(.post, "\(org)/meetings/\(meeting.id)/cancel", token: token, body: #"{"reason": "改期"}"#)
        #expect(try cancelled.decode(MeetingAnswer.self).status == "cancelled")
        let again = try await stack.call(.post, "\(org)/meetings/\(meeting.id)/cancel", token: token, body: #"{"reason": "改期"}"#)
        #expect(again.status == 409 && again.problem?.code == "scheduling.invalid_state")
    }

    @Test("platform-bridge over the broker: join links (recommended first) from the contract server's platforms, a platform's failure, then started and ended once each from the platforms' webhooks")
    func platformEvents() async throws {
        let stack = try stack
        let contracts = try PaymentContracts()
        // An organization of its own, with Zoom and Tencent Meeting apps (at the contract server), not DingTalk.
        let organization = "org-" + UUID().uuidString.prefix(8).lowercased()
        let email = "host-\(UUID().uuidString.prefix(8).lowercased())@example.org"
        let created = try await AccountTests().signUp(email)
        #expect(created.status == 201, "\(created.bodyString)")
        let token = try await stack.token(account: try created.decode(AccountView.self).id, organization: organization,
                                          roles: [.user, .meetingAdmin], email: email)
        let admin = try await stack.token(account: UUID().uuidString.lowercased(), organization: organization, roles: [.user, .orgAdmin])
        let org = "/v1/organizations/\(organization)"
        let zoomAccount = "acc" + PaymentContracts.random(10), zoomHook = "whs" + PaymentContracts.random(20)
        try await contracts.post("/_admin/zoom/accounts", ["accountId": zoomAccount, "clientId": "cli-\(zoomAccount)",
                                                           "clientSecret": "sec-\(zoomAccount)", "webhookSecret": zoomHook])
        let secretId = "AKID" + PaymentContracts.random(10), tencentToken = "tok" + PaymentContracts.random(20)
        try await contracts.post("/_admin/tencent/apps", ["secretId": secretId, "secretKey": "key-\(secretId)", "appId": "2000123",
                                                          "callbackToken": tencentToken])
        #expect(try await stack.call(.put, "\(org)/platforms/zoom/credentials", token: admin, body: AccountTests.json([
            "accountId": zoomAccount, "clientId": "cli-\(zoomAccount)", "clientSecret": "sec-\(zoomAccount)",
            "webhookSecretToken": zoomHook])).status == 200)
        #expect(try await stack.call(.put, "\(org)/platforms/tencent/credentials", token: admin, body: AccountTests.json([
            "secretId": secretId, "secretKey": "key-\(secretId)", "appId": "2000123", "creatorUserId": "host1",
            "webhookToken": tencentToken])).status == 200)

        let events = try await EventProbe.start(bindings: ["scheduling.meeting_scheduled", "scheduling.meeting_started",
                                                           "scheduling.meeting_ended"])
        defer { Task { await events.stop() } }
        let start = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 20 * 86_400).rounded())
        let answer = try await stack.call(.post, "\(org)/meetings", token: token, body: AccountTests.json([
            "type": "client", "topic": "客户拜访 " + UUID().uuidString.prefix(6), "startsAt": Self.iso(start),
            "endsAt": Self.iso(start.addingTimeInterval(3600)), "timeZone": "Asia/Shanghai", "location": "客户现场",
            "platforms": ["zoom", "tencent", "dingtalk"], "recommendedPlatform": "tencent"]))
        #expect(answer.status == 201, "\(answer.bodyString)")
        let meeting = try answer.decode(MeetingAnswer.self)
        let scheduled = try ConveneJSON.decode(Envelope<MeetingScheduled>.self,
                                               from: try await events.next(type: "scheduling.meeting_scheduled",
                                                                           organizationId: organization, about: meeting.id))
        #expect(scheduled.data.kind == "client" && scheduled.data.meeting == meeting.plan)

        var view: MeetingAnswer?
        let linked = await eventually(timeout: .seconds(30)) {
            view = try? await stack.call(.get, "\(org)/meetings/\(meeting.id)", token: token).decode(MeetingAnswer.self)
            return view?.joinLinks.count == 2 && view?.provisioningFailures.count == 1
        }
        #expect(linked, "\(String(describing: view))")
        #expect(view?.joinLinks.map(\.platform) == ["tencent", "zoom"] && view?.joinLinks.first?.recommended == true)
        #expect(view?.provisioningFailures.first?.reason == "platform.credentials_missing")
        #expect(view?.provisioningFailures.first?.platform == "dingtalk")

        // The platforms' own ids, as platform-bridge shows them.
        let platforms = try await stack.call(.get, "\(org)/meetings/\(meeting.id)/platforms", token: admin)
            .decode(ItemList<PlatformMeetingStatus>.self).items
        let zoomId = try #require(platforms.first { $0.platform == "zoom" }?.platformMeetingId)
        let tencentId = try #require(platforms.first { $0.platform == "tencent" }?.platformMeetingId)
        let zoomCallback = stack.baseURL + "/v1/platforms/callbacks/zoom"
        let tencentCallback = stack.baseURL + "/v1/platforms/callbacks/tencent"
        let zoomStarted = try await contracts.post("/_admin/zoom/webhooks/send", [
            "accountId": zoomAccount, "url": zoomCallback, "event": "meeting.started",
            "object": ["id": Int(zoomId)!, "start_time": Self.iso(start.addingTimeInterval(-120))]])
        #expect(zoomStarted["status"] as? Int == 200, "\(zoomStarted)")
        let started = try ConveneJSON.decode(Envelope<MeetingStarted>.self,
                                             from: try await events.next(type: "scheduling.meeting_started",
                                                                         organizationId: organization, about: meeting.id))
        #expect(started.data.trigger == "zoom" && started.data.at == start.addingTimeInterval(-120))
        let startMillis = Int(start.timeIntervalSince1970 * 1000)
        let tencentStarted = try await contracts.post("/_admin/tencent/apps/\(secretId)/callbacks/send", [
            "url": tencentCallback, "event": "meeting.started", "meetingId": tencentId, "operateTime": startMillis])
        #expect(tencentStarted["status"] as? Int == 200, "\(tencentStarted)")
        let tencentEnded = try await contracts.post("/_admin/tencent/apps/\(secretId)/callbacks/send", [
            "url": tencentCallback, "event": "meeting.end", "meetingId": tencentId, "operateTime": startMillis + 3_000_000])
        #expect(tencentEnded["status"] as? Int == 200, "\(tencentEnded)")
        let ended = try ConveneJSON.decode(Envelope<MeetingEnded>.self,
                                           from: try await events.next(type: "scheduling.meeting_ended",
                                                                       organizationId: organization, about: meeting.id))
        #expect(ended.data.trigger == "tencent")
        let final = try await stack.call(.get, "\(org)/meetings/\(meeting.id)", token: token).decode(MeetingAnswer.self)
        #expect(final.status == "ended" && final.startedAt == start.addingTimeInterval(-120))
        let startedCopies = events.probe.deliveries.filter {
            String(decoding: $0.body, as: UTF8.self).contains(meeting.id) && $0.properties.type == "scheduling.meeting_started"
        }
        #expect(startedCopies.count == 1, "the second platform's start announced nothing")
    }

    @Test("20 concurrent requests for one room and slot through the gateway: one 201, nineteen 409 naming that meeting")
    func concurrentBooking() async throws {
        let stack = try stack
        let (token, _) = try await organizer()
        let org = "/v1/organizations/\(stack.organizationId)"
        let room = try await stack.call(.post, "\(org)/rooms", token: token, body: AccountTests.json([
            "name": "大会议室-" + UUID().uuidString.prefix(6), "capacity": 50])).decode(Room.self)
        let start = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 30 * 86_400).rounded())
        let answers = await withTaskGroup(of: HTTPResponse?.self) { group in
            for index in 0..<20 {
                group.addTask {
                    try? await stack.call(.post, "\(org)/meetings", token: token, body: AccountTests.json([
                        "type": "internal", "topic": "并发 \(index)", "startsAt": Self.iso(start.addingTimeInterval(Double(index) * 60)),
                        "endsAt": Self.iso(start.addingTimeInterval(3600)), "timeZone": "Asia/Shanghai", "roomId": room.id]))
                }
            }
            var answers: [HTTPResponse?] = []
            for await answer in group { answers.append(answer) }
            return answers
        }
        let created = answers.compactMap { $0 }.filter { $0.status == 201 }
        let refused = answers.compactMap { $0 }.filter { $0.status == 409 }
        #expect(created.count == 1 && refused.count == 19, "\(answers.map { $0?.status ?? 0 })")
        let winner = try #require(created.first).decode(MeetingAnswer.self)
        #expect(refused.allSatisfy { $0.problem?.code == "scheduling.room_conflict" && $0.problem?.detail.contains(winner.id) == true })
    }

    @Test("timers of the running service: the host's rehearsal reminder is mailed once in the host's language; the start and end timers announce started and ended")
    func timers() async throws {
        let stack = try stack
        let (token, _) = try await organizer()
        let org = "/v1/organizations/\(stack.organizationId)"
        let events = try await EventProbe.start(bindings: ["scheduling.reminder_due", "scheduling.meeting_started", "scheduling.meeting_ended"])
        defer { Task { await events.stop() } }
        let me = try await stack.call(.get, "/v1/me", token: token).decode(AccountView.self)
        // Rehearsal and 1 h reminder fall due in 8 seconds.
        let topic = "彩排 " + UUID().uuidString.prefix(8).lowercased()
        let soon = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 3600 + 8).rounded())
        let rehearsed = try await stack.call(.post, "\(org)/meetings", token: token, body: AccountTests.json([
            "type": "large_event", "topic": topic, "startsAt": Self.iso(soon), "endsAt": Self.iso(soon.addingTimeInterval(3600)),
            "timeZone": "Asia/Shanghai", "location": "报告厅"])).decode(MeetingAnswer.self)
        let reminder = try ConveneJSON.decode(Envelope<ReminderDue>.self, from: try await events.next(
            type: "scheduling.reminder_due", organizationId: stack.organizationId, about: rehearsed.id))
        #expect(reminder.data.meetingKind == "large_event" && reminder.data.kind == "reminder_1h" && reminder.data.host?.email == me.email)
        func rehearsalMails() -> [String] {
            guard let maildir = try? TestStack.environment("CONVENE_MAILDIR") else { return [] }
            var subjects: [String] = []
            for folder in ["new", "cur"] {
                for name in (try? FileManager.default.contentsOfDirectory(atPath: maildir + "/" + folder)) ?? [] {
                    guard let data = FileManager.default.contents(atPath: maildir + "/" + folder + "/" + name) else { continue }
                    let mail = String(decoding: data, as: UTF8.self)
                    guard mail.contains(me.email), let subject = ConferenceReminderTests.subject(of: mail), subject.contains(topic) else { continue }
                    subjects.append(subject)
                }
            }
            return subjects
        }
        #expect(await eventually(timeout: .seconds(60)) { !rehearsalMails().isEmpty }, "\(stack.logTails())")
        try await Task.sleep(for: .seconds(3))
        let local = ConferenceReminderTests.local(soon)
        #expect(rehearsalMails() == ["彩排提醒：您主持的「\(topic)」将于 \(local) 开始"], "once, in Chinese, to the host only")

        // A meeting starting in 4 seconds and ending 4 seconds later: its own timers move it on.
        let start = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 4).rounded(.up))
        let short = try await stack.call(.post, "\(org)/meetings", token: token, body: AccountTests.json([
            "type": "internal", "topic": "站会", "startsAt": Self.iso(start), "endsAt": Self.iso(start.addingTimeInterval(4)),
            "timeZone": "Asia/Shanghai", "platforms": ["zoom"]])).decode(MeetingAnswer.self)
        let started = try ConveneJSON.decode(Envelope<MeetingStarted>.self, from: try await events.next(
            type: "scheduling.meeting_started", organizationId: stack.organizationId, about: short.id))
        #expect(started.data.trigger == "timer" && started.data.at == start)
        let ended = try ConveneJSON.decode(Envelope<MeetingEnded>.self, from: try await events.next(
            type: "scheduling.meeting_ended", organizationId: stack.organizationId, about: short.id))
        #expect(ended.data.trigger == "timer" && ended.data.at == start.addingTimeInterval(4))
        let final = try await stack.call(.get, "\(org)/meetings/\(short.id)", token: token).decode(MeetingAnswer.self)
        #expect(final.status == "ended")
    }

    @Test("a participant of the organization may not schedule; another organization's meeting is not found")
    func access() async throws {
        let stack = try stack
        let member = try await stack.token(account: UUID().uuidString.lowercased(), roles: [.user])
        let org = "/v1/organizations/\(stack.organizationId)"
        #expect(try await stack.call(.get, "\(org)/meetings", token: member).status == 403)
        #expect(try await stack.call(.get, "\(org)/rooms", token: member).status == 403)
        let other = try await stack.token(account: UUID().uuidString.lowercased(), organization: "other-org", roles: [.user, .meetingAdmin])
        #expect(try await stack.call(.get, "\(org)/meetings/\(UUID().uuidString.lowercased())", token: other).status == 404)
    }
}
}
