import Contracts
import Foundation
import Persistence

/// An enterprise meeting as registration keeps it (from scheduling's events).
struct MeetingRecord: Sendable, Equatable {
    var id: UUID
    var organizationId: String
    var kind: String
    var sequence: Int
    var plan: MeetingPlan
    var cancelled: Bool
    var cancelReason: String?
}

/// A meeting's join link on one platform (from platform-bridge).
struct JoinLinkRecord: Sendable, Equatable {
    var platform: String
    var sequence: Int
    var url: String
    var meetingNumber: String?
    var password: String?
}

/// One attendee of one meeting.
struct AttendeeRecord: Sendable, Equatable {
    var id: UUID
    var meetingId: UUID
    var organizationId: String
    var email: String
    var name: String
    var phone: String?
    var department: String?
    var role: String
    var dingtalkUserId: String?
    var locale: String?
    var response: String
    var respondedAt: Date?
    var comment: String?
    var rsvpToken: String
    var invitedSequence: Int?
    var invitedJoinURL: String?
    /// `dingtalk_department:<id>` for an attendee a sync added; nil when added by hand or import.
    var syncSource: String? = nil
    var createdAt: Date
    var updatedAt: Date

    var view: AttendeeView {
        AttendeeView(id: id.lowercased, meetingId: meetingId.lowercased, name: name, email: email, phone: phone, department: department,
                     role: role, dingtalkUserId: dingtalkUserId, locale: locale, response: response, respondedAt: respondedAt,
                     comment: comment, invitedSequence: invitedSequence, createdAt: createdAt, updatedAt: updatedAt)
    }
}

/// A page position: the last item's `(time, id)` of the previous page, as `<microseconds>_<uuid>`.
struct TimeCursor: Sendable, Equatable {
    var micros: Int64
    var id: UUID

    init(micros: Int64, id: UUID) {
        self.micros = micros
        self.id = id
    }

    init(_ date: Date, _ id: UUID) {
        micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        self.id = id
    }

    init?(_ text: String?) {
        guard let text, let underscore = text.firstIndex(of: "_"), let micros = Int64(text[..<underscore]),
              let id = UUID(uuidString: String(text[text.index(after: underscore)...])) else { return nil }
        self.micros = micros
        self.id = id
    }

    var text: String { "\(micros)_\(id.lowercased)" }
}

/// SQL for enterprise meetings, their join links and their attendees.
struct MeetingStore: Sendable {
    enum Applied: Equatable {
        /// First seen.
        case new
        /// A higher sequence than the one kept.
        case changed
        /// Not newer than what is kept: ignored.
        case stale
    }

    // MARK: Meetings

    /// Applies a scheduling event unless one with the same or a higher sequence was applied.
    func upsertMeeting(id: UUID, organizationId: String, sequence: Int, plan: MeetingPlan, in tx: Transaction) async throws -> Applied {
        let json = String(decoding: try ConveneJSON.encode(plan), as: UTF8.self)
        guard let row = try await tx.query("""
            INSERT INTO meetings (id, organization_id, kind, sequence, plan, starts_at, ends_at)
            VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)
            ON CONFLICT (id) DO UPDATE SET kind = $3, sequence = $4, plan = $5::jsonb, starts_at = $6, ends_at = $7, updated_at = now()
            WHERE meetings.sequence < $4 AND NOT meetings.cancelled
            RETURNING (xmax = 0) AS inserted
            """, [id, organizationId, plan.type, sequence, json, plan.startsAt, plan.endsAt]).first else { return .stale }
        return try row.bool("inserted") ? .new : .changed
    }

    /// Marks it cancelled; answers whether this event was news.
    func cancelMeeting(id: UUID, sequence: Int, reason: String, in tx: Transaction) async throws -> Bool {
        try await tx.query("""
            UPDATE meetings SET cancelled = true, cancel_reason = $3, sequence = greatest(sequence, $2), updated_at = now()
            WHERE id = $1 AND NOT cancelled
            """, [id, sequence, reason]).affectedRows == 1
    }

    /// The meeting; `lock` holds it for this transaction (invitations of one meeting are decided
    /// one transaction at a time, so none is sent twice or forgotten).
    func meeting(_ id: UUID, lock: Bool = false, in tx: Transaction) async throws -> MeetingRecord? {
        try await tx.query("""
            SELECT id, organization_id, kind, sequence, plan::text AS plan, cancelled, cancel_reason FROM meetings WHERE id = $1
            """ + (lock ? " FOR UPDATE" : ""), [id]).first.map(Self.meeting)
    }

