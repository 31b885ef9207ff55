import Foundation
import Secrets
import ServiceKit

/// The gateway's own settings, beside the ones every service reads.
struct GatewaySettings: Sendable {
    var host: String
    var port: Int
    /// How long the gateway waits for a service's reply before answering 504.
    var requestTimeout: Duration
    /// How long `/health` waits for each service's ping.
    var healthTimeout: Duration
    /// How access tokens are signed and what they must say.
    var token: TokenSettings
    /// How long an access token is valid (`ACCESS_TOKEN_LIFETIME`).
    var accessTokenLifetime: Duration
    /// How long a refresh token is valid unless used (`REFRESH_TOKEN_LIFETIME`).
    var refreshTokenLifetime: Duration
    /// bcrypt cost of stored passwords (`PASSWORD_HASH_COST`).
    var passwordHashCost: UInt8
    /// Failed sign-ins per email address, and per client address, within 15 minutes before that
    /// address is locked for 15 minutes (`LOGIN_ACCOUNT_LIMIT`, `LOGIN_ADDRESS_LIMIT`).
    var loginAccountLimit: Int
    var loginAddressLimit: Int
    /// Where uploaded files are kept (`BLOB_DIR`); without it, uploads are refused with 503.
    var blobDirectory: String?
    /// The largest file an upload may carry (`UPLOAD_MAX_BYTES`).
    var uploadMaxBytes: Int
    /// Seals identity documents before they are written (`UPLOAD_ENCRYPTION_KEY`, older keys in
    /// `UPLOAD_ENCRYPTION_KEYS_PREVIOUS`); without it, identity documents are refused with 503.
    var uploadSecrets: SecretBox?
    /// Requests per minute of each signed-in account and each API key (`RATE_LIMIT_PER_MINUTE`),
    /// and of each client address without a valid credential (`RATE_LIMIT_ANONYMOUS_PER_MINUTE`);
    /// 0 (or `off`) does not limit. Counted per gateway instance.
    var rateLimitPerMinute: Int
    var anonymousRateLimitPerMinute: Int

    init(_ environment: [String: String]) throws {
        var env = EnvironmentReader(environment)
        host = env.string("GATEWAY_HOST", default: "127.0.0.1")
        port = env.int("GATEWAY_PORT", default: 8080, in: 0...65535)
        requestTimeout = env.duration("RPC_TIMEOUT", default: .seconds(5))
        healthTimeout = env.duration("HEALTH_TIMEOUT", default: .seconds(2))
        // The value's bytes are the HMAC key; its value never appears in a message.
        let secret = env.required("GATEWAY_TOKEN_SECRET")
        env.check(secret.isEmpty || secret.utf8.count >= TokenSettings.minimumSecretBytes,
                  "GATEWAY_TOKEN_SECRET must be at least \(TokenSettings.minimumSecretBytes) bytes (openssl rand -base64 32)")
        token = TokenSettings(secret: Array(secret.utf8),
                              issuer: env.string("GATEWAY_TOKEN_ISSUER", default: "convene"),
                              audience: env.string("GATEWAY_TOKEN_AUDIENCE", default: "convene-api"))
        accessTokenLifetime = env.duration("ACCESS_TOKEN_LIFETIME", default: .seconds(15 * 60))
        refreshTokenLifetime = env.duration("REFRESH_TOKEN_LIFETIME", default: .seconds(30 * 24 * 3600))
        passwordHashCost = UInt8(env.int("PASSWORD_HASH_COST", default: 12, in: 12...16))
        loginAccountLimit = env.int("LOGIN_ACCOUNT_LIMIT", default: 5, in: 1...1000)
        loginAddressLimit = env.int("LOGIN_ADDRESS_LIMIT", default: 30, in: 1...100_000)
        func optional(_ key: String) -> String? {
            environment[key].map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        blobDirectory = optional("BLOB_DIR")
        uploadMaxBytes = env.int("UPLOAD_MAX_BYTES", default: 20 * 1024 * 1024, in: 1024...(1 << 30))
        if let key = optional("UPLOAD_ENCRYPTION_KEY") {
            let previous = (optional("UPLOAD_ENCRYPTION_KEYS_PREVIOUS") ?? "").split(separator: ",")
                .map { $0.trimmingCharacters(in: .whitespaces) }
            do { uploadSecrets = try SecretBox(current: key, previous: previous) } catch {
                env.check(false, "UPLOAD_ENCRYPTION_KEY / UPLOAD_ENCRYPTION_KEYS_PREVIOUS: \(error)")
            }
        }
        rateLimitPerMinute = Self.rate(&env, "RATE_LIMIT_PER_MINUTE", default: 600)
        anonymousRateLimitPerMinute = Self.rate(&env, "RATE_LIMIT_ANONYMOUS_PER_MINUTE", default: 120)
        try env.validate()
    }

    /// A request rate: a whole number from 0 to 1,000,000, or `off` (0).
    private static func rate(_ env: inout EnvironmentReader, _ key: String, default fallback: Int) -> Int {
        let raw = env.string(key, default: String(fallback)).trimmingCharacters(in: .whitespaces).lowercased()
        if raw == "off" { return 0 }
        guard let value = Int(raw), (0...1_000_000).contains(value) else {
            env.check(false, "\(key) must be a whole number from 0 to 1000000, or off")
            return fallback
        }
        return value
    }
}

/// The key and the expected claims of access tokens, shared by `TokenVerifier` and `TokenIssuer`.
struct TokenSettings: Sendable {
    static let minimumSecretBytes = 32
    /// HS256 key (`GATEWAY_TOKEN_SECRET`).
    var secret: [UInt8]
    /// `iss` of every token (`GATEWAY_TOKEN_ISSUER`).
    var issuer: String
    /// Must be among a token's `aud` (`GATEWAY_TOKEN_AUDIENCE`).
    var audience: String
}
