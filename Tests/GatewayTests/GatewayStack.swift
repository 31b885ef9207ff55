import Contracts
import Foundation
@testable import Gateway
import HTTPClient
import Messaging
import Synchronization
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The built `gateway` and the services behind it that the tests use, started as child processes against the
/// test stack's broker and database, on free ports of their own. Other tests may run another
/// `notification` consumer on the same queue at the same time: everything here relies only on
/// the replies to its own requests and on its own accounts and organization.
final class GatewayStack: Sendable {
    @TaskLocal static var current: GatewayStack?

    let baseURL: String
    let tokens: TokenIssuer
    let logs: String
    /// The gateway's blob store (`BLOB_DIR`).
    let blobs: String
    let organizationId = "org-" + UUID().uuidString.prefix(8).lowercased()
    let client = CurlHTTPClient(configuration: .init(timeout: .seconds(30)))
    private let processes: [String: ChildProcess]

    /// The payment providers' stand-ins, and this stack's merchant there.
    let contracts: PaymentContracts
    let payments: PaymentContracts.Accounts

    private init(baseURL: String, tokens: TokenIssuer, logs: String, blobs: String, processes: [String: ChildProcess],
                 contracts: PaymentContracts, payments: PaymentContracts.Accounts) {
        self.baseURL = baseURL
        self.blobs = blobs
        self.contracts = contracts
        self.payments = payments
        self.tokens = tokens
        self.logs = logs
        self.processes = processes
    }

