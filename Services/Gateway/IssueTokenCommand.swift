import Foundation
import ServiceKit

/// `gateway issue-token`: prints an access token signed with the gateway's key, for operators
/// and the local demo until accounts can sign in. Reads the same environment as the gateway.
enum IssueTokenCommand {
    static let usage = """
        usage: gateway issue-token --account ID --organization ID --roles ROLE[,ROLE…] [--email ADDRESS] [--hours N]
          roles: \(Principal.Role.allCases.map(\.rawValue).joined(separator: ", "))
        """

    static func run(_ arguments: [String]) async -> Never {
        var options: [String: String] = [:]
        var index = 0
        while index < arguments.count {
            let name = arguments[index]
            guard name.hasPrefix("--"), index + 1 < arguments.count else { ServiceMain.fail(usage) }
            options[String(name.dropFirst(2))] = arguments[index + 1]
            index += 2
        }
        guard let account = options["account"], let organization = options["organization"], let roleList = options["roles"],
              Set(options.keys).isSubset(of: ["account", "organization", "roles", "email", "hours"])
        else { ServiceMain.fail(usage) }
        let roles = roleList.split(separator: ",").map { Principal.Role(rawValue: String($0)) }
        guard !roles.isEmpty, roles.allSatisfy({ $0 != nil }) else { ServiceMain.fail(usage) }
        guard let hours = Int(options["hours"] ?? "12"), (1...720).contains(hours) else {
            ServiceMain.fail("--hours is between 1 and 720")
        }
        do {
            let settings = try GatewaySettings(ProcessInfo.processInfo.environment)
            let token = try await TokenIssuer(settings: settings.token).issue(
                accountId: account, organizationId: organization, roles: roles.compactMap { $0 }, email: options["email"],
                lifetime: .seconds(hours * 3600))
            print(token)
            exit(0)
        } catch {
            ServiceMain.fail("gateway issue-token: \(error)")
        }
    }
}
