import Contracts
import Logging
import ServiceKit
import Testing

@Suite("Service configuration")
struct ServiceConfigurationTests {
    let minimal = ["AMQP_URL": "amqp://convene:s3cret@rabbit:5672/%2F", "DATABASE_URL": "postgres://payment:pw@db:5432/convene"]

    @Test("defaults apply when only the two required settings are given")
    func defaults() throws {
        let config = try ServiceConfiguration(service: .platformBridge, environment: minimal)
        #expect(config.schema == "platform_bridge")
        #expect(config.opsPort == 9104)
        #expect(config.retryDelays == [.seconds(1), .seconds(10), .seconds(60)])
        #expect(config.deliveryLimit == 10)
        #expect(config.amqp.host == "rabbit")
        #expect(config.amqp.user == "convene")
        #expect(config.amqp.virtualHost == "/")
        #expect(!config.amqp.redacted.contains("s3cret"), "the password never reaches a log line")
    }

    @Test("every invalid or missing setting is reported at once")
    func allProblemsAtOnce() {
        let environment = ["CONSUMER_PREFETCH": "many", "RETRY_DELAYS": "1s,soon", "LOG_LEVEL": "loud"]
        do {
            _ = try ServiceConfiguration(service: .payment, environment: environment)
            Issue.record("expected a configuration error")
        } catch let error as ConveneError {
            #expect(error.code == "config.invalid")
            for fragment in ["AMQP_URL is required", "DATABASE_URL is required", "CONSUMER_PREFETCH must be an integer",
                             "RETRY_DELAYS must be a comma-separated list", "LOG_LEVEL must be one of"] {
                #expect(error.message.contains(fragment), "missing: \(fragment)")
            }
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test("durations and URLs are parsed as operators write them")
    func parsing() throws {
        var environment = minimal
        environment["RETRY_DELAYS"] = "500ms, 2s ,1m"
        environment["AMQP_URL"] = "amqp://user%40corp:p%3Ass@10.0.0.5:5673/convene"
        let config = try ServiceConfiguration(service: .archive, environment: environment)
        #expect(config.retryDelays == [.milliseconds(500), .seconds(2), .seconds(60)])
        #expect(config.amqp.user == "user@corp")
        #expect(config.amqp.password == "p:ss")
        #expect(config.amqp.port == 5673)
        #expect(config.amqp.virtualHost == "convene")
    }
}

@Suite("JSON logs")
struct JSONLogTests {
    @Test("log fields are JSON-escaped so one event stays one line")
    func escaping() {
        #expect(JSONLogHandler.quote("a\"b\\c\nd\u{01}会") == "\"a\\\"b\\\\c\\nd\\u0001会\"")
    }
}