    static func meeting(_ row: PGRow) throws -> MeetingRecord {
        MeetingRecord(id: try row.uuid("id"), organizationId: try row.string("organization_id"), kind: try row.string("kind"),
                      sequence: try row.int("sequence"),
                      plan: try ConveneJSON.decode(MeetingPlan.self, from: Array(try row.string("plan").utf8)),
                      cancelled: try row.bool("cancelled"), cancelReason: row["cancel_reason"])
    }

    // MARK: Join links

    /// Keeps the platform's link unless a newer provisioning was kept; answers whether it changed.
    func upsertJoinLink(_ link: MeetingProvisioned, in tx: Transaction) async throws -> Bool {
        guard let meetingId = UUID(uuidString: link.meetingId) else { return false }
        return try await tx.query("""
            INSERT INTO meeting_join_links (meeting_id, platform, sequence, platform_meeting_id, meeting_number, join_url, password)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT (meeting_id, platform) DO UPDATE SET sequence = $3, platform_meeting_id = $4, meeting_number = $5,
                join_url = $6, password = $7, updated_at = now()
            WHERE meeting_join_links.sequence <= $3
              AND (meeting_join_links.join_url, meeting_join_links.meeting_number, meeting_join_links.password, meeting_join_links.sequence)
                  IS DISTINCT FROM ($6, $5, $7, $3)
            """, [meetingId, link.platform, link.sequence, link.platformMeetingId, link.meetingNumber, link.joinUrl,
                  link.password]).affectedRows == 1
    }

    func joinLinks(_ meetingId: UUID, in tx: Transaction) async throws -> [JoinLinkRecord] {
        try await tx.query("""
            SELECT platform, sequence, join_url, meeting_number, password FROM meeting_join_links WHERE meeting_id = $1 ORDER BY platform
            """, [meetingId]).rows.map {
                JoinLinkRecord(platform: try $0.string("platform"), sequence: try $0.int("sequence"), url: try $0.string("join_url"),
                               meetingNumber: $0["meeting_number"], password: $0["password"])
            }
    }

    // MARK: Attendees

    static let columns = """
        id, meeting_id, organization_id, email, name, phone, department, role, dingtalk_user_id, locale, response, responded_at,
               comment, rsvp_token, invited_sequence, invited_join_url, sync_source, created_at, updated_at
        """

    static func attendee(_ row: PGRow) throws -> AttendeeRecord {
        AttendeeRecord(id: try row.uuid("id"), meetingId: try row.uuid("meeting_id"), organizationId: try row.string("organization_id"),
                       email: try row.string("email"), name: try row.string("name"), phone: row["phone"], department: row["department"],
                       role: try row.string("role"), dingtalkUserId: row["dingtalk_user_id"], locale: row["locale"],
                       response: try row.string("response"),
                       respondedAt: row.isNull("responded_at") ? nil : try row.date("responded_at"), comment: row["comment"],
                       rsvpToken: try row.string("rsvp_token"),
                       invitedSequence: row.isNull("invited_sequence") ? nil : try row.int("invited_sequence"),
                       invitedJoinURL: row["invited_join_url"], syncSource: row["sync_source"], createdAt: try row.date("created_at"),
                       updatedAt: try row.date("updated_at"))
    }

