import Hummingbird

/// Checked query parameters; a bad value is a 422 `gateway.invalid_query` naming the parameter.
struct QueryParameters {
    /// The first value of each parameter, percent-decoded.
    let values: [String: String]

    init(_ request: Request) {
        values = Dictionary(request.uri.queryParameters.map { (String($0.key), String($0.value)) }) { first, _ in first }
    }

    func string(_ name: String, maxLength: Int = 256) throws(Problem) -> String? {
        guard let value = values[name], !value.isEmpty else { return nil }
        guard value.count <= maxLength else { throw Problem.invalidQuery("\(name) is longer than \(maxLength) characters") }
        return String(value)
    }

    func int(_ name: String, default fallback: Int, in range: ClosedRange<Int>) throws(Problem) -> Int {
        guard let raw = values[name], !raw.isEmpty else { return fallback }
        guard let value = Int(raw), range.contains(value) else {
            throw Problem.invalidQuery("\(name) must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    func bool(_ name: String) throws(Problem) -> Bool? {
        guard let raw = values[name], !raw.isEmpty else { return nil }
        switch raw {
        case "true": return true
        case "false": return false
        default: throw Problem.invalidQuery("\(name) must be true or false")
        }
    }
}
