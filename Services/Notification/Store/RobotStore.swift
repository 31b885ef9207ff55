import Contracts
import Foundation
import Persistence
import Secrets

/// SQL for an organization's robots; credentials are sealed with the robot's id as context.
struct RobotStore: Sendable {
    let secrets: SecretBox

    static func context(_ id: UUID) -> String { "notification.robot:\(id.uuidString.lowercased())" }

    func insert(organizationId: String, kind: RobotKind, name: String, credentials: RobotCredentials,
                in tx: Transaction) async throws -> RobotSummary {
        let id = UUID()
        let sealed = try secrets.seal(String(decoding: try ConveneJSON.encode(credentials), as: UTF8.self),
                                      context: Self.context(id))
        let row = try await tx.query("""
            INSERT INTO robots (id, organization_id, kind, name, credentials, signed) VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (organization_id, name) DO NOTHING
            RETURNING created_at
            """, [id, organizationId, kind.rawValue, name, sealed, credentials.secret != nil]).first
        guard let row else {
            throw ConveneError(code: "notification.robot_exists", message: "the organization already has a robot named \(name)")
        }
        return RobotSummary(id: id.uuidString.lowercased(), kind: kind.rawValue, name: name,
                            signed: credentials.secret != nil, createdAt: try row.date("created_at"))
    }

    func list(organizationId: String, in tx: Transaction) async throws -> [RobotSummary] {
        try await tx.query("""
            SELECT id, kind, name, signed, created_at FROM robots WHERE organization_id = $1 ORDER BY created_at, id
            """, [organizationId]).rows.map {
            RobotSummary(id: try $0.string("id"), kind: try $0.string("kind"), name: try $0.string("name"),
                         signed: try $0.bool("signed"), createdAt: try $0.date("created_at"))
        }
    }

    /// The organization's robots among `ids` (others' robots are not found), with their kinds.
    func kinds(of ids: [String], organizationId: String?, in tx: Transaction) async throws -> [String: RobotKind] {
        guard let organizationId, !ids.isEmpty else { return [:] }
        let valid = ids.filter { UUID(uuidString: $0) != nil }
        guard !valid.isEmpty else { return [:] }
        var kinds: [String: RobotKind] = [:]
        for row in try await tx.query("""
            SELECT id, kind FROM robots WHERE organization_id = $1 AND id = ANY($2::uuid[])
            """, [organizationId, PGTextArray(valid.map { $0.lowercased() })]).rows {
            kinds[try row.string("id")] = RobotKind(rawValue: try row.string("kind"))
        }
        return kinds
    }

    func ids(ofKinds kinds: [RobotKind], organizationId: String?, in tx: Transaction) async throws -> [String] {
        guard let organizationId, !kinds.isEmpty else { return [] }
        return try await tx.query("""
            SELECT id FROM robots WHERE organization_id = $1 AND kind = ANY($2::text[]) ORDER BY created_at, id
            """, [organizationId, PGTextArray(kinds.map(\.rawValue))]).rows.map { try $0.string("id") }
    }

    func credentials(_ id: UUID, in tx: Transaction) async throws -> (RobotKind, RobotCredentials)? {
        guard let row = try await tx.query("SELECT kind, credentials FROM robots WHERE id = $1", [id]).first,
              let kind = RobotKind(rawValue: try row.string("kind"))
        else { return nil }
        let opened = try secrets.open(try row.string("credentials"), context: Self.context(id))
        return (kind, try ConveneJSON.decode(RobotCredentials.self, from: Array(opened.utf8)))
    }

    func delete(_ id: String, organizationId: String, in tx: Transaction) async throws -> Bool {
        guard let uuid = UUID(uuidString: id) else { return false }
        return try await tx.query("DELETE FROM robots WHERE id = $1 AND organization_id = $2", [uuid, organizationId])
            .affectedRows == 1
    }
}