    /// Adds or (same address) updates attendees in one statement; answers them as stored, with
    /// whether each was added.
    func upsertAttendees(_ inputs: [AttendeeInput], meetingId: UUID, organizationId: String,
                         in tx: Transaction) async throws -> [(record: AttendeeRecord, added: Bool)] {
        guard !inputs.isEmpty else { return [] }
        struct Item: Encodable {
            var id: String, email: String, name: String, phone: String?, department: String?, role: String
            var dingtalk_user_id: String?, locale: String?, rsvp_token: String, ordinal: Int
        }
        let items = inputs.enumerated().map { index, input in
            Item(id: UUID().lowercased, email: input.email, name: input.name, phone: input.phone, department: input.department,
                 role: input.role ?? AttendeeRole.required, dingtalk_user_id: input.dingtalkUserId, locale: input.locale,
                 rsvp_token: RSVPToken.make(), ordinal: index)
        }
        let json = String(decoding: try JSONEncoder().encode(items), as: UTF8.self)
        // clock_timestamp() plus the row's ordinal: a file's rows keep their order in the list.
        let rows = try await tx.query("""
            INSERT INTO meeting_attendees (id, meeting_id, organization_id, email, name, phone, department, role, dingtalk_user_id,
                                           locale, rsvp_token, created_at, updated_at)
            SELECT x.id, $1, $2, x.email, x.name, x.phone, x.department, x.role, x.dingtalk_user_id, x.locale, x.rsvp_token,
                   clock_timestamp() + x.ordinal * interval '1 microsecond', now()
            FROM jsonb_to_recordset($3::jsonb) AS x(id uuid, email text, name text, phone text, department text, role text,
                                                    dingtalk_user_id text, locale text, rsvp_token text, ordinal int)
            ON CONFLICT (meeting_id, email) DO UPDATE SET name = EXCLUDED.name, phone = EXCLUDED.phone,
                department = EXCLUDED.department, role = EXCLUDED.role, dingtalk_user_id = EXCLUDED.dingtalk_user_id,
                locale = coalesce(EXCLUDED.locale, meeting_attendees.locale), updated_at = now()
            RETURNING \(Self.columns), (xmax = 0) AS inserted
            """, [meetingId, organizationId, json]).rows
        return try rows.map { (try Self.attendee($0), try $0.bool("inserted")) }
    }

    /// Inserts one (with the sync that added it, if any); nil when the address is already an
    /// attendee of the meeting.
    func insertAttendee(_ input: AttendeeInput, meetingId: UUID, organizationId: String, syncSource: String? = nil,
                        in tx: Transaction) async throws -> AttendeeRecord? {
        try await tx.query("""
            INSERT INTO meeting_attendees (id, meeting_id, organization_id, email, name, phone, department, role, dingtalk_user_id,
                                           locale, rsvp_token, sync_source, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, clock_timestamp())
            ON CONFLICT (meeting_id, email) DO NOTHING
            RETURNING \(Self.columns)
            """, [UUID(), meetingId, organizationId, input.email, input.name, input.phone, input.department,
                  input.role ?? AttendeeRole.required, input.dingtalkUserId, input.locale, RSVPToken.make(),
                  syncSource]).first.map(Self.attendee)
    }

    func saveAttendee(_ record: AttendeeRecord, in tx: Transaction) async throws -> AttendeeRecord {
        guard let row = try await tx.query("""
            UPDATE meeting_attendees SET name = $2, phone = $3, department = $4, role = $5, dingtalk_user_id = $6, locale = $7,
                updated_at = now()
            WHERE id = $1 RETURNING \(Self.columns)
            """, [record.id, record.name, record.phone, record.department, record.role, record.dingtalkUserId, record.locale]).first
        else { throw ConveneError(code: "registration.not_found", message: "no such attendee") }
        return try Self.attendee(row)
    }

    /// One attendee of the meeting (any meeting when nil), locked when `forUpdate`.
    func attendee(_ id: UUID, meetingId: UUID?, forUpdate: Bool = false, in tx: Transaction) async throws -> AttendeeRecord? {
        try await tx.query("SELECT \(Self.columns) FROM meeting_attendees WHERE id = $1 AND ($2::uuid IS NULL OR meeting_id = $2)"
                           + (forUpdate ? " FOR UPDATE" : ""), [id, meetingId]).first.map(Self.attendee)
    }

    func attendee(meetingId: UUID, email: String, forUpdate: Bool = false, in tx: Transaction) async throws -> AttendeeRecord? {
        try await tx.query("SELECT \(Self.columns) FROM meeting_attendees WHERE meeting_id = $1 AND email = $2"
                           + (forUpdate ? " FOR UPDATE" : ""), [meetingId, email]).first.map(Self.attendee)
    }

    func attendeeEmails(_ meetingId: UUID, in tx: Transaction) async throws -> Set<String> {
        Set(try await tx.query("SELECT email FROM meeting_attendees WHERE meeting_id = $1", [meetingId]).rows.map { try $0.string("email") })
    }

