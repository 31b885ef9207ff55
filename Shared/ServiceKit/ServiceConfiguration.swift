import Contracts
import Logging
import Messaging

/// Settings every service reads from its environment (all documented in docs/configuration.md).
public struct ServiceConfiguration: Sendable {
    public var service: ServiceName
    public var amqp: AMQPConfiguration
    public var databaseURL: String
    public var schema: String
    public var opsHost: String
    public var opsPort: Int
    public var logLevel: Logger.Level
    public var logFormat: String
    public var databasePoolSize: Int
    public var prefetch: Int
    public var concurrency: Int
    public var batchSize: Int
    public var retryDelays: [Duration]
    public var deliveryLimit: Int
    public var shutdownTimeout: Duration
    public var migrationsDirectory: String?
    public var instance: String
    public var environment: [String: String]

    /// The ops port a service uses when `OPS_PORT` is not set: 9100 for the gateway, then one
    /// per service in the order of `ServiceName`.
    public static func defaultOpsPort(_ service: ServiceName) -> Int {
        9100 + ServiceName.allCases.firstIndex(of: service)!
    }

    public init(service: ServiceName, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        var env = EnvironmentReader(environment)
        let amqpURL = env.required("AMQP_URL")
        databaseURL = env.required("DATABASE_URL")
        self.service = service
        schema = env.string("DATABASE_SCHEMA", default: service.schema)
        opsHost = env.string("OPS_HOST", default: "127.0.0.1")
        opsPort = env.int("OPS_PORT", default: Self.defaultOpsPort(service), in: 0...65535)
        let level = env.oneOf("LOG_LEVEL", ["trace", "debug", "info", "notice", "warning", "error", "critical"], default: "info")
        logLevel = Logger.Level(rawValue: level) ?? .info
        logFormat = env.oneOf("LOG_FORMAT", ["json", "text"], default: "json")
        databasePoolSize = env.int("DB_POOL_SIZE", default: 8, in: 1...200)
        prefetch = env.int("CONSUMER_PREFETCH", default: 256, in: 1...65535)
        concurrency = env.int("CONSUMER_CONCURRENCY", default: 8, in: 1...1024)
        batchSize = env.int("CONSUMER_BATCH_SIZE", default: 32, in: 1...1000)
        retryDelays = env.durations("RETRY_DELAYS", default: [.seconds(1), .seconds(10), .seconds(60)])
        deliveryLimit = env.int("DELIVERY_LIMIT", default: 10, in: 1...1000)
        shutdownTimeout = env.duration("SHUTDOWN_TIMEOUT", default: .seconds(10))
        let heartbeat = env.int("AMQP_HEARTBEAT", default: 10, in: 0...600)
        migrationsDirectory = environment["MIGRATIONS_DIR"]
        instance = env.string("INSTANCE_ID", default: "\(service.rawValue)-\(UUID().uuidString.prefix(8).lowercased())")
        self.environment = environment
        var amqp: AMQPConfiguration?
        if !amqpURL.isEmpty {
            do {
                amqp = try AMQPConfiguration(url: amqpURL, heartbeat: heartbeat, connectionName: instance)
            } catch let error as ConveneError {
                env.check(false, "AMQP_URL is invalid: \(error.message)")
            }
        }
        env.check(databaseURL.isEmpty || databaseURL.hasPrefix("postgres://") || databaseURL.hasPrefix("postgresql://"),
                  "DATABASE_URL must start with postgres:// or postgresql://")
        try env.validate()
        self.amqp = amqp!
    }

    public var topology: Topology { Topology.service(service.queue, retryDelays: retryDelays, deliveryLimit: deliveryLimit) }
}
