import Contracts
import Foundation
@testable import Gateway
import HTTPClient
import Testing
import TestSupport

extension EndToEnd {
/// The reminder before a conference, through the gateway, scheduling's durable timers,
/// registration and notification, over the real broker and database, with the services'
/// default reminder offsets (a week and a day before the start).
@Suite("Conference reminders, end to end", .serialized)
struct ConferenceReminderTests {
    var stack: GatewayStack { get throws { try #require(GatewayStack.current, "the suite trait starts the stack") } }

    @Test("a conference moved to start in a day and a few seconds reminds its confirmed registrants once, by email and in the inbox, each in their language; a withdrawn registrant gets nothing")
    func reminderReachesConfirmedRegistrants() async throws {
        let stack = try stack
        let organizer = try await stack.token(account: UUID().uuidString.lowercased(), roles: [.user, .meetingAdmin])
        let base = "/v1/organizations/\(stack.organizationId)/conferences"
        let title = "提醒测试 Reminder " + UUID().uuidString.prefix(8).lowercased()
        // Starts in 3 days: the week's reminder is already past (never planned), the day's falls due in 2 days.
        var details = ConferenceTests.details(title: title, startsIn: 3)
        details["registrationOpensAt"] = ISO8601.format(Self.wholeSeconds(Date().addingTimeInterval(-3600)))
        let created = try await stack.call(.post, base, token: organizer, body: AccountTests.json(details))
        #expect(created.status == 201, "\(created.bodyString)")
        let conference = try created.decode(ConferenceAnswer.self).id
        #expect(try await stack.call(.post, "\(base)/\(conference)/publish", token: organizer, body: "{}").status == 200)
        var configured: HTTPResponse?
        _ = await eventually(timeout: .seconds(30)) {
            configured = try? await stack.call(.put, "\(base)/\(conference)/registration-settings", token: organizer,
                                               body: AccountTests.json([
                                                   "form": RegistrationFlowTests.form, "categories": [RegistrationFlowTests.free("regular")],
                                                   "reviewRequired": false, "waitlistEnabled": false, "paymentMethods": [],
                                               ]))
            return configured?.status != 404
        }
        #expect(configured?.status == 200, "\(configured?.bodyString ?? "no answer")")

        let people = [try await participant("rem-a", locale: "en"), try await participant("rem-b", locale: "zh-CN"),
                      try await participant("rem-c", locale: "en")]
        var registrations: [String] = []
        for person in people {
            let submitted = try await stack.call(.post, "/v1/conferences/\(conference)/registrations", token: person.token,
                                                 body: AccountTests.json(["category": "regular", "answers": ["affiliation": "北京大学", "role": "attendee"],
                                                                          "consentToContact": false]))
            #expect(submitted.status == 201, "\(submitted.bodyString)")
            let registration = try submitted.decode(RegistrationView.self)
            #expect(registration.status == "confirmed")
            registrations.append(registration.id)
        }
        let withdrawn = try await stack.call(.post, "/v1/me/registrations/\(registrations[2])/withdraw", token: people[2].token, body: "{}")
        #expect(try withdrawn.decode(RegistrationView.self).status == "withdrawn")

        // The organizer moves the start to a day and 8 seconds from now: the day's reminder moves with it.
        let start = Self.wholeSeconds(Date().addingTimeInterval(86_400 + 8))
        details["startsAt"] = ISO8601.format(start)
        details["endsAt"] = ISO8601.format(start.addingTimeInterval(2 * 86_400))
        details["registrationClosesAt"] = ISO8601.format(start)
        let moved = try await stack.call(.put, "\(base)/\(conference)", token: organizer, body: AccountTests.json(details))
        #expect(moved.status == 200, "\(moved.bodyString)")

        let arrived = await eventually(timeout: .seconds(90)) {
            let a = await reminders(to: people[0].email, title: title), b = await reminders(to: people[1].email, title: title)
            return a.count >= 1 && b.count >= 1
        }
        #expect(arrived, "both confirmed registrants were reminded;\n\(stack.logTails())")
        // Room for a duplicate to show up, had anything fired or been asked for twice.
        try await Task.sleep(for: .seconds(4))
        let toA = await reminders(to: people[0].email, title: title)
        let toB = await reminders(to: people[1].email, title: title)
        #expect(toA == ["Reminder: \(title) starts \(Self.local(start)) (Asia/Shanghai)"], "once, in English")
        #expect(toB == ["会议提醒：\(title)将于\(Self.local(start))（Asia/Shanghai）开始"], "once, in Chinese")
        #expect(await reminders(to: people[2].email, title: title).isEmpty, "a withdrawn registrant is not reminded")

        for (index, person) in people.enumerated() {
            let inbox = try await stack.call(.get, "/v1/me/inbox?limit=50", token: person.token).decode(InboxPage.self).items
            let items = inbox.filter { $0.category == "conference.reminder" && $0.title.contains(title) }
            #expect(items.count == (index < 2 ? 1 : 0), "inbox of participant \(index)")
        }
    }

    struct Person {
        var token: String
        var email: String
    }

    func participant(_ name: String, locale: String) async throws -> Person {
        let email = "\(name)-\(UUID().uuidString.prefix(8).lowercased())@example.org"
        let token = try await stack.tokens.issue(accountId: UUID().uuidString.lowercased(), organizationId: nil, roles: [.participant],
                                                 email: email, locale: locale)
        return Person(token: token, email: email)
    }

    static func wholeSeconds(_ date: Date) -> Date { Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded()) }

    static func local(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "Asia/Shanghai")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: date)
    }

    /// The decoded subjects of the reminders about `title` the test SMTP server received for `address`.
    func reminders(to address: String, title: String) async -> [String] {
        guard let maildir = try? TestStack.environment("CONVENE_MAILDIR") else { return [] }
        var subjects: [String] = []
        for folder in ["new", "cur"] {
            let path = maildir + "/" + folder
            for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
                guard let data = FileManager.default.contents(atPath: path + "/" + name) else { continue }
                let mail = String(decoding: data, as: UTF8.self)
                guard mail.contains(address), let subject = Self.subject(of: mail), subject.contains(title),
                      subject.hasPrefix("Reminder:") || subject.hasPrefix("会议提醒") else { continue }
                subjects.append(subject)
            }
        }
        return subjects
    }

    /// The Subject header, unfolded, its RFC 2047 encoded words decoded.
    static func subject(of mail: String) -> String? {
        let lines = mail.components(separatedBy: "\r\n").flatMap { $0.components(separatedBy: "\n") }
        guard let first = lines.firstIndex(where: { $0.hasPrefix("Subject:") }) else { return nil }
        var raw = String(lines[first].dropFirst("Subject:".count))
        for line in lines[(first + 1)...] {
            guard line.first == " " || line.first == "\t" else { break }
            raw += line
        }
        let word = /=\?UTF-8\?B\?([A-Za-z0-9+\/=]*)\?=/
        let words = raw.matches(of: word)
        guard !words.isEmpty else { return raw.trimmingCharacters(in: .whitespaces) }
        let bytes = words.flatMap { Data(base64Encoded: String($0.output.1)).map(Array.init) ?? [] }
        return String(decoding: bytes, as: UTF8.self)
    }
}
}
