import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import ZIPFoundation

/// Reads the first worksheet of an Office Open XML workbook (.xlsx) as a table of text: shared
/// strings (plain and rich text), inline strings, numbers (as written, so a phone number stays
/// its digits: `13800000000`, not `1.38E10`), booleans and formulas' cached values. Cells are
/// placed by their reference (`C7`), so empty cells that a writer left out keep their column.
/// The workbook's relationships name the first sheet's part; `xl/worksheets/sheet1.xml` is the
/// fallback. Sizes are bounded: a zip bomb is refused, not inflated.
enum XLSXReader {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static let maximumPartBytes = 64 * 1024 * 1024
    static let maximumColumns = 200

    static func firstSheet(_ data: Data) throws -> [[String]] {
        let archive: Archive
        do { archive = try Archive(data: data, accessMode: .read) } catch { throw Failure(description: "not a zip archive") }
        let shared = try part("xl/sharedStrings.xml", in: archive).map(sharedStrings) ?? []
        let sheetPath = try firstSheetPath(archive) ?? "xl/worksheets/sheet1.xml"
        guard let sheet = try part(sheetPath, in: archive) else { throw Failure(description: "the workbook has no worksheet") }
        return try cells(sheet, shared: shared)
    }

    /// The bytes of one entry, or nil when the archive has none of that name.
    static func part(_ path: String, in archive: Archive) throws -> Data? {
        guard let entry = archive[path] else { return nil }
        guard entry.uncompressedSize <= UInt64(maximumPartBytes) else { throw Failure(description: "\(path) is too large") }
        var data = Data()
        do {
            _ = try archive.extract(entry, skipCRC32: false) { chunk in
                data.append(chunk)
                if data.count > maximumPartBytes { throw Failure(description: "\(path) is too large") }
            }
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(description: "\(path) cannot be read")
        }
        return data
    }

    /// `xl/workbook.xml`'s first `<sheet r:id>`, resolved through `xl/_rels/workbook.xml.rels`.
    static func firstSheetPath(_ archive: Archive) throws -> String? {
        guard let workbook = try part("xl/workbook.xml", in: archive),
              let rels = try part("xl/_rels/workbook.xml.rels", in: archive) else { return nil }
        let sheets = ElementCollector(names: ["sheet"])
        try sheets.parse(workbook)
        guard let first = sheets.elements.first,
              let relation = first.first(where: { $0.key.hasSuffix(":id") || $0.key == "id" })?.value else { return nil }
        let relations = ElementCollector(names: ["Relationship"])
        try relations.parse(rels)
        guard let target = relations.elements.first(where: { $0["Id"] == relation })?["Target"] else { return nil }
        if target.hasPrefix("/") { return String(target.dropFirst()) }
        return "xl/" + target
    }

    static func sharedStrings(_ data: Data) throws -> [String] {
        let reader = SharedStringsReader()
        try reader.parse(data)
        return reader.strings
    }

    static func cells(_ data: Data, shared: [String]) throws -> [[String]] {
        let reader = SheetReader(shared: shared)
        try reader.parse(data)
        if let failure = reader.failure { throw failure }
        return reader.rows
    }

    /// Zero-based column of a reference such as `AB12`; nil when it has no letters.
    static func column(ofReference reference: String) -> Int? {
        var column = 0
        var letters = 0
        for scalar in reference.unicodeScalars {
            guard ("A"..."Z").contains(scalar) else { break }
            column = column * 26 + Int(scalar.value - 64)
            letters += 1
            if letters > 3 { return nil }
        }
        return letters == 0 ? nil : column - 1
    }

    /// A number cell as text: integers without a decimal point or exponent, others as written.
    static func numberText(_ raw: String) -> String {
        let trimmed = raw.trimmingCharacters(in: .whitespaces)
        guard trimmed.contains("E") || trimmed.contains("e") || trimmed.hasSuffix(".0"),
              let value = Double(trimmed), value == value.rounded(), abs(value) < 1e17 else { return trimmed }
        return String(Int64(value))
    }
}

