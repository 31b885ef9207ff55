import Foundation
import Persistence

/// Memberships and role grants: what an account may do in an organization.
struct RoleStore: Sendable {
    /// The roles a token for `accountId` acting in `organizationId` carries: `participant` always,
    /// `user` for a member, the organization's grants, and a system-wide `system_admin`.
    func roles(accountId: UUID, organizationId: String?, in tx: Transaction) async throws -> Set<Principal.Role> {
        var roles: Set<Principal.Role> = [.participant]
        let rows = try await tx.query("""
            SELECT 'user' AS role FROM memberships WHERE account_id = $1 AND organization_id = $2
            UNION
            SELECT role FROM role_grants
            WHERE account_id = $1 AND (organization_id = $2 OR organization_id IS NULL)
            """, [accountId, organizationId]).rows
        for row in rows {
            if let role = Principal.Role(rawValue: try row.string("role")) { roles.insert(role) }
        }
        return roles
    }

    /// The organization a sign-in acts in when the client names none: the first one joined.
    func defaultOrganization(accountId: UUID, in tx: Transaction) async throws -> String? {
        try await tx.query("""
            SELECT organization_id FROM memberships WHERE account_id = $1 ORDER BY joined_at, organization_id LIMIT 1
            """, [accountId]).first?.string("organization_id")
    }

    func isMember(accountId: UUID, organizationId: String, in tx: Transaction) async throws -> Bool {
        try await tx.query("SELECT 1 FROM memberships WHERE account_id = $1 AND organization_id = $2",
                           [accountId, organizationId]).first != nil
    }

    /// Whether the account holds a system-wide grant (system admins may act in any organization).
    func isSystemAdmin(accountId: UUID, in tx: Transaction) async throws -> Bool {
        try await tx.query("SELECT 1 FROM role_grants WHERE account_id = $1 AND role = 'system_admin'", [accountId]).first != nil
    }
}
