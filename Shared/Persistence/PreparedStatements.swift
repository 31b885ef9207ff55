/// Which statements a connection prepares. A statement is prepared the second time its text is
/// seen, so a text built for one occasion (a multi-row insert of an unusual size) does not take a
/// place; at most `capacity` are kept per connection, after which new texts run unnamed.
struct PreparedStatements {
    enum Decision: Equatable {
        case prepared(String)
        case prepare(String)
        case runUnnamed
    }

    let capacity: Int
    private var names: [String: String] = [:]
    private var seenOnce: Set<String> = []
    private var counter = 0

    init(capacity: Int = 256) {
        self.capacity = capacity
    }

    var count: Int { names.count }

    mutating func lookup(_ sql: String) -> Decision {
        if let name = names[sql] { return .prepared(name) }
        guard names.count < capacity else { return .runUnnamed }
        guard seenOnce.contains(sql) else {
            // Bounded too: a stream of one-off texts must not grow it without end.
            if seenOnce.count >= capacity * 4 { seenOnce.removeAll(keepingCapacity: true) }
            seenOnce.insert(sql)
            return .runUnnamed
        }
        counter += 1
        return .prepare("convene_\(counter)")
    }

    mutating func remember(_ sql: String, as name: String) {
        names[sql] = name
        seenOnce.remove(sql)
    }

    /// Forgets a statement whose plan no longer fits; its server-side name stays taken until the
    /// session ends, which costs nothing but a name (the counter never reuses one).
    mutating func forget(_ sql: String) {
        names[sql] = nil
    }

    /// Errors after which a prepared statement must be prepared again: `0A000` "cached plan must
    /// not change result type" (a table's columns changed) and `26000` (no such prepared statement).
    static func invalidates(_ error: PGError) -> Bool {
        error.sqlState == "26000" || (error.sqlState == "0A000" && error.message.contains("cached plan"))
    }
}
