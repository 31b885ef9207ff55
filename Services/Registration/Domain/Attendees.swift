import Contracts
import Foundation

/// The rules of a meeting's attendees: their roles (with the Chinese labels organizers use in
/// their spreadsheets), addresses and field lengths.
enum AttendeeRules {
    static let maximumNameLength = 100
    static let maximumFieldLength = 200

    /// Labels of each role, compared after trimming, case-insensitively and without spaces.
    static let roleLabels: [String: String] = [
        "required": AttendeeRole.required, "req": AttendeeRole.required, "req-participant": AttendeeRole.required,
        "必选": AttendeeRole.required, "必须参加": AttendeeRole.required, "必参加": AttendeeRole.required,
        "必参会": AttendeeRole.required, "必参会人员": AttendeeRole.required, "必须": AttendeeRole.required,
        "必选参会人员": AttendeeRole.required,
        "optional": AttendeeRole.optional, "opt": AttendeeRole.optional, "opt-participant": AttendeeRole.optional,
        "可选": AttendeeRole.optional, "可选参会": AttendeeRole.optional, "可选参会人员": AttendeeRole.optional,
        "observer": AttendeeRole.observer, "non-participant": AttendeeRole.observer,
        "列席": AttendeeRole.observer, "列席人员": AttendeeRole.observer, "旁听": AttendeeRole.observer,
    ]

    /// The role a label names; an empty label is `required` (an invitation expects an answer);
    /// nil for a label that names none.
    static func role(_ label: String?) -> String? {
        let key = (label ?? "").trimmingCharacters(in: .whitespacesAndNewlines).lowercased().filter { !$0.isWhitespace }
        if key.isEmpty { return AttendeeRole.required }
        return roleLabels[key]
    }

    /// The address as the attendee's key: normalized and lower-cased; nil when it is none.
    static func email(_ text: String) -> String? {
        FormField.normalizedEmail(text.trimmingCharacters(in: .whitespacesAndNewlines)).map { $0.lowercased() }
    }

    static func answer(_ text: String) -> String? {
        let value = text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        return AttendeeResponse.answers.contains(value) ? value : nil
    }

    /// Trimmed, nil when empty.
    static func optional(_ text: String?) -> String? {
        guard let text = text?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else { return nil }
        return text
    }

    /// One attendee checked and cleaned; the problem names a reason code of the import report.
    static func clean(_ input: AttendeeInput) -> Result<AttendeeInput, RowProblem> {
        let name = input.name.trimmingCharacters(in: .whitespacesAndNewlines)
        let rawEmail = input.email.trimmingCharacters(in: .whitespacesAndNewlines)
        if name.isEmpty { return .failure(.init(reason: "missing_name", message: "the name is empty")) }
        if rawEmail.isEmpty { return .failure(.init(reason: "missing_email", message: "the email address is empty")) }
        guard let email = email(rawEmail) else {
            return .failure(.init(reason: "invalid_email", message: "not an email address"))
        }
        guard let role = role(input.role) else {
            return .failure(.init(reason: "unknown_role",
                                  message: "the role is required (必选), optional (可选) or observer (列席)"))
        }
        let phone = optional(input.phone), department = optional(input.department)
        let dingtalk = optional(input.dingtalkUserId), locale = optional(input.locale)
        if name.count > maximumNameLength {
            return .failure(.init(reason: "too_long", message: "the name is longer than \(maximumNameLength) characters"))
        }
        for value in [phone, department, dingtalk, locale] where (value?.count ?? 0) > maximumFieldLength {
            return .failure(.init(reason: "too_long", message: "a field is longer than \(maximumFieldLength) characters"))
        }
        return .success(AttendeeInput(name: name, email: email, phone: phone, department: department, role: role,
                                      dingtalkUserId: dingtalk, locale: locale))
    }

    struct RowProblem: Error, Equatable {
        var reason: String
        var message: String
    }
}

