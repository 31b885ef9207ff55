import Contracts
import Foundation
import Hummingbird
import Logging
import Persistence

/// Organizations, departments, members and role requests. System admins create organizations;
/// an organization's administrators manage departments and members; any signed-in account may
/// ask to join or for a role, and the head of the department concerned, an administrator of the
/// organization or a system admin decides.
struct OrganizationRoutes {
    let pool: PGPool
    let logger: Logger
    let store = OrganizationStore()
    let accounts = AccountStore()
    let roles = RoleStore()

    /// Roles one may ask for; `user` is joining the organization.
    static let requestableRoles: Set<String> = ["user", "meeting_admin", "org_admin"]

    struct CreateBody: JSONRequestBody {
        var id: String?
        var name: String
        var adminEmail: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case id, name, adminEmail }
        typealias Fields = CodingKeys
    }

    struct DepartmentBody: JSONRequestBody {
        var name: String
        var parentId: String?
        var headAccountId: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case name, parentId, headAccountId }
        typealias Fields = CodingKeys
    }

    struct MemberBody: JSONRequestBody {
        var email: String
        var departmentId: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case email, departmentId }
        typealias Fields = CodingKeys
    }

    struct RoleRequestBody: JSONRequestBody {
        var role: String
        var departmentId: String?
        var reason: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case role, departmentId, reason }
        typealias Fields = CodingKeys
    }

    struct DecisionBody: JSONRequestBody {
        var comment: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case comment }
        typealias Fields = CodingKeys
    }

    /// Lower-case letters, digits and dashes: organization ids appear in paths and messages.
    static func validOrganizationId(_ id: String) -> Bool {
        (2...64).contains(id.count) && id.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D }
            && !id.hasPrefix("-") && !id.hasSuffix("-")
    }

    func register(on routes: RouterGroup<GatewayRequestContext>) {
        // POST /v1/organizations → 201 Organization (system admins)
        routes.post("organizations") { request, context -> Response in
            let principal = try context.requirePrincipal()
            guard principal.roles.contains(.systemAdmin) else {
                throw Problem(.forbidden, code: "gateway.forbidden", detail: "only a system admin may create organizations")
            }
            let body = try await JSONBody.decode(CreateBody.self, from: request)
            let id = body.id ?? UUID().uuidString.lowercased()
            var violations: [SignUpRules.Violation] = []
            if !Self.validOrganizationId(id) {
                violations.append(.init(field: "id", code: "invalid_id", message: "2 to 64 of a-z, 0-9 and -"))
            }
            if let violation = SignUpRules.checkText(body.name, field: "name", required: true, maximum: 200) { violations.append(violation) }
            guard violations.isEmpty else { throw Problem.invalidFields(violations) }
            let created = try await pool.withTransaction { tx -> OrganizationStore.Organization in
                guard let organization = try await store.create(id: id, name: body.name.trimmingCharacters(in: .whitespacesAndNewlines),
                                                                createdBy: UUID(uuidString: principal.accountId), in: tx) else {
                    throw Problem(.conflict, code: "gateway.organization_exists", detail: "an organization with this id exists")
                }
                if let email = body.adminEmail {
                    guard let admin = try await accounts.find(email: email, in: tx) else {
                        throw Problem.invalidFields([.init(field: "adminEmail", code: "unknown_account", message: "no account has this address")])
                    }
                    _ = try await store.addMember(organizationId: id, accountId: admin.id, departmentId: nil, in: tx)
                    try await store.grant(accountId: admin.id, organizationId: id, departmentId: nil, role: "org_admin",
                                          grantedBy: UUID(uuidString: principal.accountId), in: tx)
                }
                return organization
            }
            logger.info("organization created", metadata: ["organizationId": "\(id)"])
            return try JSONResponse.make(created, status: .created, headers: [.location: "/v1/organizations/\(id.pathEscaped)"])
        }
        // GET /v1/organizations/{org} → Organization (its members and system admins)
        routes.get("organizations/:org") { _, context -> Response in
            let organizationId = try context.memberOrganization()
            guard let organization = try await pool.withTransaction({ tx in try await store.organization(organizationId, in: tx) }) else {
                throw Problem.notFound("no such organization")
            }
            return try JSONResponse.make(organization)
        }

        // Departments
        routes.get("organizations/:org/departments") { _, context -> Response in
            let organizationId = try context.memberOrganization()
            return try JSONResponse.make(ItemList(items: try await pool.withTransaction { tx in
                try await store.departments(organizationId: organizationId, in: tx)
            }))
        }
        routes.post("organizations/:org/departments") { request, context -> Response in
            let organizationId = try context.administeredOrganization()
            let body = try await JSONBody.decode(DepartmentBody.self, from: request)
            if let violation = SignUpRules.checkText(body.name, field: "name", required: true, maximum: 200) {
                throw Problem.invalidFields([violation])
            }
            let parent = try Self.optionalId(body.parentId, field: "parentId")
            let head = try Self.optionalId(body.headAccountId, field: "headAccountId")
            let department = try await pool.withTransaction { tx -> OrganizationStore.Department in
                try await requireOrganization(organizationId, in: tx)
                if let head, !(try await roles.isMember(accountId: head, organizationId: organizationId, in: tx)) {
                    throw Problem.invalidFields([.init(field: "headAccountId", code: "not_a_member", message: "the head must be a member")])
                }
                guard let created = try await store.createDepartment(
                    organizationId: organizationId, name: body.name.trimmingCharacters(in: .whitespacesAndNewlines),
                    parentId: parent, headAccountId: head, in: tx) else {
                    throw Problem(.conflict, code: "gateway.department_exists",
                                  detail: "a department of this name exists, or the parent is not one of this organization's")
                }
                return created
            }
            return try JSONResponse.make(department, status: .created)
        }

        // Members
        routes.get("organizations/:org/members") { _, context -> Response in
            let organizationId = try context.administeredOrganization()
            return try JSONResponse.make(ItemList(items: try await pool.withTransaction { tx in
                try await store.members(organizationId: organizationId, in: tx)
            }))
        }
        routes.post("organizations/:org/members") { request, context -> Response in
            let organizationId = try context.administeredOrganization()
            let body = try await JSONBody.decode(MemberBody.self, from: request)
            let departmentId = try Self.optionalId(body.departmentId, field: "departmentId")
            let added = try await pool.withTransaction { tx -> Bool in
                try await requireOrganization(organizationId, in: tx)
                guard let account = try await accounts.find(email: body.email, in: tx) else {
                    throw Problem.invalidFields([.init(field: "email", code: "unknown_account", message: "no account has this address")])
                }
                if let departmentId, try await store.department(departmentId, organizationId: organizationId, in: tx) == nil {
                    throw Problem.invalidFields([.init(field: "departmentId", code: "unknown_department", message: "no such department")])
                }
                return try await store.addMember(organizationId: organizationId, accountId: account.id, departmentId: departmentId, in: tx)
            }
            return JSONResponse.status(added ? .created : .ok)
        }
        routes.delete("organizations/:org/members/:account") { _, context -> Response in
            let organizationId = try context.administeredOrganization()
            let accountId = try context.resourceId("account", kind: "member")
            let removed = try await pool.withTransaction { tx in
                try await store.removeMember(organizationId: organizationId, accountId: UUID(uuidString: accountId)!, in: tx)
            }
            guard removed else { throw Problem.notFound("no such member") }
            return JSONResponse.noContent()
        }

        // Role requests
        routes.post("organizations/:org/role-requests") { request, context -> Response in
            let principal = try context.requirePrincipal()
            let organizationId = try context.organizationParameter()
            let body = try await JSONBody.decode(RoleRequestBody.self, from: request)
            guard Self.requestableRoles.contains(body.role) else {
                throw Problem.invalidFields([.init(field: "role", code: "unknown_role",
                                                   message: "one of \(Self.requestableRoles.sorted().joined(separator: ", "))")])
            }
            let departmentId = try Self.optionalId(body.departmentId, field: "departmentId")
            if let violation = SignUpRules.checkText(body.reason, field: "reason", required: false, maximum: 1000) {
                throw Problem.invalidFields([violation])
            }
            let accountId = try principal.accountUUID()
            let created = try await pool.withTransaction { tx -> OrganizationStore.RoleRequest in
                try await requireOrganization(organizationId, in: tx)
                let member = try await roles.isMember(accountId: accountId, organizationId: organizationId, in: tx)
                if body.role == "user" {
                    guard !member else { throw Problem(.conflict, code: "gateway.already_member", detail: "you are a member already") }
                } else if !member {
                    throw Problem.notFound("no such organization")
                }
                if let departmentId, try await store.department(departmentId, organizationId: organizationId, in: tx) == nil {
                    throw Problem.invalidFields([.init(field: "departmentId", code: "unknown_department", message: "no such department")])
                }
                // A member's request goes to their own department's head unless another is named.
                var department = departmentId
                if department == nil, member {
                    department = try await store.departmentOf(accountId: accountId, organizationId: organizationId, in: tx)
                }
                guard let id = try await store.createRequest(accountId: accountId, organizationId: organizationId,
                                                             departmentId: department, role: body.role,
                                                             reason: body.reason.nonBlank ?? "", in: tx) else {
                    throw Problem(.conflict, code: "gateway.request_exists", detail: "the same request is already open")
                }
                return try await store.request(id, organizationId: organizationId, in: tx)!
            }
            return try JSONResponse.make(created, status: .created,
                                         headers: [.location: "/v1/organizations/\(organizationId.pathEscaped)/role-requests/\(created.id)"])
        }
        // GET /v1/organizations/{org}/role-requests?status=pending: what the caller may decide, or their own.
        routes.get("organizations/:org/role-requests") { request, context -> Response in
            let principal = try context.requirePrincipal()
            let organizationId = try context.organizationParameter()
            let status = try QueryParameters(request).string("status", maxLength: 16)
            if let status, !["pending", "approved", "rejected"].contains(status) {
                throw Problem.invalidQuery("status must be pending, approved or rejected")
            }
            let accountId = try principal.accountUUID()
            let items = try await pool.withTransaction { tx -> [OrganizationStore.RoleRequest] in
                try await requireOrganization(organizationId, in: tx)
                if try await decidesAll(accountId, organizationId: organizationId, in: tx) {
                    return try await store.requests(organizationId: organizationId, status: status, accountId: nil, departments: nil, in: tx)
                }
                let headed = try await store.headedDepartments(accountId: accountId, organizationId: organizationId, in: tx)
                let own = try await store.requests(organizationId: organizationId, status: status, accountId: accountId, departments: nil, in: tx)
                let decidable = headed.isEmpty ? [] : try await store.requests(organizationId: organizationId, status: status,
                                                                              accountId: nil, departments: headed, in: tx)
                return own + decidable.filter { $0.accountId != principal.accountId }
            }
            return try JSONResponse.make(ItemList(items: items))
        }
        // GET /v1/organizations/{org}/role-requests/{id}: the requester's own, or one the caller may decide
        routes.get("organizations/:org/role-requests/:id") { _, context -> Response in
            let principal = try context.requirePrincipal()
            let organizationId = try context.organizationParameter()
            let id = try context.resourceId("id", kind: "role request")
            let accountId = try principal.accountUUID()
            let found = try await pool.withTransaction { tx -> OrganizationStore.RoleRequest? in
                guard let request = try await store.request(UUID(uuidString: id)!, organizationId: organizationId, in: tx) else { return nil }
                if request.accountId == principal.accountId { return request }
                if try await decidesAll(accountId, organizationId: organizationId, in: tx) { return request }
                guard let department = request.departmentId.flatMap(UUID.init(uuidString:)) else { return nil }
                let headed = try await store.headedDepartments(accountId: accountId, organizationId: organizationId, in: tx)
                return headed.contains(department) ? request : nil
            }
            guard let found else { throw Problem.notFound("no such role request") }
            return try JSONResponse.make(found)
        }
        routes.post("organizations/:org/role-requests/:id/approve") { request, context -> Response in
            try await decide(request, context, approve: true)
        }
        routes.post("organizations/:org/role-requests/:id/reject") { request, context -> Response in
            try await decide(request, context, approve: false)
        }
    }

    private func decide(_ request: Request, _ context: GatewayRequestContext, approve: Bool) async throws -> Response {
        let principal = try context.requirePrincipal()
        let organizationId = try context.organizationParameter()
        let id = try context.resourceId("id", kind: "role request")
        let body = try await JSONBody.decode(DecisionBody.self, from: request)
        let decider = try principal.accountUUID()
        let decided = try await pool.withTransaction { tx -> OrganizationStore.RoleRequest in
            guard let pending = try await store.request(UUID(uuidString: id)!, organizationId: organizationId, in: tx, forUpdate: true) else {
                throw Problem.notFound("no such role request")
            }
            var allowed = try await decidesAll(decider, organizationId: organizationId, in: tx)
            if !allowed, let department = pending.departmentId.flatMap(UUID.init(uuidString:)) {
                allowed = try await store.headedDepartments(accountId: decider, organizationId: organizationId, in: tx)
                    .contains(department)
            }
            guard allowed, pending.accountId != principal.accountId else {
                // The requester sees their own request but may not decide it; others learn nothing.
                if pending.accountId == principal.accountId {
                    throw Problem(.forbidden, code: "gateway.forbidden", detail: "a request is decided by someone else")
                }
                throw Problem.notFound("no such role request")
            }
            guard pending.status == "pending" else {
                throw Problem(.conflict, code: "gateway.request_decided", detail: "this request was \(pending.status) already")
            }
            try await store.decide(UUID(uuidString: id)!, approved: approve, by: decider, comment: body.comment.nonBlank, in: tx)
            if approve {
                let accountId = UUID(uuidString: pending.accountId)!
                let department = pending.departmentId.flatMap(UUID.init(uuidString:))
                _ = try await store.addMember(organizationId: organizationId, accountId: accountId,
                                              departmentId: pending.role == "user" ? department : nil, in: tx)
                if pending.role != "user" {
                    try await store.grant(accountId: accountId, organizationId: organizationId,
                                          departmentId: pending.role == "meeting_admin" ? department : nil,
                                          role: pending.role, grantedBy: decider, in: tx)
                }
            }
            return try await store.request(UUID(uuidString: id)!, organizationId: organizationId, in: tx)!
        }
        logger.info("role request decided", metadata: ["requestId": "\(id)", "approved": "\(approve)", "role": "\(decided.role)"])
        return try JSONResponse.make(decided)
    }

    /// System admins and the organization's administrators decide every request of it.
    private func decidesAll(_ accountId: UUID, organizationId: String, in tx: Transaction) async throws -> Bool {
        if try await roles.isSystemAdmin(accountId: accountId, in: tx) { return true }
        return try await store.hasGrant(accountId: accountId, organizationId: organizationId, role: "org_admin", in: tx)
    }

    private func requireOrganization(_ id: String, in tx: Transaction) async throws {
        guard try await store.organization(id, in: tx) != nil else { throw Problem.notFound("no such organization") }
    }

    static func optionalId(_ raw: String?, field: String) throws(Problem) -> UUID? {
        guard let raw else { return nil }
        guard let id = UUID(uuidString: raw) else {
            throw Problem.invalidFields([.init(field: field, code: "invalid_id", message: "not an id")])
        }
        return id
    }
}

extension Principal {
    func accountUUID() throws(Problem) -> UUID {
        guard let id = UUID(uuidString: accountId) else {
            throw Problem(.forbidden, code: "gateway.forbidden", detail: "this token does not belong to an account")
        }
        return id
    }
}

extension GatewayRequestContext {
    /// The `{org}` path parameter, without any check of the caller.
    func organizationParameter() throws(Problem) -> String {
        guard let id = parameters.get("org"), (1...200).contains(id.count) else { throw Problem.notFound("no such organization") }
        return id
    }

    /// The `{org}` of a route for the organization's members (and system admins); 404 otherwise.
    func memberOrganization() throws(Problem) -> String {
        let principal = try requirePrincipal()
        let id = try organizationParameter()
        guard principal.roles.contains(.systemAdmin) || principal.organizationId == id else {
            throw Problem.notFound("no such organization")
        }
        return id
    }
}

extension JSONResponse {
    static func status(_ status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: [.cacheControl: "no-store"])
    }
}
