import CLibPQ
import Contracts

/// The rows of a statement, copied out of libpq as text.
public struct PGResult: Sendable {
    public let columns: [String]
    public let rows: [PGRow]
    /// Rows changed by an INSERT/UPDATE/DELETE.
    public let affectedRows: Int

    init(_ result: OpaquePointer) {
        let columnCount = Int(PQnfields(result))
        let rowCount = Int(PQntuples(result))
        let columns = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
        var index: [String: Int] = [:]
        for (position, name) in columns.enumerated() where index[name] == nil { index[name] = position }
        var rows: [PGRow] = []
        rows.reserveCapacity(rowCount)
        for row in 0..<rowCount {
            var values: [String?] = []
            values.reserveCapacity(columnCount)
            for column in 0..<columnCount {
                if PQgetisnull(result, Int32(row), Int32(column)) == 1 {
                    values.append(nil)
                } else {
                    values.append(String(cString: PQgetvalue(result, Int32(row), Int32(column))))
                }
            }
            rows.append(PGRow(values: values, index: index))
        }
        self.columns = columns
        self.rows = rows
        affectedRows = Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    public var first: PGRow? { rows.first }
}

/// One row; values are read by column name and decoded from PostgreSQL's text format.
public struct PGRow: Sendable {
    let values: [String?]
    let index: [String: Int]

    public subscript(_ column: String) -> String? {
        guard let position = index[column] else { return nil }
        return values[position]
    }

    public func string(_ column: String) throws -> String {
        guard let value = self[column] else { throw PGError.decoding(column, "is null or missing") }
        return value
    }

    public func int(_ column: String) throws -> Int {
        guard let value = Int(try string(column)) else { throw PGError.decoding(column, "is not an integer") }
        return value
    }

    public func int64(_ column: String) throws -> Int64 {
        guard let value = Int64(try string(column)) else { throw PGError.decoding(column, "is not an integer") }
        return value
    }

    public func bool(_ column: String) throws -> Bool {
        try string(column) == "t"
    }

    public func uuid(_ column: String) throws -> UUID {
        guard let value = UUID(uuidString: try string(column)) else { throw PGError.decoding(column, "is not a UUID") }
        return value
    }

    public func date(_ column: String) throws -> Date {
        guard let value = PGTimestamp.parse(try string(column)) else { throw PGError.decoding(column, "is not a timestamp") }
        return value
    }

    /// A `bytea` column (hex output format).
    public func bytes(_ column: String) throws -> [UInt8] {
        let text = try string(column)
        guard text.hasPrefix("\\x") else { throw PGError.decoding(column, "is not bytea in hex format") }
        var bytes: [UInt8] = []
        bytes.reserveCapacity((text.utf8.count - 2) / 2)
        var high: UInt8?
        for char in text.utf8.dropFirst(2) {
            guard let nibble = hexValue(char) else { throw PGError.decoding(column, "has invalid hex") }
            if let h = high { bytes.append(h << 4 | nibble); high = nil } else { high = nibble }
        }
        return bytes
    }

    public func isNull(_ column: String) -> Bool { self[column] == nil }
}

private func hexValue(_ char: UInt8) -> UInt8? {
    switch char {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): char - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): char - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): char - UInt8(ascii: "A") + 10
    default: nil
    }
}

/// `timestamptz` in PostgreSQL's ISO output with the session in UTC: `2026-11-22 09:30:00.123+00`.
enum PGTimestamp {
    static func parse(_ text: String) -> Date? {
        var iso = text.replacing(" ", with: "T")
        if iso.hasSuffix("+00") { iso = String(iso.dropLast(3)) + "Z" }
        return ISO8601.parse(iso)
    }
}
