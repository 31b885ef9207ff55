import Contracts
import Foundation
@testable import Gateway
import HTTPClient
import Messaging
import Testing
import TestSupport
import ZIPFoundation

extension EndToEnd {
/// Attendees of enterprise meetings, end to end: the meeting is announced as scheduling would
/// (its routes are built elsewhere), attendees are imported through the gateway, invitations
/// reach the SMTP sink with calendar entries, attendees answer, reminders go out once.
@Suite("Attendees of enterprise meetings, end to end", .serialized)
struct AttendeeTests {
    var stack: GatewayStack { get throws { try #require(GatewayStack.current, "the suite trait starts the stack") } }

    // MARK: Helpers

    struct Meeting {
        var id: String
        var topic: String
        var plan: MeetingPlan
        var base: String
        var organizer: String
    }

    /// Announces an internal meeting starting in two days as scheduling does, and waits until
    /// registration has its copy (its attendee list answers).
    func meeting(_ label: String) async throws -> Meeting {
        let stack = try stack
        let id = UUID().uuidString.lowercased()
        let topic = "\(label) " + UUID().uuidString.prefix(8).lowercased()
        let start = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 2 * 86_400).rounded())
        let plan = MeetingPlan(type: "internal", topic: topic, description: "季度规划", startsAt: start, endsAt: start.addingTimeInterval(3600),
                               timeZone: "Asia/Shanghai", location: "3 号会议室",
                               host: MeetingHost(accountId: "acc-host", name: "王经理", email: "host@example.com", locale: "zh-CN"),
                               platforms: ["zoom", "tencent"], recommendedPlatform: "tencent")
        try await publish(MeetingScheduled(meetingId: id, sequence: 1, meeting: plan))
        let organizer = try await stack.token(account: UUID().uuidString.lowercased(), roles: [.user, .meetingAdmin])
        let base = "/v1/organizations/\(stack.organizationId)/meetings/\(id)/attendees"
        let known = await eventually(timeout: .seconds(30)) {
            (try? await stack.call(.get, base, token: organizer))?.status == 200
        }
        #expect(known, "registration keeps a copy of the scheduled meeting;\n\(stack.logTails())")
        return Meeting(id: id, topic: topic, plan: plan, base: base, organizer: organizer)
    }

    /// Publishes an event as its producer would; `id` repeats a delivery.
    func publish<P: MessagePayload>(_ payload: P, id: UUID = UUID()) async throws {
        let stack = try stack
        let publisher = Publisher(.init(amqp: try TestStack.amqp(name: "attendee-e2e-pub")), logger: TestStack.logger)
        let envelope = Envelope(id: id, type: P.messageType, source: "attendee-e2e", organizationId: stack.organizationId, data: payload)
        try await publisher.publish(try OutgoingMessage.envelope(envelope, exchange: Exchange.events))
        await publisher.shutdown(grace: .seconds(2))
    }

    func upload(_ path: String, token: String, file: [UInt8], fileName: String) async throws -> HTTPResponse {
        let stack = try stack
        let boundary = "----convene-attendees-" + UUID().uuidString
        var body = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(fileName)\"\r\n".utf8)
        body += Array("Content-Type: application/octet-stream\r\n\r\n".utf8) + file + Array("\r\n--\(boundary)--\r\n".utf8)
        var request = HTTPRequest(method: .post, url: stack.baseURL + path, headers: [])
        request.setHeader("Authorization", "Bearer " + token)
        request.setHeader("Content-Type", "multipart/form-data; boundary=\(boundary)")
        request.body = body
        return try await stack.client.execute(request)
    }

    func attendees(_ meeting: Meeting) async throws -> [AttendeeView] {
        let answer = try await stack.call(.get, meeting.base + "?limit=500", token: meeting.organizer)
        #expect(answer.status == 200, "\(answer.bodyString)")
        return try answer.decode(AttendeePage.self).items
    }

    struct Mail: Decodable {
        var subject: String
        var to: String
        var text: String?
        var calendar: String?
    }

