import Contracts
import Testing

struct SeatConfirmed: MessagePayload, Equatable {
    static let messageType = "registration.confirmed"
    var registrationId: String
    var paidAt: Date
}

@Suite("Envelope and JSON")
struct EnvelopeTests {
    @Test("an envelope round-trips through JSON with ISO-8601 dates")
    func roundTrip() throws {
        let paidAt = Date(timeIntervalSince1970: 1_795_000_000)
        let envelope = Envelope(SeatConfirmed(registrationId: "r-1", paidAt: paidAt), source: "registration",
                                organizationId: "org-1", correlationId: "flow-1")
        let bytes = try ConveneJSON.encode(envelope)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("\"paidAt\":\"2026-11-18T11:06:40Z\""))
        #expect(text.contains("\"id\":\"\(envelope.id.uuidString.lowercased())\""), "ids are written in lower case, like message_id")
        #expect(text.contains("\"type\":\"registration.confirmed\""))
        let decoded = try ConveneJSON.decode(Envelope<SeatConfirmed>.self, from: bytes)
        #expect(decoded.data == envelope.data)
        #expect(decoded.id == envelope.id)
        #expect(decoded.organizationId == "org-1")
        #expect(decoded.correlationId == "flow-1")
    }

    @Test("a message caused by another joins its flow")
    func causation() throws {
        let cause = Envelope(type: "gateway.request", source: "gateway", correlationId: "flow-9", organizationId: "org-9",
                             data: Empty())
        let effect = Envelope(SeatConfirmed(registrationId: "r", paidAt: Date()), source: "registration", causedBy: cause)
        #expect(effect.correlationId == "flow-9")
        #expect(effect.causationId == cause.id.uuidString.lowercased())
        #expect(effect.organizationId == "org-9")
    }

    @Test("dates with fractional seconds and offsets are read; bad dates are refused")
    func dates() throws {
        #expect(ISO8601.parse("2026-11-22T09:30:00Z") == Date(timeIntervalSince1970: 1_795_339_800))
        #expect(ISO8601.parse("2026-11-22T09:30:00.250Z") == Date(timeIntervalSince1970: 1_795_339_800.25))
        #expect(ISO8601.parse("2026-11-22T17:30:00+08:00") == Date(timeIntervalSince1970: 1_795_339_800))
        #expect(ISO8601.parse("22/11/2026") == nil)
        let json = Array(#"{"registrationId":"r","paidAt":"yesterday"}"#.utf8)
        #expect(throws: DecodingError.self) { try ConveneJSON.decode(SeatConfirmed.self, from: json) }
    }

    @Test("the header of any envelope is readable without knowing its payload")
    func header() throws {
        let bytes = try ConveneJSON.encode(Envelope(SeatConfirmed(registrationId: "r", paidAt: Date()), source: "registration"))
        let header = try ConveneJSON.decode(EnvelopeHeader.self, from: bytes)
        #expect(header.type == "registration.confirmed")
        #expect(header.version == 1)
    }

    @Test("a reply carries either data or a coded error")
    func replies() throws {
        let failure = Reply<Empty>.failure(ConveneError(code: "registration.capacity_full", message: "full"))
        let decoded = try ConveneJSON.decode(Reply<Empty>.self, from: try ConveneJSON.encode(failure))
        #expect(throws: ConveneError(code: "registration.capacity_full", message: "full")) { try decoded.get() }
        #expect(try Reply.success(ServiceName.payment.schema).get() == "payment")
    }

    @Test("service names give their queue and schema")
    func serviceNames() {
        #expect(ServiceName.platformBridge.queue == "platform-bridge")
        #expect(ServiceName.platformBridge.schema == "platform_bridge")
        #expect(ServiceName.backends.count == 6)
        #expect(!ServiceName.backends.contains(.gateway))
    }
}
