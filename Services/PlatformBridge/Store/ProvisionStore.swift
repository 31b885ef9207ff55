import Contracts
import Foundation
import Persistence

/// SQL for meetings as planned and their state on each platform (`provisions`).
struct ProvisionStore: Sendable {
    struct Meeting: Sendable {
        var organizationId: String?
        var sequence: Int
        var plan: MeetingPlan
        var cancelled: Bool
    }

    func meeting(_ meetingId: String, locked: Bool, in tx: Transaction) async throws -> Meeting? {
        guard let row = try await tx.query("""
            SELECT organization_id, sequence, plan::text AS plan, cancelled FROM meetings WHERE meeting_id = $1
            """ + (locked ? " FOR UPDATE" : ""), [meetingId]).first else { return nil }
        return Meeting(organizationId: row["organization_id"], sequence: try row.int("sequence"),
                       plan: try ConveneJSON.decode(MeetingPlan.self, from: Array(try row.string("plan").utf8)),
                       cancelled: try row.bool("cancelled"))
    }

    func saveMeeting(_ meetingId: String, organizationId: String?, sequence: Int, plan: MeetingPlan, cancelled: Bool,
                     correlationId: String?, in tx: Transaction) async throws {
        try await tx.query("""
            INSERT INTO meetings (meeting_id, organization_id, sequence, plan, cancelled, correlation_id, updated_at)
            VALUES ($1, $2, $3, $4::jsonb, $5, $6, now())
            ON CONFLICT (meeting_id) DO UPDATE
               SET sequence = EXCLUDED.sequence, plan = EXCLUDED.plan, cancelled = EXCLUDED.cancelled,
                   correlation_id = coalesce(EXCLUDED.correlation_id, meetings.correlation_id), updated_at = now()
            """, [meetingId, organizationId, sequence, String(decoding: try ConveneJSON.encode(plan), as: UTF8.self), cancelled,
                  correlationId])
    }

    /// The platform should have the meeting as planned at `sequence`. A row being worked on keeps
    /// its claim (the worker sees the newer sequence when it records); any other is due now.
    func want(_ meetingId: String, platform: String, organizationId: String?, sequence: Int, in tx: Transaction) async throws {
        try await tx.query("""
            INSERT INTO provisions (meeting_id, platform, organization_id, desired, desired_sequence, status)
            VALUES ($1, $2, $3, 'present', $4, 'pending')
            ON CONFLICT (meeting_id, platform) DO UPDATE
               SET desired = 'present', desired_sequence = EXCLUDED.desired_sequence,
                   status = CASE WHEN provisions.status = 'working' THEN 'working' ELSE 'pending' END,
                   attempts = CASE WHEN provisions.status = 'working' THEN provisions.attempts ELSE 0 END,
                   next_attempt_at = now(), updated_at = now()
            """, [meetingId, platform, organizationId, sequence])
    }

    /// The platform should not have the meeting (any more).
    func unwant(_ meetingId: String, platforms: [String]?, sequence: Int, in tx: Transaction) async throws {
        try await tx.query("""
            UPDATE provisions
               SET desired = 'absent', desired_sequence = $3,
                   status = CASE WHEN status = 'working' THEN 'working' ELSE 'pending' END,
                   attempts = CASE WHEN status = 'working' THEN attempts ELSE 0 END,
                   next_attempt_at = now(), updated_at = now()
             WHERE meeting_id = $1 AND ($2::text[] IS NULL OR NOT (platform = ANY($2::text[])))
               AND NOT (desired = 'absent' AND status = 'removed')
            """, [meetingId, platforms.map { PGTextArray($0) }, sequence])
    }

    struct Claim: Sendable {
        var meetingId: String
        var platform: String
        var organizationId: String?
        var desired: String
        var desiredSequence: Int
        var syncedSequence: Int?
        var platformMeetingId: String?
        var attempts: Int
        var plan: MeetingPlan
        var planSequence: Int
        var correlationId: String?
    }

