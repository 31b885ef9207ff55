import Foundation
import JWTKit

/// The claims of a Convene access token (a JWT signed with HS256).
struct AccessClaims: JWTPayload, Equatable {
    /// The account id.
    var sub: SubjectClaim
    /// The organization the account acts in; absent for an account that belongs to none (a
    /// conference participant).
    var org: String?
    /// Among `participant`, `user`, `meeting_admin`, `org_admin`, `system_admin`.
    var roles: [String]
    var email: String?
    var locale: String?
    var iss: IssuerClaim
    var aud: AudienceClaim
    var exp: ExpirationClaim
    var iat: IssuedAtClaim?
    var nbf: NotBeforeClaim?

    /// Called by jwt-kit once the signature is verified. The issuer and audience depend on the
    /// settings and are checked by `TokenVerifier`.
    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
        try nbf?.verifyNotBefore()
    }
}