    /// Every mail the SMTP sink received for `address` whose subject mentions `topic`, parsed by
    /// Python's email package (MIME, encoded words, base64 parts).
    func mails(to address: String, topic: String) async throws -> [Mail] {
        let maildir = try TestStack.environment("CONVENE_MAILDIR")
        let script = """
            import email, email.policy, json, os, sys
            out = []
            for folder in ('new', 'cur'):
                path = os.path.join(sys.argv[1], folder)
                for name in (os.listdir(path) if os.path.isdir(path) else []):
                    raw = open(os.path.join(path, name), 'rb').read()
                    if sys.argv[2].encode() not in raw: continue
                    m = email.message_from_bytes(raw, policy=email.policy.default)
                    if sys.argv[2] not in str(m['to']) or sys.argv[3] not in str(m['subject']): continue
                    body = {p.get_content_type(): p.get_content() for p in m.walk() if p.get_content_maintype() == 'text'}
                    out.append({"subject": str(m['subject']), "to": str(m['to']), "text": body.get('text/plain'),
                                "calendar": body.get('text/calendar')})
            print(json.dumps(out, ensure_ascii=False))
            """
        let output = "/tmp/convene-attendee-mail-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let status = await Command.run(["/usr/bin/python3", "-c", script, maildir, address, topic], output: output)
        let json = try #require(FileManager.default.contents(atPath: output))
        #expect(status == 0, "\(String(decoding: json, as: UTF8.self))")
        return try JSONDecoder().decode([Mail].self, from: json)
    }

