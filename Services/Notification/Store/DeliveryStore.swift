import Contracts
import Foundation
import Persistence

/// SQL for notifications, deliveries and preferences.
struct DeliveryStore: Sendable {
    struct Claimed: Sendable {
        var id: UUID
        var channel: String
        var recipient: String
        var recipientName: String?
        var locale: String?
        var attempts: Int
        var templateKey: String
        var data: [String: JSONValue]
        var organizationId: String?
    }

    /// Records a request once per source key; nil when it was already recorded.
    func insertNotification(_ request: SendNotification, sourceKey: String, organizationId: String?,
                            correlationId: String?, in tx: Transaction) async throws -> UUID? {
        let id = UUID()
        let data = String(decoding: try ConveneJSON.encode(request.data), as: UTF8.self)
        let inserted = try await tx.query("""
            INSERT INTO notifications (id, source_key, category, transactional, template_key, data, organization_id, correlation_id)
            VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8)
            ON CONFLICT (source_key) DO NOTHING
            """, [id, sourceKey, request.category, request.transactional, request.templateKey, data, organizationId, correlationId])
        return inserted.affectedRows == 1 ? id : nil
    }

    /// Returns false when the recipient already has a delivery on that channel.
    func insertDelivery(id: UUID, notification: UUID, channel: String, recipient: String, name: String?, locale: String?,
                        status: String, error: String?, in tx: Transaction) async throws -> Bool {
        try await tx.query("""
            INSERT INTO deliveries (id, notification_id, channel, recipient, recipient_name, locale, status, last_error)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            ON CONFLICT (notification_id, channel, recipient) DO NOTHING
            """, [id, notification, channel, recipient, name, locale, status, error]).affectedRows == 1
    }

    func optedOut(_ recipients: [String], category: String, in tx: Transaction) async throws -> Set<String> {
        guard !recipients.isEmpty else { return [] }
        let rows = try await tx.query("""
            SELECT recipient FROM preferences WHERE category = $1 AND opted_out AND recipient = ANY($2::text[])
            """, [category, PGTextArray(recipients)]).rows
        return Set(try rows.map { try $0.string("recipient") })
    }

    /// Marks a queued delivery as being sent, in a transaction of its own that commits before
    /// anything leaves. nil when it is not queued (sent, failed, or another attempt holds it).
    func claim(_ id: UUID, pool: PGPool) async throws -> Claimed? {
        let row = try await pool.withTransaction { tx in
            try await tx.query("""
                UPDATE deliveries d SET status = 'sending', attempts = attempts + 1, updated_at = now()
                FROM notifications n
                WHERE d.id = $1 AND d.status = 'queued' AND n.id = d.notification_id
                RETURNING d.id, d.channel, d.recipient, d.recipient_name, d.locale, d.attempts,
                          n.template_key, n.data::text AS data, n.organization_id
                """, [id]).first
        }
        guard let row else { return nil }
        return Claimed(
            id: try row.uuid("id"), channel: try row.string("channel"), recipient: try row.string("recipient"),
            recipientName: row["recipient_name"], locale: row["locale"], attempts: try row.int("attempts"),
            templateKey: try row.string("template_key"),
            data: try ConveneJSON.decode([String: JSONValue].self, from: Array(try row.string("data").utf8)),
            organizationId: row["organization_id"])
    }

    func finish(_ id: UUID, status: String, error: String?, answer: String?, in tx: Transaction) async throws {
        try await tx.query("""
            UPDATE deliveries SET status = $2, last_error = $3, provider_answer = $4, updated_at = now() WHERE id = $1
            """, [id, status, error, answer])
    }

    /// A transient failure: the delivery waits for its next attempt (committed on its own, since
    /// the handler then fails so that the consumer retries it later).
    func requeue(_ id: UUID, error: String, pool: PGPool) async throws {
        _ = try await pool.withTransaction { tx in
            try await tx.query("UPDATE deliveries SET status = 'queued', last_error = $2, updated_at = now() WHERE id = $1",
                               [id, error])
        }
    }

    func status(_ id: UUID, in tx: Transaction) async throws -> String? {
        try await tx.query("SELECT status FROM deliveries WHERE id = $1", [id]).first?.string("status")
    }
}
