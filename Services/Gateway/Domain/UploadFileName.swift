import Foundation

/// The name an upload is kept and offered under: the client's name made harmless.
enum UploadFileName {
    static let maximumCharacters = 120

    /// The last path component of `raw` (either slash), without control, format (bidirectional
    /// overrides, zero-width) and separator characters, with `<>:"|?*` replaced by `_`, spaces
    /// collapsed, leading dots and surrounding spaces removed, at most 120 characters (the
    /// extension kept). The extension must fit `type`, else the usual one is appended
    /// (`cv.exe` holding a PDF becomes `cv.exe.pdf`). No usable name gives `upload.<ext>`.
    static func sanitize(_ raw: String?, type: SniffedType) -> String {
        let component = (raw ?? "").split(omittingEmptySubsequences: false) { $0 == "/" || $0 == "\\" }.last.map(String.init) ?? ""
        var cleaned = String.UnicodeScalarView()
        var lastWasSpace = false
        for scalar in component.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
                continue
            case .spaceSeparator:
                if !lastWasSpace { cleaned.append(" ") }
                lastWasSpace = true
                continue
            default:
                cleaned.append("<>:\"|?*".unicodeScalars.contains(scalar) ? "_" : scalar)
                lastWasSpace = false
            }
        }
        var name = String(cleaned).trimmingCharacters(in: .whitespaces)
        while name.hasPrefix(".") { name.removeFirst() }
        name = name.trimmingCharacters(in: .whitespaces)

        let (stem, ext) = split(name)
        var finalExtension = ext
        var finalStem = stem
        if ext == nil || !type.extensions.contains(ext!.lowercased()) {
            // Keep what the client had as part of the stem, and add an extension that fits.
            finalStem = name
            finalExtension = type.extensions[0]
        }
        if finalStem.trimmingCharacters(in: .whitespaces).isEmpty { finalStem = "upload" }
        let suffix = "." + finalExtension!
        let room = maximumCharacters - suffix.count
        if finalStem.count > room { finalStem = String(finalStem.prefix(room)).trimmingCharacters(in: .whitespaces) }
        return finalStem + suffix
    }

    /// The neutral name given in place of an identity document's own (which may contain a
    /// person's name): it is all that leaves the gateway in messages.
    static func neutral(for type: SniffedType) -> String { "identity-document." + type.extensions[0] }

    private static func split(_ name: String) -> (stem: String, ext: String?) {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return (name, nil) }
        let ext = String(name[name.index(after: dot)...])
        guard !ext.isEmpty, ext.count <= 10 else { return (name, nil) }
        return (String(name[..<dot]), ext)
    }
}

/// `Content-Disposition: attachment` for a download: an ASCII `filename` for old clients and the
/// exact name as `filename*=UTF-8''…` (RFC 6266, RFC 8187).
enum DownloadDisposition {
    static func attachment(fileName: String) -> String {
        let fallback = String(String.UnicodeScalarView(fileName.unicodeScalars.map { scalar in
            scalar.isASCII && scalar.value >= 0x20 && scalar.value != 0x7F && scalar != "\"" && scalar != "\\" ? scalar : "_"
        }))
        return "attachment; filename=\"\(fallback)\"; filename*=UTF-8''\(percentEncoded(fileName))"
    }

    /// RFC 8187 `attr-char` kept, every other byte of the UTF-8 as `%XX`.
    static func percentEncoded(_ text: String) -> String {
        let attrChars = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$&+-.^_`|~".utf8)
        var out = ""
        for byte in text.utf8 {
            if attrChars.contains(byte) { out.unicodeScalars.append(Unicode.Scalar(byte)) }
            else { out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2) }
        }
        return out
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
