import CLibPQ
import Contracts
import ThreadExecutor
#if canImport(Glibc)
import Glibc
#endif

/// One libpq connection, confined to a dedicated thread: every method of this actor runs on
/// that thread, so libpq's blocking calls never occupy Swift's cooperative pool.
public actor PGConnection {
    nonisolated let executor: ThreadExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
    private var handle: OpaquePointer?
    /// Statements prepared on this connection, by their text: PostgreSQL parses and plans a
    /// prepared statement once, where an unnamed one is parsed and planned on every call (which
    /// `perf` showed as the largest part of the backends' time under load).
    private var statements = PreparedStatements()

    private init(name: String) {
        executor = ThreadExecutor(name: name)
    }

    /// Opens a connection; `schema`, when given, becomes the search path so unqualified names
    /// mean the service's own tables.
    public static func connect(_ url: String, schema: String? = nil, applicationName: String = "convene") async throws -> PGConnection {
        let connection = PGConnection(name: "pg-\(applicationName)")
        do {
            try await connection.open(url, schema: schema, applicationName: applicationName)
        } catch {
            await connection.close()
            throw error
        }
        return connection
    }

    private func open(_ url: String, schema: String?, applicationName: String) throws {
        let keys = ["dbname", "application_name", "connect_timeout"]
        let values = [url, applicationName, "5"]
        handle = withArrayOfCStrings(keys) { keyPointers in
            withArrayOfCStrings(values) { valuePointers in
                PQconnectdbParams(keyPointers, valuePointers, 1)
            }
        }
        guard let handle, PQstatus(handle) == CONNECTION_OK else {
            let message = handle.map { String(cString: PQerrorMessage($0)) } ?? "out of memory"
            throw PGError(sqlState: "08001", message: Self.redact(message.trimmingWhitespace))
        }
        _ = try query("SET TIME ZONE 'UTC'")
        if let schema {
            _ = try query("SELECT set_config('search_path', $1, false)", [.text(PGIdentifier.quote(schema))])
        }
    }

    /// False once the server or network dropped the connection.
    public var isHealthy: Bool {
        guard let handle else { return false }
        return PQstatus(handle) == CONNECTION_OK
    }

    /// Runs one statement with parameters ($1, $2, …). Text parameters are sent as text,
    /// `.bytes` as binary; results come back as text.
    @discardableResult
    public func query(_ sql: String, _ parameters: [PGValue] = []) throws -> PGResult {
        guard let handle else { throw PGError(sqlState: "08003", message: "connection is closed") }
        var buffers: [[CChar]?] = []
        buffers.reserveCapacity(parameters.count)
        var lengths: [Int32] = []
        var formats: [Int32] = []
        for parameter in parameters {
            switch parameter {
            case .null:
                buffers.append(nil); lengths.append(0); formats.append(0)
            case .text(let text):
                buffers.append(Array(text.utf8CString)); lengths.append(0); formats.append(0)
            case .bytes(let bytes):
                buffers.append(bytes.map { CChar(bitPattern: $0) } + [0]); lengths.append(Int32(bytes.count)); formats.append(1)
            }
        }
        let name = try preparedName(for: sql, parameterCount: parameters.count, handle: handle)
        let result: OpaquePointer? = withPointers(to: buffers) { pointers in
            if let name {
                PQexecPrepared(handle, name, Int32(parameters.count), pointers, lengths, formats, 0)
            } else {
                PQexecParams(handle, sql, Int32(parameters.count), nil, pointers, lengths, formats, 0)
            }
        }
        do {
            return try Self.consume(result, connection: handle)
        } catch let error as PGError where name != nil && PreparedStatements.invalidates(error) {
            // A table changed under the statement (or the session was reset): prepare it afresh next time.
            statements.forget(sql)
            throw error
        }
    }

    /// The name `sql` is prepared under, preparing it now if it was seen before; nil to run it
    /// unnamed (the first time, or when the cache is full of other statements).
    private func preparedName(for sql: String, parameterCount: Int, handle: OpaquePointer) throws -> String? {
        switch statements.lookup(sql) {
        case .prepared(let name):
            return name
        case .runUnnamed:
            return nil
        case .prepare(let name):
            let result = PQprepare(handle, name, sql, Int32(parameterCount), nil)
            _ = try Self.consume(result, connection: handle)
            statements.remember(sql, as: name)
            return name
        }
    }

    /// Runs a script of several statements without parameters (migrations).
    public func execute(script: String) throws {
        guard let handle else { throw PGError(sqlState: "08003", message: "connection is closed") }
        _ = try Self.consume(PQexec(handle, script), connection: handle)
    }

    /// Blocks this connection's thread until a NOTIFY arrives on a channel it LISTENs to, or the
    /// timeout passes. Returns the channels notified.
    public func waitForNotifications(timeoutMilliseconds: Int32) throws -> [String] {
        guard let handle else { throw PGError(sqlState: "08003", message: "connection is closed") }
        var channels = drainNotifications(handle)
        if !channels.isEmpty { return channels }
        var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
        if poll(&descriptor, 1, timeoutMilliseconds) > 0 {
            guard PQconsumeInput(handle) == 1 else {
                throw PGError(sqlState: "08006", message: String(cString: PQerrorMessage(handle)).trimmingWhitespace)
            }
            channels = drainNotifications(handle)
        }
        return channels
    }

    private func drainNotifications(_ handle: OpaquePointer) -> [String] {
        var channels: [String] = []
        while let notification = PQnotifies(handle) {
            channels.append(String(cString: notification.pointee.relname))
            PQfreemem(notification)
        }
        return channels
    }

    public func close() {
        if let handle { PQfinish(handle) }
        handle = nil
        executor.shutdown()
    }

    private static func consume(_ result: OpaquePointer?, connection: OpaquePointer) throws -> PGResult {
        guard let result else {
            throw PGError(sqlState: "08006", message: String(cString: PQerrorMessage(connection)).trimmingWhitespace)
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return PGResult(result)
        default:
            func field(_ code: Character) -> String? {
                guard let value = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
                return String(cString: value)
            }
            let message = field("M") ?? String(cString: PQresultErrorMessage(result)).trimmingWhitespace
            throw PGError(sqlState: field("C") ?? "XX000", message: message, detail: field("D"),
                          constraint: field("n"), table: field("t"))
        }
    }

    /// libpq's messages may quote the connection string; never let a password reach a log.
    static func redact(_ message: String) -> String {
        guard let range = message.firstRange(of: "password=") else { return message }
        return String(message[..<range.upperBound]) + "***"
    }
}