/// The import of an attendee list (CSV or XLSX): the columns it understands, in English or
/// Chinese, and the checks of every row. Pure: the handler gives it the file and the addresses
/// already invited, and applies what it returns only when nothing was rejected.
enum AttendeeImport {
    /// The template's columns, in order.
    static let columns = ["name", "email", "phone", "department", "role", "dingtalk_user_id"]
    /// The headers accepted for each column on import (lower-cased, spaces as `_`): English and Chinese.
    static let headerLabels: [String: String] = [
        "name": "name", "姓名": "name", "名字": "name", "参会人": "name", "参会人员": "name",
        "email": "email", "e-mail": "email", "mail": "email", "邮箱": "email", "电子邮件": "email", "电子邮箱": "email", "邮件": "email",
        "phone": "phone", "mobile": "phone", "电话": "phone", "手机": "phone", "手机号": "phone", "手机号码": "phone", "联系电话": "phone",
        "department": "department", "dept": "department", "部门": "department", "所属部门": "department",
        "role": "role", "角色": "role", "参会角色": "role", "权限": "role", "参会类型": "role",
        "dingtalk_user_id": "dingtalk_user_id", "dingtalkuserid": "dingtalk_user_id", "dingtalk_userid": "dingtalk_user_id",
        "userid": "dingtalk_user_id", "钉钉用户id": "dingtalk_user_id", "钉钉id": "dingtalk_user_id", "钉钉userid": "dingtalk_user_id",
        "platform_user_id": "dingtalk_user_id",
        "locale": "locale", "语言": "locale",
    ]
    static let maximumRows = 5000

    struct Problem: Error, Equatable {
        var code: String
        var message: String
    }

    /// A parsed row: its number in the file (header = 1) and the attendee it names.
    struct Row: Equatable {
        var number: Int
        var input: AttendeeInput
    }

    /// The rows of a file, by the columns its header names. Empty rows are skipped.
    static func rows(_ table: [[String]]) throws -> [Row] {
        guard let headerIndex = table.firstIndex(where: { row in row.contains { !$0.trimmingCharacters(in: .whitespaces).isEmpty } })
        else { throw Problem(code: "registration.invalid_file", message: "the file has no header row") }
        var positions: [String: Int] = [:]
        for (index, label) in table[headerIndex].enumerated() {
            let key = label.trimmingCharacters(in: .whitespacesAndNewlines).lowercased().replacingOccurrences(of: " ", with: "_")
            guard !key.isEmpty else { continue }
            // A note in brackets after the name, e.g. `role (必选/可选/列席)`, `姓名（必填）`.
            let bare = String(key.prefix { $0 != "(" && $0 != "（" }).trimmingCharacters(in: CharacterSet(charactersIn: "_*"))
            if let column = headerLabels[key] ?? headerLabels[bare], positions[column] == nil { positions[column] = index }
        }
        guard positions["name"] != nil, positions["email"] != nil else {
            throw Problem(code: "registration.invalid_file",
                          message: "the header row needs the columns name and email (姓名, 邮箱); see the template")
        }
        var rows: [Row] = []
        for (offset, cells) in table[(headerIndex + 1)...].enumerated() {
            guard cells.contains(where: { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }) else { continue }
            func cell(_ column: String) -> String? {
                guard let index = positions[column], index < cells.count else { return nil }
                return unguarded(cells[index])
            }
            rows.append(Row(number: headerIndex + offset + 2,
                            input: AttendeeInput(name: cell("name") ?? "", email: cell("email") ?? "", phone: cell("phone"),
                                                 department: cell("department"), role: cell("role"),
                                                 dingtalkUserId: cell("dingtalk_user_id"), locale: cell("locale"))))
            if rows.count > maximumRows {
                throw Problem(code: "registration.too_many", message: "at most \(maximumRows) attendees per file")
            }
        }
        return rows
    }

    /// A cell without the `'` a spreadsheet export (or `CSVWriter`) put before a formula-like value.
    static func unguarded(_ cell: String) -> String {
        guard cell.hasPrefix("'"), let second = cell.dropFirst().first, "=+-@".contains(second) else { return cell }
        return String(cell.dropFirst())
    }

    /// The file's table: CSV (UTF-8, with or without a byte-order mark) or XLSX (its first sheet).
    static func table(format: String, bytes: [UInt8]) throws -> [[String]] {
        switch format {
        case "csv":
            guard let rows = CSVReader.parse(bytes) else {
                throw Problem(code: "registration.invalid_file", message: "the CSV file is neither UTF-8 nor GB 18030 (GBK) text")
            }
            return rows
        case "xlsx":
            do { return try XLSXReader.firstSheet(Data(bytes)) } catch {
                throw Problem(code: "registration.invalid_file", message: "not a readable XLSX workbook: \(error)")
            }
        default:
            throw Problem(code: "registration.unknown_format", message: "format is csv or xlsx")
        }
    }

