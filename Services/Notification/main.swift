import Foundation
import HTTPClient
import Persistence
import ServiceKit

await ServiceMain.run(
    .notification,
    bundledMigrations: Bundle.module.path(forResource: "Migrations", ofType: nil),
    handlers: { context in
        do {
            let settings = try NotificationSettings(context.configuration.environment,
                                                    retries: context.configuration.retryDelays.count)
            guard let directory = settings.templatesDirectory ?? Bundle.module.path(forResource: "Templates", ofType: nil) else {
                ServiceMain.fail("notification: templates folder not found; set TEMPLATES_DIR")
            }
            let templates = try TemplateLibrary(directory: directory)
            let smtp = SMTPClient(url: settings.smtpURL, username: settings.smtpUsername, password: settings.smtpPassword,
                                  requireTLS: settings.smtpRequireTLS, logger: context.logger)
            let service = context.configuration.service.queue
            let intents = PGPool(.init(url: context.configuration.databaseURL, schema: context.configuration.schema, size: 2,
                                       applicationName: "notification-intents"), logger: context.logger)
            return [AcceptNotification(service: service, templates: templates),
                    DeliverEmail(service: service, intents: intents, templates: templates, settings: settings, smtp: smtp)]
        } catch {
            ServiceMain.fail("notification: \(error)")
        }
    })