/// A statement parameter.
public enum PGValue: Sendable, Equatable {
    case null
    case text(String)
    case bytes([UInt8])
}

/// Values that can be a parameter.
public protocol PGEncodable: Sendable {
    var pgValue: PGValue { get }
}

extension PGValue: PGEncodable { public var pgValue: PGValue { self } }
extension String: PGEncodable { public var pgValue: PGValue { .text(self) } }
extension Int: PGEncodable { public var pgValue: PGValue { .text(String(self)) } }
extension Int64: PGEncodable { public var pgValue: PGValue { .text(String(self)) } }
extension Int32: PGEncodable { public var pgValue: PGValue { .text(String(self)) } }
extension Bool: PGEncodable { public var pgValue: PGValue { .text(self ? "true" : "false") } }
extension UUID: PGEncodable { public var pgValue: PGValue { .text(uuidString.lowercased()) } }
extension Date: PGEncodable { public var pgValue: PGValue { .text(ISO8601.format(self)) } }
extension Array: PGEncodable where Element == UInt8 { public var pgValue: PGValue { .bytes(self) } }
extension Optional: PGEncodable where Wrapped: PGEncodable { public var pgValue: PGValue { self?.pgValue ?? .null } }

/// A PostgreSQL array literal of integers, for `= ANY($1::bigint[])`.
public struct PGIntArray: PGEncodable {
    public var values: [Int64]
    public init(_ values: [Int64]) { self.values = values }
    public var pgValue: PGValue { .text("{" + values.map(String.init).joined(separator: ",") + "}") }
}

/// A PostgreSQL array literal of texts (nil elements are NULL), for `= ANY($1::text[])` or
/// `unnest($1::text[])`; cast it for other element types (`$1::uuid[]`).
public struct PGTextArray: PGEncodable {
    public var values: [String?]
    public init(_ values: [String?]) { self.values = values }
    public var pgValue: PGValue {
        // Built byte by byte: this runs for every body of a batched outbox insert.
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        bytes.reserveCapacity(values.reduce(2) { $0 + ($1?.utf8.count ?? 4) + 3 })
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            guard let value else {
                bytes.append(contentsOf: "NULL".utf8)
                continue
            }
            bytes.append(UInt8(ascii: "\""))
            for byte in value.utf8 {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { bytes.append(UInt8(ascii: "\\")) }
                bytes.append(byte)
            }
            bytes.append(UInt8(ascii: "\""))
        }
        bytes.append(UInt8(ascii: "}"))
        return .text(String(decoding: bytes, as: UTF8.self))
    }
}

public enum PGIdentifier {
    /// Quotes an identifier (schema, table) for the rare places where it cannot be a parameter.
    public static func quote(_ name: String) -> String {
        "\"" + name.replacing("\"", with: "\"\"") + "\""
    }
}

private func withArrayOfCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    var storage = strings.map { strdup($0) }
    storage.append(nil)
    defer { storage.forEach { free($0) } }
    return storage.withUnsafeBufferPointer { buffer in
        buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) { body($0) }
    }
}

private func withPointers<R>(to buffers: [[CChar]?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    // Copies keep the bytes alive and at fixed addresses for the duration of the call.
    let copies: [UnsafeMutablePointer<CChar>?] = buffers.map { buffer in
        guard let buffer else { return nil }
        let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: max(buffer.count, 1))
        pointer.initialize(from: buffer, count: buffer.count)
        return pointer
    }
    defer { copies.forEach { $0?.deallocate() } }
    let constant = copies.map { UnsafePointer($0) }
    return constant.withUnsafeBufferPointer { body($0.baseAddress) }
}

extension String {
    var trimmingWhitespace: String {
        var view = Substring(self)
        while let first = view.first, first.isWhitespace { view.removeFirst() }
        while let last = view.last, last.isWhitespace { view.removeLast() }
        return String(view)
    }
}
