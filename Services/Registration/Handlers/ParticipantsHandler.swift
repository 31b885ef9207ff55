import Contracts
import Foundation
import Persistence

/// `registration.list_participants`: the organization's participant database, one row per
/// account over all its conferences; the consent of the latest registration decides whether
/// the person may be contacted about later events.
struct ListParticipantsHandler: MessageHandler {
    var messageType: String { ListParticipants.messageType }

    func handle(_ message: Envelope<ListParticipants>, context: HandlerContext) async throws -> [ParticipantRecord] {
        let organizationId = try message.requireOrganization()
        return try await context.transaction.query("""
            SELECT account_id,
                   (array_agg(name ORDER BY submitted_at DESC))[1] AS name,
                   (array_agg(email ORDER BY submitted_at DESC))[1] AS email,
                   count(*) FILTER (WHERE status = 'confirmed')::int AS attended,
                   count(*)::int AS registrations,
                   max(submitted_at) AS last_registered_at,
                   (array_agg(consent_to_contact ORDER BY submitted_at DESC))[1] AS consent
            FROM registrations WHERE organization_id = $1
            GROUP BY account_id
            HAVING NOT $2 OR (array_agg(consent_to_contact ORDER BY submitted_at DESC))[1]
            ORDER BY max(submitted_at) DESC LIMIT 50000
            """, [organizationId, message.data.consentedOnly]).rows.map { row in
                ParticipantRecord(accountId: try row.string("account_id"), name: try row.string("name"), email: try row.string("email"),
                                  conferencesAttended: try row.int("attended"), registrations: try row.int("registrations"),
                                  lastRegisteredAt: try row.date("last_registered_at"), consentToContact: try row.bool("consent"))
            }
    }
}
