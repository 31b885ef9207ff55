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

@Suite("ISO-8601 fast path")
struct ISO8601FastPathTests {
    @Test("the fast reader agrees with the formatter on dates Convene writes, across years and leap days")
    func agreesWithFormatter() throws {
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)
        var seconds = -2_208_988_800.0  // 1900-01-01
        while seconds < 4_102_444_800 {  // 2100-01-01
            let date = Date(timeIntervalSince1970: seconds.rounded(.down) + 0.125)
            let text = ISO8601.format(date)
            #expect(ISO8601.parse(text) == date, "\(text)")
            #expect(try style.parse(text) == date)
            seconds += 86_400 * 29.7 + 3_671
        }
        #expect(ISO8601.parse("2024-02-29T23:59:59Z") == Date(timeIntervalSince1970: 1_709_251_199))
        #expect(ISO8601.parse("2026-13-01T00:00:00Z") == nil)
        #expect(ISO8601.parse("2026-11-22T09:30:00") == nil)
    }
}
