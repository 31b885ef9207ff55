import Contracts
import Foundation
import Persistence

/// SQL for conferences (meetings of kind `conference`).
struct ConferenceStore: Sendable {
    static let columns = """
        id, organization_id, status, title, description, starts_at, ends_at, time_zone, venue, online_platform,
        registration_opens_at, registration_closes_at, array_to_json(languages)::text AS languages_json, contact_email,
        contact_phone, sequence, created_at, published_at, cancelled_at, cancel_reason,
        (extract(epoch FROM starts_at) * 1000000)::bigint AS starts_micros
        """

    func insert(id: UUID, organizationId: String, details: ConferenceDetails, createdBy: String, in tx: Transaction) async throws {
        try await tx.query("""
            INSERT INTO meetings (id, organization_id, kind, status, title, description, starts_at, ends_at, time_zone, venue,
                                  online_platform, registration_opens_at, registration_closes_at, languages, contact_email,
                                  contact_phone, created_by)
            VALUES ($1, $2, 'conference', 'draft', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::text[], $13, $14, $15)
            """, [id, organizationId] + Self.detailParameters(details) + [createdBy])
    }

    /// The conference, locked for a change when `forUpdate`. Without an organization only a
    /// published one (or one cancelled after publishing) is found.
    func find(_ id: UUID, organizationId: String?, forUpdate: Bool = false, in tx: Transaction) async throws -> ConferenceView? {
        try await tx.query("""
            SELECT \(Self.columns) FROM meetings
            WHERE id = $1 AND kind = 'conference'
              AND (organization_id = $2 OR ($2::text IS NULL AND published_at IS NOT NULL))
            """ + (forUpdate ? " FOR UPDATE" : ""), [id, organizationId]).first.map(Self.view)
    }

    func update(_ id: UUID, details: ConferenceDetails, in tx: Transaction) async throws {
        try await tx.query("""
            UPDATE meetings SET title = $2, description = $3, starts_at = $4, ends_at = $5, time_zone = $6, venue = $7,
                online_platform = $8, registration_opens_at = $9, registration_closes_at = $10, languages = $11::text[],
                contact_email = $12, contact_phone = $13, sequence = sequence + 1, updated_at = now()
            WHERE id = $1
            """, [id] + Self.detailParameters(details))
    }

    func setStatus(_ id: UUID, _ status: ConferenceRules.Status, reason: String? = nil, in tx: Transaction) async throws {
        try await tx.query("""
            UPDATE meetings SET status = $2, sequence = sequence + 1, updated_at = now(),
                published_at = CASE WHEN $2 = 'published' THEN now() ELSE published_at END,
                cancelled_at = CASE WHEN $2 = 'cancelled' THEN now() ELSE cancelled_at END,
                cancel_reason = coalesce($3, cancel_reason)
            WHERE id = $1
            """, [id, status.rawValue, reason])
    }

    /// A page, newest start first; the cursor is the last item's (starts_at, id).
    func page(organizationId: String?, limit: Int, after: String?, in tx: Transaction) async throws -> ConferencePage {
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
            WHERE kind = 'conference' AND (organization_id = $1 OR ($1::text IS NULL AND published_at IS NOT NULL))
              AND ($2::bigint IS NULL OR (starts_at, id) < (to_timestamp($2::bigint / 1000000.0), $3::uuid))
            ORDER BY starts_at DESC, id DESC LIMIT $4
            """, [organizationId, cursor?.0, cursor?.1, limit + 1]).rows
        let items = try rows.prefix(limit).map(Self.view)
        let next = rows.count > limit ? "\(try rows[limit - 1].int64("starts_micros"))_\(try rows[limit - 1].string("id"))" : nil
        return ConferencePage(items: items, next: next)
    }

    static func detailParameters(_ details: ConferenceDetails) -> [any PGEncodable] {
        [details.title.trimmingCharacters(in: .whitespacesAndNewlines), details.description, details.startsAt, details.endsAt,
         details.timeZone, details.venue, details.onlinePlatform, details.registrationOpensAt, details.registrationClosesAt,
         PGTextArray(details.languages), details.contactEmail, details.contactPhone]
    }

    static func view(_ row: PGRow) throws -> ConferenceView {
        let languages = try JSONDecoder().decode([String].self, from: Data(try row.string("languages_json").utf8))
        let details = ConferenceDetails(
            title: try row.string("title"), description: row["description"], startsAt: try row.date("starts_at"),
            endsAt: try row.date("ends_at"), timeZone: try row.string("time_zone"), venue: row["venue"],
            onlinePlatform: row["online_platform"], registrationOpensAt: try row.date("registration_opens_at"),
            registrationClosesAt: try row.date("registration_closes_at"), languages: languages,
            contactEmail: try row.string("contact_email"), contactPhone: row["contact_phone"])
        return ConferenceView(
            id: try row.string("id"), organizationId: try row.string("organization_id"), status: try row.string("status"),
            details: details, sequence: try row.int("sequence"), createdAt: try row.date("created_at"),
            publishedAt: row.isNull("published_at") ? nil : try row.date("published_at"),
            cancelledAt: row.isNull("cancelled_at") ? nil : try row.date("cancelled_at"), cancelReason: row["cancel_reason"])
    }
}
