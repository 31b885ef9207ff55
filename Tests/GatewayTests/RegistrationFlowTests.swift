import Contracts
import Foundation
@testable import Gateway
import HTTPClient
import Testing
import TestSupport

extension EndToEnd {
/// Conference registration through the gateway, scheduling and registration, over the real
/// broker and database.
@Suite("Conference registration, end to end", .serialized)
struct RegistrationFlowTests {
    var stack: GatewayStack { get throws { try #require(GatewayStack.current, "the suite trait starts the stack") } }

    static var form: [String: Any] { ["fields": [
        ["key": "affiliation", "type": "text", "label": ["zh-CN": "单位", "en": "Affiliation"], "required": true],
        ["key": "role", "type": "singleChoice", "label": ["en": "Role"], "required": true,
         "options": [["value": "attendee", "label": ["en": "Attendee"]], ["value": "speaker", "label": ["en": "Speaker"]]]],
        ["key": "talkTitle", "type": "text", "label": ["en": "Talk title"], "required": true,
         "showIf": ["field": "role", "equals": ["speaker"]]],
        ["key": "country", "type": "country", "label": ["en": "Country"]],
    ]] }

    /// A published conference whose registration is open now, configured with `settings`.
    func conference(organizer: String, organization: String? = nil, settings: [String: Any]) async throws -> String {
        let stack = try stack
        let organization = organization ?? stack.organizationId
        var details = ConferenceTests.details()
        details["registrationOpensAt"] = ISO8601.format(Date().addingTimeInterval(-3600))
        let created = try await stack.call(.post, "/v1/organizations/\(organization)/conferences", token: organizer,
                                           body: AccountTests.json(details))
        #expect(created.status == 201, "\(String(decoding: created.body, as: UTF8.self))")
        let id = try created.decode(ConferenceAnswer.self).id
        #expect(try await stack.call(.post, "/v1/organizations/\(organization)/conferences/\(id)/publish",
                                     token: organizer, body: "{}").status == 200)
        // Registration learns of the conference from scheduling's event: configure once it has.
        var configured: HTTPResponse?
        _ = await eventually(timeout: .seconds(30)) {
            configured = try? await stack.call(.put, "/v1/organizations/\(organization)/conferences/\(id)/registration-settings",
                                               token: organizer, body: AccountTests.json(settings))
            return configured?.status != 404
        }
        #expect(configured?.status == 200, "configured: \(configured.map { String(decoding: $0.body, as: UTF8.self) } ?? "no answer")")
        return id
    }

    static func free(_ key: String, capacity: Int? = nil) -> [String: Any] {
        var category: [String: Any] = ["key": key, "names": ["en": key], "fee": ["regular": ["amountMinor": 0, "currency": "CNY"]]]
        if let capacity { category["capacity"] = capacity }
        return category
    }

    func participant(_ name: String) async throws -> String {
        // A participant belongs to no organization.
        try await stack.tokens.issue(accountId: UUID().uuidString.lowercased(), organizationId: nil, roles: [.participant],
                                     email: "\(name)-\(UUID().uuidString.prefix(6).lowercased())@example.org")
    }

    func submit(_ token: String, to conference: String, category: String = "regular",
                answers: [String: Any] = ["affiliation": "北京大学", "role": "attendee"]) async throws -> HTTPResponse {
        try await stack.call(.post, "/v1/conferences/\(conference)/registrations", token: token,
                             body: AccountTests.json(["category": category, "answers": answers, "consentToContact": true]))
    }

    /// The registration answered, or a failure that shows what was answered instead.
    func view(_ response: HTTPResponse, sourceLocation: SourceLocation = #_sourceLocation) throws -> RegistrationView {
        guard (200..<300).contains(response.status) else {
            throw GatewayStack.Failure("\(response.status): \(String(decoding: response.body, as: UTF8.self))")
        }
        return try response.decode(RegistrationView.self)
    }