// MARK: - SAX readers (FoundationXML): each used by one parse, on one thread.

/// Each reader declares `XMLParserDelegate` itself: a conformance declared on this base class
/// would bind the protocol's default (empty) methods, never a subclass's.
private class XMLReader: NSObject {
    func parse(_ data: Data) throws {
        let parser = XMLParser(data: data)
        parser.shouldProcessNamespaces = false
        parser.shouldResolveExternalEntities = false
        parser.delegate = self as? any XMLParserDelegate
        if !parser.parse() {
            throw XLSXReader.Failure(description: "malformed XML (\(parser.parserError.map { "\($0)" } ?? "unknown error"))")
        }
    }

    /// The element's name without its namespace prefix.
    static func local(_ name: String) -> Substring {
        guard let colon = name.lastIndex(of: ":") else { return Substring(name) }
        return name[name.index(after: colon)...]
    }
}

/// The attributes of every element with one of `names`.
private final class ElementCollector: XMLReader, XMLParserDelegate {
    let names: Set<String>
    var elements: [[String: String]] = []

    init(names: Set<String>) { self.names = names }

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        if names.contains(String(Self.local(elementName))) { elements.append(attributes) }
    }
}

/// `<sst><si><t>…</t></si><si><r><t>…</t></r><r><t>…</t></r></si>…`; phonetic runs (`<rPh>`) are not text.
private final class SharedStringsReader: XMLReader, XMLParserDelegate {
    var strings: [String] = []
    private var current: String?
    private var inText = false
    private var phonetic = 0

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        switch Self.local(elementName) {
        case "si": current = ""
        case "rPh": phonetic += 1
        case "t": inText = phonetic == 0 && current != nil
        default: break
        }
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        switch Self.local(elementName) {
        case "si":
            strings.append(current ?? "")
            current = nil
        case "rPh": phonetic -= 1
        case "t": inText = false
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if inText { current? += string }
    }
}

/// `<sheetData><row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2" t="inlineStr"><is><t>…</t></is></c>…`
private final class SheetReader: XMLReader, XMLParserDelegate {
    let shared: [String]
    var rows: [[String]] = []
    var failure: XLSXReader.Failure?

    private var rowIndex = -1
    private var cellColumn = 0
    private var nextColumn = 0
    private var cellType = "n"
    private var value: String?
    private var text = ""
    private var capture = false

    init(shared: [String]) { self.shared = shared }

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        switch Self.local(elementName) {
        case "row":
            let number = attributes["r"].flatMap(Int.init).map { $0 - 1 } ?? (rowIndex + 1)
            rowIndex = max(number, rowIndex + 1)
            nextColumn = 0
        case "c":
            cellColumn = attributes["r"].flatMap(XLSXReader.column(ofReference:)) ?? nextColumn
            cellType = attributes["t"] ?? "n"
            value = nil
            text = ""
        case "v":
            text = ""
            capture = true
        case "t":
            capture = true
        default: break
        }
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        switch Self.local(elementName) {
        case "v":
            value = text
            capture = false
        case "t":
            capture = false
        case "c":
            store()
            nextColumn = cellColumn + 1
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if capture { text += string }
    }

    private func store() {
        guard rowIndex >= 0, cellColumn < XLSXReader.maximumColumns, rowIndex < 100_000 else {
            failure = XLSXReader.Failure(description: "the sheet is larger than an attendee list can be")
            return
        }
        let cell: String
        switch cellType {
        case "s":
            guard let index = value.flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }), shared.indices.contains(index) else {
                failure = XLSXReader.Failure(description: "a cell names a shared string the workbook does not have")
                return
            }
            cell = shared[index]
        case "inlineStr": cell = value ?? text
        case "b": cell = value == "1" ? "TRUE" : "FALSE"
        case "str", "e": cell = value ?? ""
        default: cell = value.map(XLSXReader.numberText) ?? ""
        }
        while rows.count <= rowIndex { rows.append([]) }
        while rows[rowIndex].count <= cellColumn { rows[rowIndex].append("") }
        rows[rowIndex][cellColumn] = cell
    }
}
