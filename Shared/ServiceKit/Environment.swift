import Contracts

/// Reads configuration from environment variables and collects every problem, so a
/// misconfigured service says all that is wrong at once, then exits.
public struct EnvironmentReader {
    public let values: [String: String]
    public private(set) var problems: [String] = []

    public init(_ values: [String: String] = ProcessInfo.processInfo.environment) {
        self.values = values
    }

    public mutating func required(_ key: String) -> String {
        guard let value = values[key], !value.isEmpty else {
            problems.append("\(key) is required but not set")
            return ""
        }
        return value
    }

    public func string(_ key: String, default fallback: String) -> String {
        guard let value = values[key], !value.isEmpty else { return fallback }
        return value
    }

    public mutating func int(_ key: String, default fallback: Int, in range: ClosedRange<Int>) -> Int {
        guard let raw = values[key], !raw.isEmpty else { return fallback }
        guard let value = Int(raw), range.contains(value) else {
            problems.append("\(key) must be an integer in \(range.lowerBound)...\(range.upperBound), got \"\(raw)\"")
            return fallback
        }
        return value
    }

    public mutating func duration(_ key: String, default fallback: Duration) -> Duration {
        guard let raw = values[key], !raw.isEmpty else { return fallback }
        guard let value = Self.parseDuration(raw) else {
            problems.append("\(key) must be a duration like 500ms, 10s or 2m, got \"\(raw)\"")
            return fallback
        }
        return value
    }

    public mutating func durations(_ key: String, default fallback: [Duration]) -> [Duration] {
        guard let raw = values[key], !raw.isEmpty else { return fallback }
        let parts = raw.split(separator: ",").map { Self.parseDuration(String($0).trimmed) }
        guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else {
            problems.append("\(key) must be a comma-separated list of durations like 1s,10s,60s, got \"\(raw)\"")
            return fallback
        }
        return parts.compactMap { $0 }
    }

    public mutating func oneOf(_ key: String, _ allowed: [String], default fallback: String) -> String {
        let value = string(key, default: fallback)
        guard allowed.contains(value) else {
            problems.append("\(key) must be one of \(allowed.joined(separator: ", ")), got \"\(value)\"")
            return fallback
        }
        return value
    }

    public mutating func check(_ condition: Bool, _ problem: @autoclosure () -> String) {
        if !condition { problems.append(problem()) }
    }

    /// Throws one error listing every problem found.
    public func validate() throws {
        guard problems.isEmpty else {
            throw ConveneError(code: "config.invalid", message: "invalid configuration:\n  - " + problems.joined(separator: "\n  - "))
        }
    }

    static func parseDuration(_ text: String) -> Duration? {
        let units: [(String, (Int) -> Duration)] = [("ms", { .milliseconds($0) }), ("s", { .seconds($0) }), ("m", { .seconds($0 * 60) }),
                                                     ("h", { .seconds($0 * 3600) }), ("d", { .seconds($0 * 86_400) })]
        for (suffix, make) in units where text.hasSuffix(suffix) {
            guard let number = Int(text.dropLast(suffix.count)), number >= 0 else { return nil }
            return make(number)
        }
        return nil
    }
}

extension String {
    var trimmed: String {
        var view = Substring(self)
        while view.first?.isWhitespace == true { view.removeFirst() }
        while view.last?.isWhitespace == true { view.removeLast() }
        return String(view)
    }
}
