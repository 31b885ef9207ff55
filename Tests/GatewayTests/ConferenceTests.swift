import Contracts
import Foundation
@testable import Gateway
import HTTPClient
import Messaging
import Testing
import TestSupport

extension EndToEnd {
/// Conferences through the gateway and `scheduling`, over the test stack's broker and database.
@Suite("Conferences, end to end", .serialized)
struct ConferenceTests {
    var stack: GatewayStack { get throws { try #require(GatewayStack.current, "the suite trait starts the stack") } }

    static func details(title: String = "第十届全国计算语言学学术会议", startsIn days: Double = 40) -> [String: Any] {
        let start = Date().addingTimeInterval(days * 86400).timeIntervalSince1970.rounded()
        func iso(_ seconds: Double) -> String { ISO8601.format(Date(timeIntervalSince1970: seconds)) }
        return [
            "title": title, "description": "Call for participation", "startsAt": iso(start), "endsAt": iso(start + 2 * 86400),
            "timeZone": "Asia/Shanghai", "venue": "北京国际会议中心", "registrationOpensAt": iso(start - 30 * 86400),
            "registrationClosesAt": iso(start - 86400), "languages": ["zh-CN", "en"], "contactEmail": "ccl@example.org",
        ]
    }

    @Test("an organizer drafts, publishes and cancels a conference; participants see it once published, in their own zone; scheduling.meeting_scheduled is emitted")
    func lifecycle() async throws {
        let stack = try stack
        let organizer = try await stack.token(account: UUID().uuidString.lowercased(), roles: [.user, .meetingAdmin])
        let base = "/v1/organizations/\(stack.organizationId)/conferences"

        // Listen for the published events of this organization.
        let events = try await EventProbe.start(bindings: ["scheduling.meeting_scheduled", "scheduling.meeting_cancelled"])

        let created = try await stack.call(.post, base, token: organizer, body: AccountTests.json(Self.details()))
        #expect(created.status == 201)
        let draft = try created.decode(ConferenceAnswer.self)
        #expect(draft.status == "draft" && draft.sequence == 0)
        #expect(draft.local.timeZone == "Asia/Shanghai" && draft.local.startsAt.hasSuffix("+08:00"))

        #expect(try await stack.call(.get, "/v1/conferences/\(draft.id)").status == 404, "a draft is not public")

        var changed = Self.details(title: "第十届全国计算语言学学术会议(CCL 2026)")
        changed["languages"] = ["zh-CN"]
        let updated = try await stack.call(.put, "\(base)/\(draft.id)", token: organizer, body: AccountTests.json(changed))
        #expect(updated.status == 200)
        #expect(try updated.decode(ConferenceAnswer.self).sequence == 1)

        let published = try await stack.call(.post, "\(base)/\(draft.id)/publish", token: organizer, body: "{}")
        #expect(published.status == 200)
        #expect(try published.decode(ConferenceAnswer.self).status == "published")
        let again = try await stack.call(.post, "\(base)/\(draft.id)/publish", token: organizer, body: "{}")
        #expect(again.status == 409)
        #expect(again.problem?.code == "scheduling.invalid_state")

        let seen = try await stack.call(.get, "/v1/conferences/\(draft.id)?tz=America/New_York")
        #expect(seen.status == 200)
        let answer = try seen.decode(ConferenceAnswer.self)
        #expect(answer.details.title == "第十届全国计算语言学学术会议(CCL 2026)")
        let viewer = try #require(answer.viewer)
        #expect(viewer.timeZone == "America/New_York")
        #expect(viewer.startsAt.hasSuffix("-05:00") || viewer.startsAt.hasSuffix("-04:00"))
        // The same instant in both zones: 13 (or 12) hours apart on the wall clock.
        #expect(ISO8601DateFormatter().date(from: viewer.startsAt) == ISO8601DateFormatter().date(from: answer.local.startsAt))
        #expect(try await stack.call(.get, "/v1/conferences/\(draft.id)?tz=Mars/Olympus").status == 422)

        let scheduled = try await events.next(type: "scheduling.meeting_scheduled", organizationId: stack.organizationId, about: draft.id)
        let payload = try ConveneJSON.decode(Envelope<MeetingScheduled>.self, from: scheduled)
        #expect(payload.data.meetingId == draft.id && payload.data.kind == "conference" && payload.data.sequence == 2)

        let cancelled = try await stack.call(.post, "\(base)/\(draft.id)/cancel", token: organizer,
                                             body: AccountTests.json(["reason": "场地不可用"]))
        #expect(cancelled.status == 200)
        #expect(try cancelled.decode(ConferenceAnswer.self).cancelReason == "场地不可用")
        let cancelEvent = try await events.next(type: "scheduling.meeting_cancelled", organizationId: stack.organizationId,
                                                about: draft.id)
        #expect(try ConveneJSON.decode(Envelope<MeetingCancelled>.self, from: cancelEvent).data.meetingId == draft.id)
        #expect(try await stack.call(.put, "\(base)/\(draft.id)", token: organizer, body: AccountTests.json(Self.details())).status == 409)
        await events.stop()
    }

    @Test("invalid details are refused field by field; participants and other organizations cannot organize")
    func refusals() async throws {
        let stack = try stack
        let organizer = try await stack.token(account: UUID().uuidString.lowercased(), roles: [.user, .meetingAdmin])
        let base = "/v1/organizations/\(stack.organizationId)/conferences"
        var bad = Self.details()
        bad["timeZone"] = "Beijing"
        bad["endsAt"] = bad["startsAt"]
        bad["languages"] = []
        let refused = try await stack.call(.post, base, token: organizer, body: AccountTests.json(bad))
        #expect(refused.status == 422)
        #expect(refused.problem?.code == "scheduling.invalid_conference")
        #expect(Set(refused.problem?.errors?.map(\.field) ?? []) == ["timeZone", "endsAt", "languages"])

        let participant = try await stack.token(account: UUID().uuidString.lowercased(), roles: [.participant, .user])
        #expect(try await stack.call(.post, base, token: participant, body: AccountTests.json(Self.details())).status == 403)
        let outsider = try await stack.token(account: UUID().uuidString.lowercased(), organization: "other-org", roles: [.meetingAdmin])
        #expect(try await stack.call(.post, base, token: outsider, body: AccountTests.json(Self.details())).status == 404)

        let created = try await stack.call(.post, base, token: organizer, body: AccountTests.json(Self.details()))
        let id = try created.decode(ConferenceAnswer.self).id
        let otherBase = "/v1/organizations/other-org/conferences"
        #expect(try await stack.call(.get, "\(otherBase)/\(id)", token: outsider).status == 404,
                "another organization's conference is not found, even by id")
    }
}
}

/// A private queue bound to some event types, for checking what the services emit.
struct EventProbe: Sendable {
    let probe: QueueProbe

