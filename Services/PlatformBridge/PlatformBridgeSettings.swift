import Foundation
import Secrets
import ServiceKit

/// platform-bridge's own settings (docs/configuration.md). Base URLs default to the platforms'
/// production addresses; tests and the local stacks point them at the contract server.
struct PlatformBridgeSettings: Sendable, CustomStringConvertible {
    var zoomOAuthURL: String
    var zoomAPIURL: String
    var tencentURL: String
    var dingtalkURL: String
    var dingtalkOAPIURL: String
    /// Seals credentials, start URLs and push addresses at rest.
    var secrets: SecretBox
    /// Back-off between attempts after a transient platform error; after the last, the
    /// provisioning fails with `platform.unavailable`.
    var retryDelays: [Duration]
    /// How often the worker looks for due work.
    var pollInterval: Duration
    /// Platform calls in flight at once.
    var concurrency: Int
    /// How long a claimed row is held before another worker may take it over.
    var lease: Duration
    /// A cached token is renewed this long before it expires.
    var tokenRenewBefore: Duration
    /// Timeout of one platform call.
    var requestTimeout: Duration

    var description: String {
        "PlatformBridgeSettings(zoom: \(zoomAPIURL), tencent: \(tencentURL), dingtalk: \(dingtalkURL), "
            + "retryDelays: \(retryDelays), pollInterval: \(pollInterval), concurrency: \(concurrency), keys: redacted)"
    }

    init(_ environment: [String: String]) throws {
        var env = EnvironmentReader(environment)
        func url(_ key: String, _ fallback: String) -> String {
            var value = environment[key].map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 } ?? fallback
            while value.hasSuffix("/") { value.removeLast() }
            let parsed = URLComponents(string: value)
            env.check(["http", "https"].contains(parsed?.scheme?.lowercased() ?? "") && parsed?.host?.isEmpty == false,
                      "\(key) must be an http(s) URL")
            return value
        }
        zoomOAuthURL = url("ZOOM_OAUTH_URL", "https://zoom.us")
        zoomAPIURL = url("ZOOM_API_URL", "https://api.zoom.us")
        tencentURL = url("TENCENT_MEETING_URL", "https://api.meeting.qq.com")
        dingtalkURL = url("DINGTALK_API_URL", "https://api.dingtalk.com")
        dingtalkOAPIURL = url("DINGTALK_OAPI_URL", "https://oapi.dingtalk.com")
        let key = env.required("PLATFORM_SECRET_KEY")
        let previous = (environment["PLATFORM_SECRET_KEYS_PREVIOUS"] ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var box: SecretBox?
        if !key.isEmpty {
            do { box = try SecretBox(current: key, previous: previous) } catch {
                env.check(false, "PLATFORM_SECRET_KEY / PLATFORM_SECRET_KEYS_PREVIOUS: \(error)")
            }
        }
        retryDelays = env.durations("PLATFORM_RETRY_DELAYS", default: [.seconds(2), .seconds(10), .seconds(60), .seconds(300)])
        pollInterval = env.duration("PLATFORM_POLL_INTERVAL", default: .seconds(1))
        concurrency = env.int("PLATFORM_CONCURRENCY", default: 8, in: 1...256)
        lease = env.duration("PLATFORM_LEASE", default: .seconds(120))
        tokenRenewBefore = env.duration("PLATFORM_TOKEN_RENEW_BEFORE", default: .seconds(300))
        requestTimeout = env.duration("PLATFORM_REQUEST_TIMEOUT", default: .seconds(15))
        try env.validate()
        guard let box else { throw SecretBox.Failure(description: "PLATFORM_SECRET_KEY is required") }
        secrets = box
    }

    /// The delay before attempt `attempts + 1`, or nil when the attempts are used up.
    func retryDelay(afterAttempt attempts: Int) -> Duration? {
        attempts >= 1 && attempts <= retryDelays.count ? retryDelays[attempts - 1] : nil
    }
}
