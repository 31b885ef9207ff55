import Contracts
import Foundation
import Hummingbird
import Persistence

/// Sign-up, sign-in, token refresh, sign-out, the caller's own account and password change.
/// Sign-up and the `/v1/auth` routes need no access token; the rest do.
struct AuthRoutes {
    let identity: IdentityService

    struct SignUpBody: JSONRequestBody {
        var email: String
        var password: String
        var name: String
        var phone: String?
        var affiliation: String?
        var title: String?
        var locale: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case email, password, name, phone, affiliation, title, locale }
        typealias Fields = CodingKeys
    }

    struct LoginBody: JSONRequestBody {
        var email: String
        var password: String
        var organizationId: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case email, password, organizationId }
        typealias Fields = CodingKeys
    }

    struct RefreshBody: JSONRequestBody {
        var refreshToken: String
        enum CodingKeys: String, CodingKey, CaseIterable { case refreshToken }
        typealias Fields = CodingKeys
    }

    struct PasswordBody: JSONRequestBody {
        var currentPassword: String
        var newPassword: String
        enum CodingKeys: String, CodingKey, CaseIterable { case currentPassword, newPassword }
        typealias Fields = CodingKeys
    }

    /// Routes that work without a token. Sign-up honours `Idempotency-Key`; the sign-in routes
    /// do not, as their answers hold credentials that must not be stored.
    func registerPublic(on router: Router<GatewayRequestContext>, idempotency: IdempotencyMiddleware) {
        // POST /v1/accounts → 201 AccountView
        router.group("v1/accounts").add(middleware: idempotency).post { request, context -> Response in
            let body = try await JSONBody.decode(SignUpBody.self, from: request)
            let account = try await identity.signUp(body)
            return try JSONResponse.make(account, status: .created, headers: [.location: "/v1/me"])
        }
        // POST /v1/auth/login → TokenPair
        router.post("v1/auth/login") { request, context -> Response in
            let body = try await JSONBody.decode(LoginBody.self, from: request)
            return try JSONResponse.make(try await identity.login(body, from: context.peerAddress))
        }
        // POST /v1/auth/refresh → TokenPair (the presented refresh token is used up)
        router.post("v1/auth/refresh") { request, context -> Response in
            let body = try await JSONBody.decode(RefreshBody.self, from: request)
            return try JSONResponse.make(try await identity.refresh(body.refreshToken))
        }
        // POST /v1/auth/logout → 204 (the refresh token's whole sign-in ends)
        router.post("v1/auth/logout") { request, context -> Response in
            let body = try await JSONBody.decode(RefreshBody.self, from: request)
            try await identity.logout(body.refreshToken)
            return JSONResponse.noContent()
        }
    }

    /// Routes for the signed-in caller.
    func register(on routes: RouterGroup<GatewayRequestContext>) {
        // GET /v1/me → AccountView
        routes.get("me") { _, context -> Response in
            let principal = try context.requirePrincipal()
            return try JSONResponse.make(try await identity.account(principal))
        }
        // PUT /v1/me/password → 204; every sign-in of the account ends (access tokens run out).
        routes.put("me/password") { request, context -> Response in
            let principal = try context.requirePrincipal()
            let body = try await JSONBody.decode(PasswordBody.self, from: request)
            try await identity.changePassword(principal, body)
            return JSONResponse.noContent()
        }
    }
}

/// What the API shows of an account.
struct AccountView: Codable, Sendable, Equatable {
    var id: String
    var email: String
    var name: String
    var phone: String?
    var affiliation: String?
    var title: String?
    var locale: String
    var createdAt: Date

    init(_ record: AccountRecord) {
        id = record.id.uuidString.lowercased()
        email = record.email
        name = record.name
        phone = record.phone
        affiliation = record.affiliation
        title = record.title
        locale = record.locale
        createdAt = record.createdAt
    }
}

/// The answer of sign-in and refresh.
struct TokenPair: Codable, Sendable {
    var accessToken: String
    var tokenType = "Bearer"
    /// Seconds.
    var expiresIn: Int
    var refreshToken: String
    var organizationId: String?
    var roles: [String]
}
