import Contracts
import Foundation
import Hummingbird
import Persistence

/// Attendees of enterprise meetings, kept by the registration service. Organizers (meeting
/// admins and administrators of the organization, or API keys with `attendees:read` /
/// `attendees:write`) list, add, change, remove and import them; an attendee signed in with the
/// invited address sees their meetings and answers; the link in an invitation mail answers
/// without signing in (its token is the credential).
struct AttendeeRoutes {
    let service: ServiceClient
    let pool: PGPool
    let accounts = AccountStore()

    /// The largest import file (its multipart framing aside): a JSON body's limit (2 MiB) holds
    /// it with an Idempotency-Key, and the base64 of it fits a message comfortably.
    static let maximumImportBytes = 1024 * 1024

    struct AttendeeBody: JSONRequestBody {
        var name: String
        var email: String
        var phone: String?
        var department: String?
        var role: String?
        var dingtalkUserId: String?
        var locale: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case name, email, phone, department, role, dingtalkUserId, locale }
        typealias Fields = CodingKeys
    }

    struct PatchBody: JSONRequestBody {
        var name: String?
        var phone: String?
        var department: String?
        var role: String?
        var dingtalkUserId: String?
        var locale: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case name, phone, department, role, dingtalkUserId, locale }
        typealias Fields = CodingKeys
    }

    struct RSVPBody: JSONRequestBody {
        var response: String
        var comment: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case response, comment }
        typealias Fields = CodingKeys
    }

    struct TokenRSVPBody: JSONRequestBody {
        var token: String
        var response: String
        var comment: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case token, response, comment }
        typealias Fields = CodingKeys
    }

    struct SyncBody: JSONRequestBody {
        var source: String
        var departmentId: String
        var role: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case source, departmentId, role }
        typealias Fields = CodingKeys
    }

    /// The invitation mail's link: read the invitation, answer it.
    func registerPublic(on router: Router<GatewayRequestContext>) {
        router.get("v1/meeting-invitations/:attendeeId") { request, context -> Response in
            let id = try context.resourceId("attendeeId", kind: "invitation")
            let query = QueryParameters(request)
            let zone = try ConferenceRoutes.viewerZone(query)
            guard let token = try query.string("token", maxLength: 100), !token.isEmpty else {
                throw Problem(.notFound, code: "gateway.not_found", detail: "no such invitation")
            }
            let invitation = try await service.call(GetInvitation(attendeeId: id, token: token), as: InvitedMeeting.self,
                                                    organizationId: nil, context: context)
            return try JSONResponse.make(InvitedMeetingAnswer(invitation, viewerZone: zone))
        }
        router.post("v1/meeting-invitations/:attendeeId/rsvp") { request, context -> Response in
            let id = try context.resourceId("attendeeId", kind: "invitation")
            let body = try await JSONBody.decode(TokenRSVPBody.self, from: request)
            guard (1...100).contains(body.token.count) else {
                throw Problem(.notFound, code: "gateway.not_found", detail: "no such invitation")
            }
            let invitation = try await service.call(
                RespondToInvitation(attendeeId: id, token: body.token, response: body.response, comment: body.comment),
                as: InvitedMeeting.self, organizationId: nil, context: context)
            return try JSONResponse.make(InvitedMeetingAnswer(invitation, viewerZone: nil))
        }
    }

    func register(on routes: RouterGroup<GatewayRequestContext>) {
        let base = "organizations/:org/meetings/:meetingId/attendees"
        routes.get(RouterPath(base)) { request, context -> Response in
            let organizationId = try context.organizerOrganization(.attendeesRead)
            let meetingId = try context.resourceId("meetingId", kind: "meeting")
            let query = QueryParameters(request)
            return try await service.respond(
                ListAttendees(meetingId: meetingId, limit: try query.int("limit", default: 100, in: 1...500),
                              after: try query.string("after", maxLength: 64), role: try query.string("role", maxLength: 32),
                              response: try query.string("response", maxLength: 32)),
                as: AttendeePage.self, organizationId: organizationId, context: context)
        }
        routes.post(RouterPath(base)) { request, context -> Response in
            let organizationId = try context.organizerOrganization(.attendeesWrite)
            let meetingId = try context.resourceId("meetingId", kind: "meeting")
            let body = try await JSONBody.decode(AttendeeBody.self, from: request)
            let view = try await service.call(
                AddAttendee(meetingId: meetingId, attendee: AttendeeInput(
                    name: body.name, email: body.email, phone: body.phone, department: body.department, role: body.role,
                    dingtalkUserId: body.dingtalkUserId, locale: body.locale)),
                as: AttendeeView.self, organizationId: organizationId, context: context)
            return try JSONResponse.make(view, status: .created, headers: [
                .location: "/v1/organizations/\(organizationId.pathEscaped)/meetings/\(meetingId)/attendees/\(view.id)"])
        }
        routes.patch(RouterPath(base + "/:attendeeId")) { request, context -> Response in
            let organizationId = try context.organizerOrganization(.attendeesWrite)
            let meetingId = try context.resourceId("meetingId", kind: "meeting")
            let attendeeId = try context.resourceId("attendeeId", kind: "attendee")
            let body = try await JSONBody.decode(PatchBody.self, from: request)
            return try await service.respond(
                UpdateAttendee(meetingId: meetingId, attendeeId: attendeeId, name: body.name, phone: body.phone,
                               department: body.department, role: body.role, dingtalkUserId: body.dingtalkUserId, locale: body.locale),
                as: AttendeeView.self, organizationId: organizationId, context: context)
        }
        routes.delete(RouterPath(base + "/:attendeeId")) { _, context -> Response in
            let organizationId = try context.organizerOrganization(.attendeesWrite)
            let meetingId = try context.resourceId("meetingId", kind: "meeting")
            let attendeeId = try context.resourceId("attendeeId", kind: "attendee")
            _ = try await service.call(RemoveAttendee(meetingId: meetingId, attendeeId: attendeeId), as: Empty.self,
                                       organizationId: organizationId, context: context)
            return Response(status: .noContent)
        }
        // POST …/attendees/import[?dryRun=true]: multipart/form-data with the file in the part `file`.
        routes.post(RouterPath(base + "/import")) { request, context -> Response in
            let organizationId = try context.organizerOrganization(.attendeesWrite)
            let meetingId = try context.resourceId("meetingId", kind: "meeting")
            let dryRun = try QueryParameters(request).bool("dryRun") ?? false
            let form = try await MultipartUpload.read(request, filePart: "file", fieldNames: [], maxFileBytes: Self.maximumImportBytes)
            let format = try Self.importFormat(form.file)
            let report = try await service.call(
                ImportAttendees(meetingId: meetingId, format: format, body: Data(form.file).base64EncodedString(), dryRun: dryRun),
                as: AttendeeImportReport.self, organizationId: organizationId, context: context)
            // A file with a rejected row changed nothing: the report says which rows and why.
            return try JSONResponse.make(report, status: report.rejected > 0 ? .unprocessableContent : .ok)
        }
        // POST …/attendees/sync {"source": "dingtalk_department", "departmentId", "role"?} → AttendeeSyncReport
        routes.post(RouterPath(base + "/sync")) { request, context -> Response in
            let organizationId = try context.organizerOrganization(.attendeesWrite)
            let meetingId = try context.resourceId("meetingId", kind: "meeting")
            let body = try await JSONBody.decode(SyncBody.self, from: request)
            let (department, role) = try Self.syncRequest(body)
            let members = try await departmentMembers(department, organizationId: organizationId, context: context)
            return try await service.respond(
                SyncAttendees(meetingId: meetingId, source: body.source, sourceId: String(department), role: role,
                              members: members.map { AttendeeSyncMember(userId: $0.userId, name: $0.name, email: $0.email,
                                                                        mobile: $0.mobile) }),
                as: AttendeeSyncReport.self, organizationId: organizationId, context: context)
        }
        for format in ["csv", "xlsx"] {
            routes.get(RouterPath(base + "/template.\(format)")) { _, context -> Response in
                _ = try context.organizerOrganization(.attendeesRead)
                _ = try context.resourceId("meetingId", kind: "meeting")
                let file = try await service.call(GetAttendeeTemplate(format: format), as: ExportedFile.self, organizationId: nil,
                                                  context: context)
                return try RegistrationRoutes.download(file)
            }
        }

        // The signed-in attendee (matched by the account's email address).
        routes.get("me/meetings") { request, context -> Response in
            let email = try await accountEmail(context)
            let query = QueryParameters(request)
            let zone = try ConferenceRoutes.viewerZone(query)
            let page = try await service.call(
                ListMyMeetings(email: email, limit: try query.int("limit", default: 20, in: 1...100),
                               after: try query.string("after", maxLength: 64), includePast: try query.bool("includePast") ?? false),
                as: InvitedMeetingPage.self, organizationId: nil, context: context)
            return try JSONResponse.make(Page(items: page.items.map { InvitedMeetingAnswer($0, viewerZone: zone) }, next: page.next))
        }
        routes.post("me/meetings/:id/rsvp") { request, context -> Response in
            let email = try await accountEmail(context)
            let meetingId = try context.resourceId("id", kind: "meeting")
            let body = try await JSONBody.decode(RSVPBody.self, from: request)
            let invitation = try await service.call(
                RespondToInvitation(meetingId: meetingId, email: email, response: body.response, comment: body.comment),
                as: InvitedMeeting.self, organizationId: nil, context: context)
            return try JSONResponse.make(InvitedMeetingAnswer(invitation, viewerZone: nil))
        }
    }

    /// The sync's department (DingTalk's numeric `dept_id`) and role, checked before DingTalk is asked.
    static func syncRequest(_ body: SyncBody) throws(Problem) -> (department: Int64, role: String) {
        guard AttendeeSyncSource.all.contains(body.source) else {
            throw Problem(.unprocessableContent, code: "gateway.invalid_body",
                          detail: "source is one of \(AttendeeSyncSource.all.joined(separator: ", "))")
        }
        let raw = body.departmentId.trimmingCharacters(in: .whitespaces)
        guard raw.count <= 18, raw.allSatisfy(\.isASCII), let department = Int64(raw), department >= 1 else {
            throw Problem(.unprocessableContent, code: "gateway.invalid_body", detail: "departmentId is DingTalk's numeric department id")
        }
        let role = body.role ?? AttendeeRole.required
        guard AttendeeRole.all.contains(role) else {
            throw Problem(.unprocessableContent, code: "gateway.invalid_body",
                          detail: "role is one of \(AttendeeRole.all.joined(separator: ", "))")
        }
        return (department, role)
    }

    /// The department's members from platform-bridge, its refusals as the caller's problems:
    /// DingTalk not configured 422, an unknown department 422, DingTalk failing 503 (down) or 502
    /// (it refused the organization's app or answered what cannot be read).
    func departmentMembers(_ department: Int64, organizationId: String,
                           context: GatewayRequestContext) async throws -> [PlatformMember] {
        do {
            return try await service.call(ListDepartmentMembers(departmentId: department), as: [PlatformMember].self,
                                          organizationId: organizationId, context: context)
        } catch let error as ConveneError {
            throw Self.syncProblem(error)
        }
    }

    static func syncProblem(_ error: ConveneError) -> Problem {
        switch error.code {
        case "platform.credentials_missing":
            return Problem(.unprocessableContent, code: "platform.credentials_missing",
                           detail: "DingTalk is not configured for this organization: an administrator sets its credentials first")
        case "platform.not_found":
            return Problem(.unprocessableContent, code: "platform.unknown_department", detail: "DingTalk has no such department")
        case "platform.unavailable":
            return Problem(.serviceUnavailable, code: "platform.unavailable", detail: "DingTalk is unavailable; try again later",
                           headers: [.retryAfter: "30"])
        case let code where code.hasPrefix("platform."):
            return Problem(.badGateway, code: code, detail: "DingTalk refused the request for the department's members")
        default:
            return Problem(error)
        }
    }

    /// What the uploaded file is, by its bytes: an XLSX workbook, or text (CSV) in UTF-8 or in
    /// GB 18030 / GBK (as Excel on a Chinese Windows saves CSV).
    static func importFormat(_ bytes: [UInt8]) throws -> String {
        switch ContentSniffer.sniff(bytes) {
        case .xlsx?: return "xlsx"
        case .text?: return "csv"
        case nil where isChineseText(bytes): return "csv"
        default:
            throw Problem(.unsupportedMediaType, code: "gateway.upload_type_not_allowed",
                          detail: "an attendee list is an XLSX workbook or a CSV file (UTF-8 or GBK)")
        }
    }

    /// GB 18030 text without NUL or other control characters than tab, line feed, form feed and
    /// carriage return.
    static func isChineseText(_ bytes: [UInt8]) -> Bool {
        let allowedControls: Set<UInt8> = [0x09, 0x0A, 0x0C, 0x0D]
        guard !bytes.contains(where: { ($0 < 0x20 && !allowedControls.contains($0)) || $0 == 0x7F }) else { return false }
        return String(data: Data(bytes), encoding: String.Encoding(rawValue: 0x8000_0632)) != nil
    }

    /// The signed-in account's address (an API key has none: 403).
    func accountEmail(_ context: GatewayRequestContext) async throws -> String {
        let principal = try context.requirePrincipal()
        let account = try await UUID(uuidString: principal.accountId).asyncFlatMap { id in
            try await pool.withoutTransaction { tx in try await accounts.find(id: id, in: tx) }
        }
        if let account { return account.email }
        guard let email = principal.email else {
            throw Problem(.forbidden, code: "gateway.account_required", detail: "meetings are found by the account's email address")
        }
        return email
    }

    struct Page: Codable, Sendable {
        var items: [InvitedMeetingAnswer]
        var next: String?
    }
}

