import Contracts
import Foundation
import Persistence

/// A conference as registration keeps it.
struct ConferenceRecord: Sendable, Equatable {
    var id: UUID
    var organizationId: String
    var title: String
    var startsAt: Date
    var endsAt: Date
    var timeZone: String
    var registrationOpensAt: Date
    var registrationClosesAt: Date
    var cancelled: Bool

    func isOpen(at now: Date) -> Bool { !cancelled && registrationOpensAt <= now && now < registrationClosesAt }
}

/// One registration: its domain state plus who and what.
struct RegistrationRecord: Sendable, Equatable {
    var id: UUID
    var conferenceId: UUID
    var organizationId: String
    var registrant: Payer
    var state: Registration
    var answers: [String: JSONValue]
    var invoice: InvoiceDetails?
    var consentToContact: Bool
    var waitlistPosition: Int64?
    var submittedAt: Date
    var updatedAt: Date
}

/// SQL for conferences, settings and registrations.
struct RegistrationStore: Sendable {
    // MARK: Conferences

    /// Applies a scheduling event unless a newer one was applied already.
    func upsertConference(id: UUID, organizationId: String, sequence: Int, details: ConferenceDetails, in tx: Transaction) async throws {
        tx.locals.removeAll()
        try await tx.query("""
            INSERT INTO conferences (id, organization_id, title, starts_at, ends_at, time_zone, registration_opens_at,
                                     registration_closes_at, sequence)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            ON CONFLICT (id) DO UPDATE SET title = $3, starts_at = $4, ends_at = $5, time_zone = $6, registration_opens_at = $7,
                registration_closes_at = $8, sequence = $9, updated_at = now()
            WHERE conferences.sequence < $9
            """, [id, organizationId, details.title, details.startsAt, details.endsAt, details.timeZone,
                  details.registrationOpensAt, details.registrationClosesAt, sequence])
    }

    /// Marks it cancelled; answers whether this event was news.
    func cancelConference(id: UUID, sequence: Int, in tx: Transaction) async throws -> Bool {
        tx.locals.removeAll()
        return try await tx.query("""
            UPDATE conferences SET cancelled = true, sequence = $2, updated_at = now() WHERE id = $1 AND NOT cancelled
            """, [id, sequence]).affectedRows == 1
    }

    func conference(_ id: UUID, in tx: Transaction) async throws -> ConferenceRecord? {
        try await tx.query("SELECT * FROM conferences WHERE id = $1", [id]).first.map { row in
            ConferenceRecord(id: try row.uuid("id"), organizationId: try row.string("organization_id"), title: try row.string("title"),
                             startsAt: try row.date("starts_at"), endsAt: try row.date("ends_at"), timeZone: try row.string("time_zone"),
                             registrationOpensAt: try row.date("registration_opens_at"),
                             registrationClosesAt: try row.date("registration_closes_at"), cancelled: try row.bool("cancelled"))
        }
    }

    // MARK: Settings (and the conference's seat lock)

    func saveSettings(conferenceId: UUID, organizationId: String, settings: RegistrationSettings, in tx: Transaction) async throws {
        tx.locals.removeAll()
        try await tx.query("""
            INSERT INTO registration_settings (conference_id, organization_id, settings) VALUES ($1, $2, $3::jsonb)
            ON CONFLICT (conference_id) DO UPDATE SET settings = $3::jsonb, updated_at = now()
            """, [conferenceId, organizationId, String(decoding: try ConveneJSON.encode(settings), as: UTF8.self)])
    }

    /// How a reader holds the conference's seats (and settings): a transaction-scoped advisory
    /// lock on the conference, taken before the settings are read (in a statement of its own, so
    /// that the read sees whatever the previous holder committed). Advisory rather than a row
    /// lock: many holders of the shared mode cost the lock manager nothing, where `FOR SHARE`
    /// writes a multixact into the row for each new holder.
    enum SettingsLock {
        case none
        /// Many at once (submissions in categories without any limit); changes wait for them.
        case shared
        /// This transaction's alone until it ends: seat decisions and settings changes.
        case exclusive
    }