    /// Every attendee, in the order they were added.
    func attendees(_ meetingId: UUID, in tx: Transaction) async throws -> [AttendeeRecord] {
        try await tx.query("SELECT \(Self.columns) FROM meeting_attendees WHERE meeting_id = $1 ORDER BY created_at, id",
                           [meetingId]).rows.map(Self.attendee)
    }

    func listAttendees(_ meetingId: UUID, role: String?, response: String?, limit: Int, after cursor: TimeCursor?,
                       in tx: Transaction) async throws -> (items: [AttendeeRecord], next: TimeCursor?) {
        let rows = try await tx.query("""
            SELECT \(Self.columns) FROM meeting_attendees
            WHERE meeting_id = $1 AND ($2::text IS NULL OR role = $2) AND ($3::text IS NULL OR response = $3)
              AND ($5::bigint IS NULL
                   OR (created_at, id) > (timestamptz 'epoch' + $5::bigint * interval '1 microsecond', $6::uuid))
            ORDER BY created_at, id LIMIT $4
            """, [meetingId, role, response, limit + 1, cursor?.micros, cursor?.id]).rows
        let records = try rows.map(Self.attendee)
        guard records.count > limit else { return (records, nil) }
        let page = Array(records.prefix(limit))
        return (page, page.last.map { TimeCursor($0.createdAt, $0.id) })
    }

    func deleteAttendee(_ id: UUID, in tx: Transaction) async throws {
        try await tx.query("DELETE FROM meeting_attendees WHERE id = $1", [id])
    }

    /// Records the invitation (its sequence and the recommended join link it carried).
    func markInvited(_ ids: [UUID], sequence: Int, joinURL: String?, in tx: Transaction) async throws {
        guard !ids.isEmpty else { return }
        try await tx.query("""
            UPDATE meeting_attendees SET invited_sequence = $2, invited_join_url = $3 WHERE id = ANY($1::uuid[])
            """, ["{" + ids.map(\.lowercased).joined(separator: ",") + "}", sequence, joinURL])
    }

    func respond(_ id: UUID, response: String, comment: String?, in tx: Transaction) async throws -> AttendeeRecord {
        guard let row = try await tx.query("""
            UPDATE meeting_attendees SET response = $2, comment = $3, responded_at = now(), updated_at = now()
            WHERE id = $1 RETURNING \(Self.columns)
            """, [id, response, comment]).first else { throw ConveneError(code: "registration.not_found", message: "no such invitation") }
        return try Self.attendee(row)
    }

    /// The meetings an address is invited to with its attendee rows, soonest first (by start
    /// and meeting id), after the cursor; those that ended only with `includePast`.
    func invitations(email: String, includePast: Bool, limit: Int, after cursor: TimeCursor?,
                     in tx: Transaction) async throws -> (items: [(MeetingRecord, AttendeeRecord)], next: TimeCursor?) {
        let prefixed = Self.columns.split(separator: ",").map { "a." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .joined(separator: ", ")
        let rows = try await tx.query("""
            SELECT \(prefixed), m.kind, m.sequence, m.plan::text AS plan, m.cancelled, m.cancel_reason, m.starts_at
            FROM meeting_attendees a JOIN meetings m ON m.id = a.meeting_id
            WHERE a.email = $1 AND ($2 OR m.ends_at > now())
              AND ($4::bigint IS NULL
                   OR (m.starts_at, m.id) > (timestamptz 'epoch' + $4::bigint * interval '1 microsecond', $5::uuid))
            ORDER BY m.starts_at, m.id LIMIT $3
            """, [email, includePast, limit + 1, cursor?.micros, cursor?.id]).rows
        let items = try rows.map { row -> (MeetingRecord, AttendeeRecord) in
            let attendee = try Self.attendee(row)
            let meeting = MeetingRecord(id: attendee.meetingId, organizationId: attendee.organizationId, kind: try row.string("kind"),
                                        sequence: try row.int("sequence"),
                                        plan: try ConveneJSON.decode(MeetingPlan.self, from: Array(try row.string("plan").utf8)),
                                        cancelled: try row.bool("cancelled"), cancelReason: row["cancel_reason"])
            return (meeting, attendee)
        }
        guard items.count > limit else { return (items, nil) }
        let page = Array(items.prefix(limit))
        return (page, page.last.map { TimeCursor($0.0.plan.startsAt, $0.0.id) })
    }
}
