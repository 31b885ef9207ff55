/// The one JSON dialect of Convene: ISO-8601 dates in UTC (fractional seconds when present),
/// keys sorted so equal payloads encode to equal bytes.
public enum ConveneJSON {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(ISO8601.format(date))
        }
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = ISO8601.parse(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "expected an ISO-8601 date-time, got \"\(text)\"")
            }
            return date
        }
        return decoder
    }

    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        Array(try encoder().encode(value))
    }

    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try decoder().decode(type, from: Data(bytes))
    }
}

/// ISO-8601 date-times as Convene writes them (`2026-11-22T09:30:00Z`, milliseconds when not
/// whole seconds) and reads them (with or without fractional seconds, any UTC offset).
public enum ISO8601 {
    private static let whole = Date.ISO8601FormatStyle(includingFractionalSeconds: false, timeZone: .gmt)
    private static let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)

    public static func format(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        return seconds == seconds.rounded() ? whole.format(date) : fractional.format(date)
    }

    public static func parse(_ text: String) -> Date? {
        if let date = parseUTC(text) { return date }
        if let date = try? whole.parse(text) { return date }
        return try? fractional.parse(text)
    }

    /// The form Convene itself writes (`2026-11-22T09:30:00Z`, `…00.250Z`), read without a
    /// formatter: every message carries at least one date, and the formatter dominated decoding.
    static func parseUTC(_ text: String) -> Date? {
        var utf8 = text.utf8[...]
        guard utf8.count >= 20, utf8.last == UInt8(ascii: "Z") else { return nil }
        func number(_ digits: Int) -> Int? {
            var value = 0
            for _ in 0..<digits {
                guard let byte = utf8.popFirst(), byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        func expect(_ char: Character) -> Bool { utf8.popFirst() == char.asciiValue }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2), expect("T"),
              let hour = number(2), expect(":"), let minute = number(2), expect(":"), let second = number(2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var fraction = 0.0
        if utf8.first == UInt8(ascii: ".") {
            utf8.removeFirst()
            var scale = 0.1
            while let byte = utf8.first, byte >= 48, byte <= 57 {
                fraction += Double(byte - 48) * scale
                scale /= 10
                utf8.removeFirst()
            }
        }
        guard utf8.count == 1 else { return nil }  // only the Z is left
        // Days from the civil date (Howard Hinnant's algorithm), proleptic Gregorian, UTC.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        let seconds = Double(days * 86_400 + hour * 3600 + minute * 60 + second) + fraction
        return Date(timeIntervalSince1970: seconds)
    }
}
