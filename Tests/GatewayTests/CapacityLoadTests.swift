import Contracts
import Foundation
@testable import Gateway
import HTTPClient
import Testing
import TestSupport

extension EndToEnd {
/// Seats under load. `make test` runs this suite in its last phase: its 500 registrations send
/// a thousand events, which would crowd the suites that listen to every event.
@Suite("Registration under concurrent load", .serialized)
struct CapacityLoadTests {
    var stack: GatewayStack { get throws { try #require(GatewayStack.current, "the suite trait starts the stack") } }
    let flow = RegistrationFlowTests()

    /// The organization silences its registration mail for a load: hundreds of people's mails would
    /// only queue behind every other suite's (an organizer may switch rules off the same way).
    func setRegistrationMail(of organization: String, enabled: Bool) async throws {
        let stack = try stack
        let admin = try await stack.token(account: UUID().uuidString.lowercased(), organization: organization, roles: [.orgAdmin])
        let rules = ["submitted", "confirmed", "waitlisted", "seat-offered", "withdrawn"].map { "registration-\($0)-registrant" }
        for rule in rules {
            let switched = try await stack.call(.patch, "/v1/organizations/\(organization)/notification-rules/\(rule)",
                                                token: admin, body: AccountTests.json(["enabled": enabled]))
            #expect(switched.status == 200, "\(rule): \(switched.bodyString)")
        }
    }

    @Test("300 concurrent registrations in a category without a limit (they share the conference's lock) are all counted: a limit set afterwards admits exactly the seats left")
    func unlimitedSubmissionsAreCounted() async throws {
        let stack = try stack
        let organization = "open-" + UUID().uuidString.prefix(8).lowercased()
        let organizer = try await stack.token(account: UUID().uuidString.lowercased(), organization: organization,
                                              roles: [.user, .meetingAdmin])
        var settings: [String: Any] = [
            "form": ["fields": [["key": "affiliation", "type": "text", "label": ["en": "Affiliation"]]]],
            "categories": [RegistrationFlowTests.free("regular")], "reviewRequired": false,
            "waitlistEnabled": true, "offerValidityHours": 24, "paymentMethods": [],
        ]
        let conference = try await flow.conference(organizer: organizer, organization: organization, settings: settings)
        try await setRegistrationMail(of: organization, enabled: false)
        func register(_ token: String) async throws -> RegistrationView? {
            let response = try await stack.call(.post, "/v1/conferences/\(conference)/registrations", token: token,
                                                body: AccountTests.json(["category": "regular", "answers": [:]]))
            return response.status == 201 ? try response.decode(RegistrationView.self) : nil
        }
        var tokens: [String] = []
        for index in 0..<300 { tokens.append(try await flow.participant("open\(index)")) }
        let views = try await withThrowingTaskGroup(of: RegistrationView?.self) { group in
            for token in tokens { group.addTask { try await register(token) } }
            return try await group.reduce(into: [RegistrationView?]()) { $0.append($1) }
        }
        #expect(views.count == 300 && views.allSatisfy { $0?.status == "confirmed" }, "no limit: everyone has a seat")

        // The organizer now limits the category to 303 seats: 3 are left, then the line starts.
        settings["categories"] = [RegistrationFlowTests.free("regular", capacity: 303)]
        let limited = try await stack.call(.put, "/v1/organizations/\(organization)/conferences/\(conference)/registration-settings",
                                           token: organizer, body: AccountTests.json(settings))
        #expect(limited.status == 200, "\(limited.bodyString)")
        var later: [String] = []
        for index in 0..<5 { later.append(try await register(try await flow.participant("late\(index)"))?.status ?? "refused") }
        #expect(later == ["confirmed", "confirmed", "confirmed", "waitlisted", "waitlisted"], "\(later)")
        try await setRegistrationMail(of: organization, enabled: true)
    }

    @Test("500 concurrent registrations for 100 seats: exactly 100 hold a seat, 400 wait in line; concurrent withdrawals and acceptances never exceed the capacity")
    func noOverselling() async throws {
        let stack = try stack
        // An organization of its own: it switches organization-wide mail rules off below.
        let organization = "load-" + UUID().uuidString.prefix(8).lowercased()
        let organizer = try await stack.token(account: UUID().uuidString.lowercased(), organization: organization,
                                              roles: [.user, .meetingAdmin])
        let conference = try await flow.conference(organizer: organizer, organization: organization, settings: [
            "form": ["fields": [["key": "affiliation", "type": "text", "label": ["en": "Affiliation"]]]],
            "categories": [RegistrationFlowTests.free("regular")], "overallCapacity": 100, "reviewRequired": false,
            "waitlistEnabled": true, "offerValidityHours": 24, "paymentMethods": [],
        ])
        try await setRegistrationMail(of: organization, enabled: false)
        var tokens: [String] = []
        for index in 0..<500 { tokens.append(try await flow.participant("p\(index)")) }
        let results = try await withThrowingTaskGroup(of: (String, RegistrationView?).self) { group in
            for token in tokens {
                group.addTask {
                    let response = try await stack.call(.post, "/v1/conferences/\(conference)/registrations", token: token,
                                                        body: AccountTests.json(["category": "regular", "answers": [:]]))
                    return (token, response.status == 201 ? try response.decode(RegistrationView.self) : nil)
                }
            }
            return try await group.reduce(into: [(String, RegistrationView?)]()) { $0.append($1) }
        }
        #expect(results.allSatisfy { $0.1 != nil }, "every submission is answered with a registration")
        let views = results.compactMap { pair in pair.1.map { (token: pair.0, view: $0) } }
        #expect(views.filter { $0.view.status == "confirmed" }.count == 100)
        #expect(views.filter { $0.view.status == "waitlisted" }.count == 400)
        #expect(Set(views.compactMap(\.view.waitlistPosition)).count == 400, "distinct places in line")

        // 40 of the confirmed withdraw at once: 40 seats are offered to the first 40 in line.
        let confirmed = views.filter { $0.view.status == "confirmed" }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for entry in confirmed.prefix(40) {
                group.addTask {
                    let answer = try await stack.call(.post, "/v1/me/registrations/\(entry.view.id)/withdraw", token: entry.token, body: "{}")
                    #expect(answer.status == 200, "\(String(decoding: answer.body, as: UTF8.self))")
                }
            }
            try await group.waitForAll()
        }
        // Pages of 200 (the organizer's list is paged): every registration once, none twice.
        func statuses() async throws -> [String: Int] {
            var all: [RegistrationView] = []
            var after: String?
            repeat {
                let page = try await stack.call(
                    .get, "/v1/organizations/\(organization)/conferences/\(conference)/registrations?limit=200"
                        + (after.map { "&after=\($0)" } ?? ""), token: organizer).decode(RegistrationPage.self)
                all += page.items
                after = page.next
            } while after != nil
            #expect(all.count == 500 && Set(all.map(\.id)).count == 500)
            return Dictionary(all.map { ($0.status, 1) }, uniquingKeysWith: +)
        }
        var counts = try await statuses()
        #expect(counts["confirmed"] == 60 && counts["offered"] == 40 && counts["waitlisted"] == 360 && counts["withdrawn"] == 40)

        // The offered accept while 20 more confirmed withdraw, all at once.
        let waitingViews = views.filter { $0.view.status == "waitlisted" }
        let offered = try await withThrowingTaskGroup(of: (String, String)?.self) { group in
            for entry in waitingViews {
                group.addTask {
                    let view = try await stack.call(.get, "/v1/me/registrations/\(entry.view.id)", token: entry.token)
                        .decode(RegistrationView.self)
                    return view.status == "offered" ? (entry.token, view.id) : nil
                }
            }
            return try await group.reduce(into: [(String, String)]()) { if let pair = $1 { $0.append(pair) } }
        }
        #expect(offered.count == 40)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (token, id) in offered {
                group.addTask { _ = try await stack.call(.post, "/v1/me/registrations/\(id)/accept-offer", token: token, body: "{}") }
            }
            for entry in confirmed.dropFirst(40).prefix(20) {
                group.addTask { _ = try await stack.call(.post, "/v1/me/registrations/\(entry.view.id)/withdraw", token: entry.token, body: "{}") }
            }
            try await group.waitForAll()
        }
        counts = try await statuses()
        let holding = (counts["confirmed"] ?? 0) + (counts["offered"] ?? 0) + (counts["awaiting_payment"] ?? 0)
        #expect(holding == 100, "every freed seat is offered again, never one more: \(counts)")
        #expect(counts["confirmed"] == 80 && counts["offered"] == 20 && counts["waitlisted"] == 340)
        try await setRegistrationMail(of: organization, enabled: true)
    }
}
}
