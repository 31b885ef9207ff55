import Contracts
import Logging
import Messaging
import Persistence
import ServiceLifecycle
import Hummingbird

/// What a service's handlers may use, built once at start-up.
public struct ServiceContext: Sendable {
    public let configuration: ServiceConfiguration
    public let pool: PGPool
    public let publisher: Publisher
    public let logger: Logger
    public let startedAt: Date
}

/// A Convene service assembled from configuration: database pool and migrations, publisher,
/// outbox relay, consumer with its handlers (a `<service>.ping` handler included) and the ops
/// server, run by a `ServiceGroup` that shuts them down in reverse order on SIGTERM/SIGINT:
/// stop consuming and finish in-flight messages, flush the outbox, close the publisher.
public final class ConveneService: Sendable {
    public let context: ServiceContext
    public let consumer: MessageConsumer
    public let relay: OutboxRelay
    public let dispatcher: Dispatcher
    private let extraServices: [any Service]
    private let ops: any Service

    public var configuration: ServiceConfiguration { context.configuration }

    /// Builds every part; fails (with a readable reason) if the database is unreachable or a
    /// migration fails. The broker may come later: its connections retry on their own.
    public static func build(
        _ configuration: ServiceConfiguration,
        migrations: [Migration],
        handlers: @Sendable (ServiceContext) -> [any MessageHandler] = { _ in [] },
        services: @Sendable (ServiceContext) -> [any Service] = { _ in [] },
        extraReadiness: [ReadinessCheck] = []
    ) async throws -> ConveneService {
        MetricsSetup.bootstrap()
        var logger = Logger(label: configuration.service.rawValue)
        logger.logLevel = configuration.logLevel
        logger[metadataKey: "instance"] = "\(configuration.instance)"

        let pool = PGPool(.init(url: configuration.databaseURL, schema: configuration.schema,
                                size: configuration.databasePoolSize, applicationName: configuration.service.rawValue),
                          logger: logger)
        try await Migrator(pool: pool, logger: logger).migrate(migrations)

        let publisher = Publisher(.init(amqp: configuration.amqp), logger: logger)
        let context = ServiceContext(configuration: configuration, pool: pool, publisher: publisher, logger: logger,
                                     startedAt: Date())
        let dispatcher = Dispatcher(service: configuration.service.queue, pool: pool, publisher: publisher,
                                    handlers: [PingHandler(context: context)] + handlers(context), logger: logger)
        let topology = Topology.service(configuration.service.queue, events: dispatcher.eventTypes,
                                        retryDelays: configuration.retryDelays, deliveryLimit: configuration.deliveryLimit)
        let consumer = MessageConsumer(
            .init(service: configuration.service.queue, amqp: configuration.amqp, topology: topology,
                  prefetch: configuration.prefetch, concurrency: configuration.concurrency,
                  retryDelays: configuration.retryDelays, batchSize: configuration.batchSize),
            publisher: publisher, logger: logger, process: dispatcher.process, processBatch: dispatcher.process(batch:))
        let relay = OutboxRelay(pool: pool, publisher: publisher, logger: logger)
        let checks = [
            ReadinessCheck("database") { await pool.ping() },
            ReadinessCheck("broker") { publisher.isConnected && consumer.isConnected },
        ] + extraReadiness
        let ops = makeOpsServer(host: configuration.opsHost, port: configuration.opsPort,
                                service: configuration.service.rawValue, instance: configuration.instance,
                                checks: checks, logger: logger)
        return ConveneService(context: context, consumer: consumer, relay: relay, dispatcher: dispatcher,
                              extraServices: services(context), ops: ops)
    }

    private init(context: ServiceContext, consumer: MessageConsumer, relay: OutboxRelay, dispatcher: Dispatcher,
                 extraServices: [any Service], ops: any Service) {
        self.context = context
        self.consumer = consumer
        self.relay = relay
        self.dispatcher = dispatcher
        self.extraServices = extraServices
        self.ops = ops
    }

    /// Runs until SIGTERM/SIGINT, then shuts down gracefully within the configured timeout.
    public func run() async throws {
        let logger = context.logger
        // Started first, stopped last: ops answers until the end, then the publisher closes after
        // the relay flushed, and the relay flushes after the consumer finished its messages.
        var groupConfiguration = ServiceGroupConfiguration(
            services: [
                .init(service: ops),
                .init(service: PublisherService(publisher: context.publisher)),
                .init(service: relay),
            ] + extraServices.map { .init(service: $0) } + [.init(service: consumer)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        // Past the budget, in-flight work is abandoned: it is redelivered, never lost.
        groupConfiguration.maximumGracefulShutdownDuration = configuration.shutdownTimeout
        groupConfiguration.maximumCancellationDuration = .seconds(2)
        logger.info("service starting", metadata: [
            "broker": "\(configuration.amqp.redacted)", "schema": "\(configuration.schema)",
            "opsPort": "\(configuration.opsPort)",
        ])
        try await ServiceGroup(configuration: groupConfiguration).run()
        await context.pool.close()
        logger.info("service stopped")
    }
}

/// Keeps the publisher open while the services that publish run, and closes it after them.
struct PublisherService: Service {
    let publisher: Publisher
    func run() async throws {
        try? await gracefulShutdown()
        await publisher.shutdown(grace: .seconds(3))
    }
}

/// `<service>.ping`: answers with the service's identity and whether its database answers.
struct PingHandler: MessageHandler {
    let context: ServiceContext
    var messageType: String { Ping.messageType(for: context.configuration.service) }

    func handle(_ message: Envelope<Ping>, context handler: HandlerContext) async throws -> ServiceStatus {
        let database = (try? await handler.transaction.query("SELECT 1")) != nil
        return ServiceStatus(service: context.configuration.service.rawValue, instance: context.configuration.instance,
                             version: ConveneVersion.current, startedAt: context.startedAt, database: database)
    }
}

public enum ConveneVersion {
    public static let current = "0.1.0"
}