    /// Starts the gateway and `backends`. Payment is started only where a suite needs it: every
    /// process costs start-up time on a small machine, and any running `payment` serves all.
    /// `gatewayOnly` starts the gateway alone (for what it decides without a service, such as
    /// rate limits); `gatewayEnvironment` adds to or overrides the gateway's settings.
    static func start(payment: Bool = false, gatewayOnly: Bool = false,
                      gatewayEnvironment: [String: String] = [:]) async throws -> GatewayStack {
        let bin = try TestStack.environment("CONVENE_BIN_DIR")
        let amqp = try TestStack.environment("AMQP_URL")
        let logs = NSTemporaryDirectory() + "convene-gateway-e2e-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        // The services behind the gateway that these tests use, then the gateway itself.
        // The full stack (with payment) also runs platform-bridge, against the contract server's platforms.
        let backends = gatewayOnly ? [] : ["notification", "scheduling", "registration"] + (payment ? ["payment", "platform-bridge"] : [])
        let ports = try freePorts(backends.count + 2, in: 39300...39699)
        let gatewayPort = ports[backends.count + 1]
        let secret = randomBase64(32)
        // Small pools: the whole suite shares the test stack's PostgreSQL.
        let common = ["AMQP_URL": amqp, "LOG_LEVEL": "info", "SHUTDOWN_TIMEOUT": "5s", "DB_POOL_SIZE": "3"]
        var environments: [String: [String: String]] = [:]
        // No WEBHOOK_ALLOW_HTTP nor WEBHOOK_ALLOWED_NETWORKS: the default policy (https only, no
        // internal addresses), as in production.
        environments["notification"] = [
            "SMTP_URL": try TestStack.environment("SMTP_URL"),
            // The stack's key when it has one: another notification consumer of the same schema
            // (the whole-stack test) may be running and must be able to open what this one sealed.
            "NOTIFICATION_SECRET_KEY": ProcessInfo.processInfo.environment["NOTIFICATION_SECRET_KEY"].flatMap { $0.isEmpty ? nil : $0 }
                ?? randomBase64(32),
        ]
        // Payment against the contract server's providers, with the merchant every payment process
        // of this test run shares (they all consume one queue). Tests hand the providers'
        // notifications to this stack's gateway themselves, as a provider would.
        let gatewayURL = "http://127.0.0.1:\(gatewayPort)"
        let (contracts, accounts) = try await PaymentContracts.shared()
        environments["payment"] = accounts.environment(base: contracts.base).merging([
            "PAYMENT_PUBLIC_URL": gatewayURL, "PAYMENT_TIMER_INTERVAL": "200ms",
            "BANK_ACCOUNT_NAME": "中国计算机学会", "BANK_NAME": "中国工商银行北京分行", "BANK_ACCOUNT_NUMBER": "0200 0000 0000 0000 000",
        ]) { $1 }
        let contractsURL = try TestStack.environment("CONTRACTS_URL")
        environments["platform-bridge"] = [
            // The stack's key when it has one: another platform-bridge of the same schema may be running.
            "PLATFORM_SECRET_KEY": ProcessInfo.processInfo.environment["PLATFORM_SECRET_KEY"].flatMap { $0.isEmpty ? nil : $0 }
                ?? randomBase64(32),
            "ZOOM_OAUTH_URL": contractsURL + "/zoom", "ZOOM_API_URL": contractsURL + "/zoom",
            "TENCENT_MEETING_URL": contractsURL + "/tencent", "DINGTALK_API_URL": contractsURL + "/dingtalk",
            "DINGTALK_OAPI_URL": contractsURL + "/dingtalk",
            "PLATFORM_POLL_INTERVAL": "200ms", "PLATFORM_RETRY_DELAYS": "200ms,400ms",
        ]
        // The default reminder offsets (a week and a day before a conference's start); timers are
        // looked for often, so a reminder a test moves to a few seconds ahead goes out on time.
        environments["scheduling"] = ["TIMER_POLL_INTERVAL": "500ms"]
        environments["gateway"] = [
            "GATEWAY_PORT": String(gatewayPort),
            "GATEWAY_TOKEN_SECRET": secret,
            // Generous: the machine may be busy with other test suites.
            "RPC_TIMEOUT": "15s",
            // Every suite signs in from 127.0.0.1: only the per-account limit is under test here.
            "LOGIN_ADDRESS_LIMIT": "100000",
            // Uploads: a store of this stack's own, a limit above the 2 MiB of JSON bodies (so that
            // an upload with an Idempotency-Key shows it is not held to theirs) yet quick to exceed.
            "BLOB_DIR": logs + "/blobs",
            "UPLOAD_MAX_BYTES": String(uploadMaxBytes),
            "UPLOAD_ENCRYPTION_KEY": randomBase64(32),
            // Every suite calls from 127.0.0.1, and the load test fires hundreds of requests: the
            // limiter runs (its headers are on every answer) but never refuses. `RateLimitTests`
            // starts a gateway of its own with small limits.
            "RATE_LIMIT_PER_MINUTE": "1000000",
            "RATE_LIMIT_ANONYMOUS_PER_MINUTE": "1000000",
        ].merging(gatewayEnvironment) { $1 }
        var processes: [String: ChildProcess] = [:]
        do {
            for (index, name) in (backends + ["gateway"]).enumerated() {
                let database = try TestStack.environment(name.uppercased().replacingOccurrences(of: "-", with: "_") + "_DATABASE_URL")
                let environment = common.merging(environments[name, default: [:]]) { $1 }
                    .merging(["DATABASE_URL": database, "OPS_PORT": String(ports[index])]) { $1 }
                processes[name] = try ChildProcess([bin + "/" + name], environment: environment, output: logs + "/\(name).log")
            }
        } catch {
            await stop(processes)
            throw error
        }
        let tokens = TokenIssuer(settings: TokenSettings(secret: Array(secret.utf8), issuer: "convene", audience: "convene-api"))
        let stack = GatewayStack(baseURL: gatewayURL, tokens: tokens, logs: logs, blobs: logs + "/blobs", processes: processes,
                                 contracts: contracts,
                                 payments: accounts)
        do {
            try await stack.waitUntilReady(opsPorts: Array(ports[0...backends.count]), throughService: !gatewayOnly)
        } catch {
            await stack.stop()
            throw error
        }
        return stack
    }

    /// Every ops server ready, then one request that goes all the way to the service and back.
    private func waitUntilReady(opsPorts: [Int], throughService: Bool = true) async throws {
        for port in opsPorts {
            let ready = await eventually(timeout: .seconds(90)) {
                (try? await client.execute(HTTPRequest(url: "http://127.0.0.1:\(port)/ready")))?.status == 200
            }
            guard ready else { throw Failure("ops port \(port) never became ready;\n\(logTails())") }
        }
        let token = try await self.token(account: "probe-" + UUID().uuidString.prefix(8).lowercased())
        guard throughService else {
            // The gateway's own answer: no account behind the probe's token.
            let answered = await eventually(timeout: .seconds(60)) { (try? await call(.get, "/v1/me", token: token))?.status == 404 }
            guard answered else { throw Failure("the gateway never answered;\n\(logTails())") }
            return
        }
        let answered = await eventually(timeout: .seconds(60)) {
            (try? await call(.get, "/v1/me/inbox/unread-count", token: token))?.status == 200
        }
        guard answered else { throw Failure("the gateway never answered an inbox request;\n\(logTails())") }
    }

