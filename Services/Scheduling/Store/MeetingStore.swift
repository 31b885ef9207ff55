import Contracts
import Foundation
import Persistence

/// SQL for enterprise meetings (kinds `internal`, `client`, `large_event`), their agenda,
/// materials and platform links.
struct MeetingStore: Sendable {
    static let columns = """
        id, organization_id, kind, status, title, description, starts_at, ends_at, time_zone, venue, room_id, host::text AS host_json,
        array_to_json(platforms)::text AS platforms_json, recommended_platform, expected_attendees, sequence, created_by, created_at,
        started_at, ended_at, cancelled_at, cancel_reason, (extract(epoch FROM starts_at) * 1000000)::bigint AS starts_micros
        """

    /// The meeting holding a room at an overlapping time.
    struct Conflict: Sendable, Equatable {
        var id: String
        var topic: String
        var startsAt: Date
        var endsAt: Date

        var error: ConveneError {
            ConveneError(code: "scheduling.room_conflict",
                         message: "the room is taken from \(ISO8601.format(startsAt)) to \(ISO8601.format(endsAt)) by meeting \(id) “\(topic)”",
                         details: ["meetingId": id, "topic": topic, "startsAt": ISO8601.format(startsAt), "endsAt": ISO8601.format(endsAt)])
        }
    }

    // MARK: Meetings

    /// Inserts a scheduled meeting. A room taken at that time (the exclusion constraint, also
    /// under concurrent inserts) throws `scheduling.room_conflict` naming the meeting holding it.
    func insert(id: UUID, organizationId: String, plan: MeetingPlan, expectedAttendees: Int?, createdBy: String,
                in tx: Transaction) async throws {
        try await guardingRoom(plan, excluding: id, in: tx) {
            try await tx.query("""
                INSERT INTO meetings (id, organization_id, kind, status, title, description, starts_at, ends_at, time_zone, venue,
                                      room_id, host, platforms, recommended_platform, expected_attendees, created_by, published_at)
                VALUES ($1, $2, $3, 'scheduled', $4, $5, $6, $7, $8, $9, $10::uuid, $11::jsonb, $12::text[], $13, $14, $15, now())
                """, [id, organizationId] + (try Self.planParameters(plan, expectedAttendees: expectedAttendees)) + [createdBy])
        }
    }

    /// Replaces the plan (same conflict rule); the sequence grows by one.
    func update(_ id: UUID, plan: MeetingPlan, expectedAttendees: Int?, in tx: Transaction) async throws {
        try await guardingRoom(plan, excluding: id, in: tx) {
            try await tx.query("""
                UPDATE meetings SET kind = $2, title = $3, description = $4, starts_at = $5, ends_at = $6, time_zone = $7, venue = $8,
                    room_id = $9::uuid, host = $10::jsonb, platforms = $11::text[], recommended_platform = $12, expected_attendees = $13,
                    sequence = sequence + 1, updated_at = now()
                WHERE id = $1
                """, [id] + (try Self.planParameters(plan, expectedAttendees: expectedAttendees)))
        }
    }

    /// Runs `write` under a savepoint: when the room's exclusion constraint refuses it, the
    /// savepoint is rolled back and the meeting that holds the room (committed by then: the
    /// constraint waited for it) is named in `scheduling.room_conflict`.
    private func guardingRoom(_ plan: MeetingPlan, excluding id: UUID, in tx: Transaction,
                              _ write: () async throws -> Void) async throws {
        guard let room = plan.roomId.flatMap(UUID.init(uuidString:)) else { return try await write() }
        try await tx.query("SAVEPOINT room_guard")
        do {
            try await write()
            try await tx.query("RELEASE SAVEPOINT room_guard")
        } catch let error as PGError where error.sqlState == "23P01" {
            try await tx.query("ROLLBACK TO SAVEPOINT room_guard")
            let conflict = try await conflicting(room: room, startsAt: plan.startsAt, endsAt: plan.endsAt, excluding: id, in: tx)
            throw conflict?.error ?? ConveneError(code: "scheduling.room_conflict", message: "the room is taken at that time")
        }
    }

