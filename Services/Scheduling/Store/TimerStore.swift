import Contracts
import Foundation
import Persistence

/// SQL for durable timers (`timers`): planning them with the meeting's change, and claiming due
/// ones for `TimerWorker`.
struct TimerStore: Sendable {
    /// A due timer, claimed (row-locked) by one worker, with the meeting summary its event carries.
    struct Due: Sendable, Equatable {
        var id: UUID
        var meetingId: UUID
        var kind: String
        var dueAt: Date
        var organizationId: String
        var meetingKind: String
        var sequence: Int
        var title: String
        var startsAt: Date
        var endsAt: Date
        var timeZone: String
        var venue: String?
        var onlinePlatform: String?
    }

    /// A timer as stored, for inspection.
    struct Row: Sendable, Equatable {
        var id: UUID
        var kind: String
        var dueAt: Date
        var firedAt: Date?
    }

    /// Makes the meeting's unfired timers exactly `planned`: a kind already pending is moved to
    /// its new time (same row, same id), a new kind is added, a pending kind no longer planned is
    /// removed. Fired timers are left alone. Call it with the meeting row locked, in the
    /// transaction of the change.
    func replace(meetingId: UUID, with planned: [MeetingTimers.Planned], in tx: Transaction) async throws {
        try await tx.query("""
            DELETE FROM timers WHERE meeting_id = $1 AND fired_at IS NULL AND NOT (kind = ANY($2::text[]))
            """, [meetingId, PGTextArray(planned.map(\.kind))])
        guard !planned.isEmpty else { return }
        try await tx.query("""
            INSERT INTO timers (id, meeting_id, kind, due_at)
            SELECT id, $1, kind, due_at FROM unnest($2::uuid[], $3::text[], $4::timestamptz[]) AS t(id, kind, due_at)
            ON CONFLICT (meeting_id, kind) WHERE fired_at IS NULL
            DO UPDATE SET due_at = excluded.due_at, updated_at = now()
            WHERE timers.due_at IS DISTINCT FROM excluded.due_at
            """, [meetingId, PGTextArray(planned.map { _ in UUID().uuidString.lowercased() }), PGTextArray(planned.map(\.kind)),
                  PGTextArray(planned.map { ISO8601.format($0.dueAt) })])
    }

    /// Up to `limit` unfired timers due at `now`, earliest first, locked for this transaction;
    /// rows another transaction holds are skipped, not waited for.
    func claimDue(now: Date, limit: Int, in tx: Transaction) async throws -> [Due] {
        try await tx.query("""
            SELECT t.id, t.meeting_id, t.kind, t.due_at, m.organization_id, m.kind AS meeting_kind, m.sequence, m.title,
                   m.starts_at, m.ends_at, m.time_zone, m.venue, m.online_platform
            FROM timers t JOIN meetings m ON m.id = t.meeting_id
            WHERE t.fired_at IS NULL AND t.due_at <= $1
            ORDER BY t.due_at, t.id
            LIMIT $2
            FOR UPDATE OF t SKIP LOCKED
            """, [now, limit]).rows.map { row in
            Due(id: try row.uuid("id"), meetingId: try row.uuid("meeting_id"), kind: try row.string("kind"),
                dueAt: try row.date("due_at"), organizationId: try row.string("organization_id"),
                meetingKind: try row.string("meeting_kind"), sequence: try row.int("sequence"), title: try row.string("title"),
                startsAt: try row.date("starts_at"), endsAt: try row.date("ends_at"), timeZone: try row.string("time_zone"),
                venue: row["venue"], onlinePlatform: row["online_platform"])
        }
    }

    func markFired(_ ids: [UUID], in tx: Transaction) async throws {
        guard !ids.isEmpty else { return }
        try await tx.query("UPDATE timers SET fired_at = now(), updated_at = now() WHERE id = ANY($1::uuid[])",
                           [PGTextArray(ids.map { $0.uuidString.lowercased() })])
    }

    /// When the earliest unfired timer is due (possibly past: held by another worker), if any.
    func nextDue(in tx: Transaction) async throws -> Date? {
        let row = try await tx.query("SELECT min(due_at) AS next FROM timers WHERE fired_at IS NULL").first
        guard let row, !row.isNull("next") else { return nil }
        return try row.date("next")
    }

    /// The kinds of the meeting's timers that have fired.
    func firedKinds(meetingId: UUID, in tx: Transaction) async throws -> Set<String> {
        Set(try await tx.query("SELECT DISTINCT kind FROM timers WHERE meeting_id = $1 AND fired_at IS NOT NULL", [meetingId])
            .rows.map { try $0.string("kind") })
    }

    /// Every timer of a meeting, earliest first.
    func timers(meetingId: UUID, in tx: Transaction) async throws -> [Row] {
        try await tx.query("SELECT id, kind, due_at, fired_at FROM timers WHERE meeting_id = $1 ORDER BY due_at, kind",
                           [meetingId]).rows.map { row in
            Row(id: try row.uuid("id"), kind: try row.string("kind"), dueAt: try row.date("due_at"),
                firedAt: row.isNull("fired_at") ? nil : try row.date("fired_at"))
        }
    }
}
