import Foundation

// The registration service: a conference's registration settings (form, categories, capacity,
// fees, review, waitlist, refund policy) and participants' registrations.

/// One registration category (regular, student, speaker …).
public struct RegistrationCategory: Codable, Sendable, Equatable {
    /// Stable id, e.g. `student`.
    public var key: String
    /// By locale, e.g. `{"zh-CN": "学生", "en": "Student"}`.
    public var names: [String: String]
    /// Seats of this category; nil for no limit of its own.
    public var capacity: Int?
    /// Zero: free (the registration skips payment).
    public var fee: Fee
    public init(key: String, names: [String: String], capacity: Int? = nil, fee: Fee) {
        self.key = key
        self.names = names
        self.capacity = capacity
        self.fee = fee
    }
}

/// What an organizer sets for a conference's registration.
public struct RegistrationSettings: Codable, Sendable, Equatable {
    /// A form definition: `{"fields": [{"key", "type", "label", "required", "options", "showIf", …}]}`.
    public var form: JSONValue
    public var categories: [RegistrationCategory]
    /// Seats over all categories; nil for no overall limit.
    public var overallCapacity: Int?
    public var reviewRequired: Bool
    public var waitlistEnabled: Bool
    /// How long a freed seat offered to the next on the waitlist stays reserved.
    public var offerValidityHours: Int
    /// How long a held seat waits for its payment.
    public var paymentWindowMinutes: Int
    /// Among `wechat_pay`, `alipay`, `stripe`, `bank_transfer`.
    public var paymentMethods: [String]
    /// What a withdrawal gets back: `{"tiers": [{"until", "percent"}], "afterwardsBasisPoints"}` (each
    /// tier applies strictly before its `until`; basis points: 10,000 = 100 %); nil for nothing.
    /// Cancellation by the organizer always refunds everything.
    public var refundPolicy: JSONValue?
    public init(form: JSONValue, categories: [RegistrationCategory], overallCapacity: Int?, reviewRequired: Bool,
                waitlistEnabled: Bool, offerValidityHours: Int, paymentWindowMinutes: Int, paymentMethods: [String],
                refundPolicy: JSONValue?) {
        self.form = form
        self.categories = categories
        self.overallCapacity = overallCapacity
        self.reviewRequired = reviewRequired
        self.waitlistEnabled = waitlistEnabled
        self.offerValidityHours = offerValidityHours
        self.paymentWindowMinutes = paymentWindowMinutes
        self.paymentMethods = paymentMethods
        self.refundPolicy = refundPolicy
    }
}

/// `registration.configure` (organizer) → `RegistrationSettings`.
public struct ConfigureRegistration: MessagePayload, Equatable {
    public static let messageType = "registration.configure"
    public var conferenceId: String
    public var settings: RegistrationSettings
    public init(conferenceId: String, settings: RegistrationSettings) {
        self.conferenceId = conferenceId
        self.settings = settings
    }
}

/// `registration.get_form` (anyone) → `RegistrationForm`: what a participant fills in, for a
/// published conference with registration configured.
public struct GetRegistrationForm: MessagePayload, Equatable {
    public static let messageType = "registration.get_form"
    public var conferenceId: String
    public init(conferenceId: String) { self.conferenceId = conferenceId }
}

public struct RegistrationForm: Codable, Sendable, Equatable {
    public struct Category: Codable, Sendable, Equatable {
        public var key: String
        public var names: [String: String]
        /// The price now (early bird while it lasts).
        public var price: Money
        public var earlyBird: Fee.EarlyBird?
        /// No seat of this category is free now (a registration would be waitlisted or refused).
        public var full: Bool
        public init(key: String, names: [String: String], price: Money, earlyBird: Fee.EarlyBird?, full: Bool) {
            self.key = key
            self.names = names
            self.price = price
            self.earlyBird = earlyBird
            self.full = full
        }
    }
    public var conferenceId: String
    public var title: String
    public var form: JSONValue
    public var categories: [Category]
    public var reviewRequired: Bool
    public var waitlistEnabled: Bool
    public var opensAt: Date
    public var closesAt: Date
    public var open: Bool
    public init(conferenceId: String, title: String, form: JSONValue, categories: [Category], reviewRequired: Bool,
                waitlistEnabled: Bool, opensAt: Date, closesAt: Date, open: Bool) {
        self.conferenceId = conferenceId
        self.title = title
        self.form = form
        self.categories = categories
        self.reviewRequired = reviewRequired
        self.waitlistEnabled = waitlistEnabled
        self.opensAt = opensAt
        self.closesAt = closesAt
        self.open = open
    }
}

