import Contracts
import Foundation
import Testing

/// Keeps docs/messages honest for the scheduling and registration messages: what the Swift
/// contracts encode fits the JSON Schemas, and asyncapi.yaml names exactly the contracts'
/// message types. No JSON Schema library here: a small structural check over
/// `JSONSerialization` output (keys, `required`, `type`, string `enum`, `format: date-time`).
@Suite("Message catalogue (docs/messages)")
struct MessageCatalogueTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized

    // MARK: Payloads against their schemas

    @Test("every scheduling, registration and platform payload encodes to what its schema declares", arguments: Samples.all)
    func payloadFitsSchema(_ sample: Sample) throws {
        let schema = try Schema(file: sample.file)
        let json = try JSONSerialization.jsonObject(with: Data(try ConveneJSON.encode(sample.value)), options: [.fragmentsAllowed])
        let problems = try schema.problems(of: json, against: try schema.node(at: sample.pointer), at: "data")
        #expect(problems.isEmpty, "\(sample.file) \(sample.pointer.joined(separator: "/")):\n\(problems.joined(separator: "\n"))")
    }

    @Test("every registration.* event has its schema, each the RegistrationNotice")
    func everyEventHasASchema() throws {
        let schema = try Schema(file: "registration.events.json")
        let events = try Self.registrationEvents()
        #expect(!events.isEmpty)
        for event in events {
            let node = try schema.node(at: ["$defs", event])
            #expect(node["$ref"] as? String == "#/$defs/registrationNotice", "\(event)")
        }
    }

    // MARK: asyncapi.yaml against the contracts

    @Test("asyncapi.yaml has a channel and a message for exactly the scheduling, registration and platform messages of the contracts, each with a schema",
          arguments: ["address", "name"])
    func catalogueNamesTheContracts(_ field: String) throws {
        let documented = try Self.documentedTypes(field)
        let contracts = try Self.contractTypes().union(try Self.registrationEvents())
        #expect(!contracts.isEmpty)
        #expect(documented.subtracting(contracts).isEmpty,
                "a \(field) in asyncapi.yaml but no message of the contracts: \(documented.subtracting(contracts).sorted())")
        #expect(contracts.subtracting(documented).isEmpty,
                "in the contracts but no \(field) in asyncapi.yaml: \(contracts.subtracting(documented).sorted())")
        for type in documented {
            let service = type.split(separator: ".")[0]
            let files = ["\(service).requests.json", "\(service).events.json"].filter {
                FileManager.default.fileExists(atPath: Self.root.appendingPathComponent("docs/messages/schemas/\($0)").path)
            }
            let defined = try files.contains { try Schema(file: $0).definitions[type] != nil }
            #expect(defined, "\(type) has no $defs entry in \(files.joined(separator: " or "))")
        }
    }

    /// The channel addresses (`address`) or message names (`name`) of asyncapi.yaml that are
    /// scheduling or registration message types.
    static func documentedTypes(_ field: String) throws -> Set<String> {
        let text = try String(contentsOf: root.appendingPathComponent("docs/messages/asyncapi.yaml"), encoding: .utf8)
        let line = try Regex(#"\s+"# + field + #": '?((?:scheduling|registration|platform|platform-bridge)\.[a-z_]+)'?\s*"#)
        var types: Set<String> = []
        for row in text.split(separator: "\n") {
            if let match = try line.wholeMatch(in: row), let type = match.output[1].substring { types.insert(String(type)) }
        }
        return types
    }

    /// `static let messageType = "…"` of Shared/Contracts for scheduling and registration.
    static func contractTypes() throws -> Set<String> {
        let directory = root.appendingPathComponent("Shared/Contracts")
        let declaration = try Regex(#"messageType = "((?:scheduling|registration|platform|platform-bridge)\.[a-z_]+)""#)
        var types: Set<String> = []
        for file in try FileManager.default.contentsOfDirectory(atPath: directory.path) where file.hasSuffix(".swift") {
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            for match in text.matches(of: declaration) { if let type = match.output[1].substring { types.insert(String(type)) } }
        }
        return types
    }

    /// The raw values of `RegistrationEvent`: the events published with a `RegistrationNotice`.
    static func registrationEvents() throws -> Set<String> {
        let text = try String(contentsOf: root.appendingPathComponent("Services/Registration/Domain/RegistrationStatus.swift"),
                              encoding: .utf8)
        guard let start = text.range(of: "enum RegistrationEvent"),
              let end = text.range(of: "\n}", range: start.upperBound..<text.endIndex) else {
            throw SchemaError("no enum RegistrationEvent in RegistrationStatus.swift")
        }
        let raw = try Regex(#"= "(registration\.[a-z_]+)""#)
        return Set(text[start.lowerBound..<end.lowerBound].matches(of: raw).compactMap { $0.output[1].substring.map(String.init) })
    }
}

// MARK: - The structural check

/// One schema file of docs/messages/schemas.
struct Schema {
    let file: String
    let root: [String: Any]

    init(file: String) throws {
        self.file = file
        let url = MessageCatalogueTests.root.appendingPathComponent("docs/messages/schemas").appendingPathComponent(file)
        guard let root = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] else {
            throw SchemaError("\(file) is not a JSON object")
        }
        self.root = root
    }

    var definitions: [String: Any] { root["$defs"] as? [String: Any] ?? [:] }

    func node(at path: [String]) throws -> [String: Any] {
        var node = root
        for key in path {
            guard let next = node[key] as? [String: Any] else { throw SchemaError("\(file) has no \(path.joined(separator: "/"))") }
            node = next
        }
        return node
    }

    /// The schema with its local `$ref` followed and its `allOf` merged (properties, required, type).
    func resolved(_ schema: [String: Any]) throws -> [String: Any] {
        var merged = schema
        if let ref = schema["$ref"] as? String {
            guard ref.hasPrefix("#/") else { throw SchemaError("\(file): only local references are followed, not \(ref)") }
            merged = try resolved(try node(at: ref.dropFirst(2).split(separator: "/").map(String.init)))
        }
        for part in schema["allOf"] as? [[String: Any]] ?? [] {
            let part = try resolved(part)
            merged["properties"] = (merged["properties"] as? [String: Any] ?? [:])
                .merging(part["properties"] as? [String: Any] ?? [:]) { first, _ in first }
            merged["required"] = (merged["required"] as? [String] ?? []) + (part["required"] as? [String] ?? [])
            merged["type"] = merged["type"] ?? part["type"]
            merged["enum"] = merged["enum"] ?? part["enum"]
        }
        return merged
    }

    /// What is wrong with `value` for `schema`: keys the schema does not declare (where it lists
    /// `properties`), missing `required` keys, the wrong JSON type, a string outside `enum`, a
    /// `date-time` that does not parse. Free-form objects (no `properties`) are not looked into.
    func problems(of value: Any, against schema: [String: Any], at path: String) throws -> [String] {
        let schema = try resolved(schema)
        var found: [String] = []
        if let type = schema["type"] as? String, !Self.isJSONType(value, type) { found.append("\(path): not of type \(type)") }
        if let text = value as? String {
            if let options = schema["enum"] as? [Any], !options.contains(where: { $0 as? String == text }) {
                found.append("\(path): \"\(text)\" is not one of the enum")
            }
            if schema["format"] as? String == "date-time", ISO8601.parse(text) == nil { found.append("\(path): not a date-time") }
        }
        if let object = value as? [String: Any], let properties = schema["properties"] as? [String: Any] {
            for key in object.keys.sorted() {
                guard let property = properties[key] as? [String: Any] else {
                    found.append("\(path).\(key): not declared in the schema's properties")
                    continue
                }
                found += try problems(of: object[key]!, against: property, at: "\(path).\(key)")
            }
            for key in schema["required"] as? [String] ?? [] where object[key] == nil {
                found.append("\(path).\(key): required by the schema, missing")
            }
        }
        if let array = value as? [Any], let items = schema["items"] as? [String: Any] {
            for (index, item) in array.enumerated() { found += try problems(of: item, against: items, at: "\(path)[\(index)]") }
        }
        return found
    }

    static func isJSONType(_ value: Any, _ type: String) -> Bool {
        switch type {
        case "object": value is [String: Any]
        case "array": value is [Any]
        case "string": value is String
        // JSONSerialization gives numbers and booleans alike as NSNumber.
        case "integer", "number", "boolean": value is NSNumber || value is Bool || value is Int || value is Double
        default: true
        }
    }
}

struct SchemaError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

// MARK: - Realistic values

/// A payload (or an answer) and where its schema is.
struct Sample: Sendable, CustomTestStringConvertible {
    let name: String
    let file: String
    let pointer: [String]
    let value: any Encodable & Sendable

    var testDescription: String { name }

    /// The `$defs` entry of a message type (its payload), or with `answer` its `x-answer`.
    init(_ name: String, _ file: String, _ type: String, answer: Bool = false, _ value: any Encodable & Sendable) {
        self.name = name
        self.file = file
        pointer = ["$defs", type] + (answer ? ["x-answer"] : [])
        self.value = value
    }
}

enum Samples {
    static func money(_ minor: Int64, _ currency: String = "CNY") -> Money {
        do { return try Money(amountMinor: minor, currency: currency) } catch { fatalError("\(error)") }
    }

    static func at(_ text: String) -> Date {
        guard let date = ISO8601.parse(text) else { fatalError("not a date-time: \(text)") }
        return date
    }

    static let conferenceId = "0b7f3c52-8d1e-4f7a-9a51-2c6d8e4b1f00"
    static let registrationId = "5f1d2e3c-4b5a-4697-8a8b-9c0d1e2f3a4b"

    static let details = ConferenceDetails(
        title: "第十届分布式系统大会 DistSys 2026", description: "两天的报告与讨论。", startsAt: at("2026-12-01T01:00:00Z"),
        endsAt: at("2026-12-02T09:00:00Z"), timeZone: "Asia/Shanghai", venue: "上海国际会议中心", onlinePlatform: "tencent",
        registrationOpensAt: at("2026-09-01T00:00:00Z"), registrationClosesAt: at("2026-11-30T15:59:59.500Z"),
        languages: ["zh-CN", "en"], contactEmail: "distsys@example.org", contactPhone: "+86 21 5555 0100")
    static let minimalDetails = ConferenceDetails(
        title: "Online meetup", startsAt: at("2026-10-10T12:00:00Z"), endsAt: at("2026-10-10T14:00:00Z"), timeZone: "UTC",
        onlinePlatform: "zoom", registrationOpensAt: at("2026-09-01T00:00:00Z"), registrationClosesAt: at("2026-10-10T12:00:00Z"),
        languages: ["en"], contactEmail: "meetup@example.org")

    static let draft = ConferenceView(id: conferenceId, organizationId: "org-7", status: "draft", details: minimalDetails, sequence: 0,
                                      createdAt: at("2026-08-01T08:00:00Z"), publishedAt: nil, cancelledAt: nil, cancelReason: nil)
    static let cancelled = ConferenceView(id: conferenceId, organizationId: "org-7", status: "cancelled", details: details, sequence: 3,
                                          createdAt: at("2026-08-01T08:00:00Z"), publishedAt: at("2026-08-02T08:00:00Z"),
                                          cancelledAt: at("2026-09-15T08:00:00Z"), cancelReason: "The venue closed.")

    static let form: JSONValue = .object(["fields": .array([
        .object(["key": .string("affiliation"), "type": .string("text"), "label": .object(["zh-CN": .string("单位"), "en": .string("Affiliation")]),
                 "required": .bool(true), "max": .number(200)]),
        .object(["key": .string("diet"), "type": .string("singleChoice"), "label": .object(["en": .string("Diet")]),
                 "options": .array([.object(["value": .string("vegetarian"), "label": .object(["en": .string("Vegetarian")])])])]),
    ])])
    static let refundPolicy: JSONValue = .object([
        "tiers": .array([.object(["until": .string("2026-11-01T00:00:00Z"), "basisPoints": .number(10_000)])]),
        "afterwardsBasisPoints": .number(5_000),
    ])
    static let categories = [
        RegistrationCategory(key: "regular", names: ["zh-CN": "普通", "en": "Regular"], capacity: 200,
                             fee: Fee(regular: money(128_00), earlyBird: .init(price: money(98_00), until: at("2026-10-01T00:00:00Z")))),
        RegistrationCategory(key: "student", names: ["en": "Student"], fee: Fee(regular: money(0))),
    ]
    static let settings = RegistrationSettings(
        form: form, categories: categories, overallCapacity: 250, reviewRequired: true, waitlistEnabled: true, offerValidityHours: 48,
        paymentWindowMinutes: 30, paymentMethods: ["wechat_pay", "alipay", "bank_transfer"], refundPolicy: refundPolicy)
    static let minimalSettings = RegistrationSettings(
        form: .object(["fields": .array([])]), categories: [categories[1]], overallCapacity: nil, reviewRequired: false,
        waitlistEnabled: false, offerValidityHours: 48, paymentWindowMinutes: 30, paymentMethods: [], refundPolicy: nil)

    static let registrant = Payer(accountId: "acc-42", email: "li.wei@example.com", name: "李伟", locale: "zh-CN")
    static let invoice = InvoiceDetails(title: "上海某某科技有限公司", taxId: "91310000MA1FL0000X", address: "上海市浦东新区",
                                        email: "finance@example.com")
    static let answers: [String: JSONValue] = [
        "affiliation": .string("复旦大学"), "diet": .string("vegetarian"), "topics": .array([.string("consensus")]),
        "poster": .object(["blobKey": .string("sha256-" + String(repeating: "ab", count: 32)), "contentType": .string("application/pdf"),
                           "size": .number(120_000), "fileName": .string("poster.pdf")]),
    ]

    static let registration = RegistrationView(
        id: registrationId, conferenceId: conferenceId, organizationId: "org-7", accountId: "acc-42", email: registrant.email,
        name: registrant.name, category: "regular", status: "offered", price: money(98_00), paid: money(0), refunded: money(0),
        answers: answers, invoice: invoice, consentToContact: true, offerExpiresAt: at("2026-10-05T08:00:00Z"),
        review: .init(decision: "approved", comment: "欢迎", at: at("2026-09-03T08:00:00Z")), waitlistPosition: 3,
        submittedAt: at("2026-09-02T08:00:00Z"), updatedAt: at("2026-10-03T08:00:00Z"))
    static let minimalRegistration = RegistrationView(
        id: registrationId, conferenceId: conferenceId, organizationId: "org-7", accountId: "acc-42", email: registrant.email,
        name: registrant.name, category: "student", status: "confirmed", price: money(0), paid: money(0), refunded: money(0),
        answers: [:], invoice: nil, consentToContact: false, offerExpiresAt: nil, review: nil, waitlistPosition: nil,
        submittedAt: at("2026-09-02T08:00:00Z"), updatedAt: at("2026-09-02T08:00:00Z"))

    static let registrationForm = RegistrationForm(
        conferenceId: conferenceId, title: details.title, form: form,
        categories: [.init(key: "regular", names: ["en": "Regular"], price: money(98_00),
                           earlyBird: .init(price: money(98_00), until: at("2026-10-01T00:00:00Z")), full: false),
                     .init(key: "student", names: ["en": "Student"], price: money(0), earlyBird: nil, full: true)],
        reviewRequired: true, waitlistEnabled: true, opensAt: details.registrationOpensAt, closesAt: details.registrationClosesAt,
        open: true)

    static func notice(comment: String?, offerExpiresAt: Date?, link: String?) -> RegistrationNotice {
        RegistrationNotice(registrationId: registrationId, conferenceId: conferenceId, conferenceTitle: details.title,
                           conferenceStartLocal: "2026-12-01 09:00", timeZone: "Asia/Shanghai", category: "regular", status: "offered",
                           registrant: registrant, price: money(98_00), comment: comment, offerExpiresAt: offerExpiresAt, link: link)
    }

    static let meetingHost = MeetingHost(accountId: "acc-1", name: "王芳", email: "wang@example.com", locale: "zh-CN")
    static let meetingPlan = MeetingPlan(
        type: "internal", topic: "季度经营分析会", description: "Q4 review", startsAt: at("2026-12-01T01:00:00Z"),
        endsAt: at("2026-12-01T03:00:00Z"), timeZone: "Asia/Shanghai", roomId: "7d0c6a55-1f2e-4c3b-8a9d-0e1f2a3b4c60",
        location: "301, 3F", host: meetingHost, platforms: ["zoom", "tencent"], recommendedPlatform: "tencent")
    static let agenda = [
        AgendaItem(startsAt: at("2026-12-01T01:00:00Z"), endsAt: at("2026-12-01T01:30:00Z"), topic: "回顾", owner: "李雷"),
        AgendaItem(startsAt: at("2026-12-01T01:30:00Z"), endsAt: at("2026-12-01T03:00:00Z"), topic: "预算"),
    ]
    static let material = MeetingMaterial(id: "7d0c6a55-1f2e-4c3b-8a9d-0e1f2a3b4c61", name: "预算.xlsx",
                                          contentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", size: 48_213,
                                          blobKey: "3f/3f2a9c1e", addedBy: "acc-1", addedAt: at("2026-11-20T08:00:00Z"))
    static let joinLinks = [
        MeetingJoinLink(platform: "tencent", joinUrl: "https://meeting.tencent.com/dm/abc", meetingNumber: "888 123 456", password: "2026",
                        recommended: true),
        MeetingJoinLink(platform: "zoom", joinUrl: "https://zoom.us/j/123456789", meetingNumber: "123456789", password: nil, recommended: false),
    ]
    static let meeting = MeetingView(
        id: conferenceId, organizationId: "org-1", status: "scheduled", plan: meetingPlan, expectedAttendees: 10, sequence: 2,
        agenda: agenda, materials: [material], joinLinks: joinLinks,
        provisioningFailures: [MeetingProvisioningFailure(platform: "dingtalk", reason: "platform.credentials_missing",
                                                          message: "no DingTalk app configured", sequence: 1)],
        createdBy: "acc-1", createdAt: at("2026-11-01T08:00:00Z"), startedAt: nil, endedAt: nil, cancelledAt: nil, cancelReason: nil)
    static let room = MeetingRoom(id: "7d0c6a55-1f2e-4c3b-8a9d-0e1f2a3b4c60", organizationId: "org-1", name: "301", capacity: 12,
                                  location: "3F", createdAt: at("2026-10-01T08:00:00Z"))

    static func meetingSamples(requests: String, events: String) -> [Sample] {
        var ended = meeting
        ended.status = "ended"
        ended.startedAt = at("2026-12-01T00:59:00Z")
        ended.endedAt = at("2026-12-01T03:00:00Z")
        ended.joinLinks = []
        ended.provisioningFailures = []
        ended.expectedAttendees = nil
        var reminder = ReminderDue(timerId: "7d0c6a55-1f2e-4c3b-8a9d-0e1f2a3b4c62", meetingId: conferenceId, meetingKind: "internal",
                                   kind: "reminder_1h", dueAt: at("2026-12-01T00:00:00Z"), sequence: 2, title: meetingPlan.topic,
                                   startsAt: meetingPlan.startsAt, endsAt: meetingPlan.endsAt, timeZone: meetingPlan.timeZone,
                                   startLocal: "2026-12-01 09:00", venue: meetingPlan.location, onlinePlatform: "tencent")
        reminder.host = meetingHost
        reminder.joinLinks = joinLinks
        reminder.agenda = agenda
        reminder.materials = [material.name]
        return [
            Sample("create_meeting", requests, CreateMeeting.messageType, CreateMeeting(plan: meetingPlan, expectedAttendees: 10, createdBy: "acc-1")),
            Sample("create_meeting, online only", requests, CreateMeeting.messageType, CreateMeeting(plan: MeetingPlan(
                type: "large_event", topic: "年度发布会", startsAt: at("2026-12-01T01:00:00Z"), endsAt: at("2026-12-01T03:00:00Z"),
                timeZone: "UTC", host: meetingHost, platforms: ["dingtalk"], recommendedPlatform: "dingtalk"), createdBy: "acc-1")),
            Sample("create_meeting answer", requests, CreateMeeting.messageType, answer: true, meeting),
            Sample("update_meeting", requests, UpdateMeeting.messageType, UpdateMeeting(id: conferenceId, plan: meetingPlan, expectedAttendees: 8, expectedSequence: 2)),
            Sample("update_meeting answer", requests, UpdateMeeting.messageType, answer: true, meeting),
            Sample("cancel_meeting", requests, CancelMeeting.messageType, CancelMeeting(id: conferenceId, reason: "改期")),
            Sample("get_meeting", requests, GetMeeting.messageType, GetMeeting(id: conferenceId)),
            Sample("get_meeting answer, ended", requests, GetMeeting.messageType, answer: true, ended),
            Sample("list_meetings", requests, ListMeetings.messageType, ListMeetings(limit: 20, after: "1795000000000000_\(conferenceId)")),
            Sample("list_meetings answer", requests, ListMeetings.messageType, answer: true,
                   MeetingPage(items: [meeting, ended], next: "1795000000000000_\(conferenceId)")),
            Sample("set_agenda", requests, SetAgenda.messageType, SetAgenda(meetingId: conferenceId, items: agenda)),
            Sample("set_agenda answer", requests, SetAgenda.messageType, answer: true, meeting),
            Sample("add_material", requests, AddMaterial.messageType, AddMaterial(
                meetingId: conferenceId, name: material.name, contentType: material.contentType, size: material.size,
                blobKey: material.blobKey, addedBy: "acc-1")),
            Sample("add_material answer", requests, AddMaterial.messageType, answer: true, material),
            Sample("create_room", requests, CreateRoom.messageType, CreateRoom(name: "301", capacity: 12, location: "3F")),
            Sample("create_room answer", requests, CreateRoom.messageType, answer: true, room),
            Sample("update_room", requests, UpdateRoom.messageType, UpdateRoom(id: room.id, capacity: 16)),
            Sample("update_room answer", requests, UpdateRoom.messageType, answer: true, room),
            Sample("list_rooms", requests, ListRooms.messageType, ListRooms()),
            Sample("list_rooms answer", requests, ListRooms.messageType, answer: true, MeetingRoomList(items: [room])),
            Sample("meeting_cancelled, enterprise meeting", events, MeetingCancelled.messageType,
                   MeetingCancelled(meetingId: conferenceId, kind: "client", sequence: 3, reason: "改期")),
            Sample("meeting_started", events, MeetingStarted.messageType, MeetingStarted(
                meetingId: conferenceId, kind: "internal", sequence: 2, at: at("2026-12-01T00:59:00Z"), trigger: "zoom")),
            Sample("meeting_ended", events, MeetingEnded.messageType, MeetingEnded(
                meetingId: conferenceId, kind: "internal", sequence: 2, at: at("2026-12-01T03:00:00Z"), trigger: "timer")),
            Sample("reminder_due, enterprise meeting", events, ReminderDue.messageType, reminder),
        ]
    }
    static let meetingId = "3c1a5e7d-2b4f-4a6c-9d8e-1f2a3b4c5d6e"
    static let attendeeId = "9a8b7c6d-5e4f-4321-8765-4a3b2c1d0e9f"
    static let attendee = AttendeeView(
        id: attendeeId, meetingId: meetingId, name: "张三", email: "zhangsan@example.com", phone: "13800000000", department: "产品部",
        role: "required", dingtalkUserId: "manager1234", locale: "zh-CN", response: "accepted", respondedAt: at("2026-11-20T02:00:00Z"),
        comment: "会准时参加", invitedSequence: 2, createdAt: at("2026-11-18T02:00:00Z"), updatedAt: at("2026-11-20T02:00:00Z"))
    static let minimalAttendee = AttendeeView(
        id: attendeeId, meetingId: meetingId, name: "Jane Doe", email: "jane@example.com", phone: nil, department: nil, role: "observer",
        dingtalkUserId: nil, locale: nil, response: "pending", respondedAt: nil, comment: nil, invitedSequence: nil,
        createdAt: at("2026-11-18T02:00:00Z"), updatedAt: at("2026-11-18T02:00:00Z"))
    static let invitedMeeting = InvitedMeeting(
        meetingId: meetingId, organizationId: "org-7", attendeeId: attendeeId, type: "internal", topic: "Q3 产品规划", description: nil,
        startsAt: at("2026-12-01T06:00:00Z"), endsAt: at("2026-12-01T07:10:00Z"), timeZone: "Asia/Shanghai", location: "3 号会议室",
        hostName: "王经理", status: "scheduled", sequence: 2, role: "required", response: "pending", respondedAt: nil, joinLinks: [
            MeetingJoinLink(platform: "tencent", joinUrl: "https://meeting.tencent.com/dm/abc", meetingNumber: "123456789", password: "1234",
                            recommended: true),
            MeetingJoinLink(platform: "zoom", joinUrl: "https://zoom.us/j/987654321", meetingNumber: "987654321", password: nil, recommended: false),
        ])

    static var all: [Sample] {
        let requests = "scheduling.requests.json", events = "scheduling.events.json"
        var samples = [
            Sample("create_conference", requests, CreateConference.messageType, CreateConference(details: details, createdBy: "acc-1")),
            Sample("create_conference, minimal details", requests, CreateConference.messageType,
                   CreateConference(details: minimalDetails, createdBy: "acc-1")),
            Sample("update_conference", requests, UpdateConference.messageType, UpdateConference(id: conferenceId, details: details)),
            Sample("publish_conference", requests, PublishConference.messageType, PublishConference(id: conferenceId)),
            Sample("cancel_conference", requests, CancelConference.messageType, CancelConference(id: conferenceId, reason: "The venue closed.")),
            Sample("get_conference", requests, GetConference.messageType, GetConference(id: conferenceId)),
            Sample("list_conferences", requests, ListConferences.messageType, ListConferences(limit: 20)),
            Sample("list_conferences, next page", requests, ListConferences.messageType,
                   ListConferences(limit: 20, after: "1795000000000000_\(conferenceId)")),
            Sample("conference answer, draft", requests, CreateConference.messageType, answer: true, draft),
            Sample("conference answer, cancelled", requests, CancelConference.messageType, answer: true, cancelled),
            Sample("list_conferences answer", requests, ListConferences.messageType, answer: true,
                   ConferencePage(items: [cancelled, draft], next: "1795000000000000_\(conferenceId)")),
            Sample("list_conferences answer, last page", requests, ListConferences.messageType, answer: true,
                   ConferencePage(items: [], next: nil)),
            Sample("meeting_scheduled", events, MeetingScheduled.messageType,
                   MeetingScheduled(meetingId: conferenceId, kind: "conference", sequence: 1, details: details)),
            Sample("meeting_updated", events, MeetingUpdated.messageType,
                   MeetingUpdated(meetingId: conferenceId, kind: "conference", sequence: 2, details: minimalDetails)),
            Sample("meeting_scheduled, enterprise meeting", events, MeetingScheduled.messageType,
                   MeetingScheduled(meetingId: conferenceId, sequence: 1, meeting: MeetingPlan(
                       type: "internal", topic: "季度经营分析会", description: "Q4 review", startsAt: at("2026-12-01T01:00:00Z"),
                       endsAt: at("2026-12-01T03:00:00Z"), timeZone: "Asia/Shanghai", roomId: "7d0c6a55-1f2e-4c3b-8a9d-0e1f2a3b4c60",
                       location: "Room 301", host: MeetingHost(accountId: "acc-1", name: "王芳", email: "wang@example.com", locale: "zh-CN"),
                       platforms: ["zoom", "tencent"], recommendedPlatform: "tencent"))),
            Sample("meeting_updated, enterprise meeting without platforms", events, MeetingUpdated.messageType,
                   MeetingUpdated(meetingId: conferenceId, sequence: 2, meeting: MeetingPlan(
                       type: "client", topic: "Client visit", startsAt: at("2026-12-01T01:00:00Z"), endsAt: at("2026-12-01T02:00:00Z"),
                       timeZone: "UTC", host: MeetingHost(accountId: "acc-1", name: "Fang Wang", email: "wang@example.com"),
                       platforms: []))),
            Sample("meeting_cancelled", events, MeetingCancelled.messageType,
                   MeetingCancelled(meetingId: conferenceId, kind: "conference", sequence: 3, reason: "The venue closed.")),
            Sample("reminder_due, on site", events, ReminderDue.messageType,
                   ReminderDue(timerId: "7d0c6a55-1f2e-4c3b-8a9d-0e1f2a3b4c5d", meetingId: conferenceId, meetingKind: "conference",
                               kind: "reminder_24h", dueAt: at("2026-11-30T01:00:00Z"), sequence: 1, title: details.title,
                               startsAt: details.startsAt, endsAt: details.endsAt, timeZone: details.timeZone,
                               startLocal: "2026-12-01 09:00", venue: details.venue, onlinePlatform: details.onlinePlatform)),
            Sample("reminder_due, online", events, ReminderDue.messageType,
                   ReminderDue(timerId: "7d0c6a55-1f2e-4c3b-8a9d-0e1f2a3b4c5e", meetingId: conferenceId, meetingKind: "conference",
                               kind: "reminder_168h", dueAt: at("2026-10-03T12:00:00Z"), sequence: 4, title: minimalDetails.title,
                               startsAt: minimalDetails.startsAt, endsAt: minimalDetails.endsAt, timeZone: "UTC",
                               startLocal: "2026-10-10 12:00", venue: nil, onlinePlatform: "zoom")),
        ]
        samples += meetingSamples(requests: requests, events: events)
        let registration = "registration.requests.json"
        samples += [
            Sample("configure", registration, ConfigureRegistration.messageType,
                   ConfigureRegistration(conferenceId: conferenceId, settings: settings)),
            Sample("configure, minimal settings", registration, ConfigureRegistration.messageType,
                   ConfigureRegistration(conferenceId: conferenceId, settings: minimalSettings)),
            Sample("configure answer", registration, ConfigureRegistration.messageType, answer: true, settings),
            Sample("get_form", registration, GetRegistrationForm.messageType, GetRegistrationForm(conferenceId: conferenceId)),
            Sample("get_form answer", registration, GetRegistrationForm.messageType, answer: true, registrationForm),
            Sample("submit", registration, SubmitRegistration.messageType,
                   SubmitRegistration(conferenceId: conferenceId, category: "regular", answers: answers, invoice: invoice,
                                      consentToContact: true, registrant: registrant)),
            Sample("submit, minimal", registration, SubmitRegistration.messageType,
                   SubmitRegistration(conferenceId: conferenceId, category: "student", answers: [:], invoice: nil,
                                      consentToContact: false, registrant: registrant)),
            Sample("submit answer", registration, SubmitRegistration.messageType, answer: true, Self.registration),
            Sample("submit answer, minimal", registration, SubmitRegistration.messageType, answer: true, minimalRegistration),
            Sample("get, participant", registration, GetRegistration.messageType,
                   GetRegistration(registrationId: registrationId, accountId: "acc-42")),
            Sample("get, organizer", registration, GetRegistration.messageType, GetRegistration(registrationId: registrationId, accountId: nil)),
            Sample("get answer", registration, GetRegistration.messageType, answer: true, Self.registration),
            Sample("list, participant", registration, ListRegistrations.messageType, ListRegistrations(accountId: "acc-42")),
            Sample("list, organizer", registration, ListRegistrations.messageType,
                   ListRegistrations(conferenceId: conferenceId, status: "waitlisted")),
            Sample("list, next page", registration, ListRegistrations.messageType,
                   ListRegistrations(conferenceId: conferenceId, limit: 500, after: "1795161600000000_\(conferenceId)")),
            Sample("list answer", registration, ListRegistrations.messageType, answer: true,
                   RegistrationPage(items: [Self.registration, minimalRegistration], next: "1795161600000000_\(conferenceId)")),
            Sample("last page", registration, ListRegistrations.messageType, answer: true,
                   RegistrationPage(items: [], next: nil)),
            Sample("review", registration, ReviewRegistration.messageType,
                   ReviewRegistration(registrationId: registrationId, decision: "request_changes", comment: "请补充单位", reviewerId: "acc-1")),
            Sample("review, no comment", registration, ReviewRegistration.messageType,
                   ReviewRegistration(registrationId: registrationId, decision: "approve", comment: nil, reviewerId: "acc-1")),
            Sample("review answer", registration, ReviewRegistration.messageType, answer: true, Self.registration),
            Sample("resubmit", registration, ResubmitRegistration.messageType,
                   ResubmitRegistration(registrationId: registrationId, accountId: "acc-42", answers: answers)),
            Sample("resubmit answer", registration, ResubmitRegistration.messageType, answer: true, Self.registration),
            Sample("withdraw", registration, WithdrawRegistration.messageType,
                   WithdrawRegistration(registrationId: registrationId, accountId: "acc-42")),
            Sample("withdraw answer", registration, WithdrawRegistration.messageType, answer: true, minimalRegistration),
            Sample("accept_offer", registration, AcceptSeatOffer.messageType, AcceptSeatOffer(registrationId: registrationId, accountId: "acc-42")),
            Sample("accept_offer answer", registration, AcceptSeatOffer.messageType, answer: true, Self.registration),
            Sample("export", registration, ExportRegistrations.messageType, ExportRegistrations(conferenceId: conferenceId, format: "xlsx")),
            Sample("export answer", registration, ExportRegistrations.messageType, answer: true,
                   ExportedFile(fileName: "registrations-\(conferenceId).csv", contentType: "text/csv; charset=utf-8",
                                body: Data("registration_id\n".utf8).base64EncodedString())),
            Sample("list_participants", registration, ListParticipants.messageType, ListParticipants(consentedOnly: true)),
            Sample("list_participants answer", registration, ListParticipants.messageType, answer: true,
                   [ParticipantRecord(accountId: "acc-42", name: registrant.name, email: registrant.email, conferencesAttended: 2,
                                      registrations: 3, lastRegisteredAt: at("2026-09-02T08:00:00Z"), consentToContact: true)]),
            // Attendees of enterprise meetings
            Sample("add_attendee", registration, AddAttendee.messageType,
                   AddAttendee(meetingId: meetingId, attendee: AttendeeInput(name: "张三", email: "zhangsan@example.com", phone: "13800000000",
                                                                             department: "产品部", role: "必选", dingtalkUserId: "manager1234",
                                                                             locale: "zh-CN"))),
            Sample("add_attendee, minimal", registration, AddAttendee.messageType,
                   AddAttendee(meetingId: meetingId, attendee: AttendeeInput(name: "Jane Doe", email: "jane@example.com"))),
            Sample("add_attendee answer", registration, AddAttendee.messageType, answer: true, attendee),
            Sample("add_attendee answer, minimal", registration, AddAttendee.messageType, answer: true, minimalAttendee),
            Sample("update_attendee", registration, UpdateAttendee.messageType,
                   UpdateAttendee(meetingId: meetingId, attendeeId: attendeeId, department: "销售部", role: "observer")),
            Sample("update_attendee answer", registration, UpdateAttendee.messageType, answer: true, attendee),
            Sample("remove_attendee", registration, RemoveAttendee.messageType, RemoveAttendee(meetingId: meetingId, attendeeId: attendeeId)),
            Sample("remove_attendee answer", registration, RemoveAttendee.messageType, answer: true, Empty()),
            Sample("list_attendees", registration, ListAttendees.messageType,
                   ListAttendees(meetingId: meetingId, limit: 100, after: "1795161600000000_\(attendeeId)", role: "required", response: "pending")),
            Sample("list_attendees answer", registration, ListAttendees.messageType, answer: true,
                   AttendeePage(items: [attendee, minimalAttendee], next: "1795161600000000_\(attendeeId)")),
            Sample("import_attendees", registration, ImportAttendees.messageType,
                   ImportAttendees(meetingId: meetingId, format: "csv", body: Data("name,email\n张三,zhangsan@example.com\n".utf8).base64EncodedString(),
                                   dryRun: true)),
            Sample("import_attendees answer", registration, ImportAttendees.messageType, answer: true,
                   AttendeeImportReport(applied: false, dryRun: false, added: 1, updated: 0, rejected: 1, rows: [
                       .init(row: 2, email: "zhangsan@example.com", name: "张三", outcome: "added"),
                       .init(row: 3, email: "not-an-address", name: "李四", outcome: "rejected", reason: "invalid_email", message: "not an email address"),
                   ])),
            Sample("sync_attendees", registration, SyncAttendees.messageType,
                   SyncAttendees(meetingId: meetingId, source: "dingtalk_department", sourceId: "42", role: "optional", members: [
                       AttendeeSyncMember(userId: "manager1234", name: "张三", email: "zhangsan@example.com", mobile: "13800000000"),
                       AttendeeSyncMember(userId: "user5678", name: "李四", email: nil, mobile: nil),
                   ])),
            Sample("sync_attendees, minimal", registration, SyncAttendees.messageType,
                   SyncAttendees(meetingId: meetingId, source: "dingtalk_department", sourceId: "42", members: [])),
            Sample("sync_attendees answer", registration, SyncAttendees.messageType, answer: true,
                   AttendeeSyncReport(source: "dingtalk_department:42", added: 1, updated: 0, removed: 1, skipped: 1, rows: [
                       .init(outcome: "added", name: "张三", email: "zhangsan@example.com", dingtalkUserId: "manager1234",
                             attendeeId: attendeeId),
                       .init(outcome: "removed", name: "王五", email: "wangwu@example.com", dingtalkUserId: "user0001",
                             attendeeId: attendeeId),
                       .init(outcome: "skipped", name: "李四", email: nil, dingtalkUserId: "user5678", attendeeId: nil,
                             reason: "missing_email", message: "the member has no email address on DingTalk, so they cannot be invited"),
                   ])),
            Sample("attendee_template", registration, GetAttendeeTemplate.messageType, GetAttendeeTemplate(format: "xlsx")),
            Sample("attendee_template answer", registration, GetAttendeeTemplate.messageType, answer: true,
                   ExportedFile(fileName: "attendees-template.csv", contentType: "text/csv; charset=utf-8",
                                body: Data("name,email\n".utf8).base64EncodedString())),
            Sample("list_my_meetings", registration, ListMyMeetings.messageType, ListMyMeetings(email: "zhangsan@example.com", limit: 20)),
            Sample("list_my_meetings answer", registration, ListMyMeetings.messageType, answer: true,
                   InvitedMeetingPage(items: [invitedMeeting], next: "1795161600000000_\(meetingId)")),
            Sample("get_invitation", registration, GetInvitation.messageType, GetInvitation(attendeeId: attendeeId, token: "q3Xv0w")),
            Sample("get_invitation answer", registration, GetInvitation.messageType, answer: true, invitedMeeting),
            Sample("respond_to_invitation, signed in", registration, RespondToInvitation.messageType,
                   RespondToInvitation(meetingId: meetingId, email: "zhangsan@example.com", response: "accepted", comment: "会准时参加")),
            Sample("respond_to_invitation, by link", registration, RespondToInvitation.messageType,
                   RespondToInvitation(attendeeId: attendeeId, token: "q3Xv0w", response: "tentative")),
            Sample("respond_to_invitation answer", registration, RespondToInvitation.messageType, answer: true, invitedMeeting),
            Sample("attendee_responded", "registration.events.json", AttendeeResponded.messageType,
                   AttendeeResponded(meetingId: meetingId, attendeeId: attendeeId, email: "zhangsan@example.com", role: "required",
                                     response: "declined", respondedAt: at("2026-11-30T08:00:00Z"))),
        ]
        // Every event of RegistrationEvent (an unreadable source leaves none here and fails everyEventHasASchema).
        for event in ((try? MessageCatalogueTests.registrationEvents()) ?? []).sorted() {
            samples.append(Sample("\(event)", "registration.events.json", event,
                                  notice(comment: "会议取消", offerExpiresAt: at("2026-10-05T08:00:00Z"), link: "https://convene.example/r/1")))
            samples.append(Sample("\(event), minimal", "registration.events.json", event, notice(comment: nil, offerExpiresAt: nil, link: nil)))
        }
        samples += platformSamples
        return samples
    }

    static var platformSamples: [Sample] {
        let events = "platform.events.json", requests = "platform-bridge.requests.json"
        let meetingId = "7d0c6a55-1f2e-4c3b-8a9d-0e1f2a3b4c61"
        let host = MeetingHost(accountId: "acc-1", name: "王芳", email: "wang@example.com", locale: "zh-CN")
        let status = PlatformCredentialStatus(platform: "zoom", account: "Xy1AbCdEfG", clientId: "cli_abc", creator: "me",
                                              webhookVerification: true, updatedAt: at("2026-11-22T09:30:00Z"))
        let live = LiveStreamView(meetingId: meetingId, provider: "bilibili", watchUrl: "https://live.bilibili.com/21452505",
                                  pushConfigured: true, updatedAt: at("2026-11-22T09:30:00Z"))
        let participant = PlatformParticipant(meetingId: meetingId, platform: "zoom", name: "李雷", email: "li@example.com",
                                              platformUserId: "16778240", at: at("2026-12-01T01:01:00Z"))
        return [
            Sample("meeting_provisioned", events, MeetingProvisioned.messageType, MeetingProvisioned(
                meetingId: meetingId, sequence: 1, platform: "zoom", platformMeetingId: "85012345678", meetingNumber: "85012345678",
                joinUrl: "https://zoom.us/j/85012345678?pwd=abc", password: "123456")),
            Sample("meeting_provisioned, DingTalk without password", events, MeetingProvisioned.messageType, MeetingProvisioned(
                meetingId: meetingId, sequence: 2, platform: "dingtalk", platformMeetingId: "b1c2d3", meetingNumber: "123456789",
                joinUrl: "https://meeting.dingtalk.com/j/abc", password: nil)),
            Sample("provisioning_failed", events, ProvisioningFailed.messageType, ProvisioningFailed(
                meetingId: meetingId, sequence: 1, platform: "tencent", reason: "platform.auth_failed",
                message: "Tencent Meeting refused the credentials (HTTP 401)", host: host, topic: "季度经营分析会")),
            Sample("meeting_started", events, PlatformMeetingStarted.messageType,
                   PlatformMeetingStarted(meetingId: meetingId, platform: "zoom", at: at("2026-12-01T01:00:00Z"))),
            Sample("meeting_ended", events, PlatformMeetingEnded.messageType,
                   PlatformMeetingEnded(meetingId: meetingId, platform: "zoom", at: at("2026-12-01T03:00:00Z"))),
            Sample("meeting_removed", events, PlatformMeetingRemoved.messageType,
                   PlatformMeetingRemoved(meetingId: meetingId, sequence: 3, platform: "tencent", platformMeetingId: "1234567890123456789")),
            Sample("participant_joined", events, PlatformParticipantJoined.messageType, PlatformParticipantJoined(participant)),
            Sample("participant_left", events, PlatformParticipantLeft.messageType, PlatformParticipantLeft(participant)),
            Sample("recording_ready", events, PlatformRecordingReady.messageType, PlatformRecordingReady(
                meetingId: meetingId, platform: "zoom", shareUrl: "https://zoom.us/rec/share/abc",
                files: [.init(type: "MP4", sizeBytes: 1_048_576, startedAt: at("2026-12-01T01:00:00Z"), endedAt: at("2026-12-01T03:00:00Z"))])),
            Sample("live_stream_set", events, LiveStreamSet.messageType,
                   LiveStreamSet(meetingId: meetingId, provider: "bilibili", watchUrl: "https://live.bilibili.com/21452505")),
            Sample("set_credentials, zoom", requests, SetPlatformCredentials.messageType, SetPlatformCredentials(
                platform: "zoom", zoom: ZoomCredentials(accountId: "Xy1AbCdEfG", clientId: "cli_abc", clientSecret: "s",
                                                        webhookSecretToken: "w", userId: "me"), setBy: "acc-1")),
            Sample("set_credentials, tencent", requests, SetPlatformCredentials.messageType, SetPlatformCredentials(
                platform: "tencent", tencent: TencentCredentials(secretId: "AKID1", secretKey: "k", appId: "200000001", sdkId: "1",
                                                                 creatorUserId: "host1"))),
            Sample("set_credentials, dingtalk", requests, SetPlatformCredentials.messageType, SetPlatformCredentials(
                platform: "dingtalk", dingtalk: DingTalkCredentials(appKey: "dingabc", appSecret: "s", creatorUnionId: "u1"))),
            Sample("set_credentials answer", requests, SetPlatformCredentials.messageType, answer: true, status),
            Sample("list_credentials", requests, ListPlatformCredentials.messageType, ListPlatformCredentials()),
            Sample("list_credentials answer", requests, ListPlatformCredentials.messageType, answer: true, [status]),
            Sample("remove_credentials", requests, RemovePlatformCredentials.messageType, RemovePlatformCredentials(platform: "zoom")),
            Sample("remove_credentials answer", requests, RemovePlatformCredentials.messageType, answer: true, Empty()),
            Sample("get_meeting_platforms", requests, GetMeetingPlatforms.messageType, GetMeetingPlatforms(meetingId: meetingId)),
            Sample("get_meeting_platforms answer", requests, GetMeetingPlatforms.messageType, answer: true, [
                PlatformMeetingStatus(platform: "zoom", status: "provisioned", sequence: 1, platformMeetingId: "85012345678",
                                      meetingNumber: "85012345678", joinUrl: "https://zoom.us/j/85012345678", password: "123456",
                                      attempts: 0, lastError: nil, recommended: true),
                PlatformMeetingStatus(platform: "tencent", status: "failed", sequence: nil, platformMeetingId: nil, meetingNumber: nil,
                                      joinUrl: nil, password: nil, attempts: 3, lastError: "platform.unavailable", recommended: false),
            ]),
            Sample("set_live_stream", requests, SetLiveStream.messageType, SetLiveStream(
                meetingId: meetingId, provider: "bilibili", pushUrl: "rtmp://live-push.bilivideo.com/live-bvc/", streamKey: "k",
                watchUrl: "https://live.bilibili.com/21452505", setBy: "acc-1")),
            Sample("set_live_stream answer", requests, SetLiveStream.messageType, answer: true, live),
            Sample("get_live_stream", requests, GetLiveStream.messageType, GetLiveStream(meetingId: meetingId)),
            Sample("get_live_stream answer", requests, GetLiveStream.messageType, answer: true, live),
            Sample("list_department_members", requests, ListDepartmentMembers.messageType, ListDepartmentMembers(departmentId: 42)),
            Sample("list_department_members answer", requests, ListDepartmentMembers.messageType, answer: true, [
                PlatformMember(userId: "manager4220", unionId: "iPiSxxxx", name: "张三", email: "zhang@example.com", mobile: nil,
                               title: "经理"),
            ]),
            Sample("platform_callback", requests, PlatformCallback.messageType, PlatformCallback(
                platform: "zoom", headers: [["x-zm-signature", "v0=ab"], ["x-zm-request-timestamp", "1764550800"]], body: "e30=")),
            Sample("platform_callback answer", requests, PlatformCallback.messageType, answer: true,
                   CallbackAnswer(status: 200, contentType: "application/json", body: "e30=")),
        ]
    }
}
