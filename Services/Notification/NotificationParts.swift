import Foundation
import HTTPClient
import Logging
import Persistence
import ServiceKit
import ServiceLifecycle

/// The service assembled from its settings: the handlers and the scheduler. The executable and
/// the tests build it the same way.
struct NotificationParts: Sendable {
    let settings: NotificationSettings
    let templates: TemplateLibrary
    let rules: RuleBook

    init(settings: NotificationSettings, templates: TemplateLibrary, rules: RuleBook) {
        self.settings = settings
        self.templates = templates
        self.rules = rules
    }

    /// From the service's configuration and the bundled templates and rules; exits with a plain
    /// message for the operator when something is wrong.
    static func build(_ context: ServiceContext) -> NotificationParts {
        do {
            let settings = try NotificationSettings(context.configuration.environment,
                                                    retryDelays: context.configuration.retryDelays)
            guard let directory = settings.templatesDirectory ?? Bundle.module.path(forResource: "Templates", ofType: nil),
                  let rulesFile = settings.rulesFile ?? Bundle.module.path(forResource: "Rules", ofType: nil).map({ $0 + "/rules.json" })
            else { ServiceMain.fail("notification: templates or rules not found; set TEMPLATES_DIR and RULES_FILE") }
            let templates = try TemplateLibrary(directory: directory)
            return NotificationParts(settings: settings, templates: templates,
                                     rules: try RuleBook(file: rulesFile, templates: templates))
        } catch {
            ServiceMain.fail("notification: \(error)")
        }
    }

    func handlers(service: String, logger: Logger) -> [any MessageHandler] {
        let robots = RobotStore(secrets: settings.secrets)
        let webhooks = WebhookStore(secrets: settings.secrets)
        let intake = NotificationIntake(templates: templates, robots: robots)
        let events: [any MessageHandler] = WebhookEvents.producers.map {
            OnDomainEvent(pattern: "\($0).#", rules: rules, intake: intake, webhooks: webhooks)
        }
        return events + [
            AcceptNotification(service: service, intake: intake),
            RegisterRobotHandler(settings: settings, robots: robots, service: service),
            ListRobotsHandler(robots: robots, service: service), RemoveRobotHandler(robots: robots, service: service),
            CreateWebhookHandler(settings: settings, webhooks: webhooks, service: service),
            ListWebhooksHandler(webhooks: webhooks, service: service), UpdateWebhookHandler(webhooks: webhooks, service: service),
            DeleteWebhookHandler(webhooks: webhooks, service: service),
            ListInboxHandler(service: service), CountUnreadHandler(service: service), MarkReadHandler(service: service),
            SetPreferenceHandler(service: service), ListPreferencesHandler(service: service),
            ListRulesHandler(rules: rules, service: service), SetRuleHandler(rules: rules, service: service),
        ]
    }

    /// The delivery workers and the scheduler, run beside the consumer.
    func services(service: String, pool: PGPool, logger: Logger) -> [any Service] {
        [worker(service: service, pool: pool, logger: logger), scheduler(pool: pool, logger: logger)]
    }

    func worker(service: String, pool: PGPool, logger: Logger) -> DeliveryWorker {
        let robots = RobotStore(secrets: settings.secrets)
        let smtp = SMTPClient(url: settings.smtpURL, username: settings.smtpUsername, password: settings.smtpPassword,
                              requireTLS: settings.smtpRequireTLS, timeout: .seconds(30), connectTimeout: .seconds(5),
                              maxConnections: settings.smtpConnections, logger: logger)
        let channels = DeliveryChannels(settings: settings, templates: templates, smtp: smtp, robots: robots,
                                        webhooks: WebhookStore(secrets: settings.secrets), logger: logger)
        return DeliveryWorker(service: service, pool: pool, settings: settings, channels: channels,
                              intake: NotificationIntake(templates: templates, robots: robots), logger: logger)
    }

    func scheduler(pool: PGPool, logger: Logger) -> DeliveryScheduler {
        DeliveryScheduler(pool: pool, settings: settings, logger: logger)
    }
}