    /// `UPLOAD_MAX_BYTES` of the stack's gateway.
    static let uploadMaxBytes = 3 * 1024 * 1024

    func stop() async { await Self.stop(processes) }

    private static func stop(_ processes: [String: ChildProcess]) async {
        for process in processes.values { process.signal(SIGTERM) }
        for process in processes.values where await process.wait(timeout: .seconds(15)) == nil {
            process.signal(SIGKILL)
            _ = await process.wait(timeout: .seconds(5))
        }
    }

    func logTails() -> String {
        ["notification", "gateway"].map { name in
            let text = (try? String(contentsOfFile: "\(logs)/\(name).log", encoding: .utf8)) ?? ""
            return "--- \(name) (last 3000 characters of \(logs)/\(name).log):\n" + String(text.suffix(3000))
        }.joined(separator: "\n")
    }

    // MARK: Calling the API

    func token(account: String, organization: String? = nil, roles: [Principal.Role] = [.user],
               email: String? = nil) async throws -> String {
        try await tokens.issue(accountId: account, organizationId: organization ?? organizationId, roles: roles, email: email)
    }

    func call(_ method: HTTPMethod, _ path: String, token: String? = nil, body: String? = nil,
              headers: [(name: String, value: String)] = []) async throws -> HTTPResponse {
        var request = HTTPRequest(method: method, url: baseURL + path, headers: headers)
        if let token { request.setHeader("Authorization", "Bearer " + token) }
        if let body {
            request.body = Array(body.utf8)
            request.setHeader("Content-Type", "application/json")
        }
        return try await client.execute(request)
    }

    /// Publishes `notification.send` as any service would.
    func send(_ notification: SendNotification) async throws {
        let publisher = Publisher(.init(amqp: try TestStack.amqp(name: "gateway-e2e-pub")), logger: TestStack.logger)
        let envelope = Envelope(notification, source: "gateway-e2e", organizationId: organizationId)
        try await publisher.publish(try OutgoingMessage.envelope(envelope, exchange: Exchange.commands))
        await publisher.shutdown(grace: .seconds(2))
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    static func randomBase64(_ count: Int) -> String {
        Data((0..<count).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
    }

    /// Ports handed out in this test process: suites start their stacks in parallel, and a port
    /// that is free when checked stays free until its process binds it, so never hand one out twice.
    private static let handedOut = Mutex<Set<Int>>([])

    /// Ports nobody listens on and no other stack of this process was given, tried from a random
    /// place in `range`.
    static func freePorts(_ count: Int, in range: ClosedRange<Int>) throws -> [Int] {
        let offset = Int.random(in: 0..<range.count)
        let found = handedOut.withLock { taken in
            var found: [Int] = []
            for index in 0..<range.count where found.count < count {
                let port = range.lowerBound + (offset + index) % range.count
                if !taken.contains(port) && canBind(port) { found.append(port) }
            }
            if found.count == count { taken.formUnion(found) }
            return found
        }
        guard found.count == count else { throw Failure("no \(count) free ports in \(range)") }
        return found
    }

    private static func canBind(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

/// Every end-to-end suite of the gateway is nested in this one and shares its one stack: a stack
/// is six processes, and a two-core machine runs one of them well rather than seven at once.
/// The nested suites still run side by side; each uses its own accounts and, where it changes
/// organization-wide settings, its own organization.
@Suite("The gateway end to end", .gatewayStackWithPayment)
enum EndToEnd {}

/// Starts the stack once around the suite it is attached to, and stops it afterwards.
struct GatewayStackTrait: SuiteTrait, TestScoping {
    var payment = false
    var isRecursive: Bool { false }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let stack = try await GatewayStack.start(payment: payment)
        do {
            try await GatewayStack.$current.withValue(stack) { try await function() }
        } catch {
            await stack.stop()
            throw error
        }
        await stack.stop()
    }
}

extension Trait where Self == GatewayStackTrait {
    static var gatewayStack: Self { Self() }
    /// The stack with the payment service too.
    static var gatewayStackWithPayment: Self { Self(payment: true) }
}

extension HTTPResponse {
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try ConveneJSON.decode(type, from: body) }

    /// The problem document of an error answer.
    var problem: Problem.Body? { try? decode(Problem.Body.self) }
}
