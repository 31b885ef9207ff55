import Foundation
import Hummingbird

extension GatewayRequestContext {
    /// The `{org}` of an organization route, once the caller is known to administer it (404 for
    /// another organization, 403 for a member without the role).
    func administeredOrganization() throws(Problem) -> String {
        let principal = try requirePrincipal()
        guard let organizationId = parameters.get("org"), (1...200).contains(organizationId.count) else {
            throw Problem.notFound("no such organization")
        }
        try principal.requireAdmin(of: organizationId)
        return organizationId
    }

    /// A resource id from the path. Ids are UUIDs: anything else names nothing (404), and is not
    /// sent on to a service.
    func resourceId(_ name: String, kind: String) throws(Problem) -> String {
        guard let raw = parameters.get(name), let id = UUID(uuidString: raw) else {
            throw Problem(.notFound, code: "gateway.not_found", detail: "no such \(kind)")
        }
        return id.uuidString.lowercased()
    }
}

extension String {
    /// Percent-encoded for one path segment (for `Location` headers).
    var pathEscaped: String {
        addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? self
    }
}
