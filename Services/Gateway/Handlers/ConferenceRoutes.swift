import Contracts
import Foundation
import Hummingbird

/// Conferences: organizers (meeting admins and administrators of the organization) draft, edit,
/// publish and cancel them; anyone reads the published ones, with times also shown in the
/// viewer's time zone (`?tz=Europe/Berlin`, default the conference's own).
struct ConferenceRoutes {
    let service: ServiceClient

    struct DetailsBody: JSONRequestBody {
        var title: String
        var description: String?
        var startsAt: Date
        var endsAt: Date
        var timeZone: String
        var venue: String?
        var onlinePlatform: String?
        var registrationOpensAt: Date
        var registrationClosesAt: Date
        var languages: [String]
        var contactEmail: String
        var contactPhone: String?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case title, description, startsAt, endsAt, timeZone, venue, onlinePlatform, registrationOpensAt,
                 registrationClosesAt, languages, contactEmail, contactPhone
        }
        typealias Fields = CodingKeys

        var details: ConferenceDetails {
            ConferenceDetails(title: title, description: description, startsAt: startsAt, endsAt: endsAt, timeZone: timeZone,
                              venue: venue, onlinePlatform: onlinePlatform, registrationOpensAt: registrationOpensAt,
                              registrationClosesAt: registrationClosesAt, languages: languages, contactEmail: contactEmail,
                              contactPhone: contactPhone)
        }
    }

    struct CancelBody: JSONRequestBody {
        var reason: String
        enum CodingKeys: String, CodingKey, CaseIterable { case reason }
        typealias Fields = CodingKeys
    }

    /// Published conferences, for anyone.
    func registerPublic(on router: Router<GatewayRequestContext>) {
        router.get("v1/conferences") { request, context -> Response in
            let query = QueryParameters(request)
            let zone = try Self.viewerZone(query)
            let page = try await service.call(ListConferences(limit: try query.int("limit", default: 20, in: 1...100),
                                                              after: try query.string("after")),
                                              as: ConferencePage.self, organizationId: nil, context: context)
            return try JSONResponse.make(Page(items: page.items.map { ConferenceAnswer($0, viewerZone: zone) }, next: page.next))
        }
        router.get("v1/conferences/:id") { request, context -> Response in
            let zone = try Self.viewerZone(QueryParameters(request))
            let id = try context.resourceId("id", kind: "conference")
            let view = try await service.call(GetConference(id: id), as: ConferenceView.self, organizationId: nil, context: context)
            return try JSONResponse.make(ConferenceAnswer(view, viewerZone: zone))
        }
    }

    /// The organization's conferences, drafts included, for its organizers.
    func register(on routes: RouterGroup<GatewayRequestContext>) {
        routes.get("organizations/:org/conferences") { request, context -> Response in
            let organizationId = try context.organizerOrganization(.conferencesRead)
            let query = QueryParameters(request)
            let zone = try Self.viewerZone(query)
            let page = try await service.call(ListConferences(limit: try query.int("limit", default: 20, in: 1...100),
                                                              after: try query.string("after")),
                                              as: ConferencePage.self, organizationId: organizationId, context: context)
            return try JSONResponse.make(Page(items: page.items.map { ConferenceAnswer($0, viewerZone: zone) }, next: page.next))
        }
        routes.post("organizations/:org/conferences") { request, context -> Response in
            let organizationId = try context.organizerOrganization(.conferencesWrite)
            let principal = try context.caller()
            let body = try await JSONBody.decode(DetailsBody.self, from: request)
            let view = try await service.call(CreateConference(details: body.details, createdBy: principal.accountId),
                                              as: ConferenceView.self, organizationId: organizationId, context: context)
            return try JSONResponse.make(ConferenceAnswer(view, viewerZone: nil), status: .created, headers: [
                .location: "/v1/organizations/\(organizationId.pathEscaped)/conferences/\(view.id)"])
        }
        routes.get("organizations/:org/conferences/:id") { request, context -> Response in
            let organizationId = try context.organizerOrganization(.conferencesRead)
            let zone = try Self.viewerZone(QueryParameters(request))
            let id = try context.resourceId("id", kind: "conference")
            let view = try await service.call(GetConference(id: id), as: ConferenceView.self, organizationId: organizationId,
                                              context: context)
            return try JSONResponse.make(ConferenceAnswer(view, viewerZone: zone))
        }
        routes.put("organizations/:org/conferences/:id") { request, context -> Response in
            let organizationId = try context.organizerOrganization(.conferencesWrite)
            let id = try context.resourceId("id", kind: "conference")
            let body = try await JSONBody.decode(DetailsBody.self, from: request)
            let view = try await service.call(UpdateConference(id: id, details: body.details), as: ConferenceView.self,
                                              organizationId: organizationId, context: context)
            return try JSONResponse.make(ConferenceAnswer(view, viewerZone: nil))
        }
        routes.post("organizations/:org/conferences/:id/publish") { _, context -> Response in
            let organizationId = try context.organizerOrganization(.conferencesWrite)
            let id = try context.resourceId("id", kind: "conference")
            let view = try await service.call(PublishConference(id: id), as: ConferenceView.self,
                                              organizationId: organizationId, context: context)
            return try JSONResponse.make(ConferenceAnswer(view, viewerZone: nil))
        }
        routes.post("organizations/:org/conferences/:id/cancel") { request, context -> Response in
            let organizationId = try context.organizerOrganization(.conferencesWrite)
            let id = try context.resourceId("id", kind: "conference")
            let body = try await JSONBody.decode(CancelBody.self, from: request)
            let view = try await service.call(CancelConference(id: id, reason: body.reason), as: ConferenceView.self,
                                              organizationId: organizationId, context: context)
            return try JSONResponse.make(ConferenceAnswer(view, viewerZone: nil))
        }
    }

    static func viewerZone(_ query: QueryParameters) throws(Problem) -> TimeZone? {
        guard let name = try query.string("tz", maxLength: 64) else { return nil }
        guard let zone = TimeZone(identifier: name) else { throw Problem.invalidQuery("tz must be an IANA time zone such as Asia/Shanghai") }
        return zone
    }

    struct Page: Codable, Sendable {
        var items: [ConferenceAnswer]
        var next: String?
    }
}

