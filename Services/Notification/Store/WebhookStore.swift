import Contracts
import Foundation
import Persistence
import Secrets

/// SQL for outgoing webhook subscriptions; secrets are sealed with the webhook's id as context.
struct WebhookStore: Sendable {
    let secrets: SecretBox

    static func context(_ id: UUID) -> String { "notification.webhook:\(id.uuidString.lowercased())" }

    private static let columns = """
        id, url, array_to_json(event_types)::text AS event_types, description, enabled, disabled_reason,
        consecutive_failures, created_at
        """

    func insert(organizationId: String, request: CreateWebhook, secret: String, in tx: Transaction) async throws -> WebhookSummary {
        let id = UUID()
        let sealed = try secrets.seal(secret, context: Self.context(id))
        let row = try await tx.query("""
            INSERT INTO webhooks (id, organization_id, url, event_types, description, secret, contact_email, created_by)
            VALUES ($1, $2, $3, $4::text[], $5, $6, $7, $8)
            RETURNING \(Self.columns)
            """, [id, organizationId, request.url, PGTextArray(request.eventTypes), request.description, sealed,
                  request.contactEmail, request.createdBy]).first!
        var summary = try Self.summary(row)
        summary.secret = secret
        return summary
    }

    func list(organizationId: String, in tx: Transaction) async throws -> [WebhookSummary] {
        try await tx.query("SELECT \(Self.columns) FROM webhooks WHERE organization_id = $1 ORDER BY created_at, id",
                           [organizationId]).rows.map(Self.summary)
    }

    func update(_ request: UpdateWebhook, organizationId: String, in tx: Transaction) async throws -> WebhookSummary? {
        guard let id = UUID(uuidString: request.id) else { return nil }
        // Switching a webhook on again starts its failure record afresh.
        return try await tx.query("""
            UPDATE webhooks SET
                enabled = coalesce($3, enabled),
                event_types = coalesce($4::text[], event_types),
                disabled_reason = CASE WHEN $3 THEN NULL ELSE disabled_reason END,
                consecutive_failures = CASE WHEN $3 THEN 0 ELSE consecutive_failures END,
                failing_since = CASE WHEN $3 THEN NULL ELSE failing_since END,
                updated_at = now()
            WHERE id = $1 AND organization_id = $2
            RETURNING \(Self.columns)
            """, [id, organizationId, request.enabled, request.eventTypes.map { PGTextArray($0) }]).first.map(Self.summary)
    }

    func delete(_ id: String, organizationId: String, in tx: Transaction) async throws -> Bool {
        guard let uuid = UUID(uuidString: id) else { return false }
        return try await tx.query("DELETE FROM webhooks WHERE id = $1 AND organization_id = $2", [uuid, organizationId])
            .affectedRows == 1
    }

    /// The organization's enabled webhooks with their event types.
    func enabled(organizationId: String, in tx: Transaction) async throws -> [(id: UUID, eventTypes: [String])] {
        try await tx.query("""
            SELECT id, array_to_json(event_types)::text AS event_types FROM webhooks WHERE organization_id = $1 AND enabled
            """, [organizationId]).rows.map {
            (try $0.uuid("id"), try ConveneJSON.decode([String].self, from: Array(try $0.string("event_types").utf8)))
        }
    }

    func target(_ id: UUID, in tx: Transaction) async throws -> (url: String, secret: String)? {
        guard let row = try await tx.query("SELECT url, secret FROM webhooks WHERE id = $1", [id]).first else { return nil }
        return (try row.string("url"), try secrets.open(try row.string("secret"), context: Self.context(id)))
    }

    func recordSuccess(_ id: UUID, in tx: Transaction) async throws {
        try await tx.query("""
            UPDATE webhooks SET consecutive_failures = 0, failing_since = NULL, updated_at = now()
            WHERE id = $1 AND consecutive_failures > 0
            """, [id])
    }

    struct Disabled: Sendable {
        var url: String
        var organizationId: String
        var contactEmail: String?
        var createdBy: String?
        var failures: Int
    }

    /// Counts a failed attempt; when the endpoint has failed without a success for longer than
    /// `disableAfter`, and at least `minimumFailures` times in a row (one event's every attempt),
    /// switches it off and returns what the organization should be told.
    func recordFailure(_ id: UUID, disableAfter: Duration, minimumFailures: Int, in tx: Transaction) async throws -> Disabled? {
        guard let row = try await tx.query("""
            UPDATE webhooks SET consecutive_failures = consecutive_failures + 1,
                                failing_since = coalesce(failing_since, now()), updated_at = now()
            WHERE id = $1
            RETURNING enabled, failing_since <= now() - $2 * interval '1 second' AND consecutive_failures >= $3 AS sustained,
                      url, organization_id, contact_email, created_by, consecutive_failures
            """, [id, String(disableAfter.components.seconds), minimumFailures]).first,
            try row.bool("enabled"), try row.bool("sustained")
        else { return nil }
        let failures = try row.int("consecutive_failures")
        try await tx.query("""
            UPDATE webhooks SET enabled = false, updated_at = now(),
                   disabled_reason = 'failing since ' || to_char(failing_since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                                     || ' (' || consecutive_failures || ' failed attempts)'
            WHERE id = $1
            """, [id])
        return Disabled(url: try row.string("url"), organizationId: try row.string("organization_id"),
                        contactEmail: row["contact_email"], createdBy: row["created_by"], failures: failures)
    }

    private static func summary(_ row: PGRow) throws -> WebhookSummary {
        WebhookSummary(
            id: try row.string("id"), url: try row.string("url"),
            eventTypes: try ConveneJSON.decode([String].self, from: Array(try row.string("event_types").utf8)),
            description: row["description"], enabled: try row.bool("enabled"), disabledReason: row["disabled_reason"],
            consecutiveFailures: try row.int("consecutive_failures"), createdAt: try row.date("created_at"))
    }
}
