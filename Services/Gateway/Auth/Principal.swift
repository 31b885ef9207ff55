/// Who is calling: the verified claims of the request's access token.
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
