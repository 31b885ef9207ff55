import Foundation
import Logging
import Persistence
import ServiceKit

/// `gateway grant-system-admin --email ADDRESS`: makes an existing account a system admin. The
/// first system admin cannot be approved by anyone, so an operator grants it on the host. Reads
/// the gateway's environment (DATABASE_URL); the gateway must have run once (its migrations).
enum GrantSystemAdminCommand {
    static let usage = "usage: gateway grant-system-admin --email ADDRESS"

    static func run(_ arguments: [String]) async -> Never {
        guard arguments.count == 2, arguments[0] == "--email" else { ServiceMain.fail(usage) }
        let email = arguments[1]
        do {
            let configuration = try ServiceConfiguration(service: .gateway)
            let pool = PGPool(.init(url: configuration.databaseURL, schema: configuration.schema, size: 1,
                                    applicationName: "gateway-grant"), logger: Logger(label: "gateway-grant"))
            let granted = try await pool.withTransaction { tx -> Bool in
                guard let account = try await AccountStore().find(email: email, in: tx) else { return false }
                try await OrganizationStore().grant(accountId: account.id, organizationId: nil, departmentId: nil,
                                                    role: "system_admin", grantedBy: nil, in: tx)
                return true
            }
            await pool.close()
            guard granted else { ServiceMain.fail("gateway grant-system-admin: no account has the address \(email); sign up first") }
            print("\(email) is a system admin (from their next sign-in)")
            exit(0)
        } catch {
            ServiceMain.fail("gateway grant-system-admin: \(error)")
        }
    }
}
