import Contracts
import Foundation
import Persistence
import Secrets

/// SQL for notifications (what was asked), deliveries (what happened per recipient and channel)
/// and preferences.
struct DeliveryStore: Sendable {
    /// A delivery taken for sending, with what its notification asked.
    struct Claimed: Sendable {
        var id: UUID
        var channel: String
        var recipient: String
        var recipientName: String?
        var locale: String?
        var attempts: Int
        var templateKey: String
        var category: String
        /// Template data, or for a webhook the event envelope.
        var dataText: String
        var attachments: [NotificationAttachment]
        var organizationId: String?
        var correlationId: String?
        var notificationId: UUID
        /// Opened at claim time for robot and webhook deliveries.
        var robot: (kind: RobotKind, credentials: RobotCredentials)?
        var webhook: (url: String, secret: String)?

        var data: [String: JSONValue] {
            (try? ConveneJSON.decode([String: JSONValue].self, from: Array(dataText.utf8))) ?? [:]
        }
    }

    /// What the claim of one delivery came to.
    enum Claim: Sendable {
        /// Marked `sending`, with everything needed to send it.
        case claimed(Claimed)
        /// A robot's rate limit: the delivery waits until the given time.
        case deferred(UUID, Date)
        /// Its robot or webhook is gone or switched off: recorded as skipped.
        case skipped(Claimed, String)
    }

    struct NewNotification: Sendable {
        var sourceKey: String
        var category: String
        var transactional: Bool
        var templateKey: String
        var dataJSON: String
        var locale: String?
        var attachments: [NotificationAttachment]?
        var organizationId: String?
        var correlationId: String?
    }

    /// Records a request once per source key; nil when it was already recorded.
    func insertNotification(_ new: NewNotification, in tx: Transaction) async throws -> UUID? {
        let id = UUID()
        let attachments = try new.attachments.map { String(decoding: try ConveneJSON.encode($0), as: UTF8.self) }
        let inserted = try await tx.query("""
            INSERT INTO notifications (id, source_key, category, transactional, template_key, data, locale, attachments,
                                       organization_id, correlation_id)
            VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8::jsonb, $9, $10)
            ON CONFLICT (source_key) DO NOTHING
            """, [id, new.sourceKey, new.category, new.transactional, new.templateKey, new.dataJSON, new.locale,
                  attachments, new.organizationId, new.correlationId])
        return inserted.affectedRows == 1 ? id : nil
    }

    struct NewDelivery: Sendable {
        var id: UUID
        var channel: String
        var recipient: String
        var name: String?
        var locale: String?
        var status: String
        var error: String?
    }

    /// Records a request once per source key, with its deliveries, in one statement. nil when
    /// the source key was seen before; else the deliveries recorded (a recipient listed twice on
    /// a channel gets one).
    func insert(_ new: NewNotification, deliveries: [NewDelivery], in tx: Transaction) async throws -> Set<UUID>? {
        let attachments = try new.attachments.map { String(decoding: try ConveneJSON.encode($0), as: UTF8.self) }
        let row = try await tx.query("""
            WITH n AS (
                INSERT INTO notifications (id, source_key, category, transactional, template_key, data, locale, attachments,
                                           organization_id, correlation_id)
                VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8::jsonb, $9, $10)
                ON CONFLICT (source_key) DO NOTHING
                RETURNING id
            ), d AS (
                INSERT INTO deliveries (id, notification_id, channel, recipient, recipient_name, locale, status, last_error)
                SELECT d.id, n.id, d.channel, d.recipient, d.name, d.locale, d.status, d.error
                FROM n, unnest($11::uuid[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[])
                        WITH ORDINALITY AS d(id, channel, recipient, name, locale, status, error, position)
                ORDER BY d.position
                ON CONFLICT (notification_id, channel, recipient) DO NOTHING
                RETURNING id
            )
            SELECT (SELECT count(*) FROM n) AS fresh, coalesce((SELECT array_to_json(array_agg(id))::text FROM d), '[]') AS ids
            """, [UUID(), new.sourceKey, new.category, new.transactional, new.templateKey, new.dataJSON, new.locale, attachments,
                  new.organizationId, new.correlationId,
                  PGTextArray(deliveries.map { $0.id.uuidString.lowercased() }), PGTextArray(deliveries.map(\.channel)),
                  PGTextArray(deliveries.map(\.recipient)), PGTextArray(deliveries.map(\.name)),
                  PGTextArray(deliveries.map(\.locale)), PGTextArray(deliveries.map(\.status)),
                  PGTextArray(deliveries.map(\.error))]).first!
        guard try row.int("fresh") == 1 else { return nil }
        return Set(try ConveneJSON.decode([UUID].self, from: Array(try row.string("ids").utf8)))
    }

