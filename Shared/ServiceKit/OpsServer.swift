import Contracts
import Hummingbird
import Logging
import Prometheus
import Metrics

/// The process-wide Prometheus registry behind swift-metrics.
public enum MetricsSetup {
    public static let registry = PrometheusCollectorRegistry()

    /// Installs the Prometheus factory once; later calls are ignored (tests build many services).
    public static func bootstrap() {
        _ = installed
    }

    private static let installed: Bool = {
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return true
    }()
}

/// A check that `/ready` runs; the service is ready when all pass.
public struct ReadinessCheck: Sendable {
    public var name: String
    public var check: @Sendable () async -> Bool
    public init(_ name: String, _ check: @escaping @Sendable () async -> Bool) {
        self.name = name
        self.check = check
    }
}

/// `/health` (the process is alive), `/ready` (its broker and database are reachable) and
/// `/metrics` (Prometheus text), on a port of their own so they never compete with real traffic.
public enum OpsRoutes {
    public static func add<Context: RequestContext>(to router: Router<Context>, service: String, instance: String,
                                                  checks: [ReadinessCheck]) {
        let started = Date()
        router.get("health") { _, _ -> Response in
            json(.ok, ["status": "alive", "service": service, "instance": instance,
                       "startedAt": ISO8601.format(started)])
        }
        router.get("ready") { _, _ -> Response in
            var results: [String: String] = [:]
            for check in checks { results[check.name] = await check.check() ? "up" : "down" }
            let ready = results.values.allSatisfy { $0 == "up" }
            results["status"] = ready ? "ready" : "not_ready"
            results["service"] = service
            return json(ready ? .ok : .serviceUnavailable, results)
        }
        router.get("metrics") { _, _ -> Response in
            var buffer: [UInt8] = []
            MetricsSetup.registry.emit(into: &buffer)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
    }

    static func json(_ status: HTTPResponse.Status, _ fields: [String: String]) -> Response {
        let body = (try? ConveneJSON.encode(fields)) ?? []
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// The ops endpoints as a service of their own.
public func makeOpsServer(host: String, port: Int, service: String, instance: String,
                          checks: [ReadinessCheck], logger: Logger) -> some ApplicationProtocol {
    let router = Router()
    OpsRoutes.add(to: router, service: service, instance: instance, checks: checks)
    var logger = logger
    logger[metadataKey: "component"] = "ops"
    return Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "convene-ops"),
                       logger: logger)
}
