import Contracts
import Foundation
import Hummingbird
import Logging
import Persistence

/// Accounts and sign-in sessions, kept in the gateway's own schema.
struct IdentityService: Sendable {
    let pool: PGPool
    let hasher: PasswordHasher
    let issuer: TokenIssuer
    let sessions: SessionStore
    var throttle = LoginThrottle()
    let accounts = AccountStore()
    let roles = RoleStore()
    let throttles = ThrottleStore()
    let logger: Logger

    // MARK: Sign-up

    func signUp(_ body: AuthRoutes.SignUpBody) async throws -> AccountView {
        let violations = [
            SignUpRules.checkEmail(body.email),
            SignUpRules.checkPassword(body.password),
            SignUpRules.checkText(body.name, field: "name", required: true, maximum: 200),
            SignUpRules.checkPhone(body.phone),
            SignUpRules.checkText(body.affiliation, field: "affiliation", required: false, maximum: 300),
            SignUpRules.checkText(body.title, field: "title", required: false, maximum: 200),
            SignUpRules.checkLocale(body.locale),
        ].compactMap { $0 }
        guard violations.isEmpty else { throw Problem.invalidFields(violations) }

        let record = AccountRecord(
            id: UUID(), email: body.email.trimmingCharacters(in: .whitespaces),
            passwordHash: try await hasher.hash(body.password), name: body.name.trimmingCharacters(in: .whitespacesAndNewlines),
            phone: body.phone.nonBlank, affiliation: body.affiliation.nonBlank, title: body.title.nonBlank,
            locale: body.locale ?? "zh-CN", createdAt: Date())
        let created = try await pool.withTransaction { tx in
            try await accounts.create(record, in: tx) ? try await accounts.find(id: record.id, in: tx) : nil
        }
        guard let created else {
            throw Problem(.conflict, code: "gateway.account_exists", detail: "an account with this email address exists")
        }
        logger.info("account created", metadata: ["accountId": "\(created.id)"])
        return AccountView(created)
    }

    // MARK: Sign-in

    func login(_ body: AuthRoutes.LoginBody, from address: String?) async throws -> TokenPair {
        let now = Date()
        let keys = ["account:" + body.email.trimmingCharacters(in: .whitespaces).lowercased()] + (address.map { ["address:" + $0] } ?? [])
        // Refused while locked, before the password is even looked at.
        let lockedUntil = try await pool.withTransaction { tx in
            var latest: Date?
            for key in keys {
                if let until = LoginThrottle.lockedUntil(try await throttles.state(key, in: tx), now: now) {
                    latest = max(latest ?? until, until)
                }
            }
            return latest
        }
        if let lockedUntil { throw Problem.tooManyAttempts(retryAfter: lockedUntil.timeIntervalSince(now)) }

        let account = try await pool.withTransaction { tx in try await accounts.find(email: body.email.trimmingCharacters(in: .whitespaces), in: tx) }
        guard try await hasher.verify(body.password, against: account?.passwordHash), let account else {
            try await recordFailure(keys: keys, now: now)
            logger.info("sign-in refused", metadata: ["reason": "invalid credentials"])
            throw Problem.invalidCredentials
        }
        return try await pool.withTransaction { tx in
            try await throttles.clear(keys[0], in: tx)
            let organizationId = try await organization(for: account.id, requested: body.organizationId, in: tx)
            let refresh = try await sessions.issue(accountId: account.id, organizationId: organizationId, in: tx)
            return try await tokens(for: account, organizationId: organizationId, refreshToken: refresh, in: tx)
        }
    }

    private func recordFailure(keys: [String], now: Date) async throws {
        try await pool.withTransaction { tx in
            for (index, key) in keys.enumerated() {
                let limit = index == 0 ? throttle.perAccount : throttle.perAddress
                let state = try await throttles.state(key, in: tx, forUpdate: true)
                try await throttles.save(key, LoginThrottle.recordingFailure(state, limit: limit, now: now), in: tx)
            }
        }
    }

    /// The organization a session acts in: the one asked for (a member's, or any for a system
    /// admin), else the first joined, else none.
    private func organization(for accountId: UUID, requested: String?, in tx: Transaction) async throws -> String? {
        guard let requested else { return try await roles.defaultOrganization(accountId: accountId, in: tx) }
        guard try await mayActIn(requested, accountId: accountId, in: tx) else {
            // Not a member: answered like an unknown organization.
            throw Problem(.notFound, code: "gateway.not_found", detail: "no such organization")
        }
        return requested
    }

    private func mayActIn(_ organizationId: String, accountId: UUID, in tx: Transaction) async throws -> Bool {
        if try await roles.isMember(accountId: accountId, organizationId: organizationId, in: tx) { return true }
        return try await roles.isSystemAdmin(accountId: accountId, in: tx)
    }