    /// A meeting that is not cancelled and holds `room` at a time overlapping the given one.
    func conflicting(room: UUID, startsAt: Date, endsAt: Date, excluding id: UUID, in tx: Transaction) async throws -> Conflict? {
        try await tx.query("""
            SELECT id, title, starts_at, ends_at FROM meetings
            WHERE room_id = $1 AND status <> 'cancelled' AND id <> $4
              AND tstzrange(starts_at, ends_at, '[)') && tstzrange($2::timestamptz, $3::timestamptz, '[)')
            ORDER BY starts_at LIMIT 1
            """, [room, startsAt, endsAt, id]).first.map { row in
            Conflict(id: try row.string("id"), topic: try row.string("title"), startsAt: try row.date("starts_at"),
                     endsAt: try row.date("ends_at"))
        }
    }

    /// The meeting with its agenda, materials and links; locked for a change when `forUpdate`.
    func find(_ id: UUID, organizationId: String?, forUpdate: Bool = false, in tx: Transaction) async throws -> MeetingView? {
        guard let row = try await tx.query("""
            SELECT \(Self.columns) FROM meetings
            WHERE id = $1 AND kind <> 'conference' AND ($2::text IS NULL OR organization_id = $2)
            """ + (forUpdate ? " FOR UPDATE" : ""), [id, organizationId]).first else { return nil }
        return try await complete([try Self.view(row)], in: tx)[0]
    }