    static func start(bindings: [String]) async throws -> EventProbe {
        let queue = "probe-" + UUID().uuidString.prefix(8).lowercased()
        let declaration = QueueDeclaration(name: queue, durable: false, exclusive: true, autoDelete: true)
        // The queue is declared with the topology so that the bindings find it.
        let topology = Topology.exchanges + Topology(queues: [declaration], bindings: bindings.map {
            Binding(queue: queue, exchange: Exchange.events, routingKey: $0)
        })
        let probe = try QueueProbe(queue: declaration, topology: topology)
        guard await probe.ready() else { throw GatewayStack.Failure("the event probe never started consuming") }
        return EventProbe(probe: probe)
    }

    /// The body of the first event of `type` for the organization about `subject` (an id its data
    /// holds), waiting up to 30 s. Other suites' events of the same organization pass by.
    func next(type: String, organizationId: String, about subject: String) async throws -> [UInt8] {
        var found: [UInt8]?
        _ = await eventually(timeout: .seconds(30)) {
            found = probe.deliveries.first { delivery in
                guard let envelope = try? ConveneJSON.decode(Envelope<JSONValue>.self, from: delivery.body) else { return false }
                return envelope.type == type && envelope.organizationId == organizationId
                    && String(decoding: delivery.body, as: UTF8.self).contains(subject)
            }?.body
            return found != nil
        }
        return try #require(found, "no \(type) for \(organizationId) within 30 s")
    }

    func stop() async { await probe.close() }
}