    /// Takes up to `limit` due rows: marks them `working` with a lease and counts the attempt, in
    /// the caller's transaction (committed before any platform is called).
    func claim(limit: Int, lease: Duration, in tx: Transaction) async throws -> [Claim] {
        try await tx.query("""
            WITH due AS (
                SELECT meeting_id, platform FROM provisions
                WHERE status = 'pending' AND next_attempt_at <= now()
                ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED
            )
            UPDATE provisions p
               SET status = 'working', lease_until = now() + ($2::bigint * interval '1 millisecond'),
                   attempts = p.attempts + 1, updated_at = now()
              FROM due, meetings m
             WHERE p.meeting_id = due.meeting_id AND p.platform = due.platform AND m.meeting_id = p.meeting_id
            RETURNING p.meeting_id, p.platform, p.organization_id, p.desired, p.desired_sequence, p.synced_sequence,
                      p.platform_meeting_id, p.attempts, m.plan::text AS plan, m.sequence AS plan_sequence, m.correlation_id
            """, [limit, lease.milliseconds]).rows.map { row in
            Claim(meetingId: try row.string("meeting_id"), platform: try row.string("platform"),
                  organizationId: row["organization_id"], desired: try row.string("desired"),
                  desiredSequence: try row.int("desired_sequence"), syncedSequence: row["synced_sequence"].flatMap { Int($0) },
                  platformMeetingId: row["platform_meeting_id"], attempts: try row.int("attempts"),
                  plan: try ConveneJSON.decode(MeetingPlan.self, from: Array(try row.string("plan").utf8)),
                  planSequence: try row.int("plan_sequence"), correlationId: row["correlation_id"])
        }
    }

    /// Rows whose worker vanished (crash, kill) past their lease are due again.
    @discardableResult
    func releaseExpiredLeases(in tx: Transaction) async throws -> Int {
        try await tx.query("""
            UPDATE provisions SET status = 'pending', next_attempt_at = now(), lease_until = NULL, updated_at = now()
            WHERE status = 'working' AND lease_until < now()
            """).affectedRows
    }

    /// The meeting exists on the platform as of `sequence`. Returns the row's status afterwards
    /// (`pending` again when the plan moved on meanwhile).
    func recordPresent(_ claim: Claim, meeting: CreatedMeeting?, startUrlSealed: String?, sequence: Int,
                       in tx: Transaction) async throws -> (status: String, platformMeetingId: String?, meetingNumber: String?,
                                                            joinUrl: String?, password: String?) {
        let row = try await tx.query("""
            UPDATE provisions
               SET platform_meeting_id = coalesce($3, platform_meeting_id), meeting_number = coalesce($4, meeting_number),
                   join_url = coalesce($5, join_url), password = CASE WHEN $3::text IS NULL THEN password ELSE $6 END,
                   start_url_sealed = coalesce($7, start_url_sealed), synced_sequence = $8, attempts = 0,
                   last_error = NULL, lease_until = NULL, next_attempt_at = now(), updated_at = now(),
                   status = CASE WHEN desired = 'absent' OR desired_sequence > $8 THEN 'pending' ELSE 'provisioned' END
             WHERE meeting_id = $1 AND platform = $2
            RETURNING status, platform_meeting_id, meeting_number, join_url, password
            """, [claim.meetingId, claim.platform, meeting?.platformMeetingId, meeting?.meetingNumber, meeting?.joinUrl,
                  meeting?.password, startUrlSealed, sequence]).first!
        return (try row.string("status"), row["platform_meeting_id"], row["meeting_number"], row["join_url"], row["password"])
    }

    /// The meeting is gone from the platform (or never got there).
    func recordRemoved(_ claim: Claim, in tx: Transaction) async throws {
        try await tx.query("""
            UPDATE provisions
               SET platform_meeting_id = NULL, meeting_number = NULL, join_url = NULL, password = NULL, start_url_sealed = NULL,
                   synced_sequence = NULL, attempts = 0, last_error = NULL, lease_until = NULL, next_attempt_at = now(),
                   updated_at = now(), status = CASE WHEN desired = 'present' THEN 'pending' ELSE 'removed' END
             WHERE meeting_id = $1 AND platform = $2
            """, [claim.meetingId, claim.platform])
    }

