import Contracts
import Foundation

/// RFC 4180 CSV: quoted fields with `""` for a quote, commas and line breaks inside quotes,
/// CRLF or LF line ends, a UTF-8 byte-order mark ignored.
enum CSV {
    static func parse(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var chars = Array(text)
        if chars.first == "\u{FEFF}" { chars.removeFirst() }
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if quoted {
                if c == "\"" {
                    if i + 1 < chars.count, chars[i + 1] == "\"" { field.append("\""); i += 1 } else { quoted = false }
                } else {
                    field.append(c)
                }
            } else {
                switch c {
                case "\"" where field.isEmpty: quoted = true
                case ",": row.append(field); field = ""
                case "\r\n", "\n", "\r":
                    row.append(field); field = ""
                    rows.append(row); row = []
                default: field.append(c)
                }
            }
            i += 1
        }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }

    static func field(_ text: String) -> String {
        // A leading = + - @ would be a formula in a spreadsheet: prefix a quote (OWASP CSV injection).
        var value = text
        if let first = value.first, "=+-@\t\r".contains(first) { value = "'" + value }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func line(_ fields: [String]) -> String { fields.map(field).joined(separator: ",") + "\r\n" }
}

/// One row of a bank statement, read from a CSV export with a header row naming at least the
/// date, amount and remark columns (English or Chinese headers; currency optional, default CNY).
struct StatementLine: Sendable, Equatable {
    var line: Int
    var date: String
    var amountMinor: Int64
    var currency: String
    var remark: String
    /// The references found in the remark (the first completes an order).
    var references: [String]
}

enum BankStatement {
    enum Row: Sendable, Equatable {
        case line(StatementLine)
        /// The row cannot be read: its line number and why.
        case invalid(line: Int, reason: String)
    }

    static let dateNames = ["date", "transaction date", "value date", "日期", "交易日期", "记账日期"]
    static let amountNames = ["amount", "credit", "credit amount", "金额", "收入金额", "贷方金额", "收入"]
    static let currencyNames = ["currency", "币种", "货币"]
    static let remarkNames = ["remark", "reference", "memo", "description", "附言", "摘要", "备注", "用途"]

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The rows after the header; line numbers count the header as line 1.
    static func parse(_ text: String, defaultCurrency: String = "CNY") throws -> [Row] {
        let rows = CSV.parse(text)
        guard let header = rows.first else { throw Failure(description: "the statement is empty") }
        let names = header.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        func column(_ candidates: [String]) -> Int? { names.firstIndex(where: candidates.contains) }
        guard let date = column(dateNames), let amount = column(amountNames), let remark = column(remarkNames) else {
            throw Failure(description: "the header row must name the date, amount and remark columns")
        }
        let currencyColumn = column(currencyNames)
        var result: [Row] = []
        for (offset, fields) in rows.dropFirst().enumerated() {
            let line = offset + 2
            if fields.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) { continue }
            func value(_ index: Int) -> String {
                index < fields.count ? fields[index].trimmingCharacters(in: .whitespaces) : ""
            }
            var currency = currencyColumn.map(value) ?? ""
            if currency.isEmpty { currency = defaultCurrency }
            currency = currency.uppercased()
            guard Currency.exponent(currency) != nil else {
                result.append(.invalid(line: line, reason: "unknown currency \(currency)"))
                continue
            }
            guard let minor = AmountRules.parseMajor(value(amount), currency: currency), minor > 0 else {
                result.append(.invalid(line: line, reason: "the amount is not a positive amount"))
                continue
            }
            let text = value(remark)
            result.append(.line(StatementLine(line: line, date: value(date), amountMinor: minor, currency: currency,
                                              remark: text, references: BankReference.references(in: text))))
        }
        return result
    }
}
