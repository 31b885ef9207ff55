import Contracts
import Foundation
import Persistence
import Secrets

/// SQL for organizations' platform credentials. The whole credential set is sealed with the
/// organization and platform as context; the identifiers are also kept in the clear for listing
/// and for finding an organization from a webhook (Zoom's account id).
struct CredentialStore: Sendable {
    let secrets: SecretBox

    static func context(_ organizationId: String, _ platform: String) -> String {
        "platform-bridge.credentials:\(organizationId):\(platform)"
    }

    struct Public: Codable {
        var account: String
        var clientId: String?
        var creator: String?
    }

    func set(_ credentials: PlatformCredentials, organizationId: String, setBy: String?,
             in tx: Transaction) async throws -> PlatformCredentialStatus {
        let platform = credentials.platform
        let (plain, shown, lookup, webhook): (String, Public, String, Bool)
        switch credentials {
        case .zoom(let c):
            plain = String(decoding: try ConveneJSON.encode(c), as: UTF8.self)
            shown = Public(account: c.accountId, clientId: c.clientId, creator: c.userId ?? "me")
            lookup = c.accountId
            webhook = c.webhookSecretToken?.isEmpty == false
        case .tencent(let c):
            plain = String(decoding: try ConveneJSON.encode(c), as: UTF8.self)
            shown = Public(account: c.appId, clientId: c.secretId, creator: c.creatorUserId)
            lookup = c.appId
            webhook = c.webhookToken?.isEmpty == false
        case .dingtalk(let c):
            plain = String(decoding: try ConveneJSON.encode(c), as: UTF8.self)
            shown = Public(account: c.appKey, clientId: nil, creator: c.creatorUnionId)
            lookup = c.appKey
            webhook = false
        }
        let sealed = try secrets.seal(plain, context: Self.context(organizationId, platform))
        let row = try await tx.query("""
            INSERT INTO credentials (organization_id, platform, public, sealed, lookup, webhook_verification, set_by, updated_at)
            VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, now())
            ON CONFLICT (organization_id, platform) DO UPDATE
               SET public = EXCLUDED.public, sealed = EXCLUDED.sealed, lookup = EXCLUDED.lookup,
                   webhook_verification = EXCLUDED.webhook_verification, set_by = EXCLUDED.set_by, updated_at = now()
            RETURNING updated_at
            """, [organizationId, platform, String(decoding: try ConveneJSON.encode(shown), as: UTF8.self), sealed, lookup,
                  webhook, setBy]).first!
        return PlatformCredentialStatus(platform: platform, account: shown.account, clientId: shown.clientId,
                                        creator: shown.creator, webhookVerification: webhook, updatedAt: try row.date("updated_at"))
    }

    func list(organizationId: String, in tx: Transaction) async throws -> [PlatformCredentialStatus] {
        try await tx.query("""
            SELECT platform, public::text AS public, webhook_verification, updated_at FROM credentials
            WHERE organization_id = $1 ORDER BY platform
            """, [organizationId]).rows.map { row in
            let shown = try ConveneJSON.decode(Public.self, from: Array(try row.string("public").utf8))
            return PlatformCredentialStatus(platform: try row.string("platform"), account: shown.account, clientId: shown.clientId,
                                            creator: shown.creator, webhookVerification: try row.bool("webhook_verification"),
                                            updatedAt: try row.date("updated_at"))
        }
    }

    func remove(platform: String, organizationId: String, in tx: Transaction) async throws -> Bool {
        try await tx.query("DELETE FROM credentials WHERE organization_id = $1 AND platform = $2",
                           [organizationId, platform]).affectedRows == 1
    }

    /// The organization's credentials for a platform, opened; nil when none are set.
    func open(platform: String, organizationId: String, in tx: Transaction) async throws -> PlatformCredentials? {
        guard let row = try await tx.query("SELECT sealed FROM credentials WHERE organization_id = $1 AND platform = $2",
                                           [organizationId, platform]).first else { return nil }
        return try decode(platform: platform, sealed: try row.string("sealed"), organizationId: organizationId)
    }

    /// Organizations whose Zoom credentials name `accountId` (normally one), or all with a webhook
    /// secret token when `accountId` is nil (URL validation names no account).
    func zoomWebhookSecrets(accountId: String?, in tx: Transaction) async throws -> [(organizationId: String, credentials: ZoomCredentials)] {
        let rows = try await tx.query("""
            SELECT organization_id, sealed FROM credentials
            WHERE platform = 'zoom' AND webhook_verification AND ($1::text IS NULL OR lookup = $1)
            ORDER BY organization_id
            """, [accountId]).rows
        return try rows.compactMap { row in
            let organizationId = try row.string("organization_id")
            guard case .zoom(let c)? = try? decode(platform: MeetingPlatformName.zoom, sealed: try row.string("sealed"),
                                                   organizationId: organizationId) else { return nil }
            return (organizationId, c)
        }
    }

    /// Organizations whose Tencent Meeting credentials have a callback token (callbacks name no
    /// organization: the one whose token verifies the signature is the one).
    func tencentWebhookTokens(in tx: Transaction) async throws -> [(organizationId: String, token: String)] {
        let rows = try await tx.query("""
            SELECT organization_id, sealed FROM credentials WHERE platform = 'tencent' AND webhook_verification
            ORDER BY organization_id
            """).rows
        return try rows.compactMap { row in
            let organizationId = try row.string("organization_id")
            guard case .tencent(let c)? = try? decode(platform: MeetingPlatformName.tencent, sealed: try row.string("sealed"),
                                                      organizationId: organizationId),
                  let token = c.webhookToken, !token.isEmpty else { return nil }
            return (organizationId, token)
        }
    }

    private func decode(platform: String, sealed: String, organizationId: String) throws -> PlatformCredentials {
        let bytes = Array(try secrets.open(sealed, context: Self.context(organizationId, platform)).utf8)
        switch platform {
        case MeetingPlatformName.zoom: return .zoom(try ConveneJSON.decode(ZoomCredentials.self, from: bytes))
        case MeetingPlatformName.tencent: return .tencent(try ConveneJSON.decode(TencentCredentials.self, from: bytes))
        default: return .dingtalk(try ConveneJSON.decode(DingTalkCredentials.self, from: bytes))
        }
    }
}
