/// Keeps secrets out of logs.
enum LogRedaction {
    /// The URL without user info (`user:password@`) and without query or fragment, which often
    /// carry tokens: `https://user:pw@host/path?token=x` → `https://host/path`.
    static func url(_ url: String) -> String {
        var rest = Substring(url)
        var scheme = ""
        if let range = rest.firstRange(of: "://") {
            scheme = String(rest[..<range.upperBound])
            rest = rest[range.upperBound...]
        }
        if let end = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) {
            rest = rest[..<end]
        }
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        if let at = rest[..<authorityEnd].lastIndex(of: "@") {
            rest = rest[rest.index(after: at)...]
        }
        return scheme + rest
    }
}
