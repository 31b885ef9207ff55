import Contracts
import Foundation
@testable import Registration
import Testing
import ZIPFoundation

@Suite("Attendee import: CSV and XLSX parsing and row checks")
struct AttendeeImportTests {
    @Test("a CSV with a byte-order mark, CRLF, quoted commas, doubled quotes, a line break in quotes and Chinese parses cell by cell")
    func csvParsing() throws {
        let text = "\u{FEFF}姓名,邮箱,备注\r\n\"张三, 产品\",zhangsan@example.com,\"说 \"\"你好\"\"\"\r\n李四,lisi@example.com,\"两\n行\"\r\n王五,,\n"
        let rows = try #require(CSVReader.parse(Array(text.utf8)))
        #expect(rows == [["姓名", "邮箱", "备注"], ["张三, 产品", "zhangsan@example.com", "说 \"你好\""],
                         ["李四", "lisi@example.com", "两\n行"], ["王五", "", ""]])
        #expect(CSVReader.parse(Array("a,b".utf8)) == [["a", "b"]], "no line end after the last row")
        // 姓名,邮箱 / 张三,a@example.com in GBK, as Excel on a Chinese Windows saves CSV.
        let gbk: [UInt8] = [0xD0, 0xD5, 0xC3, 0xFB, 0x2C, 0xD3, 0xCA, 0xCF, 0xE4, 0x0D, 0x0A, 0xD5, 0xC5, 0xC8, 0xFD, 0x2C]
            + Array("a@example.com\r\n".utf8)
        #expect(CSVReader.parse(gbk) == [["姓名", "邮箱"], ["张三", "a@example.com"]])
        #expect(CSVReader.parse([0x61, 0xFF, 0x62]) == nil, "neither UTF-8 nor GB 18030")
        #expect(CSVReader.parse(Array("a\rb\r".utf8)) == [["a"], ["b"]], "old Mac line ends")
    }

    @Test("roles are read from English and Chinese labels; an empty role is required and anything else is unknown")
    func roles() {
        #expect(AttendeeRules.role("必选") == "required" && AttendeeRules.role(" 必须参加 ") == "required")
        #expect(AttendeeRules.role("Required") == "required" && AttendeeRules.role("") == "required" && AttendeeRules.role(nil) == "required")
        #expect(AttendeeRules.role("可选") == "optional" && AttendeeRules.role("OPTIONAL") == "optional")
        #expect(AttendeeRules.role("列席") == "observer" && AttendeeRules.role("旁听") == "observer" && AttendeeRules.role("observer") == "observer")
        #expect(AttendeeRules.role("主持人") == nil && AttendeeRules.role("vip") == nil)
    }

    @Test("Chinese headers, in any order and with notes in brackets, name the columns; a header without name and email is refused")
    func headers() throws {
        let rows = try AttendeeImport.rows([["", ""], ["邮箱", "姓名（必填）", "角色 (必选/可选/列席)", "部门", "手机", "钉钉用户ID"],
                                            ["a@example.com", "甲", "列席", "研发部", "13800000000", "ding-1"], ["", "", ""]])
        #expect(rows == [AttendeeImport.Row(number: 3, input: AttendeeInput(name: "甲", email: "a@example.com", phone: "13800000000",
                                                                             department: "研发部", role: "列席", dingtalkUserId: "ding-1"))],
                "row numbers count the file's rows (header on row 2 here); empty rows are skipped")
        #expect(throws: AttendeeImport.Problem.self) { try AttendeeImport.rows([["name", "phone"], ["a", "1"]]) }
        #expect(throws: AttendeeImport.Problem.self) { try AttendeeImport.rows([]) }
    }

    static func row(_ number: Int, _ name: String, _ email: String, role: String? = nil) -> AttendeeImport.Row {
        AttendeeImport.Row(number: number, input: AttendeeInput(name: name, email: email, role: role))
    }

    @Test("each row is added, updated (its address already invited) or rejected with its reason; one rejection applies nothing")
    func planRows() {
        let rows = [Self.row(2, "甲", "A@Example.com", role: "必选"), Self.row(3, "乙", "b@example.com", role: "可选"),
                    Self.row(4, "丙", "not-an-address"), Self.row(5, "丁", "d@example.com", role: "主持人"),
                    Self.row(6, "甲二", "a@example.com"), Self.row(7, " ", "e@example.com"), Self.row(8, "戊", "")]
        let (report, apply) = AttendeeImport.plan(rows, existing: ["b@example.com"], dryRun: false)
        #expect(report.rows.map(\.outcome) == ["added", "updated", "rejected", "rejected", "rejected", "rejected", "rejected"])
        #expect(report.rows.compactMap(\.reason) == ["invalid_email", "unknown_role", "duplicate_row", "missing_name", "missing_email"])
        #expect(report.rows[0].email == "a@example.com", "addresses are the key, lower-cased")
        #expect(report.rows[4].message == "the same address as row 2")
        #expect((report.added, report.updated, report.rejected, report.applied) == (1, 1, 5, false))
        #expect(apply.isEmpty, "nothing half-imported")

        let (good, clean) = AttendeeImport.plan(Array(rows.prefix(2)), existing: ["b@example.com"], dryRun: true)
        #expect(good.rejected == 0 && good.dryRun && !good.applied)
        #expect(clean.map(\.email) == ["a@example.com", "b@example.com"] && clean.map(\.role) == ["required", "optional"])
    }

    @Test("the XLSX template written by XLSXWriter reads back as its header and examples, and imports its two example rows")
    func templateRoundTrip() throws {
        let file = try AttendeeImport.template(format: "xlsx")
        let bytes = try #require(Data(base64Encoded: file.body))
        let table = try XLSXReader.firstSheet(bytes)
        #expect(table == [AttendeeImport.columns] + AttendeeImport.exampleRows.map { row in
            // The writer leaves empty cells out; the reader gives the row up to its last cell.
            Array(row.prefix(through: row.lastIndex { !$0.isEmpty } ?? 0))
        })
        let rows = try AttendeeImport.rows(try AttendeeImport.table(format: "xlsx", bytes: Array(bytes)))
        let (report, apply) = AttendeeImport.plan(rows, existing: [], dryRun: false)
        #expect(report.added == 2 && report.rejected == 0)
        #expect(apply.map(\.role) == ["required", "optional"] && apply[0].dingtalkUserId == "manager1234" && apply[1].dingtalkUserId == nil)

        let csv = try AttendeeImport.template(format: "csv")
        let csvRows = try AttendeeImport.rows(try AttendeeImport.table(format: "csv", bytes: Array(try #require(Data(base64Encoded: csv.body)))))
        #expect(csvRows.map(\.input.email) == ["zhangsan@example.com", "jane.doe@example.com"])
        #expect(csvRows[1].input.phone == "+86 139 0000 0000", "CSVWriter's formula guard is taken off again")
    }

    /// A workbook as spreadsheet programs write it: shared strings (one of them rich text, one
    /// with a phonetic run), numbers, a boolean, a formula's cached value, a skipped cell, the sheet
    /// named through the workbook's relationships.
    static func spreadsheetWorkbook() throws -> Data {
        let archive = try Archive(data: Data(), accessMode: .create)
        let ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
        let files: [(String, String)] = [
            ("[Content_Types].xml", "<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"/>"),
            ("xl/workbook.xml", """
                <?xml version="1.0" encoding="UTF-8"?><workbook xmlns="\(ns)" \
                xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>\
                <sheet name="名单" sheetId="1" r:id="rId7"/></sheets></workbook>
                """),
            ("xl/_rels/workbook.xml.rels", """
                <?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
                <Relationship Id="rId1" Type="…/styles" Target="styles.xml"/>\
                <Relationship Id="rId7" Type="…/worksheet" Target="worksheets/list.xml"/></Relationships>
                """),
            ("xl/sharedStrings.xml", """
                <?xml version="1.0" encoding="UTF-8"?><sst xmlns="\(ns)" count="8" uniqueCount="8">\
                <si><t>姓名</t></si><si><t>邮箱</t></si><si><t>手机</t></si><si><t>角色</t></si>\
                <si><r><rPr><b/></rPr><t>张</t></r><r><t xml:space="preserve">三 </t></r><rPh sb="0" eb="1"><t>ちょう</t></rPh></si>\
                <si><t>zhangsan@example.com</t></si><si><t>必选</t></si><si><t>R&amp;D &lt;组&gt;</t></si></sst>
                """),
            ("xl/worksheets/list.xml", """
                <?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="\(ns)"><sheetData>\
                <row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c>\
                <c r="D1" t="s"><v>3</v></c><c r="E1" t="inlineStr"><is><t>部门</t></is></c></row>\
                <row r="2"><c r="A2" t="s"><v>4</v></c><c r="B2" t="s"><v>5</v></c><c r="C2"><v>13800000000</v></c>\
                <c r="D2" t="s"><v>6</v></c><c r="E2" t="s"><v>7</v></c></row>\
                <row r="4"><c r="A4" t="str"><f>CONCAT("李","四")</f><v>李四</v></c><c r="B4" t="inlineStr"><is><t>lisi@example.com</t></is></c>\
                <c r="C4"><v>1.3900000000E10</v></c><c r="E4" t="b"><v>1</v></c></row>\
                </sheetData></worksheet>
                """),
        ]
        for (path, text) in files {
            let bytes = Data(text.utf8)
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(bytes.count), compressionMethod: .deflate) {
                position, size in bytes.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        return try #require(archive.data)
    }

    @Test("an XLSX with shared and rich-text strings, numbers as phone digits, a formula and a gap reads cell by cell in place")
    func spreadsheetCells() throws {
        let table = try XLSXReader.firstSheet(try Self.spreadsheetWorkbook())
        #expect(table == [["姓名", "邮箱", "手机", "角色", "部门"],
                          ["张三 ", "zhangsan@example.com", "13800000000", "必选", "R&D <组>"],
                          [],
                          ["李四", "lisi@example.com", "13900000000", "", "TRUE"]])
        let rows = try AttendeeImport.rows(table)
        #expect(rows.map(\.number) == [2, 4])
        let (report, apply) = AttendeeImport.plan(rows, existing: [], dryRun: false)
        #expect(report.rejected == 0)
        #expect(apply.map(\.name) == ["张三", "李四"] && apply.map(\.phone) == ["13800000000", "13900000000"])
        #expect(apply.map(\.role) == ["required", "required"], "an empty role is required")
    }

    @Test("a file that is no workbook, or names a shared string it lacks, is refused as an invalid file")
    func brokenWorkbooks() throws {
        #expect(throws: AttendeeImport.Problem.self) { try AttendeeImport.table(format: "xlsx", bytes: Array("name,email".utf8)) }
        #expect(throws: AttendeeImport.Problem.self) { try AttendeeImport.table(format: "pdf", bytes: [1]) }
        let workbook = try XLSXWriter.workbook(sheetName: "x", rows: [["a"]])
        let archive = try Archive(data: workbook, accessMode: .update)
        let bad = Data("<worksheet><sheetData><row r=\"1\"><c r=\"A1\" t=\"s\"><v>3</v></c></row></sheetData></worksheet>".utf8)
        if let entry = archive["xl/worksheets/sheet1.xml"] { try archive.remove(entry) }
        try archive.addEntry(with: "xl/worksheets/sheet1.xml", type: .file, uncompressedSize: Int64(bad.count)) { position, size in
            bad.subdata(in: Int(position)..<Int(position) + size)
        }
        #expect(throws: XLSXReader.Failure.self) { try XLSXReader.firstSheet(try #require(archive.data)) }
    }

    @Test("cell references give zero-based columns; big integers written with an exponent come back as digits")
    func referencesAndNumbers() {
        #expect(XLSXReader.column(ofReference: "A1") == 0 && XLSXReader.column(ofReference: "Z9") == 25)
        #expect(XLSXReader.column(ofReference: "AA10") == 26 && XLSXReader.column(ofReference: "12") == nil)
        #expect(XLSXReader.numberText("1.38E10") == "13800000000" && XLSXReader.numberText("42") == "42")
        #expect(XLSXReader.numberText("3.5") == "3.5" && XLSXReader.numberText("7.0") == "7")
    }
}