    /// What each row does, given the addresses already among the meeting's attendees: the report
    /// (not yet `applied`), and the cleaned attendees to apply when nothing was rejected.
    static func plan(_ rows: [Row], existing: Set<String>, dryRun: Bool) -> (report: AttendeeImportReport, apply: [AttendeeInput]) {
        var seen: [String: Int] = [:]
        var reported: [AttendeeImportReport.Row] = []
        var apply: [AttendeeInput] = []
        for row in rows {
            let shownEmail = AttendeeRules.optional(row.input.email)
            let shownName = AttendeeRules.optional(row.input.name)
            switch AttendeeRules.clean(row.input) {
            case .failure(let problem):
                reported.append(.init(row: row.number, email: shownEmail, name: shownName, outcome: "rejected", reason: problem.reason,
                                      message: problem.message))
            case .success(let input):
                if let first = seen[input.email] {
                    reported.append(.init(row: row.number, email: input.email, name: input.name, outcome: "rejected",
                                          reason: "duplicate_row", message: "the same address as row \(first)"))
                    continue
                }
                seen[input.email] = row.number
                apply.append(input)
                reported.append(.init(row: row.number, email: input.email, name: input.name,
                                      outcome: existing.contains(input.email) ? "updated" : "added"))
            }
        }
        let rejected = reported.count { $0.outcome == "rejected" }
        let report = AttendeeImportReport(applied: false, dryRun: dryRun, added: reported.count { $0.outcome == "added" },
                                          updated: reported.count { $0.outcome == "updated" }, rejected: rejected, rows: reported)
        return (report, rejected == 0 ? apply : [])
    }

    // MARK: The template

    static let exampleRows = [
        ["张三", "zhangsan@example.com", "13800000000", "产品部", "必选", "manager1234"],
        ["Jane Doe", "jane.doe@example.com", "+86 139 0000 0000", "Sales", "optional", ""],
    ]

    static func template(format: String) throws -> ExportedFile {
        let rows = [columns] + exampleRows
        switch format {
        case "xlsx":
            let workbook = try XLSXWriter.workbook(sheetName: "Attendees", rows: rows)
            return ExportedFile(fileName: "attendees-template.xlsx",
                                contentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                                body: workbook.base64EncodedString())
        case "csv":
            var csv = CSVWriter()
            rows.forEach { csv.row($0) }
            return ExportedFile(fileName: "attendees-template.csv", contentType: "text/csv; charset=utf-8",
                                body: Data(csv.text.utf8).base64EncodedString())
        default:
            throw ConveneError(code: "registration.unknown_format", message: "format is csv or xlsx")
        }
    }
}

/// RFC 4180 CSV: quoted fields with doubled quotes, commas and line breaks inside quotes, CRLF or
/// LF line ends, UTF-8 with or without a byte-order mark — or, when the bytes are not UTF-8,
/// GB 18030 (which includes GBK: what Excel on a Chinese Windows saves as "CSV (逗号分隔)").
enum CSVReader {
    /// GB 18030-2000 (`kCFStringEncodingGB_18030_2000` as an NSStringEncoding).
    static let gb18030 = String.Encoding(rawValue: 0x8000_0632)

    static func parse(_ bytes: [UInt8]) -> [[String]]? {
        var body = bytes[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        guard let text = String(validating: body, as: UTF8.self) ?? String(data: Data(body), encoding: gb18030) else { return nil }
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var fieldStarted = false
        var iterator = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        func next() -> Unicode.Scalar? {
            if let scalar = pending { pending = nil; return scalar }
            return iterator.next()
        }
        while let scalar = next() {
            if quoted {
                if scalar == "\"" {
                    if let following = next() {
                        if following == "\"" { field.unicodeScalars.append("\"") } else { quoted = false; pending = following }
                    } else {
                        quoted = false
                    }
                } else {
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"" where !fieldStarted:
                quoted = true
                fieldStarted = true
            case ",":
                row.append(field)
                field = ""
                fieldStarted = false
            case "\r", "\n":
                if scalar == "\r", let following = next(), following != "\n" { pending = following }
                row.append(field)
                rows.append(row)
                row = []
                field = ""
                fieldStarted = false
            default:
                field.unicodeScalars.append(scalar)
                fieldStarted = true
            }
        }
        if fieldStarted || !row.isEmpty || !field.isEmpty {
            row.append(field)
            rows.append(row)
        }
        return rows
    }
}