/// `registration.submit` (participant) → `RegistrationView`.
public struct SubmitRegistration: MessagePayload, Equatable {
    public static let messageType = "registration.submit"
    public var conferenceId: String
    public var category: String
    public var answers: [String: JSONValue]
    public var invoice: InvoiceDetails?
    /// May the organizer contact them about later events (follow-up invitations)?
    public var consentToContact: Bool
    /// Filled by the gateway from the signed-in account.
    public var registrant: Payer
    public init(conferenceId: String, category: String, answers: [String: JSONValue], invoice: InvoiceDetails?,
                consentToContact: Bool, registrant: Payer) {
        self.conferenceId = conferenceId
        self.category = category
        self.answers = answers
        self.invoice = invoice
        self.consentToContact = consentToContact
        self.registrant = registrant
    }
}

/// A registration as answered to its participant and the organizers.
public struct RegistrationView: Codable, Sendable, Equatable {
    public struct ReviewView: Codable, Sendable, Equatable {
        public var decision: String
        public var comment: String?
        public var at: Date
        public init(decision: String, comment: String?, at: Date) {
            self.decision = decision
            self.comment = comment
            self.at = at
        }
    }
    public var id: String
    public var conferenceId: String
    public var organizationId: String
    public var accountId: String
    public var email: String
    public var name: String
    public var category: String
    /// `pending_review`, `changes_requested`, `rejected`, `awaiting_payment`, `confirmed`,
    /// `waitlisted`, `offered`, `withdrawn`, `cancelled`, `expired`.
    public var status: String
    public var price: Money
    public var paid: Money
    public var refunded: Money
    public var answers: [String: JSONValue]
    public var invoice: InvoiceDetails?
    public var consentToContact: Bool
    public var offerExpiresAt: Date?
    public var review: ReviewView?
    /// Place on the waitlist (1 = next), while waitlisted.
    public var waitlistPosition: Int?
    public var submittedAt: Date
    public var updatedAt: Date
    public init(id: String, conferenceId: String, organizationId: String, accountId: String, email: String, name: String,
                category: String, status: String, price: Money, paid: Money, refunded: Money, answers: [String: JSONValue],
                invoice: InvoiceDetails?, consentToContact: Bool, offerExpiresAt: Date?, review: ReviewView?,
                waitlistPosition: Int?, submittedAt: Date, updatedAt: Date) {
        self.id = id
        self.conferenceId = conferenceId
        self.organizationId = organizationId
        self.accountId = accountId
        self.email = email
        self.name = name
        self.category = category
        self.status = status
        self.price = price
        self.paid = paid
        self.refunded = refunded
        self.answers = answers
        self.invoice = invoice
        self.consentToContact = consentToContact
        self.offerExpiresAt = offerExpiresAt
        self.review = review
        self.waitlistPosition = waitlistPosition
        self.submittedAt = submittedAt
        self.updatedAt = updatedAt
    }
}

/// `registration.get` → `RegistrationView`: with `accountId` only that participant's own; without
/// it, the envelope's organization's (organizers).
public struct GetRegistration: MessagePayload, Equatable {
    public static let messageType = "registration.get"
    public var registrationId: String
    public var accountId: String?
    public init(registrationId: String, accountId: String?) {
        self.registrationId = registrationId
        self.accountId = accountId
    }
}

/// `registration.list` → `[RegistrationView]`: the participant's own (`accountId`), or a
/// conference's for its organizers (`conferenceId`, the envelope's organization).
public struct ListRegistrations: MessagePayload, Equatable {
    public static let messageType = "registration.list"
    public var accountId: String?
    public var conferenceId: String?
    public var status: String?
    /// 1…500 per page (100 when absent).
    public var limit: Int?
    /// The `next` of the previous page.
    public var after: String?
    public init(accountId: String? = nil, conferenceId: String? = nil, status: String? = nil, limit: Int? = nil,
                after: String? = nil) {
        self.accountId = accountId
        self.conferenceId = conferenceId
        self.status = status
        self.limit = limit
        self.after = after
    }
}

/// `registration.list` → a page, oldest submission first; `next` names the following page.
public struct RegistrationPage: Codable, Sendable, Equatable {
    public var items: [RegistrationView]
    public var next: String?
    public init(items: [RegistrationView], next: String?) {
        self.items = items
        self.next = next
    }
}

/// `registration.review` (staff) → `RegistrationView`.
public struct ReviewRegistration: MessagePayload, Equatable {
    public static let messageType = "registration.review"
    public var registrationId: String
    /// `approve`, `reject` or `request_changes`.
    public var decision: String
    public var comment: String?
    public var reviewerId: String
    public init(registrationId: String, decision: String, comment: String?, reviewerId: String) {
        self.registrationId = registrationId
        self.decision = decision
        self.comment = comment
        self.reviewerId = reviewerId
    }
}

