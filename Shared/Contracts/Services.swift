/// The seven executables of Convene and the names derived from each: its work queue, its
/// command prefix and its database schema.
public enum ServiceName: String, CaseIterable, Codable, Sendable {
    case gateway
    case registration
    case payment
    case scheduling
    case platformBridge = "platform-bridge"
    case notification
    case archive

    /// The work queue, the `source` of its messages and the prefix of its commands.
    public var queue: String { rawValue }
    /// Its PostgreSQL schema and database role.
    public var schema: String { rawValue.replacing("-", with: "_") }
    /// The services behind the gateway, in the order the gateway reports them.
    public static var backends: [ServiceName] { allCases.filter { $0 != .gateway } }
}

/// `<service>.ping`: every service answers it with a `ServiceStatus`, so the gateway can tell
/// which services are up over the same path real requests take.
public struct Ping: Codable, Sendable, Equatable {
    public init() {}
    public static func messageType(for service: ServiceName) -> String { "\(service.queue).ping" }
}

public struct ServiceStatus: Codable, Sendable, Equatable {
    public var service: String
    public var instance: String
    public var version: String
    public var startedAt: Date
    public var database: Bool

    public init(service: String, instance: String, version: String, startedAt: Date, database: Bool) {
        self.service = service
        self.instance = instance
        self.version = version
        self.startedAt = startedAt
        self.database = database
    }
}