    /// Several meetings at once (for the timers of a batch), by id.
    func views(_ ids: [UUID], in tx: Transaction) async throws -> [UUID: MeetingView] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await tx.query("SELECT \(Self.columns) FROM meetings WHERE id = ANY($1::uuid[]) AND kind <> 'conference'",
                                      [PGTextArray(ids.map { $0.uuidString.lowercased() })]).rows
        let views = try await complete(try rows.map(Self.view), in: tx)
        return Dictionary(uniqueKeysWithValues: views.compactMap { view in UUID(uuidString: view.id).map { ($0, view) } })
    }

    func setStatus(_ id: UUID, _ status: MeetingLifecycle.Status, at: Date, reason: String? = nil, in tx: Transaction) async throws {
        try await tx.query("""
            UPDATE meetings SET status = $2, updated_at = now(),
                started_at = CASE WHEN $2 IN ('live', 'ended') THEN coalesce(started_at, $3::timestamptz) ELSE started_at END,
                ended_at = CASE WHEN $2 = 'ended' THEN $3::timestamptz ELSE ended_at END,
                cancelled_at = CASE WHEN $2 = 'cancelled' THEN $3::timestamptz ELSE cancelled_at END,
                sequence = CASE WHEN $2 = 'cancelled' THEN sequence + 1 ELSE sequence END,
                cancel_reason = coalesce($4, cancel_reason)
            WHERE id = $1
            """, [id, status.rawValue, at, reason])
    }

    /// A page of the organization's meetings, newest start first; the cursor is the last item's (starts_at, id).
    func page(organizationId: String, limit: Int, after: String?, in tx: Transaction) async throws -> MeetingPage {
        var cursor: (Int64, UUID)?
        if let after {
            let parts = after.split(separator: "_", maxSplits: 1)
            guard parts.count == 2, let micros = Int64(parts[0]), let id = UUID(uuidString: String(parts[1])) else {
                throw ConveneError(code: "scheduling.invalid_cursor", message: "not a cursor from a previous page")
            }
            cursor = (micros, id)
        }
        let rows = try await tx.query("""
            SELECT \(Self.columns) FROM meetings
            WHERE kind <> 'conference' AND organization_id = $1
              AND ($2::bigint IS NULL OR (starts_at, id) < (to_timestamp($2::bigint / 1000000.0), $3::uuid))
            ORDER BY starts_at DESC, id DESC LIMIT $4
            """, [organizationId, cursor?.0, cursor?.1, limit + 1]).rows
        let items = try await complete(try rows.prefix(limit).map(Self.view), in: tx)
        let next = rows.count > limit ? "\(try rows[limit - 1].int64("starts_micros"))_\(try rows[limit - 1].string("id"))" : nil
        return MeetingPage(items: items, next: next)
    }

    /// Fills in agenda, materials, links and failures, a query each for all `views`.
    func complete(_ views: [MeetingView], in tx: Transaction) async throws -> [MeetingView] {
        guard !views.isEmpty else { return views }
        let ids = PGTextArray(views.map(\.id))
        var agenda: [String: [AgendaItem]] = [:], materials: [String: [MeetingMaterial]] = [:]
        var links: [String: [MeetingJoinLink]] = [:], failures: [String: [MeetingProvisioningFailure]] = [:]
        for row in try await tx.query("""
            SELECT meeting_id, starts_at, ends_at, topic, owner FROM agenda_items WHERE meeting_id = ANY($1::uuid[])
            ORDER BY meeting_id, position
            """, [ids]).rows {
            agenda[try row.string("meeting_id"), default: []].append(
                AgendaItem(startsAt: try row.date("starts_at"), endsAt: try row.date("ends_at"), topic: try row.string("topic"),
                           owner: row["owner"]))
        }
        for row in try await tx.query("""
            SELECT id, meeting_id, name, content_type, size, blob_key, added_by, added_at FROM materials
            WHERE meeting_id = ANY($1::uuid[]) ORDER BY added_at, id
            """, [ids]).rows {
            materials[try row.string("meeting_id"), default: []].append(try Self.material(row))
        }
        for row in try await tx.query("""
            SELECT meeting_id, platform, sequence, outcome, meeting_number, join_url, password, reason, message FROM platform_links
            WHERE meeting_id = ANY($1::uuid[])
            """, [ids]).rows {
            let meeting = try row.string("meeting_id")
            if try row.string("outcome") == "provisioned" {
                links[meeting, default: []].append(MeetingJoinLink(
                    platform: try row.string("platform"), joinUrl: try row.string("join_url"), meetingNumber: row["meeting_number"],
                    password: row["password"], recommended: false))
            } else {
                failures[meeting, default: []].append(MeetingProvisioningFailure(
                    platform: try row.string("platform"), reason: row["reason"] ?? "platform.unavailable", message: row["message"] ?? "",
                    sequence: try row.int("sequence")))
            }
        }
        return views.map { view in
            var view = view
            view.agenda = agenda[view.id] ?? []
            view.materials = materials[view.id] ?? []
            view.joinLinks = MeetingRules.ordered(links[view.id] ?? [], plan: view.plan)
            view.provisioningFailures = (failures[view.id] ?? []).filter { view.plan.platforms.contains($0.platform) }
                .sorted { $0.platform < $1.platform }
            return view
        }
    }

    // MARK: Agenda and materials

    /// Replaces the agenda; the sequence grows by one.
    func setAgenda(_ id: UUID, items: [AgendaItem], in tx: Transaction) async throws {
        try await tx.query("DELETE FROM agenda_items WHERE meeting_id = $1", [id])
        if !items.isEmpty {
            try await tx.query("""
                INSERT INTO agenda_items (meeting_id, position, starts_at, ends_at, topic, owner)
                SELECT $1, position, starts_at, ends_at, topic, nullif(owner, '')
                FROM unnest($2::int[], $3::timestamptz[], $4::timestamptz[], $5::text[], $6::text[])
                     AS a(position, starts_at, ends_at, topic, owner)
                """, [id, PGIntArray(items.indices.map(Int64.init)), PGTextArray(items.map { ISO8601.format($0.startsAt) }),
                      PGTextArray(items.map { ISO8601.format($0.endsAt) }), PGTextArray(items.map(\.topic)),
                      PGTextArray(items.map { $0.owner ?? "" })])
        }
        try await tx.query("UPDATE meetings SET sequence = sequence + 1, updated_at = now() WHERE id = $1", [id])
    }

    func addMaterial(_ material: AddMaterial, id: UUID, meetingId: UUID, in tx: Transaction) async throws -> MeetingMaterial {
        let row = try await tx.query("""
            INSERT INTO materials (id, meeting_id, name, content_type, size, blob_key, added_by) VALUES ($1, $2, $3, $4, $5, $6, $7)
            RETURNING id, meeting_id, name, content_type, size, blob_key, added_by, added_at
            """, [id, meetingId, material.name, material.contentType, material.size, material.blobKey, material.addedBy]).first!
        return try Self.material(row)
    }

    // MARK: Platform links

    /// Keeps what platform-bridge answered for one platform, unless an answer for a later
    /// sequence is kept already. Answers whether it was kept.
    @discardableResult
    func recordLink(meetingId: UUID, platform: String, sequence: Int, provisioned: MeetingProvisioned?,
                    failure: ProvisioningFailed?, in tx: Transaction) async throws -> Bool {
        !(try await tx.query("""
            INSERT INTO platform_links (meeting_id, platform, sequence, outcome, platform_meeting_id, meeting_number, join_url, password,
                                        reason, message)
            SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 WHERE EXISTS (SELECT 1 FROM meetings WHERE id = $1 AND kind <> 'conference')
            ON CONFLICT (meeting_id, platform) DO UPDATE SET sequence = excluded.sequence, outcome = excluded.outcome,
                platform_meeting_id = excluded.platform_meeting_id, meeting_number = excluded.meeting_number,
                join_url = excluded.join_url, password = excluded.password, reason = excluded.reason, message = excluded.message,
                updated_at = now()
            WHERE platform_links.sequence <= excluded.sequence
            RETURNING platform
            """, [meetingId, platform, sequence, provisioned == nil ? "failed" : "provisioned", provisioned?.platformMeetingId,
                  provisioned?.meetingNumber, provisioned?.joinUrl, provisioned?.password, failure?.reason,
                  failure.map { String($0.message.prefix(1000)) }]).rows.isEmpty)
    }

    // MARK: Rooms

    func insertRoom(id: UUID, organizationId: String, name: String, capacity: Int, location: String?,
                    in tx: Transaction) async throws -> MeetingRoom {
        try await roomWrite {
            try Self.room(try await tx.query("""
                INSERT INTO rooms (id, organization_id, name, capacity, location) VALUES ($1, $2, $3, $4, $5)
                RETURNING id, organization_id, name, capacity, location, created_at
                """, [id, organizationId, name, capacity, location]).first!)
        }
    }

    func updateRoom(_ id: UUID, organizationId: String, name: String?, capacity: Int?, location: String?,
                    in tx: Transaction) async throws -> MeetingRoom? {
        try await roomWrite {
            try await tx.query("""
                UPDATE rooms SET name = coalesce($3, name), capacity = coalesce($4::int, capacity),
                    location = CASE WHEN $5::text IS NULL THEN location ELSE nullif($5, '') END, updated_at = now()
                WHERE id = $1 AND organization_id = $2
                RETURNING id, organization_id, name, capacity, location, created_at
                """, [id, organizationId, name, capacity, location]).first.map(Self.room)
        }
    }

    private func roomWrite<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PGError where error.isUniqueViolation {
            throw ConveneError(code: "scheduling.room_exists", message: "the organization has a room of that name",
                               details: ["name": "already taken"])
        }
    }

    /// The organization's room; `lock` `share` while a meeting is planned in it (its capacity
    /// cannot shrink meanwhile), `update` while the room itself changes.
    func room(_ id: UUID, organizationId: String, lock: String? = nil, in tx: Transaction) async throws -> MeetingRoom? {
        try await tx.query("""
            SELECT id, organization_id, name, capacity, location, created_at FROM rooms WHERE id = $1 AND organization_id = $2
            """ + (lock == "share" ? " FOR SHARE" : lock == "update" ? " FOR UPDATE" : ""), [id, organizationId]).first.map(Self.room)
    }

    /// A meeting still to be held (or being held) in the room that expects more than `capacity` people.
    func largerThan(_ capacity: Int, inRoom room: UUID, in tx: Transaction) async throws -> (id: String, topic: String, expected: Int)? {
        try await tx.query("""
            SELECT id, title, expected_attendees FROM meetings
            WHERE room_id = $1 AND status IN ('scheduled', 'live') AND expected_attendees > $2
            ORDER BY expected_attendees DESC, starts_at LIMIT 1
            """, [room, capacity]).first.map { (try $0.string("id"), try $0.string("title"), try $0.int("expected_attendees")) }
    }

    func rooms(organizationId: String, in tx: Transaction) async throws -> [MeetingRoom] {
        try await tx.query("""
            SELECT id, organization_id, name, capacity, location, created_at FROM rooms WHERE organization_id = $1 ORDER BY name, id
            """, [organizationId]).rows.map(Self.room)
    }

    // MARK: Rows

    static func planParameters(_ plan: MeetingPlan, expectedAttendees: Int?) throws -> [any PGEncodable] {
        [plan.type, plan.topic, plan.description, plan.startsAt, plan.endsAt, plan.timeZone, plan.location,
         plan.roomId?.lowercased(), String(decoding: try ConveneJSON.encode(plan.host), as: UTF8.self), PGTextArray(plan.platforms),
         plan.recommendedPlatform, expectedAttendees]
    }

    static func view(_ row: PGRow) throws -> MeetingView {
        let host = try ConveneJSON.decode(MeetingHost.self, from: Array(try row.string("host_json").utf8))
        let platforms = try JSONDecoder().decode([String].self, from: Data(try row.string("platforms_json").utf8))
        let plan = MeetingPlan(
            type: try row.string("kind"), topic: try row.string("title"), description: row["description"],
            startsAt: try row.date("starts_at"), endsAt: try row.date("ends_at"), timeZone: try row.string("time_zone"),
            roomId: row["room_id"], location: row["venue"], host: host, platforms: platforms,
            recommendedPlatform: row["recommended_platform"])
        return MeetingView(
            id: try row.string("id"), organizationId: try row.string("organization_id"), status: try row.string("status"), plan: plan,
            expectedAttendees: row.isNull("expected_attendees") ? nil : try row.int("expected_attendees"),
            sequence: try row.int("sequence"), agenda: [], materials: [], joinLinks: [], provisioningFailures: [],
            createdBy: try row.string("created_by"), createdAt: try row.date("created_at"),
            startedAt: row.isNull("started_at") ? nil : try row.date("started_at"),
            endedAt: row.isNull("ended_at") ? nil : try row.date("ended_at"),
            cancelledAt: row.isNull("cancelled_at") ? nil : try row.date("cancelled_at"), cancelReason: row["cancel_reason"])
    }

    static func material(_ row: PGRow) throws -> MeetingMaterial {
        MeetingMaterial(id: try row.string("id"), name: try row.string("name"), contentType: try row.string("content_type"),
                        size: try row.int64("size"), blobKey: try row.string("blob_key"), addedBy: try row.string("added_by"),
                        addedAt: try row.date("added_at"))
    }

    static func room(_ row: PGRow) throws -> MeetingRoom {
        MeetingRoom(id: try row.string("id"), organizationId: try row.string("organization_id"), name: try row.string("name"),
                    capacity: try row.int("capacity"), location: row["location"], createdAt: try row.date("created_at"))
    }
}