    /// Returns false when the recipient already has a delivery on that channel.
    @discardableResult
    func insertDelivery(id: UUID, notification: UUID, channel: String, recipient: String, name: String?, locale: String?,
                        status: String, error: String?, in tx: Transaction) async throws -> Bool {
        try await tx.query("""
            INSERT INTO deliveries (id, notification_id, channel, recipient, recipient_name, locale, status, last_error)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            ON CONFLICT (notification_id, channel, recipient) DO NOTHING
            """, [id, notification, channel, recipient, name, locale, status, error]).affectedRows == 1
    }

    /// Who among `recipients` opted out of `category`, lower-cased: addresses compare without
    /// regard to case (`Ann@Example.com` is `ann@example.com`).
    func optedOut(_ recipients: [String], category: String, in tx: Transaction) async throws -> Set<String> {
        guard !recipients.isEmpty else { return [] }
        let rows = try await tx.query("""
            SELECT lower(recipient) AS recipient FROM preferences
            WHERE category = $1 AND opted_out AND lower(recipient) = ANY($2::text[])
            """, [category, PGTextArray(recipients.map { $0.lowercased() })]).rows
        return Set(try rows.map { try $0.string("recipient") })
    }

    /// Takes up to `limit` queued deliveries for sending, in one transaction that commits before
    /// anything leaves (the intent): each becomes `sending`, or waits for its robot's next free
    /// send of the rolling minute, or is skipped when its robot or webhook is gone. Rows another
    /// worker holds are skipped, not waited for. The credentials a send needs are opened here,
    /// so sending touches no connection.
    func claim(limit: Int, robotLimit: Int, robots: RobotStore, webhooks: WebhookStore, pool: PGPool) async throws -> [Claim] {
        try await pool.withTransaction { tx in
            let rows = try await tx.query("""
                SELECT d.id, d.channel, d.recipient, d.recipient_name, coalesce(d.locale, n.locale) AS locale, d.attempts,
                       n.template_key, n.category, n.data::text AS data, n.attachments::text AS attachments,
                       n.organization_id, n.correlation_id, n.id AS notification_id
                FROM deliveries d JOIN notifications n ON n.id = d.notification_id
                WHERE d.status = 'queued'
                ORDER BY d.created_at
                LIMIT $1
                FOR UPDATE OF d SKIP LOCKED
                """, [limit]).rows
            var claims: [Claim] = []
            var taken: [UUID] = []
            // Robots in a fixed order, so two workers locking the same robots cannot deadlock.
            for row in rows.sorted(by: { ($0["recipient"] ?? "") < ($1["recipient"] ?? "") }) {
                var claimed = try Self.claimed(row)
                if let kind = RobotKind(rawValue: claimed.channel) {
                    guard let robot = UUID(uuidString: claimed.recipient),
                          try await tx.query("SELECT id FROM robots WHERE id = $1 AND kind = $2 FOR UPDATE",
                                             [robot, kind.rawValue]).first != nil
                    else {
                        claims.append(.skipped(claimed, "the robot was removed"))
                        continue
                    }
                    // One row that cannot be opened must not hold up the whole queue.
                    let credentials: RobotCredentials
                    do {
                        guard let opened = try await robots.credentials(robot, in: tx)?.1 else { continue }
                        credentials = opened
                    } catch is SecretBox.Failure {
                        claims.append(.skipped(claimed, Self.unopenable))
                        continue
                    }
                    let recent = try await tx.query("""
                        SELECT sent_at FROM robot_sends WHERE robot_id = $1 AND sent_at > now() - interval '60 seconds'
                        ORDER BY sent_at DESC LIMIT $2
                        """, [robot, robotLimit]).rows
                    if recent.count >= robotLimit {
                        // The oldest of the last `robotLimit` sends leaves the window a minute after it went; a
                        // second more covers the time between our claim and the provider counting it.
                        let free = try recent[recent.count - 1].date("sent_at").addingTimeInterval(61)
                        try await tx.query("UPDATE deliveries SET status = 'waiting', not_before = $2, updated_at = now() WHERE id = $1",
                                           [claimed.id, free])
                        claims.append(.deferred(claimed.id, free))
                        continue
                    }
                    try await tx.query("INSERT INTO robot_sends (robot_id, sent_at, delivery_id) VALUES ($1, now(), $2)",
                                       [robot, claimed.id])
                    claimed.robot = (kind, credentials)
                } else if claimed.channel == Channel.webhook {
                    guard let webhook = UUID(uuidString: claimed.recipient),
                          try await tx.query("SELECT 1 FROM webhooks WHERE id = $1 AND enabled", [webhook]).first != nil
                    else {
                        claims.append(.skipped(claimed, "the webhook was disabled or deleted"))
                        continue
                    }
                    let target: (url: String, secret: String)
                    do {
                        guard let found = try await webhooks.target(webhook, in: tx) else { continue }
                        target = found
                    } catch is SecretBox.Failure {
                        claims.append(.skipped(claimed, Self.unopenable))
                        continue
                    }
                    claimed.webhook = target
                }
                claimed.attempts += 1
                taken.append(claimed.id)
                claims.append(.claimed(claimed))
            }
            if !taken.isEmpty {
                try await tx.query("""
                    UPDATE deliveries SET status = 'sending', attempts = attempts + 1, updated_at = now() WHERE id = ANY($1::uuid[])
                    """, [PGTextArray(taken.map { $0.uuidString.lowercased() })])
            }
            return claims
        }
    }

