import Foundation
import Persistence

/// An account as the gateway keeps it. The password hash never leaves this store's callers.
struct AccountRecord: Sendable, Equatable {
    var id: UUID
    var email: String
    var passwordHash: String
    var name: String
    var phone: String?
    var affiliation: String?
    var title: String?
    var locale: String
    var createdAt: Date
}

/// SQL for accounts.
struct AccountStore: Sendable {
    /// Inserts the account; nil when the email (compared case-insensitively) is taken.
    func create(_ account: AccountRecord, in tx: Transaction) async throws -> Bool {
        let result = try await tx.query("""
            INSERT INTO accounts (id, email, password_hash, name, phone, affiliation, title, locale)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            ON CONFLICT (lower(email)) DO NOTHING
            """, [account.id, account.email, account.passwordHash, account.name, account.phone, account.affiliation,
                  account.title, account.locale])
        return result.affectedRows == 1
    }

    func find(email: String, in tx: Transaction) async throws -> AccountRecord? {
        try await tx.query("SELECT * FROM accounts WHERE lower(email) = lower($1)", [email]).first.map(Self.record)
    }

    func find(id: UUID, in tx: Transaction, forUpdate: Bool = false) async throws -> AccountRecord? {
        try await tx.query("SELECT * FROM accounts WHERE id = $1" + (forUpdate ? " FOR UPDATE" : ""), [id]).first.map(Self.record)
    }

    func setPassword(accountId: UUID, hash: String, in tx: Transaction) async throws {
        try await tx.query("""
            UPDATE accounts SET password_hash = $2, password_changed_at = now(), updated_at = now() WHERE id = $1
            """, [accountId, hash])
    }

    static func record(_ row: PGRow) throws -> AccountRecord {
        AccountRecord(id: try row.uuid("id"), email: try row.string("email"), passwordHash: try row.string("password_hash"),
                      name: try row.string("name"), phone: row["phone"], affiliation: row["affiliation"], title: row["title"],
                      locale: try row.string("locale"), createdAt: try row.date("created_at"))
    }
}
