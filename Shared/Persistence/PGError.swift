/// A database error with its SQLSTATE, readable in logs: `23505 duplicate key value violates…`.
public struct PGError: Error, Sendable, CustomStringConvertible {
    public var sqlState: String
    public var message: String
    public var detail: String?
    public var constraint: String?
    public var table: String?

    public init(sqlState: String, message: String, detail: String? = nil, constraint: String? = nil, table: String? = nil) {
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.constraint = constraint
        self.table = table
    }

    public var description: String {
        var text = "PostgreSQL \(sqlState): \(message)"
        if let detail { text += " (\(detail))" }
        return text
    }

    /// Class 08: the connection is gone; the pool drops it rather than reusing it.
    public var isConnectionError: Bool { sqlState.hasPrefix("08") || sqlState == "57P01" }
    public var isUniqueViolation: Bool { sqlState == "23505" }

    static func decoding(_ column: String, _ problem: String) -> PGError {
        PGError(sqlState: "22000", message: "column \(column) \(problem)")
    }
}