    /// The advisory lock space of conferences' seats (the two-key form, beside the migrator's
    /// one-key locks): 'RSEA'.
    static let seatLockSpace: Int32 = 0x5253_4541

    /// The settings, read under `lock`.
    func settings(conferenceId: UUID, lock: SettingsLock, in tx: Transaction) async throws -> RegistrationSettings? {
        switch lock {
        case .none: break
        case .shared:
            try await tx.query("SELECT pg_advisory_xact_lock_shared($1, hashtext($2))", [Self.seatLockSpace, conferenceId.lowercased])
        case .exclusive:
            try await tx.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [Self.seatLockSpace, conferenceId.lowercased])
        }
        guard let row = try await tx.query("SELECT settings::text AS settings FROM registration_settings WHERE conference_id = $1",
                                           [conferenceId]).first else { return nil }
        return try ConveneJSON.decode(RegistrationSettings.self, from: Array(try row.string("settings").utf8))
    }

    /// Seats held, overall and by category (call under the conference's exclusive lock: then no
    /// submission holding the shared one is still counting).
    func counts(conferenceId: UUID, in tx: Transaction) async throws -> CapacityCounts {
        var counts = CapacityCounts()
        for row in try await tx.query("""
            SELECT category, sum(held)::int AS held FROM seat_counts WHERE conference_id = $1 GROUP BY category
            """, [conferenceId]).rows {
            let n = try row.int("held")
            counts.perCategoryHeld[try row.string("category")] = n
            counts.overallHeld += n
        }
        return counts
    }

    /// One seat of `category` taken (+1) or freed (−1), on counter row `shard` (0 under the
    /// exclusive lock; any of `SeatCounter.shards` under the shared one). A category's count is
    /// the sum of its rows; one row alone may go below zero.
    func adjustSeats(conferenceId: UUID, category: String, by delta: Int, shard: Int, in tx: Transaction) async throws {
        try await tx.query("""
            INSERT INTO seat_counts (conference_id, category, shard, held) VALUES ($1, $2, $3, $4)
            ON CONFLICT (conference_id, category, shard) DO UPDATE SET held = seat_counts.held + $4
            """, [conferenceId, category, shard, delta])
    }

    func waitlist(conferenceId: UUID, in tx: Transaction) async throws -> [WaitlistEntry] {
        try await tx.query("""
            SELECT id, category, waitlist_position FROM registrations
            WHERE conference_id = $1 AND status = 'waitlisted' ORDER BY waitlist_position
            """, [conferenceId]).rows.map {
                WaitlistEntry(id: try $0.uuid("id"), category: try $0.string("category"), position: try $0.int64("waitlist_position"))
            }
    }

    // MARK: Registrations

    /// Inserts it and answers it as stored (its submission time and waitlist place); nil when the
    /// account already has a registration in progress for the conference.
    func insert(_ record: RegistrationRecord, in tx: Transaction) async throws -> RegistrationRecord? {
        let state = record.state
        return try await tx.query("""
            INSERT INTO registrations (id, conference_id, organization_id, account_id, email, name, locale, category, status,
                                       price_minor, currency, paid_minor, refunded_minor, answers, invoice, consent_to_contact,
                                       offer_expires_at, waitlist_position, review)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb, $15::jsonb, $16, $17,
                    CASE WHEN $9 = 'waitlisted' THEN nextval('waitlist_positions') END, $18::jsonb)
            ON CONFLICT DO NOTHING
            RETURNING \(Self.columns)
            """, [record.id, record.conferenceId, record.organizationId, record.registrant.accountId, record.registrant.email,
                  record.registrant.name, record.registrant.locale, state.category, state.status.rawValue, state.price.amountMinor,
                  state.price.currency, state.paid.amountMinor, state.refunded.amountMinor, try Self.json(record.answers),
                  try record.invoice.map(Self.json), record.consentToContact, state.offerExpiresAt,
                  try state.lastReview.map(Self.json)]).first.map(Self.record)
    }

    /// Saves the state after a transition. Entering the waitlist takes the next position (the back).
    func save(_ record: RegistrationRecord, in tx: Transaction) async throws {
        let state = record.state
        try await tx.query("""
            UPDATE registrations SET status = $2, paid_minor = $3, refunded_minor = $4, offer_expires_at = $5, review = $6::jsonb,
                answers = $7::jsonb,
                waitlist_position = CASE WHEN $2 = 'waitlisted' AND status <> 'waitlisted' THEN nextval('waitlist_positions')
                                         WHEN $2 = 'waitlisted' THEN waitlist_position END,
                updated_at = now()
            WHERE id = $1
            """, [record.id, state.status.rawValue, state.paid.amountMinor, state.refunded.amountMinor, state.offerExpiresAt,
                  try state.lastReview.map(Self.json), try Self.json(record.answers)])
    }

    /// One registration, locked when `forUpdate`; only that account's when `accountId` is given,
    /// only that organization's when `organizationId` is.
    func find(_ id: UUID, accountId: String? = nil, organizationId: String? = nil, forUpdate: Bool = false,
              in tx: Transaction) async throws -> RegistrationRecord? {
        try await tx.query(Self.select + """
             WHERE id = $1 AND ($2::text IS NULL OR account_id = $2) AND ($3::text IS NULL OR organization_id = $3)
            """ + (forUpdate ? " FOR UPDATE" : ""), [id, accountId, organizationId]).first.map(Self.record)
    }

    /// Oldest first; at most `limit` (nil: all of them, for an export that must not lose rows).
    /// A page, oldest submission first, after the cursor (the last item's `(submitted_at, id)` of
    /// the previous page); one more row than `limit` is read to know whether a next page exists.
    func list(accountId: String?, conferenceId: UUID?, organizationId: String?, status: String?, limit: Int,
              after cursor: RegistrationCursor?, in tx: Transaction) async throws -> (items: [RegistrationRecord], next: RegistrationCursor?) {
        let rows = try await tx.query(Self.select + """
             WHERE ($1::text IS NULL OR account_id = $1) AND ($2::uuid IS NULL OR conference_id = $2)
               AND ($3::text IS NULL OR organization_id = $3) AND ($4::text IS NULL OR status = $4)
               AND ($6::bigint IS NULL
                    OR (submitted_at, id) > (timestamptz 'epoch' + $6::bigint * interval '1 microsecond', $7::uuid))
             ORDER BY submitted_at, id LIMIT $5
            """, [accountId, conferenceId, organizationId, status, limit + 1, cursor?.micros, cursor?.id]).rows
        let records = try rows.map(Self.record)
        let items = Array(records.prefix(limit))
        let next = records.count > limit ? items.last.map { RegistrationCursor(after: $0) } : nil
        return (items, next)
    }

    /// Every registration of a conference, oldest first (exports: nothing may be left out).
    func all(conferenceId: UUID, organizationId: String, in tx: Transaction) async throws -> [RegistrationRecord] {
        try await tx.query(Self.select + """
             WHERE conference_id = $1 AND organization_id = $2 ORDER BY submitted_at, id
            """, [conferenceId, organizationId]).rows.map(Self.record)
    }

    /// Active registrations of a conference (for a cancellation), oldest first.
    func active(conferenceId: UUID, in tx: Transaction) async throws -> [RegistrationRecord] {
        try await tx.query(Self.select + """
             WHERE conference_id = $1 AND status NOT IN ('rejected', 'withdrawn', 'cancelled', 'expired')
             ORDER BY submitted_at, id FOR UPDATE
            """, [conferenceId]).rows.map(Self.record)
    }

    /// Who holds a confirmed registration for the conference now, in a stable order (by id).
    func confirmedRegistrants(conferenceId: UUID, in tx: Transaction) async throws -> [Payer] {
        try await tx.query("""
            SELECT account_id, email, name, locale FROM registrations
            WHERE conference_id = $1 AND status = 'confirmed'
            ORDER BY id
            """, [conferenceId]).rows.map { row in
            Payer(accountId: try row.string("account_id"), email: try row.string("email"), name: try row.string("name"),
                  locale: try row.string("locale"))
        }
    }

    /// Offers whose time ran out, for the offer timer (skipping rows another instance holds).
    func lapsedOffers(now: Date, limit: Int, in tx: Transaction) async throws -> [(id: UUID, conferenceId: UUID)] {
        try await tx.query("""
            SELECT id, conference_id FROM registrations WHERE status = 'offered' AND offer_expires_at <= $1
            ORDER BY offer_expires_at LIMIT $2 FOR UPDATE SKIP LOCKED
            """, [now, limit]).rows.map { (try $0.uuid("id"), try $0.uuid("conference_id")) }
    }

    /// 1 for the next in line.
    func waitlistPosition(of record: RegistrationRecord, in tx: Transaction) async throws -> Int? {
        guard record.state.status == .waitlisted, let position = record.waitlistPosition else { return nil }
        return try await tx.query("""
            SELECT count(*)::int AS n FROM registrations
            WHERE conference_id = $1 AND status = 'waitlisted' AND waitlist_position <= $2
            """, [record.conferenceId, position]).first?.int("n")
    }

    static let columns = """
        id, conference_id, organization_id, account_id, email, name, locale, category, status, price_minor, currency,
               paid_minor, refunded_minor, answers::text AS answers, invoice::text AS invoice, consent_to_contact,
               offer_expires_at, waitlist_position, review::text AS review, submitted_at, updated_at
        """

    static let select = "SELECT \(columns) FROM registrations\n"

    static func record(_ row: PGRow) throws -> RegistrationRecord {
        let currency = try row.string("currency")
        let price = try Money(amountMinor: try row.int64("price_minor"), currency: currency)
        guard let status = RegistrationStatus(rawValue: try row.string("status")) else {
            throw ConveneError(code: "registration.corrupt", message: "unknown status \(try row.string("status"))")
        }
        let state = Registration(
            status: status, category: try row.string("category"), price: price,
            paid: price.withAmount(try row.int64("paid_minor")), refunded: price.withAmount(try row.int64("refunded_minor")),
            offerExpiresAt: row.isNull("offer_expires_at") ? nil : try row.date("offer_expires_at"),
            lastReview: try row["review"].map { try ConveneJSON.decode(Review.self, from: Array($0.utf8)) })
        return RegistrationRecord(
            id: try row.uuid("id"), conferenceId: try row.uuid("conference_id"), organizationId: try row.string("organization_id"),
            registrant: Payer(accountId: try row.string("account_id"), email: try row.string("email"), name: try row.string("name"),
                              locale: try row.string("locale")),
            state: state, answers: try ConveneJSON.decode([String: JSONValue].self, from: Array(try row.string("answers").utf8)),
            invoice: try row["invoice"].map { try ConveneJSON.decode(InvoiceDetails.self, from: Array($0.utf8)) },
            consentToContact: try row.bool("consent_to_contact"),
            waitlistPosition: row.isNull("waitlist_position") ? nil : try row.int64("waitlist_position"),
            submittedAt: try row.date("submitted_at"), updatedAt: try row.date("updated_at"))
    }

    static func json(_ value: some Encodable) throws -> String {
        String(decoding: try ConveneJSON.encode(value), as: UTF8.self)
    }
}

/// Where a page of registrations ends: the last item's submission time (microseconds, as
/// PostgreSQL stores it) and id. Clients see it as `<micros>_<uuid>`.
struct RegistrationCursor: Equatable {
    var micros: Int64
    var id: UUID

    init(micros: Int64, id: UUID) {
        self.micros = micros
        self.id = id
    }

    init(after record: RegistrationRecord) {
        self.init(micros: Int64((record.submittedAt.timeIntervalSince1970 * 1_000_000).rounded()), id: record.id)
    }

    init?(_ text: String) {
        let parts = text.split(separator: "_", maxSplits: 1)
        guard parts.count == 2, let micros = Int64(parts[0]), let id = UUID(uuidString: String(parts[1])) else { return nil }
        self.init(micros: micros, id: id)
    }

    var text: String { "\(micros)_\(id.uuidString.lowercased())" }
}