/// A meeting as its attendee sees it, with its times as wall-clock times in the meeting's zone
/// and in the viewer's (`?tz=`).
struct InvitedMeetingAnswer: Codable, Sendable {
    struct LocalTimes: Codable, Sendable, Equatable {
        var timeZone: String
        var startsAt: String
        var endsAt: String
    }

    var meeting: InvitedMeeting
    var local: LocalTimes
    var viewer: LocalTimes?

    init(_ meeting: InvitedMeeting, viewerZone: TimeZone?) {
        self.meeting = meeting
        let own = TimeZone(identifier: meeting.timeZone) ?? .gmt
        local = Self.times(meeting, own)
        viewer = viewerZone.map { Self.times(meeting, $0) }
    }

    static func times(_ meeting: InvitedMeeting, _ zone: TimeZone) -> LocalTimes {
        LocalTimes(timeZone: zone.identifier, startsAt: ConferenceAnswer.wallClock(meeting.startsAt, zone),
                   endsAt: ConferenceAnswer.wallClock(meeting.endsAt, zone))
    }

    enum CodingKeys: String, CodingKey { case local, viewer }

    init(from decoder: any Decoder) throws {
        meeting = try InvitedMeeting(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        local = try c.decode(LocalTimes.self, forKey: .local)
        viewer = try c.decodeIfPresent(LocalTimes.self, forKey: .viewer)
    }

    /// The meeting's fields, flat, beside `local` and `viewer`.
    func encode(to encoder: any Encoder) throws {
        try meeting.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(local, forKey: .local)
        try c.encodeIfPresent(viewer, forKey: .viewer)
    }
}
