import Contracts
import Hummingbird
import Logging
import Messaging

/// `GET /health`: the gateway asks each of the six services for a ping over the broker, the same
/// path real requests take, and reports each one. 200 when all are up, 503 otherwise.
struct HealthRoute {
    let rpc: RPCClient
    let timeout: Duration

    struct ServiceHealth: Codable, Sendable {
        var status: String
        var instance: String?
        var version: String?
        var database: Bool?
        var latencyMs: Int64?
        var error: String?
    }

    struct Report: Codable, Sendable {
        var status: String
        var services: [String: ServiceHealth]
    }

    func report() async -> Report {
        let results = await withTaskGroup(of: (String, ServiceHealth).self) { group in
            for service in ServiceName.backends {
                group.addTask { (service.rawValue, await probe(service)) }
            }
            var results: [String: ServiceHealth] = [:]
            for await (name, health) in group { results[name] = health }
            return results
        }
        let allUp = results.values.allSatisfy { $0.status == "up" }
        return Report(status: allUp ? "ok" : "degraded", services: results)
    }

    private func probe(_ service: ServiceName) async -> ServiceHealth {
        let started = ContinuousClock.now
        do {
            let status = try await rpc.request(Ping.messageType(for: service), Ping(), as: ServiceStatus.self,
                                               timeout: timeout).get()
            return ServiceHealth(status: status.database ? "up" : "degraded", instance: status.instance,
                                 version: status.version, database: status.database,
                                 latencyMs: (ContinuousClock.now - started).inMilliseconds)
        } catch {
            return ServiceHealth(status: "down", error: "\(error)")
        }
    }

    func register(on router: Router<GatewayRequestContext>) {
        router.get("health") { _, _ -> Response in
            let report = await report()
            let body = (try? ConveneJSON.encode(report)) ?? []
            return Response(status: report.status == "ok" ? .ok : .serviceUnavailable,
                            headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
    }
}
