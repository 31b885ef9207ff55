import Contracts
import Foundation
import HTTPClient
import Logging
import Persistence
import ServiceKit
import ServiceLifecycle
import Synchronization

/// The service assembled from its settings: adapters, handlers and the provisioning worker. The
/// executable and the tests build it the same way.
struct PlatformBridgeParts: Sendable {
    let settings: PlatformBridgeSettings
    let adapters: [String: any PlatformAdapter]
    let dingtalk: DingTalkAdapter
    let tokens: TokenCache
    let clock: @Sendable () -> Date

    init(settings: PlatformBridgeSettings, client: any HTTPExecuting, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.settings = settings
        self.clock = clock
        let tokens = TokenCache(renewBefore: settings.tokenRenewBefore)
        self.tokens = tokens
        let http = PlatformHTTP(client: client, timeout: settings.requestTimeout)
        dingtalk = DingTalkAdapter(baseURL: settings.dingtalkURL, oapiURL: settings.dingtalkOAPIURL, http: http, tokens: tokens)
        adapters = [
            MeetingPlatformName.zoom: ZoomAdapter(oauthURL: settings.zoomOAuthURL, apiURL: settings.zoomAPIURL, http: http, tokens: tokens),
            MeetingPlatformName.tencent: TencentAdapter(baseURL: settings.tencentURL, http: http, clock: clock),
            MeetingPlatformName.dingtalk: dingtalk,
        ]
    }

    private static let built = Mutex<PlatformBridgeParts?>(nil)

    /// From the environment, once per process; exits with a plain message when something is wrong.
    static func build(_ context: ServiceContext) -> PlatformBridgeParts {
        built.withLock { parts in
            if let parts { return parts }
            do {
                let settings = try PlatformBridgeSettings(context.configuration.environment)
                context.logger.info("platform-bridge settings", metadata: ["settings": "\(settings)"])
                let made = PlatformBridgeParts(settings: settings, client: CurlHTTPClient())
                parts = made
                return made
            } catch {
                ServiceMain.fail("platform-bridge: \(error)")
            }
        }
    }

    var credentials: CredentialStore { CredentialStore(secrets: settings.secrets) }

    func handlers(service: String) -> [any MessageHandler] {
        let streams = LiveStreamStore(secrets: settings.secrets)
        return [
            OnMeetingScheduled(), OnMeetingUpdated(), OnMeetingCancelled(),
            SetCredentialsHandler(credentials: credentials, service: service),
            ListCredentialsHandler(credentials: credentials, service: service),
            RemoveCredentialsHandler(credentials: credentials, service: service),
            GetMeetingPlatformsHandler(service: service),
            ListDepartmentMembersHandler(credentials: credentials, dingtalk: dingtalk, service: service),
            SetLiveStreamHandler(streams: streams, service: service), GetLiveStreamHandler(streams: streams, service: service),
            PlatformCallbackHandler(service: service, verifiers: [
                MeetingPlatformName.zoom: ZoomWebhookVerifier(credentials: credentials, clock: clock),
                MeetingPlatformName.tencent: TencentWebhookVerifier(credentials: credentials, clock: clock),
            ]),
        ]
    }

    func worker(service: String, pool: PGPool, logger: Logger) -> ProvisioningWorker {
        ProvisioningWorker(service: service, pool: pool, settings: settings, adapters: adapters, credentials: credentials,
                           logger: logger)
    }
}