    /// The unfolded content lines of an iCalendar text.
    static func icsLines(_ text: String) -> [String] {
        var lines: [String] = []
        for line in text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false) {
            if let first = line.first, first == " " || first == "\t", !lines.isEmpty {
                lines[lines.count - 1] += line.dropFirst()
            } else {
                lines.append(String(line))
            }
        }
        return lines
    }

    static func property(_ name: String, in lines: [String]) -> String? {
        lines.first { $0.hasPrefix(name + ":") || $0.hasPrefix(name + ";") }
    }

    /// The answer link's path and query in a mail's text.
    static func rsvpPath(_ text: String) -> String? {
        guard let match = text.firstMatch(of: /\/v1\/meeting-invitations\/[0-9a-f-]{36}\?token=[A-Za-z0-9_-]+/) else { return nil }
        return String(match.output)
    }

    static let csv = "\u{FEFF}姓名,邮箱,手机,部门,角色,钉钉用户ID\r\n\"张, 三\",REQ-{tag}@Example.com,13800000000,产品部,必选,ding-1\r\n"
        + "李四,opt-{tag}@example.com,,\"销售部 \"\"华东\"\"\",可选,\r\nWang Wu,obs-{tag}@example.com,+86 139,研发部,列席,\r\n"

    // MARK: Tests

    @Test("a CSV import adds attendees with their roles, each invited with a calendar entry whose ROLE matches; a re-import updates; RSVP by link and by account")
    func csvImportInvitationsAndAnswers() async throws {
        let stack = try stack
        let meeting = try await meeting("CSV 导入")
        let tag = UUID().uuidString.prefix(8).lowercased()
        let csv = Array(Self.csv.replacingOccurrences(of: "{tag}", with: tag).utf8)

        let dry = try await upload(meeting.base + "/import?dryRun=true", token: meeting.organizer, file: csv, fileName: "名单.csv")
        #expect(dry.status == 200, "\(dry.bodyString)")
        let dryReport = try dry.decode(AttendeeImportReport.self)
        #expect(dryReport.dryRun && !dryReport.applied && dryReport.added == 3)
        #expect(try await attendees(meeting).isEmpty, "a dry run applies nothing")

        let imported = try await upload(meeting.base + "/import", token: meeting.organizer, file: csv, fileName: "名单.csv")
        #expect(imported.status == 200, "\(imported.bodyString)")
        let report = try imported.decode(AttendeeImportReport.self)
        #expect(report.applied && report.added == 3 && report.updated == 0 && report.rejected == 0)
        let list = try await attendees(meeting)
        #expect(list.map(\.email) == ["req-\(tag)@example.com", "opt-\(tag)@example.com", "obs-\(tag)@example.com"])
        #expect(list.map(\.role) == ["required", "optional", "observer"])
        #expect(list[0].name == "张, 三" && list[0].phone == "13800000000" && list[0].dingtalkUserId == "ding-1")
        #expect(list[1].department == "销售部 \"华东\"")

        // Invitations: one each, a REQUEST of the meeting's UID and sequence, with the attendee's role.
        let roles = ["req": "REQ-PARTICIPANT", "opt": "OPT-PARTICIPANT", "obs": "NON-PARTICIPANT"]
        var links: [String: String] = [:]
        for (prefix, role) in roles {
            let address = "\(prefix)-\(tag)@example.com"
            var invitations: [Mail] = []
            let arrived = await eventually(timeout: .seconds(60)) {
                invitations = (try? await mails(to: address, topic: meeting.topic)) ?? []
                return !invitations.isEmpty
            }
            #expect(arrived, "the invitation reached \(address);\n\(stack.logTails())")
            #expect(invitations.count == 1, "one invitation to \(address)")
            let mail = try #require(invitations.first)
            #expect(mail.subject == "会议邀请：\(meeting.topic)（\(NoticeTime.local(meeting.plan.startsAt))）")
            let ics = Self.icsLines(try #require(mail.calendar, "a calendar part"))
            #expect(ics.contains("METHOD:REQUEST") && ics.contains("SEQUENCE:1") && ics.contains("UID:\(meeting.id)@meetings.convene"))
            let attendee = try #require(Self.property("ATTENDEE", in: ics))
            #expect(attendee.contains("ROLE=\(role)") && attendee.hasSuffix("mailto:\(address)"), "\(attendee)")
            #expect(ics.filter { $0.hasPrefix("ATTENDEE") }.count == 1, "the mail names its own attendee only")
            links[prefix] = Self.rsvpPath(try #require(mail.text))
        }
        #expect(try #require(links["req"]).contains("/v1/meeting-invitations/\(list[0].id)?token="))

        // Re-import: the same addresses update, nobody is invited twice.
        let again = Array("name,email,role\n张三丰,req-\(tag)@example.com,observer\n".utf8)
        let updated = try await upload(meeting.base + "/import", token: meeting.organizer, file: again, fileName: "again.csv")
        #expect(updated.status == 200, "\(updated.bodyString)")
        let second = try updated.decode(AttendeeImportReport.self)
        #expect(second.updated == 1 && second.added == 0 && second.applied)
        let after = try await attendees(meeting)
        #expect(after.count == 3 && after[0].name == "张三丰" && after[0].role == "observer" && after[0].id == list[0].id)

        // RSVP through the invitation's link, without signing in.
        let path = try #require(links["opt"])
        let read = try await stack.call(.get, path + "&tz=Europe/Berlin")
        #expect(read.status == 200, "\(read.bodyString)")
        let invitation = try read.decode(InvitedMeetingAnswer.self)
        #expect(invitation.meeting.role == "optional" && invitation.meeting.response == "pending")
        #expect(invitation.viewer?.timeZone == "Europe/Berlin" && invitation.local.startsAt.hasSuffix("+08:00"))
        let token = String(try #require(path.split(separator: "=").last))
        let idPath = String(path.prefix { $0 != "?" })
        let accepted = try await stack.call(.post, idPath + "/rsvp", body: AccountTests.json(["token": token, "response": "accepted"]))
        #expect(accepted.status == 200, "\(accepted.bodyString)")
        #expect(try accepted.decode(InvitedMeetingAnswer.self).meeting.response == "accepted")
        let forged = try await stack.call(.post, idPath + "/rsvp", body: AccountTests.json(["token": String(token.reversed()), "response": "declined"]))
        #expect(forged.status == 404, "a wrong token names nothing")

        // RSVP as the signed-in account with the invited address (any case).
        let me = try await stack.tokens.issue(accountId: UUID().uuidString.lowercased(), organizationId: nil, roles: [.participant],
                                              email: "OBS-\(tag)@example.com", locale: "zh-CN")
        let mine = try await stack.call(.get, "/v1/me/meetings?tz=America/New_York", token: me)
        #expect(mine.status == 200, "\(mine.bodyString)")
        let page = try mine.decode(AttendeeRoutes.Page.self)
        let item = try #require(page.items.first { $0.meeting.meetingId == meeting.id })
        #expect(item.meeting.role == "observer" && item.viewer?.timeZone == "America/New_York")
        let declined = try await stack.call(.post, "/v1/me/meetings/\(meeting.id)/rsvp", token: me,
                                            body: AccountTests.json(["response": "declined", "comment": "出差"]))
        #expect(declined.status == 200, "\(declined.bodyString)")
        let answers = Dictionary(uniqueKeysWithValues: try await attendees(meeting).map { ($0.email, $0.response) })
        #expect(answers == ["req-\(tag)@example.com": "pending", "opt-\(tag)@example.com": "accepted", "obs-\(tag)@example.com": "declined"])
        let stranger = try await stack.tokens.issue(accountId: UUID().uuidString.lowercased(), organizationId: nil, roles: [.participant],
                                                    email: "nobody-\(tag)@example.com", locale: "en")
        #expect(try await stack.call(.post, "/v1/me/meetings/\(meeting.id)/rsvp", token: stranger,
                                     body: AccountTests.json(["response": "accepted"])).status == 404)
    }

    @Test("an XLSX import adds attendees; a file with one bad row changes nothing and reports the row and why")
    func xlsxImportAndRejection() async throws {
        let stack = try stack
        let meeting = try await meeting("XLSX 导入")
        let tag = UUID().uuidString.prefix(8).lowercased()
        let template = try await stack.call(.get, meeting.base + "/template.xlsx", token: meeting.organizer)
        #expect(template.status == 200 && template.header(named: "Content-Disposition")?.contains("attendees-template.xlsx") == true)
        let workbook = try Self.workbook([
            ["姓名", "邮箱", "手机", "部门", "角色"],
            ["赵六", "zhao-\(tag)@example.com", "13800000001", "财务部", "必须参加"],
            ["Ada", "ada-\(tag)@example.com", "", "IT", "旁听"],
        ])
        let imported = try await upload(meeting.base + "/import", token: meeting.organizer, file: workbook, fileName: "名单.xlsx")
        #expect(imported.status == 200, "\(imported.bodyString)")
        #expect(try imported.decode(AttendeeImportReport.self).added == 2)
        #expect(try await attendees(meeting).map(\.role) == ["required", "observer"])

        let bad = try Self.workbook([
            ["name", "email", "role"],
            ["New Person", "new-\(tag)@example.com", "optional"],
            ["Broken", "not-an-address", "optional"],
            ["Ada again", "ada-\(tag)@example.com", "可选"],
        ])
        let refused = try await upload(meeting.base + "/import", token: meeting.organizer, file: bad, fileName: "bad.xlsx")
        #expect(refused.status == 422, "\(refused.bodyString)")
        let report = try refused.decode(AttendeeImportReport.self)
        #expect(!report.applied && report.rejected == 1 && report.added == 1 && report.updated == 1)
        #expect(report.rows.first { $0.outcome == "rejected" } == .init(row: 3, email: "not-an-address", name: "Broken", outcome: "rejected",
                                                                        reason: "invalid_email", message: "not an email address"))
        let list = try await attendees(meeting)
        #expect(list.map(\.email) == ["zhao-\(tag)@example.com", "ada-\(tag)@example.com"], "nothing was added")
        #expect(list[1].role == "observer", "nothing was updated")

        // A CSV in GBK, as Excel on a Chinese Windows saves it: 姓名,邮箱,角色 / 钱九,…,可选
        let gbk: [UInt8] = [0xD0, 0xD5, 0xC3, 0xFB, 0x2C, 0xD3, 0xCA, 0xCF, 0xE4, 0x2C, 0xBD, 0xC7, 0xC9, 0xAB, 0x0D, 0x0A,
                            0xC7, 0xAE, 0xBE, 0xC5, 0x2C] + Array("qian-\(tag)@example.com,".utf8) + [0xBF, 0xC9, 0xD1, 0xA1, 0x0D, 0x0A]
        let chinese = try await upload(meeting.base + "/import", token: meeting.organizer, file: gbk, fileName: "名单.csv")
        #expect(chinese.status == 200, "\(chinese.bodyString)")
        let added = try await attendees(meeting).last
        #expect(added?.name == "钱九" && added?.role == "optional" && added?.email == "qian-\(tag)@example.com")

        let pdf = try await upload(meeting.base + "/import", token: meeting.organizer, file: SampleFiles.pdf(), fileName: "x.csv")
        #expect(pdf.status == 415, "the type is told by the bytes, not the name")
    }

    @Test("an XLSX written by openpyxl (a standard spreadsheet library) imports: shared strings, numeric phones, Chinese headers and roles, a second sheet ignored")
    func openpyxlWorkbook() async throws {
        let meeting = try await meeting("openpyxl")
        let tag = UUID().uuidString.prefix(8).lowercased()
        let path = NSTemporaryDirectory() + "attendees-\(tag).xlsx"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let script = """
            import sys, openpyxl
            wb = openpyxl.Workbook()
            ws = wb.active
            ws.title = "参会人员"
            ws.append(["姓名", "邮箱", "手机号", "部门", "参会角色", "钉钉用户ID"])
            ws.append(["孙七", "Sun.Qi-\(tag)@Example.COM", 13800000007, "市场部", "必须参加", "dt-777"])
            ws.append(["Lee, Ann", "ann-\(tag)@example.com", None, "R&D <一部>", "可选", None])
            ws.append([None, None, None, None, None, None])
            ws.append(["周八", "zhou-\(tag)@example.com", "+86 139 0000 0008", None, "列席", 42])
            other = wb.create_sheet("说明")
            other.append(["not", "an", "attendee"])
            wb.save(sys.argv[1])
            """
        let status = await Command.run(["/usr/bin/python3", "-c", script, path])
        #expect(status == 0, "openpyxl wrote the workbook")
        let bytes = Array(try #require(FileManager.default.contents(atPath: path)))
        let imported = try await upload(meeting.base + "/import", token: meeting.organizer, file: bytes, fileName: "参会人员.xlsx")
        #expect(imported.status == 200, "\(imported.bodyString)")
        let report = try imported.decode(AttendeeImportReport.self)
        #expect(report.added == 3 && report.rejected == 0 && report.rows.map(\.row) == [2, 3, 5], "the empty row 4 is skipped")
        let list = try await attendees(meeting)
        #expect(list.map(\.email) == ["sun.qi-\(tag)@example.com", "ann-\(tag)@example.com", "zhou-\(tag)@example.com"])
        #expect(list.map(\.role) == ["required", "optional", "observer"])
        #expect(list.map(\.phone) == ["13800000007", nil, "+86 139 0000 0008"], "a numeric phone keeps its digits")
        #expect(list.map(\.name) == ["孙七", "Lee, Ann", "周八"] && list[1].department == "R&D <一部>")
        #expect(list.map(\.dingtalkUserId) == ["dt-777", nil, "42"])
    }

    @Test("2,000 rows import in one go, each attendee invited once, and list in pages of 500 in file order")
    func largeImport() async throws {
        let stack = try stack
        let meeting = try await meeting("大名单")
        let tag = UUID().uuidString.prefix(8).lowercased()
        var csv = "name,email,role\r\n"
        for index in 0..<2000 { csv += "参会者 \(index),bulk-\(index)-\(tag)@example.org,\(index % 3 == 0 ? "必选" : "可选")\r\n" }
        let imported = try await upload(meeting.base + "/import", token: meeting.organizer, file: Array(csv.utf8), fileName: "bulk.csv")
        #expect(imported.status == 200, "\(imported.bodyString)")
        #expect(try imported.decode(AttendeeImportReport.self).added == 2000)
        var seen: [AttendeeView] = []
        var next: String? = nil
        repeat {
            let query = next.map { "&after=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0)" } ?? ""
            let page = try await stack.call(.get, meeting.base + "?limit=500" + query, token: meeting.organizer)
            #expect(page.status == 200, "\(page.bodyString)")
            let decoded = try page.decode(AttendeePage.self)
            seen += decoded.items
            next = decoded.next
        } while next != nil && seen.count <= 2000
        #expect(seen.map(\.email) == (0..<2000).map { "bulk-\($0)-\(tag)@example.org" }, "every row once, in the file's order")
        #expect(seen.allSatisfy { $0.invitedSequence == 1 }, "each invited, in the import's transaction")
        #expect(seen.filter { $0.role == "required" }.count == 667)
    }

    @Test("a reminder_due delivered twice reaches each attendee who has not declined once; required attendees who have not answered are asked to")
    func reminderOnce() async throws {
        let stack = try stack
        let meeting = try await meeting("提醒")
        let tag = UUID().uuidString.prefix(8).lowercased()
        var ids: [String: String] = [:]
        for (name, role) in [("a", "required"), ("b", "optional"), ("c", "required")] {
            let added = try await stack.call(.post, meeting.base, token: meeting.organizer,
                                             body: AccountTests.json(["name": "参会者 \(name)", "email": "rem-\(name)-\(tag)@example.com", "role": role]))
            #expect(added.status == 201, "\(added.bodyString)")
            ids[name] = try added.decode(AttendeeView.self).id
        }
        let duplicate = try await stack.call(.post, meeting.base, token: meeting.organizer,
                                             body: AccountTests.json(["name": "again", "email": "REM-A-\(tag)@example.com"]))
        #expect(duplicate.status == 409 && duplicate.problem?.code == "registration.attendee_exists")
        // c declines: not reminded.
        let me = try await stack.tokens.issue(accountId: UUID().uuidString.lowercased(), organizationId: nil, roles: [.participant],
                                              email: "rem-c-\(tag)@example.com", locale: "zh-CN")
        #expect(try await stack.call(.post, "/v1/me/meetings/\(meeting.id)/rsvp", token: me,
                                     body: AccountTests.json(["response": "declined"])).status == 200)

        let reminder = ReminderDue(timerId: UUID().uuidString.lowercased(), meetingId: meeting.id, meetingKind: "internal",
                                   kind: "reminder_24h", dueAt: meeting.plan.startsAt.addingTimeInterval(-86_400), sequence: 1,
                                   title: meeting.topic, startsAt: meeting.plan.startsAt, endsAt: meeting.plan.endsAt,
                                   timeZone: "Asia/Shanghai", startLocal: NoticeTime.local(meeting.plan.startsAt), venue: "3 号会议室",
                                   onlinePlatform: "tencent")
        let id = UUID()
        try await publish(reminder, id: id)
        try await publish(reminder, id: id)
        func reminders(_ name: String) async throws -> [Mail] {
            try await mails(to: "rem-\(name)-\(tag)@example.com", topic: meeting.topic).filter { $0.subject.hasPrefix("会议提醒") }
        }
        let arrived = await eventually(timeout: .seconds(60)) {
            let a = (try? await reminders("a")) ?? [], b = (try? await reminders("b")) ?? []
            return !a.isEmpty && !b.isEmpty
        }
        #expect(arrived, "both reminded;\n\(stack.logTails())")
        // Room for a duplicate to show up, had the reminder been asked for twice.
        try await Task.sleep(for: .seconds(4))
        let toA = try await reminders("a"), toB = try await reminders("b")
        #expect(toA.count == 1 && toB.count == 1, "once each")
        #expect(try await reminders("c").isEmpty, "a declined attendee is not reminded")
        let asks = try await mails(to: "rem-a-\(tag)@example.com", topic: meeting.topic).filter { $0.subject.hasPrefix("请确认参会") }
        #expect(asks.count == 1, "the required attendee who has not answered is asked to")
        #expect(try await mails(to: "rem-b-\(tag)@example.com", topic: meeting.topic).filter { $0.subject.hasPrefix("请确认参会") }.isEmpty)
    }

    @Test("a rescheduled meeting sends an updated REQUEST with a higher SEQUENCE and the new join link; a cancelled one a CANCEL")
    func rescheduleAndCancel() async throws {
        let stack = try stack
        let meeting = try await meeting("改期")
        let tag = UUID().uuidString.prefix(8).lowercased()
        let address = "move-\(tag)@example.com"
        let added = try await stack.call(.post, meeting.base, token: meeting.organizer,
                                         body: AccountTests.json(["name": "移动", "email": address, "role": "optional"]))
        #expect(added.status == 201, "\(added.bodyString)")
        let invited = await eventually(timeout: .seconds(60)) { !((try? await mails(to: address, topic: meeting.topic)) ?? []).isEmpty }
        #expect(invited)

        var plan = meeting.plan
        plan.startsAt = plan.startsAt.addingTimeInterval(3600)
        plan.endsAt = plan.endsAt.addingTimeInterval(3600)
        try await publish(MeetingProvisioned(meetingId: meeting.id, sequence: 2, platform: "tencent", platformMeetingId: "t-1",
                                             meetingNumber: "123456789", joinUrl: "https://meeting.tencent.com/dm/\(tag)", password: nil))
        try await publish(MeetingUpdated(meetingId: meeting.id, sequence: 2, meeting: plan))
        var calendars: [[String]] = []
        let updated = await eventually(timeout: .seconds(60)) {
            calendars = ((try? await mails(to: address, topic: meeting.topic)) ?? []).compactMap(\.calendar).map(Self.icsLines)
            return calendars.contains { $0.contains("SEQUENCE:2") && $0.contains("URL:https://meeting.tencent.com/dm/\(tag)") }
        }
        #expect(updated, "the updated invitation with the join link arrived")
        let update = try #require(calendars.first { $0.contains("SEQUENCE:2") && $0.contains("URL:https://meeting.tencent.com/dm/\(tag)") })
        #expect(update.contains("METHOD:REQUEST"))
        #expect(update.contains { $0.hasPrefix("DTSTART;TZID=Asia/Shanghai:") })

        try await publish(MeetingCancelled(meetingId: meeting.id, kind: "internal", sequence: 3, reason: "改期"))
        let cancelled = await eventually(timeout: .seconds(60)) {
            calendars = ((try? await mails(to: address, topic: meeting.topic)) ?? []).compactMap(\.calendar).map(Self.icsLines)
            return calendars.contains { $0.contains("METHOD:CANCEL") }
        }
        #expect(cancelled, "the cancellation arrived")
        let cancel = try #require(calendars.first { $0.contains("METHOD:CANCEL") })
        #expect(cancel.contains("SEQUENCE:3") && cancel.contains("UID:\(meeting.id)@meetings.convene"))
        let refused = try await stack.call(.post, meeting.base, token: meeting.organizer,
                                           body: AccountTests.json(["name": "late", "email": "late-\(tag)@example.com"]))
        #expect(refused.status == 409, "a cancelled meeting takes no attendees")
    }

    @Test("a changed role sends an updated REQUEST with the new ROLE; a removed attendee gets a CANCEL; participants and other organizations are refused")
    func changeAndRemove() async throws {
        let stack = try stack
        let meeting = try await meeting("变更")
        let tag = UUID().uuidString.prefix(8).lowercased()
        let address = "change-\(tag)@example.com"
        let added = try await stack.call(.post, meeting.base, token: meeting.organizer,
                                         body: AccountTests.json(["name": "变更者", "email": address, "role": "可选", "department": "法务部"]))
        #expect(added.status == 201, "\(added.bodyString)")
        let attendee = try added.decode(AttendeeView.self)
        #expect(attendee.role == "optional" && attendee.invitedSequence == 1)
        let path = meeting.base + "/" + attendee.id
        let patched = try await stack.call(.patch, path, token: meeting.organizer, body: AccountTests.json(["role": "列席"]))
        #expect(patched.status == 200, "\(patched.bodyString)")
        let changed = try patched.decode(AttendeeView.self)
        #expect(changed.role == "observer" && changed.department == "法务部" && changed.email == address)
        let unknownRole = try await stack.call(.patch, path, token: meeting.organizer, body: AccountTests.json(["role": "主持人"]))
        #expect(unknownRole.status == 422 && unknownRole.problem?.code == "registration.invalid_attendee")

        var calendars: [[String]] = []
        let updated = await eventually(timeout: .seconds(60)) {
            calendars = ((try? await mails(to: address, topic: meeting.topic)) ?? []).compactMap(\.calendar).map(Self.icsLines)
            return calendars.contains { ($0.first { $0.hasPrefix("ATTENDEE") } ?? "").contains("ROLE=NON-PARTICIPANT") }
        }
        #expect(updated, "the updated invitation names the new role;\n\(stack.logTails())")

        #expect(try await stack.call(.delete, path, token: meeting.organizer).status == 204)
        #expect(try await attendees(meeting).isEmpty)
        #expect(try await stack.call(.delete, path, token: meeting.organizer).status == 404)
        let cancelled = await eventually(timeout: .seconds(60)) {
            calendars = ((try? await mails(to: address, topic: meeting.topic)) ?? []).compactMap(\.calendar).map(Self.icsLines)
            return calendars.contains { $0.contains("METHOD:CANCEL") }
        }
        #expect(cancelled, "the removed attendee's calendar entry is cancelled")

        let participant = try await stack.token(account: UUID().uuidString.lowercased(), roles: [.user])
        #expect(try await stack.call(.get, meeting.base, token: participant).status == 403)
        let other = try await stack.token(account: UUID().uuidString.lowercased(), organization: "org-other", roles: [.meetingAdmin])
        #expect(try await stack.call(.get, "/v1/organizations/org-other/meetings/\(meeting.id)/attendees", token: other).status == 404,
                "another organization's meeting is unknown")
    }

    /// A workbook as spreadsheet programs write it: shared strings, the phone as a number.
    static func workbook(_ rows: [[String]]) throws -> [UInt8] {
        var strings: [String] = []
        var sheet = ""
        for (r, row) in rows.enumerated() {
            sheet += "<row r=\"\(r + 1)\">"
            for (c, value) in row.enumerated() where !value.isEmpty {
                let ref = String(UnicodeScalar(UInt8(65 + c))) + String(r + 1)
                if value.allSatisfy(\.isNumber) {
                    sheet += "<c r=\"\(ref)\"><v>\(value)</v></c>"
                } else {
                    strings.append(value)
                    sheet += "<c r=\"\(ref)\" t=\"s\"><v>\(strings.count - 1)</v></c>"
                }
            }
            sheet += "</row>"
        }
        let ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        }
        return try SampleFiles.zip([
            ("[Content_Types].xml", "<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"/>"),
            ("xl/workbook.xml", "<workbook xmlns=\"\(ns)\"><sheets><sheet name=\"S\" sheetId=\"1\"/></sheets></workbook>"),
            ("xl/sharedStrings.xml", "<sst xmlns=\"\(ns)\">" + strings.map { "<si><t>\(escape($0))</t></si>" }.joined() + "</sst>"),
            ("xl/worksheets/sheet1.xml", "<worksheet xmlns=\"\(ns)\"><sheetData>\(sheet)</sheetData></worksheet>"),
        ])
    }
}
}

/// A start as the mails show it: the meeting's wall clock (Asia/Shanghai).
enum NoticeTime {
    static func local(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "Asia/Shanghai")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: date)
    }
}