    /// Tries again after `delay`, unless the plan moved on meanwhile (then at once, afresh).
    func recordRetry(_ claim: Claim, after delay: Duration, error: String, in tx: Transaction) async throws {
        try await tx.query("""
            UPDATE provisions
               SET status = 'pending', last_error = $3, lease_until = NULL, updated_at = now(),
                   next_attempt_at = CASE WHEN desired_sequence > $5 OR desired <> $6 THEN now()
                                          ELSE now() + ($4::bigint * interval '1 millisecond') END,
                   attempts = CASE WHEN desired_sequence > $5 OR desired <> $6 THEN 0 ELSE attempts END
             WHERE meeting_id = $1 AND platform = $2
            """, [claim.meetingId, claim.platform, error, delay.milliseconds,
                  claim.desiredSequence, claim.desired])
    }

    /// Given up; true when it stays failed (false: the plan moved on meanwhile and it is due again).
    func recordFailed(_ claim: Claim, code: String, in tx: Transaction) async throws -> Bool {
        let row = try await tx.query("""
            UPDATE provisions
               SET last_error = $3, lease_until = NULL, updated_at = now(), next_attempt_at = now(),
                   status = CASE WHEN desired_sequence > $4 OR desired <> $5 THEN 'pending' ELSE 'failed' END,
                   attempts = CASE WHEN desired_sequence > $4 OR desired <> $5 THEN 0 ELSE attempts END
             WHERE meeting_id = $1 AND platform = $2
            RETURNING status
            """, [claim.meetingId, claim.platform, code, claim.desiredSequence, claim.desired]).first
        return try row?.string("status") == "failed"
    }

    func statuses(meetingId: String, in tx: Transaction) async throws -> [PlatformMeetingStatus] {
        try await tx.query("""
            SELECT p.platform, p.status, p.synced_sequence, p.platform_meeting_id, p.meeting_number, p.join_url, p.password,
                   p.attempts, p.last_error, m.plan->>'recommendedPlatform' AS recommended
            FROM provisions p JOIN meetings m USING (meeting_id) WHERE p.meeting_id = $1 ORDER BY p.platform
            """, [meetingId]).rows.map { row in
            PlatformMeetingStatus(platform: try row.string("platform"), status: try row.string("status"),
                                  sequence: row["synced_sequence"].flatMap { Int($0) }, platformMeetingId: row["platform_meeting_id"],
                                  meetingNumber: row["meeting_number"], joinUrl: row["join_url"], password: row["password"],
                                  attempts: try row.int("attempts"), lastError: row["last_error"],
                                  recommended: row["recommended"] == (try row.string("platform")))
        }
    }

    /// Convene's meeting behind a platform's meeting id, within an organization.
    func meetingId(platform: String, platformMeetingId: String, organizationId: String, in tx: Transaction) async throws -> String? {
        try await tx.query("""
            SELECT meeting_id FROM provisions WHERE platform = $1 AND platform_meeting_id = $2 AND organization_id = $3
            LIMIT 1
            """, [platform, platformMeetingId, organizationId]).first?["meeting_id"]
    }

    /// Records a webhook by the digest of its raw body; false when it was handled before.
    func firstDelivery(platform: String, digest: String, in tx: Transaction) async throws -> Bool {
        try await tx.query("""
            INSERT INTO webhook_events (platform, digest) VALUES ($1, $2) ON CONFLICT DO NOTHING
            """, [platform, digest]).affectedRows == 1
    }

    func purgeWebhookEvents(in tx: Transaction) async throws {
        try await tx.query("DELETE FROM webhook_events WHERE received_at < now() - interval '7 days'")
    }
}

extension Duration {
    /// Whole milliseconds (for SQL intervals).
    var milliseconds: Int { Int(components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000) }
}
