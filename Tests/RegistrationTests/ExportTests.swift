import Foundation
@testable import Registration
import Testing
import ZIPFoundation

@Suite("CSV and XLSX exports")
struct ExportTests {
    @Test("CSV cells are quoted when needed, formulas are defused, and Excel gets a byte-order mark")
    func csv() {
        var writer = CSVWriter()
        writer.row(["姓名", "a,b", "say \"hi\"", "=HYPERLINK(\"x\")", "-1", "line\nbreak"])
        #expect(writer.text == "\u{FEFF}姓名,\"a,b\",\"say \"\"hi\"\"\",\"'=HYPERLINK(\"\"x\"\")\",'-1,\"line\nbreak\"\r\n")
    }

    @Test("an XLSX workbook is a zip with the parts a spreadsheet needs, cells escaped and placed by column letter")
    func xlsx() throws {
        var header = (0..<28).map { "c\($0)" }
        header[0] = "单位 <A&B>"
        let data = try XLSXWriter.workbook(sheetName: "Registrations", rows: [header, ["北京大学", "x\u{01}y"]])
        let archive = try Archive(data: data, accessMode: .read)
        let names = Set(archive.map(\.path))
        #expect(names == ["[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/worksheets/sheet1.xml"])
        var sheet = Data()
        _ = try archive.extract(try #require(archive["xl/worksheets/sheet1.xml"])) { sheet.append($0) }
        let xml = String(decoding: sheet, as: UTF8.self)
        #expect(xml.contains("<c r=\"A1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">单位 &lt;A&amp;B&gt;</t></is></c>"))
        #expect(xml.contains("<c r=\"AB1\""), "the 28th column is AB")
        #expect(xml.contains(">北京大学<") && xml.contains(">xy<"), "control characters XML cannot carry are dropped")
        #expect(XLSXWriter.column(25) == "Z" && XLSXWriter.column(26) == "AA" && XLSXWriter.column(701) == "ZZ")
    }
}