    @Test("free seats are confirmed until full, then waitlisted; a withdrawal offers the seat to the next in line, who accepts it")
    func capacityAndWaitlist() async throws {
        let stack = try stack
        let organizer = try await stack.token(account: UUID().uuidString.lowercased(), roles: [.user, .meetingAdmin])
        let conference = try await conference(organizer: organizer, settings: [
            "form": Self.form, "categories": [Self.free("regular", capacity: 2)], "reviewRequired": false,
            "waitlistEnabled": true, "offerValidityHours": 24, "paymentMethods": [],
        ])
        let form = try await stack.call(.get, "/v1/conferences/\(conference)/registration-form")
        #expect(form.status == 200)
        #expect(try form.decode(RegistrationForm.self).open)

        let (a, b, c) = (try await participant("a"), try await participant("b"), try await participant("c"))
        let first = try await submit(a, to: conference)
        #expect(first.status == 201)
        let registrationA = try view(first)
        #expect(registrationA.status == "confirmed")
        #expect(try await submit(a, to: conference).status == 409, "one registration per account")
        #expect(try view(try await submit(b, to: conference)).status == "confirmed")
        let waiting = try view(try await submit(c, to: conference))
        #expect(waiting.status == "waitlisted" && waiting.waitlistPosition == 1)

        // Nobody else sees or touches A's registration.
        #expect(try await stack.call(.get, "/v1/me/registrations/\(registrationA.id)", token: b).status == 404)
        #expect(try await stack.call(.post, "/v1/me/registrations/\(registrationA.id)/withdraw", token: b, body: "{}").status == 404)
        #expect(try await stack.call(.get, "/v1/organizations/\(stack.organizationId)/registrations/\(registrationA.id)",
                                     token: b).status == 404, "a participant is no organizer")

        let withdrawn = try await stack.call(.post, "/v1/me/registrations/\(registrationA.id)/withdraw", token: a, body: "{}")
        #expect(try view(withdrawn).status == "withdrawn")
        let offered = try view(try await stack.call(.get, "/v1/me/registrations/\(waiting.id)", token: c))
        #expect(offered.status == "offered" && offered.offerExpiresAt != nil)
        let accepted = try await stack.call(.post, "/v1/me/registrations/\(waiting.id)/accept-offer", token: c, body: "{}")
        #expect(try view(accepted).status == "confirmed")

