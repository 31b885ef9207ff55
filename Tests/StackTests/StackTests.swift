import Foundation
import HTTPClient
import Testing
import TestSupport

/// The seven executables as an operator runs them, against the test stack's broker and database.
@Suite("The whole stack", .serialized)
struct StackTests {
    static let executables = ["gateway", "registration", "payment", "scheduling", "platform-bridge", "notification", "archive"]

    final class Fleet: @unchecked Sendable {
        var processes: [String: ChildProcess] = [:]
        let logs: String

        init() throws {
            logs = try TestStack.environment("CONVENE_STACK_DIR") + "/stack-test-logs"
            try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        }

        func start() async throws {
            let bin = try TestStack.environment("CONVENE_BIN_DIR")
            // The payment merchant every payment process of this test run shares (they all consume
            // one queue, so any of them may serve a request of another suite).
            let payments = try await PaymentContracts.shared()
            let base = Int(try TestStack.environment("CONVENE_TEST_OPS_PORT_BASE"))!
            for (index, name) in StackTests.executables.enumerated() {
                let variable = name.uppercased().replacingOccurrences(of: "-", with: "_") + "_DATABASE_URL"
                var environment = ProcessInfo.processInfo.environment
                environment["DATABASE_URL"] = try TestStack.environment(variable)
                environment["OPS_PORT"] = String(base + index)
                environment["GATEWAY_PORT"] = try TestStack.environment("CONVENE_TEST_GATEWAY_PORT")
                environment["LOG_LEVEL"] = "info"
                // Small pools: other suites share the test stack's PostgreSQL.
                environment["DB_POOL_SIZE"] = "2"
                if name == "payment" {
                    environment.merge(payments.accounts.environment(base: payments.contracts.base)) { $1 }
                    environment["PAYMENT_PUBLIC_URL"] = "http://127.0.0.1:" + (try TestStack.environment("CONVENE_TEST_GATEWAY_PORT"))
                }
                processes[name] = try ChildProcess([bin + "/" + name], environment: environment, output: "\(logs)/\(name).log")
            }
        }

        /// SIGTERM to each, then the exit statuses once they stopped (nil: still running after 15 s).
        func terminate() async -> [String: Int32?] {
            for process in processes.values { process.signal(SIGTERM) }
            var statuses: [String: Int32?] = [:]
            for (name, process) in processes {
                let status = await process.wait(timeout: .seconds(15))
                if status == nil { process.signal(SIGKILL); _ = await process.wait(timeout: .seconds(5)) }
                statuses[name] = .some(status)
            }
            return statuses
        }

        func log(_ name: String) -> String {
            (try? String(contentsOfFile: "\(logs)/\(name).log", encoding: .utf8)) ?? ""
        }
    }

    struct Health: Decodable {
        struct Service: Decodable { var status: String; var instance: String?; var database: Bool? }
        var status: String
        var services: [String: Service]
    }

    @Test("all seven executables start, the gateway reports the six services up, and SIGTERM stops each with exit 0")
    func startReportStop() async throws {
        let fleet = try Fleet()
        try await fleet.start()
        let client = CurlHTTPClient(configuration: .init(timeout: .seconds(5)))
        let gatewayPort = try TestStack.environment("CONVENE_TEST_GATEWAY_PORT")

        var health: Health?
        let deadline = ContinuousClock.now.advanced(by: .seconds(60))
        while ContinuousClock.now < deadline {
            if let response = try? await client.execute(HTTPRequest(url: "http://127.0.0.1:\(gatewayPort)/health")),
               response.status == 200 {
                health = try JSONDecoder().decode(Health.self, from: Data(response.body))
                break
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        guard let report = health else {
            // Stop the fleet first: left running, it would keep consuming the shared queues
            // (even a later run's broker on the same port) with this run's code and database.
            _ = await fleet.terminate()
            Issue.record("gateway /health never answered 200 within 60 s; gateway log:\n\(fleet.log("gateway"))")
            return
        }
        #expect(report.status == "ok")
        #expect(Set(report.services.keys) == ["registration", "payment", "scheduling", "platform-bridge", "notification", "archive"])
        for (name, service) in report.services {
            #expect(service.status == "up", "\(name) is \(service.status)")
            #expect(service.database == true)
        }

        // Each service's ops port: alive, ready, and metrics in Prometheus text.
        let base = Int(try TestStack.environment("CONVENE_TEST_OPS_PORT_BASE"))!
        let ready = try await client.execute(HTTPRequest(url: "http://127.0.0.1:\(base + 1)/ready"))
        #expect(ready.status == 200, "registration /ready: \(ready.bodyString)")
        let alive = try await client.execute(HTTPRequest(url: "http://127.0.0.1:\(base + 2)/health"))
        #expect(alive.bodyString.contains("\"service\":\"payment\""))
        let metrics = try await client.execute(HTTPRequest(url: "http://127.0.0.1:\(base + 1)/metrics"))
        #expect(metrics.bodyString.contains("convene_messages_consumed_total"), "ping handling is counted")

        let statuses = await fleet.terminate()
        for name in StackTests.executables {
            #expect(statuses[name] == .some(0), "\(name) exited \(String(describing: statuses[name])); log:\n\(fleet.log(name).suffix(2000))")
        }
    }

    @Test("a service with a missing setting says what is wrong and exits 1")
    func configurationErrors() async throws {
        let bin = try TestStack.environment("CONVENE_BIN_DIR")
        let output = "/tmp/convene-config-test-\(UUID().uuidString).log"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let status = await Command.run([bin + "/payment"], environment: ["PATH": "/usr/bin:/bin", "CONSUMER_PREFETCH": "many"],
                                       output: output)
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        #expect(status == 1)
        #expect(text.contains("AMQP_URL is required"))
        #expect(text.contains("DATABASE_URL is required"))
        #expect(text.contains("CONSUMER_PREFETCH must be an integer"))
    }

    @Test("the docker compose file for operators is valid, and refuses to start without each secret it needs, naming it")
    func composeFileIsValid() async throws {
        let root = try TestStack.environment("CONVENE_REPO_ROOT")
        let output = "/tmp/convene-compose-test-\(UUID().uuidString).log"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let secrets = ["NOTIFICATION_SECRET_KEY": "c2VjcmV0LWtleS1mb3ItY29uZmlnLWNoZWNrLW9ubHk=",
                       "GATEWAY_TOKEN_SECRET": "Z2F0ZXdheS10b2tlbi1zZWNyZXQtZm9yLWNvbmZpZy1jaGVjaw==",
                       "UPLOAD_ENCRYPTION_KEY": "dXBsb2FkLWVuY3J5cHRpb24ta2V5LWZvci1jaGVja3M=",
                       "PLATFORM_SECRET_KEY": "cGxhdGZvcm0tc2VjcmV0LWtleS1mb3ItY2hlY2tzLTE="]
        func config(without missing: String?) async -> (status: Int32, text: String) {
            let status = await Command.run(["docker-compose", "-f", root + "/compose/compose.yaml", "config", "-q"],
                                           environment: secrets.filter { $0.key != missing }.merging(["PATH": path]) { $1 },
                                           output: output)
            return (status, (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
        }
        let complete = await config(without: nil)
        #expect(complete.status == 0, "docker-compose config: \(complete.text)")
        for name in secrets.keys.sorted() {
            let refused = await config(without: name)
            #expect(refused.status != 0 && refused.text.contains(name), "without \(name): \(refused.status) \(refused.text)")
        }
    }
}
