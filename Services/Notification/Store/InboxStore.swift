import Contracts
import Foundation
import Persistence

/// SQL for the in-app inbox. Every query is scoped to the account: an item of another account is
/// neither listed nor marked.
struct InboxStore: Sendable {
    func insert(deliveryId: UUID, accountId: String, organizationId: String?, category: String, title: String, body: String,
                link: String?, in tx: Transaction) async throws {
        try await tx.query("""
            INSERT INTO inbox_items (id, delivery_id, account_id, organization_id, category, title, body, link)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            """, [UUID(), deliveryId, accountId, organizationId, category, title, body, link])
    }

    /// Newest first. The cursor is the last item's (created_at, id), so pages stay stable while
    /// new items arrive.
    func page(_ request: ListInbox, in tx: Transaction) async throws -> InboxPage {
        let limit = min(max(request.limit, 1), 100)
        var cursor: (Date, UUID)?
        if let before = request.before {
            let parts = before.split(separator: "_", maxSplits: 1)
            guard parts.count == 2, let micros = Int64(parts[0]), let id = UUID(uuidString: String(parts[1])) else {
                throw ConveneError(code: "notification.invalid_cursor", message: "not a cursor from a previous page")
            }
            cursor = (Date(timeIntervalSince1970: Double(micros) / 1_000_000), id)
        }
        let rows = try await tx.query("""
            SELECT id, title, body, category, link, created_at, read_at,
                   (extract(epoch FROM created_at) * 1000000)::bigint AS micros
            FROM inbox_items
            WHERE account_id = $1
              AND ($2::bigint IS NULL OR (created_at, id) < (to_timestamp($2::bigint / 1000000.0), $3::uuid))
              AND (NOT $4 OR read_at IS NULL)
            ORDER BY created_at DESC, id DESC
            LIMIT $5
            """, [request.accountId, cursor.map { Int64(($0.0.timeIntervalSince1970 * 1_000_000).rounded()) },
                  cursor?.1, request.unreadOnly ?? false, limit + 1]).rows
        let items = try rows.prefix(limit).map {
            InboxItem(id: try $0.string("id"), title: try $0.string("title"), body: try $0.string("body"),
                      category: try $0.string("category"), link: $0["link"], createdAt: try $0.date("created_at"),
                      readAt: $0.isNull("read_at") ? nil : try $0.date("read_at"))
        }
        let next = rows.count > limit ? try rows[limit - 1].int64("micros").description + "_" + rows[limit - 1].string("id") : nil
        return InboxPage(items: items, next: next)
    }

    func unread(accountId: String, in tx: Transaction) async throws -> Int {
        try await tx.query("SELECT count(*) AS n FROM inbox_items WHERE account_id = $1 AND read_at IS NULL", [accountId])
            .first!.int("n")
    }

    func markRead(accountId: String, ids: [String]?, in tx: Transaction) async throws -> Int {
        if let ids {
            let valid = ids.compactMap(UUID.init(uuidString:)).map { $0.uuidString.lowercased() }
            guard !valid.isEmpty else { return 0 }
            return try await tx.query("""
                UPDATE inbox_items SET read_at = now() WHERE account_id = $1 AND id = ANY($2::uuid[]) AND read_at IS NULL
                """, [accountId, PGTextArray(valid)]).affectedRows
        }
        return try await tx.query("UPDATE inbox_items SET read_at = now() WHERE account_id = $1 AND read_at IS NULL",
                                  [accountId]).affectedRows
    }
}