/// A conference as the API shows it: the service's view plus its times as wall-clock times with
/// offsets, in the conference's zone and in the viewer's.
struct ConferenceAnswer: Codable, Sendable {
    struct LocalTimes: Codable, Sendable, Equatable {
        var timeZone: String
        var startsAt: String
        var endsAt: String
        var registrationOpensAt: String
        var registrationClosesAt: String
    }

    var id: String
    var organizationId: String
    var status: String
    var details: ConferenceDetails
    var sequence: Int
    var createdAt: Date
    var publishedAt: Date?
    var cancelledAt: Date?
    var cancelReason: String?
    /// In the conference's own time zone.
    var local: LocalTimes
    /// In the zone the viewer asked for with `?tz=`.
    var viewer: LocalTimes?

    init(_ view: ConferenceView, viewerZone: TimeZone?) {
        id = view.id
        organizationId = view.organizationId
        status = view.status
        details = view.details
        sequence = view.sequence
        createdAt = view.createdAt
        publishedAt = view.publishedAt
        cancelledAt = view.cancelledAt
        cancelReason = view.cancelReason
        let own = TimeZone(identifier: view.details.timeZone) ?? .gmt
        local = Self.times(view.details, in: own)
        viewer = viewerZone.map { Self.times(view.details, in: $0) }
    }

    static func times(_ details: ConferenceDetails, in zone: TimeZone) -> LocalTimes {
        LocalTimes(timeZone: zone.identifier, startsAt: wallClock(details.startsAt, zone), endsAt: wallClock(details.endsAt, zone),
                   registrationOpensAt: wallClock(details.registrationOpensAt, zone),
                   registrationClosesAt: wallClock(details.registrationClosesAt, zone))
    }

    /// `2026-12-01T09:00:00+08:00`
    static func wallClock(_ date: Date, _ zone: TimeZone) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = zone
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}

extension GatewayRequestContext {
    /// The `{org}` of an organizer route: a meeting admin or an administrator of that
    /// organization, or a system admin (404 for another organization, 403 without the role);
    /// or an API key of that organization holding `scope` (403 `gateway.insufficient_scope`
    /// without it).
    func organizerOrganization(_ scope: APIKeyScope) throws(Problem) -> String {
        guard let principal else { throw Problem.tokenRequired }
        let id = try organizationParameter()
        if let key = principal.apiKey {
            guard principal.organizationId == id else { throw Problem.notFound("no such organization") }
            guard key.scopes.contains(scope) else { throw Problem.insufficientScope(scope) }
            return id
        }
        if principal.roles.contains(.systemAdmin) { return id }
        guard principal.organizationId == id else { throw Problem.notFound("no such organization") }
        guard !principal.roles.isDisjoint(with: [.meetingAdmin, .orgAdmin]) else {
            throw Problem(.forbidden, code: "gateway.forbidden", detail: "only the organization's meeting admins may do this")
        }
        return id
    }
}
