import ServiceKit

/// The gateway's own settings, beside the ones every service reads.
struct GatewaySettings: Sendable {
    var host: String
    var port: Int
    /// How long the gateway waits for a service's reply before answering 504.
    var requestTimeout: Duration
    /// How long `/health` waits for each service's ping.
    var healthTimeout: Duration

    init(_ environment: [String: String]) throws {
        var env = EnvironmentReader(environment)
        host = env.string("GATEWAY_HOST", default: "127.0.0.1")
        port = env.int("GATEWAY_PORT", default: 8080, in: 0...65535)
        requestTimeout = env.duration("RPC_TIMEOUT", default: .seconds(5))
        healthTimeout = env.duration("HEALTH_TIMEOUT", default: .seconds(2))
        try env.validate()
    }
}
