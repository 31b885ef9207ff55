import Foundation

/// Who is calling: the verified claims of the request's access token, or an organization's API key.
struct Principal: Sendable, Equatable {
    enum Role: String, Sendable, CaseIterable {
        case participant
        case user
        case meetingAdmin = "meeting_admin"
        case orgAdmin = "org_admin"
        case systemAdmin = "system_admin"
    }

    /// `sub`
    var accountId: String
    /// `org`; nil when the account acts in no organization.
    var organizationId: String?
    /// `roles`; role names this build does not know grant nothing and are dropped.
    var roles: Set<Role>
    var email: String?
    var locale: String?
    /// Set when the caller is an API key rather than a signed-in account.
    var apiKey: APIKeyGrant?

    /// An API key that authenticated the request: its id and what it may do.
    struct APIKeyGrant: Sendable, Equatable {
        var id: UUID
        var scopes: Set<APIKeyScope>
    }

    init(accountId: String, organizationId: String?, roles: Set<Role>, email: String?, locale: String?) {
        self.accountId = accountId
        self.organizationId = organizationId
        self.roles = roles
        self.email = email
        self.locale = locale
    }

    /// An API key of `organizationId`. It holds no role and is no account: its `accountId` is
    /// `apikey:<id>`, the actor services record for what it does (a reviewer, a confirmer), so
    /// that an audit trail never shows a key's action as a person's.
    init(apiKey id: UUID, organizationId: String, scopes: Set<APIKeyScope>) {
        accountId = "apikey:" + id.uuidString.lowercased()
        self.organizationId = organizationId
        roles = []
        apiKey = APIKeyGrant(id: id, scopes: scopes)
    }

    /// Whose requests these are, for rate limits and `Idempotency-Key`s: `account:<id>` or `apikey:<id>`.
    var callerKey: String { apiKey == nil ? "account:" + accountId : accountId }

    /// May act as an administrator of `organizationId`: an `org_admin` of that organization, or
    /// a `system_admin`. Another organization answers 404, so that its existence is not confirmed;
    /// a member of the organization without the role gets 403.
    func requireAdmin(of organizationId: String) throws(Problem) {
        if roles.contains(.systemAdmin) { return }
        guard organizationId == self.organizationId else { throw Problem.notFound("no such organization") }
        guard roles.contains(.orgAdmin) else {
            throw Problem(.forbidden, code: "gateway.forbidden", detail: "only an administrator of the organization may do this")
        }
    }
}
