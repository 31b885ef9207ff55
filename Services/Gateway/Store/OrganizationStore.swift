import Foundation
import Persistence

/// Organizations, departments, members and role requests.
struct OrganizationStore: Sendable {
    struct Organization: Codable, Sendable, Equatable {
        var id: String
        var name: String
        var createdAt: Date
    }

    struct Department: Codable, Sendable, Equatable {
        var id: String
        var name: String
        var parentId: String?
        var headAccountId: String?
    }

    struct Member: Codable, Sendable, Equatable {
        var accountId: String
        var email: String
        var name: String
        var departmentId: String?
        var roles: [String]
        var joinedAt: Date
    }

    struct RoleRequest: Codable, Sendable, Equatable {
        var id: String
        var accountId: String
        var email: String
        var name: String
        var role: String
        var departmentId: String?
        var reason: String
        var status: String
        var decidedBy: String?
        var decidedAt: Date?
        var comment: String?
        var createdAt: Date
    }

    // MARK: Organizations and departments

    func create(id: String, name: String, createdBy: UUID?, in tx: Transaction) async throws -> Organization? {
        try await tx.query("""
            INSERT INTO organizations (id, name, created_by) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING
            RETURNING id, name, created_at
            """, [id, name, createdBy]).first.map(Self.organization)
    }

    func organization(_ id: String, in tx: Transaction) async throws -> Organization? {
        try await tx.query("SELECT id, name, created_at FROM organizations WHERE id = $1", [id]).first.map(Self.organization)
    }

    func createDepartment(organizationId: String, name: String, parentId: UUID?, headAccountId: UUID?,
                          in tx: Transaction) async throws -> Department? {
        try await tx.query("""
            INSERT INTO departments (id, organization_id, name, parent_id, head_account_id)
            SELECT $1, $2, $3, $4, $5
            WHERE $4::uuid IS NULL OR EXISTS (SELECT 1 FROM departments WHERE id = $4 AND organization_id = $2)
            ON CONFLICT (organization_id, name) DO NOTHING
            RETURNING id, name, parent_id, head_account_id
            """, [UUID(), organizationId, name, parentId, headAccountId]).first.map(Self.department)
    }

    func departments(organizationId: String, in tx: Transaction) async throws -> [Department] {
        try await tx.query("""
            SELECT id, name, parent_id, head_account_id FROM departments WHERE organization_id = $1 ORDER BY name
            """, [organizationId]).rows.map(Self.department)
    }

    func department(_ id: UUID, organizationId: String, in tx: Transaction) async throws -> Department? {
        try await tx.query("""
            SELECT id, name, parent_id, head_account_id FROM departments WHERE id = $1 AND organization_id = $2
            """, [id, organizationId]).first.map(Self.department)
    }

    // MARK: Members

    /// Adds the account (or moves it to `departmentId`); answers whether it was new.
    func addMember(organizationId: String, accountId: UUID, departmentId: UUID?, in tx: Transaction) async throws -> Bool {
        try await tx.query("""
            INSERT INTO memberships (organization_id, account_id, department_id) VALUES ($1, $2, $3)
            ON CONFLICT (organization_id, account_id) DO UPDATE SET department_id = coalesce($3, memberships.department_id)
            RETURNING (xmax = 0) AS inserted
            """, [organizationId, accountId, departmentId]).first!.bool("inserted")
    }

    func members(organizationId: String, in tx: Transaction) async throws -> [Member] {
        try await tx.query("""
            SELECT m.account_id, a.email, a.name, m.department_id, m.joined_at,
                   coalesce((SELECT string_agg(DISTINCT g.role, ',' ORDER BY g.role) FROM role_grants g
                             WHERE g.account_id = m.account_id AND g.organization_id = m.organization_id), '') AS roles
            FROM memberships m JOIN accounts a ON a.id = m.account_id
            WHERE m.organization_id = $1 ORDER BY m.joined_at, a.email
            """, [organizationId]).rows.map { row in
                let granted = try row.string("roles").split(separator: ",").map(String.init)
                return Member(accountId: try row.string("account_id"), email: try row.string("email"), name: try row.string("name"),
                              departmentId: row["department_id"], roles: ["user"] + granted, joinedAt: try row.date("joined_at"))
            }
    }

    /// Ends a membership and the organization's grants of the account.
    func removeMember(organizationId: String, accountId: UUID, in tx: Transaction) async throws -> Bool {
        try await tx.query("DELETE FROM role_grants WHERE organization_id = $1 AND account_id = $2", [organizationId, accountId])
        return try await tx.query("DELETE FROM memberships WHERE organization_id = $1 AND account_id = $2",
                                  [organizationId, accountId]).affectedRows == 1
    }

