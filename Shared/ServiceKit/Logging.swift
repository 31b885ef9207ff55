import Contracts
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// One JSON object per line on stdout: what log collectors ingest without parsing rules.
/// Metadata (correlation and message ids among them) becomes top-level fields.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String

    public init(label: String, level: Logger.Level) {
        self.label = label
        logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String: String] = ["ts": ISO8601.format(Date()), "level": event.level.rawValue,
                                        "logger": label, "msg": event.message.description]
        for (key, value) in metadata { fields[key] = "\(value)" }
        for (key, value) in event.metadata ?? [:] { fields[key] = "\(value)" }
        if let error = event.error { fields["error"] = "\(error)" }
        var text = "{"
        for (index, key) in fields.keys.sorted(by: Self.fieldOrder).enumerated() {
            if index > 0 { text += "," }
            text += Self.quote(key) + ":" + Self.quote(fields[key]!)
        }
        text += "}\n"
        StandardOutput.write(text)
    }

    private static let leading = ["ts", "level", "logger", "msg"]
    private static func fieldOrder(_ a: String, _ b: String) -> Bool {
        let ia = leading.firstIndex(of: a) ?? leading.count, ib = leading.firstIndex(of: b) ?? leading.count
        return ia != ib ? ia < ib : a < b
    }

    /// A JSON string literal for `text`.
    public static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let c where c.value < 0x20:
                let hex = String(c.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

enum StandardOutput {
    /// One `write` per line keeps lines whole when several threads log at once.
    static func write(_ text: String) {
        var text = text
        text.withUTF8 { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(1, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }
}

public enum LoggingSetup {
    /// Installs the process-wide log handler once, before anything logs.
    public static func bootstrap(service: String, level: Logger.Level, format: String) {
        LoggingSystem.bootstrap { label in
            if format == "text" {
                var handler = StreamLogHandler.standardOutput(label: label)
                handler.logLevel = level
                return handler
            }
            var handler = JSONLogHandler(label: label, level: level)
            handler[metadataKey: "service"] = "\(service)"
            return handler
        }
    }
}