/// `registration.resubmit` (participant, after changes were requested) → `RegistrationView`.
public struct ResubmitRegistration: MessagePayload, Equatable {
    public static let messageType = "registration.resubmit"
    public var registrationId: String
    public var accountId: String
    public var answers: [String: JSONValue]
    public init(registrationId: String, accountId: String, answers: [String: JSONValue]) {
        self.registrationId = registrationId
        self.accountId = accountId
        self.answers = answers
    }
}

/// `registration.withdraw` (participant) → `RegistrationView`.
public struct WithdrawRegistration: MessagePayload, Equatable {
    public static let messageType = "registration.withdraw"
    public var registrationId: String
    public var accountId: String
    public init(registrationId: String, accountId: String) {
        self.registrationId = registrationId
        self.accountId = accountId
    }
}

/// `registration.accept_offer` (participant offered a freed seat) → `RegistrationView`.
public struct AcceptSeatOffer: MessagePayload, Equatable {
    public static let messageType = "registration.accept_offer"
    public var registrationId: String
    public var accountId: String
    public init(registrationId: String, accountId: String) {
        self.registrationId = registrationId
        self.accountId = accountId
    }
}

/// `registration.export` (organizer) → `ExportedFile`: a conference's registrations with the
/// form answers, as `csv` or `xlsx`.
public struct ExportRegistrations: MessagePayload, Equatable {
    public static let messageType = "registration.export"
    public var conferenceId: String
    public var format: String
    public init(conferenceId: String, format: String) {
        self.conferenceId = conferenceId
        self.format = format
    }
}

public struct ExportedFile: Codable, Sendable, Equatable {
    public var fileName: String
    public var contentType: String
    /// Base64.
    public var body: String
    public init(fileName: String, contentType: String, body: String) {
        self.fileName = fileName
        self.contentType = contentType
        self.body = body
    }
}

// MARK: Events

/// Every `registration.*` event carries this: enough for a notification (the registrant, the
/// conference's title and start in its own zone) and for other services to keep a copy.
public struct RegistrationNotice: Codable, Sendable, Equatable {
    public var registrationId: String
    public var conferenceId: String
    public var conferenceTitle: String
    /// e.g. `2026-12-01 09:00`, in `timeZone`.
    public var conferenceStartLocal: String
    public var timeZone: String
    public var category: String
    public var status: String
    public var registrant: Payer
    public var price: Money
    public var comment: String?
    public var offerExpiresAt: Date?
    /// Where the participant sees the registration.
    public var link: String?
    public init(registrationId: String, conferenceId: String, conferenceTitle: String, conferenceStartLocal: String,
                timeZone: String, category: String, status: String, registrant: Payer, price: Money, comment: String?,
                offerExpiresAt: Date?, link: String?) {
        self.registrationId = registrationId
        self.conferenceId = conferenceId
        self.conferenceTitle = conferenceTitle
        self.conferenceStartLocal = conferenceStartLocal
        self.timeZone = timeZone
        self.category = category
        self.status = status
        self.registrant = registrant
        self.price = price
        self.comment = comment
        self.offerExpiresAt = offerExpiresAt
        self.link = link
    }
}

/// `registration.list_participants` (organizer) → `[ParticipantRecord]`: everyone who registered
/// for any of the organization's conferences, by account.
public struct ListParticipants: MessagePayload, Equatable {
    public static let messageType = "registration.list_participants"
    /// Only those whose latest registration consents to follow-up contact.
    public var consentedOnly: Bool
    public init(consentedOnly: Bool) { self.consentedOnly = consentedOnly }
}

public struct ParticipantRecord: Codable, Sendable, Equatable {
    public var accountId: String
    public var name: String
    public var email: String
    /// Registrations that reached `confirmed` (and were not cancelled or withdrawn since).
    public var conferencesAttended: Int
    public var registrations: Int
    public var lastRegisteredAt: Date
    /// As given on the latest registration.
    public var consentToContact: Bool
    public init(accountId: String, name: String, email: String, conferencesAttended: Int, registrations: Int,
                lastRegisteredAt: Date, consentToContact: Bool) {
        self.accountId = accountId
        self.name = name
        self.email = email
        self.conferencesAttended = conferencesAttended
        self.registrations = registrations
        self.lastRegisteredAt = lastRegisteredAt
        self.consentToContact = consentToContact
    }
}