    func departmentOf(accountId: UUID, organizationId: String, in tx: Transaction) async throws -> UUID? {
        guard let row = try await tx.query("""
            SELECT department_id FROM memberships WHERE organization_id = $1 AND account_id = $2
            """, [organizationId, accountId]).first, !row.isNull("department_id") else { return nil }
        return try row.uuid("department_id")
    }

    // MARK: Grants and requests

    func grant(accountId: UUID, organizationId: String?, departmentId: UUID?, role: String, grantedBy: UUID?,
               in tx: Transaction) async throws {
        try await tx.query("""
            INSERT INTO role_grants (id, account_id, organization_id, department_id, role, granted_by)
            VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING
            """, [UUID(), accountId, organizationId, departmentId, role, grantedBy])
    }

    /// nil when the same request is already open.
    func createRequest(accountId: UUID, organizationId: String, departmentId: UUID?, role: String, reason: String,
                       in tx: Transaction) async throws -> UUID? {
        let id = UUID()
        let inserted = try await tx.query("""
            INSERT INTO role_requests (id, account_id, organization_id, department_id, role, reason)
            VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING
            """, [id, accountId, organizationId, departmentId, role, reason]).affectedRows
        return inserted == 1 ? id : nil
    }

    func request(_ id: UUID, organizationId: String, in tx: Transaction, forUpdate: Bool = false) async throws -> RoleRequest? {
        try await tx.query(Self.requestSelect + " WHERE r.id = $1 AND r.organization_id = $2" + (forUpdate ? " FOR UPDATE OF r" : ""),
                           [id, organizationId]).first.map(Self.roleRequest)
    }

    /// The organization's requests; only those of `accountId` when given, only those of
    /// `departments` when given.
    func requests(organizationId: String, status: String?, accountId: UUID?, departments: [UUID]?,
                  in tx: Transaction) async throws -> [RoleRequest] {
        try await tx.query(Self.requestSelect + """
             WHERE r.organization_id = $1 AND ($2::text IS NULL OR r.status = $2)
               AND ($3::uuid IS NULL OR r.account_id = $3)
               AND ($4::uuid[] IS NULL OR r.department_id = ANY($4::uuid[]))
             ORDER BY r.created_at DESC LIMIT 500
            """, [organizationId, status, accountId, departments.map { PGTextArray($0.map { $0.uuidString.lowercased() }) }])
            .rows.map(Self.roleRequest)
    }

    func decide(_ id: UUID, approved: Bool, by decider: UUID, comment: String?, in tx: Transaction) async throws {
        try await tx.query("""
            UPDATE role_requests SET status = $2, decided_by = $3, decided_at = now(), comment = $4 WHERE id = $1
            """, [id, approved ? "approved" : "rejected", decider, comment])
    }

    /// Departments the account heads in the organization.
    func headedDepartments(accountId: UUID, organizationId: String, in tx: Transaction) async throws -> [UUID] {
        try await tx.query("SELECT id FROM departments WHERE organization_id = $1 AND head_account_id = $2",
                           [organizationId, accountId]).rows.map { try $0.uuid("id") }
    }

    func hasGrant(accountId: UUID, organizationId: String, role: String, in tx: Transaction) async throws -> Bool {
        try await tx.query("SELECT 1 FROM role_grants WHERE account_id = $1 AND organization_id = $2 AND role = $3",
                           [accountId, organizationId, role]).first != nil
    }

    // MARK: Rows

    static let requestSelect = """
        SELECT r.id, r.account_id, a.email, a.name, r.role, r.department_id, r.reason, r.status, r.decided_by,
               r.decided_at, r.comment, r.created_at
        FROM role_requests r JOIN accounts a ON a.id = r.account_id
        """

    static func organization(_ row: PGRow) throws -> Organization {
        Organization(id: try row.string("id"), name: try row.string("name"), createdAt: try row.date("created_at"))
    }

    static func department(_ row: PGRow) throws -> Department {
        Department(id: try row.string("id"), name: try row.string("name"), parentId: row["parent_id"],
                   headAccountId: row["head_account_id"])
    }

    static func roleRequest(_ row: PGRow) throws -> RoleRequest {
        RoleRequest(id: try row.string("id"), accountId: try row.string("account_id"), email: try row.string("email"),
                    name: try row.string("name"), role: try row.string("role"), departmentId: row["department_id"],
                    reason: try row.string("reason"), status: try row.string("status"), decidedBy: row["decided_by"],
                    decidedAt: row.isNull("decided_at") ? nil : try row.date("decided_at"), comment: row["comment"],
                    createdAt: try row.date("created_at"))
    }
}
