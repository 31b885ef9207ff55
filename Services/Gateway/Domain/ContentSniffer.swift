/// The kinds of file the gateway accepts as uploads, recognised by their bytes alone: the type a
/// client declares and the extension of its file name are never believed.
enum SniffedType: String, Sendable, CaseIterable, Codable {
    case pdf = "application/pdf"
    case png = "image/png"
    case jpeg = "image/jpeg"
    case gif = "image/gif"
    case webp = "image/webp"
    case docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    case xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    case pptx = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    case text = "text/plain"

    var mediaType: String { rawValue }

    /// The `Content-Type` of a download (text is always UTF-8 here).
    var contentTypeHeader: String { self == .text ? "text/plain; charset=utf-8" : rawValue }

    /// File name extensions that fit the type, the usual one first.
    var extensions: [String] {
        switch self {
        case .pdf: ["pdf"]
        case .png: ["png"]
        case .jpeg: ["jpg", "jpeg"]
        case .gif: ["gif"]
        case .webp: ["webp"]
        case .docx: ["docx"]
        case .xlsx: ["xlsx"]
        case .pptx: ["pptx"]
        case .text: ["txt", "csv", "tsv", "md", "text", "log"]
        }
    }
}

/// Tells what a file is from its first bytes (magic numbers), and for zip archives from the
/// names inside: an Office Open XML document has `[Content_Types].xml` and its application's
/// folder (`word/`, `xl/`, `ppt/`). Macro-enabled documents (a `vbaProject.bin` inside) are not
/// recognised. Text is recognised only when it is valid UTF-8 without NUL or other control
/// characters than tab, line feed, form feed and carriage return. Anything else is nil: refused.
enum ContentSniffer {
    static func sniff(_ bytes: [UInt8]) -> SniffedType? {
        guard !bytes.isEmpty else { return nil }
        if bytes.starts(with: Array("%PDF-".utf8)) { return .pdf }
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if bytes.starts(with: Array("GIF87a".utf8)) || bytes.starts(with: Array("GIF89a".utf8)) { return .gif }
        if bytes.count >= 12, bytes.starts(with: Array("RIFF".utf8)), Array(bytes[8..<12]) == Array("WEBP".utf8) { return .webp }
        if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return officeDocument(bytes) }
        return isText(bytes) ? .text : nil
    }

    /// DOCX, XLSX or PPTX by the entries of the zip archive's central directory.
    static func officeDocument(_ bytes: [UInt8]) -> SniffedType? {
        guard let names = ZipDirectory.entryNames(bytes), names.contains("[Content_Types].xml") else { return nil }
        if names.contains(where: { $0.hasSuffix("vbaProject.bin") }) { return nil }
        let folders: [(String, SniffedType)] = [("word/", .docx), ("xl/", .xlsx), ("ppt/", .pptx)]
        let found = folders.filter { folder, _ in names.contains { $0.hasPrefix(folder) } }
        // One application's folder, not several (a crafted archive is not two kinds at once).
        return found.count == 1 ? found[0].1 : nil
    }

    static func isText(_ bytes: [UInt8]) -> Bool {
        let allowedControls: Set<UInt8> = [0x09, 0x0A, 0x0C, 0x0D]
        guard !bytes.contains(where: { ($0 < 0x20 && !allowedControls.contains($0)) || $0 == 0x7F }) else { return false }
        return String(validating: bytes, as: UTF8.self) != nil
    }
}

/// Reads the names in a zip archive's central directory (without decompressing anything).
/// Bounds are checked at every step; a damaged or ZIP64 archive yields nil.
enum ZipDirectory {
    static let maximumEntries = 10_000

    static func entryNames(_ bytes: [UInt8]) -> [String]? {
        // The end-of-central-directory record: 22 bytes plus a comment of at most 65,535.
        guard bytes.count >= 22 else { return nil }
        let lowest = max(0, bytes.count - 22 - 65_535)
        var end: Int?
        var position = bytes.count - 22
        while position >= lowest {
            if uint32(bytes, position) == 0x0605_4B50 { end = position; break }
            position -= 1
        }
        guard let end, let count = uint16(bytes, end + 10), let size = uint32(bytes, end + 12),
              let offset = uint32(bytes, end + 16), count <= maximumEntries,
              offset != 0xFFFF_FFFF, Int(offset) + Int(size) <= end
        else { return nil }
        var names: [String] = []
        var cursor = Int(offset)
        for _ in 0..<count {
            guard uint32(bytes, cursor) == 0x0201_4B50, let nameLength = uint16(bytes, cursor + 28),
                  let extraLength = uint16(bytes, cursor + 30), let commentLength = uint16(bytes, cursor + 32)
            else { return nil }
            let nameStart = cursor + 46
            guard nameStart + Int(nameLength) <= end else { return nil }
            names.append(String(decoding: bytes[nameStart..<(nameStart + Int(nameLength))], as: UTF8.self))
            cursor = nameStart + Int(nameLength) + Int(extraLength) + Int(commentLength)
        }
        return names
    }

    private static func uint16(_ bytes: [UInt8], _ at: Int) -> UInt16? {
        guard at >= 0, at + 2 <= bytes.count else { return nil }
        return UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8
    }

    private static func uint32(_ bytes: [UInt8], _ at: Int) -> UInt32? {
        guard at >= 0, at + 4 <= bytes.count else { return nil }
        return UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
    }
}