    private func tokens(for account: AccountRecord, organizationId: String?, refreshToken: String,
                        in tx: Transaction) async throws -> TokenPair {
        let granted = try await roles.roles(accountId: account.id, organizationId: organizationId, in: tx)
        let ordered = Principal.Role.allCases.filter(granted.contains)
        let access = try await issuer.issue(accountId: account.id.uuidString.lowercased(), organizationId: organizationId,
                                            roles: ordered, email: account.email, locale: account.locale)
        return TokenPair(accessToken: access, expiresIn: Int(issuer.lifetime.components.seconds), refreshToken: refreshToken,
                         organizationId: organizationId, roles: ordered.map(\.rawValue))
    }

    // MARK: Refresh and sign-out

    func refresh(_ token: String) async throws -> TokenPair {
        let outcome: Result<TokenPair, Problem> = try await pool.withTransaction { tx in
            switch try await sessions.rotate(token, in: tx) {
            case .invalid:
                return .failure(.invalidRefreshToken)
            case .reused:
                // Committed: the family stays revoked.
                logger.warning("a replaced refresh token was presented again; its sign-in is revoked")
                return .failure(.invalidRefreshToken)
            case .rotated(let accountId, let organizationId, let next):
                guard let account = try await accounts.find(id: accountId, in: tx) else { return .failure(.invalidRefreshToken) }
                // A membership may have ended since: then the session continues without an organization.
                var organization = organizationId
                if let id = organizationId, !(try await mayActIn(id, accountId: accountId, in: tx)) { organization = nil }
                return .success(try await tokens(for: account, organizationId: organization, refreshToken: next, in: tx))
            }
        }
        return try outcome.get()
    }

    func logout(_ token: String) async throws {
        try await pool.withTransaction { tx in try await sessions.revoke(token, in: tx) }
    }

    // MARK: The caller's account

    func account(_ principal: Principal) async throws -> AccountView {
        guard let id = UUID(uuidString: principal.accountId),
              let record = try await pool.withTransaction({ tx in try await accounts.find(id: id, in: tx) }) else {
            throw Problem.notFound("no account behind this token")
        }
        return AccountView(record)
    }

    func changePassword(_ principal: Principal, _ body: AuthRoutes.PasswordBody) async throws {
        if let violation = SignUpRules.checkPassword(body.newPassword, field: "newPassword") {
            throw Problem.invalidFields([violation])
        }
        guard let id = UUID(uuidString: principal.accountId),
              let record = try await pool.withTransaction({ tx in try await accounts.find(id: id, in: tx) }) else {
            throw Problem.notFound("no account behind this token")
        }
        guard try await hasher.verify(body.currentPassword, against: record.passwordHash) else {
            throw Problem(.forbidden, code: "gateway.wrong_password", detail: "the current password is not correct")
        }
        let hash = try await hasher.hash(body.newPassword)
        try await pool.withTransaction { tx in
            try await accounts.setPassword(accountId: id, hash: hash, in: tx)
            try await sessions.revokeAll(accountId: id, in: tx)
        }
        logger.info("password changed; every sign-in revoked", metadata: ["accountId": "\(id)"])
    }
}

extension Optional where Wrapped == String {
    /// Trimmed, or nil when blank.
    var nonBlank: String? {
        guard let trimmed = self?.trimmingCharacters(in: .whitespacesAndNewlines), !trimmed.isEmpty else { return nil }
        return trimmed
    }
}

extension Problem {
    static let invalidCredentials = Problem(.unauthorized, code: "gateway.invalid_credentials",
                                            detail: "the email address or the password is not correct")
    static let invalidRefreshToken = Problem(.unauthorized, code: "gateway.invalid_refresh_token",
                                             detail: "the refresh token is invalid, expired or revoked; sign in again")

    static func tooManyAttempts(retryAfter seconds: TimeInterval) -> Problem {
        let wait = max(1, Int(seconds.rounded(.up)))
        return Problem(.tooManyRequests, code: "gateway.too_many_attempts",
                       detail: "too many failed sign-ins; try again in \(wait) seconds", headers: [.retryAfter: String(wait)])
    }

    /// 422 naming every field that is wrong, e.g. `email: invalid_email (not a valid email address)`.
    static func invalidFields(_ violations: [SignUpRules.Violation]) -> Problem {
        var problem = Problem(.unprocessableContent, code: "gateway.invalid_fields",
                              detail: violations.map { "\($0.field): \($0.message)" }.joined(separator: "; "))
        problem.errors = violations.map { FieldProblem(field: $0.field, code: $0.code, message: $0.message) }
        return problem
    }
}
