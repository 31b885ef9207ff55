import Contracts
import Foundation
import Hummingbird
import Persistence

/// Enterprise meetings (internal, client, large event) for the organization's organizers (meeting
/// admins and administrators, or API keys with `meetings:read` / `meetings:write`): schedule,
/// list, read, change and cancel them, set their agenda, attach materials from uploads and download
/// them. The host is an account of the organization (the caller by default); the gateway fills in
/// the host's name, email and locale from its accounts. Times are also shown in the meeting's zone
/// and, with `?tz=`, in the viewer's.
struct MeetingRoutes {
    let service: ServiceClient
    let pool: PGPool
    /// nil without `BLOB_DIR`: materials are refused with 503.
    let vault: UploadVault?
    let uploads = UploadStore()

    struct CreateBody: JSONRequestBody {
        var type: String
        var topic: String
        var description: String?
        var startsAt: Date
        var endsAt: Date
        var timeZone: String
        var roomId: String?
        var location: String?
        var hostAccountId: String?
        var platforms: [String]?
        var recommendedPlatform: String?
        var expectedAttendees: Int?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case type, topic, description, startsAt, endsAt, timeZone, roomId, location, hostAccountId, platforms, recommendedPlatform,
                 expectedAttendees
        }
        typealias Fields = CodingKeys
    }

    /// Only the fields given change; `roomId: ""` moves the meeting out of its room.
    struct PatchBody: JSONRequestBody {
        var type: String?
        var topic: String?
        var description: String?
        var startsAt: Date?
        var endsAt: Date?
        var timeZone: String?
        var roomId: String?
        var location: String?
        var hostAccountId: String?
        var platforms: [String]?
        var recommendedPlatform: String?
        var expectedAttendees: Int?
        typealias CodingKeys = CreateBody.CodingKeys
        typealias Fields = CodingKeys
    }

    struct CancelBody: JSONRequestBody {
        var reason: String
        enum CodingKeys: String, CodingKey, CaseIterable { case reason }
        typealias Fields = CodingKeys
    }

    struct AgendaBody: JSONRequestBody {
        var items: [AgendaItem]
        enum CodingKeys: String, CodingKey, CaseIterable { case items }
        typealias Fields = CodingKeys
    }

    struct MaterialBody: JSONRequestBody {
        var uploadId: String
        var name: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case uploadId, name }
        typealias Fields = CodingKeys
    }

    func register(on routes: RouterGroup<GatewayRequestContext>) {
        routes.get("organizations/:org/meetings") { request, context -> Response in
            let organizationId = try context.organizerOrganization(.meetingsRead)
            let query = QueryParameters(request)
            let zone = try ConferenceRoutes.viewerZone(query)
            let page = try await service.call(ListMeetings(limit: try query.int("limit", default: 20, in: 1...100),
                                                           after: try query.string("after")),
                                              as: MeetingPage.self, organizationId: organizationId, context: context)
            return try JSONResponse.make(Page(items: page.items.map { MeetingAnswer($0, viewerZone: zone) }, next: page.next))
        }
        routes.post("organizations/:org/meetings") { request, context -> Response in
            let organizationId = try context.organizerOrganization(.meetingsWrite)
            let principal = try context.caller()
            let body = try await JSONBody.decode(CreateBody.self, from: request)
            let host = try await host(body.hostAccountId, caller: principal, organizationId: organizationId)
            let plan = MeetingPlan(type: body.type, topic: body.topic, description: body.description, startsAt: body.startsAt,
                                   endsAt: body.endsAt, timeZone: body.timeZone, roomId: body.roomId, location: body.location,
                                   host: host, platforms: body.platforms ?? [], recommendedPlatform: body.recommendedPlatform)
            let view = try await service.call(CreateMeeting(plan: plan, expectedAttendees: body.expectedAttendees,
                                                            createdBy: principal.accountId),
                                              as: MeetingView.self, organizationId: organizationId, context: context)
            return try JSONResponse.make(MeetingAnswer(view, viewerZone: nil), status: .created, headers: [
                .location: "/v1/organizations/\(organizationId.pathEscaped)/meetings/\(view.id)"])
        }
        routes.get("organizations/:org/meetings/:meetingId") { request, context -> Response in
            let organizationId = try context.organizerOrganization(.meetingsRead)
            let zone = try ConferenceRoutes.viewerZone(QueryParameters(request))
            let view = try await meeting(context, organizationId: organizationId)
            return try JSONResponse.make(MeetingAnswer(view, viewerZone: zone))
        }
        routes.patch("organizations/:org/meetings/:meetingId") { request, context -> Response in
            let organizationId = try context.organizerOrganization(.meetingsWrite)
            let principal = try context.caller()
            let body = try await JSONBody.decode(PatchBody.self, from: request)
            let current = try await meeting(context, organizationId: organizationId)
            var plan = current.plan
            if let type = body.type { plan.type = type }
            if let topic = body.topic { plan.topic = topic }
            if let description = body.description { plan.description = description.isEmpty ? nil : description }
            if let startsAt = body.startsAt { plan.startsAt = startsAt }
            if let endsAt = body.endsAt { plan.endsAt = endsAt }
            if let timeZone = body.timeZone { plan.timeZone = timeZone }
            if let roomId = body.roomId {
                plan.roomId = roomId.isEmpty ? nil : roomId
                // The room's name stood for the place: the new room (or the body's location) names it now.
                if body.location == nil { plan.location = nil }
            }
            if let location = body.location { plan.location = location.isEmpty ? nil : location }
            if let platforms = body.platforms {
                plan.platforms = platforms
                if let recommended = plan.recommendedPlatform, !platforms.contains(recommended) { plan.recommendedPlatform = nil }
            }
            if let recommended = body.recommendedPlatform { plan.recommendedPlatform = recommended.isEmpty ? nil : recommended }
            if let hostAccountId = body.hostAccountId {
                plan.host = try await host(hostAccountId, caller: principal, organizationId: organizationId)
            }
            // Read, merged, written back only if nobody changed it in between (409 otherwise).
            let view = try await service.call(UpdateMeeting(id: current.id, plan: plan,
                                                            expectedAttendees: body.expectedAttendees ?? current.expectedAttendees,
                                                            expectedSequence: current.sequence),
                                              as: MeetingView.self, organizationId: organizationId, context: context)
            return try JSONResponse.make(MeetingAnswer(view, viewerZone: nil))
        }
        routes.post("organizations/:org/meetings/:meetingId/cancel") { request, context -> Response in
            let organizationId = try context.organizerOrganization(.meetingsWrite)
            let id = try context.resourceId("meetingId", kind: "meeting")
            let body = try await JSONBody.decode(CancelBody.self, from: request)
            let view = try await service.call(CancelMeeting(id: id, reason: body.reason), as: MeetingView.self,
                                              organizationId: organizationId, context: context)
            return try JSONResponse.make(MeetingAnswer(view, viewerZone: nil))
        }
        routes.put("organizations/:org/meetings/:meetingId/agenda") { request, context -> Response in
            let organizationId = try context.organizerOrganization(.meetingsWrite)
            let id = try context.resourceId("meetingId", kind: "meeting")
            let body = try await JSONBody.decode(AgendaBody.self, from: request)
            let view = try await service.call(SetAgenda(meetingId: id, items: body.items), as: MeetingView.self,
                                              organizationId: organizationId, context: context)
            return try JSONResponse.make(MeetingAnswer(view, viewerZone: nil))
        }
        routes.post("organizations/:org/meetings/:meetingId/materials") { request, context -> Response in
            let organizationId = try context.organizerOrganization(.meetingsWrite)
            let principal = try context.caller()
            let id = try context.resourceId("meetingId", kind: "meeting")
            let body = try await JSONBody.decode(MaterialBody.self, from: request)
            let vault = try requireVault()
            // One of the caller's own uploads, never an identity document.
            guard let uploadId = UUID(uuidString: body.uploadId),
                  let upload = try await pool.withoutTransaction({ tx in
                      try await uploads.find(id: uploadId, owner: principal.accountId, in: tx)
                  }), !upload.sensitive
            else {
                throw Problem(ConveneError(code: "scheduling.invalid_material", message: "uploadId: not one of your uploads",
                                           details: ["uploadId": "invalid_file_reference: one of your own uploads (POST /v1/uploads)"]))
            }
            let name = try body.name.map { UploadFileName.sanitize($0, type: upload.contentType) } ?? vault.fileName(of: upload)
            let material = try await service.call(
                AddMaterial(meetingId: id, name: name, contentType: upload.contentType.mediaType, size: upload.size,
                            blobKey: upload.blobKey, addedBy: principal.accountId),
                as: MeetingMaterial.self, organizationId: organizationId, context: context)
            let path = "/v1/organizations/\(organizationId.pathEscaped)/meetings/\(id)/materials/\(material.id)"
            return try JSONResponse.make(MaterialAnswer(material, path: path), status: .created, headers: [.location: path])
        }
        routes.get("organizations/:org/meetings/:meetingId/materials/:material") { _, context -> Response in
            let organizationId = try context.organizerOrganization(.meetingsRead)
            let vault = try requireVault()
            let materialId = try context.resourceId("material", kind: "material")
            let view = try await meeting(context, organizationId: organizationId)
            guard let material = view.materials.first(where: { $0.id == materialId }), BlobStore.isValidKey(material.blobKey),
                  let record = try await pool.withoutTransaction({ tx in try await uploads.find(blobKey: material.blobKey, in: tx) }),
                  !record.sensitive
            else { throw Problem.notFound("no such material") }
            let bytes = try await vault.read(record)
            return Response(status: .ok, headers: [
                .contentType: record.contentType.contentTypeHeader,
                .contentDisposition: DownloadDisposition.attachment(fileName: UploadFileName.sanitize(material.name, type: record.contentType)),
                .xContentTypeOptions: "nosniff",
                .cacheControl: "private, no-store",
            ], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }

    private func meeting(_ context: GatewayRequestContext, organizationId: String) async throws -> MeetingView {
        let id = try context.resourceId("meetingId", kind: "meeting")
        return try await service.call(GetMeeting(id: id), as: MeetingView.self, organizationId: organizationId, context: context)
    }

    private func requireVault() throws -> UploadVault {
        guard let vault else {
            throw Problem(.serviceUnavailable, code: "gateway.uploads_unavailable", detail: "uploads are not configured here (BLOB_DIR)")
        }
        return vault
    }

    /// The meeting's host: the account named (a member of the organization), or the caller.
    private func host(_ accountId: String?, caller: Principal, organizationId: String) async throws -> MeetingHost {
        let invalid = { (detail: String) in
            Problem(ConveneError(code: "scheduling.invalid_meeting", message: "hostAccountId: \(detail)",
                                 details: ["hostAccountId": detail]))
        }
        let wanted = accountId ?? (caller.apiKey == nil ? caller.accountId : nil)
        guard let wanted else { throw invalid("required when an API key schedules the meeting") }
        guard let id = UUID(uuidString: wanted) else { throw invalid("an account of the organization") }
        let record = try await pool.withoutTransaction { tx -> AccountRecord? in
            guard let account = try await AccountStore().find(id: id, in: tx) else { return nil }
            // The caller acts in the organization (its token says so); anyone else must be a member.
            if wanted == caller.accountId && caller.apiKey == nil { return account }
            let member = try await tx.query("SELECT 1 FROM memberships WHERE organization_id = $1 AND account_id = $2",
                                            [organizationId, id]).first != nil
            return member ? account : nil
        }
        guard let record else { throw invalid("an account of the organization") }
        return MeetingHost(accountId: record.id.uuidString.lowercased(), name: record.name, email: record.email, locale: record.locale)
    }

    struct Page: Codable, Sendable {
        var items: [MeetingAnswer]
        var next: String?
    }
}

/// A material as the API shows it: no blob key, a download path.
struct MaterialAnswer: Codable, Sendable, Equatable {
    var id: String
    var name: String
    var contentType: String
    var size: Int64
    var addedBy: String
    var addedAt: Date
    var download: String

    init(_ material: MeetingMaterial, path: String) {
        id = material.id
        name = material.name
        contentType = material.contentType
        size = material.size
        addedBy = material.addedBy
        addedAt = material.addedAt
        download = path
    }
}

/// A meeting as the API shows it: the service's view, materials with their download paths, and
/// its times (and its agenda's) as wall-clock times with offsets in the meeting's zone and in the viewer's.
struct MeetingAnswer: Codable, Sendable {
    struct Span: Codable, Sendable, Equatable {
        var startsAt: String
        var endsAt: String
    }

    struct LocalTimes: Codable, Sendable, Equatable {
        var timeZone: String
        var startsAt: String
        var endsAt: String
        var agenda: [Span]
    }

    var id: String
    var organizationId: String
    var status: String
    var plan: MeetingPlan
    var expectedAttendees: Int?
    var sequence: Int
    var agenda: [AgendaItem]
    var materials: [MaterialAnswer]
    var joinLinks: [MeetingJoinLink]
    var provisioningFailures: [MeetingProvisioningFailure]
    var createdBy: String
    var createdAt: Date
    var startedAt: Date?
    var endedAt: Date?
    var cancelledAt: Date?
    var cancelReason: String?
    var local: LocalTimes
    var viewer: LocalTimes?

    init(_ view: MeetingView, viewerZone: TimeZone?) {
        id = view.id
        organizationId = view.organizationId
        status = view.status
        plan = view.plan
        expectedAttendees = view.expectedAttendees
        sequence = view.sequence
        agenda = view.agenda
        let base = "/v1/organizations/\(view.organizationId.pathEscaped)/meetings/\(view.id)/materials/"
        materials = view.materials.map { MaterialAnswer($0, path: base + $0.id) }
        joinLinks = view.joinLinks
        provisioningFailures = view.provisioningFailures
        createdBy = view.createdBy
        createdAt = view.createdAt
        startedAt = view.startedAt
        endedAt = view.endedAt
        cancelledAt = view.cancelledAt
        cancelReason = view.cancelReason
        local = Self.times(view, in: TimeZone(identifier: view.plan.timeZone) ?? .gmt)
        viewer = viewerZone.map { Self.times(view, in: $0) }
    }

    static func times(_ view: MeetingView, in zone: TimeZone) -> LocalTimes {
        let clock = { (date: Date) in ConferenceAnswer.wallClock(date, zone) }
        return LocalTimes(timeZone: zone.identifier, startsAt: clock(view.plan.startsAt), endsAt: clock(view.plan.endsAt),
                          agenda: view.agenda.map { Span(startsAt: clock($0.startsAt), endsAt: clock($0.endsAt)) })
    }
}
