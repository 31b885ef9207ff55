import Foundation

/// The header values of `multipart/form-data` the gateway reads: the request's boundary and each
/// part's `Content-Disposition` (RFC 7578). Parameters may be tokens or quoted strings with
/// backslash escapes; `filename*` (RFC 8187, UTF-8 only) wins over `filename`.
enum MultipartHeaders {
    /// The boundary of a `multipart/form-data` content type; nil for any other type or a boundary
    /// that is empty or longer than 70 characters.
    static func boundary(contentType: String) -> String? {
        let (value, parameters) = parse(contentType)
        guard value.lowercased() == "multipart/form-data", let boundary = parameters["boundary"],
              (1...70).contains(boundary.utf8.count) else { return nil }
        return boundary
    }

    struct Disposition: Sendable, Equatable {
        var type: String
        var name: String?
        var fileName: String?
    }

    static func disposition(_ header: String) -> Disposition {
        let (value, parameters) = parse(header)
        let extended = parameters["filename*"].flatMap(decodeExtended)
        return Disposition(type: value.lowercased(), name: parameters["name"], fileName: extended ?? parameters["filename"])
    }

    /// `value; key=token; key="quoted \" string"` → the value and the parameters (keys lowercased;
    /// the first of a repeated key wins).
    static func parse(_ header: String) -> (value: String, parameters: [String: String]) {
        let scalars = Array(header.unicodeScalars)
        var index = 0
        func skipSpaces() { while index < scalars.count, scalars[index] == " " || scalars[index] == "\t" { index += 1 } }
        func readUntil(_ stops: Set<Unicode.Scalar>) -> String {
            var out = String.UnicodeScalarView()
            while index < scalars.count, !stops.contains(scalars[index]) { out.append(scalars[index]); index += 1 }
            return String(out).trimmingCharacters(in: .whitespaces)
        }
        let value = readUntil([";"])
        var parameters: [String: String] = [:]
        while index < scalars.count {
            index += 1  // the ";"
            skipSpaces()
            let key = readUntil(["=", ";"]).lowercased()
            var parameterValue = ""
            if index < scalars.count, scalars[index] == "=" {
                index += 1
                skipSpaces()
                if index < scalars.count, scalars[index] == "\"" {
                    index += 1
                    var out = String.UnicodeScalarView()
                    while index < scalars.count, scalars[index] != "\"" {
                        if scalars[index] == "\\", index + 1 < scalars.count { index += 1 }
                        out.append(scalars[index])
                        index += 1
                    }
                    index += 1  // the closing quote
                    parameterValue = String(out)
                    _ = readUntil([";"])  // anything after the quoted string is ignored
                } else {
                    parameterValue = readUntil([";"])
                }
            }
            if !key.isEmpty, parameters[key] == nil { parameters[key] = parameterValue }
        }
        return (value, parameters)
    }

    /// `UTF-8'lang'percent-encoded` → the text; nil for another charset or bad encoding.
    static func decodeExtended(_ value: String) -> String? {
        let parts = value.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].lowercased() == "utf-8" else { return nil }
        var bytes: [UInt8] = []
        var utf8 = Array(parts[2].utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%") {
                guard utf8.count >= 2, let decoded = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) else { return nil }
                bytes.append(decoded)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