        let listed = try await stack.call(.get, "/v1/organizations/\(stack.organizationId)/conferences/\(conference)/registrations",
                                          token: organizer).decode(ItemList<RegistrationView>.self).items
        #expect(listed.filter { $0.status == "confirmed" }.count == 2)
        let base = "/v1/organizations/\(stack.organizationId)/conferences/\(conference)/registrations"
        let firstPage = try await stack.call(.get, base + "?limit=1", token: organizer).decode(RegistrationPage.self)
        let next = try #require(firstPage.next)
        let secondPage = try await stack.call(.get, base + "?limit=1&after=\(next)", token: organizer).decode(RegistrationPage.self)
        #expect(firstPage.items.count == 1 && secondPage.items.count == 1 && firstPage.items[0].id != secondPage.items[0].id)
        #expect([firstPage.items[0].id, secondPage.items[0].id] == Array(listed.prefix(2).map(\.id)), "pages follow the full list's order")
        #expect(try await stack.call(.get, base + "?after=yesterday", token: organizer).status == 422)
        #expect(try await stack.call(.get, base + "?limit=501", token: organizer).status == 422)
        let csv = try await stack.call(.get, "/v1/organizations/\(stack.organizationId)/conferences/\(conference)/registrations.csv",
                                       token: organizer)
        #expect(csv.status == 200 && csv.header(named: "Content-Type")?.hasPrefix("text/csv") == true)
        let text = String(decoding: csv.body, as: UTF8.self)
        #expect(text.contains("单位") && text.components(separatedBy: "北京大学").count == 4)
        let people = try await stack.call(.get, "/v1/organizations/\(stack.organizationId)/participants?consent=true", token: organizer)
            .decode(ItemList<ParticipantRecord>.self).items
        #expect(Set([registrationA.accountId, waiting.accountId]).isSubset(of: Set(people.map(\.accountId))))
        #expect(people.first { $0.accountId == waiting.accountId }?.conferencesAttended == 1)
        let xlsx = try await stack.call(.get, "/v1/organizations/\(stack.organizationId)/conferences/\(conference)/registrations.xlsx",
                                        token: organizer)
        #expect(xlsx.status == 200 && xlsx.header(named: "Content-Type")?.contains("spreadsheetml") == true)
        #expect(xlsx.body.starts(with: [0x50, 0x4B, 0x03, 0x04]), "a zip archive")
        #expect(try await stack.call(.get, "/v1/organizations/\(stack.organizationId)/conferences/\(conference)/registrations.csv",
                                     token: c).status == 404, "a participant outside the organization learns nothing")
    }

    @Test("answers are checked field by field, hidden fields are dropped, and nothing is stored for a refused submission")
    func answersValidation() async throws {
        let stack = try stack
        let organizer = try await stack.token(account: UUID().uuidString.lowercased(), roles: [.user, .meetingAdmin])
        let conference = try await conference(organizer: organizer, settings: [
            "form": Self.form, "categories": [Self.free("regular")], "reviewRequired": false, "waitlistEnabled": false,
            "paymentMethods": [],
        ])
        let token = try await participant("d")
        let refused = try await submit(token, to: conference, answers: ["role": "speaker", "country": "XX", "extra": "x"])
        #expect(refused.status == 422)
        #expect(refused.problem?.code == "registration.invalid_answers")
        #expect(Set(refused.problem?.errors?.map(\.field) ?? []) == ["affiliation", "talkTitle", "country", "extra"])
        #expect(try await stack.call(.get, "/v1/me/registrations", token: token).decode(ItemList<RegistrationView>.self).items.isEmpty)

        let accepted = try await submit(token, to: conference, answers: ["affiliation": "  清华  ", "role": "attendee",
                                                                        "talkTitle": "hidden, so dropped", "country": "cn"])
        let answered = try view(accepted)
        #expect(answered.answers["talkTitle"] == nil && answered.answers["affiliation"] == .string("清华") && answered.answers["country"] == .string("CN"))
        #expect(try await submit(try await participant("e"), to: conference, category: "vip").status == 422)
    }

    @Test("with review: changes requested, the participant resubmits, staff approve and the free seat is confirmed")
    func review() async throws {
        let stack = try stack
        let organizer = try await stack.token(account: UUID().uuidString.lowercased(), roles: [.user, .meetingAdmin])
        let conference = try await conference(organizer: organizer, settings: [
            "form": Self.form, "categories": [Self.free("regular")], "reviewRequired": true, "waitlistEnabled": false,
            "paymentMethods": [],
        ])
        let token = try await participant("f")
        let pending = try view(try await submit(token, to: conference))
        #expect(pending.status == "pending_review")
        let base = "/v1/organizations/\(stack.organizationId)/registrations/\(pending.id)"
        let noComment = try await stack.call(.post, base + "/review", token: organizer, body: AccountTests.json(["decision": "request_changes"]))
        #expect(noComment.status == 422)
        let changes = try await stack.call(.post, base + "/review", token: organizer,
                                           body: AccountTests.json(["decision": "request_changes", "comment": "请填写完整单位名称"]))
        #expect(try view(changes).status == "changes_requested")
        let mine = try view(try await stack.call(.get, "/v1/me/registrations/\(pending.id)", token: token))
        #expect(mine.review?.comment == "请填写完整单位名称")
        let resubmitted = try await stack.call(.put, "/v1/me/registrations/\(pending.id)/answers", token: token,
                                               body: AccountTests.json(["answers": ["affiliation": "北京大学计算机学院", "role": "attendee"]]))
        #expect(try view(resubmitted).status == "pending_review")
        let approved = try await stack.call(.post, base + "/review", token: organizer, body: AccountTests.json(["decision": "approve"]))
        #expect(try view(approved).status == "confirmed")
        let again = try await stack.call(.post, base + "/review", token: organizer, body: AccountTests.json(["decision": "reject"]))
        #expect(again.status == 409, "a confirmed registration is not reviewed again")
    }

}
}
