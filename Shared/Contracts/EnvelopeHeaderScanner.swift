import Foundation

extension EnvelopeHeader {
    /// The header of an envelope. Every message is read twice — for its header (to route it)
    /// and in full by its handler — so the header is found by a scan of the top-level keys that
    /// skips `data` without building it. Anything the scan does not expect (escapes in a header
    /// field, a wrong type, a missing field) goes to `JSONDecoder`, which also words the error.
    public static func decode(from bytes: [UInt8]) throws -> EnvelopeHeader {
        if let header = bytes.withUnsafeBufferPointer({ buffer -> EnvelopeHeader? in
            var scanner = HeaderScanner(bytes: buffer)
            return scanner.scan()
        }) { return header }
        return try ConveneJSON.decode(EnvelopeHeader.self, from: bytes)
    }
}

private struct HeaderScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    private static let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")

    mutating func scan() -> EnvelopeHeader? {
        var id: UUID?, type: String?, version: Int?, source: String?, occurredAt: Date?
        var correlationId: String??, causationId: String??, organizationId: String??
        skipSpace()
        guard take(UInt8(ascii: "{")) else { return nil }
        skipSpace()
        if take(UInt8(ascii: "}")) { return nil }
        while true {
            skipSpace()
            guard let key = plainString() else { return nil }
            skipSpace()
            guard take(UInt8(ascii: ":")) else { return nil }
            skipSpace()
            switch key {
            case "id": guard let text = plainString(), let value = UUID(uuidString: text) else { return nil }; id = value
            case "type": guard let value = plainString() else { return nil }; type = value
            case "source": guard let value = plainString() else { return nil }; source = value
            case "version": guard let value = integer() else { return nil }; version = value
            case "occurredAt": guard let text = plainString(), let value = ISO8601.parse(text) else { return nil }; occurredAt = value
            case "correlationId": guard let value = optionalString() else { return nil }; correlationId = value
            case "causationId": guard let value = optionalString() else { return nil }; causationId = value
            case "organizationId": guard let value = optionalString() else { return nil }; organizationId = value
            default: guard skipValue() else { return nil }
            }
            skipSpace()
            if take(UInt8(ascii: ",")) { continue }
            guard take(UInt8(ascii: "}")) else { return nil }
            break
        }
        skipSpace()
        guard position == bytes.count, let id, let type, let version, let source, let occurredAt else { return nil }
        return EnvelopeHeader(id: id, type: type, version: version, source: source, occurredAt: occurredAt,
                              correlationId: correlationId ?? nil, causationId: causationId ?? nil,
                              organizationId: organizationId ?? nil)
    }

    private mutating func take(_ byte: UInt8) -> Bool {
        guard position < bytes.count, bytes[position] == byte else { return false }
        position += 1
        return true
    }

    private mutating func skipSpace() {
        while position < bytes.count, [0x20, 0x09, 0x0a, 0x0d].contains(bytes[position]) { position += 1 }
    }

    /// A string without escapes (else nil: the decoder handles it).
    private mutating func plainString() -> String? {
        guard take(Self.quote) else { return nil }
        let start = position
        while position < bytes.count {
            let byte = bytes[position]
            if byte == Self.quote {
                defer { position += 1 }
                return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
            }
            if byte == Self.backslash || byte < 0x20 { return nil }
            position += 1
        }
        return nil
    }

    /// `null` or a plain string; nil when neither.
    private mutating func optionalString() -> String?? {
        if literal("null") { return .some(nil) }
        return plainString().map { .some($0) }
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard position + count <= bytes.count else { return false }
        for offset in 0..<count where bytes[position + offset] != word.utf8Start[offset] { return false }
        position += count
        return true
    }

    private mutating func integer() -> Int? {
        let start = position
        if position < bytes.count, bytes[position] == UInt8(ascii: "-") { position += 1 }
        while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) { position += 1 }
        guard position > start, position - start < 19 else { return nil }
        return Int(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self))
    }

    /// Steps over any JSON value, up to the `,` or `}` after it (balance is all it checks: the
    /// handler's decoder reads the value itself).
    private mutating func skipValue() -> Bool {
        var depth = 0
        while position < bytes.count {
            switch bytes[position] {
            case Self.quote:
                position += 1
                while position < bytes.count, bytes[position] != Self.quote {
                    position += bytes[position] == Self.backslash ? 2 : 1
                }
                guard position < bytes.count else { return false }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if depth == 0 { return true }
                depth -= 1
            case UInt8(ascii: ","):
                if depth == 0 { return true }
            default:
                break
            }
            position += 1
        }
        return false
    }
}
