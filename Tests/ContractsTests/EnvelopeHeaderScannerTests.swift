import Contracts
import Foundation
import Testing

@Suite("Envelope header, read without decoding the payload")
struct EnvelopeHeaderScannerTests {
    func viaDecoder(_ text: String) throws -> EnvelopeHeader {
        try ConveneJSON.decode(EnvelopeHeader.self, from: Array(text.utf8))
    }

    @Test("the header read by the scan equals the decoder's, whatever the payload holds")
    func matchesDecoder() throws {
        let envelope = Envelope(type: "registration.confirmed", source: "registration", correlationId: "c-1", causationId: nil,
                                organizationId: "org-1", data: SendNotification(
                                    category: "x", templateKey: "k",
                                    data: ["nested": .object(["a": .array([.string("}]\\\",{"), .number(1), .null, .bool(true)])]),
                                           "quote": .string("say \"hi\"\n")],
                                    recipients: [.init(email: "a@example.com", name: "王{同学}")]))
        let bytes = try ConveneJSON.encode(envelope)
        let scanned = try EnvelopeHeader.decode(from: bytes)
        #expect(scanned == (try ConveneJSON.decode(EnvelopeHeader.self, from: bytes)))
        #expect(scanned.type == "registration.confirmed" && scanned.organizationId == "org-1" && scanned.causationId == nil)
    }

    @Test("key order, white space and null fields do not matter")
    func layout() throws {
        let text = """
             { "data" : {"x": [1, 2, {"y": "z"}]}, "version": 2 ,"organizationId": null,
               "occurredAt": "2026-11-22T09:30:00.250Z", "source": "payment", "type": "payment.succeeded",
               "id": "0B7E0000-0000-4000-8000-000000000001", "correlationId": "abc" }
            """
        let scanned = try EnvelopeHeader.decode(from: Array(text.utf8))
        #expect(scanned == (try viaDecoder(text)))
        #expect(scanned.version == 2 && scanned.organizationId == nil && scanned.correlationId == "abc")
    }

    @Test("escapes in a header field, and bad envelopes, go to the decoder and fail as it says")
    func fallback() throws {
        let escaped = #"{"id":"0b7e0000-0000-4000-8000-000000000001","type":"payment.succ\u0065eded","version":1,"source":"p","occurredAt":"2026-11-22T09:30:00Z","data":{}}"#
        #expect(try EnvelopeHeader.decode(from: Array(escaped.utf8)).type == "payment.succeeded")
        for bad in ["", "{", "[]", "{}", #"{"id":"not-a-uuid","type":"t","version":1,"source":"s","occurredAt":"2026-11-22T09:30:00Z"}"#,
                    #"{"id":"0b7e0000-0000-4000-8000-000000000001","type":"t","version":"1","source":"s","occurredAt":"2026-11-22T09:30:00Z"}"#,
                    #"{"id":"0b7e0000-0000-4000-8000-000000000001","type":"t","version":1,"source":"s","occurredAt":"2026-11-22T09:30:00Z","data":{"#] {
            #expect(throws: (any Error).self, "\(bad)") { try EnvelopeHeader.decode(from: Array(bad.utf8)) }
        }
    }
}
