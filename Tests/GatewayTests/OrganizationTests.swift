import Contracts
import Foundation
@testable import Gateway
import HTTPClient
import Testing
import TestSupport

extension EndToEnd {
/// Organizations, departments, members and role requests through the running gateway.
@Suite("Organizations and role requests, end to end", .serialized)
struct OrganizationTests {
    var stack: GatewayStack { get throws { try #require(GatewayStack.current, "the suite trait starts the stack") } }

    struct Session {
        var accountId: String
        var email: String
        var token: String
    }

    func account(_ name: String, organization: String? = nil) async throws -> Session {
        let stack = try stack
        let email = "\(name)-\(UUID().uuidString.prefix(8).lowercased())@example.org"
        let created = try await stack.call(.post, "/v1/accounts", body: AccountTests.json([
            "email": email, "password": "correct horse battery", "name": name]))
        #expect(created.status == 201)
        return try await signIn(email, accountId: try created.decode(AccountView.self).id, organization: organization)
    }

    func signIn(_ email: String, accountId: String, organization: String? = nil) async throws -> Session {
        var body: [String: Any] = ["email": email, "password": "correct horse battery"]
        if let organization { body["organizationId"] = organization }
        let response = try await stack.call(.post, "/v1/auth/login", body: AccountTests.json(body))
        #expect(response.status == 200, "sign-in of \(email): \(String(decoding: response.body, as: UTF8.self))")
        return Session(accountId: accountId, email: email, token: try response.decode(TokenPair.self).accessToken)
    }

    func roles(_ session: Session, in organization: String) async throws -> [String] {
        let response = try await stack.call(.post, "/v1/auth/login", body: AccountTests.json([
            "email": session.email, "password": "correct horse battery", "organizationId": organization]))
        return try response.decode(TokenPair.self).roles
    }

    @Test("the operator grants the first system admin on the host; a system admin creates an organization with its administrator")
    func bootstrap() async throws {
        let stack = try stack
        let operatorAccount = try await account("root")
        let plain = try await stack.call(.post, "/v1/organizations", token: operatorAccount.token,
                                         body: AccountTests.json(["name": "Not yet"]))
        #expect(plain.status == 403)

        let bin = try TestStack.environment("CONVENE_BIN_DIR")
        let status = await Command.run([bin + "/gateway", "grant-system-admin", "--email", operatorAccount.email], environment: [
            "DATABASE_URL": try TestStack.environment("GATEWAY_DATABASE_URL"), "AMQP_URL": try TestStack.environment("AMQP_URL"),
            "GATEWAY_TOKEN_SECRET": GatewayStack.randomBase64(32), "PATH": "/usr/bin:/bin"])
        #expect(status == 0)
        let unknown = await Command.run([bin + "/gateway", "grant-system-admin", "--email", "nobody-\(UUID())@example.org"], environment: [
            "DATABASE_URL": try TestStack.environment("GATEWAY_DATABASE_URL"), "AMQP_URL": try TestStack.environment("AMQP_URL"),
            "PATH": "/usr/bin:/bin"])
        #expect(unknown == 1)

        let root = try await signIn(operatorAccount.email, accountId: operatorAccount.accountId)
        let admin = try await account("admin")
        let id = "org-" + UUID().uuidString.prefix(8).lowercased()
        let created = try await stack.call(.post, "/v1/organizations", token: root.token, body: AccountTests.json([
            "id": id, "name": "清华大学 学术会议中心", "adminEmail": admin.email]))
        #expect(created.status == 201)
        #expect(created.header(named: "Location") == "/v1/organizations/\(id)")
        let again = try await stack.call(.post, "/v1/organizations", token: root.token, body: AccountTests.json(["id": id, "name": "x"]))
        #expect(again.status == 409)
        #expect(try await roles(admin, in: id) == ["participant", "user", "org_admin"])

        let badId = try await stack.call(.post, "/v1/organizations", token: root.token, body: AccountTests.json(["id": "Has Spaces", "name": "x"]))
        #expect(badId.status == 422)
    }

    @Test("joining and a meeting-admin role are asked for and decided by the department head; others cannot decide or see them")
    func roleRequests() async throws {
        let stack = try stack
        let id = "org-" + UUID().uuidString.prefix(8).lowercased()
        let rootToken = try await stack.token(account: UUID().uuidString.lowercased(), organization: id, roles: [.systemAdmin])
        let admin = try await account("admin")
        #expect(try await stack.call(.post, "/v1/organizations", token: rootToken,
                                     body: AccountTests.json(["id": id, "name": "Org", "adminEmail": admin.email])).status == 201)
        let adminSession = try await signIn(admin.email, accountId: admin.accountId, organization: id)

        // A department headed by a member.
        let head = try await account("head")
        #expect(try await stack.call(.post, "/v1/organizations/\(id)/members", token: adminSession.token,
                                     body: AccountTests.json(["email": head.email])).status == 201)
        let department = try await stack.call(.post, "/v1/organizations/\(id)/departments", token: adminSession.token,
                                              body: AccountTests.json(["name": "科研处", "headAccountId": head.accountId]))
        #expect(department.status == 201)
        let departmentId = try department.decode(OrganizationStore.Department.self).id
        let headSession = try await signIn(head.email, accountId: head.accountId, organization: id)

