import Foundation
import JWTKit

/// Makes access tokens with the gateway's key and claims: used by tests now, by sign-in later.
struct TokenIssuer: Sendable {
    let keys: TokenKeys
    /// How long a token is valid when the caller does not say.
    var lifetime: Duration

    init(keys: TokenKeys, lifetime: Duration = .seconds(15 * 60)) {
        self.keys = keys
        self.lifetime = lifetime
    }

    init(settings: TokenSettings, lifetime: Duration = .seconds(15 * 60)) {
        self.init(keys: TokenKeys(settings), lifetime: lifetime)
    }

    func issue(accountId: String, organizationId: String?, roles: [Principal.Role], email: String? = nil,
               locale: String? = nil, lifetime: Duration? = nil, now: Date = Date()) async throws -> String {
        let seconds = Double((lifetime ?? self.lifetime).components.seconds)
        let claims = AccessClaims(
            sub: SubjectClaim(value: accountId), org: organizationId, roles: roles.map(\.rawValue), email: email,
            locale: locale, iss: IssuerClaim(value: keys.settings.issuer), aud: AudienceClaim(value: [keys.settings.audience]),
            exp: ExpirationClaim(value: now.addingTimeInterval(seconds)), iat: IssuedAtClaim(value: now), nbf: nil)
        return try await issue(claims)
    }

    func issue(for principal: Principal, lifetime: Duration? = nil, now: Date = Date()) async throws -> String {
        try await issue(accountId: principal.accountId, organizationId: principal.organizationId,
                        roles: Principal.Role.allCases.filter(principal.roles.contains), email: principal.email,
                        locale: principal.locale, lifetime: lifetime, now: now)
    }

    /// Signs `claims` as they are (the header says `alg: HS256`, `typ: JWT`).
    func issue(_ claims: AccessClaims) async throws -> String {
        try await keys.keys.sign(claims)
    }
}
