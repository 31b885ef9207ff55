import Contracts
import Foundation
import Persistence

/// SQL for an organization's rule settings and recipients' preferences.
struct SettingsStore: Sendable {
    func ruleSettings(organizationId: String?, in tx: Transaction) async throws -> [String: (enabled: Bool, channels: [String]?)] {
        guard let organizationId else { return [:] }
        var settings: [String: (enabled: Bool, channels: [String]?)] = [:]
        for row in try await tx.query("""
            SELECT rule_id, enabled, array_to_json(channels)::text AS channels FROM rule_settings WHERE organization_id = $1
            """, [organizationId]).rows {
            let channels = try row["channels"].map { try ConveneJSON.decode([String].self, from: Array($0.utf8)) }
            settings[try row.string("rule_id")] = (try row.bool("enabled"), channels)
        }
        return settings
    }

    func setRule(organizationId: String, ruleId: String, enabled: Bool?, channels: [String]?, in tx: Transaction) async throws {
        try await tx.query("""
            INSERT INTO rule_settings (organization_id, rule_id, enabled, channels) VALUES ($1, $2, coalesce($3, true), $4::text[])
            ON CONFLICT (organization_id, rule_id) DO UPDATE
            SET enabled = coalesce($3, rule_settings.enabled), channels = coalesce($4::text[], rule_settings.channels),
                updated_at = now()
            """, [organizationId, ruleId, enabled, channels.map { PGTextArray($0) }])
    }

    func setPreference(_ preference: SetPreference, in tx: Transaction) async throws {
        try await tx.query("""
            INSERT INTO preferences (recipient, category, opted_out) VALUES ($1, $2, $3)
            ON CONFLICT (recipient, category) DO UPDATE SET opted_out = $3, updated_at = now()
            """, [preference.recipient, preference.category, preference.optedOut])
    }

    func preferences(of recipients: [String], in tx: Transaction) async throws -> [Preference] {
        guard !recipients.isEmpty else { return [] }
        return try await tx.query("""
            SELECT recipient, category, opted_out FROM preferences WHERE recipient = ANY($1::text[]) ORDER BY recipient, category
            """, [PGTextArray(recipients)]).rows.map {
            Preference(recipient: try $0.string("recipient"), category: try $0.string("category"),
                       optedOut: try $0.bool("opted_out"))
        }
    }
}