        // An outsider asks to join the department.
        let newcomer = try await account("newcomer")
        let ask = try await stack.call(.post, "/v1/organizations/\(id)/role-requests", token: newcomer.token,
                                       body: AccountTests.json(["role": "user", "departmentId": departmentId, "reason": "新入职"]))
        #expect(ask.status == 201)
        let joinRequest = try ask.decode(OrganizationStore.RoleRequest.self)
        #expect(joinRequest.status == "pending")
        let twice = try await stack.call(.post, "/v1/organizations/\(id)/role-requests", token: newcomer.token,
                                         body: AccountTests.json(["role": "user", "departmentId": departmentId]))
        #expect(twice.status == 409)
        let signInBefore = try await stack.call(.post, "/v1/auth/login", body: AccountTests.json([
            "email": newcomer.email, "password": "correct horse battery", "organizationId": id]))
        #expect(signInBefore.status == 404, "not a member yet")

        // Only the head (or an administrator) sees and decides it; the requester cannot.
        let pending = try await stack.call(.get, "/v1/organizations/\(id)/role-requests?status=pending", token: headSession.token)
        #expect(try pending.decode(ItemList<OrganizationStore.RoleRequest>.self).items.map(\.id) == [joinRequest.id])
        let self_ = try await stack.call(.post, "/v1/organizations/\(id)/role-requests/\(joinRequest.id)/approve",
                                         token: newcomer.token, body: "{}")
        #expect(self_.status == 403)
        let bystander = try await account("bystander")
        let notTheirs = try await stack.call(.post, "/v1/organizations/\(id)/role-requests/\(joinRequest.id)/approve",
                                             token: bystander.token, body: "{}")
        #expect(notTheirs.status == 404)

        let approved = try await stack.call(.post, "/v1/organizations/\(id)/role-requests/\(joinRequest.id)/approve",
                                            token: headSession.token, body: AccountTests.json(["comment": "欢迎"]))
        #expect(approved.status == 200)
        #expect(try approved.decode(OrganizationStore.RoleRequest.self).status == "approved")
        let decidedTwice = try await stack.call(.post, "/v1/organizations/\(id)/role-requests/\(joinRequest.id)/reject",
                                                token: headSession.token, body: "{}")
        #expect(decidedTwice.status == 409)
        #expect(try await roles(newcomer, in: id) == ["participant", "user"])

        // As a member, the newcomer asks to be a meeting admin: it goes to their department's head.
        let member = try await signIn(newcomer.email, accountId: newcomer.accountId, organization: id)
        let promote = try await stack.call(.post, "/v1/organizations/\(id)/role-requests", token: member.token,
                                           body: AccountTests.json(["role": "meeting_admin"]))
        #expect(promote.status == 201)
        let promotion = try promote.decode(OrganizationStore.RoleRequest.self)
        #expect(promotion.departmentId == departmentId)
        let rejected = try await stack.call(.post, "/v1/organizations/\(id)/role-requests/\(promotion.id)/reject",
                                            token: headSession.token, body: AccountTests.json(["comment": "not yet"]))
        #expect(rejected.status == 200)
        #expect(try await roles(newcomer, in: id) == ["participant", "user"])
        let again = try await stack.call(.post, "/v1/organizations/\(id)/role-requests", token: member.token,
                                         body: AccountTests.json(["role": "meeting_admin", "reason": "second try"]))
        let second = try again.decode(OrganizationStore.RoleRequest.self)
        let byAdmin = try await stack.call(.post, "/v1/organizations/\(id)/role-requests/\(second.id)/approve",
                                           token: adminSession.token, body: "{}")
        #expect(byAdmin.status == 200, "an administrator of the organization decides too")
        #expect(try await roles(newcomer, in: id) == ["participant", "user", "meeting_admin"])

        // Members and departments are the organization's business only.
        let members = try await stack.call(.get, "/v1/organizations/\(id)/members", token: adminSession.token)
        let listed = try members.decode(ItemList<OrganizationStore.Member>.self).items
        #expect(Set(listed.map(\.email)) == [admin.email, head.email, newcomer.email])
        #expect(try await stack.call(.get, "/v1/organizations/\(id)/members", token: member.token).status == 403)
        #expect(try await stack.call(.get, "/v1/organizations/\(id)/departments", token: bystander.token).status == 404)
        let system = try await stack.call(.post, "/v1/organizations/\(id)/role-requests", token: member.token,
                                          body: AccountTests.json(["role": "system_admin"]))
        #expect(system.status == 422, "system admin is granted by the operator, not requested")
    }
}
}