    static let unopenable = "its secret cannot be opened with NOTIFICATION_SECRET_KEY or the previous keys"

    private static func claimed(_ row: PGRow) throws -> Claimed {
        let attachments = row["attachments"].map { text in
            (try? ConveneJSON.decode([NotificationAttachment].self, from: Array(text.utf8))) ?? []
        } ?? []
        return Claimed(
            id: try row.uuid("id"), channel: try row.string("channel"), recipient: try row.string("recipient"),
            recipientName: row["recipient_name"], locale: row["locale"], attempts: try row.int("attempts"),
            templateKey: try row.string("template_key"), category: try row.string("category"),
            dataText: try row.string("data"), attachments: attachments,
            organizationId: row["organization_id"], correlationId: row["correlation_id"],
            notificationId: try row.uuid("notification_id"))
    }

    func finish(_ id: UUID, status: String, error: String?, answer: String?, in tx: Transaction) async throws {
        try await tx.query("""
            UPDATE deliveries SET status = $2, last_error = $3, provider_answer = $4, updated_at = now() WHERE id = $1
            """, [id, status, error, answer])
    }

    /// Many deliveries sent, in one statement.
    func finishSent(_ sent: [(id: UUID, answer: String)], in tx: Transaction) async throws {
        try await tx.query("""
            UPDATE deliveries d SET status = 'sent', last_error = NULL, provider_answer = s.answer, updated_at = now()
            FROM unnest($1::uuid[], $2::text[]) AS s(id, answer)
            WHERE d.id = s.id
            """, [PGTextArray(sent.map { $0.id.uuidString.lowercased() }), PGTextArray(sent.map(\.answer))])
    }

    /// A robot's send counts from when the provider answered.
    func robotSent(_ id: UUID, in tx: Transaction) async throws {
        try await tx.query("UPDATE robot_sends SET sent_at = clock_timestamp() WHERE delivery_id = $1", [id])
    }

    /// A transient failure: the delivery waits for its next attempt, which the scheduler queues.
    func wait(_ id: UUID, for delay: Duration, error: String, in tx: Transaction) async throws {
        let seconds = Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18
        try await tx.query("""
            UPDATE deliveries SET status = 'waiting', not_before = now() + $2 * interval '1 second', last_error = $3,
                                  updated_at = now()
            WHERE id = $1
            """, [id, String(seconds), error])
    }

    /// Deliveries whose wait is over go back to `queued` (the trigger wakes the workers).
    func releaseDue(in tx: Transaction) async throws -> Int {
        try await tx.query("""
            UPDATE deliveries SET status = 'queued', updated_at = now()
            WHERE status = 'waiting' AND not_before <= now()
            """).affectedRows
    }

    /// Deliveries left `sending` by a service that stopped mid-send: whether they went out is
    /// unknown, so they are not sent again but marked for a person to look at.
    func markUnconfirmed(olderThan timeout: Duration, in tx: Transaction) async throws -> Int {
        try await tx.query("""
            UPDATE deliveries SET status = 'unconfirmed', updated_at = now(),
                   last_error = 'outcome unknown: the service stopped while sending'
            WHERE status = 'sending' AND updated_at < now() - $1 * interval '1 second'
            """, [String(timeout.components.seconds)]).affectedRows
    }

}
