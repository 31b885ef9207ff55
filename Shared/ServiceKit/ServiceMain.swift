import Contracts
import Logging
import Persistence
import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#endif

/// The whole life of a service executable: read configuration, set up logging, assemble, run.
/// A configuration or start-up error is printed plainly and the process exits with status 1.
public enum ServiceMain {
    public static func run(
        _ service: ServiceName,
        bundledMigrations: String?,
        handlers: @escaping @Sendable (ServiceContext) -> [any MessageHandler] = { _ in [] },
        services: @escaping @Sendable (ServiceContext) -> [any Service] = { _ in [] },
        extraReadiness: [ReadinessCheck] = []
    ) async -> Never {
        let configuration: ServiceConfiguration
        do {
            configuration = try ServiceConfiguration(service: service)
        } catch {
            fail("\(service.rawValue): \(error)")
        }
        LoggingSetup.bootstrap(service: service.rawValue, level: configuration.logLevel, format: configuration.logFormat)
        let logger = Logger(label: service.rawValue)
        do {
            guard let directory = configuration.migrationsDirectory ?? bundledMigrations else {
                throw ConveneError(code: "config.invalid", message: "migrations folder not found; set MIGRATIONS_DIR")
            }
            let built = try await ConveneService.build(configuration, migrations: try Migration.load(from: directory),
                                                       handlers: handlers, services: services,
                                                       extraReadiness: extraReadiness)
            try await built.run()
            exit(0)
        } catch {
            logger.critical("service failed", metadata: ["error": "\(error)"])
            exit(1)
        }
    }

    /// Prints a start-up error for the operator and exits with status 1.
    public static func fail(_ message: String) -> Never {
        var text = message + "\n"
        text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
        exit(1)
    }
}
